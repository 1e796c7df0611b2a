//! LTX-2's request rules: `LTX2Pipeline`'s defaults (768×512, 121 frames at
//! 24 fps, 30 steps, CFG 3; the other guidance defaults live in
//! [`super::params`]), frame counts `1 + k × temporal` and sizes multiples of
//! the VAE's spatial compression (and of 32, which the pipeline requires),
//! text- and image-to-video with audio; errors name the nearest valid values.

use std::path::PathBuf;

use super::geometry::{LatentGeometry, AUDIO_COMPRESSION};
use super::latents::audio_latent_frames;
use super::params::GuidanceSettings;
use crate::family::Rules;
use crate::models::wan::rules::SizeRule;
use crate::pipeline::longform::LongformPlan;
use crate::pipeline::request::{Defaults, Mode, Resolved};
use crate::{Error, Result};

/// Defaults equal to diffusers' `LTX2Pipeline.__call__`.
pub(crate) fn ltx2_defaults() -> Defaults {
    Defaults {
        width: 768,
        height: 512,
        frames: 121,
        fps: 24,
        steps: 30,
        guidance: 3.0,
        negative_prompt: String::new(),
        audio: true,
        params: super::params::PARAMS,
        preset: Default::default(),
    }
}

/// The rules of one loaded LTX-2 folder.
#[derive(Debug, Clone)]
pub struct Ltx2Rules {
    /// The latent geometry (VAE compression).
    pub geometry: LatentGeometry,
    /// The transformer's spatial and temporal patch sizes.
    pub patch: (i64, i64),
    /// The scheduler's config file.
    pub scheduler_config: PathBuf,
    /// The request defaults: the pipeline's, changed by the folder's
    /// `sora_defaults.json` ([`crate::pipeline::folder_defaults`]).
    pub defaults: Defaults,
}

impl Ltx2Rules {
    fn size_rule(&self) -> SizeRule {
        // The pipeline checks multiples of 32 whatever the VAE; a VAE that
        // compresses more asks for its own multiple.
        let spatial = (self.geometry.spatial * self.patch.0).max(1) as u32;
        let spatial = if spatial % 32 == 0 {
            spatial
        } else {
            lcm(spatial, 32)
        };
        SizeRule {
            spatial,
            temporal: (self.geometry.temporal * self.patch.1).max(1) as u32,
            patch_h: 1,
            patch_w: 1,
        }
    }
}

/// Frames of one long-form window unless the request (or the folder's
/// defaults) set `window_frames`: LTX-2 walks clips up to this long at once.
pub const DEFAULT_WINDOW_FRAMES: u32 = 257;

/// Latent frames each long-form window holds from the previous one unless
/// `window_overlap` is set (17 frames at LTX-2's ×8).
pub const DEFAULT_WINDOW_OVERLAP: u32 = 2;

impl Ltx2Rules {
    /// The long-form plan of `req`, when it is one: a text- or
    /// image-to-video request longer than a window
    /// ([`DEFAULT_WINDOW_FRAMES`] or `window_frames`), or with timed
    /// prompts, or an extension adding more than a window holds
    /// ([`LongformPlan::of_extension`]); with each window's audio span. A
    /// request with frame conditions is one walk, as before (timed prompts
    /// with them are [`Error::Unsupported`]).
    pub fn longform_plan(&self, req: &Resolved) -> Result<Option<LongformPlan>> {
        let rule = |f| self.nearest_frames(f);
        let plan = match req.mode {
            // Text- and image-to-video (the image conditions the first window).
            Mode::Text | Mode::Image(_) => {
                if !req.conditions.is_empty() {
                    if req.prompts_at.is_empty() {
                        return Ok(None);
                    }
                    return Err(Error::Unsupported(
                        "LTX-2 timed prompts (long-form generation) are not combined with \
                         frame conditions"
                            .into(),
                    ));
                }
                LongformPlan::of_with_overlap(
                    req,
                    DEFAULT_WINDOW_FRAMES,
                    DEFAULT_WINDOW_OVERLAP,
                    rule,
                )?
            }
            // An extension (it takes no frame conditions: `check` refuses them).
            Mode::Extend { .. } => LongformPlan::of_extension(
                req,
                DEFAULT_WINDOW_FRAMES,
                DEFAULT_WINDOW_OVERLAP,
                rule,
            )?,
            Mode::Video { .. } => None,
        };
        let Some(plan) = plan else {
            return Ok(None);
        };
        let geo = self.geometry;
        plan.with_audio(|frames| {
            audio_latent_frames(
                frames,
                f64::from(req.fps),
                geo.sample_rate as f64,
                geo.hop_length as f64,
                AUDIO_COMPRESSION as f64,
            )
        })
        .map(Some)
    }

