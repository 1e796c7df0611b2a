//! The seam between the denoising loop (written once, in `pipeline/`) and a
//! model family: what a family supplies, and detection from `model_index.json`.

use std::any::Any;

use tch::Tensor;

use crate::estimate::{EstimateOptions, MemoryEstimate};
use crate::nn::step_cache::StepCacheStats;
use crate::pipeline::{Defaults, Latents, Noise, Request, Resolved};
use crate::sampler::guidance::Prediction;
use crate::sampler::Scheduler;
use crate::weights::ModelFolder;
use crate::{Device, Dtype, Error, Result};

/// A family's encoded conditioning (text embeddings, image latents, …), opaque to the loop.
pub struct Conditioning(pub Box<dyn Any + Send>);

impl Conditioning {
    /// Wraps a family's own conditioning value.
    pub fn new<T: Any + Send>(v: T) -> Self {
        Self(Box::new(v))
    }
    /// The family's value, if it is a `T`.
    pub fn get<T: Any>(&self) -> Result<&T> {
        self.0
            .downcast_ref::<T>()
            .ok_or_else(|| Error::Unsupported("conditioning of another family".into()))
    }
}

/// Where the loop starts: the initial latents and the timesteps to walk.
pub struct Plan {
    /// Initial (noisy) latents.
    pub latents: Latents,
    /// Timesteps to walk, each a scalar f32 tensor, in order.
    pub timesteps: Vec<Tensor>,
}

/// One step of the loop as the family sees it.
pub struct StepCtx<'a> {
    /// Index into the walked timesteps.
    pub index: usize,
    /// Number of walked timesteps.
    pub total: usize,
    /// The timestep (scalar f32 tensor).
    pub t: &'a Tensor,
}

/// Receives decoded output, possibly window by window. A family should hand
/// over each chunk as soon as it is decoded: the pipeline's sinks write it
/// straight into the output file (or the in-memory clip) and report a
/// `Phase::Decode` progress event after each `frames` call, where the run can
/// be cancelled.
pub trait FrameSink {
    /// Appends RGB frames `[t, H, W, 3]` (u8).
    fn frames(&mut self, frames: Tensor) -> Result<()>;
    /// Appends audio `[channels, samples]` (f32) at `sample_rate`.
    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()>;
}

/// Size rules of a family for a request: valid sizes and frame counts.
pub trait SizeRules {
    /// The nearest frame count the family takes for `frames`.
    fn nearest_frames(&self, frames: u32) -> u32;
}

/// Speed options the loop hosts for every family (set by the pipeline builder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedOptions {
    /// Run the guidance branches (conditional, unconditional) as one batched
    /// forward instead of one forward each.
    pub batch_guidance: bool,
    /// Step caching (first-block cache, [`crate::nn::step_cache`]): reuse the
    /// later blocks' residual while the first block's residual changes
    /// relatively less than this threshold. `None` (the default) is off.
    pub step_cache: Option<f32>,
}

impl Default for SpeedOptions {
    fn default() -> Self {
        Self {
            batch_guidance: true,
            step_cache: None,
        }
    }
}

/// Memory options the pipeline builder sets for every family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryOptions {
    /// Release the text encoder's weights after encoding (dropped on the CPU,
    /// parked in host memory on a GPU) and bring them back when a prompt that
    /// is not in the embedding cache needs encoding.
    pub offload_text_encoder: bool,
    /// Decode the video in overlapping spatial tiles (diffusers' VAE tiling);
    /// `None` (the default) decodes whole frames.
    pub vae_tiling: Option<crate::models::wan::vae::VaeTiling>,
    /// Where the weights wait between uses: on the run device (the default)
    /// or in host memory, copied to the GPU per component or per block.
    /// Read when the model loads (the weights are loaded where they wait).
    pub offload: crate::nn::Offload,
}

