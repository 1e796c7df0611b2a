//! Watermark and content-credential verification over the C ABI: `sora
//! verify --json` as a call.

use std::ffi::c_char;
use std::path::Path;
use std::ptr;

use crate::args::{give_string, out_arg, str_arg};
use crate::status::sora_status;

/// Verifies the clip at `path` (UTF-8: `.mp4`, `.wav`, an image or a folder
/// of PNG frames) and writes to `*json_out` the object `sora verify --json`
/// prints: `{"watermark": {"detected", "payload", "bit_accuracy",
/// "p_value"}, "audio_watermark": {...}, "credentials": {"present",
/// "valid", "claims", "trusted", "signer", "issues", "generation",
/// "consents"}}` (UTF-8, freed with `sora_string_free`; NULL on failure).
/// The credentials are the C2PA manifest embedded in MP4 and WAV outputs
/// (docs/safety.md); nothing is `trusted` here (no trust anchors).
///
/// Errors: `SORA_ERR_IO` for a file that is missing or cannot be read as
/// media, `SORA_ERR_UNSUPPORTED` for a codec sora does not read,
/// `SORA_ERR_INVALID_ARGUMENT` for another kind of file.
#[no_mangle]
pub unsafe extern "C" fn sora_verify_json(
    path: *const c_char,
    json_out: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_verify_json", {
        let json_out = out_arg(json_out, "json_out")?;
        *json_out = ptr::null_mut();
        let path = str_arg(path, "path")?;
        let report = sora_core::safety::verify(Path::new(path))?;
        give_string(json_out, report.to_json());
        Ok(())
    })
}
