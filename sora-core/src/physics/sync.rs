//! Audio-visual sync: sound onsets (spectral flux of an STFT through LibTorch,
//! each onset then pinned to the millisecond by the steepest rise of a short
//! log-energy envelope) against visual events (impact times from the object
//! tracks' fits, or motion-energy peaks when no track bounces). Gives the
//! offset in milliseconds (positive = the sound comes late) and the share of
//! impacts heard within one frame.

use ndarray::ArrayView4;
use tch::{Kind, Tensor};

use super::detect::analyze_frames;
use super::input::ScoreInput;
use super::report::{Finding, FindingKind, PhysicsReport};
use crate::Result;

/// An estimated offset beyond this (ms, either way) is an `av_offset` finding.
pub const MAX_OFFSET_MS: f64 = 30.0;
/// Offsets searched (ms, either way).
pub const SEARCH_MS: f64 = 300.0;
/// A sound within this of a shifted visual event matches it in the search (ms).
const MATCH_MS: f64 = 25.0;
/// Onsets closer than this are one onset (s).
const MIN_ONSET_GAP: f64 = 0.03;

/// Onset times (s) of mono audio at `sample_rate`.
pub fn onsets(audio: &[f32], sample_rate: u32) -> Result<Vec<f64>> {
    let sr = sample_rate as f64;
    let n_fft = ((0.01 * sr) as usize).next_power_of_two().max(64) as i64;
    let hop = ((0.002 * sr) as i64).max(1);
    if (audio.len() as i64) < n_fft + hop {
        return Ok(Vec::new());
    }
    let x = Tensor::f_from_slice(audio)?;
    let window = Tensor::f_hann_window(n_fft, (Kind::Float, tch::Device::Cpu))?;
    let spec = x.f_stft(n_fft, hop, n_fft, Some(&window), false, true, true, false)?;
    // [bins, frames] → log magnitude, positive differences summed over bins.
    let mag = spec.f_abs()?.f_mul_scalar(100.0)?.f_log1p()?;
    let frames = mag.size()[1];
    let diff = mag
        .f_slice(1, 1, frames, 1)?
        .f_sub(&mag.f_slice(1, 0, frames - 1, 1)?)?;
    let flux_t = diff
        .f_clamp_min(0.0)?
        .f_sum_dim_intlist([0i64].as_slice(), false, Kind::Float)?;
    let n = flux_t.numel();
    let mut flux = vec![0.0f32; n];
    flux_t.f_copy_data(&mut flux, n)?;
    let max = flux.iter().fold(0.0f32, |m, v| m.max(*v));
    if max <= 0.0 {
        return Ok(Vec::new());
    }
    let mut sorted = flux.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[n / 2];
    let thr = median + 0.15 * (max - median);
    let gap = (MIN_ONSET_GAP * sr / hop as f64).ceil() as usize;
    let mut out: Vec<f64> = Vec::new();
    let mut last_peak: Option<usize> = None;
    for i in 0..n {
        let lo = i.saturating_sub(gap);
        let hi = (i + gap + 1).min(n);
        let is_peak = flux[i] > thr && flux[lo..hi].iter().all(|v| *v <= flux[i]);
        if !is_peak || last_peak.is_some_and(|p| i - p < gap) {
            continue;
        }
        last_peak = Some(i);
        // Flux frame i compares windows starting at samples i·hop and (i+1)·hop.
        let centre = (i as i64 + 1) * hop;
        out.push(refine(audio, centre, n_fft, sr));
    }
    Ok(out)
}

/// The onset near sample `around` (within a window either side): where a 1 ms
/// log-energy envelope rises most steeply.
fn refine(audio: &[f32], around: i64, n_fft: i64, sr: f64) -> f64 {
    let win = ((0.001 * sr) as usize).max(4);
    let lo = (around - n_fft).max(0) as usize;
    let hi = ((around + 2 * n_fft) as usize).min(audio.len());
    let energy = |s: usize| -> f64 {
        let e: f64 = audio[s..(s + win).min(audio.len())]
            .iter()
            .map(|v| (*v as f64).powi(2))
            .sum();
        (e / win as f64 + 1e-9).ln()
    };
    let mut best = (f64::MIN, lo);
    let mut s = lo + win;
    while s + win <= hi {
        let rise = energy(s) - energy(s - win);
        if rise > best.0 {
            best = (rise, s);
        }
        s += 1;
    }
    best.1 as f64 / sr
}

/// Visual events (s): frames where the clip's motion energy peaks (fallback
/// when no track shows an impact).
pub fn motion_peaks(frames: ArrayView4<u8>, fps: f64) -> Result<Vec<f64>> {
    let s = frames.shape();
    let t = s[0];
    if t < 3 {
        return Ok(Vec::new());
    }
    let data = frames.as_standard_layout();
    let flat = data.as_slice().unwrap_or(&[]);
    let x = Tensor::f_from_slice(flat)?
        .f_reshape([t as i64, (s[1] * s[2] * 3) as i64])?
        .f_to_kind(Kind::Float)?;
    let d = x
        .f_slice(0, 1, t as i64, 1)?
        .f_sub(&x.f_slice(0, 0, t as i64 - 1, 1)?)?;
    let e_t = d
        .f_abs()?
        .f_mean_dim([1i64].as_slice(), false, Kind::Float)?;
    let n = e_t.numel();
    let mut e = vec![0.0f32; n];
    e_t.f_copy_data(&mut e, n)?;
    let mean = e.iter().sum::<f32>() / n as f32;
    Ok((1..n.saturating_sub(1))
        .filter(|&i| e[i] > e[i - 1] && e[i] >= e[i + 1] && e[i] > 1.2 * mean)
        // e[i] is the change from frame i to i+1.
        .map(|i| (i as f64 + 0.5) / fps)
        .collect())
}

