//! Clip metrics computed from the frames (no learned weights), each with its
//! formula and source. Frames are RGB in [0, 1] unless said otherwise; `T` is
//! the number of frames. The flow-based metrics run on frames shrunk to
//! [`ANALYSIS_MAX_SIDE`] (area averaging) with [`super::flow::dense_flow`].
//!
//! - `flicker` — VBench's temporal flickering (Huang et al., "VBench", CVPR
//!   2024, `vbench/temporal_flickering.py`) as a badness: VBench scores a clip
//!   `(255 − MAE) / 255` with `MAE = mean_t mean_{x,c} |F_{t+1} − F_t|` over
//!   8-bit frames; we report `MAE / 255` = 1 − VBench's score, at full
//!   resolution: 0 for a static clip, higher when brightness jumps between
//!   frames. VBench applies it to clips meant to be static; on a moving clip
//!   it also grows with motion.
//! - `warping_error` — Lai et al., "Learning Blind Video Temporal
//!   Consistency", ECCV 2018: `E = mean_t Σ_x M_t(x) ‖F_t(x) − F̂_{t+1}(x)‖² /
//!   Σ_x M_t(x)`, with `F̂_{t+1}` frame `t+1` warped back to frame `t` by the
//!   flow `t → t+1`, `‖·‖²` summed over RGB, and `M_t` the non-occlusion mask
//!   of forward–backward consistency. Lai et al. take the flow from the input
//!   video (FlowNet2); here the flow is the clip's own (ours).
//! - `motion_smoothness` — VBench-style, not VBench's number: VBench drops
//!   the odd frames, re-interpolates them from the even ones with a learned
//!   model (AMT) and scores `(255 − MAE) / 255` between real and
//!   interpolated odd frames. We interpolate frame `2k+1` from frames `2k` and
//!   `2k+2` along our flow (both directions, the middle-time approximation of
//!   Jiang et al., "Super SloMo", CVPR 2018, without occlusion reasoning):
//!   `1 − mean_k mean_{x,c} |F_{2k+1} − Î_{2k+1}|` in [0, 1], 1 = perfectly
//!   smooth.
//! - `dynamic_degree` — flow-based after VBench's `dynamic_degree.py` (RAFT
//!   there, ours here): frames sampled every `max(1, round(fps / 8))`; per
//!   sampled pair the mean of the largest 5 % flow magnitudes (in full-size
//!   pixels); a pair moves when that exceeds `max(1, 8/fps) · 6 · min(H, W) /
//!   256`. We report the share of pairs that move (VBench calls a clip dynamic
//!   when about a quarter of them do: `round(4·count/16)` pairs).
//! - With a reference continuation, the Physics-IQ metrics (Motamed et al.,
//!   "Do generative video models understand physical principles?", 2025) on
//!   the first `min(T, T_ref)` frames of both, at full resolution. A motion
//!   mask marks the pixels whose colour changed by more than
//!   [`MOTION_THRESHOLD`] (largest channel) since the previous frame (a frame
//!   difference; Physics-IQ uses a background subtractor).
//!   `physics_iq_spatial_iou`: IoU of the masks' union over time ("where");
//!   `physics_iq_spatiotemporal_iou`: IoU of the masks as space–time volumes
//!   ("where and when"); `physics_iq_weighted_spatial_iou`: `Σ_x min(c, c_ref)
//!   / Σ_x max(c, c_ref)` with `c(x)` the number of frames that move at `x`
//!   ("where and how much"); `physics_iq_mse`: mean squared error of the
//!   frames (RGB in [0, 1]). An IoU whose union is empty is 1.

use ndarray::ArrayView4;
use tch::{Device, Kind, Tensor};

use super::flow::{dense_flow, occlusion_mask, FlowParams};
use super::input::ScoreInput;
use super::report::PhysicsReport;
use super::warp::{dims4, luma, resize_area, warp};
use crate::{Error, Result};

/// The flow-based metrics run on frames whose longer side is at most this.
pub const ANALYSIS_MAX_SIDE: i64 = 256;

