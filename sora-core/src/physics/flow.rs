//! Dense optical flow written in the project, on batched tensors (CPU or CUDA):
//!
//! - [`dense_flow`]: a pyramidal, sub-pixel estimator of the DIS class
//!   (Kroeger et al., "Fast Optical Flow using Dense Inverse Search", ECCV
//!   2016), computed densely: at each pyramid level, coarse to fine, every
//!   pixel's patch is aligned by inverse-compositional Lucas–Kanade steps
//!   (the patch Hessian comes from the first image and is computed once per
//!   level), overlapping patches are fused weighted by their photometric
//!   error (DIS's densification), and a variational refinement (a linearised
//!   brightness-constancy term with a quadratic smoothness term, solved by
//!   Jacobi steps) fills in weakly textured areas.
//! - [`horn_schunck`]: the classic single-scale Horn–Schunck (1981), kept as
//!   a simple oracle for the tests.
//! - [`occlusion_mask`]: forward–backward consistency (Sundaram et al. 2010):
//!   a pixel is visible when following the forward flow and then the
//!   backward flow brings it back close to where it started.
//!
//! Images are `[N, 1, H, W]` float tensors (gray levels in [0, 1]); a flow is
//! `[N, 2, H, W]` (see [`super::warp`] for its convention).

use tch::Tensor;

use super::warp::{dims4, gradients, inside_mask, neighbour_mean, resize_area, warp};

/// Added to the patch Hessian's diagonal (gray levels in [0, 1]).
const RIDGE: f64 = 1e-6;
/// The largest update of one inverse-search step, in pixels of the level.
const MAX_STEP: f64 = 1.0;
use crate::{Error, Result};

/// How [`dense_flow`] works: the default is the accurate setting, and
/// [`FlowParams::fast`] the one the clip metrics use (accuracy of both in
/// `docs/physics.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowParams {
    /// The coarsest pyramid level's shorter side is at least this (pixels).
    pub min_level_size: i64,
    /// A patch is `patch_size²` pixels.
    pub patch_size: i64,
    /// Patches start every `patch_stride` pixels (they overlap when smaller
    /// than `patch_size`).
    pub patch_stride: i64,
    /// Inverse-search (Lucas–Kanade) steps per pyramid level.
    pub iterations: usize,
    /// Jacobi steps of the variational refinement per level (0: none).
    pub refine_iterations: usize,
    /// The finest pyramid level computed (0: full size); finer sizes get
    /// that level's flow resampled (DIS's "finest scale").
    pub finest_level: usize,
    /// Weight of the smoothness term in the variational refinement (gray
    /// levels in [0, 1]: a larger value smooths more).
    pub smoothness: f64,
}

impl Default for FlowParams {
    fn default() -> Self {
        FlowParams {
            min_level_size: 16,
            patch_size: 8,
            patch_stride: 4,
            iterations: 12,
            refine_iterations: 5,
            smoothness: 0.1,
            finest_level: 0,
        }
    }
}

impl FlowParams {
    /// The faster setting the clip metrics use: sparser patches, fewer
    /// steps, and the finest level left to resampling.
    pub fn fast() -> Self {
        FlowParams {
            patch_stride: 6,
            iterations: 8,
            refine_iterations: 3,
            finest_level: 1,
            ..FlowParams::default()
        }
    }
}

/// Checks that `i0` and `i1` are two batches of gray images of one shape.
fn check_pair(i0: &Tensor, i1: &Tensor) -> Result<[i64; 4]> {
    let d0 = dims4(i0, "the first images")?;
    let d1 = dims4(i1, "the second images")?;
    if d0 != d1 || d0[1] != 1 {
        return Err(Error::invalid(format!(
            "flow needs two [N, 1, H, W] batches of one shape, got {d0:?} and {d1:?}"
        )));
    }
    Ok(d0)
}

