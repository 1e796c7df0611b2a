//! `sora.safety.check_prompt`: the prompt gate on a text against a consent
//! registry file, with no model (the surface of `sora check-prompt`).

use pyo3::prelude::*;
use sora_core::safety::gate::{check_prompt as gate_check, Credentials};
use sora_core::safety::registry::Registry;

use crate::args;
use crate::errors::{guard, invalid};

/// Checks `text` against the registry file `registry` as a request with
/// the consent id(s) `consent` (a str or a list of str) on a pipeline with
/// owner key `owner` would be. Returns the decision as a dict (that of
/// `sora check-prompt --json`): `allowed`, `normalized`, and `matches`, one
/// per registered name found, with `kind`, `entry`, `alias`, `matched`,
/// `how`, `distance`, `consent` and `refused`. Does not raise on a refusal
/// (a pipeline does: `ConsentRequiredError`, `ProtectedContentError`); a
/// bad registry raises `InvalidRequestError`, an unreadable one `MediaError`.
#[pyfunction]
#[pyo3(signature = (text, registry, consent=None, owner=None))]
pub fn check_prompt<'py>(
    py: Python<'py>,
    text: &str,
    registry: &Bound<'_, PyAny>,
    consent: Option<&Bound<'_, PyAny>>,
    owner: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let path = args::path("registry", registry)?;
    let consents: Vec<String> = match consent {
        None => Vec::new(),
        Some(c) if c.is_none() => Vec::new(),
        Some(c) => {
            if let Ok(s) = c.extract::<String>() {
                vec![s]
            } else if let Ok(v) = c.extract::<Vec<String>>() {
                v
            } else {
                return Err(invalid("consent must be a str or a list of str"));
            }
        }
    };
    let text = text.to_string();
    let json = py.detach(|| {
        guard(|| {
            let reg = Registry::load(&path)?;
            let cred = Credentials::new(owner.as_deref(), &consents);
            Ok(gate_check(&reg, &text, &cred).to_json())
        })
    })?;
    py.import("json")?.call_method1("loads", (json,))
}
