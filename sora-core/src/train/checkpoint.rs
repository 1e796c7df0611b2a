//! Checkpoints: everything a run needs to continue bit-identically.
//!
//! A checkpoint is one folder:
//! - `<component>/config.json` + `<component>/diffusion_pytorch_model.safetensors`:
//!   the weights as a normal diffusers component folder (the normal loader
//!   reads it);
//! - `optimizer.safetensors`: AdamW's moments (`exp_avg.<name>`, `exp_avg_sq.<name>`);
//! - `state.json`: [`TrainState`] (step, loss history, random state, seed and
//!   the training config).
//!
//! It is written next to its place and renamed over it, so an interrupted
//! save leaves the previous checkpoint whole. Weights and moments are stored
//! as f32 exactly as held, losses as JSON numbers (which round-trip f64
//! exactly), so a resumed run repeats an uninterrupted one bit for bit.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::weights::TensorStore;
use crate::{Error, Result};

/// The optimizer's file in a checkpoint.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// The state's file in a checkpoint.
pub const STATE_FILE: &str = "state.json";

/// The scalar state of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimizer steps taken.
    pub step: u64,
    /// The training loss of every step taken, in order.
    pub losses: Vec<f64>,
    /// The training random generator's state.
    pub rng_state: u64,
    /// The seed the run started from.
    pub seed: u64,
    /// The run's training config (stage-specific JSON).
    pub config: serde_json::Value,
}

/// Writes `tensors` as f32 into one safetensors file at `path`.
pub fn write_safetensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = t
            .f_detach()?
            .f_to_device(Device::Cpu)?
            .f_to_kind(Kind::Float)?
            .f_contiguous()?;
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let values: Vec<f32> = Vec::<f32>::try_from(t.f_reshape([-1])?)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name.clone(), shape, bytes));
    }
    let views = data
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    safetensors::tensor::serialize_to_file(views, None, path).map_err(|e| {
        Error::io(
            path,
            std::io::Error::other(format!("writing safetensors: {e}")),
        )
    })
}

/// Every tensor of one safetensors file, f32 on the CPU, sorted by name.
pub fn read_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let store = TensorStore::open_file(path, "checkpoint", Device::Cpu, Kind::Float)?;
    store
        .tensor_infos()
        .into_iter()
        .map(|(name, _, _)| {
            let t = store.read_raw(&name)?.f_to_kind(Kind::Float)?;
            Ok((name, t))
        })
        .collect()
}

/// Writes `state` as `dir/state.json`.
pub fn write_state(dir: &Path, state: &TrainState) -> Result<()> {
    let path = dir.join(STATE_FILE);
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| Error::invalid(format!("training state does not serialise: {e}")))?;
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// Reads `dir/state.json`.
pub fn read_state(dir: &Path) -> Result<TrainState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        reason: e.to_string(),
    })
}

/// Writes a checkpoint at `dir` through `write` (which fills the folder it
/// is given), atomically: into `dir` + `.tmp`, then renamed over `dir`.
pub fn save_atomically(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::invalid(format!("checkpoint path {} has no name", dir.display())))?;
    let tmp = dir.with_file_name(format!("{}.tmp", name.to_string_lossy()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    write(&tmp)?;
    let old = dir.with_file_name(format!("{}.old", name.to_string_lossy()));
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| Error::io(&tmp, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_and_state_round_trip() {
        let dir = std::env::temp_dir().join(format!("sora-ckpt-rt-{}", std::process::id()));
        let t = Tensor::from_slice(&[1.5f32, -0.25, 3.0e-7, 7.0])
            .f_reshape([2, 2])
            .unwrap();
        save_atomically(&dir, |d| {
            write_safetensors(
                &d.join("w.safetensors"),
                &[("a.b".into(), t.shallow_clone())],
            )?;
            write_state(
                d,
                &TrainState {
                    step: 3,
                    losses: vec![0.1, 1.0 / 3.0, 2.5e-9],
                    rng_state: u64::MAX - 5,
                    seed: 9,
                    config: serde_json::json!({"x": 1}),
                },
            )
        })
        .unwrap();
        let back = read_safetensors(&dir.join("w.safetensors")).unwrap();
        assert_eq!(back[0].0, "a.b");
        assert!(back[0].1.equal(&t));
        let s = read_state(&dir).unwrap();
        assert_eq!(s.losses, vec![0.1, 1.0 / 3.0, 2.5e-9]);
        assert_eq!(s.rng_state, u64::MAX - 5);
        // A second save replaces the first.
        save_atomically(&dir, |d| write_safetensors(&d.join("x.safetensors"), &[])).unwrap();
        assert!(!dir.join(STATE_FILE).exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
