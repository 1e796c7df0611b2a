//! Image building blocks of the flow and the metrics, on batched `[N, C, H, W]`
//! float tensors (CPU or CUDA alike): bilinear warping by a flow field, image
//! gradients, the 4-neighbour mean, an area-averaging resize and the luma of
//! RGB frames.
//!
//! A flow `[N, 2, H, W]` holds per pixel the displacement `(u, v)` in pixels
//! (`u` along the width, `v` along the height) from the first image to the
//! second: `I0(x) ≈ I1(x + w(x))`.

use tch::Tensor;

use crate::{Error, Result};

/// The shape `[N, C, H, W]` of a 4-D tensor, or an error naming `what`.
pub fn dims4(t: &Tensor, what: &str) -> Result<[i64; 4]> {
    let s = t.size();
    match s.as_slice() {
        [n, c, h, w] => Ok([*n, *c, *h, *w]),
        _ => Err(Error::invalid(format!(
            "{what} must be a [N, C, H, W] tensor, got {s:?}"
        ))),
    }
}

/// `img` sampled at `x + flow(x)` with bilinear interpolation (values outside
/// the image repeat its border). `img` `[N, C, H, W]`, `flow` `[N, 2, H, W]`.
pub fn warp(img: &Tensor, flow: &Tensor) -> Result<Tensor> {
    let [n, _, h, w] = dims4(img, "the image to warp")?;
    let [fn_, fc, fh, fw] = dims4(flow, "the flow")?;
    if fn_ != n || fc != 2 || fh != h || fw != w {
        return Err(Error::invalid(format!(
            "flow {:?} does not fit image {:?}",
            flow.size(),
            img.size()
        )));
    }
    let grid = sampling_grid(flow)?;
    Ok(img.f_grid_sampler(&grid, 0, 1, true)?)
}

/// The normalised `[N, H, W, 2]` grid of `grid_sample` (align_corners) that
/// reads each pixel `x` at `x + flow(x)`.
fn sampling_grid(flow: &Tensor) -> Result<Tensor> {
    let [_, _, h, w] = dims4(flow, "the flow")?;
    let opts = (flow.kind(), flow.device());
    let xs = Tensor::f_arange(w, opts)?.f_view([1, 1, w])?;
    let ys = Tensor::f_arange(h, opts)?.f_view([1, h, 1])?;
    let sx = 2.0 / ((w - 1).max(1) as f64);
    let sy = 2.0 / ((h - 1).max(1) as f64);
    let gx = (flow.f_select(1, 0)? + xs)
        .f_mul_scalar(sx)?
        .f_sub_scalar(1.0)?;
    let gy = (flow.f_select(1, 1)? + ys)
        .f_mul_scalar(sy)?
        .f_sub_scalar(1.0)?;
    Ok(Tensor::f_stack(&[gx, gy], 3)?)
}

/// Whether `x + flow(x)` falls inside the image: `[N, 1, H, W]`, 1 inside, 0 outside.
pub fn inside_mask(flow: &Tensor) -> Result<Tensor> {
    let [_, _, h, w] = dims4(flow, "the flow")?;
    let opts = (flow.kind(), flow.device());
    let xs = Tensor::f_arange(w, opts)?.f_view([1, 1, w])?;
    let ys = Tensor::f_arange(h, opts)?.f_view([1, h, 1])?;
    let x = flow.f_select(1, 0)? + xs;
    let y = flow.f_select(1, 1)? + ys;
    let inside = x
        .f_ge(0.0)?
        .f_logical_and(&x.f_le((w - 1) as f64)?)?
        .f_logical_and(&y.f_ge(0.0)?)?
        .f_logical_and(&y.f_le((h - 1) as f64)?)?;
    Ok(inside.f_to_kind(flow.kind())?.f_unsqueeze(1)?)
}

