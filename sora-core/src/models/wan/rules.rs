//! Wan's request rules: diffusers' `WanPipeline` defaults; width and height
//! multiples of (VAE spatial factor × patch size), frame counts of the form
//! `1 + k × temporal factor`; the modes a folder can run; step counts its
//! scheduler can walk; and, for running (`check_run`), the positions the
//! transformer can embed ([`PositionLimits`]). Errors name the nearest valid
//! values.

use std::path::PathBuf;

use super::limits::PositionLimits;
use crate::family::Rules;
use crate::pipeline::request::{Defaults, Mode, Resolved};
use crate::sampler;
use crate::{Error, Result};

/// diffusers' default `max_sequence_length` for Wan.
pub const MAX_SEQUENCE_LENGTH: usize = 512;

/// The negative prompt the Wan model cards recommend is not the pipeline's
/// default: `WanPipeline` uses an empty negative prompt, and so do we.
const DEFAULT_NEGATIVE: &str = "";

/// Defaults equal to diffusers' `WanPipeline.__call__`.
pub(crate) fn wan_defaults() -> Defaults {
    Defaults {
        width: 832,
        height: 480,
        frames: 81,
        fps: 16,
        steps: 50,
        guidance: 5.0,
        negative_prompt: DEFAULT_NEGATIVE.to_string(),
        audio: false,
        params: super::params::PARAMS,
    }
}

/// The rules of one loaded Wan folder.
#[derive(Debug, Clone)]
pub struct WanRules {
    /// Sizes and frame counts.
    pub size: SizeRule,
    /// Positions the transformer can embed (checked before anything is allocated).
    pub limits: PositionLimits,
    /// The transformer's input channels (more than the latent's: image
    /// conditioning concatenated, Wan 2.1 I2V).
    pub in_channels: i64,
    /// The VAE's latent channels.
    pub latent_channels: i64,
    /// Wan 2.2 TI2V: per-token timesteps, first-frame conditioning.
    pub expand_timesteps: bool,
    /// The model folder (for messages).
    pub root: PathBuf,
    /// The scheduler's config (step counts it can walk).
    pub scheduler_config: PathBuf,
}

impl Rules for WanRules {
    fn defaults(&self) -> Defaults {
        wan_defaults()
    }

    fn nearest_frames(&self, frames: u32) -> u32 {
        self.size.nearest_frames(frames)
    }

    fn check(&self, req: &Resolved) -> Result<()> {
        if req.audio {
            return Err(Error::Unsupported(
                "Wan generates no audio; drop the audio option or use an audio-video family".into(),
            ));
        }
        self.size.check(req.width, req.height, req.frames)?;
        match &req.mode {
            Mode::Image(_) => {
                let concat = self.in_channels > self.latent_channels;
                if !self.expand_timesteps && !concat {
                    return Err(Error::Unsupported(format!(
                        "{} is a text-to-video Wan model without image conditioning; \
                         image-to-video needs an I2V or TI2V checkpoint",
                        self.root.display()
                    )));
                }
            }
            Mode::Video { clip, .. } => {
                let src = clip.frames.shape()[0] as u32;
                if req.frames > src {
                    return Err(Error::invalid(format!(
                        "video-to-video makes as many frames as the source has at most ({src}); {} asked",
                        req.frames
                    )));
                }
                if self.in_channels != self.latent_channels {
                    return Err(Error::Unsupported(
                        "video-to-video runs on text-to-video Wan checkpoints".into(),
                    ));
                }
            }
            Mode::Extend { .. } => {
                return Err(Error::Unsupported(
                    "extending a clip is not built yet for Wan".into(),
                ))
            }
            Mode::Text => {}
        }
        // A step count the scheduler config cannot walk fails here, not after the steps.
        let strength = match &req.mode {
            Mode::Video { strength, .. } => Some(f64::from(*strength)),
            _ => None,
        };
        let scheduler = sampler::from_config(&self.scheduler_config)?;
        sampler::check_steps(scheduler.as_ref(), req.steps as usize, strength)?;
        Ok(())
    }

    fn check_run(&self, req: &Resolved) -> Result<()> {
        self.limits
            .check(&self.size, req.width, req.height, req.frames)
    }
}

/// The size rule of one Wan folder.
#[derive(Debug, Clone, Copy)]
pub struct SizeRule {
    /// VAE spatial down-sampling (8 for Wan 2.1, 16 for Wan 2.2's VAE).
    pub spatial: u32,
    /// VAE temporal down-sampling (4).
    pub temporal: u32,
    /// Transformer patch height.
    pub patch_h: u32,
    /// Transformer patch width.
    pub patch_w: u32,
}

fn around(v: u32, m: u32) -> (u32, u32) {
    let lo = v / m * m;
    (lo.max(m), lo + m)
}

impl SizeRule {
    /// The frame count of the form `1 + k·temporal` nearest to `frames` (at least 1).
    pub fn nearest_frames(&self, frames: u32) -> u32 {
        let t = self.temporal.max(1);
        let k = ((frames.max(1) - 1) as f64 / t as f64).round() as u32;
        1 + k * t
    }

    /// Checks a size and frame count, naming the nearest valid values when wrong.
    pub fn check(&self, width: u32, height: u32, frames: u32) -> Result<()> {
        let mh = self.spatial * self.patch_h;
        let mw = self.spatial * self.patch_w;
        let mut problems = Vec::new();
        if width % mw != 0 || width == 0 {
            let (a, b) = around(width, mw);
            problems.push(format!(
                "width {width} is not a multiple of {mw} (VAE factor {} × patch {}); nearest valid: {a} or {b}",
                self.spatial, self.patch_w
            ));
        }
        if height % mh != 0 || height == 0 {
            let (a, b) = around(height, mh);
            problems.push(format!(
                "height {height} is not a multiple of {mh} (VAE factor {} × patch {}); nearest valid: {a} or {b}",
                self.spatial, self.patch_h
            ));
        }
        let t = self.temporal.max(1);
        if frames == 0 || (frames - 1) % t != 0 {
            let lo = if frames == 0 {
                1
            } else {
                (frames - 1) / t * t + 1
            };
            problems.push(format!(
                "frames {frames} must be 1 + a multiple of {t}; nearest valid: {lo} or {}",
                lo + t
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAN21: SizeRule = SizeRule {
        spatial: 8,
        temporal: 4,
        patch_h: 2,
        patch_w: 2,
    };

    #[test]
    fn accepts_the_defaults_and_names_nearest_values() {
        assert!(WAN21.check(832, 480, 81).is_ok());
        let e = WAN21.check(830, 480, 80).unwrap_err().to_string();
        assert!(e.contains("width 830") && e.contains("816 or 832"), "{e}");
        assert!(e.contains("frames 80") && e.contains("77 or 81"), "{e}");
        assert_eq!(WAN21.nearest_frames(80), 81);
        assert_eq!(WAN21.nearest_frames(1), 1);
        assert_eq!(WAN21.nearest_frames(32), 33);
    }
}
