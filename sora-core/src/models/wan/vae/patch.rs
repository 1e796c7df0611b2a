//! Wan 2.2's patchify / unpatchify: folding `p × p` pixel blocks into channels
//! (channel order `c, pw, ph`, as diffusers lays them out) and back.

use tch::Tensor;

use crate::{Error, Result};

/// `[B, C, F, H, W]` → `[B, C·p·p, F, H/p, W/p]` (identity for `p = 1`).
pub fn patchify(x: &Tensor, p: i64) -> Result<Tensor> {
    if p == 1 {
        return Ok(x.shallow_clone());
    }
    let s = x.size();
    if s.len() != 5 {
        return Err(Error::invalid(format!(
            "patchify expects [B, C, F, H, W], got {s:?}"
        )));
    }
    let (b, c, f, h, w) = (s[0], s[1], s[2], s[3], s[4]);
    if h % p != 0 || w % p != 0 {
        return Err(Error::invalid(format!(
            "height ({h}) and width ({w}) must be divisible by patch_size ({p})"
        )));
    }
    Ok(x.f_reshape([b, c, f, h / p, p, w / p, p])?
        .f_permute([0, 1, 6, 4, 2, 3, 5])?
        .f_reshape([b, c * p * p, f, h / p, w / p])?)
}

/// `[B, C·p·p, F, H, W]` → `[B, C, F, H·p, W·p]` (identity for `p = 1`).
pub fn unpatchify(x: &Tensor, p: i64) -> Result<Tensor> {
    if p == 1 {
        return Ok(x.shallow_clone());
    }
    let s = x.size();
    if s.len() != 5 || s[1] % (p * p) != 0 {
        return Err(Error::invalid(format!(
            "unpatchify expects [B, C·{p}², F, H, W], got {s:?}"
        )));
    }
    let (b, cp, f, h, w) = (s[0], s[1], s[2], s[3], s[4]);
    let c = cp / (p * p);
    Ok(x.f_reshape([b, c, p, p, f, h, w])?
        .f_permute([0, 1, 4, 5, 3, 6, 2])?
        .f_reshape([b, c, f, h * p, w * p])?)
}
