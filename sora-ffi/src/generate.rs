//! `sora_generate` / `sora_generate_to_file(_ex)`: run a request on a pipeline
//! into a clip in memory or straight into a file, with an optional progress
//! callback and an optional cancellation token.

use std::ffi::{c_char, c_double, c_int, c_void, CString};
use std::path::Path;
use std::ptr;

use sora_core::{Phase, Progress, StepInfo, WriteOptions};

use crate::args::{give_string, handle, out_arg, str_arg};
use crate::cancel::sora_cancel;
use crate::clip::sora_clip;
use crate::pipeline::sora_pipeline;
use crate::request::sora_request;
use crate::status::{arg_err, sora_status, FfiResult};

/// Progress callback, called on the generating thread after each denoising
/// step with `step` in 1..=`total`, the seconds since the loop began and an
/// estimate of the seconds left. Return non-zero to go on, 0 to cancel the run
/// (`sora_generate` then returns `SORA_ERR_CANCELLED`). It must not unwind
/// (no C++ exception may leave it) and must not free the handles of the run.
#[allow(non_camel_case_types)]
pub type sora_progress_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        step: c_int,
        total: c_int,
        elapsed_s: c_double,
        eta_s: c_double,
    ) -> c_int,
>;

/// The caller's `user` pointer, handed back to its callback on the thread
/// that called `sora_generate`.
struct UserData(*mut c_void);

// SAFETY: the pointer is only passed back to the caller's callback, which runs
// on the thread that called `sora_generate`; sora never dereferences it.
unsafe impl Send for UserData {}

impl UserData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

fn clamp_int(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// Generates a clip for `request` with `pipeline` into `*out`.
///
/// - `progress` (nullable): called after each denoising step with `user`.
/// - `cancel` (nullable): a token another thread may trigger to stop the run.
///
/// Runs on one pipeline are serialised. Same request and seed give the same
/// frames on CPU. Errors: `SORA_ERR_INVALID_ARGUMENT` for a request the model
/// cannot serve (e.g. a size it does not take), `SORA_ERR_CANCELLED`,
/// `SORA_ERR_DEVICE`, `SORA_ERR_RUNTIME`, ...
#[no_mangle]
pub unsafe extern "C" fn sora_generate(
    pipeline: *const sora_pipeline,
    request: *const sora_request,
    progress: sora_progress_fn,
    user: *mut c_void,
    cancel: *const sora_cancel,
    out: *mut *mut sora_clip,
) -> sora_status {
    ffi_boundary!("sora_generate", {
        let out = out_arg(out, "out")?;
        *out = ptr::null_mut();
        let pipeline = handle(pipeline, "pipeline")?;
        let request = handle(request, "request")?;
        let mut prog = progress_of(progress, user, cancel);
        let clip = pipeline.inner.generate(&request.inner, &mut prog)?;
        *out = Box::into_raw(Box::new(sora_clip::new(clip)));
        Ok(())
    })
}

/// Generates a clip for `request` with `pipeline` straight into the file
/// `path`, decoding and encoding as it goes, so memory stays flat however
/// long the clip (the way to write long clips): `.mp4` (H.264 + AAC), `.wav`,
/// or a folder path (no extension) for a PNG sequence. The file appears whole
/// or not at all (a failed or cancelled run leaves nothing).
///
/// - `progress`, `user`, `cancel`: as for `sora_generate`.
/// - `meta_json` (nullable): receives the clip's metadata as a JSON object
///   (UTF-8), to be freed with `sora_string_free`.
///
/// An existing `path` is replaced only when sora wrote it (see
/// `sora_generate_to_file_ex` to overwrite); otherwise
/// `SORA_ERR_INVALID_ARGUMENT` before any work, as for a second run writing
/// the same path at once ("in use by process N").
///
/// Errors as `sora_generate`, plus `SORA_ERR_IO` for an output that cannot
/// be written (checked before any work).
#[no_mangle]
pub unsafe extern "C" fn sora_generate_to_file(
    pipeline: *const sora_pipeline,
    request: *const sora_request,
    path: *const c_char,
    progress: sora_progress_fn,
    user: *mut c_void,
    cancel: *const sora_cancel,
    meta_json: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_generate_to_file", {
        to_file(
            pipeline, request, path, 0, progress, user, cancel, meta_json,
        )
    })
}

/// `sora_generate_to_file_ex` flag: replace an existing output that sora did
/// not write (a folder still only when it holds nothing but PNG frames).
pub const SORA_WRITE_OVERWRITE: u32 = 1;

/// `sora_generate_to_file` with `flags`: 0 or `SORA_WRITE_OVERWRITE`
/// (other bits: `SORA_ERR_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn sora_generate_to_file_ex(
    pipeline: *const sora_pipeline,
    request: *const sora_request,
    path: *const c_char,
    flags: u32,
    progress: sora_progress_fn,
    user: *mut c_void,
    cancel: *const sora_cancel,
    meta_json: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_generate_to_file_ex", {
        to_file(
            pipeline, request, path, flags, progress, user, cancel, meta_json,
        )
    })
}

/// The body of `sora_generate_to_file(_ex)`.
///
/// # Safety
/// The arguments follow `sora_generate_to_file_ex`'s contract.
#[allow(clippy::too_many_arguments)] // one per C argument
unsafe fn to_file(
    pipeline: *const sora_pipeline,
    request: *const sora_request,
    path: *const c_char,
    flags: u32,
    progress: sora_progress_fn,
    user: *mut c_void,
    cancel: *const sora_cancel,
    meta_json: *mut *mut c_char,
) -> FfiResult<()> {
    if !meta_json.is_null() {
        *meta_json = ptr::null_mut();
    }
    if flags & !SORA_WRITE_OVERWRITE != 0 {
        return Err(arg_err(format!(
            "unknown write flags {flags:#x} (known: SORA_WRITE_OVERWRITE = 1)"
        )));
    }
    let pipeline = handle(pipeline, "pipeline")?;
    let request = handle(request, "request")?;
    let path = str_arg(path, "path")?;
    let mut prog = progress_of(progress, user, cancel);
    let write = WriteOptions::default().overwrite(flags & SORA_WRITE_OVERWRITE != 0);
    let meta =
        pipeline
            .inner
            .generate_to_file_with(&request.inner, &mut prog, Path::new(path), write)?;
    if !meta_json.is_null() {
        give_string(&mut *meta_json, meta.to_json());
    }
    Ok(())
}

/// Frees a string that sora allocated for the caller (`sora_generate_to_file`'s
/// `meta_json`). NULL is accepted and does nothing.
#[no_mangle]
pub unsafe extern "C" fn sora_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: made by CString::into_raw in this library, freed once.
        drop(CString::from_raw(s));
    }
}

/// The core's progress reporter for a C callback and cancellation token.
///
/// # Safety
/// `cancel` is NULL or a live `sora_cancel`; `progress` follows
/// [`sora_progress_fn`]'s contract.
unsafe fn progress_of(
    progress: sora_progress_fn,
    user: *mut c_void,
    cancel: *const sora_cancel,
) -> Progress<'static> {
    let mut prog = match progress {
        Some(cb) => {
            let user = UserData(user);
            Progress::with_callback(move |info: &StepInfo| {
                if info.phase != Phase::Denoise {
                    return true;
                }
                let go_on = cb(
                    user.get(),
                    clamp_int(info.step),
                    clamp_int(info.total),
                    info.elapsed_s,
                    info.eta_s,
                );
                go_on != 0
            })
        }
        None => Progress::none(),
    };
    if let Some(c) = cancel.as_ref() {
        prog = prog.token(c.token.clone());
    }
    prog
}
