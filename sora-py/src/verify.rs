//! `verify_json(path, trust_anchors=None)`: the watermark and content
//! credentials report of a clip (what `sora verify --json` prints), read
//! without the GIL.

use pyo3::prelude::*;

use crate::args;
use crate::errors::guard;

/// The verification report of the clip at `path` as a JSON string:
/// `{"watermark": {...}, "audio_watermark": {...}, "credentials": {...}}`.
/// `trust_anchors` (a PEM file of CA certificates) makes credentials signed
/// under one of them `trusted`.
#[pyfunction]
#[pyo3(signature = (path, trust_anchors=None))]
pub fn verify_json(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    trust_anchors: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let path = args::path("path", path)?;
    let anchors = trust_anchors
        .filter(|a| !a.is_none())
        .map(|a| args::path("trust_anchors", a))
        .transpose()?;
    py.detach(|| {
        guard(|| {
            let pem = match &anchors {
                Some(p) => {
                    Some(std::fs::read_to_string(p).map_err(|e| sora_core::Error::io(p, e))?)
                }
                None => None,
            };
            sora_core::safety::verify_with(&path, pem.as_deref()).map(|r| r.to_json())
        })
    })
}