/// What one model family plugs into the loop.
pub trait ModelFamily: Send {
    /// Applies speed options (a family ignores those it has no use for).
    fn configure(&mut self, _options: &SpeedOptions) {}
    /// The family's short name (`wan`).
    fn name(&self) -> &'static str;
    /// Defaults equal to the diffusers pipeline's.
    fn defaults(&self) -> Defaults;
    /// The nearest frame count the family takes (used to turn seconds into frames).
    fn nearest_frames(&self, frames: u32) -> u32;
    /// Checks sizes and mode against the model; errors name the nearest valid values.
    fn check(&self, req: &Resolved) -> Result<()>;
    /// Encodes the prompt (and image/video conditioning).
    fn encode(&mut self, req: &Resolved) -> Result<Conditioning>;
    /// A fresh scheduler from the folder's scheduler config.
    fn scheduler(&self) -> Result<Box<dyn Scheduler>>;
    /// Draws the initial noise, prepares latents and picks the timesteps.
    fn prepare(
        &mut self,
        req: &Resolved,
        cond: &mut Conditioning,
        scheduler: &mut dyn Scheduler,
        noise: &mut Noise,
    ) -> Result<Plan>;
    /// One model evaluation (all guidance branches) at a step.
    fn predict(&mut self, x: &Latents, step: &StepCtx, cond: &Conditioning) -> Result<Prediction>;
    /// Decodes the final latents into the sink.
    fn decode(&mut self, x: Latents, cond: &Conditioning, sink: &mut dyn FrameSink) -> Result<()>;
    /// Applies memory options (a family ignores those it has no use for); an
    /// option the model cannot take is [`Error::InvalidRequest`].
    fn configure_memory(&mut self, _options: &MemoryOptions) -> Result<()> {
        Ok(())
    }
    /// Gives back the GPU copies of offloaded weights still held (called by
    /// the pipeline after every run, finished or not).
    fn release_offloaded(&mut self) -> Result<()> {
        Ok(())
    }
    /// The memory `req` needs from here on (generation phases; the weights
    /// already loaded count as resident), computed without allocating.
    fn estimate(&self, _req: &Resolved) -> Result<MemoryEstimate> {
        Err(Error::Unsupported(format!(
            "no memory estimate for the `{}` family",
            self.name()
        )))
    }
    /// Whether every text embedding of the last `encode` came from the
    /// family's cache (the text encoder did not run).
    fn text_from_cache(&self) -> bool {
        false
    }
    /// Components and parameter counts (for `inspect`).
    fn describe(&self) -> Vec<(String, String, u64)> {
        Vec::new()
    }
    /// What step caching did in the last generation (`None` when it is off
    /// or the family has none).
    fn step_cache_stats(&self) -> Option<StepCacheStats> {
        None
    }
}

/// Pipeline classes this build knows, and the family each belongs to.
pub const KNOWN_CLASSES: &[(&str, &str)] = &[
    ("WanPipeline", "wan"),
    ("WanImageToVideoPipeline", "wan"),
    ("WanVideoToVideoPipeline", "wan"),
];

/// The family name for a pipeline class, or a typed error naming the class found.
pub fn family_of(folder: &ModelFolder) -> Result<&'static str> {
    let class = folder.class_name();
    KNOWN_CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, f)| *f)
        .ok_or_else(|| Error::UnknownFamily {
            class: class.to_string(),
            supported: KNOWN_CLASSES
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Per component, what the family would find wrong when loading it (a dry
/// load: names and shapes only, no tensor data read). `Err` holds a message
/// for a component that cannot be read at all.
pub fn audit(
    folder: &ModelFolder,
) -> Result<
    std::collections::BTreeMap<String, std::result::Result<crate::weights::WeightReport, String>>,
> {
    match family_of(folder)? {
        "wan" => crate::models::wan::WanFamily::audit(folder),
        other => Err(Error::Unsupported(format!(
            "family `{other}` is not built in"
        ))),
    }
}

/// The memory `req` needs with the model of `folder`, from its configs and
/// safetensors headers only (nothing loaded): loading, then every phase of
/// the generation.
pub fn estimate_folder(
    folder: &ModelFolder,
    req: &Request,
    opts: &EstimateOptions,
) -> Result<MemoryEstimate> {
    match family_of(folder)? {
        "wan" => crate::models::wan::estimate_folder(folder, req, opts),
        other => Err(Error::Unsupported(format!(
            "family `{other}` is not built in"
        ))),
    }
}

/// Loads the family of `folder` to run on `device` in `dtype`, its weights in
/// host memory when `memory` offloads them, and applies `memory`.
pub fn load(
    folder: &ModelFolder,
    device: Device,
    dtype: Dtype,
    memory: &MemoryOptions,
) -> Result<Box<dyn ModelFamily>> {
    match family_of(folder)? {
        "wan" => {
            let mut fam = crate::models::wan::WanFamily::load_offloaded(
                folder,
                device,
                dtype,
                memory.offload,
            )?;
            fam.configure_memory(memory)?;
            Ok(Box::new(fam))
        }
        other => Err(Error::Unsupported(format!(
            "family `{other}` is not built in"
        ))),
    }
}
