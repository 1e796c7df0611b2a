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
/// into the generated samples (both hold the clip's sound there). The
/// generated track is cut or padded with silence to `total_s`.
pub fn stitch(
    source: Option<&SourceAudio>,
    generated: &Tensor,
    rate: u32,
    offset_s: f64,
    seam_s: f64,
    total_s: f64,
) -> Result<Tensor> {
    let r = f64::from(rate);
    let total = (total_s * r).round() as i64;
    let seam = ((seam_s * r).round() as i64).clamp(0, total);
    let offset = (offset_s * r).round() as i64;
    // (A seam at the very end, video-to-video keeping the clip's sound: the
    // source's samples throughout, nothing to fade into.)
    let mut s = SeamStitch::at_samples(source, rate, offset, seam, seam < total)?;
    let out = s.push(generated)?;
    let n = out.size()[1];
    Ok(if n >= total {
        out.f_narrow(1, 0, total)?
    } else {
        out.f_constant_pad_nd([0, total - n])?
    })
}

/// [`stitch`] as the generated samples arrive, part by part (a long-form
/// extension decodes its sound window by window): the first part writes the
/// source's samples up to the fade, each part then its samples from where
/// the output stands, faded into the source's over the fade before the seam.
#[derive(Debug)]
pub struct SeamStitch {
    /// The clip's track until the first part turns it into `head`.
    source: Option<SourceAudio>,
    rate: u32,
    /// Output index of the generated track's sample 0.
    offset: i64,
    /// Output index of the seam.
    seam: i64,
    /// Samples before the seam over which the source fades out.
    fade: i64,
    /// The generated track's channels (given by the first part; `None`
    /// before it).
    channels: Option<i64>,
    /// The source at the output rate and channels, up to the seam: built by
    /// the first part, dropped once the output is past the seam.
    head: Option<Tensor>,
    /// Output samples written.
    emitted: i64,
    /// Output index of the next generated sample.
    next: i64,
}

impl SeamStitch {
    /// The stitch of an extension whose source track (`None`: silence) ends
    /// at `seam_s` and whose generated track, at `rate`, starts at
    /// `offset_s` of the output.
    pub fn new(
        source: Option<&SourceAudio>,
        rate: u32,
        offset_s: f64,
        seam_s: f64,
    ) -> Result<Self> {
        let r = f64::from(rate);
        let seam = ((seam_s * r).round() as i64).max(0);
        Self::at_samples(source, rate, (offset_s * r).round() as i64, seam, true)
    }

    fn at_samples(
        source: Option<&SourceAudio>,
        rate: u32,
        offset: i64,
        seam: i64,
        fade: bool,
    ) -> Result<Self> {
        if let Some(a) = source {
            a.check()?;
        }
        let fade = if fade && source.is_some() {
            ((SEAM_FADE_S * f64::from(rate)).round() as i64)
                .min(seam)
                .min((seam - offset).max(0))
        } else {
            0
        };
        Ok(Self {
            source: source.cloned(),
            rate,
            offset,
            seam,
            fade,
            channels: None,
            head: None,
            emitted: 0,
            next: offset,
        })
    }

    /// The source's samples up to the seam, `channels` of them at the
    /// output rate (cut, or padded with silence); the source itself is not
    /// kept after.
    fn source_head(&mut self, channels: i64) -> Result<Tensor> {
        let seam = self.seam;
        Ok(match self.source.take() {
            Some(a) => {
                let fitted = fit_channels(&a.samples, channels.max(1) as usize);
                let t = resample_hz(
                    &to_tensor(&fitted)?,
                    i64::from(a.sample_rate),
                    i64::from(self.rate),
                )?;
                let n = t.size()[1];
                if n >= seam {
                    t.f_narrow(1, 0, seam)?
                } else {
                    t.f_constant_pad_nd([0, seam - n])?
                }
            }
            None => Tensor::f_zeros([channels, seam], (Kind::Float, tch::Device::Cpu))?,
        })
    }

