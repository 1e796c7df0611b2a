//! Wan's request rules: diffusers' `WanPipeline` defaults; width and height
//! multiples of (VAE spatial factor × patch size), frame counts of the form
//! `1 + k × temporal factor`; the modes a folder can run; step counts its
//! scheduler can walk; and, for running (`check_run`), the positions the
//! transformer can embed ([`PositionLimits`]). Errors name the nearest valid
//! values.

use std::path::PathBuf;

use super::limits::PositionLimits;
pub use super::size::SizeRule;
use crate::family::Rules;
use crate::pipeline::longform::{LongformPlan, DEFAULT_OVERLAP};
use crate::pipeline::request::{Defaults, Mode, Resolved};
use crate::pipeline::shape::SizeGrid;
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
        preset: Default::default(),
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

impl WanRules {
    /// Whether the checkpoint generates long-form requests (text-to-video
    /// and TI2V; not Wan 2.1 I2V).
    pub fn long_form(&self) -> bool {
        self.in_channels == self.latent_channels
    }

    /// The long-form plan of `req`, when it is one: text-to-video
    /// ([`LongformPlan::of`]) or an extension longer than one window
    /// ([`LongformPlan::of_extension`]); `None` for a checkpoint without
    /// long-form generation. The default window is the default frame count,
    /// or the most frames the rotary tables cover when fewer.
    pub fn longform_plan(&self, req: &Resolved) -> Result<Option<LongformPlan>> {
        if !self.long_form() {
            return Ok(None);
        }
        let most = u32::try_from(self.limits.max_frames(&self.size)).unwrap_or(u32::MAX);
        let window = wan_defaults().frames.min(most.max(1));
        let rule = |f| self.size.nearest_frames(f);
        match req.mode {
            Mode::Text => LongformPlan::of(req, window, rule),
            Mode::Extend { .. } => LongformPlan::of_extension(req, window, DEFAULT_OVERLAP, rule),
            _ => Ok(None),
        }
    }

    /// Frames one walk generates: an extension's window, a long-form
    /// request's longest window, else the request's frames.
    fn walked_frames(&self, req: &Resolved) -> Result<u32> {
        Ok(match self.longform_plan(req)? {
            Some(plan) => plan.max_window_frames().min(req.frames),
            None => req.generated_frames(|f| self.size.nearest_frames(f))?,
        })
    }
}

impl Rules for WanRules {
    fn defaults(&self) -> Defaults {
        wan_defaults()
    }

    fn nearest_frames(&self, frames: u32) -> u32 {
        self.size.nearest_frames(frames)
    }

    fn size_grid(&self) -> SizeGrid {
        self.size.grid()
    }

    fn check(&self, req: &Resolved) -> Result<()> {
        if !req.conditions.is_empty() {
            return Err(Error::Unsupported(
                "frame conditions (images or clips at frame indices) are built for LTX-2 only; \
                 Wan takes an image as image-to-video's first frame"
                    .into(),
            ));
        }
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
        // An extension generates its window (overlap + added frames); a
        // long-form request one window at a time.
        let frames = self.walked_frames(req)?;
        self.size
            .check_within(req.width, req.height, frames, Some(max))?;
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
                if self.in_channels != self.latent_channels {
                    return Err(Error::Unsupported(format!(
                        "{} is a Wan 2.1 image-to-video model (mask and image channels); \
                         extending a clip runs on Wan text-to-video and TI2V checkpoints",
                        self.root.display()
                    )));
                }
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
        let frames = self.walked_frames(req)?;
        self.limits.check(&self.size, req.width, req.height, frames)
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

    /// Every aspect preset at every tier, on Wan 2.1's grid (16) and Wan 2.2
    /// TI2V's (VAE 16 × patch 2 = 32): the sizes of docs/params.md, all valid.
    #[test]
    fn presets_and_tiers_map_to_valid_sizes() {
        use crate::pipeline::request::Request;
        use crate::pipeline::shape::{Aspect, Resolution};
        const WAN22: SizeRule = SizeRule {
            spatial: 16,
            temporal: 4,
            patch_h: 2,
            patch_w: 2,
        };
        // [rule][tier][aspect as in Aspect::PRESETS: 9:16, 1:1, 4:5, 16:9, 21:9]
        let want: [[[(u32, u32); 5]; 3]; 2] = [
            [
                [(480, 848), (480, 480), (480, 592), (848, 480), (1120, 480)],
                [
                    (720, 1280),
                    (720, 720),
                    (720, 896),
                    (1280, 720),
                    (1680, 720),
                ],
                [
                    (1072, 1920),
                    (1072, 1072),
                    (1072, 1344),
                    (1920, 1072),
                    (2512, 1072),
                ],
            ],
            [
                [(480, 864), (480, 480), (480, 608), (864, 480), (1120, 480)],
                [
                    (704, 1280),
                    (704, 704),
                    (704, 896),
                    (1280, 704),
                    (1664, 704),
                ],
                [
                    (1088, 1920),
                    (1088, 1088),
                    (1088, 1344),
                    (1920, 1088),
                    (2528, 1088),
                ],
            ],
        ];
        for (rule, want) in [WAN21, WAN22].iter().zip(want) {
            for (tier, want) in Resolution::ALL.iter().zip(want) {
                for (aspect, want) in Aspect::PRESETS.iter().zip(want) {
                    let r = Request::text("x")
                        .aspect(*aspect)
                        .resolution(*tier)
                        .resolve_on(&wan_defaults(), |f| rule.nearest_frames(f), rule.grid())
                        .unwrap();
                    assert_eq!((r.width, r.height), want, "{aspect} {tier} {rule:?}");
                    rule.check(r.width, r.height, r.frames).unwrap();
                }
            }
        }
        assert_eq!(WAN21.grid().width, 16);
        assert_eq!(WAN22.grid().height, 32);
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
