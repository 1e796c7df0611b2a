//! The invisible audio watermark: patchwork in the short-time spectrum.
//!
//! Frames of 64 ms (Hann window, hop 32 ms, so the windows sum to one and
//! the marked frames overlap-add back without seams) are cut into 24 bands
//! between 500 Hz and 5 kHz; each band's four 47 Hz sub-bands are split
//! by a keyed pattern into sets A and B. A band carries one chip: A's
//! magnitudes are scaled by `e^{±β}` and B's by `e^{∓β}`. A frame carries 24
//! chips and nine consecutive frames the whole channel word (0.29 s), which
//! then repeats. Everything is defined in seconds and hertz, so a resampled
//! file (48 → 44.1 or 24 kHz) is read at its own rate without resampling
//! back; lossy codecs keep the coarse magnitudes of this band.
//!
//! The detector mixes to mono, measures `mean ln|A| − mean ln|B|` per band
//! and frame less its running mean over nine frames (the host's own
//! spectral shape), and searches eight sub-hop offsets and the nine cycle phases
//! (a trimmed file or an encoder's priming delay shifts both); the p-value
//! is Bonferroni-corrected for those 72 alignments.

use ndarray::{Array2, ArrayView2};
use tch::{Kind, Tensor};

use super::keyed::{KeyStream, DEFAULT_KEY};
use super::payload::{self, Detection, Payload, CHIPS};
use crate::Result;

/// Frame length in seconds (the hop is half).
const FRAME_S: f64 = 0.064;
/// Band edges in Hz.
const LOW_HZ: f64 = 500.0;
const HIGH_HZ: f64 = 5000.0;
/// Bands (chips) per frame.
const BANDS: usize = 24;
/// Sub-bands per band (three bins each at 64 ms, so the window's leakage blurs only their edges).
const SUBS: usize = 4;
/// Frames per channel word.
const CYCLE: usize = CHIPS.div_ceil(BANDS);
/// Log-magnitude change per set (±β in nepers).
pub const BETA: f32 = 0.35;
/// Sub-hop offsets the detector tries.
const OFFSETS: usize = 8;
/// Frames on each side of the running mean taken off each band's
/// statistic (the host's slowly changing spectral shape; the chips of
/// neighbouring frames are independent, so they average out).
const LOCAL: usize = 4;

/// Frame geometry at one sample rate and the keyed bin layout.
struct Geometry {
    n: usize,
    hop: usize,
    /// For each rfft bin: `Some((band, in_a))` inside the marked band.
    bins: Vec<Option<(usize, bool)>>,
    /// Chip of each (cycle phase, band) slot.
    chip: Vec<usize>,
    /// A-bin and B-bin counts per band.
    counts: Vec<(usize, usize)>,
}

impl Geometry {
    fn new(sample_rate: u32) -> Option<Self> {
        let sr = f64::from(sample_rate);
        let n = (FRAME_S * sr).round() as usize;
        if n < 64 || sr < 2.0 * HIGH_HZ {
            return None;
        }
        let mut pattern = KeyStream::new(DEFAULT_KEY, b"audio-sets");
        // Half of each band's sub-bands are A.
        let sets: Vec<Vec<bool>> = (0..BANDS)
            .map(|_| {
                let p = pattern.permutation(SUBS);
                let mut a = vec![false; SUBS];
                for &i in &p[..SUBS / 2] {
                    a[i] = true;
                }
                a
            })
            .collect();
        let width = (HIGH_HZ - LOW_HZ) / BANDS as f64;
        let mut counts = vec![(0, 0); BANDS];
        let bins = (0..n / 2 + 1)
            .map(|k| {
                let hz = k as f64 * sr / n as f64;
                if !(LOW_HZ..HIGH_HZ).contains(&hz) {
                    return None;
                }
                let band = (((hz - LOW_HZ) / width) as usize).min(BANDS - 1);
                let sub = ((((hz - LOW_HZ) - band as f64 * width) / width * SUBS as f64) as usize)
                    .min(SUBS - 1);
                let a = sets[band][sub];
                if a {
                    counts[band].0 += 1;
                } else {
                    counts[band].1 += 1;
                }
                Some((band, a))
            })
            .collect();
        let perm = KeyStream::new(DEFAULT_KEY, b"audio-slots").permutation(CYCLE * BANDS);
        Some(Self {
            n,
            hop: n / 2,
            bins,
            chip: perm.iter().map(|&p| p % CHIPS).collect(),
            counts,
        })
    }

