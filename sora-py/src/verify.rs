//! `verify_json(path)`: the watermark report of a clip (what `sora verify
//! --json` prints), read without the GIL.

use pyo3::prelude::*;

use crate::args;
use crate::errors::guard;

/// The verification report of the clip at `path` as a JSON string:
/// `{"watermark": {...}, "audio_watermark": {...}, "credentials": {...}}`.
#[pyfunction]
pub fn verify_json(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<String> {
    let path = args::path("path", path)?;
    py.detach(|| guard(|| sora_core::safety::verify(&path).map(|r| r.to_json())))
}
