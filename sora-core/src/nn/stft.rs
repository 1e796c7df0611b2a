//! A causal short-time Fourier transform computed as a strided convolution
//! with stored, windowed DFT bases (diffusers' `CausalSTFT` in the LTX-2
//! vocoder), and the log-mel spectrogram over it (`MelSTFT`). The bases and
//! the mel filterbank come from the checkpoint (their exact stored values are
//! part of the model), so nothing here builds a window.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// Mel energies are clamped to this before the logarithm.
const MEL_FLOOR: f64 = 1e-5;

/// Causal STFT magnitudes: the waveform is padded on the left only (by
/// `window_length − hop_length`), so frame `t` sees samples up to `t·hop + hop`.
#[derive(Debug)]
pub struct CausalStft {
    /// `[2·freqs, 1, filter_length]`: real parts, then imaginary parts.
    forward_basis: Tensor,
    hop_length: i64,
    window_length: i64,
    filter_length: i64,
}

impl CausalStft {
    /// Loads `p.forward_basis` `[2·(filter_length/2 + 1), 1, filter_length]`.
    /// (`p.inverse_basis`, for resynthesis, is not needed here and not read.)
    pub fn load(
        p: &WeightPath,
        filter_length: i64,
        hop_length: i64,
        window_length: i64,
    ) -> Result<Self> {
        if filter_length < 1 || hop_length < 1 || window_length < 0 {
            return Err(Error::Unsupported(format!(
                "an STFT with filter length {filter_length}, hop {hop_length}, window {window_length}"
            )));
        }
        let freqs = filter_length / 2 + 1;
        let forward_basis = p.get("forward_basis", &[2 * freqs, 1, filter_length])?;
        Ok(Self {
            forward_basis,
            hop_length,
            window_length,
            filter_length,
        })
    }

    /// Frequency bins (`filter_length / 2 + 1`).
    pub fn freqs(&self) -> i64 {
        self.filter_length / 2 + 1
    }

    /// The hop between frames, in samples.
    pub fn hop_length(&self) -> i64 {
        self.hop_length
    }

    fn left_pad(&self) -> i64 {
        (self.window_length - self.hop_length).max(0)
    }

    /// Frames for a waveform of `len` samples (≤ 0: too short).
    pub fn frames(&self, len: i64) -> i64 {
        (len + self.left_pad() - self.filter_length).div_euclid(self.hop_length) + 1
    }

    /// Magnitudes `[batch, freqs, frames]` of waveforms `[batch, samples]`.
    pub fn magnitude(&self, waveform: &Tensor) -> Result<Tensor> {
        let size = waveform.size();
        if size.len() != 2 || self.frames(size[1]) < 1 {
            return Err(Error::invalid(format!(
                "an STFT of filter length {} expects [batch, samples] with enough samples, got {size:?}",
                self.filter_length
            )));
        }
        let padded = waveform
            .f_unsqueeze(1)?
            .f_constant_pad_nd([self.left_pad(), 0])?;
        let spec = padded.f_conv1d(
            &self.forward_basis.f_to_kind(waveform.kind())?,
            None::<Tensor>,
            [self.hop_length],
            [0],
            [1],
            1,
        )?;
        let freqs = spec.size()[1] / 2;
        let real = spec.f_narrow(1, 0, freqs)?;
        let imag = spec.f_narrow(1, freqs, freqs)?;
        Ok(real.f_square()?.f_add(&imag.f_square()?)?.f_sqrt()?)
    }
}

/// A causal log-mel spectrogram: `log(max(mel_basis · |STFT|, 1e-5))`.
#[derive(Debug)]
pub struct MelStft {
    stft: CausalStft,
    /// `[mel_channels, freqs]`.
    mel_basis: Tensor,
}

impl MelStft {
    /// Loads `p.stft_fn.forward_basis` and `p.mel_basis` `[mel_channels, freqs]`.
    pub fn load(
        p: &WeightPath,
        filter_length: i64,
        hop_length: i64,
        window_length: i64,
        mel_channels: i64,
    ) -> Result<Self> {
        let stft = CausalStft::load(&p.pp("stft_fn"), filter_length, hop_length, window_length)?;
        let mel_basis = p.get("mel_basis", &[mel_channels, stft.freqs()])?;
        Ok(Self { stft, mel_basis })
    }

    /// The STFT underneath.
    pub fn stft(&self) -> &CausalStft {
        &self.stft
    }

    /// Log-mel spectrogram `[batch, mel_channels, frames]` of `[batch, samples]`.
    pub fn log_mel(&self, waveform: &Tensor) -> Result<Tensor> {
        let magnitude = self.stft.magnitude(waveform)?;
        let mel = self
            .mel_basis
            .f_to_kind(magnitude.kind())?
            .f_matmul(&magnitude)?;
        Ok(mel.f_clamp_min(MEL_FLOOR)?.f_log()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::TensorStore;
    use tch::Device;
    use tch::Kind;

    /// A pure tone's energy lands in its DFT bin.
    #[test]
    fn a_tone_peaks_in_its_bin() {
        let n = 32i64;
        let freqs = n / 2 + 1;
        let t = Tensor::arange(n, (Kind::Double, Device::Cpu));
        let k = Tensor::arange(freqs, (Kind::Double, Device::Cpu)).unsqueeze(1);
        let angle = k * t.unsqueeze(0) * (2.0 * std::f64::consts::PI / n as f64);
        let basis = Tensor::cat(&[angle.cos(), -angle.sin()], 0)
            .to_kind(Kind::Float)
            .unsqueeze(1);
        let dir = std::env::temp_dir().join(format!("sora_stft_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("w.safetensors");
        Tensor::write_safetensors(&[("stft_fn.forward_basis", basis)], &file).unwrap();
        let store = TensorStore::open_file(&file, "stft", Device::Cpu, Kind::Float).unwrap();
        let stft = CausalStft::load(&store.root().pp("stft_fn"), n, 8, n).unwrap();
        store.finish().unwrap();
        let samples = Tensor::arange(64, (Kind::Float, Device::Cpu));
        let tone = (samples * (2.0 * std::f64::consts::PI * 4.0 / n as f64))
            .cos()
            .unsqueeze(0);
        let mag = stft.magnitude(&tone).unwrap();
        assert_eq!(mag.size(), [1, freqs, 8]);
        let last = mag.select(2, 7);
        assert_eq!(last.argmax(1, false).int64_value(&[0]), 4);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
