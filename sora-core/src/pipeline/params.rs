//! Request parameters by name: the one path from `key = value` (named as
//! diffusers' pipeline keywords, e.g. `guidance_scale`, `num_inference_steps`)
//! to a [`Request`], shared by the CLI (`--set`), Python (keyword arguments)
//! and C (`sora_request_set`).
//!
//! The keys every family shares ([`COMMON_PARAMS`]) set the request's typed
//! fields and are checked when set. Any other key is kept in the request as
//! given and checked when the request is resolved, against the [`ParamSpec`]
//! list of the family ([`Defaults::params`](super::Defaults::params)); the
//! checked values reach the family in [`Resolved::params`](super::Resolved::params).

use std::collections::BTreeMap;

use super::param_spec::{GivenParam, ParamKind, ParamRange, ParamSpec, ParamValue};
use super::request::{Mode, Request};
use crate::{Error, Result};

/// The parameters every family takes: they set [`Request`]'s typed fields.
/// `guidance_scale_2` sets a typed field too but is accepted only by families
/// that declare it (two-expert models).
pub const COMMON_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "prompt",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "what to generate",
    },
    ParamSpec {
        key: "negative_prompt",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "what to steer away from (classifier-free guidance)",
    },
    ParamSpec {
        key: "width",
        aliases: &[],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, u32::MAX as f64),
        help: "frame width in pixels; a size the family cannot take is refused when generating",
    },
    ParamSpec {
        key: "height",
        aliases: &[],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, u32::MAX as f64),
        help: "frame height in pixels; a size the family cannot take is refused when generating",
    },
    ParamSpec {
        key: "aspect",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "aspect preset 9:16, 1:1, 4:5, 16:9 or 21:9 (width:height), mapped to the nearest size the family takes; instead of width/height",
    },
    ParamSpec {
        key: "resolution",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "resolution tier 480p, 720p or 1080p (the short side), mapped to the nearest size the family takes; instead of width/height",
    },
    ParamSpec {
        key: "fit",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "how an input image or video of another aspect is made the request's: crop (centre-crop) or pad (black bars); without it such an input is refused",
    },
    ParamSpec {
        key: "num_frames",
        aliases: &["frames"],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, u32::MAX as f64),
        help: "number of frames (takes precedence over seconds)",
    },
    ParamSpec {
        key: "seconds",
        aliases: &[],
        kind: ParamKind::Float,
        range: ParamRange::above(0.0, 600.0),
        help: "duration in seconds (frames = seconds x frame_rate, rounded to the family's rule)",
    },
    ParamSpec {
        key: "frame_rate",
        aliases: &["fps"],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, 240.0),
        help: "frames per second",
    },
    ParamSpec {
        key: "num_inference_steps",
        aliases: &["steps"],
        kind: ParamKind::Int,
        range: ParamRange::closed(1.0, 1000.0),
        help: "denoising steps",
    },
    ParamSpec {
        key: "guidance_scale",
        aliases: &["guidance"],
        kind: ParamKind::Float,
        range: ParamRange::at_least(0.0),
        help: "classifier-free guidance scale (1 turns guidance off)",
    },
    ParamSpec {
        key: "strength",
        aliases: &[],
        kind: ParamKind::Float,
        range: ParamRange::above(0.0, 1.0),
        help: "video-to-video: how much of the schedule is re-run (give the video first)",
    },
    ParamSpec {
        key: "seed",
        aliases: &[],
        kind: ParamKind::Int,
        range: ParamRange::at_least(0.0),
        help: "seed of the initial noise",
    },
    ParamSpec {
        key: "audio",
        aliases: &[],
        kind: ParamKind::Bool,
        range: ParamRange::ANY,
        help: "generate audio (families without audio refuse true)",
    },
    ParamSpec {
        key: "consent",
        aliases: &[],
        kind: ParamKind::Str,
        range: ParamRange::ANY,
        help: "a consent id (cameo) for a registered person the prompt names; adds to those given",
    },
    GUIDANCE_SCALE_2,
];

/// `guidance_scale_2`: the low-noise expert's guidance scale. It sets
/// [`Request::guidance_2`] but only families listing it in their
/// [`Defaults::params`](super::Defaults::params) accept it.
pub const GUIDANCE_SCALE_2: ParamSpec = ParamSpec {
    key: "guidance_scale_2",
    aliases: &["guidance_2"],
    kind: ParamKind::Float,
    range: ParamRange::at_least(0.0),
    help:
        "guidance scale of the low-noise expert of two-expert models (defaults to guidance_scale)",
};

