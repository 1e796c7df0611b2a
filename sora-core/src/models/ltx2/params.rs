//! The request parameters LTX-2 accepts beyond the common ones, named as
//! `LTX2Pipeline.__call__`'s keywords, and [`GuidanceSettings`]: the guidance
//! of one request with diffusers' defaults and its fall-backs (an audio scale
//! given as 0 takes the video one, as the pipeline's `audio_x or x` does).

use std::collections::BTreeMap;

use crate::pipeline::param_spec::{ParamKind, ParamRange, ParamSpec, ParamValue};
use crate::pipeline::params::{WINDOW_FRAMES, WINDOW_OVERLAP};
use crate::pipeline::request::Resolved;
use crate::{Error, Result};

/// `max_sequence_length`: the prompt's token length (the pipeline's default).
pub const DEFAULT_MAX_SEQUENCE_LENGTH: i64 = 1024;

/// `image_crf` when a request gives none: diffusers' `DEFAULT_IMAGE_CRF`,
/// what LTX-2.0 and 2.3 (Gemma 3 text encoders) were trained against.
pub const DEFAULT_IMAGE_CRF: i64 = 33;

const fn float(key: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        key,
        aliases: &[],
        kind: ParamKind::Float,
        range: ParamRange::at_least(0.0),
        help,
    }
}

/// LTX-2's own parameters (`guidance_scale` is a common one: the video CFG scale).
pub const PARAMS: &[ParamSpec] = &[
    WINDOW_FRAMES,
    WINDOW_OVERLAP,
    float("stg_scale", "spatio-temporal guidance scale of the video (0 turns it off; default 1)"),
    float("modality_scale", "modality-isolation guidance scale of the video (1 turns it off; default 3)"),
    float("guidance_rescale", "guidance rescale of the video (0 turns it off; default 0.7)"),
    float("audio_guidance_scale", "classifier-free guidance scale of the audio (default 7; 0 takes guidance_scale)"),
    float("audio_stg_scale", "spatio-temporal guidance scale of the audio (default 1; 0 takes stg_scale)"),
    float("audio_modality_scale", "modality-isolation guidance scale of the audio (default 3; 0 takes modality_scale)"),
    float("audio_guidance_rescale", "guidance rescale of the audio (default 0.7; 0 takes guidance_rescale)"),
    ParamSpec {
        key: "spatio_temporal_guidance_blocks",
        aliases: &["stg_blocks"],
        kind: ParamKind::List,
        range: ParamRange::closed(0.0, 100_000.0),
        help: "transformer blocks STG perturbs, comma-separated (default 28; blocks past the last are ignored)",
    },
    ParamSpec {
        key: "use_cross_timestep",
        aliases: &[],
        kind: ParamKind::Bool,
        range: ParamRange::ANY,
        help: "modulate each stream's cross-modal attention with the other's noise level (default true)",
    },
    ParamSpec {
        key: "max_sequence_length",
        aliases: &[],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, 8192.0),
        help: "prompt length in tokens (default 1024)",
    },
    ParamSpec {
        key: "image_crf",
        aliases: &[],
        kind: ParamKind::Int,
        range: ParamRange::closed(0.0, 51.0),
        help: "image-to-video: H.264 re-compression strength of the image before it is encoded \
               (0 skips it; default 33, diffusers' for LTX-2.0/2.3; OpenH264 at that quantiser, not libx264)",
    },
    ParamSpec {
        key: "keep_audio",
        aliases: &[],
        kind: ParamKind::Bool,
        range: ParamRange::ANY,
        help: "video-to-video: keep the clip's own sound (held in the audio latents while the picture \
               is restyled, so it stays in sync; the output track is the clip's) instead of new sound (default false)",
    },
    float("decode_timestep", "the video VAE's decode timestep, for a timestep-conditioned VAE (default 0)"),
    float("decode_noise_scale", "noise mixed into the latents before a timestep-conditioned decode (default: decode_timestep)"),
];

/// The pipeline's `(decode_timestep, decode_noise_scale)` of `req`: 0 by
/// default, the noise scale falling back to the timestep.
pub fn decode_settings(req: &Resolved) -> (f64, f64) {
    let t = number(&req.params, "decode_timestep").unwrap_or(0.0);
    (t, number(&req.params, "decode_noise_scale").unwrap_or(t))
}

/// The request's `keep_audio` (false when unset).
pub fn keep_audio(req: &Resolved) -> bool {
    matches!(req.params.get("keep_audio"), Some(ParamValue::Bool(true)))
}

/// The request's `image_crf` ([`DEFAULT_IMAGE_CRF`] when unset).
pub fn image_crf(req: &Resolved) -> Result<u32> {
    let v = match req.params.get("image_crf") {
        None => DEFAULT_IMAGE_CRF,
        Some(ParamValue::Int(v)) => *v,
        Some(ParamValue::Float(v)) if v.fract() == 0.0 => *v as i64,
        Some(other) => {
            return Err(Error::invalid(format!(
                "image_crf takes an integer in 0..=51, got {other}"
            )))
        }
    };
    u32::try_from(v)
        .ok()
        .filter(|v| *v <= 51)
        .ok_or_else(|| Error::invalid(format!("image_crf must be in 0..=51, got {v}")))
}

/// One request's guidance, every value resolved as the pipeline resolves it.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidanceSettings {
    /// Classifier-free guidance (video, audio).
    pub cfg: (f64, f64),
    /// Spatio-temporal guidance (video, audio).
    pub stg: (f64, f64),
    /// Modality-isolation guidance (video, audio).
    pub modality: (f64, f64),
    /// Guidance rescale (video, audio).
    pub rescale: (f64, f64),
    /// Blocks STG perturbs.
    pub stg_blocks: Vec<usize>,
    /// `use_cross_timestep`.
    pub use_cross_timestep: bool,
    /// The prompt's token length.
    pub max_sequence_length: usize,
}

