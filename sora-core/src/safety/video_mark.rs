//! The invisible video watermark. Every frame carries the whole channel word
//! ([`super::payload::CHIPS`] chips), so any window of frames — two seconds
//! or less — carries the payload, and the detector sums the evidence of all
//! the frames it gets.
//!
//! Layout: the frame is divided into a 16×16 grid of cells, each cut in 2×2
//! sub-blocks. A cell's statistic is the luma checkerboard difference
//! `d = (m₀₀ + m₁₁ − m₀₁ − m₁₀) / 2` of its sub-block means — one coefficient
//! of a two-level Haar transform of the cell-averaged image, i.e. a mid-low
//! frequency DWT coefficient — quantised by quantisation-index modulation
//! (QIM, step [`DELTA`], keyed dither) to the lattice of its chip. Each of
//! the 256 cells carries one chip (keyed layout; chips repeat in the spare
//! cells). Grid positions are fractions of the frame, so a downscaled frame
//! keeps them; means of large sub-blocks survive H.264 quantisation.
//!
//! Synchronisation: the detector tries a small grid of crops (the frame
//! shows a fraction `f` of the original, 1 … 0.8, at offsets in steps of a
//! quarter sub-block), measures the inner part of each sub-block (a margin
//! absorbs misalignment), keeps the alignments whose sync chips agree best
//! on a few frames, and accumulates soft chips over all frames for those.
//! The p-value is Bonferroni-corrected for every alignment tried.

use ndarray::ArrayView4;

use super::keyed::{KeyStream, DEFAULT_KEY};
use super::payload::{self, Detection, Payload, CHIPS};

/// Cells per side of the grid.
pub const GRID: usize = 16;
/// QIM step of the cell statistic, in luma levels (per-pixel change ≤ Δ/4).
pub const DELTA: f32 = 12.0;
/// Fraction of a sub-block left out on each side when measuring.
const MARGIN: f32 = 0.2;
/// Frames used to rank alignments before accumulating over all frames.
const RANK_FRAMES: usize = 6;
/// Alignments kept after ranking.
const KEEP: usize = 12;
/// Most frames read by the detector (evenly spread over the clip).
const MAX_FRAMES: usize = 96;

/// The keyed layout: chip of each cell (row-major) and its dither.
#[derive(Debug, Clone)]
struct Layout {
    chip: Vec<usize>,
    dither: Vec<f32>,
}

impl Layout {
    fn new() -> Self {
        let cells = GRID * GRID;
        let perm = KeyStream::new(DEFAULT_KEY, b"video-slots").permutation(cells);
        let mut d = KeyStream::new(DEFAULT_KEY, b"video-dither");
        Self {
            chip: perm.iter().map(|&p| p % CHIPS).collect(),
            dither: (0..cells).map(|_| d.unit() as f32 * DELTA).collect(),
        }
    }
}

/// BT.601 luma of an RGB pixel.
fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Pixel bounds `0 = b₀ ≤ … ≤ b₂G = n` of the sub-blocks along an axis of `n` pixels.
fn bounds(n: usize) -> Vec<usize> {
    (0..=2 * GRID)
        .map(|k| ((k * n) as f64 / (2 * GRID) as f64).round() as usize)
        .collect()
}

/// The nearest point to `d` of the QIM lattice of `bit` with `dither`.
fn lattice_point(d: f32, bit: bool, dither: f32) -> f32 {
    let offset = dither + if bit { DELTA / 2.0 } else { 0.0 };
    offset + ((d - offset) / DELTA).round() * DELTA
}

/// Embeds the channel word of `payload` into one RGB frame `[h, w, 3]`
/// (row-major bytes), in place. Frames under 2·16 pixels on a side have
/// empty sub-blocks and carry nothing there.
pub fn embed_frame(frame: &mut [u8], h: usize, w: usize, payload: &Payload) {
    embed_chips(frame, h, w, &payload.chips());
}