/// The sizes of the pyramid levels, finest first.
fn level_sizes(h: i64, w: i64, min_size: i64) -> Vec<(i64, i64)> {
    let mut sizes = vec![(h, w)];
    let (mut lh, mut lw) = (h, w);
    while lh.min(lw) / 2 >= min_size.max(2) {
        lh /= 2;
        lw /= 2;
        sizes.push((lh, lw));
    }
    sizes
}

/// A flow computed at one size, resampled to `h × w` (vectors rescaled).
pub fn resize_flow(flow: &Tensor, h: i64, w: i64) -> Result<Tensor> {
    let [_, _, fh, fw] = dims4(flow, "the flow")?;
    if fh == h && fw == w {
        return Ok(flow.shallow_clone());
    }
    let up = flow.f_upsample_bilinear2d([h, w], false, None, None)?;
    let scale = Tensor::f_from_slice(&[w as f32 / fw as f32, h as f32 / fh as f32])?
        .f_to_kind(flow.kind())?
        .f_to(flow.device())?
        .f_view([1, 2, 1, 1])?;
    Ok(up * scale)
}

/// Dense flow from each image of `i0` to the matching image of `i1`
/// (`[N, 1, H, W]` each): `[N, 2, H, W]`, so that `i0(x) ≈ i1(x + flow(x))`.
pub fn dense_flow(i0: &Tensor, i1: &Tensor, params: &FlowParams) -> Result<Tensor> {
    let [n, _, h, w] = check_pair(i0, i1)?;
    if params.patch_size < 2 || params.patch_stride < 1 || params.min_level_size < 1 {
        return Err(Error::invalid("flow parameters out of range"));
    }
    let sizes = level_sizes(h, w, params.min_level_size);
    let mut flow: Option<Tensor> = None;
    let finest = params.finest_level.min(sizes.len() - 1);
    for &(lh, lw) in sizes[finest..].iter().rev() {
        let a = resize_area(i0, lh, lw)?;
        let b = resize_area(i1, lh, lw)?;
        let init = match &flow {
            Some(f) => resize_flow(f, lh, lw)?,
            None => Tensor::f_zeros([n, 2, lh, lw], (i0.kind(), i0.device()))?,
        };
        let searched = inverse_search(&a, &b, init, params)?;
        flow = Some(refine(&a, &b, searched, params)?);
    }
    match flow {
        Some(f) => resize_flow(&f, h, w),
        None => Err(Error::invalid("empty pyramid")),
    }
}

/// The padded length that patches of `size` at `stride` cover exactly.
fn covered_len(len: i64, size: i64, stride: i64) -> i64 {
    let rest = (len - size).max(0);
    size + (rest + stride - 1) / stride * stride
}

