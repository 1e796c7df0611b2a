//! The C ABI of sora: `libsora.so` / `libsora.a` and the header `include/sora.h`
//! (generated from this crate by cbindgen: `scripts/check_header.sh --update`).
//!
//! A thin translation over `sora-core`: opaque handles (`sora_pipeline`,
//! `sora_request`, `sora_clip`, `sora_cancel`), every fallible call returns a
//! `sora_status` and leaves a message for `sora_last_error()` (per thread), and
//! every entry point runs inside `ffi_boundary!` (`catch_unwind`) so that no
//! panic crosses into C. Every pointer argument is checked for NULL, and every
//! string for UTF-8.
//!
//! # Safety (shared by every `extern "C"` function here)
//! Each pointer argument is NULL (refused with `SORA_ERR_INVALID_ARGUMENT`
//! unless documented as nullable) or valid for what its type says: a handle
//! made by this library and not yet freed, a NUL-terminated string, an
//! out-parameter valid for one write, a buffer of the documented length. The
//! C header states this once instead of per function, hence the allow below.
#![allow(clippy::missing_safety_doc)]

#[macro_use]
mod status;
mod args;
mod cancel;
mod clip;
mod estimate;
mod gate;
mod generate;
mod media;
mod physics;
mod pipeline;
mod request;
mod verify;

#[cfg(test)]
mod tests;

use std::ffi::{c_char, c_int};

pub use cancel::*;
pub use clip::*;
pub use estimate::*;
pub use gate::*;
pub use generate::*;
pub use physics::*;
pub use pipeline::*;
pub use request::*;
pub use status::sora_status;
pub use verify::*;

/// The engine's version, e.g. `"0.1.0"` (a static string).
#[no_mangle]
pub extern "C" fn sora_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on this thread (UTF-8, never NULL;
/// `""` after a call that succeeded). Valid until the next sora call on this
/// thread.
#[no_mangle]
pub extern "C" fn sora_last_error() -> *const c_char {
    status::last_error_ptr()
}

/// The name of a status code (`"SORA_OK"`, `"SORA_ERR_WEIGHTS"`, ...; a static
/// string; `"SORA_ERR_UNKNOWN"` for a value that is no `sora_status`).
#[no_mangle]
pub extern "C" fn sora_status_name(status: c_int) -> *const c_char {
    status::name_of(status).as_ptr().cast()
}
