//! Status codes, the thread-local last-error message, and the `ffi_boundary!`
//! macro that every entry point runs its body through (so that no Rust panic
//! ever unwinds into C).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use sora_core::ErrorKind;

/// The result of every sora call that can fail. `SORA_OK` is 0; every other
/// value comes with a message from `sora_last_error()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sora_status {
    /// Success.
    SORA_OK = 0,
    /// A NULL pointer, a string that is not UTF-8, an unknown request key, or a
    /// request value no model accepts.
    SORA_ERR_INVALID_ARGUMENT = 1,
    /// The model folder, a config file or the weights are missing, unreadable,
    /// or of an unknown model family.
    SORA_ERR_WEIGHTS = 2,
    /// Something this build of sora does not do (yet).
    SORA_ERR_UNSUPPORTED = 3,
    /// The run was cancelled (progress callback returned 0, or the cancel
    /// handle was triggered).
    SORA_ERR_CANCELLED = 4,
    /// The device is unavailable, failed, or out of memory.
    SORA_ERR_DEVICE = 5,
    /// Reading or writing a file (image, video, audio, MP4) failed.
    SORA_ERR_IO = 6,
    /// Any other failure while running (LibTorch error, NaN in the output, ...).
    SORA_ERR_RUNTIME = 7,
    /// A bug: sora panicked. The panic was caught at the boundary; the handles
    /// passed to the call should be freed and not reused.
    SORA_ERR_PANIC = 8,
    /// The prompt gate refused the request: it names a registered real
    /// person and carries no valid consent of theirs for this pipeline's owner.
    SORA_ERR_CONSENT_REQUIRED = 9,
    /// The prompt gate refused the request: it names a protected character.
    SORA_ERR_PROTECTED_CONTENT = 10,
}

impl sora_status {
    /// The status of a core error kind (one to one).
    pub fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidRequest => sora_status::SORA_ERR_INVALID_ARGUMENT,
            ErrorKind::Weights => sora_status::SORA_ERR_WEIGHTS,
            ErrorKind::Unsupported => sora_status::SORA_ERR_UNSUPPORTED,
            ErrorKind::Cancelled => sora_status::SORA_ERR_CANCELLED,
            ErrorKind::Device => sora_status::SORA_ERR_DEVICE,
            ErrorKind::Io => sora_status::SORA_ERR_IO,
            ErrorKind::Runtime => sora_status::SORA_ERR_RUNTIME,
            ErrorKind::ConsentRequired => sora_status::SORA_ERR_CONSENT_REQUIRED,
            ErrorKind::ProtectedContent => sora_status::SORA_ERR_PROTECTED_CONTENT,
        }
    }
}

/// Every status with its name (NUL-terminated).
const NAMES: [(sora_status, &[u8]); 11] = [
    (sora_status::SORA_OK, b"SORA_OK\0"),
    (
        sora_status::SORA_ERR_INVALID_ARGUMENT,
        b"SORA_ERR_INVALID_ARGUMENT\0",
    ),
    (sora_status::SORA_ERR_WEIGHTS, b"SORA_ERR_WEIGHTS\0"),
    (sora_status::SORA_ERR_UNSUPPORTED, b"SORA_ERR_UNSUPPORTED\0"),
    (sora_status::SORA_ERR_CANCELLED, b"SORA_ERR_CANCELLED\0"),
    (sora_status::SORA_ERR_DEVICE, b"SORA_ERR_DEVICE\0"),
    (sora_status::SORA_ERR_IO, b"SORA_ERR_IO\0"),
    (sora_status::SORA_ERR_RUNTIME, b"SORA_ERR_RUNTIME\0"),
    (sora_status::SORA_ERR_PANIC, b"SORA_ERR_PANIC\0"),
    (
        sora_status::SORA_ERR_CONSENT_REQUIRED,
        b"SORA_ERR_CONSENT_REQUIRED\0",
    ),
    (
        sora_status::SORA_ERR_PROTECTED_CONTENT,
        b"SORA_ERR_PROTECTED_CONTENT\0",
    ),
];

/// The name of status value `v` as a NUL-terminated static string.
pub(crate) fn name_of(v: c_int) -> &'static [u8] {
    NAMES
        .iter()
        .find(|(s, _)| *s as c_int == v)
        .map_or(b"SORA_ERR_UNKNOWN\0", |(_, n)| n)
}

/// Why an entry point failed, before it becomes a status and a message.
#[derive(Debug)]
pub(crate) enum FfiError {
    /// An error from the engine.
    Core(sora_core::Error),
    /// A bad argument caught by this layer (NULL, not UTF-8, unknown key, out of range).
    Arg(String),
}

impl From<sora_core::Error> for FfiError {
    fn from(e: sora_core::Error) -> Self {
        FfiError::Core(e)
    }
}

/// Result type of the bodies run inside `ffi_boundary!`.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

/// Shorthand for a bad-argument error.
pub(crate) fn arg_err(msg: impl Into<String>) -> FfiError {
    FfiError::Arg(msg.into())
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Sets this thread's last-error message (NUL bytes inside are replaced).
pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The message's address; valid until the next call on this thread changes it.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs the body of entry point `name`: clears the last error, catches panics,
/// turns the outcome into a status and sets the message on failure.
pub(crate) fn run(name: &str, body: impl FnOnce() -> FfiResult<()>) -> sora_status {
    set_last_error("");
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => sora_status::SORA_OK,
        Ok(Err(FfiError::Core(e))) => {
            set_last_error(&e.to_string());
            sora_status::from_kind(e.kind())
        }
        Ok(Err(FfiError::Arg(msg))) => {
            set_last_error(&format!("{name}: {msg}"));
            sora_status::SORA_ERR_INVALID_ARGUMENT
        }
        Err(payload) => {
            set_last_error(&format!(
                "{name}: internal panic: {}",
                panic_message(&*payload)
            ));
            sora_status::SORA_ERR_PANIC
        }
    }
}

/// Wraps the body of an `extern "C"` entry point: `ffi_boundary!("sora_x", { ...; Ok(()) })`.
/// The body returns `FfiResult<()>`; no panic leaves it.
macro_rules! ffi_boundary {
    ($name:literal, $body:block) => {
        $crate::status::run($name, move || -> $crate::status::FfiResult<()> { $body })
    };
}

/// Drops a boxed handle made by `Box::into_raw`; NULL does nothing; a panic in
/// a destructor is swallowed (a free function cannot report it).
///
/// # Safety
/// `p` is NULL or came from `Box::into_raw` and is not used afterwards.
pub(crate) unsafe fn free_boxed<T>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(p))));
}
