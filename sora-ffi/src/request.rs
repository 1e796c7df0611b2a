//! `sora_request`: what to generate (`sora_core::Request`), with rav1e-style
//! key/value setters so that the ABI stays stable as options grow.
//!
//! Every setter hands its key and value to the core's one parameter path
//! (`sora_core::family::params::set_known`, i.e. `Request::set`), which checks
//! them and leaves the request unchanged when they fail. Rules of one model
//! (sizes a family accepts, frame counts, audio, its own keys) are checked by
//! `sora_generate`.

use std::ffi::{c_char, c_double, c_float};
use std::path::Path;
use std::ptr;

use ndarray::{Array3, Array4};
use sora_core::family::params::{find_param, set_known, set_known_text};
use sora_core::pipeline::{ParamKind, ParamValue};
use sora_core::{FrameCondition, ImageInput, Mode, Request, VideoInput};

use crate::args::{handle_mut, out_arg, slice_arg, str_arg};
use crate::media;
use crate::status::{arg_err, sora_status, FfiResult};

/// A generation request. Made by `sora_request_new_text`, freed by
/// `sora_request_free`. Not to be changed by two threads at once.
#[allow(non_camel_case_types)]
pub struct sora_request {
    pub(crate) inner: Request,
}

/// Sets `key` to `value` through the core ([`set_known`]). When the value's
/// type does not fit the key, the message names the setter that fits.
fn set_typed(req: &mut Request, key: &str, value: ParamValue) -> FfiResult<()> {
    if let Some(spec) = find_param(key) {
        // An integer for a switch is checked (0 or 1) by the core.
        let fits = spec.kind.accepts(&value)
            || (spec.kind == ParamKind::Bool && matches!(value, ParamValue::Int(_)));
        if !fits {
            let setter = match spec.kind {
                ParamKind::Int | ParamKind::Bool => "an integer (sora_request_set_int)",
                ParamKind::Float => "a number (sora_request_set_float)",
                ParamKind::Str => "a string (sora_request_set_string)",
                ParamKind::List => "a list of numbers, as text (sora_request_set)",
            };
            return Err(arg_err(format!("request key `{key}` takes {setter}")));
        }
    }
    Ok(set_known(req, key, value)?)
}

/// Replaces the request's input with `mode` if the core accepts the input's
/// values; otherwise keeps the old input.
fn set_mode(req: &mut Request, mode: Mode) -> FfiResult<()> {
    mode.check()?;
    req.mode = mode;
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

/// Sets a request parameter from text (UTF-8), parsed by the core: keys are
/// named as diffusers' pipeline keywords (`guidance_scale`,
/// `num_inference_steps`, `num_frames`, `frame_rate`, `guidance_scale_2`,
/// `strength`, …) or sora's names (`guidance`, `steps`, `frames`, `fps`,
/// `seconds`, `seed`, `audio`, `width`, `height`, `prompt`,
/// `negative_prompt`); values are written as on a command line: `3.5`,
/// `true`, `28,29` for a list. `strength` needs a video input first. A key no
/// family of this build knows, or a bad value of a common key, gives
/// `SORA_ERR_INVALID_ARGUMENT` naming the key and leaves the request
/// unchanged; a family's own key is checked against the loaded family by
/// `sora_generate`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set(
    request: *mut sora_request,
    key: *const c_char,
    value_utf8: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_request_set", {
        let req = handle_mut(request, "request")?;
        let key = str_arg(key, "key")?;
        let value = str_arg(value_utf8, "value")?;
        Ok(set_known_text(&mut req.inner, key, value)?)
    })
}

/// Sets an integer parameter (any key of `sora_request_set` whose value is a
/// whole number): `width`, `height`, `frames`, `fps`, `steps`, `seed` (>= 0),
/// `audio` (0 or 1), …; the number keys (`seconds`, `guidance`, …) accept
/// integers too. An unknown key or a bad value gives
/// `SORA_ERR_INVALID_ARGUMENT` naming it and leaves the request unchanged.
#[no_mangle]
pub unsafe extern "C" fn sora_request_set_int(
    request: *mut sora_request,
    key: *const c_char,
    value: i64,
) -> sora_status {
    ffi_boundary!("sora_request_set_int", {
        let req = handle_mut(request, "request")?;
        let key = str_arg(key, "key")?;
        set_typed(&mut req.inner, key, ParamValue::Int(value))
    })
}

