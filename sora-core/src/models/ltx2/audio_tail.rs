//! The audio side of LTX-2 clip extension: the source clip's track over the
//! overlap (the stretch of the clip the continuation is conditioned on)
//! encoded into the audio latents the walk holds, and the output track
//! stitched from the source's samples and the generated ones.
//!
//! Encoding follows LTX-2's audio front end: the samples resampled to the
//! audio VAE's rate, fitted to its input channels, a log-mel spectrogram
//! (`torchaudio`'s `MelSpectrogram` with a 1024-point FFT, the VAE's hop and
//! mel bins, Slaney scale; [`crate::nn::mel`]), the encoder's posterior mean,
//! packed and normalised. Audio latent `i` of a window sits at `i / rate`
//! seconds (25 per second at 16 kHz, hop 160), so the overlap of `d` seconds
//! holds its first `⌊d · rate⌋` latents: the last, partial one is left free.

use ndarray::Array2;
use tch::{Kind, Tensor};

use super::audio_vae::Ltx2AudioVae;
use crate::nn::mel::LogMel;
use crate::nn::resample1d::resample_hz;
use crate::pipeline::request::SourceAudio;
use crate::{Error, Result};

/// The FFT size of LTX-2's audio front end (its `AudioProcessor`).
pub const MEL_FFT: i64 = 1024;

/// Crossfade (s) from the source's samples to the generated ones, ending at
/// the seam, where both hold the same stretch of the clip.
pub const SEAM_FADE_S: f64 = 0.02;

/// `samples` `[C, N]` with `want` channels: a mono track repeated, a wider
/// one cut to its first `want`, a narrower one padded by repeating its last.
fn fit_channels(samples: &Array2<f32>, want: usize) -> Array2<f32> {
    let (c, n) = samples.dim();
    let mut out = Array2::zeros((want, n));
    for ch in 0..want {
        let from = ch.min(c.saturating_sub(1));
        if c > 0 {
            out.row_mut(ch).assign(&samples.row(from));
        }
    }
    out
}

/// Samples `[start, start + len)` of `audio`, zero past its end.
fn window(audio: &SourceAudio, start: usize, len: usize) -> Array2<f32> {
    let (c, n) = audio.samples.dim();
    let mut out = Array2::zeros((c, len));
    let end = (start + len).min(n);
    if start < end {
        out.slice_mut(ndarray::s![.., ..end - start])
            .assign(&audio.samples.slice(ndarray::s![.., start..end]));
    }
    out
}

fn to_tensor(a: &Array2<f32>) -> Result<Tensor> {
    let (c, n) = a.dim();
    let data = a.as_standard_layout();
    Ok(Tensor::f_from_slice(data.as_slice().unwrap_or(&[]))?.f_view([c as i64, n as i64])?)
}

/// The normalised packed audio latents `[1, L, C·M]` of `audio` from
/// `start_s` for `seconds`: `L = ⌊seconds · latents_per_second⌋` (`None`
/// when that is 0). [`Error::Unsupported`] when the VAE folder has no encoder.
pub fn encode_tail(
    vae: &Ltx2AudioVae,
    audio: &SourceAudio,
    start_s: f64,
    seconds: f64,
) -> Result<Option<Tensor>> {
    audio.check()?;
    let keep = (seconds * vae.latents_per_second() + 1e-9).floor() as i64;
    if keep < 1 {
        return Ok(None);
    }
    if !vae.has_encoder() {
        return Err(Error::Unsupported(format!(
            "extending a clip with its sound needs the audio VAE's encoder, and {} stores none \
             (`encoder.*` tensors); extend without audio (`audio=false`) to continue the picture only",
            vae.config_path().display()
        )));
    }
    let cfg = vae.config();
    // The pipeline's audio latents are 4× shorter than the mel and 4× fewer
    // bins (its fixed factor): an encoder of another depth makes latents the
    // walk cannot hold.
    if cfg.ch_mult.len() != 3 {
        return Err(Error::Unsupported(format!(
            "extending a clip with its sound: the audio VAE of {} has {} levels (`ch_mult` {:?}), \
                so its encoder compresses by {}, not the 4 the LTX-2 pipeline's audio latents \
                assume; extend without audio (`audio=false`)",
            vae.config_path().display(),
            cfg.ch_mult.len(),
            cfg.ch_mult,
            1i64 << cfg.ch_mult.len().saturating_sub(1).min(62)
        )));
    }
    let rate = f64::from(audio.sample_rate);
    let start = (start_s * rate).round().max(0.0) as usize;
    let len = (seconds * rate).round().max(1.0) as usize;
    let samples = fit_channels(&window(audio, start, len), cfg.in_channels.max(1) as usize);
    let wave = resample_hz(
        &to_tensor(&samples)?,
        i64::from(audio.sample_rate),
        cfg.sample_rate,
    )?
    .f_unsqueeze(0)?;
    let mel_bins = cfg.mel_bins.unwrap_or(64);
    let front = LogMel::new(cfg.sample_rate, MEL_FFT, cfg.mel_hop_length, mel_bins)?;
    let n = wave.size()[2];
    let wave = if n < front.min_samples() {
        wave.f_constant_pad_nd([0, front.min_samples() - n])?
    } else {
        wave
    };
    let _guard = tch::no_grad_guard();
    let mel = front.forward(&wave)?;
    let packed = vae.encode_mel_packed(&mel)?;
    let have = packed.size()[1];
    Ok(Some(packed.f_narrow(1, 0, keep.min(have))?))
}

