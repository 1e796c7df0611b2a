//! One run of a family, as the denoising walk drives it: where the walk
//! starts, the guidance plan of each step, one model call per batch of
//! branches, and the decode into a [`FrameSink`]. The run's state (text
//! embeddings, image latents, cross-attention keys and values, …) lives in the
//! implementing type as typed fields.

use tch::Tensor;

use crate::denoise::held::HeldFrames;
use crate::denoise::latents::Latents;
use crate::denoise::plan::GuidancePlan;
use crate::denoise::walk::{Start, Step};
use crate::nn::step_cache::{BranchId, CachedStep};
use crate::pipeline::noise::Noise;
use crate::Result;

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

/// One generation of a family, from encoded conditioning to decoded output.
pub trait Generation {
    /// Draws the initial noise from `noise` (in diffusers' order), prepares
    /// the latents and the schedulers, and picks the timesteps to walk.
    fn start(&mut self, noise: &mut Noise) -> Result<Start>;
    /// The guidance plan of `step`: which model runs it, which branches, how
    /// they combine.
    fn plan(&mut self, step: &Step) -> Result<GuidancePlan>;
    /// One model call of `model` carrying `branches` (in batch order) on the
    /// latents `x`: one prediction per branch, in that order. With `cache`
    /// the forward goes through the step cache.
    fn forward(
        &mut self,
        x: &Latents,
        step: &Step,
        model: usize,
        branches: &[BranchId],
        cache: Option<CachedStep<'_>>,
    ) -> Result<Vec<Latents>>;
    /// Decodes the final latents into the sink (frames, and audio for joint
    /// families).
    fn decode(self: Box<Self>, x: Latents, sink: &mut dyn FrameSink) -> Result<()>;
    /// Whether the video latent is laid out `[batch, channels, frames,
    /// ...space]`, the layout the experimental motion guidance
    /// ([`crate::denoise::motion`]) works on. `false` (the default) makes a
    /// run that asks for it fail with `Error::Unsupported`.
    fn video_latent_is_frames_major(&self) -> bool {
        false
    }
    /// Video latent frames the walk holds fixed (set at the start and after
    /// every step; see [`crate::denoise::held`]), asked once after
    /// [`Generation::start`]. `None` (the default) holds none.
    fn held_frames(&self) -> Option<HeldFrames> {
        None
    }
    /// Long-form generation ([`crate::pipeline::longform`]): holds the first
    /// latent frames of this window to `tail`, in the window layout of
    /// [`Generation::window_latents`]: video `[B, C, m, ...]`, the previous
    /// window's last `m` latent frames as its walk left them, crossfaded over
    /// the `m` frames, and for a joint family audio `[B, n, D]`, the
    /// previous window's audio latents over the same stretch. Called before
    /// [`Generation::start`]. The default refuses with `Error::Unsupported`.
    fn hold_leading(&mut self, _tail: Latents) -> Result<()> {
        Err(crate::Error::Unsupported(
            "this family cannot hold a previous window's latents (long-form generation)".into(),
        ))
    }
    /// Long-form generation: the walk's final latents `x` in the window
    /// layout the pipeline cuts by latent frame: video `[B, C, F, ...]`
    /// (latent frames on dimension 2), audio `[B, L, D]` (audio latents on
    /// dimension 1). The default returns `x` as it is (a family whose walk
    /// already lays its latents out so).
    fn window_latents(&self, x: Latents) -> Result<Latents> {
        Ok(x)
    }
}
