//! Request parameters known to this build: the common ones and every
//! registered family's own ([`Family::params`](super::registry::Family::params)). Front doors set parameters through [`set_known`] /
//! [`set_known_text`], which refuse at once a key no family here accepts
//! (a typo), before any model is chosen; whether the loaded family accepts a
//! family key is checked when the request is resolved.

use super::registry::FAMILIES;
use crate::pipeline::param_spec::{ParamSpec, ParamValue};
use crate::pipeline::params::{common_param, COMMON_PARAMS};
use crate::pipeline::request::Request;
use crate::{Error, Result};

/// The parameter `key` names: a common one, or the first family's that
/// declares it.
pub fn find_param(key: &str) -> Option<&'static ParamSpec> {
    common_param(key).or_else(|| {
        FAMILIES
            .iter()
            .flat_map(|f| f.params.iter())
            .find(|s| s.answers_to(key))
    })
}

/// Every parameter this build knows, common ones first, each once.
pub fn known_params() -> Vec<&'static ParamSpec> {
    let mut out: Vec<&'static ParamSpec> = COMMON_PARAMS.iter().collect();
    for f in FAMILIES {
        for s in f.params.iter() {
            if !out.iter().any(|o| o.key == s.key) {
                out.push(s);
            }
        }
    }
    out
}

fn known(key: &str) -> Result<&'static ParamSpec> {
    find_param(key).ok_or_else(|| {
        let names: Vec<String> = known_params().iter().map(|s| s.names()).collect();
        Error::invalid(format!(
            "unknown request parameter `{key}` (known: {})",
            names.join(", ")
        ))
    })
}

/// [`Request::set`] for a key this build knows; an unknown key is
/// [`Error::InvalidRequest`] naming it and listing the known ones, and the
/// request is unchanged.
pub fn set_known(req: &mut Request, key: &str, value: ParamValue) -> Result<()> {
    known(key)?;
    req.set(key, value)
}

/// [`Request::set_text`] for a key this build knows (see [`set_known`]).
pub fn set_known_text(req: &mut Request, key: &str, text: &str) -> Result<()> {
    known(key)?;
    req.set_text(key, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_when_set() {
        let mut r = Request::text("x");
        let e = set_known_text(&mut r, "stepz", "2")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`stepz`") && e.contains("num_inference_steps (steps)"),
            "{e}"
        );
        assert!(r.extra_params().is_empty());
        set_known_text(&mut r, "guidance_scale", "3.5").unwrap();
        set_known(&mut r, "guidance_scale_2", ParamValue::Float(2.0)).unwrap();
        assert_eq!((r.guidance, r.guidance_2), (Some(3.5), Some(2.0)));
        assert_eq!(find_param("fps").map(|s| s.key), Some("frame_rate"));
    }
}