    /// The output samples a generated part `[channels, n]` (the one after
    /// the last part pushed) makes: the source's up to the fade first (for
    /// the first part), then the part's from where the output stands
    /// (silence over a gap before it), faded over the seam.
    pub fn push(&mut self, generated: &Tensor) -> Result<Tensor> {
        let g = generated.size();
        if g.len() != 2 {
            return Err(Error::invalid(format!(
                "a generated track is [channels, samples], got {g:?}"
            )));
        }
        let (ch, gn) = (g[0], g[1]);
        let gen = generated
            .f_to_kind(Kind::Float)?
            .f_to_device(tch::Device::Cpu)?;
        let fade_from = self.seam - self.fade;
        let mut parts = Vec::new();
        if self.channels.is_none() {
            let head = self.source_head(ch)?;
            parts.push(head.f_narrow(1, 0, fade_from)?);
            self.emitted = fade_from;
            self.channels = Some(ch);
            self.head = Some(head);
        }
        let p = self.next;
        self.next += gn;
        if p > self.emitted {
            parts.push(Tensor::f_zeros(
                [ch, p - self.emitted],
                (Kind::Float, tch::Device::Cpu),
            )?);
            self.emitted = p;
        }
        let (lo, hi) = (self.emitted.max(p), p + gn);
        if hi > lo {
            if lo < self.seam {
                // Inside the fade: the source's samples into the part's.
                let end = hi.min(self.seam);
                let head = self
                    .head
                    .as_ref()
                    .ok_or_else(|| Error::Numeric("the seam's source samples are gone".into()))?;
                let w = Tensor::f_arange_start(
                    lo - fade_from,
                    end - fade_from,
                    (Kind::Float, tch::Device::Cpu),
                )?
                .f_add_scalar(0.5)?
                .f_div_scalar(self.fade as f64)?;
                let a = head.f_narrow(1, lo, end - lo)?;
                let b = gen.f_narrow(1, lo - p, end - lo)?;
                parts.push(a.f_mul(&w.f_rsub_scalar(1.0)?)?.f_add(&b.f_mul(&w)?)?);
            }
            let from = lo.max(self.seam);
            if hi > from {
                parts.push(gen.f_narrow(1, from - p, hi - from)?);
            }
            self.emitted = hi;
        }
        if self.emitted >= self.seam {
            // Past the fade: the source's samples are not needed any more.
            self.head = None;
        }
        if parts.is_empty() {
            return Ok(Tensor::f_zeros([ch, 0], (Kind::Float, tch::Device::Cpu))?);
        }
        Ok(Tensor::f_cat(&parts, 1)?)
    }

    /// The silence that makes the track as long as the generated window's
    /// `generated_s` seconds from its start (the decoded sound ends a few
    /// mel frames short of the picture, as one walk's does before
    /// [`stitch`] pads it); `None` when nothing is missing or nothing was
    /// pushed.
    pub fn finish(&self, generated_s: f64) -> Result<Option<Tensor>> {
        let Some(ch) = self.channels else {
            return Ok(None);
        };
        let total = self.offset + (generated_s * f64::from(self.rate)).round() as i64;
        if total <= self.emitted {
            return Ok(None);
        }
        Ok(Some(Tensor::f_zeros(
            [ch, total - self.emitted],
            (Kind::Float, tch::Device::Cpu),
        )?))
    }
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
    fn parts_pushed_one_by_one_make_the_whole_track() {
        let rate = 100u32;
        let wave = Array2::from_shape_fn((1, 150), |(_, i)| (i as f32 * 0.1).sin());
        let src = SourceAudio::new(wave, rate);
        let gen = Tensor::linspace(-1.0, 1.0, 240, (Kind::Float, tch::Device::Cpu)).view([2, 120]);
        // The window starts at 1.0 s (sample 100), the seam at 1.5 s (150),
        // the fade from 148: parts ending before the fade, inside it, across
        // the seam, and after it.
        let whole = stitch(Some(&src), &gen, rate, 1.0, 1.5, 2.2).unwrap();
        let mut s = SeamStitch::new(Some(&src), rate, 1.0, 1.5).unwrap();
        let parts: Vec<Tensor> = [(0, 30), (30, 19), (49, 2), (51, 69)]
            .into_iter()
            .map(|(a, n)| s.push(&gen.narrow(1, a, n)).unwrap())
            .collect();
        let joined = Tensor::cat(&parts, 1);
        assert_eq!(joined.size(), [2, 220]);
        assert!(joined.equal(&whole));
        // No source: silence up to the seam, then the parts.
        let mut s = SeamStitch::new(None, rate, 1.0, 1.5).unwrap();
        let a = s.push(&gen.narrow(1, 0, 60)).unwrap();
        let b = s.push(&gen.narrow(1, 60, 60)).unwrap();
        assert_eq!((a.size()[1], b.size()[1]), (160, 60));
        assert!(a.narrow(1, 0, 150).abs().max().double_value(&[]) == 0.0);
        assert!(a.narrow(1, 150, 10).equal(&gen.narrow(1, 50, 10)));
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