/// Sets a number parameter: `seconds` (duration; `frames` takes precedence
/// when both are set), `guidance` / `guidance_scale` (classifier-free
/// guidance scale, >= 0), `guidance_scale_2`, `strength`, …
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
        set_typed(&mut req.inner, key, ParamValue::Float(value))
    })
}

/// Sets a string parameter (UTF-8): `negative_prompt`, `prompt` (keys that
/// take other values are set with their typed setter or `sora_request_set`).
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
        set_typed(&mut req.inner, key, ParamValue::Str(value.into()))
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
        let clip = VideoInput::new(frames, fps);
        set_mode(&mut req.inner, Mode::Video { clip, strength })
    })
}

/// Makes the request continue the video at `path` (an MP4 or a folder of PNG
/// frames) by `seconds`: the output is the clip's frames, unchanged, followed
/// by the new ones, at its frame rate and size (Wan text-to-video and TI2V
/// models; others return `SORA_ERR_UNSUPPORTED` from `sora_generate`).
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

/// Makes the request continue the clip at `clip_path` (an MP4 or a folder of
/// PNG frames) by `seconds`: the name for
/// `sora_request_set_extend_path`, which it equals. The output is the clip's
/// frames, unchanged, then the new ones, at its frame rate and size.
#[no_mangle]
pub unsafe extern "C" fn sora_request_extend(
    request: *mut sora_request,
    clip_path: *const c_char,
    seconds: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_extend", {
        let req = handle_mut(request, "request")?;
        let path = str_arg(clip_path, "clip_path")?;
        let clip = media::read_video(Path::new(path))?;
        set_mode(&mut req.inner, Mode::Extend { clip, seconds })
    })
}

/// Adds a timed prompt: from `seconds` into the clip on, the prompt is `text`
/// (long-form generation: the clip is made as a chain of windows, each taking
/// the prompt active at its first new frame; window size and overlap by the
/// request parameters `window_frames` and `window_overlap`). Checked here
/// (`SORA_ERR_INVALID_ARGUMENT` for a negative or non-finite time, NULL or
/// non-UTF-8 text). Long-form generation covers text-to-video (Wan, LTX-2),
/// LTX-2 image-to-video and extension (`sora_request_extend`; `seconds` then
/// in the output clip's time, a prompt at or before the clip's end being the
/// continuation's from its first added frame); video-to-video is
/// `SORA_ERR_INVALID_ARGUMENT`, another request `SORA_ERR_UNSUPPORTED`.
#[no_mangle]
pub unsafe extern "C" fn sora_request_prompt_at(
    request: *mut sora_request,
    seconds: c_float,
    text: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_request_prompt_at", {
        let req = handle_mut(request, "request")?;
        let text = str_arg(text, "text")?;
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(arg_err(format!(
                "a timed prompt's time must be a finite number of seconds >= 0, got {seconds}"
            )));
        }
        req.inner.prompts_at.push((seconds, text.to_string()));
        Ok(())
    })
}

/// Makes the request continue RGB frames (`frames * height * width * 3` bytes,
/// `[T, H, W, 3]`, at `fps`) by `seconds`, as `sora_request_set_extend_path`
/// does. The frames are copied.
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
        let clip = VideoInput::new(frames, fps);
        set_mode(&mut req.inner, Mode::Extend { clip, seconds })
    })
}

/// Adds a frame condition (LTX-2; diffusers' `LTX2VideoCondition`): the
/// image (PNG/JPEG), MP4 or folder of PNG frames at `path`, placed at latent
/// frame `index` (0 the first; `k ≥ 1` starts at pixel frame `(k − 1)·8 + 1`;
/// negative counts from the end) with `strength` in [0, 1]. Repeatable; the
/// request stays text mode. A bad strength or an unreadable file returns its
/// status here and leaves the request unchanged; an index outside the
/// video's latent frames is refused by `sora_generate` (`SORA_ERR_INVALID`,
/// naming the valid range); a family without frame conditions returns
/// `SORA_ERR_UNSUPPORTED` there.
#[no_mangle]
pub unsafe extern "C" fn sora_request_add_condition(
    request: *mut sora_request,
    path: *const c_char,
    index: i64,
    strength: c_float,
) -> sora_status {
    ffi_boundary!("sora_request_add_condition", {
        let req = handle_mut(request, "request")?;
        let path = str_arg(path, "path")?;
        let c = FrameCondition::from_path(Path::new(path), index, strength)?;
        c.check(req.inner.conditions.len())?;
        req.inner.conditions.push(c);
        Ok(())
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
