//! Colour drift between parts of one clip, in CIE L*a*b*: how far the mean
//! colour of each region moves from a reference span of frames to a later
//! span. Used to compare ways of chaining windows of a long clip (issue #14:
//! windows held in latent space against windows decoded and re-encoded).
//!
//! - sRGB (8-bit) → linear RGB → CIE XYZ (D65) → L*a*b* (CIE 1976), the
//!   formulas of IEC 61966-2-1 and CIE 15.
//! - [`colour_drift`]: frames are cut into `block × block` regions (a
//!   partial border is left out); each region's mean Lab over the reference
//!   span and over the later span; the result is the mean CIE76 ΔE
//!   (Euclidean distance in Lab) over the regions, matched by position (the
//!   static regions of a static scene). `block` = 1 compares pixels, a block
//!   the size of the frame compares the whole frame's mean colour.
//! - [`static_colour_drift`]: the same over the regions that stay still in
//!   both spans (every frame's region mean within a ΔE of the span's mean),
//!   so moving objects do not count as drift.

use std::ops::Range;

use ndarray::{s, ArrayView4};

use crate::{Error, Result};

/// sRGB (8-bit) → CIE L*a*b* (D65 white).
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (linear(rgb[0]), linear(rgb[1]), linear(rgb[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The mean Lab colour of each `block × block` region over `span`
/// (`[T, H, W, 3]` frames), regions in row order.
pub fn region_mean_lab(
    frames: ArrayView4<u8>,
    span: Range<usize>,
    block: usize,
) -> Result<Vec<[f64; 3]>> {
    Ok(mean_over_frames(&region_lab_per_frame(
        frames, span, block,
    )?))
}

/// The mean over frames of per-frame region colours (`[frames][regions]`,
/// at least one frame).
fn mean_over_frames(per_frame: &[Vec<[f64; 3]>]) -> Vec<[f64; 3]> {
    let n = per_frame.len() as f64;
    let mut out = vec![[0.0; 3]; per_frame.first().map_or(0, Vec::len)];
    for frame in per_frame {
        for (acc, lab) in out.iter_mut().zip(frame) {
            for c in 0..3 {
                acc[c] += lab[c] / n;
            }
        }
    }
    out
}

fn delta_e(p: &[f64; 3], q: &[f64; 3]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Each frame's `block × block` regions' mean Lab: `[frames][regions]`.
fn region_lab_per_frame(
    frames: ArrayView4<u8>,
    span: Range<usize>,
    block: usize,
) -> Result<Vec<Vec<[f64; 3]>>> {
    let (t, h, w, c) = frames.dim();
    if c != 3 {
        return Err(Error::invalid(format!(
            "colour drift needs RGB frames [T, H, W, 3], got {c} channels"
        )));
    }
    if span.is_empty() || span.end > t {
        return Err(Error::invalid(format!(
            "frames {}..{} are not a span of this {t}-frame clip",
            span.start, span.end
        )));
    }
    if block == 0 || block > h || block > w {
        return Err(Error::invalid(format!(
            "a region of {block}×{block} does not fit {h}×{w} frames (1 to {})",
            h.min(w)
        )));
    }
    let (bh, bw) = (h / block, w / block);
    let n = (block * block) as f64;
    let mut out = Vec::with_capacity(span.len());
    for f in span {
        let frame = frames.slice(s![f, .., .., ..]);
        let mut regions = vec![[0.0; 3]; bh * bw];
        for y in 0..bh * block {
            for x in 0..bw * block {
                let l = srgb_to_lab([frame[[y, x, 0]], frame[[y, x, 1]], frame[[y, x, 2]]]);
                let region = &mut regions[(y / block) * bw + x / block];
                for (acc, v) in region.iter_mut().zip(l) {
                    *acc += v / n;
                }
            }
        }
        out.push(regions);
    }
    Ok(out)
}

/// The mean CIE76 ΔE between the `block × block` regions' mean Lab colours
/// over `reference` and over `segment` (module doc).
pub fn colour_drift(
    frames: ArrayView4<u8>,
    reference: Range<usize>,
    segment: Range<usize>,
    block: usize,
) -> Result<f64> {
    let base = region_mean_lab(frames, reference, block)?;
    let later = region_mean_lab(frames, segment, block)?;
    let total: f64 = base.iter().zip(&later).map(|(p, q)| delta_e(p, q)).sum();
    Ok(total / base.len() as f64)
}

/// Colour drift over the regions that stay still.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaticDrift {
    /// The mean CIE76 ΔE over the still regions (`None` when none is still).
    pub delta_e: Option<f64>,
    /// Regions still in both spans.
    pub still_regions: usize,
    /// Regions in all.
    pub regions: usize,
}

/// [`colour_drift`] over the `block × block` regions that are still in both
/// spans: in each span, every frame's region mean within `still` ΔE of the
/// span's mean for that region (a moving object passing through a region
/// takes it out).
pub fn static_colour_drift(
    frames: ArrayView4<u8>,
    reference: Range<usize>,
    segment: Range<usize>,
    block: usize,
    still: f64,
) -> Result<StaticDrift> {
    if !(still.is_finite() && still >= 0.0) {
        return Err(Error::invalid(format!(
            "the stillness threshold must be a ΔE of 0 or more, got {still}"
        )));
    }
    let spans = [reference, segment].map(|span| -> Result<(Vec<[f64; 3]>, Vec<bool>)> {
        // Each pixel converted to Lab once: the mean comes from the frames'.
        let per_frame = region_lab_per_frame(frames, span, block)?;
        let mean = mean_over_frames(&per_frame);
        let is_still = (0..mean.len())
            .map(|r| per_frame.iter().all(|f| delta_e(&f[r], &mean[r]) <= still))
            .collect();
        Ok((mean, is_still))
    });
    let [a, b] = spans;
    let ((base, still_a), (later, still_b)) = (a?, b?);
    let chosen: Vec<f64> = (0..base.len())
        .filter(|&r| still_a[r] && still_b[r])
        .map(|r| delta_e(&base[r], &later[r]))
        .collect();
    Ok(StaticDrift {
        delta_e: (!chosen.is_empty()).then(|| chosen.iter().sum::<f64>() / chosen.len() as f64),
        still_regions: chosen.len(),
        regions: base.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;

    #[test]
    fn lab_of_reference_colours() {
        let white = srgb_to_lab([255, 255, 255]);
        // (The rounded sRGB matrix leaves white a few hundredths off.)
        assert!(white
            .iter()
            .zip([100.0, 0.0, 0.0])
            .all(|(v, w)| (v - w).abs() < 0.05));
        assert_eq!(srgb_to_lab([0, 0, 0]), [0.0, 0.0, 0.0]);
        // sRGB red: L 53.24, a 80.09, b 67.20 (published values).
        let red = srgb_to_lab([255, 0, 0]);
        for (v, want) in red.iter().zip([53.24, 80.09, 67.20]) {
            assert!((v - want).abs() < 0.05, "{red:?}");
        }
    }

    #[test]
    fn drift_is_zero_for_a_static_clip_and_grows_with_a_colour_shift() {
        let mut frames = Array4::<u8>::from_elem((6, 8, 8, 3), 100);
        assert_eq!(colour_drift(frames.view(), 0..3, 3..6, 4).unwrap(), 0.0);
        frames.slice_mut(s![3.., .., .., 0]).fill(140);
        let d = colour_drift(frames.view(), 0..3, 3..6, 4).unwrap();
        let want = delta_e(&srgb_to_lab([100, 100, 100]), &srgb_to_lab([140, 100, 100]));
        assert!((d - want).abs() < 1e-9, "{d} vs {want}");
        // Only one region changes: a quarter of the whole-region drift.
        let mut one = Array4::<u8>::from_elem((6, 8, 8, 3), 100);
        one.slice_mut(s![3.., ..4, ..4, 0]).fill(140);
        let d1 = colour_drift(one.view(), 0..3, 3..6, 4).unwrap();
        assert!((d1 - want / 4.0).abs() < 1e-9);
    }

    #[test]
    fn static_drift_leaves_out_a_moving_object() {
        // A grey clip whose frames 3.. are a little warmer, and a white
        // square passing through the top-left region in frame 1.
        let mut frames = Array4::<u8>::from_elem((6, 8, 8, 3), 100);
        frames.slice_mut(s![3.., .., .., 0]).fill(104);
        frames.slice_mut(s![1, 1..3, 1..3, ..]).fill(255);
        let all = colour_drift(frames.view(), 0..3, 3..6, 4).unwrap();
        let d = static_colour_drift(frames.view(), 0..3, 3..6, 4, 1.0).unwrap();
        let shift = delta_e(&srgb_to_lab([100, 100, 100]), &srgb_to_lab([104, 100, 100]));
        assert_eq!((d.still_regions, d.regions), (3, 4));
        assert!((d.delta_e.unwrap() - shift).abs() < 1e-9);
        assert!(
            all > 1.2 * shift,
            "the square counts in the plain drift: {all} vs {shift}"
        );
        // Nothing still: no number.
        let none = static_colour_drift(frames.view(), 0..3, 3..6, 8, 1.0).unwrap();
        assert_eq!((none.delta_e, none.still_regions), (None, 0));
        assert!(static_colour_drift(frames.view(), 0..3, 3..6, 4, f64::NAN).is_err());
    }

    #[test]
    fn bad_spans_and_blocks_are_refused() {
        let frames = Array4::<u8>::zeros((4, 8, 8, 3));
        for (r, s2, b) in [
            (0..2, 2..5, 4),
            (0..0, 2..4, 4),
            (0..2, 2..4, 0),
            (0..2, 2..4, 9),
        ] {
            assert!(colour_drift(frames.view(), r, s2, b).is_err());
        }
        let grey = Array4::<u8>::zeros((4, 8, 8, 1));
        assert!(colour_drift(grey.view(), 0..2, 2..4, 4).is_err());
    }
}
