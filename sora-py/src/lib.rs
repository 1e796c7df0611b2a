//! The Python module `sora._sora` (re-exported as `sora`): a thin translation
//! of `sora-core` — `Pipeline`, `Clip`, one exception class per
//! `sora_core::ErrorKind`, and the version. No logic lives here that the core
//! lacks; arguments are converted, errors mapped, the GIL released.

mod args;
mod clip;
mod errors;
mod pipeline;

use pyo3::prelude::*;

/// The engine's version (same as `sora.__version__`).
#[pyfunction]
fn version() -> &'static str {
    sora_core::version()
}

/// The native module.
#[pymodule]
fn _sora(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add("__version__", sora_core::version())?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_class::<pipeline::PyPipeline>()?;
    m.add_class::<clip::PyClip>()?;
    Ok(())
}