/// A pixel moves (Physics-IQ motion masks) when a channel changed by more
/// than this (values in [0, 1]) since the previous frame.
pub const MOTION_THRESHOLD: f64 = 0.05;

/// Frames converted to float at a time (bounds memory on long clips).
const FRAME_CHUNK: i64 = 8;

/// Frame pairs given to the flow at a time.
const PAIR_CHUNK: usize = 16;

/// `[T, H, W, 3]` 8-bit frames as a `[T, 3, H, W]` uint8 tensor on `device`.
pub fn frames_tensor(frames: ArrayView4<u8>, device: Device) -> Result<Tensor> {
    let s = frames.shape();
    let dims = [s[0] as i64, s[1] as i64, s[2] as i64, s[3] as i64];
    let data = frames.as_standard_layout();
    let slice = data
        .as_slice()
        .ok_or_else(|| Error::invalid("frames are not contiguous"))?;
    Ok(Tensor::f_from_slice(slice)?
        .f_view(dims)?
        .f_permute([0, 3, 1, 2])?
        .f_to(device)?)
}

/// Frames `start..start+len` of a uint8 `[T, 3, H, W]` tensor as float in [0, 1].
fn unit_frames(frames: &Tensor, start: i64, len: i64) -> Result<Tensor> {
    Ok(frames
        .f_narrow(0, start, len)?
        .f_to_kind(Kind::Float)?
        .f_div_scalar(255.0)?)
}

/// Runs `f` on overlapping chunks `[s, s + len)` of the frames, each chunk
/// sharing its first frame with the previous chunk's last (so every
/// consecutive pair is seen once).
fn for_pair_chunks(t: i64, mut f: impl FnMut(i64, i64) -> Result<()>) -> Result<()> {
    let mut s = 0;
    while s + 1 < t {
        let len = (FRAME_CHUNK + 1).min(t - s);
        f(s, len)?;
        s += len - 1;
    }
    Ok(())
}

/// `flicker`: `mean_t mean_{x,c} |F_{t+1} − F_t|` (RGB in [0, 1]) over a uint8
/// `[T, 3, H, W]` clip; `None` with fewer than 2 frames (see the module docs).
pub fn flicker(frames: &Tensor) -> Result<Option<f64>> {
    let [t, _, _, _] = dims4(frames, "the frames")?;
    if t < 2 {
        return Ok(None);
    }
    // Exact integer sums of the 8-bit differences.
    let mut total = 0.0;
    for_pair_chunks(t, |s, len| {
        let f = frames.f_narrow(0, s, len)?.f_to_kind(Kind::Int16)?;
        let d = (f.f_narrow(0, 1, len - 1)? - f.f_narrow(0, 0, len - 1)?).f_abs()?;
        total += d.f_sum(Kind::Int64)?.int64_value(&[]) as f64;
        Ok(())
    })?;
    let per_frame = (frames.numel() as i64 / t) as f64;
    let total = total / 255.0 / per_frame;
    Ok(Some(total / (t - 1) as f64))
}

/// The size `(h, w)` the flow-based metrics work at for `H × W` frames.
pub fn analysis_size(h: i64, w: i64) -> (i64, i64) {
    let side = h.max(w);
    if side <= ANALYSIS_MAX_SIDE {
        return (h, w);
    }
    let scale = ANALYSIS_MAX_SIDE as f64 / side as f64;
    let r = |v: i64| ((v as f64 * scale).round() as i64).max(1);
    (r(h), r(w))
}

/// A uint8 `[T, 3, H, W]` clip as float RGB in [0, 1] at [`analysis_size`].
pub fn analysis_frames(frames: &Tensor) -> Result<Tensor> {
    let [t, _, h, w] = dims4(frames, "the frames")?;
    let (ah, aw) = analysis_size(h, w);
    let mut parts = Vec::new();
    let mut s = 0;
    while s < t {
        let len = FRAME_CHUNK.min(t - s);
        parts.push(resize_area(&unit_frames(frames, s, len)?, ah, aw)?);
        s += len;
    }
    Ok(Tensor::f_cat(&parts, 0)?)
}

