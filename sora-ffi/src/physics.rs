//! The physics report over the C ABI: clip metrics and findings of frames in
//! memory (and optionally their sound), as the JSON object of `sora score --json`.

use std::ffi::c_char;
use std::ptr;

use ndarray::{ArrayView2, ArrayView4};
use sora_core::physics::{score, ScoreInput};

use crate::args::{give_string, out_arg, slice_arg};
use crate::status::{arg_err, sora_status, FfiResult};

/// `a · b · …` without overflow, or an argument error naming `what`.
fn product(dims: &[usize], what: &str) -> FfiResult<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| arg_err(format!("{what} size {dims:?} overflows")))
}

/// The physics report of a clip: `frames` is `t * h * w * 3` bytes, RGB,
/// row-major `[T, H, W, 3]`, at `fps` frames per second; `audio` (nullable)
/// is `channels * samples` floats in [-1, 1], channel-major `[C, S]`, at
/// `sample_rate` Hz (`channels`, `samples` and `sample_rate` are ignored when
/// `audio` is NULL). Nothing is copied or kept.
///
/// The report is written to `*json_out` as one UTF-8 JSON object `{
/// "metrics": { name: number or null }, "findings": [ { "kind",
/// "start_frame", "end_frame", "track", "value", "threshold" } ] }` (the
/// contract of `sora score --json` and `docs/physics.md`), to be freed with
/// `sora_string_free` (NULL on failure).
///
/// Errors: `SORA_ERR_INVALID_ARGUMENT` for a NULL `frames`, a zero size, a
/// non-positive `fps`, audio with no channel, no sample or no sample rate,
/// or audio containing NaN or infinity.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sora_physics_score_json(
    frames: *const u8,
    t: usize,
    h: usize,
    w: usize,
    fps: f32,
    audio: *const f32,
    channels: usize,
    samples: usize,
    sample_rate: u32,
    json_out: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_physics_score_json", {
        let json_out = out_arg(json_out, "json_out")?;
        *json_out = ptr::null_mut();
        if t == 0 || h == 0 || w == 0 {
            return Err(arg_err(format!(
                "frames must be at least 1x1x1, got {t}x{h}x{w}"
            )));
        }
        let len = product(&[t, h, w, 3], "frames")?;
        if frames.is_null() {
            return Err(arg_err("argument `frames` is NULL"));
        }
        let pixels = slice_arg(frames, len, "frames")?;
        let frames =
            ArrayView4::from_shape((t, h, w, 3), pixels).map_err(|e| arg_err(e.to_string()))?;
        let audio = if audio.is_null() {
            None
        } else {
            if channels == 0 || samples == 0 {
                return Err(arg_err(format!(
                    "audio needs at least one channel and one sample, got {channels}x{samples}"
                )));
            }
            let n = product(&[channels, samples], "audio")?;
            let data = slice_arg(audio, n, "audio")?;
            Some(
                ArrayView2::from_shape((channels, samples), data)
                    .map_err(|e| arg_err(e.to_string()))?,
            )
        };
        let input = ScoreInput {
            frames,
            fps,
            audio,
            sample_rate: if audio.is_some() { sample_rate } else { 0 },
            reference: None,
        };
        let report = score(&input)?;
        give_string(json_out, report.to_json());
        Ok(())
    })
}