/// DIS's inverse search at one level: patches of `patch_size²` pixels every
/// `patch_stride` pixels, each aligned by inverse-compositional Lucas–Kanade
/// steps starting from the mean of `flow` over it, then fused per pixel,
/// each patch weighted by the inverse of its photometric error there.
fn inverse_search(a: &Tensor, b: &Tensor, flow: Tensor, params: &FlowParams) -> Result<Tensor> {
    let [n, _, h, w] = dims4(a, "the first images")?;
    let ps = params.patch_size;
    let st = params.patch_stride;
    let (hp, wp) = (covered_len(h, ps, st), covered_len(w, ps, st));
    let pad = [0, wp - w, 0, hp - h];
    let cols = |t: &Tensor| -> Result<Tensor> {
        Ok(t.f_replication_pad2d(pad)?
            .f_im2col([ps, ps], [1, 1], [0, 0], [st, st])?)
    };
    let opts = (a.kind(), a.device());
    let k = ps * ps;
    // Which patch pixels are real pixels of the image (not padding): [1, K, L].
    let real = Tensor::f_ones([1, 1, h, w], opts)?
        .f_constant_pad_nd([0, wp - w, 0, hp - h])?
        .f_im2col([ps, ps], [1, 1], [0, 0], [st, st])?;
    let xs = Tensor::f_arange(w, opts)?
        .f_view([1, 1, 1, w])?
        .f_expand([1, 1, h, w], false)?;
    let ys = Tensor::f_arange(h, opts)?
        .f_view([1, 1, h, 1])?
        .f_expand([1, 1, h, w], false)?;
    let px = cols(&xs.f_contiguous()?)?;
    let py = cols(&ys.f_contiguous()?)?;
    let template = cols(a)?;
    let (gx, gy) = gradients(a)?;
    let gx = cols(&gx)? * &real;
    let gy = cols(&gy)? * &real;
    let sum_k = |t: &Tensor| -> Result<Tensor> { Ok(t.f_sum_dim_intlist(1, true, t.kind())?) };
    // The patch Hessian of the template: fixed for all steps (inverse compositional);
    // a small ridge keeps the step bounded where the patch has no texture.
    let sxx = sum_k(&(&gx * &gx))?.f_add_scalar(RIDGE)?;
    let sxy = sum_k(&(&gx * &gy))?;
    let syy = sum_k(&(&gy * &gy))?.f_add_scalar(RIDGE)?;
    let det = &sxx * &syy - &sxy * &sxy;
    // Each patch's flow [N, 1, L] starts from the mean of the flow over it.
    let fcols = cols(&flow)?
        .f_view([n, 2, k, -1])?
        .f_mean_dim(2, false, opts.0)?;
    let mut u = fcols.f_select(1, 0)?.f_unsqueeze(1)?;
    let mut v = fcols.f_select(1, 1)?.f_unsqueeze(1)?;
    let sx = 2.0 / ((w - 1).max(1) as f64);
    let sy = 2.0 / ((h - 1).max(1) as f64);
    // The second image at each patch pixel moved by its patch's flow, and
    // whether that point lies inside the image.
    let sample = |u: &Tensor, v: &Tensor| -> Result<(Tensor, Tensor)> {
        let x = &px + u;
        let y = &py + v;
        let grid = Tensor::f_stack(
            &[
                x.f_mul_scalar(sx)?.f_sub_scalar(1.0)?,
                y.f_mul_scalar(sy)?.f_sub_scalar(1.0)?,
            ],
            3,
        )?;
        let values = b.f_grid_sampler(&grid, 0, 1, true)?.f_squeeze_dim(1)?;
        let inside = x
            .f_ge(0.0)?
            .f_logical_and(&x.f_le((w - 1) as f64)?)?
            .f_logical_and(&y.f_ge(0.0)?)?
            .f_logical_and(&y.f_le((h - 1) as f64)?)?
            .f_to_kind(opts.0)?;
        Ok((values, inside * &real))
    };
    for _ in 0..params.iterations {
        let (values, valid) = sample(&u, &v)?;
        let err = (values - &template) * valid;
        let bx = sum_k(&(&gx * &err))?;
        let by = sum_k(&(&gy * &err))?;
        let du = ((&syy * &bx - &sxy * &by) / &det).f_clamp(-MAX_STEP, MAX_STEP)?;
        let dv = ((&sxx * &by - &sxy * &bx) / &det).f_clamp(-MAX_STEP, MAX_STEP)?;
        u -= du;
        v -= dv;
    }
    // Densification: each pixel's flow is the average of the patches over it,
    // weighted by the inverse of the photometric error the patch leaves there.
    let (values, valid) = sample(&u, &v)?;
    let err = (values - &template).f_abs()?;
    let weight = err.f_clamp_min(1.0 / 255.0)?.f_reciprocal()? * valid.f_add_scalar(1e-3)? * &real;
    let stacked = Tensor::f_cat(&[&weight * &u, &weight * &v, weight], 1)?;
    let dense = stacked
        .f_col2im([hp, wp], [ps, ps], [1, 1], [0, 0], [st, st])?
        .f_narrow(2, 0, h)?
        .f_narrow(3, 0, w)?;
    let num = dense.f_narrow(1, 0, 2)?;
    let den = dense.f_narrow(1, 2, 1)?.f_clamp_min(1e-12)?;
    Ok(num / den)
}

