//! A component's weights from its `config.json` alone, without Python: the
//! component's own loader is run over a recording
//! [`TensorStore`](crate::weights::TensorStore::recording), which notes every
//! tensor it asks for (name and shape); each is then created with PyTorch's
//! default initialisation and the result written as a normal diffusers
//! component folder (`config.json` + `diffusion_pytorch_model.safetensors`),
//! which the normal loader reads.
//!
//! The rules ([`rule_for`]), by name and shape:
//! - `*weight` of rank ≥ 2 (`Linear`, `Conv*d`): kaiming-uniform with
//!   `a = √5`, i.e. `U(±1/√fan_in)`, `fan_in` = `shape[1] · Π shape[2..]`;
//! - `*bias` whose sibling `weight` has rank ≥ 2: `U(±1/√fan_in)` of that weight;
//! - `*weight` of rank 1 (norm scales): ones; other `*bias`: zeros;
//! - `latents_std` (and any `*_std`): ones; `latents_mean` (any `*_mean`): zeros;
//! - `*scale_shift_table` `[n, C]`: `N(0, 1)/√C` (diffusers' init of these tables);
//! - `timestep_scale_multiplier` (rank 0): 1000 (diffusers' value);
//! - anything else: rank ≥ 2 `N(0, 1)/√(last dim)`, rank ≤ 1 zeros.
//!
//! Every tensor is drawn from its own stream, seeded by the seed and its name
//! (FNV-1a), so the weights depend on the seed only, not on the order of
//! construction: the same seed gives bit-identical weights.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use tch::{Device, Kind, Tensor};

use super::checkpoint::write_safetensors;
use super::rng::TrainRng;
use crate::models::ltx2::audio_vae::{Ltx2AudioVae, Ltx2AudioVaeConfig};
use crate::models::ltx2::video_vae::{Ltx2VideoVae, Ltx2VideoVaeConfig};
use crate::models::ltx2::{Ltx2Vocoder, Ltx2VocoderConfig};
use crate::weights::TensorStore;
use crate::{Error, Result};

/// File name of a component's weights in a diffusers folder.
pub const WEIGHTS_FILE: &str = "diffusion_pytorch_model.safetensors";

/// How one tensor is initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitRule {
    /// Uniform in `[-bound, bound)`.
    Uniform {
        /// Half the width.
        bound: f64,
    },
    /// Normal with mean 0.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// Every element this value.
    Constant(f64),
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn fan_in(shape: &[i64]) -> i64 {
    shape.iter().skip(1).product::<i64>().max(1)
}

/// The rule for `name` of `shape`; `shapes` holds every requested tensor
/// (a bias looks at its sibling weight). See the module's doc.
pub fn rule_for(name: &str, shape: &[i64], shapes: &HashMap<String, Vec<i64>>) -> InitRule {
    let last = name.rsplit('.').next().unwrap_or(name);
    let rank = shape.len();
    if last == "weight" && rank >= 2 {
        return InitRule::Uniform {
            bound: 1.0 / (fan_in(shape) as f64).sqrt(),
        };
    }
    if last == "bias" {
        let sibling = match name.rfind('.') {
            Some(i) => format!("{}.weight", &name[..i]),
            None => "weight".to_string(),
        };
        return match shapes.get(&sibling) {
            Some(w) if w.len() >= 2 => InitRule::Uniform {
                bound: 1.0 / (fan_in(w) as f64).sqrt(),
            },
            _ => InitRule::Constant(0.0),
        };
    }
    if last == "weight" {
        return InitRule::Constant(1.0);
    }
    if last.ends_with("_std") || last == "std" {
        return InitRule::Constant(1.0);
    }
    if last.ends_with("_mean") || last == "mean" {
        return InitRule::Constant(0.0);
    }
    if last == "timestep_scale_multiplier" {
        return InitRule::Constant(1000.0);
    }
    if rank >= 2 {
        let c = shape.last().copied().unwrap_or(1).max(1);
        return InitRule::Normal {
            std: 1.0 / (c as f64).sqrt(),
        };
    }
    InitRule::Constant(0.0)
}

