//! The Python module `sora._sora` (re-exported as `sora`): a thin translation
//! of `sora-core` — `Pipeline`, `Clip`, one exception class per
//! `sora_core::ErrorKind`, and the version. No logic lives here that the core
//! lacks; arguments are converted, errors mapped, the GIL released.

mod args;
mod clip;
mod errors;
mod gate;
mod physics;
mod pipeline;
mod verify;

use pyo3::prelude::*;

/// The engine's version (same as `sora.__version__`).
#[pyfunction]
fn version() -> &'static str {
    sora_core::version()
}

/// The memory a text-to-video request needs with the model folder `model`
/// loaded with these options (those of `sora.Pipeline`), from the folder's
/// configs and safetensors headers alone — nothing is loaded — as a dict
/// (MiB per weight, activation and phase, `total_mb`, `peak_phase`, ...;
/// the loading phase included). Unset sizes take the family's defaults.
#[pyfunction]
#[pyo3(signature = (model=None, device="cpu", dtype="float32", *, batch_guidance=true, step_cache=None, offload_text_encoder=false, vae_tiling=None, vae_frame_tiling=None, offload=None, width=None, height=None, frames=None, seconds=None, steps=None, guidance=None))]
#[allow(clippy::too_many_arguments)] // one per Python keyword
fn estimate<'py>(
    py: Python<'py>,
    model: Option<&Bound<'_, PyAny>>,
    device: &str,
    dtype: &str,
    batch_guidance: bool,
    step_cache: Option<f32>,
    offload_text_encoder: bool,
    vae_tiling: Option<&Bound<'_, PyAny>>,
    vae_frame_tiling: Option<&Bound<'_, PyAny>>,
    offload: Option<String>,
    width: Option<&Bound<'_, PyAny>>,
    height: Option<&Bound<'_, PyAny>>,
    frames: Option<&Bound<'_, PyAny>>,
    seconds: Option<&Bound<'_, PyAny>>,
    steps: Option<&Bound<'_, PyAny>>,
    guidance: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let o = pipeline::Options::parse(
        model,
        device,
        dtype,
        None,
        batch_guidance,
        step_cache,
        None,
        offload_text_encoder,
        vae_tiling,
        vae_frame_tiling,
        offload,
        None,
        None,
    )?;
    let mut req = sora_core::Request::text("");
    req.width = args::opt_uint("width", width)?;
    req.height = args::opt_uint("height", height)?;
    req.frames = args::opt_uint("frames", frames)?;
    req.seconds = args::opt_f32("seconds", seconds)?;
    req.steps = args::opt_uint("steps", steps)?;
    req.guidance = args::opt_f32("guidance", guidance)?;
    let est = py.detach(|| errors::guard(|| o.builder()?.estimate(&req)))?;
    pipeline::estimate_dict(py, &est)
}

/// The native module.
#[pymodule]
fn _sora(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add("__version__", sora_core::version())?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(physics::physics_score, m)?)?;
    m.add_function(wrap_pyfunction!(gate::check_prompt, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify_json, m)?)?;
    m.add_class::<pipeline::PyPipeline>()?;
    m.add_class::<clip::PyClip>()?;
    Ok(())
}
