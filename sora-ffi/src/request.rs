//! `sora_request`: what to generate (`sora_core::Request`), with rav1e-style
//! key/value setters so that the ABI stays stable as options grow.
//!
//! Each setter checks its value against the rules every model shares (the
//! core's `Request::resolve` with neutral defaults) and leaves the request
//! unchanged when it fails. Rules of one model (sizes a family accepts, frame
//! counts, audio) are checked by `sora_generate`.

use std::ffi::{c_char, c_double, c_float};
use std::path::Path;
use std::ptr;

use ndarray::{Array3, Array4};
use sora_core::pipeline::Defaults;
use sora_core::{ImageInput, Mode, Request, VideoInput};

use crate::args::{handle_mut, out_arg, slice_arg, str_arg};
use crate::media;
use crate::status::{arg_err, sora_status, FfiError, FfiResult};

/// A generation request. Made by `sora_request_new_text`, freed by
/// `sora_request_free`. Not to be changed by two threads at once.
#[allow(non_camel_case_types)]
pub struct sora_request {
    pub(crate) inner: Request,
}

/// Keys of the setters, their value type, and what they set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Width,
    Height,
    Frames,
    Seconds,
    Fps,
    Steps,
    Guidance,
    Seed,
    NegativePrompt,
    Prompt,
    Audio,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Float,
    Str,
}

const KEYS: &[(&str, Key, Ty)] = &[
    ("width", Key::Width, Ty::Int),
    ("height", Key::Height, Ty::Int),
    ("frames", Key::Frames, Ty::Int),
    ("seconds", Key::Seconds, Ty::Float),
    ("fps", Key::Fps, Ty::Int),
    ("steps", Key::Steps, Ty::Int),
    ("guidance", Key::Guidance, Ty::Float),
    ("seed", Key::Seed, Ty::Int),
    ("negative_prompt", Key::NegativePrompt, Ty::Str),
    ("prompt", Key::Prompt, Ty::Str),
    ("audio", Key::Audio, Ty::Int),
];

fn lookup(key: &str) -> FfiResult<(&'static str, Key, Ty)> {
    KEYS.iter()
        .copied()
        .find(|(name, _, _)| *name == key)
        .ok_or_else(|| {
            let known: Vec<&str> = KEYS.iter().map(|(n, _, _)| *n).collect();
            arg_err(format!(
                "unknown request key `{key}` (known keys: {})",
                known.join(", ")
            ))
        })
}

fn wrong_type(name: &str, ty: Ty) -> FfiError {
    let setter = match ty {
        Ty::Int => "an integer (sora_request_set_int)",
        Ty::Float => "a number (sora_request_set_float)",
        Ty::Str => "a string (sora_request_set_string)",
    };
    arg_err(format!("request key `{name}` takes {setter}"))
}

fn to_u32(name: &str, v: i64) -> FfiResult<u32> {
    u32::try_from(v).map_err(|_| arg_err(format!("`{name}` must be in 0..=4294967295, got {v}")))
}

/// Neutral defaults: every value valid, so that `resolve` can only fail on
/// values the caller set.
fn neutral_defaults() -> Defaults {
    Defaults {
        width: 16,
        height: 16,
        frames: 1,
        fps: 16,
        steps: 1,
        guidance: 1.0,
        negative_prompt: String::new(),
        audio: false,
    }
}

/// Applies `change` (of an option, not of the input) to a copy of `req` whose
/// media input is left out, checks the copy with the core's shared rules, and
/// keeps it only if they pass.
fn apply(req: &mut Request, change: impl FnOnce(&mut Request)) -> FfiResult<()> {
    let input = std::mem::replace(&mut req.mode, Mode::Text);
    let mut probe = req.clone();
    req.mode = input;
    change(&mut probe);
    probe.resolve(&neutral_defaults(), |f| f)?;
    probe.mode = std::mem::replace(&mut req.mode, Mode::Text);
    *req = probe;
    Ok(())
}

/// Replaces the request's input with `mode` if the request still passes the
/// shared rules with it; otherwise keeps the old input.
fn set_mode(req: &mut Request, mode: Mode) -> FfiResult<()> {
    let old = std::mem::replace(&mut req.mode, mode);
    if let Err(e) = req.resolve(&neutral_defaults(), |f| f) {
        req.mode = old;
        return Err(e.into());
    }
    Ok(())
}