fn number(params: &BTreeMap<String, ParamValue>, key: &str) -> Option<f64> {
    match params.get(key) {
        Some(ParamValue::Float(v)) => Some(*v),
        Some(ParamValue::Int(v)) => Some(*v as f64),
        _ => None,
    }
}

/// The pipeline's `audio_x = audio_x or x`: a zero audio value takes the video one.
fn or_video(audio: f64, video: f64) -> f64 {
    if audio == 0.0 {
        video
    } else {
        audio
    }
}

impl GuidanceSettings {
    /// The guidance of `req` (diffusers' defaults for what it does not set).
    pub fn from_request(req: &Resolved) -> Result<Self> {
        let p = &req.params;
        let cfg = f64::from(req.guidance);
        let stg = number(p, "stg_scale").unwrap_or(1.0);
        let modality = number(p, "modality_scale").unwrap_or(3.0);
        let rescale = number(p, "guidance_rescale").unwrap_or(0.7);
        let a_cfg = or_video(number(p, "audio_guidance_scale").unwrap_or(7.0), cfg);
        let a_stg = or_video(number(p, "audio_stg_scale").unwrap_or(1.0), stg);
        let a_mod = or_video(number(p, "audio_modality_scale").unwrap_or(3.0), modality);
        let a_rescale = or_video(number(p, "audio_guidance_rescale").unwrap_or(0.7), rescale);
        let stg_blocks = match p.get("spatio_temporal_guidance_blocks") {
            Some(ParamValue::List(v)) => v
                .iter()
                .map(|b| {
                    if b.fract() == 0.0 && *b >= 0.0 {
                        Ok(*b as usize)
                    } else {
                        Err(Error::invalid(format!(
                            "spatio_temporal_guidance_blocks: {b} is not a block index"
                        )))
                    }
                })
                .collect::<Result<Vec<_>>>()?,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "spatio_temporal_guidance_blocks takes a list of block indices, got {other}"
                )))
            }
            None => vec![28],
        };
        let use_cross_timestep = match p.get("use_cross_timestep") {
            Some(ParamValue::Bool(b)) => *b,
            Some(ParamValue::Int(i)) => *i != 0,
            _ => true,
        };
        let max_sequence_length = match p.get("max_sequence_length") {
            Some(ParamValue::Int(n)) if *n >= 1 => *n as usize,
            _ => DEFAULT_MAX_SEQUENCE_LENGTH as usize,
        };
        let s = Self {
            cfg: (cfg, a_cfg),
            stg: (stg, a_stg),
            modality: (modality, a_mod),
            rescale: (rescale, a_rescale),
            stg_blocks,
            use_cross_timestep,
            max_sequence_length,
        };
        if s.do_stg() && s.stg_blocks.is_empty() {
            return Err(Error::invalid(
                "spatio-temporal guidance (stg_scale or audio_stg_scale > 0) needs block indices \
                 in spatio_temporal_guidance_blocks",
            ));
        }
        Ok(s)
    }

    /// `do_classifier_free_guidance`: either CFG scale above 1.
    pub fn do_cfg(&self) -> bool {
        self.cfg.0 > 1.0 || self.cfg.1 > 1.0
    }

    /// `do_spatio_temporal_guidance`: either STG scale above 0.
    pub fn do_stg(&self) -> bool {
        self.stg.0 > 0.0 || self.stg.1 > 0.0
    }

    /// `do_modality_isolation_guidance`: either modality scale above 1.
    pub fn do_modality(&self) -> bool {
        self.modality.0 > 1.0 || self.modality.1 > 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::request::{Defaults, Request};

    fn resolve(req: &Request) -> Result<GuidanceSettings> {
        let d = Defaults {
            width: 768,
            height: 512,
            frames: 121,
            fps: 24,
            steps: 30,
            guidance: 3.0,
            negative_prompt: String::new(),
            audio: true,
            params: PARAMS,
            preset: Default::default(),
        };
        GuidanceSettings::from_request(&req.resolve(&d, |f| f)?)
    }

    #[test]
    fn defaults_and_fallbacks_are_the_pipelines() {
        let s = resolve(&Request::text("x")).unwrap();
        assert_eq!(
            (s.cfg, s.stg, s.modality),
            ((3.0, 7.0), (1.0, 1.0), (3.0, 3.0))
        );
        assert_eq!((s.rescale, s.stg_blocks.clone()), ((0.7, 0.7), vec![28]));
        assert!(s.use_cross_timestep && s.max_sequence_length == 1024);
        assert!(s.do_cfg() && s.do_stg() && s.do_modality());
        // `audio_x or x`: a zero audio scale takes the video one.
        let mut r = Request::text("x").guidance(1.0);
        r.set("audio_guidance_scale", 0.0).unwrap();
        r.set("stg_scale", 0.5).unwrap();
        r.set("audio_stg_scale", 0.0).unwrap();
        r.set_text("spatio_temporal_guidance_blocks", "3,7")
            .unwrap();
        r.set("use_cross_timestep", false).unwrap();
        let s = resolve(&r).unwrap();
        assert_eq!(
            (s.cfg, s.stg, s.stg_blocks.clone()),
            ((1.0, 1.0), (0.5, 0.5), vec![3, 7])
        );
        assert!(!s.do_cfg() && !s.use_cross_timestep);
        let mut r = Request::text("x");
        r.set_text("spatio_temporal_guidance_blocks", "1.5")
            .unwrap();
        assert!(resolve(&r).is_err());
    }
}
