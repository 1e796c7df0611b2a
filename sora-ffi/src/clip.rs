//! `sora_clip`: a generated clip (`sora_core::Clip`) and its read-only accessors.

use std::ffi::{c_char, c_float, CString};
use std::path::Path;
use std::ptr;

use sora_core::Clip;

use crate::args::{handle, out_arg, str_arg};
use crate::status::{sora_status, FfiError};

/// A generated clip: RGB frames, optional audio, metadata. Made by
/// `sora_generate`, freed by `sora_clip_free`. Read-only, so it may be read by
/// several threads at once.
#[allow(non_camel_case_types)]
pub struct sora_clip {
    pub(crate) inner: Clip,
    meta_json: CString,
}

impl sora_clip {
    /// Wraps a clip and renders its metadata once.
    pub(crate) fn new(inner: Clip) -> Self {
        let meta_json =
            CString::new(inner.meta_json().replace('\0', "\\u0000")).unwrap_or_default();
        Self { inner, meta_json }
    }
}

/// The clip's frames: `*data` points to `t * h * w * 3` bytes of RGB, row-major
/// `[T, H, W, 3]`, valid as long as the clip lives.
#[no_mangle]
pub unsafe extern "C" fn sora_clip_frames(
    clip: *const sora_clip,
    data: *mut *const u8,
    t: *mut usize,
    h: *mut usize,
    w: *mut usize,
) -> sora_status {
    ffi_boundary!("sora_clip_frames", {
        let data = out_arg(data, "data")?;
        *data = ptr::null();
        let t = out_arg(t, "t")?;
        let h = out_arg(h, "h")?;
        let w = out_arg(w, "w")?;
        let clip = handle(clip, "clip")?;
        let frames = &clip.inner.frames;
        let slice = frames.as_slice().ok_or_else(|| {
            FfiError::Core(sora_core::Error::Numeric(
                "the clip's frames are not contiguous".into(),
            ))
        })?;
        let shape = frames.shape();
        (*t, *h, *w) = (shape[0], shape[1], shape[2]);
        *data = slice.as_ptr();
        Ok(())
    })
}

/// The clip's frame rate (frames per second) into `*fps`.
#[no_mangle]
pub unsafe extern "C" fn sora_clip_fps(clip: *const sora_clip, fps: *mut c_float) -> sora_status {
    ffi_boundary!("sora_clip_fps", {
        let fps = out_arg(fps, "fps")?;
        *fps = handle(clip, "clip")?.inner.fps;
        Ok(())
    })
}

/// The clip's audio: `*data` points to `channels * samples` floats in [-1, 1],
/// channel-major `[channels, samples]`, valid as long as the clip lives. A clip
/// without audio gives `*data = NULL` and zero sizes (and `SORA_OK`).
#[no_mangle]
pub unsafe extern "C" fn sora_clip_audio(
    clip: *const sora_clip,
    data: *mut *const f32,
    channels: *mut usize,
    samples: *mut usize,
) -> sora_status {
    ffi_boundary!("sora_clip_audio", {
        let data = out_arg(data, "data")?;
        *data = ptr::null();
        let channels = out_arg(channels, "channels")?;
        let samples = out_arg(samples, "samples")?;
        (*channels, *samples) = (0, 0);
        let clip = handle(clip, "clip")?;
        if let Some(audio) = &clip.inner.audio {
            let slice = audio.as_slice().ok_or_else(|| {
                FfiError::Core(sora_core::Error::Numeric(
                    "the clip's audio is not contiguous".into(),
                ))
            })?;
            (*channels, *samples) = (audio.shape()[0], audio.shape()[1]);
            *data = slice.as_ptr();
        }
        Ok(())
    })
}

/// The audio sample rate in Hz into `*rate` (0 when the clip has no audio).
#[no_mangle]
pub unsafe extern "C" fn sora_clip_sample_rate(
    clip: *const sora_clip,
    rate: *mut u32,
) -> sora_status {
    ffi_boundary!("sora_clip_sample_rate", {
        let rate = out_arg(rate, "rate")?;
        *rate = handle(clip, "clip")?.inner.sample_rate;
        Ok(())
    })
}

/// How the clip was made (model, prompt, seed, steps, sizes, timings, ...) as
/// one JSON object (UTF-8) into `*json`, valid as long as the clip lives.
#[no_mangle]
pub unsafe extern "C" fn sora_clip_meta_json(
    clip: *const sora_clip,
    json: *mut *const c_char,
) -> sora_status {
    ffi_boundary!("sora_clip_meta_json", {
        let json = out_arg(json, "json")?;
        *json = ptr::null();
        *json = handle(clip, "clip")?.meta_json.as_ptr();
        Ok(())
    })
}

/// Writes the clip by the extension of `path`: `.mp4` (video + audio track),
/// `.wav` (audio only), `.png`, or a folder path (no extension) for a PNG
/// sequence. Nothing partial is left on failure.
#[no_mangle]
pub unsafe extern "C" fn sora_clip_save(
    clip: *const sora_clip,
    path: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_clip_save", {
        let clip = handle(clip, "clip")?;
        let path = str_arg(path, "path")?;
        clip.inner.save(Path::new(path))?;
        Ok(())
    })
}

/// Frees a clip (and the frame, audio and metadata pointers read from it).
/// NULL is accepted and does nothing.
#[no_mangle]
pub unsafe extern "C" fn sora_clip_free(clip: *mut sora_clip) {
    crate::status::free_boxed(clip);
}