/// [`embed_frame`] with the chips given. The statistic is measured on the
/// inner part of each sub-block, as the detector measures it, and moved by
/// shifting whole sub-blocks (which moves the inner means alike).
pub fn embed_chips(frame: &mut [u8], h: usize, w: usize, chips: &[bool]) {
    if frame.len() < h * w * 3 || chips.len() < CHIPS {
        return;
    }
    let layout = Layout::new();
    let (by, bx) = (bounds(h), bounds(w));
    let (iy, ix) = (measured(h, 1.0, 0.0), measured(w, 1.0, 0.0));
    let mean = |frame: &[u8], (y0, y1): (usize, usize), (x0, x1): (usize, usize)| {
        let mut sum = 0.0f32;
        for y in y0..y1 {
            let row = &frame[(y * w + x0) * 3..(y * w + x1) * 3];
            sum += row.chunks_exact(3).map(luma).sum::<f32>();
        }
        sum / ((y1 - y0) * (x1 - x0)) as f32
    };
    for cy in 0..GRID {
        let (Some(my0), Some(my1)) = (iy[2 * cy], iy[2 * cy + 1]) else {
            continue;
        };
        for cx in 0..GRID {
            let (Some(mx0), Some(mx1)) = (ix[2 * cx], ix[2 * cx + 1]) else {
                continue;
            };
            let cell = cy * GRID + cx;
            let bit = chips[layout.chip[cell]];
            // Whole sub-blocks (rows, cols) with their sign, and where each is measured.
            let subs = [
                (
                    (by[2 * cy], by[2 * cy + 1]),
                    (bx[2 * cx], bx[2 * cx + 1]),
                    1.0f32,
                    (my0, mx0),
                ),
                (
                    (by[2 * cy], by[2 * cy + 1]),
                    (bx[2 * cx + 1], bx[2 * cx + 2]),
                    -1.0,
                    (my0, mx1),
                ),
                (
                    (by[2 * cy + 1], by[2 * cy + 2]),
                    (bx[2 * cx], bx[2 * cx + 1]),
                    -1.0,
                    (my1, mx0),
                ),
                (
                    (by[2 * cy + 1], by[2 * cy + 2]),
                    (bx[2 * cx + 1], bx[2 * cx + 2]),
                    1.0,
                    (my1, mx1),
                ),
            ];
            // Two passes: the second corrects what clipping and rounding undid.
            for _ in 0..2 {
                let d = subs
                    .iter()
                    .map(|&(_, _, sign, (ry, rx))| sign * mean(frame, ry, rx))
                    .sum::<f32>()
                    / 2.0;
                let e = (lattice_point(d, bit, layout.dither[cell]) - d) / 2.0;
                if e.abs() < 0.05 {
                    break;
                }
                for &((y0, y1), (x0, x1), sign, _) in &subs {
                    let add = sign * e;
                    for y in y0..y1 {
                        for v in &mut frame[(y * w + x0) * 3..(y * w + x1) * 3] {
                            *v = (f32::from(*v) + add).round().clamp(0.0, 255.0) as u8;
                        }
                    }
                }
            }
        }
    }
}

/// One alignment: the frame shows the original's `[ax, ax + f] × [ay, ay + f]`
/// (fractions of the original frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    /// Fraction of the original shown, per axis.
    pub f: f32,
    /// Left edge, as a fraction of the original width.
    pub ax: f32,
    /// Top edge, as a fraction of the original height.
    pub ay: f32,
}

/// The alignments searched: no crop, and crops down to 80 % at offsets of a
/// quarter sub-block.
pub fn alignments() -> Vec<Alignment> {
    let step = 1.0 / (8 * GRID) as f32;
    let mut out = Vec::new();
    for i in 0..=8 {
        let f = 1.0 - 0.025 * i as f32;
        let n = ((1.0 - f) / step + 1e-3).floor() as usize;
        for oy in 0..=n {
            for ox in 0..=n {
                out.push(Alignment {
                    f,
                    ax: ox as f32 * step,
                    ay: oy as f32 * step,
                });
            }
        }
    }
    out
}

/// Integral image of a frame's luma, `(h + 1) × (w + 1)`.
struct Integral {
    w: usize,
    h: usize,
    s: Vec<f64>,
}

impl Integral {
    fn new(frame: &[u8], h: usize, w: usize) -> Self {
        let mut s = vec![0.0f64; (h + 1) * (w + 1)];
        for y in 0..h {
            let mut row = 0.0f64;
            for x in 0..w {
                row += f64::from(luma(&frame[(y * w + x) * 3..(y * w + x) * 3 + 3]));
                s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
            }
        }
        Self { w, h, s }
    }

    /// Mean over rows `y0..y1`, columns `x0..x1` (non-empty, in range).
    fn mean(&self, y0: usize, y1: usize, x0: usize, x1: usize) -> f32 {
        let w = self.w + 1;
        let sum =
            self.s[y1 * w + x1] - self.s[y0 * w + x1] - self.s[y1 * w + x0] + self.s[y0 * w + x0];
        (sum / ((y1 - y0) * (x1 - x0)) as f64) as f32
    }
}