/// The offset (ms, positive = sound late) that best lines `sounds` up with
/// `events` (both in s), or `None` when nothing matches.
pub fn estimate_offset(events: &[f64], sounds: &[f64]) -> Option<f64> {
    if events.is_empty() || sounds.is_empty() {
        return None;
    }
    let matches = |delta: f64| -> usize {
        events
            .iter()
            .filter(|&&v| {
                sounds
                    .iter()
                    .any(|&a| (a - v - delta).abs() * 1e3 <= MATCH_MS)
            })
            .count()
    };
    let steps = (SEARCH_MS as i64) * 2;
    let counts: Vec<usize> = (0..=steps)
        .map(|k| matches((k - SEARCH_MS as i64) as f64 * 1e-3))
        .collect();
    let best = *counts.iter().max()?;
    if best == 0 {
        return None;
    }
    // The middle of the widest run of best counts nearest zero.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (k, &c) in counts.iter().enumerate() {
        if c == best {
            match runs.last_mut() {
                Some(r) if r.1 + 1 == k => r.1 = k,
                _ => runs.push((k, k)),
            }
        }
    }
    let run = runs.iter().max_by(|a, b| {
        (a.1 - a.0).cmp(&(b.1 - b.0)).then_with(|| {
            let ma = ((a.0 + a.1) as f64 / 2.0 - SEARCH_MS).abs();
            let mb = ((b.0 + b.1) as f64 / 2.0 - SEARCH_MS).abs();
            mb.total_cmp(&ma)
        })
    })?;
    let delta = ((run.0 + run.1) as f64 / 2.0 - SEARCH_MS) * 1e-3;
    // Refine: the median lag of the matched pairs.
    let mut lags: Vec<f64> = events
        .iter()
        .filter_map(|&v| {
            sounds
                .iter()
                .map(|&a| a - v)
                .filter(|lag| (lag - delta).abs() * 1e3 <= MATCH_MS)
                .min_by(|x, y| (x - delta).abs().total_cmp(&(y - delta).abs()))
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    let m = lags.len();
    let median = if m % 2 == 1 {
        lags[m / 2]
    } else {
        0.5 * (lags[m / 2 - 1] + lags[m / 2])
    };
    Some(median * 1e3)
}

/// Share of `events` with a sound within one frame (`1 / fps` s).
pub fn share_synced(events: &[f64], sounds: &[f64], fps: f64) -> Option<f64> {
    if events.is_empty() {
        return None;
    }
    let tol = 1.0 / fps + 1e-9;
    let hit = events
        .iter()
        .filter(|&&v| sounds.iter().any(|&a| (a - v).abs() <= tol))
        .count();
    Some(hit as f64 / events.len() as f64)
}

/// The audio as mono (`[channels, samples]` averaged).
fn mono(audio: ndarray::ArrayView2<f32>) -> Vec<f32> {
    let ch = audio.shape()[0].max(1) as f32;
    audio.columns().into_iter().map(|c| c.sum() / ch).collect()
}

/// The sync analyzer of [`super::score::ANALYZERS`]: metrics `av_offset_ms`
/// and `av_impacts_synced` (null without audio or without visual events) and
/// an `av_offset` finding beyond [`MAX_OFFSET_MS`].
pub fn analyze(input: &ScoreInput, report: &mut PhysicsReport) -> Result<()> {
    let Some(audio) = input.audio else {
        report.set("av_offset_ms", None);
        report.set("av_impacts_synced", None);
        return Ok(());
    };
    let fps = input.fps as f64;
    let sounds = onsets(&mono(audio), input.sample_rate)?;
    let objects = analyze_frames(input.frames, fps)?;
    let mut events: Vec<f64> = Vec::new();
    for &(f, _) in &objects.impacts {
        let t = f / fps;
        if events.last().map_or(true, |&l| t - l > 0.5 / fps) {
            events.push(t);
        }
    }
    if events.is_empty() {
        events = motion_peaks(input.frames, fps)?;
    }
    let offset = estimate_offset(&events, &sounds);
    report.set("av_offset_ms", offset);
    report.set("av_impacts_synced", share_synced(&events, &sounds, fps));
    if let Some(ms) = offset.filter(|ms| ms.abs() > MAX_OFFSET_MS) {
        report.findings.push(Finding {
            kind: FindingKind::AvOffset,
            start_frame: 0,
            end_frame: input.frames.shape()[0].saturating_sub(1) as u32,
            track: None,
            value: ms,
            threshold: MAX_OFFSET_MS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::sim::Material;
    use crate::physics::sound::{synthesize, ImpactSound};

    #[test]
    fn onsets_land_on_the_bursts_and_offsets_are_found() {
        let times = [0.2f32, 0.55, 0.8, 1.3];
        let imps: Vec<ImpactSound> = times
            .iter()
            .map(|&t| ImpactSound {
                time: t,
                speed: 3.0,
                material: Material::Wood,
                against: Material::Rubber,
            })
            .collect();
        let audio = synthesize(&imps, 1.6, 16000).unwrap();
        let found = onsets(&audio, 16000).unwrap();
        assert_eq!(found.len(), times.len(), "{found:?}");
        for (a, t) in found.iter().zip(times) {
            assert!((a - t as f64).abs() < 0.003, "{a} vs {t}");
        }
        let events: Vec<f64> = times.iter().map(|t| *t as f64 - 0.07).collect();
        let off = estimate_offset(&events, &found).unwrap();
        assert!((off - 70.0).abs() < 3.0, "{off}");
        assert_eq!(share_synced(&events, &found, 24.0), Some(0.0));
        assert!(estimate_offset(&[], &found).is_none());
        assert!(onsets(&vec![0.0; 16000], 16000).unwrap().is_empty());
    }
}