/// Central-difference gradients `(∂/∂x, ∂/∂y)` of `[N, C, H, W]` images (the
/// border repeated, so one-sided at the edges).
pub fn gradients(img: &Tensor) -> Result<(Tensor, Tensor)> {
    let [_, _, h, w] = dims4(img, "the image")?;
    let p = img.f_replication_pad2d([1, 1, 1, 1])?;
    let gx = (p.f_narrow(3, 2, w)?.f_narrow(2, 1, h)? - p.f_narrow(3, 0, w)?.f_narrow(2, 1, h)?)
        .f_mul_scalar(0.5)?;
    let gy = (p.f_narrow(2, 2, h)?.f_narrow(3, 1, w)? - p.f_narrow(2, 0, h)?.f_narrow(3, 1, w)?)
        .f_mul_scalar(0.5)?;
    Ok((gx, gy))
}

/// The mean of the 4 direct neighbours of each pixel (border repeated): the
/// Laplacian's average of Horn–Schunck and of the variational refinement.
pub fn neighbour_mean(img: &Tensor) -> Result<Tensor> {
    let [_, _, h, w] = dims4(img, "the image")?;
    let p = img.f_replication_pad2d([1, 1, 1, 1])?;
    let left = p.f_narrow(2, 1, h)?.f_narrow(3, 0, w)?;
    let right = p.f_narrow(2, 1, h)?.f_narrow(3, 2, w)?;
    let up = p.f_narrow(2, 0, h)?.f_narrow(3, 1, w)?;
    let down = p.f_narrow(2, 2, h)?.f_narrow(3, 1, w)?;
    Ok((left + right + up + down).f_mul_scalar(0.25)?)
}

/// `[N, C, H, W]` resized to `h × w` by averaging each output pixel's area
/// (no aliasing when shrinking).
pub fn resize_area(img: &Tensor, h: i64, w: i64) -> Result<Tensor> {
    let [_, _, ih, iw] = dims4(img, "the image")?;
    if ih == h && iw == w {
        return Ok(img.shallow_clone());
    }
    Ok(img.f_adaptive_avg_pool2d([h, w])?)
}

/// The luma (ITU-R BT.601 weights) of `[N, 3, H, W]` RGB: `[N, 1, H, W]`.
pub fn luma(rgb: &Tensor) -> Result<Tensor> {
    let [_, c, _, _] = dims4(rgb, "the RGB frames")?;
    if c != 3 {
        return Err(Error::invalid(format!("luma needs 3 channels, got {c}")));
    }
    let wts = Tensor::f_from_slice(&[0.299f32, 0.587, 0.114])?
        .f_to_kind(rgb.kind())?
        .f_to(rgb.device())?
        .f_view([1, 3, 1, 1])?;
    Ok((rgb * wts).f_sum_dim_intlist(1, true, rgb.kind())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn warping_by_a_whole_pixel_shifts_the_image() {
        let img = Tensor::f_arange(20, (Kind::Float, tch::Device::Cpu))
            .unwrap()
            .view([1, 1, 4, 5]);
        let flow = Tensor::zeros([1, 2, 4, 5], (Kind::Float, tch::Device::Cpu));
        let _ = flow.select(1, 0).fill_(1.0);
        let out = warp(&img, &flow).unwrap();
        // Pixel (0, 0) reads (0, 1); the last column repeats the border.
        assert_eq!(out.double_value(&[0, 0, 0, 0]), 1.0);
        assert_eq!(out.double_value(&[0, 0, 2, 4]), 14.0);
        let inside = inside_mask(&flow).unwrap();
        assert_eq!(inside.double_value(&[0, 0, 0, 3]), 1.0);
        assert_eq!(inside.double_value(&[0, 0, 0, 4]), 0.0);
        assert!(warp(&img, &flow.narrow(2, 0, 3)).is_err());
    }

    #[test]
    fn gradients_of_a_ramp_are_its_slope() {
        let img = Tensor::f_arange(20, (Kind::Float, tch::Device::Cpu))
            .unwrap()
            .view([1, 1, 4, 5]);
        let (gx, gy) = gradients(&img).unwrap();
        assert_eq!(gx.double_value(&[0, 0, 1, 2]), 1.0);
        assert_eq!(gy.double_value(&[0, 0, 1, 2]), 5.0);
        assert_eq!(
            neighbour_mean(&img).unwrap().double_value(&[0, 0, 1, 1]),
            6.0
        );
    }
}