    fn window(&self) -> Vec<f32> {
        (0..self.n)
            .map(|i| {
                let x = std::f64::consts::TAU * i as f64 / self.n as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect()
    }

    /// Windowed frames of `x` starting at `start`, hop apart: `[M, N]`.
    fn frames(&self, x: &[f32], start: usize) -> Option<(Tensor, usize)> {
        if x.len() < start + self.n {
            return None;
        }
        let m = (x.len() - start - self.n) / self.hop + 1;
        let win = self.window();
        let mut data = Vec::with_capacity(m * self.n);
        for f in 0..m {
            let s = start + f * self.hop;
            data.extend(x[s..s + self.n].iter().zip(&win).map(|(a, b)| a * b));
        }
        let t = Tensor::f_from_slice(&data).ok()?;
        Some((t.f_view([m as i64, self.n as i64]).ok()?, m))
    }
}

/// Marks audio `[channels, samples]` at `sample_rate` with `payload`;
/// `first_sample` is the position of the first sample in the clip (so that
/// pieces marked one by one keep the cycle). Audio below 10 kHz sampling,
/// shorter than one frame, or silent is returned as it was.
pub fn embed(
    audio: ArrayView2<f32>,
    sample_rate: u32,
    payload: &Payload,
    first_sample: usize,
) -> Result<Array2<f32>> {
    let mut out = audio.to_owned();
    let Some(g) = Geometry::new(sample_rate) else {
        return Ok(out);
    };
    let chips = payload.chips();
    // Frames sit on the clip's hop grid, so pieces marked one by one line up.
    let start = (g.hop - first_sample % g.hop) % g.hop;
    let phase0 = (first_sample + start) / g.hop;
    let (nbins, n) = (g.n / 2 + 1, g.n);
    for mut ch in out.rows_mut() {
        let x: Vec<f32> = ch.iter().copied().collect();
        let Some((frames, m)) = g.frames(&x, start) else {
            continue;
        };
        let mut gain = vec![0.0f32; m * nbins];
        for f in 0..m {
            let phase = (phase0 + f) % CYCLE;
            for (k, bin) in g.bins.iter().enumerate() {
                if let Some((band, a)) = *bin {
                    let up = chips[g.chip[phase * BANDS + band]] == a;
                    gain[f * nbins + k] = if up { BETA.exp() } else { (-BETA).exp() } - 1.0;
                }
            }
        }
        let gain = Tensor::f_from_slice(&gain)?.f_view([m as i64, nbins as i64])?;
        let spec = frames.f_fft_rfft(None::<i64>, 1, "backward")?;
        let delta = spec
            .f_mul(&gain)?
            .f_fft_irfft(Some(n as i64), 1, "backward")?
            .f_to_kind(Kind::Float)?
            .f_contiguous()?;
        let delta = Vec::<f32>::try_from(&delta.f_flatten(0, -1)?)?;
        for f in 0..m {
            let s = start + f * g.hop;
            for (i, d) in delta[f * n..(f + 1) * n].iter().enumerate() {
                ch[s + i] = (ch[s + i] + d).clamp(-1.0, 1.0);
            }
        }
    }
    Ok(out)
}

/// Per-frame band statistics `mean ln|A| − mean ln|B|` of mono `x` from `start`: `[M][BANDS]`.
fn band_stats(g: &Geometry, x: &[f32], start: usize) -> Result<Vec<[f32; BANDS]>> {
    let Some((frames, m)) = g.frames(x, start) else {
        return Ok(Vec::new());
    };
    let mag = frames
        .f_fft_rfft(None::<i64>, 1, "backward")?
        .f_abs()?
        .f_clamp_min(1e-9)?
        .f_log()?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?;
    let mag = Vec::<f32>::try_from(&mag.f_flatten(0, -1)?)?;
    let nbins = g.n / 2 + 1;
    let raw: Vec<[f32; BANDS]> = (0..m)
        .map(|f| {
            let mut s = [0.0f32; BANDS];
            for (k, bin) in g.bins.iter().enumerate() {
                if let Some((band, a)) = *bin {
                    let (na, nb) = g.counts[band];
                    let v = mag[f * nbins + k];
                    if a && na > 0 {
                        s[band] += v / na as f32;
                    } else if !a && nb > 0 {
                        s[band] -= v / nb as f32;
                    }
                }
            }
            s
        })
        .collect();
    Ok((0..m)
        .map(|f| {
            let (lo, hi) = (f.saturating_sub(LOCAL), (f + LOCAL + 1).min(m));
            let mut s = raw[f];
            for (band, v) in s.iter_mut().enumerate() {
                let mean = raw[lo..hi].iter().map(|r| r[band]).sum::<f32>() / (hi - lo) as f32;
                // Bounded votes: a loud transient cannot outvote many frames.
                *v = (*v - mean).clamp(-4.0 * BETA, 4.0 * BETA);
            }
            s
        })
        .collect())
}

/// Soft chips of the best alignment and the number of alignments tried.
pub fn soft_chips(audio: ArrayView2<f32>, sample_rate: u32) -> Result<(Vec<f32>, usize)> {
    let tried = OFFSETS * CYCLE;
    let Some(g) = Geometry::new(sample_rate) else {
        return Ok((vec![0.0; CHIPS], tried));
    };
    let (c, n) = audio.dim();
    if c == 0 {
        return Ok((vec![0.0; CHIPS], tried));
    }
    let mono: Vec<f32> = (0..n).map(|i| audio.column(i).sum() / c as f32).collect();
    let sync = payload::sync_chips();
    let mut best = (f32::NEG_INFINITY, vec![0.0f32; CHIPS]);
    for o in 0..OFFSETS {
        let stats = band_stats(&g, &mono, o * g.hop / OFFSETS)?;
        for p0 in 0..CYCLE {
            let mut soft = vec![0.0f32; CHIPS];
            for (f, s) in stats.iter().enumerate() {
                let phase = (p0 + f) % CYCLE;
                for (band, v) in s.iter().enumerate() {
                    soft[g.chip[phase * BANDS + band]] += v;
                }
            }
            let score = payload::sync_score(&soft, &sync);
            if score > best.0 {
                best = (score, soft);
            }
        }
    }
    Ok((best.1, tried))
}

/// Detects the audio mark in `[channels, samples]` at `sample_rate`.
pub fn detect(audio: ArrayView2<f32>, sample_rate: u32) -> Result<Detection> {
    let (soft, tried) = soft_chips(audio, sample_rate)?;
    Ok(payload::decide(&soft, tried))
}
