//! Assembling the trained parts into one diffusers-layout `LTX2Pipeline`
//! folder (`model_index.json`, `scheduler/`, `tokenizer/`, `text_encoder/`,
//! `connectors/`, `transformer/`, `vae/`, `audio_vae/`, `vocoder/`) plus the
//! request defaults it was trained for (`sora_defaults.json`,
//! [`crate::pipeline::folder_defaults`]): the folder the normal
//! `Pipeline::builder().model(...)` loads, and the embedded default model's
//! layout.

use std::path::Path;

use serde_json::{json, Value};

use super::data::DataConfig;
use super::run::write_json;
use crate::pipeline::folder_defaults;
use crate::{Error, Result};

/// Where the parts come from.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// A folder holding `vae/`, `audio_vae/`, `tokenizer/`, `text_encoder/`
    /// and `connectors/` (a transformer run's `inputs/`).
    pub inputs: &'a Path,
    /// The transformer component folder.
    pub transformer: &'a Path,
    /// The vocoder component folder.
    pub vocoder: &'a Path,
}

/// The scheduler the pipeline walks with (LTX-2's `FlowMatchEulerDiscreteScheduler`
/// settings: dynamic exponential shift from the token count, terminal 0.1).
pub fn scheduler_config() -> Value {
    json!({
        "_class_name": "FlowMatchEulerDiscreteScheduler",
        "_diffusers_version": "0.42.1",
        "num_train_timesteps": 1000,
        "shift": 1.0,
        "use_dynamic_shifting": true,
        "base_shift": 0.95,
        "max_shift": 2.05,
        "base_image_seq_len": 1024,
        "max_image_seq_len": 4096,
        "shift_terminal": 0.1,
        "time_shift_type": "exponential",
    })
}

/// The classifier-free guidance scale a trained folder asks for, video and
/// audio alike.
pub const GUIDANCE: f64 = 8.0;

/// The request defaults of a model trained on clips `d` with prompts of up
/// to `max_sequence_length` tokens: its clips' size, length and rate,
/// classifier-free guidance only (the tiny model is not trained for
/// spatio-temporal or modality guidance) at scale 8 for both streams (the
/// best of the sweep in docs/training.md: the model barely uses its prompt,
/// and a strong guidance is what makes the prompt count), and long-form
/// windows as long as its clips.
pub fn request_defaults(d: &DataConfig, max_sequence_length: usize, steps: u32) -> Value {
    json!({
        "width": d.width,
        "height": d.height,
        "frames": d.frames,
        "fps": d.fps.round() as u32,
        "steps": steps,
        "guidance": GUIDANCE,
        "params": {
            "max_sequence_length": max_sequence_length,
            "window_frames": d.frames,
            // A quarter of the window (latent frames: the trained video VAE
            // keeps every frame) held from the previous window's tail.
            "window_overlap": (d.frames / 4).max(1),
            "stg_scale": 0.0,
            "modality_scale": 1.0,
            "guidance_rescale": 0.0,
            "audio_guidance_scale": GUIDANCE,
            "audio_modality_scale": 1.0,
        }
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        return Err(Error::invalid(format!(
            "{} is not a component folder",
            from.display()
        )));
    }
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let path = entry.path();
        if path.is_file() {
            let dest = to.join(entry.file_name());
            std::fs::copy(&path, &dest).map_err(|e| Error::io(&dest, e))?;
        }
    }
    Ok(())
}

/// Writes the pipeline folder `dest` (replaced if it exists) from `parts`,
/// with `defaults` as its `sora_defaults.json`.
pub fn assemble(dest: &Path, parts: Parts<'_>, defaults: &Value) -> Result<()> {
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    }
    for name in [
        "vae",
        "audio_vae",
        "tokenizer",
        "text_encoder",
        "connectors",
    ] {
        copy_dir(&parts.inputs.join(name), &dest.join(name))?;
    }
    copy_dir(parts.transformer, &dest.join("transformer"))?;
    copy_dir(parts.vocoder, &dest.join("vocoder"))?;
    let sched = dest.join("scheduler");
    std::fs::create_dir_all(&sched).map_err(|e| Error::io(&sched, e))?;
    write_json(&sched.join("scheduler_config.json"), &scheduler_config())?;
    let index = json!({
        "_class_name": "LTX2Pipeline",
        "_diffusers_version": "0.42.1",
        "audio_vae": ["diffusers", "AutoencoderKLLTX2Audio"],
        "connectors": ["ltx2", "LTX2TextConnectors"],
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "Gemma3TextModel"],
        "tokenizer": ["transformers", "PreTrainedTokenizerFast"],
        "transformer": ["diffusers", "LTX2VideoTransformer3DModel"],
        "vae": ["diffusers", "AutoencoderKLLTX2Video"],
        "vocoder": ["ltx2", "LTX2Vocoder"],
    });
    write_json(&dest.join("model_index.json"), &index)?;
    write_json(&dest.join(folder_defaults::FILE), defaults)?;
    Ok(())
}