/// The flows from frame `from[i]` to frame `to[i]` of `gray` (`[T, 1, h, w]`):
/// `[len, 2, h, w]`.
pub fn flows_between(
    gray: &Tensor,
    from: &[i64],
    to: &[i64],
    params: &FlowParams,
) -> Result<Tensor> {
    if from.len() != to.len() || from.is_empty() {
        return Err(Error::invalid(
            "flow pairs: two index lists of one non-zero length",
        ));
    }
    let mut parts = Vec::new();
    for (a, b) in from.chunks(PAIR_CHUNK).zip(to.chunks(PAIR_CHUNK)) {
        let ia = Tensor::f_from_slice(a)?.f_to(gray.device())?;
        let ib = Tensor::f_from_slice(b)?.f_to(gray.device())?;
        let i0 = gray.f_index_select(0, &ia)?;
        let i1 = gray.f_index_select(0, &ib)?;
        parts.push(dense_flow(&i0, &i1, params)?);
    }
    Ok(Tensor::f_cat(&parts, 0)?)
}

/// The flows the metrics share, computed once per clip at the analysis size.
pub struct ClipFlows {
    /// RGB in [0, 1], `[T, 3, h, w]`.
    pub rgb: Tensor,
    /// Luma, `[T, 1, h, w]`.
    pub gray: Tensor,
    /// Flow `t → t+1`, `[T−1, 2, h, w]` (`None` with one frame).
    pub forward: Option<Tensor>,
    /// Flow `t+1 → t`, `[T−1, 2, h, w]`.
    pub backward: Option<Tensor>,
}

impl ClipFlows {
    /// Shrinks the clip (uint8 `[T, 3, H, W]`) and computes consecutive flows.
    pub fn compute(frames: &Tensor, params: &FlowParams) -> Result<Self> {
        let rgb = analysis_frames(frames)?;
        let gray = luma(&rgb)?;
        let t = rgb.size()[0];
        let (forward, backward) = if t >= 2 {
            let a: Vec<i64> = (0..t - 1).collect();
            let b: Vec<i64> = (1..t).collect();
            let both = flows_between(
                &gray,
                &[a.clone(), b.clone()].concat(),
                &[b, a].concat(),
                params,
            )?;
            let n = t - 1;
            (Some(both.f_narrow(0, 0, n)?), Some(both.f_narrow(0, n, n)?))
        } else {
            (None, None)
        };
        Ok(ClipFlows {
            rgb,
            gray,
            forward,
            backward,
        })
    }
}

/// `warping_error` (Lai et al. 2018, see the module docs); `None` with fewer
/// than 2 frames or when every pixel is occluded.
pub fn warping_error(flows: &ClipFlows) -> Result<Option<f64>> {
    let (Some(fwd), Some(bwd)) = (&flows.forward, &flows.backward) else {
        return Ok(None);
    };
    let n = fwd.size()[0];
    let mut sum = 0.0;
    let mut counted = 0usize;
    let mut s = 0;
    while s < n {
        let len = (PAIR_CHUNK as i64).min(n - s);
        let f = fwd.f_narrow(0, s, len)?;
        let b = bwd.f_narrow(0, s, len)?;
        let visible = occlusion_mask(&f, &b)?;
        let cur = flows.rgb.f_narrow(0, s, len)?;
        let next = warp(&flows.rgb.f_narrow(0, s + 1, len)?, &f)?;
        let sq = (cur - next)
            .f_square()?
            .f_sum_dim_intlist(1, true, Kind::Float)?;
        let num =
            (sq * &visible).f_sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Double)?;
        let den = visible.f_sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Double)?;
        for i in 0..len {
            let d = den.double_value(&[i]);
            if d > 0.0 {
                sum += num.double_value(&[i]) / d;
                counted += 1;
            }
        }
        s += len;
    }
    Ok((counted > 0).then(|| sum / counted as f64))
}

