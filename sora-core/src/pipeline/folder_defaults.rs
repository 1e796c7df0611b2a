//! A model folder's own request defaults: an optional `sora_defaults.json`
//! beside `model_index.json` that changes the family's defaults for the
//! requests run on that folder (a model trained at 64×64, 25 frames and
//! 12 fps, with a short prompt length, asks for those unless the request
//! says otherwise). Fields, all optional: `width`, `height`, `frames`, `fps`,
//! `steps`, `guidance`, `negative_prompt`, `audio`, and `params` (request
//! parameters of the family by name, checked as `--set` values are). The
//! request's own values always win.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::request::Defaults;
use crate::weights::read_config;
use crate::{Error, Result};

/// The file's name in a model folder.
pub const FILE: &str = "sora_defaults.json";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FolderDefaults {
    width: Option<u32>,
    height: Option<u32>,
    frames: Option<u32>,
    fps: Option<u32>,
    steps: Option<u32>,
    guidance: Option<f32>,
    negative_prompt: Option<String>,
    audio: Option<bool>,
    #[serde(default)]
    params: BTreeMap<String, Value>,
}

/// `base` with the folder `root`'s `sora_defaults.json` applied (`base`
/// itself when the folder has none). A malformed file, an unknown field or
/// parameter, or a value the parameter refuses is an [`Error::Config`].
pub fn apply(root: &Path, mut base: Defaults) -> Result<Defaults> {
    let path = root.join(FILE);
    if !path.is_file() {
        return Ok(base);
    }
    let bad = |reason: String| Error::Config {
        path: path.clone(),
        reason,
    };
    let v: Value = read_config(&path)?;
    let f: FolderDefaults = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
    base.width = f.width.unwrap_or(base.width);
    base.height = f.height.unwrap_or(base.height);
    base.frames = f.frames.unwrap_or(base.frames);
    base.fps = f.fps.unwrap_or(base.fps);
    base.steps = f.steps.unwrap_or(base.steps);
    base.guidance = f.guidance.unwrap_or(base.guidance);
    base.audio = f.audio.unwrap_or(base.audio);
    if let Some(n) = f.negative_prompt {
        base.negative_prompt = n;
    }
    if [base.width, base.height, base.frames, base.fps, base.steps].contains(&0)
        || !base.guidance.is_finite()
    {
        return Err(bad(
            "width, height, frames, fps and steps must be positive, guidance finite".into(),
        ));
    }
    for (name, value) in f.params {
        let spec = base
            .params
            .iter()
            .find(|s| s.answers_to(&name))
            .ok_or_else(|| bad(format!("`{name}` is not a parameter of this model family")))?;
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let parsed = spec.parse(&name, &text).map_err(|e| bad(e.to_string()))?;
        base.preset.insert(spec.key.to_string(), parsed);
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::param_spec::ParamValue;

    fn base() -> Defaults {
        crate::models::ltx2::rules::ltx2_defaults()
    }

    fn folder(name: &str, text: Option<&str>) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sora-fdef-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        if let Some(t) = text {
            std::fs::write(d.join(FILE), t).unwrap();
        }
        d
    }

    #[test]
    fn a_folder_changes_its_defaults_and_parameters() {
        let d = folder(
            "ok",
            Some(
                r#"{"width": 64, "height": 64, "frames": 25, "fps": 12, "steps": 20,
                     "params": {"max_sequence_length": 32, "stg_scale": 0, "use_cross_timestep": "false"}}"#,
            ),
        );
        let got = apply(&d, base()).unwrap();
        assert_eq!(
            (got.width, got.height, got.frames, got.fps, got.steps),
            (64, 64, 25, 12, 20)
        );
        assert_eq!(got.guidance, base().guidance);
        assert_eq!(got.preset.get("stg_scale"), Some(&ParamValue::Float(0.0)));
        assert!(got.preset.contains_key("max_sequence_length"));
        assert!(got.preset.contains_key("use_cross_timestep"));
        let none = folder("none", None);
        assert!(apply(&none, base()).unwrap().preset.is_empty());
        for (name, text) in [
            ("unknown", r#"{"colour": 1}"#),
            ("param", r#"{"params": {"nope": 1}}"#),
            ("value", r#"{"params": {"stg_scale": "loud"}}"#),
            ("zero", r#"{"fps": 0}"#),
            ("json", "{"),
        ] {
            let d = folder(name, Some(text));
            assert!(
                matches!(apply(&d, base()), Err(Error::Config { .. })),
                "{name}"
            );
            std::fs::remove_dir_all(d).ok();
        }
        std::fs::remove_dir_all(d).ok();
        std::fs::remove_dir_all(none).ok();
    }
}