/// `window_frames`: the frames of one window of long-form generation
/// ([`super::longform`]); families with long-form generation list it.
pub const WINDOW_FRAMES: ParamSpec = ParamSpec {
    key: "window_frames",
    aliases: &[],
    kind: ParamKind::Int,
    range: ParamRange::closed(2.0, 100_000.0),
    help: "long-form: frames per window (rounded to a count the model takes; defaults: Wan the model's default frame count, LTX-2 257); a longer request is a chain of windows",
};

/// `window_overlap`: latent frames each long-form window holds from the
/// previous one's tail ([`super::longform`]).
pub const WINDOW_OVERLAP: ParamSpec = ParamSpec {
    key: "window_overlap",
    aliases: &[],
    kind: ParamKind::Int,
    range: ParamRange::closed(1.0, 64.0),
    help: "long-form: latent frames each window is conditioned on from the previous window's tail, blended over (default 3 for Wan, 2 for LTX-2)",
};

/// The common parameter `name` answers to, if any.
pub fn common_param(name: &str) -> Option<&'static ParamSpec> {
    COMMON_PARAMS.iter().find(|s| s.answers_to(name))
}

/// Checks that `key` can name a parameter: 1 to 64 characters, lowercase
/// ASCII letters, digits and `_`, starting with a letter.
fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(Error::invalid(format!(
            "`{key}` is not a request parameter name (lowercase letters, digits and _)"
        )));
    }
    Ok(())
}

fn as_u32(v: &ParamValue) -> u32 {
    match v {
        ParamValue::Int(i) => u32::try_from(*i).unwrap_or(u32::MAX),
        _ => 0,
    }
}

fn as_f32(v: &ParamValue) -> f32 {
    match v {
        ParamValue::Float(f) => *f as f32,
        ParamValue::Int(i) => *i as f32,
        _ => f32::NAN,
    }
}

impl Request {
    /// Sets the parameter `key` (a diffusers keyword such as
    /// `guidance_scale`, or one of sora's names such as `guidance`; see
    /// [`COMMON_PARAMS`]) to `value`.
    ///
    /// A common key is checked now (type, range) and sets the typed field.
    /// `strength` needs a video-to-video request: before a video is given it
    /// is refused. Any other key is kept as given and checked against the
    /// family's [`ParamSpec`]s when the request is resolved. On error the
    /// request is unchanged.
    ///
    /// ```
    /// use sora_core::Request;
    /// let mut r = Request::text("a kite");
    /// r.set("guidance_scale", 3.5)?;
    /// r.set("num_inference_steps", 30)?;
    /// assert_eq!((r.guidance, r.steps), (Some(3.5), Some(30)));
    /// assert!(r.set("num_inference_steps", 0).is_err());
    /// # Ok::<(), sora_core::Error>(())
    /// ```
    pub fn set(&mut self, key: &str, value: impl Into<ParamValue>) -> Result<()> {
        let value = value.into();
        match common_param(key) {
            Some(spec) => {
                let v = spec.check(key, &value)?;
                self.set_common(spec, key, v)
            }
            None => self.keep(key, GivenParam::Value(value)),
        }
    }

    /// Sets the parameter `key` from its text form (`3.5`, `28,29`, `true`,
    /// a string as is): common keys are parsed by their type now, other keys
    /// when the request is resolved, by the family's [`ParamSpec`].
    pub fn set_text(&mut self, key: &str, text: &str) -> Result<()> {
        match common_param(key) {
            Some(spec) => {
                let v = spec.parse(key, text)?;
                self.set_common(spec, key, v)
            }
            None => self.keep(key, GivenParam::Text(text.to_string())),
        }
    }

    /// The non-common parameters given so far, by the name they were given under.
    pub fn extra_params(&self) -> &BTreeMap<String, GivenParam> {
        &self.extra
    }

    fn keep(&mut self, key: &str, given: GivenParam) -> Result<()> {
        check_key(key)?;
        self.extra.insert(key.to_string(), given);
        Ok(())
    }

