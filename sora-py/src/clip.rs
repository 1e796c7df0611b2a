//! `sora.Clip`: a generated clip as numpy arrays (frames, audio), its rates and
//! metadata, and `save(path)` through the core's writer.

use std::path::PathBuf;

use ndarray::{Ix2, Ix4};
use numpy::{PyArray, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sora_core::{Clip, ClipMeta};

use crate::args;
use crate::errors::guard;

/// A generated clip. `frames` and `audio` are read-only numpy arrays (copy them
/// to edit); `save` writes what they hold.
#[pyclass(name = "Clip", module = "sora", frozen, skip_from_py_object)]
pub struct PyClip {
    frames: Py<PyArray<u8, Ix4>>,
    audio: Option<Py<PyArray<f32, Ix2>>>,
    fps: f32,
    sample_rate: u32,
    meta: ClipMeta,
    meta_json: String,
}

/// Marks a numpy array read-only.
fn freeze(a: &Bound<'_, PyAny>) -> PyResult<()> {
    a.getattr("flags")?.setattr("writeable", false)
}

impl PyClip {
    /// Moves a core clip's arrays into numpy (no copy).
    pub fn from_core(py: Python<'_>, clip: Clip) -> PyResult<Self> {
        let meta_json = clip.meta_json();
        let frames = PyArray::from_owned_array(py, clip.frames);
        freeze(frames.as_any())?;
        let audio = match clip.audio {
            Some(a) => {
                let a = PyArray::from_owned_array(py, a);
                freeze(a.as_any())?;
                Some(a.unbind())
            }
            None => None,
        };
        Ok(Self {
            frames: frames.unbind(),
            audio,
            fps: clip.fps,
            sample_rate: clip.sample_rate,
            meta: clip.meta,
            meta_json,
        })
    }

    /// A core clip holding copies of this clip's arrays.
    fn to_core(&self, py: Python<'_>) -> PyResult<Clip> {
        let frames = self.frames.bind(py).try_readonly()?.as_array().to_owned();
        let audio = match &self.audio {
            Some(a) => Some(a.bind(py).try_readonly()?.as_array().to_owned()),
            None => None,
        };
        Ok(Clip {
            frames,
            audio,
            fps: self.fps,
            sample_rate: self.sample_rate,
            meta: self.meta.clone(),
        })
    }
}

impl PyClip {
    /// The clip as a request input (`extend=`, `video=`): its frames, rate
    /// and audio track (copied), so a continuation keeps its sound.
    pub fn video_input(&self, py: Python<'_>) -> PyResult<sora_core::VideoInput> {
        let frames = self.frames.bind(py).try_readonly()?.as_array().to_owned();
        let mut input = sora_core::VideoInput::new(frames, self.fps);
        if let Some(a) = &self.audio {
            let samples = a.bind(py).try_readonly()?.as_array().to_owned();
            input = input.with_audio(sora_core::SourceAudio::new(samples, self.sample_rate));
        }
        Ok(input)
    }
}

#[pymethods]
impl PyClip {
    /// RGB frames, numpy uint8 `[T, H, W, 3]` (read-only).
    #[getter]
    fn frames(&self, py: Python<'_>) -> Py<PyArray<u8, Ix4>> {
        self.frames.clone_ref(py)
    }

    /// Audio, numpy float32 `[channels, samples]` in [-1, 1], or None.
    #[getter]
    fn audio(&self, py: Python<'_>) -> Option<Py<PyArray<f32, Ix2>>> {
        self.audio.as_ref().map(|a| a.clone_ref(py))
    }

    /// Frames per second.
    #[getter]
    fn fps(&self) -> f32 {
        self.fps
    }

    /// Audio sample rate in Hz (0 when there is no audio).
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// How the clip was made (model, prompt, seed, sizes, timings, …), a fresh dict.
    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        py.import("json")?
            .call_method1("loads", (&self.meta_json,))?
            .cast_into::<PyDict>()
            .map_err(Into::into)
    }

    /// Writes the clip by the extension of `path`: `.mp4` (video + audio),
    /// `.wav` (audio only), `.png`, or a folder for a PNG sequence.
    fn save(&self, py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<()> {
        let path: PathBuf = args::path("path", path)?;
        let clip = self.to_core(py)?;
        py.detach(move || guard(|| clip.save(&path)))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let s = self.frames.bind(py).shape().to_vec();
        let audio = match &self.audio {
            Some(_) => format!("{} Hz", self.sample_rate),
            None => "None".into(),
        };
        format!(
            "sora.Clip(frames={}, width={}, height={}, fps={}, audio={audio}, seed={})",
            s[0], s[2], s[1], self.fps, self.meta.seed
        )
    }
}