/// The variational refinement: Jacobi steps on a linearised brightness
/// constancy with quadratic smoothness around the current flow.
fn refine(a: &Tensor, b: &Tensor, flow: Tensor, params: &FlowParams) -> Result<Tensor> {
    if params.refine_iterations == 0 {
        return Ok(flow);
    }
    let bw = warp(b, &flow)?;
    let (bx, by) = gradients(&bw)?;
    let (ax, ay) = gradients(a)?;
    let ix = (bx + ax).f_mul_scalar(0.5)?;
    let iy = (by + ay).f_mul_scalar(0.5)?;
    let it = &bw - a;
    let denom = (&ix * &ix + &iy * &iy).f_add_scalar(params.smoothness * params.smoothness)?;
    let base = flow.shallow_clone();
    let mut cur = flow;
    for _ in 0..params.refine_iterations {
        let avg = neighbour_mean(&cur)?;
        let d = &avg - &base;
        let resid =
            &ix * d.f_select(1, 0)?.f_unsqueeze(1)? + &iy * d.f_select(1, 1)?.f_unsqueeze(1)? + &it;
        let step = &resid / &denom;
        cur = avg - Tensor::f_cat(&[&ix * &step, &iy * &step], 1)?;
    }
    Ok(cur)
}

/// Classic Horn–Schunck flow at one scale: `alpha` weighs smoothness (gray
/// levels in [0, 1]), `iterations` Jacobi steps. The tests' oracle.
pub fn horn_schunck(i0: &Tensor, i1: &Tensor, alpha: f64, iterations: usize) -> Result<Tensor> {
    let [n, _, h, w] = check_pair(i0, i1)?;
    let (ax, ay) = gradients(i0)?;
    let (bx, by) = gradients(i1)?;
    let ix = (ax + bx).f_mul_scalar(0.5)?;
    let iy = (ay + by).f_mul_scalar(0.5)?;
    let it = i1 - i0;
    let denom = (&ix * &ix + &iy * &iy).f_add_scalar(alpha * alpha)?;
    let mut flow = Tensor::f_zeros([n, 2, h, w], (i0.kind(), i0.device()))?;
    for _ in 0..iterations {
        let avg = neighbour_mean(&flow)?;
        let resid = &ix * avg.f_select(1, 0)?.f_unsqueeze(1)?
            + &iy * avg.f_select(1, 1)?.f_unsqueeze(1)?
            + &it;
        let step = &resid / &denom;
        flow = avg - Tensor::f_cat(&[&ix * &step, &iy * &step], 1)?;
    }
    Ok(flow)
}

/// Forward–backward consistency: `[N, 1, H, W]`, 1 where the pixel is seen in
/// both images, 0 where it is occluded (or leaves the image). `forward` maps
/// the first image to the second, `backward` the second to the first.
///
/// Visible when `|w + ŵ|² ≤ 0.01 (|w|² + |ŵ|²) + 0.5`, with `w` the forward
/// flow and `ŵ` the backward flow read at `x + w(x)` (Sundaram et al. 2010)
/// and the landing point inside the image.
pub fn occlusion_mask(forward: &Tensor, backward: &Tensor) -> Result<Tensor> {
    let df = dims4(forward, "the forward flow")?;
    let db = dims4(backward, "the backward flow")?;
    if df != db || df[1] != 2 {
        return Err(Error::invalid("forward and backward flows differ in shape"));
    }
    let back_at = warp(backward, forward)?;
    let sq =
        |t: &Tensor| -> Result<Tensor> { Ok(t.f_square()?.f_sum_dim_intlist(1, true, t.kind())?) };
    let lhs = sq(&(forward + &back_at))?;
    let rhs = (sq(forward)? + sq(&back_at)?)
        .f_mul_scalar(0.01)?
        .f_add_scalar(0.5)?;
    let consistent = lhs.f_le_tensor(&rhs)?.f_to_kind(forward.kind())?;
    Ok(consistent * inside_mask(forward)?)
}