    /// Writes a checked common value `v` into its typed field.
    fn set_common(&mut self, spec: &ParamSpec, given: &str, v: ParamValue) -> Result<()> {
        match spec.key {
            "prompt" => {
                if let ParamValue::Str(s) = v {
                    self.prompt = s;
                }
            }
            "negative_prompt" => {
                if let ParamValue::Str(s) = v {
                    self.negative_prompt = Some(s);
                }
            }
            "aspect" | "resolution" | "fit" => {
                let ParamValue::Str(text) = &v else {
                    return Err(Error::invalid(format!(
                        "request parameter {} takes a string, got {v}",
                        spec.shown(given)
                    )));
                };
                let named = |e: Error| match e {
                    Error::InvalidRequest(m) => {
                        Error::invalid(format!("request parameter {}: {m}", spec.shown(given)))
                    }
                    other => other,
                };
                match spec.key {
                    "aspect" => self.aspect = Some(text.parse().map_err(named)?),
                    "resolution" => self.resolution = Some(text.parse().map_err(named)?),
                    _ => self.fit = Some(text.parse().map_err(named)?),
                }
            }
            "width" => self.width = Some(as_u32(&v)),
            "height" => self.height = Some(as_u32(&v)),
            "num_frames" => self.frames = Some(as_u32(&v)),
            "seconds" => self.seconds = Some(as_f32(&v)),
            "frame_rate" => self.fps = Some(as_u32(&v)),
            "num_inference_steps" => self.steps = Some(as_u32(&v)),
            "guidance_scale" => self.guidance = Some(as_f32(&v)),
            "guidance_scale_2" => self.guidance_2 = Some(as_f32(&v)),
            "strength" => match &mut self.mode {
                Mode::Video { strength, .. } => *strength = as_f32(&v),
                other => {
                    return Err(Error::invalid(format!(
                        "request parameter {} applies to video-to-video only: give the video first (this request is {})",
                        spec.shown(given),
                        other.name()
                    )))
                }
            },
            "seed" => {
                if let ParamValue::Int(i) = v {
                    self.seed = Some(i as u64);
                }
            }
            "audio" => {
                if let ParamValue::Bool(b) = v {
                    self.audio = Some(b);
                }
            }
            "consent" => {
                if let ParamValue::Str(s) = v {
                    self.consents.push(s);
                }
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "common request parameter `{other}` has no field"
                )))
            }
        }
        Ok(())
    }

    /// Checks the non-common parameters (and `guidance_scale_2`) against the
    /// family's `accepted` list: each value in its declared type, by key.
    pub(crate) fn resolve_params(
        &self,
        accepted: &[ParamSpec],
    ) -> Result<BTreeMap<String, ParamValue>> {
        let listing = || {
            COMMON_PARAMS
                .iter()
                .filter(|s| s.key != GUIDANCE_SCALE_2.key)
                .chain(accepted.iter())
                .map(|s| s.names())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.guidance_2.is_some() && !accepted.iter().any(|s| s.key == GUIDANCE_SCALE_2.key) {
            return Err(Error::invalid(format!(
                "request parameter `guidance_scale_2` is not accepted by this model family (it accepts: {})",
                listing()
            )));
        }
        let mut out = BTreeMap::new();
        let mut given_as: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, given) in &self.extra {
            let spec = accepted
                .iter()
                .find(|s| s.answers_to(name))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "unknown request parameter `{name}`: this model family accepts {}",
                        listing()
                    ))
                })?;
            if let Some(first) = given_as.insert(spec.key, name) {
                return Err(Error::invalid(format!(
                    "request parameter `{}` is given twice (as `{first}` and `{name}`)",
                    spec.key
                )));
            }
            let v = match given {
                GivenParam::Value(v) => spec.check(name, v)?,
                GivenParam::Text(t) => spec.parse(name, t)?,
            };
            out.insert(spec.key.to_string(), v);
        }
        Ok(out)
    }
}

