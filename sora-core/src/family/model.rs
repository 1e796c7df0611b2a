//! What one model family is to the pipeline: its rules (defaults, valid
//! sizes and frame counts, nearest valid values), the start of a
//! [`Generation`], offload bookkeeping, a memory estimate and a description.

use crate::denoise::latents::Latents;
use crate::estimate::{EstimateOptions, MemoryEstimate};
use crate::family::generation::{FrameSink, Generation};
use crate::nn::offload::Offload;
use crate::nn::tiling::{FrameTiling, VaeTiling};
use crate::pipeline::longform::LongformPlan;
use crate::pipeline::request::{Defaults, Request, Resolved};
use crate::pipeline::shape::SizeGrid;
use crate::{Error, Result};

/// Memory options the pipeline builder sets for every family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryOptions {
    /// Release the text encoder's weights after encoding (dropped on the CPU,
    /// parked in host memory on a GPU) and bring them back when a prompt that
    /// is not in the embedding cache needs encoding.
    pub offload_text_encoder: bool,
    /// Decode the video in overlapping spatial tiles (diffusers' VAE tiling);
    /// `None` (the default) decodes whole frames.
    pub vae_tiling: Option<VaeTiling>,
    /// Decode the video in overlapping time windows handed out one by one
    /// (diffusers' `use_framewise_decoding`; LTX-2's VAE); `None` (the
    /// default) decodes the whole clip's time at once.
    pub vae_frame_tiling: Option<FrameTiling>,
    /// Where the weights wait between uses: on the run device (the default)
    /// or in host memory, copied to the GPU per component or per block.
    /// Read when the model loads (the weights are loaded where they wait).
    pub offload: Offload,
}

/// A family's request rules: its defaults, the frame counts and sizes it
/// takes, and the nearest valid values when a request asks for others.
pub trait Rules {
    /// Defaults equal to the diffusers pipeline's.
    fn defaults(&self) -> Defaults;
    /// The nearest frame count the family takes (used to turn seconds into frames).
    fn nearest_frames(&self, frames: u32) -> u32;
    /// The multiples widths and heights must be (an aspect preset or a
    /// resolution tier maps to the nearest size on this grid).
    fn size_grid(&self) -> SizeGrid;
    /// Checks sizes, frames and mode against the model; errors name the
    /// nearest valid values. Allocates nothing.
    fn check(&self, req: &Resolved) -> Result<()>;
    /// Checks what only running needs, beyond [`Rules::check`]: the limits
    /// the model's configs set on what it can compute (e.g. the positions its
    /// rotary tables cover). The pipeline calls it before the memory budget
    /// and before anything is allocated, so such a request is always
    /// [`Error::InvalidRequest`]; a memory estimate, which allocates nothing,
    /// does not need it. Allocates nothing.
    fn check_run(&self, _req: &Resolved) -> Result<()> {
        Ok(())
    }
}

impl dyn Rules + '_ {
    /// `req` with the family's defaults filled in, checked by [`Rules::check`].
    pub fn resolve(&self, req: &Request) -> Result<Resolved> {
        let r = req.resolve_on(
            &self.defaults(),
            |f| self.nearest_frames(f),
            self.size_grid(),
        )?;
        self.check(&r)?;
        Ok(r)
    }
}

/// What one model family plugs into the pipeline.
pub trait ModelFamily: Send {
    /// The family's short name (`wan`).
    fn name(&self) -> &'static str;
    /// The family's request rules.
    fn rules(&self) -> &dyn Rules;
    /// Encodes the request's conditioning (text, image, video) and returns the
    /// run's state, which the walk drives ([`Generation`]).
    fn begin<'a>(&'a mut self, req: &Resolved) -> Result<Box<dyn Generation + 'a>>;
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
    /// The memory `req` needs from here on with the options `opts` (the
    /// weights already loaded count as resident), computed without allocating.
    fn estimate(&self, _req: &Resolved, _opts: &EstimateOptions) -> Result<MemoryEstimate> {
        Err(Error::Unsupported(format!(
            "no memory estimate for the `{}` family",
            self.name()
        )))
    }
    /// Whether the family generates long-form requests (a chain of windows,
    /// [`crate::pipeline::longform`]): its generations take
    /// [`Generation::hold_leading`] and it decodes with
    /// [`ModelFamily::decode_continued`].
    fn long_form(&self) -> bool {
        false
    }
    /// The long-form plan of `req` when it is one (more frames than one
    /// window, or timed prompts), `None` otherwise or when the family has no
    /// long-form generation. The default takes the family's default frame
    /// count as the window.
    fn longform_plan(&self, req: &Resolved) -> Result<Option<LongformPlan>> {
        if !self.long_form() {
            return Ok(None);
        }
        let rules = self.rules();
        LongformPlan::of(req, rules.defaults().frames, |f| rules.nearest_frames(f))
    }
    /// Long-form generation: decodes `latents` (the part of window `req`'s
    /// latents it hands on, in [`crate::family::Generation::window_latents`]'s
    /// layout; audio `None` when the request has none) into `sink` as the
    /// continuation of the latents given since the last
    /// [`ModelFamily::end_decode_stream`] (one decoder stream across
    /// windows). `last` marks the clip's last part: whatever the stream still
    /// holds back for a seam is written then.
    fn decode_continued(
        &mut self,
        _req: &Resolved,
        _latents: &Latents,
        _last: bool,
        _sink: &mut dyn FrameSink,
    ) -> Result<()> {
        Err(Error::Unsupported(format!(
            "the `{}` family has no continued decode (long-form generation)",
            self.name()
        )))
    }
    /// Ends the decoder stream of [`ModelFamily::decode_continued`] (its
    /// cache dropped); called after every long-form run, finished or not.
    fn end_decode_stream(&mut self) {}
    /// Whether every text embedding of the last run came from the family's
    /// cache (the text encoder did not run).
    fn text_from_cache(&self) -> bool {
        false
    }
    /// Components and parameter counts (for `inspect`).
    fn describe(&self) -> Vec<(String, String, u64)> {
        Vec::new()
    }
}
