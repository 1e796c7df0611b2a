//! Pillow's `Image.resize` for 8-bit images, bit for bit: a separable
//! convolution with an antialiasing (support-widened) filter, fixed-point
//! coefficients with 22 fractional bits, a horizontal pass then a vertical
//! pass, each rounded and clipped to `u8`.
//!
//! Image processors of the reference (transformers' `CLIPImageProcessor` on
//! its PIL backend, diffusers' `VaeImageProcessor`) resize through Pillow, so
//! matching its integer arithmetic makes our pixel values equal to theirs.

use ndarray::{Array3, ArrayView3};

use crate::{Error, Result};

/// Pillow's resampling filters (the `resample` values of image-processor configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PilFilter {
    /// `Image.NEAREST` (0): not implemented here.
    Nearest,
    /// `Image.LANCZOS` (1): windowed sinc, support 3.
    Lanczos,
    /// `Image.BILINEAR` (2): triangle, support 1.
    Bilinear,
    /// `Image.BICUBIC` (3): cubic convolution with `a = -0.5`, support 2.
    Bicubic,
    /// `Image.BOX` (4): box, support 0.5.
    Box,
    /// `Image.HAMMING` (5): Hamming-windowed sinc, support 1.
    Hamming,
}

impl PilFilter {
    /// The filter for Pillow's integer code (`PIL.Image.Resampling`).
    pub fn from_code(code: i64) -> Result<Self> {
        Ok(match code {
            0 => PilFilter::Nearest,
            1 => PilFilter::Lanczos,
            2 => PilFilter::Bilinear,
            3 => PilFilter::Bicubic,
            4 => PilFilter::Box,
            5 => PilFilter::Hamming,
            other => {
                return Err(Error::invalid(format!(
                    "unknown PIL resampling filter {other} (expected 0..=5)"
                )))
            }
        })
    }

    /// Half-width of the kernel at scale 1.
    fn support(self) -> f64 {
        match self {
            PilFilter::Nearest => 0.0,
            PilFilter::Box => 0.5,
            PilFilter::Bilinear | PilFilter::Hamming => 1.0,
            PilFilter::Bicubic => 2.0,
            PilFilter::Lanczos => 3.0,
        }
    }

    /// The kernel's value at `x` (same expressions as Pillow's `Resample.c`).
    fn eval(self, x: f64) -> f64 {
        match self {
            PilFilter::Nearest => 0.0,
            PilFilter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            PilFilter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            PilFilter::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // Pillow writes the window's constants as C floats.
                    x.sin() / x * (0.54f32 as f64 + 0.46f32 as f64 * x.cos())
                }
            }
            PilFilter::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            PilFilter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// Fractional bits of the fixed-point coefficients (`32 - 8 - 2` in Pillow).
const PRECISION_BITS: u32 = 22;

/// The taps of one axis: for each output index, the first input index and its
/// fixed-point weights.
struct Taps {
    starts: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a full-image box.
fn taps(in_size: usize, out_size: usize, filter: PilFilter) -> Taps {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ss = 1.0 / filterscale;
    let mut starts = Vec::with_capacity(out_size);
    let mut weights = Vec::with_capacity(out_size);
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        // `(int)` truncates toward zero, as `as i64` does.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
        let n = (xmax - xmin).max(0) as usize;
        let mut k: Vec<f64> = (0..n)
            .map(|x| filter.eval(((x as i64 + xmin) as f64 - center + 0.5) * ss))
            .collect();
        let ww: f64 = k.iter().sum();
        if ww != 0.0 {
            for w in &mut k {
                *w /= ww;
            }
        }
        let one = (1i64 << PRECISION_BITS) as f64;
        let fixed = k
            .iter()
            .map(|&w| {
                if w < 0.0 {
                    (-0.5 + w * one) as i32
                } else {
                    (0.5 + w * one) as i32
                }
            })
            .collect();
        starts.push(xmin as usize);
        weights.push(fixed);
    }
    Taps { starts, weights }
}

/// Pillow's `clip8`: drop the fractional bits (arithmetic shift) and clamp.
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes an `[H, W, C]` `u8` image to `out_h × out_w` exactly as Pillow's
/// `Image.resize((out_w, out_h), resample=filter)` does for an 8-bit image
/// (`L`, `RGB`; any channel count is treated channel by channel).
pub fn pil_resize(
    image: ArrayView3<u8>,
    out_h: usize,
    out_w: usize,
    filter: PilFilter,
) -> Result<Array3<u8>> {
    let (h, w, c) = image.dim();
    if h == 0 || w == 0 || out_h == 0 || out_w == 0 {
        return Err(Error::invalid(format!(
            "cannot resize a {h}x{w} image to {out_h}x{out_w}"
        )));
    }
    if filter == PilFilter::Nearest {
        return Err(Error::Unsupported(
            "PIL NEAREST resampling (resample = 0) in image preprocessing".into(),
        ));
    }
    let mut img = image.to_owned();
    // Horizontal pass first (Pillow's order), only when the width changes.
    if out_w != w {
        let t = taps(w, out_w, filter);
        let mut out = Array3::<u8>::zeros((h, out_w, c));
        for y in 0..h {
            for (xx, (&start, k)) in t.starts.iter().zip(&t.weights).enumerate() {
                for ch in 0..c {
                    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                    for (i, &kw) in k.iter().enumerate() {
                        acc += img[[y, start + i, ch]] as i64 * kw as i64;
                    }
                    out[[y, xx, ch]] = clip8(acc);
                }
            }
        }
        img = out;
    }
    if out_h != h {
        let cur_w = img.dim().1;
        let t = taps(h, out_h, filter);
        let mut out = Array3::<u8>::zeros((out_h, cur_w, c));
        for (yy, (&start, k)) in t.starts.iter().zip(&t.weights).enumerate() {
            for x in 0..cur_w {
                for ch in 0..c {
                    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                    for (i, &kw) in k.iter().enumerate() {
                        acc += img[[start + i, x, ch]] as i64 * kw as i64;
                    }
                    out[[yy, x, ch]] = clip8(acc);
                }
            }
        }
        img = out;
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_when_size_unchanged() {
        let img = Array3::from_shape_fn((5, 7, 3), |(y, x, c)| (y * 31 + x * 7 + c) as u8);
        let out = pil_resize(img.view(), 5, 7, PilFilter::Bicubic).unwrap();
        assert_eq!(out, img);
    }

    #[test]
    fn constant_image_stays_constant() {
        let img = Array3::from_elem((9, 13, 3), 200u8);
        for f in [
            PilFilter::Bicubic,
            PilFilter::Bilinear,
            PilFilter::Lanczos,
            PilFilter::Box,
            PilFilter::Hamming,
        ] {
            let out = pil_resize(img.view(), 4, 20, f).unwrap();
            assert!(out.iter().all(|&v| v == 200), "{f:?}");
        }
    }

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        let t = taps(64, 32, PilFilter::Bicubic);
        for k in &t.weights {
            let s: i64 = k.iter().map(|&v| v as i64).sum();
            assert!((s - (1 << PRECISION_BITS)).abs() <= k.len() as i64);
        }
    }
}
