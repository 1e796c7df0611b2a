//! `sora.physics.score`: the physics report of frames in memory (and
//! optionally their sound and a reference continuation) as a dict of the
//! same structure as `sora score --json`.

use ndarray::{Array2, Ix1, Ix2};
use numpy::{PyArray, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sora_core::physics::{score, ScoreInput};

use crate::args;
use crate::errors::{self, invalid};

/// Audio as a numpy float32 array `[C, S]` or `[S]` (one channel), copied.
fn audio_array(obj: &Bound<'_, PyAny>) -> PyResult<Array2<f32>> {
    const WHAT: &str = "audio must be a numpy float32 array [channels, samples] or [samples]";
    let a = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
    let a = a
        .cast_into::<PyUntypedArray>()
        .map_err(|_| invalid(WHAT.to_string()))?;
    let shape = a.shape().to_vec();
    if let Ok(a1) = a.cast::<PyArray<f32, Ix1>>() {
        let v = a1.try_readonly()?.as_array().to_owned();
        return Ok(v.insert_axis(ndarray::Axis(0)));
    }
    if let Ok(a2) = a.cast::<PyArray<f32, Ix2>>() {
        return Ok(a2.try_readonly()?.as_array().to_owned());
    }
    Err(invalid(format!(
        "{WHAT}, got shape {shape:?} of dtype {}",
        a.dtype()
    )))
}

/// The physics report of a clip: `frames` numpy uint8 `[T, H, W, 3]` at
/// `fps`; `audio` float32 `[C, S]` or `[S]` in [-1, 1] at `sample_rate` Hz
/// (required with audio); `reference` a continuation of the same scene
/// (uint8 `[T, H, W, 3]`, same frame size) for the Physics-IQ metrics.
/// Returns `{"metrics": {name: float or None}, "findings": [{"kind",
/// "start_frame", "end_frame", "track", "value", "threshold"}, ...]}`, the
/// structure of `sora score --json` (docs/physics.md).
#[pyfunction]
#[pyo3(signature = (frames, audio=None, fps=16.0, sample_rate=None, *, reference=None))]
pub fn physics_score<'py>(
    py: Python<'py>,
    frames: &Bound<'_, PyAny>,
    audio: Option<&Bound<'_, PyAny>>,
    fps: f32,
    sample_rate: Option<u32>,
    reference: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let frames = args::frames("frames", frames)?;
    let audio = audio
        .filter(|a| !a.is_none())
        .map(audio_array)
        .transpose()?;
    let reference = reference
        .filter(|r| !r.is_none())
        .map(|r| args::frames("reference", r))
        .transpose()?;
    let json = py.detach(|| {
        errors::guard(|| {
            let input = ScoreInput {
                frames: frames.view(),
                fps,
                audio: audio.as_ref().map(|a| a.view()),
                sample_rate: sample_rate.unwrap_or(0),
                reference: reference.as_ref().map(|r| r.view()),
            };
            Ok(score(&input)?.to_json())
        })
    })?;
    py.import("json")?
        .call_method1("loads", (json,))?
        .cast_into::<PyDict>()
        .map_err(Into::into)
}