/// Measured pixel ranges of the sub-blocks along one axis under an
/// alignment (`None` where a sub-block falls outside the frame).
fn measured(n: usize, f: f32, a: f32) -> Vec<Option<(usize, usize)>> {
    (0..2 * GRID)
        .map(|k| {
            let to_px = |u: f32| (u - a) / f * n as f32;
            let (p0, p1) = (
                to_px(k as f32 / (2 * GRID) as f32),
                to_px((k + 1) as f32 / (2 * GRID) as f32),
            );
            let m = (p1 - p0) * MARGIN;
            let (lo, hi) = ((p0 + m).round(), (p1 - m).round());
            if lo < 0.0 || hi > n as f32 || hi <= lo {
                None
            } else {
                Some((lo as usize, hi as usize))
            }
        })
        .collect()
}

/// Adds the soft chips of one frame under one alignment to `acc` (length [`CHIPS`]).
fn accumulate(integral: &Integral, al: &Alignment, layout: &Layout, acc: &mut [f32]) {
    let (ry, rx) = (
        measured(integral.h, al.f, al.ay),
        measured(integral.w, al.f, al.ax),
    );
    for cy in 0..GRID {
        let (Some(y0), Some(y1)) = (ry[2 * cy], ry[2 * cy + 1]) else {
            continue;
        };
        for cx in 0..GRID {
            let (Some(x0), Some(x1)) = (rx[2 * cx], rx[2 * cx + 1]) else {
                continue;
            };
            let d = (integral.mean(y0.0, y0.1, x0.0, x0.1) + integral.mean(y1.0, y1.1, x1.0, x1.1)
                - integral.mean(y0.0, y0.1, x1.0, x1.1)
                - integral.mean(y1.0, y1.1, x0.0, x0.1))
                / 2.0;
            let cell = cy * GRID + cx;
            let phase = (d - layout.dither[cell]) / DELTA * std::f32::consts::TAU;
            acc[layout.chip[cell]] -= phase.cos();
        }
    }
}

/// Soft chips of the best alignment and the number of alignments tried.
/// `frames` is `[T, H, W, 3]`.
pub fn soft_chips(frames: ArrayView4<u8>) -> (Vec<f32>, usize) {
    let (t, h, w) = (frames.shape()[0], frames.shape()[1], frames.shape()[2]);
    let all = alignments();
    if t == 0 || h < 2 * GRID || w < 2 * GRID || frames.shape()[3] != 3 {
        return (vec![0.0; CHIPS], all.len());
    }
    let layout = Layout::new();
    let sync = payload::sync_chips();
    let picks: Vec<usize> = if t <= MAX_FRAMES {
        (0..t).collect()
    } else {
        (0..MAX_FRAMES).map(|i| i * t / MAX_FRAMES).collect()
    };
    let integral = |i: usize| -> Integral {
        let f = frames.slice(ndarray::s![i, .., .., ..]);
        match f.as_slice() {
            Some(s) => Integral::new(s, h, w),
            None => Integral::new(&f.iter().copied().collect::<Vec<u8>>(), h, w),
        }
    };
    // Rank every alignment on a few frames spread over the clip.
    let rank: Vec<usize> = (0..RANK_FRAMES.min(picks.len()))
        .map(|i| picks[i * picks.len() / RANK_FRAMES.min(picks.len())])
        .collect();
    let mut acc = vec![vec![0.0f32; CHIPS]; all.len()];
    for &i in &rank {
        let ig = integral(i);
        for (al, a) in all.iter().zip(acc.iter_mut()) {
            accumulate(&ig, al, &layout, a);
        }
    }
    let mut order: Vec<(f32, usize)> = acc
        .iter()
        .enumerate()
        .map(|(k, a)| (payload::sync_score(a, &sync), k))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let kept: Vec<usize> = order.iter().take(KEEP).map(|&(_, k)| k).collect();
    let mut best: Vec<Vec<f32>> = kept.iter().map(|&k| acc[k].clone()).collect();
    for &i in picks.iter().filter(|i| !rank.contains(i)) {
        let ig = integral(i);
        for (&k, a) in kept.iter().zip(best.iter_mut()) {
            accumulate(&ig, &all[k], &layout, a);
        }
    }
    let top = best
        .into_iter()
        .max_by(|a, b| payload::sync_score(a, &sync).total_cmp(&payload::sync_score(b, &sync)))
        .unwrap_or_else(|| vec![0.0; CHIPS]);
    (top, all.len())
}

/// Detects the invisible mark in frames `[T, H, W, 3]`.
pub fn detect(frames: ArrayView4<u8>) -> Detection {
    let (soft, tried) = soft_chips(frames);
    payload::decide(&soft, tried)
}

/// PSNR in dB of `b` against `a` (same length; `inf` when equal).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return f64::INFINITY;
    }
    let mse = a[..n]
        .iter()
        .zip(&b[..n])
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / n as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}
