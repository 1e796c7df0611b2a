//! Pixels to the VAE's input, as diffusers' `VideoProcessor.preprocess` does:
//! resize to the requested size when needed, scale to \[0,1\] in f32, then to \[-1,1\].
//!
//! diffusers resizes with PIL's Lanczos filter; [`pil_resize`] is a port of
//! Pillow's 8-bit resampler, so resized inputs match too.

use ndarray::{ArrayView3, ArrayView4};
use tch::{Kind, Tensor};

use crate::models::clip::{pil_resize, PilFilter};
use crate::{Error, Result};

fn resized(pixels: ArrayView3<u8>, width: u32, height: u32) -> Result<(Vec<u8>, usize, usize)> {
    let s = pixels.shape();
    if s.len() != 3 || s[2] != 3 {
        return Err(Error::invalid(format!(
            "an image must be [H, W, 3] RGB, got {s:?}"
        )));
    }
    let (h, w) = (s[0], s[1]);
    if h == height as usize && w == width as usize {
        return Ok((pixels.iter().copied().collect(), h, w));
    }
    let out = pil_resize(pixels, height as usize, width as usize, PilFilter::Lanczos)?;
    Ok((
        out.iter().copied().collect(),
        height as usize,
        width as usize,
    ))
}

fn to_unit(data: Vec<u8>, h: usize, w: usize) -> Result<Tensor> {
    // [H,W,3] u8 → [3,H,W] f32 in [-1,1]: x/255 then 2x−1, in f32 like numpy/torch.
    let t = Tensor::f_from_slice(&data)?
        .f_view([h as i64, w as i64, 3])?
        .f_permute([2, 0, 1])?
        .f_to_kind(Kind::Float)?
        .f_div_scalar(255.0)?;
    Ok(t.f_mul_scalar(2.0)?.f_sub_scalar(1.0)?)
}

/// An RGB image `[H,W,3]` → `[1,3,height,width]` f32 in [-1,1].
pub fn image_to_tensor(pixels: ArrayView3<u8>, width: u32, height: u32) -> Result<Tensor> {
    let (data, h, w) = resized(pixels, width, height)?;
    Ok(to_unit(data, h, w)?.f_unsqueeze(0)?)
}

/// RGB frames `[T,H,W,3]` → `[1,3,T,height,width]` f32 in [-1,1].
pub fn frames_to_tensor(frames: ArrayView4<u8>, width: u32, height: u32) -> Result<Tensor> {
    let mut out = Vec::with_capacity(frames.shape()[0]);
    for f in frames.outer_iter() {
        let (data, h, w) = resized(f, width, height)?;
        out.push(to_unit(data, h, w)?);
    }
    if out.is_empty() {
        return Err(Error::invalid("the video has no frames"));
    }
    Ok(Tensor::f_stack(&out, 1)?.f_unsqueeze(0)?)
}
