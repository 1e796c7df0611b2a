//! Checks on the raw pointers C passes in: NULL, UTF-8, out-parameters.
//! Every pointer argument of every entry point goes through one of these.

use std::ffi::{c_char, CStr, CString};

use crate::status::{arg_err, FfiResult};

/// A required NUL-terminated UTF-8 string argument named `what`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(arg_err(format!("argument `{what}` is NULL")));
    }
    let bytes = CStr::from_ptr(p);
    bytes.to_str().map_err(|e| {
        arg_err(format!(
            "argument `{what}` is not valid UTF-8 (bad byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Hands `json` to C through `out` as a new string (freed with
/// `sora_string_free`); a NUL inside (never in JSON text) is escaped.
///
/// # Safety
/// `out` is valid for one write.
pub(crate) unsafe fn give_string(out: &mut *mut c_char, json: String) {
    let s = CString::new(json.replace('\0', "\\u0000")).unwrap_or_default();
    *out = s.into_raw();
}

/// An optional string argument: NULL gives `None`, otherwise as [`str_arg`].
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(Some)
    }
}

/// A required handle passed for reading.
///
/// # Safety
/// `p` is NULL or a live handle made by this library.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    p.as_ref()
        .ok_or_else(|| arg_err(format!("argument `{what}` is NULL")))
}

/// A required handle passed for changing.
///
/// # Safety
/// `p` is NULL or a live handle made by this library, not used by another thread meanwhile.
pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> FfiResult<&'a mut T> {
    p.as_mut()
        .ok_or_else(|| arg_err(format!("argument `{what}` is NULL")))
}

/// A required out-parameter; the returned reference is where the result goes.
///
/// # Safety
/// `p` is NULL or valid for writes of a `T`.
pub(crate) unsafe fn out_arg<'a, T>(p: *mut T, what: &str) -> FfiResult<&'a mut T> {
    p.as_mut()
        .ok_or_else(|| arg_err(format!("out-argument `{what}` is NULL")))
}

/// A required pointer to `len` elements of input data (a NULL pointer is only
/// accepted when `len` is 0).
///
/// # Safety
/// `p` is NULL or valid for reads of `len` elements.
pub(crate) unsafe fn slice_arg<'a, T>(p: *const T, len: usize, what: &str) -> FfiResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(arg_err(format!("argument `{what}` is NULL")));
    }
    Ok(std::slice::from_raw_parts(p, len))
}
