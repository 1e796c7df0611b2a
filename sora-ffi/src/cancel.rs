//! `sora_cancel`: a cancellation token (`sora_core::CancelToken`) that one
//! thread triggers while another runs `sora_generate`.

use std::ffi::c_int;

use sora_core::CancelToken;

use crate::args::{handle, out_arg};
use crate::status::sora_status;

/// A cancellation token. Made by `sora_cancel_new`, freed by `sora_cancel_free`.
/// `sora_cancel_trigger`, `sora_cancel_reset` and `sora_cancel_is_triggered`
/// may be called from any thread while a run that uses it is in progress; free
/// it only after that run has returned.
#[allow(non_camel_case_types)]
pub struct sora_cancel {
    pub(crate) token: CancelToken,
}

/// Makes a fresh, untriggered token into `*out`.
#[no_mangle]
pub unsafe extern "C" fn sora_cancel_new(out: *mut *mut sora_cancel) -> sora_status {
    ffi_boundary!("sora_cancel_new", {
        let out = out_arg(out, "out")?;
        *out = Box::into_raw(Box::new(sora_cancel {
            token: CancelToken::new(),
        }));
        Ok(())
    })
}

/// Asks every run using this token to stop at its next step; such a run then
/// returns `SORA_ERR_CANCELLED`. Stays triggered until `sora_cancel_reset`.
#[no_mangle]
pub unsafe extern "C" fn sora_cancel_trigger(cancel: *const sora_cancel) -> sora_status {
    ffi_boundary!("sora_cancel_trigger", {
        handle(cancel, "cancel")?.token.cancel();
        Ok(())
    })
}

/// Clears the token so that it can be used for another run.
#[no_mangle]
pub unsafe extern "C" fn sora_cancel_reset(cancel: *const sora_cancel) -> sora_status {
    ffi_boundary!("sora_cancel_reset", {
        handle(cancel, "cancel")?.token.reset();
        Ok(())
    })
}

/// Writes 1 to `*triggered` if the token is triggered, else 0.
#[no_mangle]
pub unsafe extern "C" fn sora_cancel_is_triggered(
    cancel: *const sora_cancel,
    triggered: *mut c_int,
) -> sora_status {
    ffi_boundary!("sora_cancel_is_triggered", {
        let triggered = out_arg(triggered, "triggered")?;
        *triggered = 0;
        *triggered = c_int::from(handle(cancel, "cancel")?.token.is_cancelled());
        Ok(())
    })
}

/// Frees a token. NULL is accepted and does nothing.
#[no_mangle]
pub unsafe extern "C" fn sora_cancel_free(cancel: *mut sora_cancel) {
    crate::status::free_boxed(cancel);
}