/// `motion_smoothness` (VBench-style, see the module docs); `None` with fewer
/// than 3 frames. Also returns the flows between frames `2k` and `2k+2`
/// (forward then backward, `[2K, 2, h, w]`) for reuse.
pub fn motion_smoothness(
    flows: &ClipFlows,
    params: &FlowParams,
) -> Result<(Option<f64>, Option<Tensor>)> {
    let t = flows.rgb.size()[0];
    if t < 3 {
        return Ok((None, None));
    }
    let a: Vec<i64> = (0..t).step_by(2).filter(|i| i + 2 < t).collect();
    let b: Vec<i64> = a.iter().map(|i| i + 2).collect();
    let k = a.len() as i64;
    let both = flows_between(
        &flows.gray,
        &[a.clone(), b.clone()].concat(),
        &[b.clone(), a.clone()].concat(),
        params,
    )?;
    let mut total = 0.0;
    for (chunk_start, chunk) in a
        .chunks(PAIR_CHUNK)
        .enumerate()
        .map(|(i, c)| (i * PAIR_CHUNK, c))
    {
        let len = chunk.len() as i64;
        let s = chunk_start as i64;
        let f01 = both.f_narrow(0, s, len)?;
        let f10 = both.f_narrow(0, k + s, len)?;
        // Flows from the middle time to either end (Super SloMo, t = 1/2).
        let ft0 = (&f10 - &f01).f_mul_scalar(0.25)?;
        let ft1 = (&f01 - &f10).f_mul_scalar(0.25)?;
        let first = flows
            .rgb
            .f_index_select(0, &Tensor::f_from_slice(chunk)?.f_to(flows.rgb.device())?)?;
        let mids: Vec<i64> = chunk.iter().map(|i| i + 1).collect();
        let ends: Vec<i64> = chunk.iter().map(|i| i + 2).collect();
        let mid = flows
            .rgb
            .f_index_select(0, &Tensor::f_from_slice(&mids)?.f_to(flows.rgb.device())?)?;
        let last = flows
            .rgb
            .f_index_select(0, &Tensor::f_from_slice(&ends)?.f_to(flows.rgb.device())?)?;
        let guess = (warp(&first, &ft0)? + warp(&last, &ft1)?).f_mul_scalar(0.5)?;
        total += (guess - mid)
            .f_abs()?
            .f_mean_dim([1i64, 2, 3].as_slice(), false, Kind::Double)?
            .f_sum(Kind::Double)?
            .double_value(&[]);
    }
    Ok((Some(1.0 - total / k as f64), Some(both)))
}

/// `dynamic_degree` (flow-based after VBench, see the module docs) of a clip
/// of `full_h × full_w` frames at `fps`; `None` with fewer than 2 sampled
/// frames. `even_flows`, from [`motion_smoothness`], are reused when frames are
/// sampled every second one.
pub fn dynamic_degree(
    flows: &ClipFlows,
    full_h: i64,
    full_w: i64,
    fps: f32,
    even_flows: Option<&Tensor>,
    params: &FlowParams,
) -> Result<Option<f64>> {
    let t = flows.rgb.size()[0];
    let interval = ((fps as f64 / 8.0).round() as i64).max(1);
    let sampled: Vec<i64> = (0..t).step_by(interval as usize).collect();
    if sampled.len() < 2 {
        return Ok(None);
    }
    let pairs = sampled.len() - 1;
    let flow = match (interval, &flows.forward, even_flows) {
        (1, Some(f), _) => f.shallow_clone(),
        (2, _, Some(e)) => e.f_narrow(0, 0, pairs as i64)?,
        _ => flows_between(&flows.gray, &sampled[..pairs], &sampled[1..], params)?,
    };
    // Magnitudes in full-size pixels.
    let [_, _, h, w] = dims4(&flow, "the flow")?;
    let scale_x = full_w as f64 / w as f64;
    let scale_y = full_h as f64 / h as f64;
    let u = flow.f_select(1, 0)?.f_mul_scalar(scale_x)?;
    let v = flow.f_select(1, 1)?.f_mul_scalar(scale_y)?;
    let mag = (u.f_square()? + v.f_square()?)
        .f_sqrt()?
        .f_view([pairs as i64, -1])?;
    let cut = ((h * w) as f64 * 0.05) as i64;
    let top = mag
        .f_topk(cut.max(1), 1, true, false)?
        .0
        .f_mean_dim(1, false, Kind::Double)?;
    let factor = (8.0 / fps as f64).max(1.0);
    let threshold = factor * 6.0 * (full_h.min(full_w) as f64 / 256.0);
    let moving = top.f_gt(threshold)?.f_sum(Kind::Double)?.double_value(&[]);
    Ok(Some(moving / pairs as f64))
}

