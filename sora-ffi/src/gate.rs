//! The prompt gate over the C ABI: `sora_check_prompt` checks a text against
//! a consent registry file with no model (the surface of `sora check-prompt`).

use std::ffi::c_char;
use std::ptr;

use sora_core::safety::gate::{check_prompt, Credentials};
use sora_core::safety::registry::Registry;

use crate::args::{give_string, opt_str_arg, out_arg, str_arg};
use crate::status::sora_status;

/// Checks the prompt `text` against the consent registry / protected list
/// at `registry_path` (JSON, docs/safety.md), as a request carrying the
/// consent id `consent` (nullable: none) on a pipeline with owner key
/// `owner` (nullable: none) would be checked.
///
/// Once the registry is read, the decision is written to `*json_out` as one
/// UTF-8 JSON object `{ "allowed", "normalized", "matches": [ { "kind",
/// "entry", "alias", "matched", "how", "distance", "consent", "refused" } ]
/// }` (that of `sora check-prompt --json`), allowed or not, to be freed
/// with `sora_string_free`; NULL when the call fails before deciding.
///
/// Returns `SORA_OK` when allowed, `SORA_ERR_CONSENT_REQUIRED` or
/// `SORA_ERR_PROTECTED_CONTENT` when refused (with the message in
/// `sora_last_error()`), `SORA_ERR_INVALID_ARGUMENT` for a registry file that
/// does not parse or breaks a rule (path and place in the message) and for a
/// NULL or non-UTF-8 argument, `SORA_ERR_IO` for a file that cannot be read.
#[no_mangle]
pub unsafe extern "C" fn sora_check_prompt(
    registry_path: *const c_char,
    text: *const c_char,
    consent: *const c_char,
    owner: *const c_char,
    json_out: *mut *mut c_char,
) -> sora_status {
    ffi_boundary!("sora_check_prompt", {
        let json_out = out_arg(json_out, "json_out")?;
        *json_out = ptr::null_mut();
        let registry_path = str_arg(registry_path, "registry_path")?;
        let text = str_arg(text, "text")?;
        let consents: Vec<String> = opt_str_arg(consent, "consent")?
            .map(str::to_string)
            .into_iter()
            .collect();
        let owner = opt_str_arg(owner, "owner")?;
        let registry = Registry::load(registry_path)?;
        let decision = check_prompt(&registry, text, &Credentials::new(owner, &consents));
        give_string(json_out, decision.to_json());
        match decision.error() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    })
}