/// The average end-point error `mean |flow − truth|` over pixels where
/// `mask` (`[N, 1, H, W]`, optional) is 1.
pub fn endpoint_error(flow: &Tensor, truth: &Tensor, mask: Option<&Tensor>) -> Result<f64> {
    let d = (flow - truth)
        .f_square()?
        .f_sum_dim_intlist(1, true, flow.kind())?
        .f_sqrt()?;
    match mask {
        Some(m) => {
            let total = m.f_sum(m.kind())?.double_value(&[]);
            if total <= 0.0 {
                return Err(Error::invalid("the end-point error's mask is empty"));
            }
            Ok((d * m).f_sum(flow.kind())?.double_value(&[]) / total)
        }
        None => Ok(d.f_mean(flow.kind())?.double_value(&[])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// A smooth random texture, evaluated exactly at any point: a sum of
    /// sinusoids of wavelengths 5–40 px in random directions.
    struct Texture {
        waves: Vec<(f64, f64, f64, f64)>,
    }

    impl Texture {
        fn new(seed: u64) -> Self {
            let mut s = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut rnd = move || {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64) / ((1u64 << 53) as f64)
            };
            let waves = (0..24)
                .map(|_| {
                    let wavelength = 5.0 + 35.0 * rnd();
                    let angle = std::f64::consts::TAU * rnd();
                    let k = std::f64::consts::TAU / wavelength;
                    (
                        k * angle.cos(),
                        k * angle.sin(),
                        std::f64::consts::TAU * rnd(),
                        0.5 + rnd(),
                    )
                })
                .collect();
            Texture { waves }
        }

        fn at(&self, x: f64, y: f64) -> f64 {
            let (sum, norm) = self
                .waves
                .iter()
                .fold((0.0, 0.0), |(s, n), &(kx, ky, ph, a)| {
                    (s + a * (kx * x + ky * y + ph).sin(), n + a)
                });
            0.5 + 0.45 * sum / norm.sqrt() / 2.5
        }

        /// The image seen after moving the texture by `motion` (maps a point
        /// of the first image to where it lands), and the exact flow.
        fn pair(
            &self,
            size: i64,
            motion: impl Fn(f64, f64) -> (f64, f64),
            inverse: impl Fn(f64, f64) -> (f64, f64),
        ) -> (Tensor, Tensor, Tensor) {
            let n = size as usize;
            let mut a = Vec::with_capacity(n * n);
            let mut b = Vec::with_capacity(n * n);
            let mut u = Vec::with_capacity(n * n);
            let mut v = Vec::with_capacity(n * n);
            for y in 0..n {
                for x in 0..n {
                    let (xf, yf) = (x as f64, y as f64);
                    a.push(self.at(xf, yf) as f32);
                    let (sx, sy) = inverse(xf, yf);
                    b.push(self.at(sx, sy) as f32);
                    let (mx, my) = motion(xf, yf);
                    u.push((mx - xf) as f32);
                    v.push((my - yf) as f32);
                }
            }
            let img = |d: Vec<f32>| Tensor::from_slice(&d).view([1, 1, size, size]);
            let flow = Tensor::cat(&[img(u), img(v)], 1);
            (img(a), img(b), flow)
        }
    }

    /// Pairs with known flow: translations and rotations about the centre.
    fn cases() -> Vec<(Tensor, Tensor, Tensor)> {
        let size = 96;
        let c = (size as f64 - 1.0) / 2.0;
        let mut out = Vec::new();
        for (i, &(tx, ty)) in [(2.3, -1.7), (-4.6, 3.2), (0.4, 0.9)].iter().enumerate() {
            let t = Texture::new(i as u64 + 1);
            out.push(t.pair(
                size,
                move |x, y| (x + tx, y + ty),
                move |x, y| (x - tx, y - ty),
            ));
        }
        for (i, &deg) in [3.0f64, -5.0].iter().enumerate() {
            let t = Texture::new(i as u64 + 10);
            let th = deg.to_radians();
            let rot = move |x: f64, y: f64, th: f64| {
                let (dx, dy) = (x - c, y - c);
                (
                    c + th.cos() * dx - th.sin() * dy,
                    c + th.sin() * dx + th.cos() * dy,
                )
            };
            out.push(t.pair(size, move |x, y| rot(x, y, th), move |x, y| rot(x, y, -th)));
        }
        out
    }

    /// The pixels away from the border (where the truth leaves the image).
    fn interior(size: i64, margin: i64) -> Tensor {
        let m = Tensor::zeros([1, 1, size, size], (Kind::Float, Device::Cpu));
        let _ = m
            .narrow(2, margin, size - 2 * margin)
            .narrow(3, margin, size - 2 * margin)
            .fill_(1.0);
        m
    }

    #[test]
    fn dense_flow_is_sub_pixel_and_beats_horn_schunck() {
        let mask = interior(96, 8);
        for (i, (a, b, truth)) in cases().into_iter().enumerate() {
            let ours = dense_flow(&a, &b, &FlowParams::default()).unwrap();
            let hs = horn_schunck(&a, &b, 0.05, 200).unwrap();
            let e_ours = endpoint_error(&ours, &truth, Some(&mask)).unwrap();
            let e_hs = endpoint_error(&hs, &truth, Some(&mask)).unwrap();
            eprintln!("case {i}: EPE ours {e_ours:.3} px, Horn–Schunck {e_hs:.3} px");
            assert!(e_ours < 0.5, "case {i}: EPE {e_ours}");
            assert!(e_ours < e_hs, "case {i}: {e_ours} ≥ Horn–Schunck's {e_hs}");
        }
    }

    #[test]
    fn the_metrics_fast_setting_is_sub_pixel_too() {
        let mask = interior(96, 8);
        for (i, (a, b, truth)) in cases().into_iter().enumerate() {
            let fast = dense_flow(&a, &b, &FlowParams::fast()).unwrap();
            let e = endpoint_error(&fast, &truth, Some(&mask)).unwrap();
            eprintln!("case {i}: EPE fast {e:.3} px");
            assert!(e < 0.5, "case {i}: EPE {e}");
        }
    }

    #[test]
    fn forward_backward_marks_only_the_border_as_occluded_under_translation() {
        let (a, b, _) = cases().swap_remove(0);
        let p = FlowParams::default();
        let f = dense_flow(&a, &b, &p).unwrap();
        let bwd = dense_flow(&b, &a, &p).unwrap();
        let vis = occlusion_mask(&f, &bwd).unwrap();
        let inner = interior(96, 8);
        let inner_vis = (&vis * &inner).sum(Kind::Float).double_value(&[])
            / inner.sum(Kind::Float).double_value(&[]);
        assert!(inner_vis > 0.98, "visible share inside {inner_vis}");
        // The 2.3 px shift moves the last two columns out of the image.
        let last_cols = vis.narrow(3, 94, 2).mean(Kind::Float).double_value(&[]);
        assert!(
            last_cols < 0.1,
            "visible share of the columns that leave {last_cols}"
        );
    }

    #[test]
    fn mismatched_inputs_are_refused() {
        let a = Tensor::zeros([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let b = Tensor::zeros([1, 1, 8, 9], (Kind::Float, Device::Cpu));
        assert!(dense_flow(&a, &b, &FlowParams::default()).is_err());
        assert!(horn_schunck(&a, &a.view([1, 8, 8]), 0.1, 1).is_err());
    }
}
