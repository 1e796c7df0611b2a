//! Memory estimates over the C ABI: what a request needs, before loading (from
//! a builder's folder and options) or with a loaded pipeline, as JSON.

use std::ffi::c_char;
use std::ptr;

use crate::args::{give_string, handle, out_arg};
use crate::pipeline::{sora_pipeline, sora_pipeline_builder};
use crate::request::sora_request;
use crate::status::sora_status;

/// The memory `request` needs with the pipeline `builder` describes (its
/// folder, device, dtype and options: `offload`, `vae_tiling`, ...), from the
/// folder's configs and safetensors headers alone — nothing is loaded. The
/// estimate (MiB per weight, activation and phase, `total_mb`, `peak_phase`,
/// ...; the loading phase included) is written to `*json` as one UTF-8 JSON
/// object, to be freed with `sora_string_free` (NULL on failure).
///
/// Errors: `SORA_ERR_INVALID_ARGUMENT` for a size the model cannot take
/// (naming the nearest valid ones), `SORA_ERR_WEIGHTS` for a bad folder.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_builder_estimate_json(
    builder: *const sora_pipeline_builder,
    request: *const sora_request,
    json: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_pipeline_builder_estimate_json", {
        let json = out_arg(json, "json")?;
        *json = ptr::null_mut();
        let builder = handle(builder, "builder")?;
        let request = handle(request, "request")?;
        let est = builder.inner.estimate(&request.inner)?;
        give_string(json, est.to_json());
        Ok(())
    })
}

/// The memory `request` needs from here on with the loaded `pipeline` (its
/// weights counted as resident; no loading phase), the estimate `sora_generate`
/// checks against the memory budget, as one UTF-8 JSON object into `*json`
/// (freed with `sora_string_free`; NULL on failure). Errors as
/// `sora_pipeline_builder_estimate_json`.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_estimate_json(
    pipeline: *const sora_pipeline,
    request: *const sora_request,
    json: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_pipeline_estimate_json", {
        let json = out_arg(json, "json")?;
        *json = ptr::null_mut();
        let pipeline = handle(pipeline, "pipeline")?;
        let request = handle(request, "request")?;
        let est = pipeline.inner.estimate(&request.inner)?;
        give_string(json, est.to_json());
        Ok(())
    })
}