/// The Physics-IQ metrics of a clip against its reference (uint8
/// `[T, 3, H, W]` each; see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhysicsIq {
    /// IoU of where anything moved.
    pub spatial_iou: Option<f64>,
    /// IoU of where and when things moved.
    pub spatiotemporal_iou: Option<f64>,
    /// Weighted IoU of how often each pixel moved.
    pub weighted_spatial_iou: Option<f64>,
    /// Mean squared error of the frames (RGB in [0, 1]).
    pub mse: f64,
}

/// Intersection over union, 1 when the union is empty.
fn iou(inter: f64, union: f64) -> f64 {
    if union > 0.0 {
        inter / union
    } else {
        1.0
    }
}

/// The Physics-IQ metrics (see the module docs); `None` for the IoUs when
/// fewer than 2 frames are compared.
pub fn physics_iq(clip: &Tensor, reference: &Tensor) -> Result<PhysicsIq> {
    let [tc, _, h, w] = dims4(clip, "the frames")?;
    let [tr, _, rh, rw] = dims4(reference, "the reference")?;
    if (h, w) != (rh, rw) {
        return Err(Error::invalid(
            "the reference's frame size differs from the clip's",
        ));
    }
    let t = tc.min(tr);
    // MSE over the compared frames.
    let mut se = 0.0;
    let mut s = 0;
    while s < t {
        let len = FRAME_CHUNK.min(t - s);
        let d = unit_frames(clip, s, len)? - unit_frames(reference, s, len)?;
        se += d.f_square()?.f_sum(Kind::Double)?.double_value(&[]);
        s += len;
    }
    let mse = se / (t * 3 * h * w) as f64;
    if t < 2 {
        return Ok(PhysicsIq {
            spatial_iou: None,
            spatiotemporal_iou: None,
            weighted_spatial_iou: None,
            mse,
        });
    }
    let opts = (Kind::Float, clip.device());
    let mut count_a = Tensor::f_zeros([h, w], opts)?;
    let mut count_b = Tensor::f_zeros([h, w], opts)?;
    let (mut st_inter, mut st_union) = (0.0, 0.0);
    let motion = |f: &Tensor, len: i64| -> Result<Tensor> {
        let d = (f.f_narrow(0, 1, len - 1)? - f.f_narrow(0, 0, len - 1)?).f_abs()?;
        Ok(d.f_amax([1i64].as_slice(), false)?.f_gt(MOTION_THRESHOLD)?)
    };
    for_pair_chunks(t, |s, len| {
        let ma = motion(&unit_frames(clip, s, len)?, len)?;
        let mb = motion(&unit_frames(reference, s, len)?, len)?;
        st_inter += ma
            .f_logical_and(&mb)?
            .f_sum(Kind::Double)?
            .double_value(&[]);
        st_union += ma.f_logical_or(&mb)?.f_sum(Kind::Double)?.double_value(&[]);
        count_a += ma.f_sum_dim_intlist(0, false, Kind::Float)?;
        count_b += mb.f_sum_dim_intlist(0, false, Kind::Float)?;
        Ok(())
    })?;
    let any_a = count_a.f_gt(0.0)?;
    let any_b = count_b.f_gt(0.0)?;
    let sum = |t: Tensor| -> Result<f64> { Ok(t.f_sum(Kind::Double)?.double_value(&[])) };
    let spatial = iou(
        sum(any_a.f_logical_and(&any_b)?)?,
        sum(any_a.f_logical_or(&any_b)?)?,
    );
    let weighted = iou(
        sum(count_a.f_minimum(&count_b)?)?,
        sum(count_a.f_maximum(&count_b)?)?,
    );
    Ok(PhysicsIq {
        spatial_iou: Some(spatial),
        spatiotemporal_iou: Some(iou(st_inter, st_union)),
        weighted_spatial_iou: Some(weighted),
        mse,
    })
}