/// Makes a text-to-video request for `prompt` (UTF-8) into `*out`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_new_text(
    prompt: *const c_char,
    out: *mut *mut sora_request,
) -> sora_status {
    ffi_boundary!("sora_request_new_text", {
        let out = out_arg(out, "out")?;
        *out = ptr::null_mut();
        let prompt = str_arg(prompt, "prompt")?;
        *out = Box::into_raw(Box::new(sora_request {
            inner: Request::text(prompt),
        }));
        Ok(())
    })
}

/// Sets an integer option. Keys: `width`, `height`, `frames`, `fps`, `steps`
/// (0 ..= 2^32-1, checked further by the rules), `seed` (>= 0), `audio` (0 or 1).
/// The number keys `seconds` and `guidance` accept integers too.
/// An unknown key or a bad value gives `SORA_ERR_INVALID_ARGUMENT` naming it
/// and leaves the request unchanged.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_int(
    request: *mut sora_request,
    key: *const c_char,
    value: i64,
) -> sora_status {
    ffi_boundary!("sora_request_set_int", {
        let req = handle_mut(request, "request")?;
        let key = str_arg(key, "key")?;
        let (name, k, ty) = lookup(key)?;
        match ty {
            Ty::Int => {}
            Ty::Float => return set_number(&mut req.inner, name, k, value as f64),
            Ty::Str => return Err(wrong_type(name, ty)),
        }
        match k {
            Key::Width => {
                let v = to_u32(name, value)?;
                apply(&mut req.inner, |r| r.width = Some(v))
            }
            Key::Height => {
                let v = to_u32(name, value)?;
                apply(&mut req.inner, |r| r.height = Some(v))
            }
            Key::Frames => {
                let v = to_u32(name, value)?;
                apply(&mut req.inner, |r| r.frames = Some(v))
            }
            Key::Fps => {
                let v = to_u32(name, value)?;
                apply(&mut req.inner, |r| r.fps = Some(v))
            }
            Key::Steps => {
                let v = to_u32(name, value)?;
                apply(&mut req.inner, |r| r.steps = Some(v))
            }
            Key::Seed => {
                let v = u64::try_from(value)
                    .map_err(|_| arg_err(format!("`seed` must be ≥ 0, got {value}")))?;
                apply(&mut req.inner, |r| r.seed = Some(v))
            }
            Key::Audio => {
                let on = match value {
                    0 => false,
                    1 => true,
                    _ => return Err(arg_err(format!("`audio` must be 0 or 1, got {value}"))),
                };
                apply(&mut req.inner, |r| r.audio = Some(on))
            }
            _ => Err(wrong_type(name, ty)),
        }
    })
}

fn set_number(req: &mut Request, name: &str, k: Key, value: f64) -> FfiResult<()> {
    let v = value as f32;
    match k {
        Key::Seconds => apply(req, |r| r.seconds = Some(v)),
        Key::Guidance => apply(req, |r| r.guidance = Some(v)),
        _ => Err(arg_err(format!("request key `{name}` is not a number"))),
    }
}

/// Sets a number option. Keys: `seconds` (duration; `frames` takes precedence
/// when both are set), `guidance` (classifier-free guidance scale, >= 0).
/// An unknown key or a bad value gives `SORA_ERR_INVALID_ARGUMENT` and leaves
/// the request unchanged.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_float(
    request: *mut sora_request,
    key: *const c_char,
    value: c_double,
) -> sora_status {
    ffi_boundary!("sora_request_set_float", {
        let req = handle_mut(request, "request")?;
        let key = str_arg(key, "key")?;
        let (name, k, ty) = lookup(key)?;
        if ty != Ty::Float {
            return Err(wrong_type(name, ty));
        }
        set_number(&mut req.inner, name, k, value)
    })
}

/// Sets a string option (UTF-8). Keys: `negative_prompt`, `prompt`.
/// An unknown key or a bad value gives `SORA_ERR_INVALID_ARGUMENT` and leaves
/// the request unchanged.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_string(
    request: *mut sora_request,
    key: *const c_char,
    value: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_request_set_string", {
        let req = handle_mut(request, "request")?;
        let key = str_arg(key, "key")?;
        let value = str_arg(value, "value")?;
        let (name, k, ty) = lookup(key)?;
        match k {
            Key::NegativePrompt => {
                apply(&mut req.inner, |r| r.negative_prompt = Some(value.into()))
            }
            Key::Prompt => apply(&mut req.inner, |r| r.prompt = value.into()),
            _ => Err(wrong_type(name, ty)),
        }
    })
}

