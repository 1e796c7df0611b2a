//! A log-mel spectrogram of a waveform the way `torchaudio.transforms.MelSpectrogram`
//! computes it with LTX-2's audio settings: a periodic Hann window, a centred
//! STFT with reflect padding, magnitudes (power 1), a Slaney-scale mel
//! filterbank with Slaney area normalisation, then `ln(max(x, 1e-5))`.
//! LTX-2's audio VAE encoder takes this spectrogram (its training front end);
//! the filterbank and window are built here from the settings, as torchaudio
//! builds them (nothing is stored in a checkpoint).

use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// Mel magnitudes are clamped to this before the logarithm.
const LOG_FLOOR: f64 = 1e-5;

/// Hz → mel on the Slaney scale (linear below 1 kHz, logarithmic above).
fn hz_to_mel(f: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

/// Mel → Hz on the Slaney scale.
fn mel_to_hz(m: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// The triangular Slaney filterbank `[n_freqs, n_mels]` (torchaudio's
/// `melscale_fbanks(..., norm="slaney", mel_scale="slaney")`), computed in
/// f32 as torchaudio does.
pub fn slaney_filterbank(
    n_freqs: i64,
    f_min: f64,
    f_max: f64,
    n_mels: i64,
    sample_rate: i64,
) -> Result<Tensor> {
    if n_freqs < 2 || n_mels < 1 || sample_rate < 1 || !(f_min >= 0.0 && f_max > f_min) {
        return Err(Error::invalid(format!(
            "mel filterbank: {n_freqs} frequencies, {n_mels} mels, {sample_rate} Hz, {f_min}–{f_max} Hz"
        )));
    }
    let opts = (Kind::Float, Device::Cpu);
    // The FFT bins' frequencies, up to the integer Nyquist (torchaudio's `sample_rate // 2`).
    let all_freqs = Tensor::f_linspace(0.0, (sample_rate / 2) as f64, n_freqs, opts)?;
    let m_pts = Tensor::f_linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2, opts)?;
    let mels = Vec::<f32>::try_from(&m_pts)?;
    let f_pts: Vec<f32> = mels
        .iter()
        .map(|&m| mel_to_hz(f64::from(m)) as f32)
        .collect();
    let f_pts = Tensor::f_from_slice(&f_pts)?;
    let n = n_mels + 2;
    let f_diff = f_pts
        .f_narrow(0, 1, n - 1)?
        .f_sub(&f_pts.f_narrow(0, 0, n - 1)?)?;
    let slopes = f_pts.f_unsqueeze(0)?.f_sub(&all_freqs.f_unsqueeze(1)?)?;
    let down = slopes
        .f_narrow(1, 0, n_mels)?
        .f_neg()?
        .f_div(&f_diff.f_narrow(0, 0, n_mels)?)?;
    let up = slopes
        .f_narrow(1, 2, n_mels)?
        .f_div(&f_diff.f_narrow(0, 1, n_mels)?)?;
    let fb = down.f_minimum(&up)?.f_clamp_min(0.0)?;
    let enorm = f_pts
        .f_narrow(0, 2, n_mels)?
        .f_sub(&f_pts.f_narrow(0, 0, n_mels)?)?
        .f_reciprocal()?
        .f_mul_scalar(2.0)?;
    Ok(fb.f_mul(&enorm.f_unsqueeze(0)?)?)
}

/// A log-mel spectrogram front end (see the module docs).
#[derive(Debug)]
pub struct LogMel {
    n_fft: i64,
    hop: i64,
    /// Periodic Hann window `[n_fft]`.
    window: Tensor,
    /// `[n_fft/2 + 1, n_mels]`.
    filterbank: Tensor,
}

impl LogMel {
    /// The front end of `sample_rate` Hz audio: `n_fft`-point frames (window
    /// length `n_fft`) every `hop` samples, `n_mels` bands from 0 Hz to Nyquist.
    pub fn new(sample_rate: i64, n_fft: i64, hop: i64, n_mels: i64) -> Result<Self> {
        if n_fft < 2 || hop < 1 {
            return Err(Error::invalid(format!(
                "log-mel: FFT size {n_fft} and hop {hop} must be at least 2 and 1"
            )));
        }
        let window = Tensor::f_hann_window_periodic(n_fft, true, (Kind::Float, Device::Cpu))?;
        let filterbank = slaney_filterbank(
            n_fft / 2 + 1,
            0.0,
            sample_rate as f64 / 2.0,
            n_mels,
            sample_rate,
        )?;
        Ok(Self {
            n_fft,
            hop,
            window,
            filterbank,
        })
    }

    /// Frames of a waveform of `samples` samples (`1 + samples / hop`, centred).
    pub fn frames(&self, samples: i64) -> i64 {
        1 + samples / self.hop
    }

    /// The fewest samples a waveform needs (reflect padding by `n_fft / 2`
    /// needs more than that many).
    pub fn min_samples(&self) -> i64 {
        self.n_fft / 2 + 1
    }

    /// Waveforms `[B, C, N]` (f32) → log-mel `[B, C, frames, n_mels]`
    /// (time before mel, as LTX-2's audio VAE takes it).
    pub fn forward(&self, wave: &Tensor) -> Result<Tensor> {
        let s = wave.size();
        if s.len() != 3 || s[2] < self.min_samples() {
            return Err(Error::invalid(format!(
                "log-mel needs waveforms [B, C, N ≥ {}], got {s:?}",
                self.min_samples()
            )));
        }
        let dev = wave.device();
        let x = wave
            .f_to_kind(Kind::Float)?
            .f_reshape([s[0] * s[1], 1, s[2]])?;
        let half = self.n_fft / 2;
        let x = x.f_reflection_pad1d([half, half])?.f_squeeze_dim(1)?;
        // [B·C, frames, n_fft] windowed frames → one-sided spectrum magnitudes.
        let frames = x
            .f_unfold(1, self.n_fft, self.hop)?
            .f_mul(&self.window.f_to_device(dev)?)?;
        let spec = frames.f_fft_rfft(None, -1, "backward")?.f_abs()?;
        let mel = spec.f_matmul(&self.filterbank.f_to_device(dev)?)?;
        let t = mel.size()[1];
        let m = mel.size()[2];
        Ok(mel
            .f_clamp_min(LOG_FLOOR)?
            .f_log()?
            .f_reshape([s[0], s[1], t, m])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_round_trips_and_bands_peak_at_one_place() {
        for f in [0.0, 300.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(f)) - f).abs() < 1e-6 * f.max(1.0));
        }
        let fb = slaney_filterbank(513, 0.0, 8000.0, 64, 16000).unwrap();
        assert_eq!(fb.size(), [513, 64]);
        // Every band has weight somewhere, none is negative.
        let col = fb.sum_dim_intlist(0, false, Kind::Float);
        assert!(f64::try_from(col.min()).unwrap() > 0.0);
        assert!(f64::try_from(fb.min()).unwrap() >= 0.0);
    }

    #[test]
    fn a_tone_lands_in_its_band_and_sizes_are_checked() {
        let lm = LogMel::new(16000, 1024, 160, 64).unwrap();
        let n = 16000;
        let t = Tensor::arange(n, (Kind::Float, Device::Cpu)) / 16000.0;
        let tone = (t * (2.0 * std::f64::consts::PI * 2000.0))
            .sin()
            .view([1, 1, n]);
        let mel = lm.forward(&tone).unwrap();
        assert_eq!(mel.size(), [1, 1, lm.frames(n), 64]);
        let mid = mel.get(0).get(0).get(50);
        let peak = i64::try_from(mid.argmax(0, false)).unwrap();
        // 2 kHz on the Slaney scale: about band 31 of 64 up to 8 kHz.
        let want = (hz_to_mel(2000.0) / hz_to_mel(8000.0) * 65.0) as i64 - 1;
        assert!(
            (peak - want).abs() <= 1,
            "peak band {peak}, expected about {want}"
        );
        assert!(lm
            .forward(&Tensor::zeros([1, 1, 100], (Kind::Float, Device::Cpu)))
            .is_err());
    }
}