/// Creates every `(name, shape)` of `requested` by its [`rule_for`] as an f32
/// CPU tensor, seeded by `seed` and the name.
pub fn materialise(requested: &[(String, Vec<i64>)], seed: u64) -> Result<Vec<(String, Tensor)>> {
    let shapes: HashMap<String, Vec<i64>> = requested.iter().cloned().collect();
    requested
        .iter()
        .map(|(name, shape)| {
            let n = shape.iter().product::<i64>().max(0) as usize;
            let mut rng = TrainRng::new(seed ^ fnv1a(name));
            let v: Vec<f32> = match rule_for(name, shape, &shapes) {
                InitRule::Uniform { bound } => {
                    (0..n).map(|_| rng.uniform(-bound, bound) as f32).collect()
                }
                InitRule::Normal { std } => (0..n).map(|_| (rng.normal() * std) as f32).collect(),
                InitRule::Constant(c) => vec![c as f32; n],
            };
            let t = Tensor::f_from_slice(&v)?.f_reshape(shape.as_slice())?;
            Ok((name.clone(), t))
        })
        .collect()
}

/// Writes `config` (with diffusers' `_class_name`) as `dir/config.json`.
pub fn write_config(dir: &Path, class_name: &str, config: &impl Serialize) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut v = serde_json::to_value(config)
        .map_err(|e| Error::invalid(format!("config does not serialise: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("_class_name".into(), class_name.into());
        o.insert("_diffusers_version".into(), "0.42.1".into());
    }
    let text = serde_json::to_string_pretty(&v)
        .map_err(|e| Error::invalid(format!("config does not serialise: {e}")))?;
    let path = dir.join("config.json");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// Writes a randomly initialised component of `class_name` for `config`
/// into `dir` (created), seeded by `seed`: `load` runs the component's
/// loader over the recording store it is given. Returns the tensors' names
/// and shapes.
pub fn init_component(
    dir: &Path,
    class_name: &str,
    component: &str,
    config: &impl Serialize,
    seed: u64,
    load: impl FnOnce(&Path, &TensorStore) -> Result<()>,
) -> Result<Vec<(String, Vec<i64>)>> {
    write_config(dir, class_name, config)?;
    let store = TensorStore::recording(component, Device::Cpu, Kind::Float);
    load(dir, &store)?;
    let requested = store.requested();
    let tensors = materialise(&requested, seed)?;
    write_safetensors(&dir.join(WEIGHTS_FILE), &tensors)?;
    Ok(requested)
}

/// Writes a randomly initialised `AutoencoderKLLTX2Video` for `config` into
/// `dir` (created), seeded by `seed`. Returns the tensors' names and shapes.
pub fn init_video_vae(
    dir: &Path,
    config: &Ltx2VideoVaeConfig,
    seed: u64,
) -> Result<Vec<(String, Vec<i64>)>> {
    init_component(
        dir,
        "AutoencoderKLLTX2Video",
        "vae",
        config,
        seed,
        |d, s| Ltx2VideoVae::load_with_store(d, s).map(|_| ()),
    )
}

/// Writes a randomly initialised `AutoencoderKLLTX2Audio` (encoder and
/// decoder) for `config` into `dir` (created), seeded by `seed`. Returns the
/// tensors' names and shapes.
pub fn init_audio_vae(
    dir: &Path,
    config: &Ltx2AudioVaeConfig,
    seed: u64,
) -> Result<Vec<(String, Vec<i64>)>> {
    init_component(
        dir,
        "AutoencoderKLLTX2Audio",
        "audio_vae",
        config,
        seed,
        |d, s| Ltx2AudioVae::load_with_store(d, s).map(|_| ()),
    )
}

/// Writes a randomly initialised `LTX2Vocoder` for `config` into `dir`
/// (created), seeded by `seed`. Returns the tensors' names and shapes.
pub fn init_vocoder(
    dir: &Path,
    config: &Ltx2VocoderConfig,
    seed: u64,
) -> Result<Vec<(String, Vec<i64>)>> {
    init_component(dir, "LTX2Vocoder", "vocoder", config, seed, |d, s| {
        Ltx2Vocoder::load_with_store(d, s).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ltx2::video_vae::Flags;

    /// One spatial down- and up-sampler, patch 4 (the shape of `tiny64`).
    fn tiny_vae_config() -> Ltx2VideoVaeConfig {
        Ltx2VideoVaeConfig {
            latent_channels: 8,
            block_out_channels: vec![16],
            down_block_types: vec!["LTX2VideoDownBlock3D".into()],
            decoder_block_out_channels: vec![16],
            layers_per_block: vec![1, 1],
            decoder_layers_per_block: vec![1, 1],
            spatio_temporal_scaling: Flags::Each(vec![true]),
            decoder_spatio_temporal_scaling: Flags::Each(vec![true]),
            decoder_inject_noise: Flags::Each(vec![false, false]),
            downsample_type: vec!["spatial".into()],
            upsample_type: vec!["spatial".into()],
            upsample_residual: Flags::Each(vec![true]),
            upsample_factor: vec![2],
            decoder_causal: false,
            spatial_compression_ratio: Some(8),
            temporal_compression_ratio: Some(1),
            ..Ltx2VideoVaeConfig::default()
        }
    }

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("sora-init-{name}-{}", std::process::id()))
    }

    #[test]
    fn every_requested_tensor_exists_with_its_distribution() {
        let dir = tmp("dist");
        let cfg = tiny_vae_config();
        let req = init_video_vae(&dir, &cfg, 7).unwrap();
        assert!(req.len() > 20);
        let store = TensorStore::open(&dir, "vae", Device::Cpu, Kind::Float).unwrap();
        let shapes: HashMap<String, Vec<i64>> = req.iter().cloned().collect();
        let mut saw_uniform = 0;
        for (name, shape) in &req {
            let t = store.read_raw(name).unwrap();
            assert_eq!(&t.size(), shape, "{name}");
            match rule_for(name, shape, &shapes) {
                InitRule::Uniform { bound } => {
                    saw_uniform += 1;
                    let max = t.abs().max().double_value(&[]);
                    assert!(max <= bound, "{name}: {max} vs {bound}");
                    // 16 draws all within half the bound: chance 2⁻¹⁶.
                    if t.numel() >= 16 {
                        assert!(max > 0.5 * bound, "{name}: {max} vs {bound}");
                    }
                    if t.numel() >= 2000 {
                        // U(±b) has variance b²/3.
                        let var = t.var(true).double_value(&[]);
                        let want = bound * bound / 3.0;
                        assert!(
                            (var / want - 1.0).abs() < 0.1,
                            "{name}: var {var} vs {want}"
                        );
                    }
                }
                InitRule::Constant(c) => {
                    assert!(t.eq(c).all().int64_value(&[]) == 1, "{name}: not all {c}");
                }
                InitRule::Normal { .. } => {}
            }
        }
        assert!(saw_uniform > 10);
        let conv = "encoder.conv_in.conv.weight";
        let s = &shapes[conv];
        assert!(
            matches!(rule_for(conv, s, &shapes), InitRule::Uniform { bound } if (bound - 1.0 / ((s[1] * 27) as f64).sqrt()).abs() < 1e-12)
        );
        assert_eq!(
            rule_for("decoder.mid_block.resnets.0.norm3.bias", &[4], &shapes),
            InitRule::Constant(0.0)
        );
        assert_eq!(
            rule_for("latents_std", &[4], &shapes),
            InitRule::Constant(1.0)
        );
        // The folder loads through the normal loader.
        Ltx2VideoVae::load(&dir, Device::Cpu, Kind::Float).unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let cfg = tiny_vae_config();
        let (a, b, c) = (tmp("s1"), tmp("s2"), tmp("s3"));
        init_video_vae(&a, &cfg, 11).unwrap();
        init_video_vae(&b, &cfg, 11).unwrap();
        init_video_vae(&c, &cfg, 12).unwrap();
        let read = |d: &Path| std::fs::read(d.join(WEIGHTS_FILE)).unwrap();
        assert_eq!(read(&a), read(&b));
        assert_ne!(read(&a), read(&c));
        for d in [a, b, c] {
            std::fs::remove_dir_all(d).ok();
        }
    }
}