    /// What one walk of `req` covers when it is long-form (its longest
    /// window: what the memory estimate counts); `None` for one walk of
    /// the whole request.
    pub fn longform_window(&self, req: &Resolved) -> Result<Option<Resolved>> {
        Ok(self.longform_plan(req)?.map(|plan| plan.one_window(req)))
    }
}

fn lcm(a: u32, b: u32) -> u32 {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    a / gcd(a, b) * b
}

impl Rules for Ltx2Rules {
    fn defaults(&self) -> Defaults {
        self.defaults.clone()
    }

    fn nearest_frames(&self, frames: u32) -> u32 {
        self.size_rule().nearest_frames(frames)
    }

    fn size_grid(&self) -> crate::pipeline::shape::SizeGrid {
        self.size_rule().grid()
    }

    fn check(&self, req: &Resolved) -> Result<()> {
        // An extension generates its window (the clip's tail, then the
        // frames added): that count must be one the model takes.
        let frames = req.generated_frames(|f| self.size_rule().nearest_frames(f))?;
        if matches!(req.mode, Mode::Extend { .. }) && !req.conditions.is_empty() {
            return Err(Error::Unsupported(
                "an LTX-2 extension is conditioned on the clip's tail; extra frame conditions \
                are not combined with it"
                    .into(),
            ));
        }
        if super::params::keep_audio(req) {
            match &req.mode {
                Mode::Video { clip, .. } if clip.audio.is_some() => {}
                Mode::Video { .. } => {
                    return Err(Error::invalid(
                        "keep_audio keeps the clip's own sound, and this clip has no audio track",
                    ))
                }
                _ => {
                    return Err(Error::invalid(
                        "keep_audio applies to video-to-video (an extension always keeps the clip's sound)",
                    ))
                }
            }
            if !req.audio {
                return Err(Error::invalid(
                    "keep_audio keeps the clip's sound in the output, and audio is turned off",
                ));
            }
        }
        self.size_rule().check(req.width, req.height, frames)?;
        let latent_frames = self.geometry.latent_frames(frames);
        for (i, c) in req.conditions.iter().enumerate() {
            c.check(i)?;
            c.latent_index(i, latent_frames)?;
        }
        // (The flow-match Euler update stays finite at every step count: no
        // dry run of the scheduler is needed, unlike Wan's UniPC.)
        GuidanceSettings::from_request(req)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Ltx2Rules {
        Ltx2Rules {
            geometry: LatentGeometry {
                spatial: 32,
                temporal: 8,
                video_channels: 128,
                audio_channels: 8,
                mel_bins: 64,
                sample_rate: 16000,
                hop_length: 160,
            },
            patch: (1, 1),
            scheduler_config: PathBuf::new(),
            defaults: ltx2_defaults(),
        }
    }

    #[test]
    fn sizes_and_frames_name_the_nearest_valid_values() {
        let r = rules().size_rule();
        assert!(r.check(768, 512, 121).is_ok());
        let e = r.check(770, 512, 120).unwrap_err().to_string();
        assert!(e.contains("768 or 800") && e.contains("113 or 121"), "{e}");
        assert_eq!(rules().nearest_frames(118), 121);
        assert_eq!(rules().nearest_frames(1), 1);
        let mut small = rules();
        small.geometry.spatial = 16;
        assert_eq!(small.size_rule().spatial, 32);
    }

    /// Aspect presets and tiers land on LTX-2's grid of 32 (the table of
    /// docs/params.md is checked in `pipeline::shape`), every one valid.
    #[test]
    fn presets_and_tiers_map_to_valid_sizes() {
        use crate::pipeline::request::Request;
        use crate::pipeline::shape::{Aspect, Resolution};
        let r = rules();
        assert_eq!((r.size_grid().width, r.size_grid().height), (32, 32));
        for tier in Resolution::ALL {
            for aspect in Aspect::PRESETS {
                let q = Request::text("x")
                    .aspect(aspect)
                    .resolution(tier)
                    .resolve_on(&ltx2_defaults(), |f| r.nearest_frames(f), r.size_grid())
                    .unwrap();
                r.size_rule().check(q.width, q.height, q.frames).unwrap();
            }
        }
        let q = Request::text("x")
            .aspect("9:16".parse().unwrap())
            .resolution(Resolution::P480)
            .resolve_on(&ltx2_defaults(), |f| f, r.size_grid())
            .unwrap();
        assert_eq!((q.width, q.height), (480, 864));
    }
}
