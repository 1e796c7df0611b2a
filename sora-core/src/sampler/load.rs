//! Builds a scheduler from a diffusers `scheduler_config.json` by its `_class_name`.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::flow_match::{FlowMatchEulerConfig, FlowMatchEulerScheduler};
use super::unipc::{UniPcConfig, UniPcScheduler};
use super::Scheduler;
use crate::{Error, Result};

/// Scheduler classes this build implements (`_class_name` values).
pub const SUPPORTED_SCHEDULERS: &[&str] =
    &["FlowMatchEulerDiscreteScheduler", "UniPCMultistepScheduler"];

/// The scheduler described by the config file at `path` (a diffusers
/// `scheduler_config.json`). A file that is missing, is not JSON or has a
/// mistyped or contradictory field gives [`Error::Config`] naming the file; an
/// unknown `_class_name` or an option this build does not implement gives
/// [`Error::Unsupported`] naming it.
pub fn from_config(path: &Path) -> Result<Box<dyn Scheduler>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    build(&value, path)
}

/// The scheduler described by an already parsed config (same rules as [`from_config`];
/// errors name the config as `<scheduler config>`).
pub fn from_value(v: &serde_json::Value) -> Result<Box<dyn Scheduler>> {
    build(v, Path::new("<scheduler config>"))
}

fn build(v: &serde_json::Value, path: &Path) -> Result<Box<dyn Scheduler>> {
    let config_err = |reason: String| Error::Config {
        path: PathBuf::from(path),
        reason,
    };
    let class = v
        .get("_class_name")
        .ok_or_else(|| config_err("no `_class_name`".into()))?
        .as_str()
        .ok_or_else(|| config_err("`_class_name` is not a string".into()))?;
    // The schedule's tables are allocated from it: bounded before anything is
    // (fuzzing found 2^53 panicking inside LibTorch).
    if let Some(n) = v.get("num_train_timesteps") {
        if !n.as_u64().is_some_and(|n| (1..=1_000_000).contains(&n)) {
            return Err(config_err(format!(
                "`num_train_timesteps` is {n}; it must be an integer in 1..=1000000"
            )));
        }
    }
    // Contradictory values (diffusers' ValueError) are config errors of this file.
    let in_file = |e: Error| match e {
        Error::InvalidRequest(reason) => config_err(reason),
        other => other,
    };
    match class {
        "FlowMatchEulerDiscreteScheduler" => {
            let c: FlowMatchEulerConfig = parse(v, path)?;
            Ok(Box::new(FlowMatchEulerScheduler::new(c).map_err(in_file)?))
        }
        "UniPCMultistepScheduler" => {
            let c: UniPcConfig = parse(v, path)?;
            Ok(Box::new(UniPcScheduler::new(c).map_err(in_file)?))
        }
        other => Err(Error::Unsupported(format!(
            "scheduler class `{other}` (supported: {})",
            SUPPORTED_SCHEDULERS.join(", ")
        ))),
    }
}

fn parse<T: DeserializeOwned>(v: &serde_json::Value, path: &Path) -> Result<T> {
    T::deserialize(v).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_class_is_unsupported_and_named() {
        let v = serde_json::json!({"_class_name": "DDIMScheduler"});
        let e = from_value(&v).err().unwrap();
        assert!(matches!(&e, Error::Unsupported(m) if m.contains("DDIMScheduler")));
    }

    #[test]
    fn bad_field_type_is_a_config_error() {
        let v =
            serde_json::json!({"_class_name": "UniPCMultistepScheduler", "solver_order": "two"});
        assert!(matches!(from_value(&v), Err(Error::Config { .. })));
        let v = serde_json::json!({"shift": 3.0});
        assert!(matches!(from_value(&v), Err(Error::Config { .. })));
    }

    #[test]
    fn unparsable_file_names_its_path() {
        let dir = std::env::temp_dir().join(format!("sora-sched-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("scheduler_config.json");
        std::fs::write(&p, "{ not json").unwrap();
        let e = from_config(&p).err().unwrap();
        assert!(matches!(&e, Error::Config { path, .. } if path == &p));
        let e = from_config(&dir.join("absent.json")).err().unwrap();
        assert!(matches!(&e, Error::Config { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wan_config_loads() {
        let v = serde_json::json!({
            "_class_name": "UniPCMultistepScheduler", "_diffusers_version": "0.33.0",
            "prediction_type": "flow_prediction", "use_flow_sigmas": true, "flow_shift": 3.0,
            "solver_p": null, "trained_betas": null, "disable_corrector": []
        });
        let mut s = from_value(&v).unwrap();
        s.set_timesteps(50).unwrap();
        assert_eq!(s.timesteps().size(), [50]);
    }
}