fn frames_from(data: *const u8, t: usize, h: usize, w: usize) -> FfiResult<Array4<u8>> {
    let len = t
        .checked_mul(h)
        .and_then(|n| n.checked_mul(w))
        .and_then(|n| n.checked_mul(3))
        .ok_or_else(|| arg_err(format!("frame size {t}x{h}x{w}x3 overflows")))?;
    let pixels = unsafe { slice_arg(data, len, "data")? };
    Array4::from_shape_vec((t, h, w, 3), pixels.to_vec()).map_err(|e| arg_err(e.to_string()))
}

/// Makes the request image-to-video from the image file at `path` (PNG/JPEG),
/// which becomes the first frame.
///
/// Currently returns `SORA_ERR_UNSUPPORTED` (reading images from a path is not
/// built yet); use `sora_request_set_image_rgb`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_image_path(
    request: *mut sora_request,
    path: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_request_set_image_path", {
        let req = handle_mut(request, "request")?;
        let path = str_arg(path, "path")?;
        let image = media::read_image(Path::new(path))?;
        set_mode(&mut req.inner, Mode::Image(image))
    })
}

/// Makes the request image-to-video from RGB pixels: `height * width * 3`
/// bytes, row-major `[H, W, 3]`. The pixels are copied.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_image_rgb(
    request: *mut sora_request,
    data: *const u8,
    height: usize,
    width: usize,
) -> sora_status {
    ffi_boundary!("sora_request_set_image_rgb", {
        let req = handle_mut(request, "request")?;
        let frames = frames_from(data, 1, height, width)?;
        let pixels: Array3<u8> = frames.index_axis_move(ndarray::Axis(0), 0);
        set_mode(&mut req.inner, Mode::Image(ImageInput { pixels }))
    })
}

/// Makes the request video-to-video from the video file at `path`, re-running
/// `strength` of the schedule (in (0, 1]: near 0 keeps the source, 1 replaces it).
///
/// Currently returns `SORA_ERR_UNSUPPORTED` (reading videos from a path is not
/// built yet); use `sora_request_set_video_rgb`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_video_path(
    request: *mut sora_request,
    path: *const c_char,
    strength: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_set_video_path", {
        let req = handle_mut(request, "request")?;
        let path = str_arg(path, "path")?;
        let clip = media::read_video(Path::new(path))?;
        set_mode(&mut req.inner, Mode::Video { clip, strength })
    })
}

/// Makes the request video-to-video from RGB frames: `frames * height * width * 3`
/// bytes, row-major `[T, H, W, 3]`, at `fps` frames per second, re-running
/// `strength` of the schedule (in (0, 1]). The frames are copied.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_video_rgb(
    request: *mut sora_request,
    data: *const u8,
    frames: usize,
    height: usize,
    width: usize,
    fps: c_float,
    strength: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_set_video_rgb", {
        let req = handle_mut(request, "request")?;
        let frames = frames_from(data, frames, height, width)?;
        let clip = VideoInput { frames, fps };
        set_mode(&mut req.inner, Mode::Video { clip, strength })
    })
}

/// Makes the request continue the video file at `path` by `seconds`.
///
/// Currently returns `SORA_ERR_UNSUPPORTED` (reading videos from a path is not
/// built yet); use `sora_request_set_extend_rgb`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_extend_path(
    request: *mut sora_request,
    path: *const c_char,
    seconds: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_set_extend_path", {
        let req = handle_mut(request, "request")?;
        let path = str_arg(path, "path")?;
        let clip = media::read_video(Path::new(path))?;
        set_mode(&mut req.inner, Mode::Extend { clip, seconds })
    })
}

/// Makes the request continue RGB frames (`frames * height * width * 3` bytes,
/// `[T, H, W, 3]`, at `fps`) by `seconds`. The frames are copied.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_extend_rgb(
    request: *mut sora_request,
    data: *const u8,
    frames: usize,
    height: usize,
    width: usize,
    fps: c_float,
    seconds: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_set_extend_rgb", {
        let req = handle_mut(request, "request")?;
        let frames = frames_from(data, frames, height, width)?;
        let clip = VideoInput { frames, fps };
        set_mode(&mut req.inner, Mode::Extend { clip, seconds })
    })
}

/// Makes the request text-to-video again (drops an image or video input).
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_text_mode(request: *mut sora_request) -> sora_status {
    ffi_boundary!("sora_request_set_text_mode", {
        let req = handle_mut(request, "request")?;
        req.inner.mode = Mode::Text;
        Ok(())
    })
}

/// Frees a request. NULL is accepted and does nothing.
#[no_mangle]
pub unsafe extern "C" fn sora_request_free(request: *mut sora_request) {
    crate::status::free_boxed(request);
}
