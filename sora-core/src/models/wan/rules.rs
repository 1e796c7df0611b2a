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
        let max = [
            self.limits.max_width(&self.size),
            self.limits.max_height(&self.size),
            self.limits.max_frames(&self.size),
        ];
        self.size
            .check_within(req.width, req.height, req.frames, Some(max))?;
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

/// The valid values (multiples of `m`, at least `m`, at most `max`) nearest
/// `v`: the one below and the one above, or one when they coincide. In u64, so
/// that sizes near `u32::MAX` cannot overflow.
fn around(v: u32, m: u32, max: Option<u64>) -> String {
    let (v, m) = (u64::from(v), u64::from(m.max(1)));
    let cap = max
        .map_or(u64::from(u32::MAX) / m * m, |x| x / m * m)
        .max(m);
    let lo = (v / m * m).clamp(m, cap);
    let hi = (v / m * m + m).clamp(m, cap);
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} or {hi}")
    }
}

impl SizeRule {
    /// The frame count of the form `1 + k·temporal` nearest to `frames` (at least 1).
    pub fn nearest_frames(&self, frames: u32) -> u32 {
        let t = u64::from(self.temporal.max(1));
        let k = ((frames.max(1) - 1) as f64 / t as f64).round() as u64;
        // The largest count of that form that is still a u32.
        let k = k.min((u64::from(u32::MAX) - 1) / t);
        (1 + k * t) as u32
    }

    /// Checks a size and frame count, naming the nearest valid values when wrong.
    pub fn check(&self, width: u32, height: u32, frames: u32) -> Result<()> {
        self.check_within(width, height, frames, None)
    }

    /// [`SizeRule::check`] with the largest valid `[width, height, frames]`
    /// (e.g. the rotary tables' [`PositionLimits`]): no value beyond them is
    /// suggested.
    pub fn check_within(
        &self,
        width: u32,
        height: u32,
        frames: u32,
        max: Option<[u64; 3]>,
    ) -> Result<()> {
        let mh = self.spatial * self.patch_h;
        let mw = self.spatial * self.patch_w;
        let mut problems = Vec::new();
        if width % mw.max(1) != 0 || width == 0 {
            problems.push(format!(
                "width {width} is not a multiple of {mw} (VAE factor {} × patch {}); nearest valid: {}",
                self.spatial,
                self.patch_w,
                around(width, mw, max.map(|m| m[0]))
            ));
        }
        if height % mh.max(1) != 0 || height == 0 {
            problems.push(format!(
                "height {height} is not a multiple of {mh} (VAE factor {} × patch {}); nearest valid: {}",
                self.spatial,
                self.patch_h,
                around(height, mh, max.map(|m| m[1]))
            ));
        }
        let t = self.temporal.max(1);
        if frames == 0 || (frames - 1) % t != 0 {
            // Valid counts are 1 + k·t: nearest to `frames - 1` among multiples of t (0 allowed).
            let (f, t64) = (u64::from(frames.max(1) - 1), u64::from(t));
            let cap = max.map_or(u64::from(u32::MAX) - 1, |m| m[2].max(1) - 1) / t64 * t64;
            let lo = (f / t64 * t64).min(cap) + 1;
            let hi = (f / t64 * t64 + t64).min(cap) + 1;
            let near = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo} or {hi}")
            };
            problems.push(format!(
                "frames {frames} must be 1 + a multiple of {t}; nearest valid: {near}"
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

    #[test]
    fn suggestions_are_valid_sizes_even_at_the_extremes() {
        // Below the multiple: one suggestion, never 0.
        let e = WAN21.check(8, 0, 0).unwrap_err().to_string();
        assert!(
            e.contains(
                "width 8 is not a multiple of 16 (VAE factor 8 × patch 2); nearest valid: 16;"
            ),
            "{e}"
        );
        assert!(
            e.contains("height 0") && e.contains("nearest valid: 16"),
            "{e}"
        );
        assert!(
            e.contains("frames 0") && e.contains("nearest valid: 1 or 5"),
            "{e}"
        );
        // Near u32::MAX: no overflow, no wrapped value.
        let e = WAN21
            .check(u32::MAX, 16, u32::MAX - 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nearest valid: 4294967280;"), "{e}");
        assert!(e.contains("nearest valid: 4294967293"), "{e}");
        assert_eq!(WAN21.nearest_frames(u32::MAX), 4294967293);
        // Within the rotary tables' limits: nothing beyond them is suggested.
        let e = WAN21
            .check_within(520, 16, 127, Some([512, 512, 125]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("width 520") && e.contains("nearest valid: 512;"),
            "{e}"
        );
        assert!(
            e.contains("frames 127") && e.contains("nearest valid: 125"),
            "{e}"
        );
        for v in ["4294967296", " 0 ", "528"] {
            assert!(!e.contains(v), "{e}");
        }
    }
}