/// The analyzer of [`super::score::ANALYZERS`]: sets `flicker`,
/// `warping_error`, `motion_smoothness`, `dynamic_degree` and the
/// `physics_iq_*` metrics (`null` where they do not apply).
pub fn clip_metrics(input: &ScoreInput, report: &mut PhysicsReport) -> Result<()> {
    let device = Device::Cpu;
    let params = FlowParams::fast();
    let frames = frames_tensor(input.frames, device)?;
    let [_, _, h, w] = dims4(&frames, "the frames")?;
    report.set("flicker", flicker(&frames)?);
    let flows = ClipFlows::compute(&frames, &params)?;
    report.set("warping_error", warping_error(&flows)?);
    let (smoothness, even_flows) = motion_smoothness(&flows, &params)?;
    report.set("motion_smoothness", smoothness);
    report.set(
        "dynamic_degree",
        dynamic_degree(&flows, h, w, input.fps, even_flows.as_ref(), &params)?,
    );
    let iq = match input.reference {
        Some(r) => Some(physics_iq(&frames, &frames_tensor(r, device)?)?),
        None => None,
    };
    report.set("physics_iq_spatial_iou", iq.and_then(|q| q.spatial_iou));
    report.set(
        "physics_iq_spatiotemporal_iou",
        iq.and_then(|q| q.spatiotemporal_iou),
    );
    report.set(
        "physics_iq_weighted_spatial_iou",
        iq.and_then(|q| q.weighted_spatial_iou),
    );
    report.set("physics_iq_mse", iq.map(|q| q.mse));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;

    /// A smooth texture (sum of sinusoids) in 8 bits at a point.
    fn texture(x: f64, y: f64) -> f64 {
        let waves = [
            (0.31, 0.12, 0.3),
            (-0.17, 0.41, 1.1),
            (0.07, -0.23, 2.0),
            (0.52, 0.33, 0.7),
            (-0.44, -0.09, 2.9),
        ];
        let s: f64 = waves
            .iter()
            .map(|&(kx, ky, p)| (kx * x + ky * y + p).sin())
            .sum();
        128.0 + 100.0 * s / waves.len() as f64 * 1.6
    }

    /// A clip of `positions.len()` frames: the texture shifted by `(p·vx, p·vy)`
    /// for each position `p`, with a brightness offset per frame.
    fn moving_clip(positions: &[f64], velocity: (f64, f64), offsets: &[f64]) -> Array4<u8> {
        let (h, w) = (48, 64);
        Array4::from_shape_fn((positions.len(), h, w, 3), |(t, y, x, c)| {
            let p = positions[t];
            let v = texture(x as f64 - p * velocity.0, y as f64 - p * velocity.1)
                + 10.0 * c as f64
                + offsets.get(t).copied().unwrap_or(0.0);
            v.clamp(0.0, 255.0) as u8
        })
    }

    fn report_of(frames: &Array4<u8>, fps: f32, reference: Option<&Array4<u8>>) -> PhysicsReport {
        let input = ScoreInput {
            frames: frames.view(),
            fps,
            audio: None,
            sample_rate: 0,
            reference: reference.map(|r| r.view()),
        };
        let mut report = PhysicsReport::default();
        clip_metrics(&input, &mut report).unwrap();
        report
    }

    #[test]
    fn a_static_clip_has_no_flicker_no_motion_and_is_smooth() {
        let frames = moving_clip(&[0.0; 9], (0.0, 0.0), &[]);
        let r = report_of(&frames, 8.0, None);
        assert_eq!(r.metric("flicker"), Some(0.0));
        assert_eq!(r.metric("dynamic_degree"), Some(0.0));
        assert!(r.metric("warping_error").unwrap() < 1e-6);
        assert!(r.metric("motion_smoothness").unwrap() > 0.9999);
        assert!(r.metrics["physics_iq_mse"].is_none());
    }

    #[test]
    fn brightness_flashes_raise_flicker() {
        let pos: Vec<f64> = (0..9).map(f64::from).collect();
        let clean = report_of(&moving_clip(&pos, (1.0, 0.5), &[]), 8.0, None);
        let mut flashes = vec![0.0; 9];
        flashes[3] = 40.0;
        flashes[6] = -40.0;
        let flashy = report_of(&moving_clip(&pos, (1.0, 0.5), &flashes), 8.0, None);
        let (a, b) = (
            clean.metric("flicker").unwrap(),
            flashy.metric("flicker").unwrap(),
        );
        assert!(b > a + 0.03, "flicker clean {a}, with flashes {b}");
        let (wa, wb) = (
            clean.metric("warping_error").unwrap(),
            flashy.metric("warping_error").unwrap(),
        );
        assert!(wb > 2.0 * wa, "warping error clean {wa}, with flashes {wb}");
    }

    #[test]
    fn dropped_frames_lower_smoothness_and_motion_is_dynamic() {
        let smooth: Vec<f64> = (0..15).map(f64::from).collect();
        // Frames 3, 7 and 11 of a 18-frame motion are missing.
        let dropped: Vec<f64> = (0..18)
            .filter(|p| p % 4 != 3)
            .map(f64::from)
            .take(15)
            .collect();
        let v = (2.0, 1.0);
        let a = report_of(&moving_clip(&smooth, v, &[]), 8.0, None);
        let b = report_of(&moving_clip(&dropped, v, &[]), 8.0, None);
        let (sa, sb) = (
            a.metric("motion_smoothness").unwrap(),
            b.metric("motion_smoothness").unwrap(),
        );
        assert!(sa > 0.98, "smooth clip's smoothness {sa}");
        assert!(sb < sa - 0.01, "smoothness {sa}, with dropped frames {sb}");
        // 2.2 px a frame on 48-pixel frames: over VBench's 6·48/256 = 1.1 px.
        assert_eq!(a.metric("dynamic_degree"), Some(1.0));
        assert!(a.metric("warping_error").unwrap() < 0.01);
    }

    #[test]
    fn a_reference_equal_to_the_clip_matches_fully() {
        let pos: Vec<f64> = (0..6).map(f64::from).collect();
        let clip = moving_clip(&pos, (1.5, 0.0), &[]);
        let same = report_of(&clip, 8.0, Some(&clip));
        for name in [
            "physics_iq_spatial_iou",
            "physics_iq_spatiotemporal_iou",
            "physics_iq_weighted_spatial_iou",
        ] {
            assert_eq!(same.metric(name), Some(1.0), "{name}");
        }
        assert_eq!(same.metric("physics_iq_mse"), Some(0.0));
        let other = moving_clip(&[0.0; 6], (0.0, 0.0), &[]);
        let diff = report_of(&clip, 8.0, Some(&other));
        assert_eq!(diff.metric("physics_iq_spatial_iou"), Some(0.0));
        assert!(diff.metric("physics_iq_mse").unwrap() > 0.0);
    }

    #[test]
    fn tiny_and_odd_sized_frames_are_scored() {
        for (h, w) in [(1, 1), (2, 3), (5, 300)] {
            let frames = Array4::from_shape_fn((4, h, w, 3), |(t, y, x, c)| {
                ((t * 7 + y * 3 + x * 5 + c * 11) % 256) as u8
            });
            let r = report_of(&frames, 24.0, Some(&frames));
            for name in [
                "flicker",
                "motion_smoothness",
                "dynamic_degree",
                "physics_iq_mse",
            ] {
                assert!(
                    r.metric(name).is_some(),
                    "{h}x{w}: {name} in {:?}",
                    r.metrics
                );
            }
        }
    }

    #[test]
    fn one_frame_leaves_the_temporal_metrics_null() {
        let frames = moving_clip(&[0.0], (0.0, 0.0), &[]);
        let r = report_of(&frames, 8.0, Some(&frames));
        for name in [
            "flicker",
            "warping_error",
            "motion_smoothness",
            "dynamic_degree",
            "physics_iq_spatial_iou",
        ] {
            assert!(
                r.metrics.contains_key(name) && r.metric(name).is_none(),
                "{name}"
            );
        }
        assert_eq!(r.metric("physics_iq_mse"), Some(0.0));
    }
}