/// Every common parameter, one line each (for `--help`-style listings).
pub fn describe_params(specs: &[ParamSpec]) -> String {
    specs
        .iter()
        .map(|s| s.describe())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::request::{Defaults, VideoInput};
    use ndarray::Array4;

    /// A family parameter like LTX-2's.
    const STG: ParamSpec = ParamSpec {
        key: "stg_scale",
        aliases: &[],
        kind: ParamKind::Float,
        range: ParamRange::at_least(0.0),
        help: "spatio-temporal guidance scale",
    };
    const BLOCKS: ParamSpec = ParamSpec {
        key: "spatio_temporal_guidance_blocks",
        aliases: &[],
        kind: ParamKind::List,
        range: ParamRange::closed(0.0, 47.0),
        help: "blocks perturbed by spatio-temporal guidance",
    };
    const FAMILY: &[ParamSpec] = &[STG, BLOCKS, GUIDANCE_SCALE_2];

    fn defaults(params: &'static [ParamSpec]) -> Defaults {
        Defaults {
            width: 832,
            height: 480,
            frames: 81,
            fps: 16,
            steps: 50,
            guidance: 5.0,
            negative_prompt: String::new(),
            audio: false,
            params,
            preset: Default::default(),
        }
    }

    #[test]
    fn diffusers_keys_and_aliases_set_the_same_fields() {
        let mut a = Request::text("x");
        let mut b = Request::text("x");
        for (k, alias, v) in [
            ("guidance_scale", "guidance", "3.5"),
            ("num_inference_steps", "steps", "12"),
            ("num_frames", "frames", "17"),
            ("frame_rate", "fps", "24"),
            ("guidance_scale_2", "guidance_2", "2"),
        ] {
            a.set_text(k, v).unwrap();
            b.set_text(alias, v).unwrap();
        }
        a.set("width", 64).unwrap();
        a.set("height", 48).unwrap();
        a.set("seed", 9).unwrap();
        a.set("audio", false).unwrap();
        a.set("negative_prompt", "blurry").unwrap();
        a.set_text("seconds", "1.5").unwrap();
        assert_eq!(a.guidance, Some(3.5));
        assert_eq!(a.guidance, b.guidance);
        assert_eq!((a.steps, b.steps), (Some(12), Some(12)));
        assert_eq!((a.frames, b.frames), (Some(17), Some(17)));
        assert_eq!((a.fps, b.fps), (Some(24), Some(24)));
        assert_eq!((a.guidance_2, b.guidance_2), (Some(2.0), Some(2.0)));
        assert_eq!((a.width, a.height, a.seed), (Some(64), Some(48), Some(9)));
        assert_eq!(a.audio, Some(false));
        assert_eq!(a.negative_prompt.as_deref(), Some("blurry"));
        assert_eq!(a.seconds, Some(1.5));
        // An integer is a number; 1/0 is a bool.
        a.set("guidance", 4).unwrap();
        a.set("audio", 1).unwrap();
        assert_eq!((a.guidance, a.audio), (Some(4.0), Some(true)));
    }

    #[test]
    fn text_parses_by_type() {
        assert_eq!(
            BLOCKS.parse("b", " 28, 29 ").unwrap(),
            ParamValue::List(vec![28.0, 29.0])
        );
        assert_eq!(
            BLOCKS.parse("b", "28").unwrap(),
            ParamValue::List(vec![28.0])
        );
        assert_eq!(STG.parse("s", "1").unwrap(), ParamValue::Float(1.0));
        let audio = common_param("audio").unwrap();
        for (t, want) in [("true", true), ("off", false), ("1", true), ("NO", false)] {
            assert_eq!(audio.parse("audio", t).unwrap(), ParamValue::Bool(want));
        }
        for (spec, text) in [
            (&BLOCKS, "28,x"),
            (&BLOCKS, ""),
            (&BLOCKS, "48"),
            (&STG, "fast"),
            (&STG, "nan"),
            (&STG, "inf"),
            (audio, "maybe"),
            (common_param("steps").unwrap(), "2.5"),
        ] {
            let e = spec.parse(spec.key, text).unwrap_err();
            assert!(e.to_string().contains(spec.key), "{text}: {e}");
        }
    }

    #[test]
    fn ranges_and_types_are_checked_when_set_and_leave_the_request_unchanged() {
        let mut r = Request::text("x").steps(7).guidance(2.0).seed(1);
        let before = format!("{r:?}");
        for (k, v) in [
            ("steps", ParamValue::Int(0)),
            ("num_inference_steps", ParamValue::Int(1001)),
            ("steps", ParamValue::Float(2.0)),
            ("width", ParamValue::Int(0)),
            ("height", ParamValue::Int(5_000_000_000)),
            ("frame_rate", ParamValue::Int(241)),
            ("seed", ParamValue::Int(-1)),
            ("audio", ParamValue::Int(2)),
            ("guidance_scale", ParamValue::Float(-0.5)),
            ("guidance", ParamValue::Float(f64::NAN)),
            ("seconds", ParamValue::Float(0.0)),
            ("seconds", ParamValue::Float(601.0)),
            ("prompt", ParamValue::Str("a\0b".into())),
            ("negative_prompt", ParamValue::Int(1)),
            ("strength", ParamValue::Float(0.5)),
            ("Bad Key", ParamValue::Int(1)),
        ] {
            let e = r.set(k, v.clone()).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{k}={v}: {e}");
            assert!(e.to_string().contains(k), "{k}={v}: {e}");
            assert_eq!(format!("{r:?}"), before, "{k}={v} changed the request");
        }
        let e = r.set_text("guidance_scale", "lots").unwrap_err();
        assert!(e.to_string().contains("guidance_scale"));
        assert_eq!(format!("{r:?}"), before);
        // The alias is named with the key it stands for.
        let e = r.set("steps", 0).unwrap_err().to_string();
        assert!(e.contains("`steps` (num_inference_steps)"), "{e}");
    }

    #[test]
    fn strength_sets_the_video_mode_only() {
        let clip = VideoInput {
            frames: Array4::zeros((2, 4, 4, 3)),
            fps: 16.0,
            audio: None,
        };
        let mut r = Request::video(clip, "x", 0.8);
        r.set("strength", 0.3).unwrap();
        assert!(matches!(r.mode, Mode::Video { strength, .. } if (strength - 0.3).abs() < 1e-6));
        assert!(r.set("strength", 0.0).is_err());
        let e = Request::text("x").set("strength", 0.5).unwrap_err();
        assert!(e.to_string().contains("video"), "{e}");
    }

    #[test]
    fn family_keys_are_checked_at_resolve() {
        let mut r = Request::text("x");
        r.set_text("stg_scale", "1.5").unwrap();
        r.set("spatio_temporal_guidance_blocks", vec![28.0, 29.0])
            .unwrap();
        let res = r.resolve(&defaults(FAMILY), |f| f).unwrap();
        assert_eq!(res.params["stg_scale"], ParamValue::Float(1.5));
        assert_eq!(
            res.params["spatio_temporal_guidance_blocks"],
            ParamValue::List(vec![28.0, 29.0])
        );

        // A family that does not declare it: the key and the accepted keys are named.
        let e = r.resolve(&defaults(&[]), |f| f).unwrap_err().to_string();
        assert!(e.contains("`spatio_temporal_guidance_blocks`"), "{e}");
        assert!(e.contains("guidance_scale (guidance)"), "{e}");
        assert!(e.contains("num_inference_steps (steps)"), "{e}");
        let e = Request::text("x")
            .guidance_2(3.0)
            .resolve(&defaults(&[]), |f| f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("guidance_scale_2"), "{e}");
        assert!(Request::text("x")
            .guidance_2(3.0)
            .resolve(&defaults(FAMILY), |f| f)
            .is_ok());

        // A bad value of a family key is found at resolve, naming it.
        let mut bad = Request::text("x");
        bad.set_text("stg_scale", "-1").unwrap();
        let e = bad.resolve(&defaults(FAMILY), |f| f).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)));
        assert!(e.to_string().contains("stg_scale"), "{e}");
        let mut bad = Request::text("x");
        bad.set("stg_scale", "high").unwrap();
        let e = bad.resolve(&defaults(FAMILY), |f| f).unwrap_err();
        assert!(e.to_string().contains("stg_scale"), "{e}");
        let mut unknown = Request::text("x");
        unknown.set("no_such_key", 1).unwrap();
        let e = unknown.resolve(&defaults(FAMILY), |f| f).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("`no_such_key`") && e.contains("stg_scale") && e.contains("width"),
            "{e}"
        );
    }

    #[test]
    fn listing_describes_each_parameter() {
        let text = describe_params(COMMON_PARAMS);
        assert!(text.contains("num_inference_steps (steps): an integer in 1..=1000"));
        assert!(text.contains("strength: a number in (0, 1]"));
        assert_eq!(text.lines().count(), COMMON_PARAMS.len());
    }
}
