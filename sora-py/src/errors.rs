//! Python exception classes, one per `sora_core::ErrorKind`, and the
//! translation of core errors and Rust panics into them.
//!
//! The classes are defined in Python source run into the module's namespace at
//! import time (PyO3's `create_exception!` takes one base, and
//! `InvalidRequestError` needs two: `SoraError` and `ValueError`).

use std::any::Any;
use std::ffi::CStr;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use sora_core::{Error, ErrorKind};

/// The module that holds the classes at run time.
const MODULE: &str = "sora._sora";

/// Python source defining every exception class (run in the module's namespace).
const CLASSES: &CStr = cr#"
class SoraError(Exception):
    """Base class of every error raised by sora."""
    __module__ = "sora"

class InvalidRequestError(SoraError, ValueError):
    """The request or an argument is invalid (bad size, value, dtype, shape, missing input)."""
    __module__ = "sora"

class WeightsError(SoraError):
    """The model folder, a config file or the weights are missing, corrupt or do not match."""
    __module__ = "sora"

class UnsupportedError(SoraError):
    """Something this build of sora does not do (yet)."""
    __module__ = "sora"

class DeviceError(SoraError):
    """A device is unavailable or failed, or the request does not fit in memory."""
    __module__ = "sora"

class SafetyError(SoraError):
    """A request or output was refused by a safety check."""
    __module__ = "sora"

class ConsentRequiredError(SafetyError):
    """The prompt names a registered real person and the request carries no valid consent (cameo) of theirs."""
    __module__ = "sora"

class ProtectedContentError(SafetyError):
    """The prompt names a protected character (a rights holder's opt-out)."""
    __module__ = "sora"

class CancelledError(SoraError):
    """The run was cancelled (on_step returned False, or Pipeline.cancel() was called)."""
    __module__ = "sora"

class MediaError(SoraError):
    """Reading or writing media or files (images, audio, MP4) failed."""
    __module__ = "sora"

class RuntimeSoraError(SoraError, RuntimeError):
    """A failure while running (LibTorch error, NaN/inf in a tensor, internal error)."""
    __module__ = "sora"
"#;

/// Defines the exception classes in module `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.py().run(CLASSES, Some(&m.dict()), None)
}

/// One Python exception class, looked up once.
pub struct Class {
    name: &'static str,
    cell: PyOnceLock<Py<PyType>>,
}

impl Class {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            cell: PyOnceLock::new(),
        }
    }

    /// An exception of this class with message `msg`.
    pub fn err(&self, msg: impl Into<String>) -> PyErr {
        let msg = msg.into();
        Python::attach(|py| match self.cell.import(py, MODULE, self.name) {
            Ok(ty) => PyErr::from_type(ty.clone(), msg),
            Err(e) => e,
        })
    }
}

/// `sora.SoraError`.
pub static SORA_ERROR: Class = Class::new("SoraError");
/// `sora.InvalidRequestError`.
pub static INVALID_REQUEST: Class = Class::new("InvalidRequestError");
/// `sora.WeightsError`.
pub static WEIGHTS: Class = Class::new("WeightsError");
/// `sora.UnsupportedError`.
pub static UNSUPPORTED: Class = Class::new("UnsupportedError");
/// `sora.DeviceError`.
pub static DEVICE: Class = Class::new("DeviceError");
/// `sora.CancelledError`.
pub static CANCELLED: Class = Class::new("CancelledError");
/// `sora.MediaError`.
pub static MEDIA: Class = Class::new("MediaError");
/// `sora.ConsentRequiredError`.
pub static CONSENT_REQUIRED: Class = Class::new("ConsentRequiredError");
/// `sora.ProtectedContentError`.
pub static PROTECTED_CONTENT: Class = Class::new("ProtectedContentError");
/// `sora.RuntimeSoraError`.
pub static RUNTIME: Class = Class::new("RuntimeSoraError");

/// The class for a core error kind (one to one).
pub fn class_of(kind: ErrorKind) -> &'static Class {
    match kind {
        ErrorKind::InvalidRequest => &INVALID_REQUEST,
        ErrorKind::Weights => &WEIGHTS,
        ErrorKind::Unsupported => &UNSUPPORTED,
        ErrorKind::Cancelled => &CANCELLED,
        ErrorKind::Device => &DEVICE,
        ErrorKind::Io => &MEDIA,
        ErrorKind::Runtime => &RUNTIME,
        ErrorKind::ConsentRequired => &CONSENT_REQUIRED,
        ErrorKind::ProtectedContent => &PROTECTED_CONTENT,
    }
}

/// Translates a core error into its Python exception.
pub fn to_py(e: Error) -> PyErr {
    class_of(e.kind()).err(e.to_string())
}

/// `sora.InvalidRequestError(msg)`.
pub fn invalid(msg: impl Into<String>) -> PyErr {
    INVALID_REQUEST.err(msg)
}

/// A `sora.SoraError` for a Rust panic caught at the boundary.
pub fn from_panic(payload: Box<dyn Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    SORA_ERROR.err(format!(
        "internal error (a bug in sora, please report it): {what}"
    ))
}

/// Runs `f`, turning a panic into a `SoraError` and a core error into its class.
pub fn guard<T>(f: impl FnOnce() -> sora_core::Result<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(p) => Err(from_panic(p)),
    }
}