/// The output track of an extension, `[channels, round(total_s · rate)]` at
/// the generated track's `rate`: the source's samples (resampled, fitted to
/// the generated channels, silence where it has none) up to the seam at
/// `seam_s`, then the generated track, whose sample 0 sits at `offset_s` of
/// the output; over the [`SEAM_FADE_S`] before the seam the source fades
/// into the generated samples (both hold the clip's sound there).
pub fn stitch(
    source: Option<&SourceAudio>,
    generated: &Tensor,
    rate: u32,
    offset_s: f64,
    seam_s: f64,
    total_s: f64,
) -> Result<Tensor> {
    let g = generated.size();
    if g.len() != 2 {
        return Err(Error::invalid(format!(
            "a generated track is [channels, samples], got {g:?}"
        )));
    }
    let (ch, gn) = (g[0], g[1]);
    let r = f64::from(rate);
    let total = (total_s * r).round() as i64;
    let seam = ((seam_s * r).round() as i64).clamp(0, total);
    let offset = (offset_s * r).round() as i64;
    let gen = generated.f_to_kind(Kind::Float)?;
    // The source, at the output rate and the generated channel count.
    let src = match source {
        Some(a) => {
            a.check()?;
            let fitted = fit_channels(&a.samples, ch.max(1) as usize);
            let t = resample_hz(
                &to_tensor(&fitted)?,
                i64::from(a.sample_rate),
                i64::from(rate),
            )?;
            let n = t.size()[1];
            if n >= seam {
                t.f_narrow(1, 0, seam)?
            } else {
                t.f_constant_pad_nd([0, seam - n])?
            }
        }
        None => Tensor::f_zeros([ch, seam], (Kind::Float, tch::Device::Cpu))?,
    };
    // The generated samples from output sample `from` on, `len` of them (zero past its end).
    let gen_span = |from: i64, len: i64| -> Result<Tensor> {
        let a = (from - offset).max(0);
        let have = (gn - a).clamp(0, len);
        let part = if have > 0 {
            gen.f_narrow(1, a, have)?
        } else {
            Tensor::f_zeros([ch, 0], (Kind::Float, tch::Device::Cpu))?
        };
        Ok(part.f_constant_pad_nd([0, len - have])?)
    };
    // (A seam at the very end, video-to-video keeping the clip's sound: the
    // source's samples throughout, nothing to fade into.)
    let fade = if seam >= total {
        0
    } else {
        ((SEAM_FADE_S * r).round() as i64)
            .min(seam)
            .min((seam - offset).max(0))
    };
    let head = src.f_narrow(1, 0, seam - fade)?;
    let parts = if fade > 0 && source.is_some() {
        let w = Tensor::f_arange(fade, (Kind::Float, tch::Device::Cpu))?
            .f_add_scalar(0.5)?
            .f_div_scalar(fade as f64)?;
        let a = src.f_narrow(1, seam - fade, fade)?;
        let b = gen_span(seam - fade, fade)?;
        let mixed = a.f_mul(&w.f_rsub_scalar(1.0)?)?.f_add(&b.f_mul(&w)?)?;
        vec![head, mixed, gen_span(seam, total - seam)?]
    } else {
        vec![src.f_narrow(1, 0, seam)?, gen_span(seam, total - seam)?]
    };
    Ok(Tensor::f_cat(&parts, 1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_track_is_the_source_then_the_generated_samples() {
        let rate = 100u32;
        let src = SourceAudio::new(Array2::from_elem((1, 150), 0.5), rate);
        let gen = Tensor::full([2, 120], -0.25, (Kind::Float, tch::Device::Cpu));
        // Source 1.5 s; the window starts at 1.0 s; output 2.0 s.
        let out = stitch(Some(&src), &gen, rate, 1.0, 1.5, 2.0).unwrap();
        assert_eq!(out.size(), [2, 200]);
        let v = Vec::<f32>::try_from(out.get(1)).unwrap();
        assert!(
            v[..148].iter().all(|x| (*x - 0.5).abs() < 1e-3),
            "{:?}",
            &v[140..150]
        );
        assert!(v[150..].iter().all(|x| (*x + 0.25).abs() < 1e-6));
        // The fade (2 samples at 100 Hz) steps by less than the jump it replaces.
        assert!((v[148] - v[149]).abs() < 0.75 && v[148] < 0.5 && v[149] > -0.25);
        // A seam at the end: the source's samples throughout.
        let out = stitch(Some(&src), &gen, rate, 0.0, 1.2, 1.2).unwrap();
        assert_eq!(out.size(), [2, 120]);
        assert!(Vec::<f32>::try_from(out.get(0))
            .unwrap()
            .iter()
            .all(|x| *x == 0.5));
        // No source track: silence, then the generated samples.
        let out = stitch(None, &gen, rate, 1.0, 1.5, 2.0).unwrap();
        let v = Vec::<f32>::try_from(out.get(0)).unwrap();
        assert!(v[..150].iter().all(|x| *x == 0.0) && v[150] == -0.25);
    }

    #[test]
    fn channels_are_fitted() {
        let a = Array2::from_shape_vec((1, 2), vec![1.0f32, 2.0]).unwrap();
        let f = fit_channels(&a, 2);
        assert_eq!(f.row(1).to_vec(), vec![1.0, 2.0]);
        let b = Array2::from_shape_vec((3, 1), vec![1.0f32, 2.0, 3.0]).unwrap();
        assert_eq!(fit_channels(&b, 2).column(0).to_vec(), vec![1.0, 2.0]);
    }
}
