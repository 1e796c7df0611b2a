//! Impact sounds for simulated clips: each impact is a short decaying burst
//! (a few damped partials set by the materials, plus a brief noise click at
//! the onset), loud in proportion to the impact speed, starting at the sample
//! of the impact time. Mono f32 at any sample rate, and a helper to shift a
//! track in time (an injected audio-visual offset).

use super::sim::{Impact, Material};
use crate::{Error, Result};

/// Partials (Hz, relative amplitude) and decay time constant (s) of a material.
fn partials(material: Material) -> (&'static [(f32, f32)], f32) {
    match material {
        Material::Wood => (&[(420.0, 1.0), (1130.0, 0.5), (2270.0, 0.2)], 0.035),
        Material::Metal => (&[(1800.0, 1.0), (3710.0, 0.6), (5230.0, 0.4)], 0.25),
        Material::Rubber => (&[(180.0, 1.0), (510.0, 0.3)], 0.03),
        Material::Glass => (&[(2900.0, 1.0), (6100.0, 0.5)], 0.08),
    }
}

/// A cheap deterministic noise in [-1, 1].
fn noise(i: u64) -> f32 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// One impact to voice: when, how hard, and the two materials that met.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactSound {
    /// Onset time (s).
    pub time: f32,
    /// Normal impact speed (m/s): sets the loudness.
    pub speed: f32,
    /// The moving body's material.
    pub material: Material,
    /// The material it hit.
    pub against: Material,
}

/// Synthesises `duration` seconds of mono audio at `sample_rate` with one burst
/// per impact, peak-normalised to 0.9 (silence stays silence).
pub fn synthesize(impacts: &[ImpactSound], duration: f32, sample_rate: u32) -> Result<Vec<f32>> {
    if sample_rate < 4000 || !(duration.is_finite() && duration > 0.0) {
        return Err(Error::invalid(format!(
            "impact sound needs a sample rate ≥ 4000 Hz and a positive duration, got {sample_rate} Hz, {duration} s"
        )));
    }
    let sr = sample_rate as f32;
    let n = (duration * sr).round() as usize;
    let mut out = vec![0.0f32; n];
    let nyquist = sr * 0.45;
    for (k, imp) in impacts.iter().enumerate() {
        let start = (imp.time * sr).round();
        if start < 0.0 || start as usize >= n {
            continue;
        }
        let start = start as usize;
        let gain = (imp.speed / 5.0).clamp(0.05, 1.0);
        let (pa, da) = partials(imp.material);
        let (pb, db) = partials(imp.against);
        let tau = 0.5 * (da + db);
        let len = ((tau * 6.0 + 0.01) * sr) as usize;
        for i in 0..len.min(n - start) {
            let t = i as f32 / sr;
            let env = (-t / tau).exp();
            let mut v = 0.0;
            for &(f, a) in pa.iter().chain(pb) {
                if f < nyquist {
                    v += a * (std::f32::consts::TAU * f * t).sin();
                }
            }
            let click = if t < 0.004 {
                noise((k as u64) << 32 | i as u64) * (1.0 - t / 0.004)
            } else {
                0.0
            };
            out[start + i] += gain * (0.5 * v * env + 0.6 * click);
        }
    }
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        out.iter_mut().for_each(|v| *v *= 0.9 / peak);
    }
    Ok(out)
}

/// The sounds of simulated impacts: body materials from `materials`, and the
/// room surfaces of `floor`.
pub fn impact_sounds(
    impacts: &[Impact],
    materials: &[Material],
    floor: Material,
) -> Vec<ImpactSound> {
    use super::sim::Surface;
    impacts
        .iter()
        .filter_map(|i| {
            let material = *materials.get(i.body)?;
            let against = match i.other {
                Surface::Body(j) => *materials.get(j)?,
                _ => floor,
            };
            Some(ImpactSound {
                time: i.time,
                speed: i.speed,
                material,
                against,
            })
        })
        .collect()
}

/// The same audio `ms` milliseconds later (positive: the sound comes late;
/// negative: early), keeping its length: padded with silence, cut at the end.
pub fn shift(audio: &[f32], ms: f32, sample_rate: u32) -> Vec<f32> {
    let k = (ms * 1e-3 * sample_rate as f32).round() as i64;
    let n = audio.len() as i64;
    (0..n)
        .map(|i| {
            let src = i - k;
            if (0..n).contains(&src) {
                audio[src as usize]
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_start_at_impacts_and_shift_moves_them() {
        let imps = [ImpactSound {
            time: 0.25,
            speed: 3.0,
            material: Material::Wood,
            against: Material::Metal,
        }];
        let a = synthesize(&imps, 0.5, 16000).unwrap();
        assert_eq!(a.len(), 8000);
        let first = a.iter().position(|v| v.abs() > 1e-4).unwrap();
        assert_eq!(first, 4000);
        let peak = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.9).abs() < 1e-4);
        let s = shift(&a, 50.0, 16000);
        assert_eq!(s.iter().position(|v| v.abs() > 1e-4).unwrap(), 4800);
        assert!(synthesize(&imps, 0.5, 100).is_err());
        assert!(synthesize(&[], 0.1, 16000)
            .unwrap()
            .iter()
            .all(|v| *v == 0.0));
    }
}
