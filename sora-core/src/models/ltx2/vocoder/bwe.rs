//! Bandwidth extension of diffusers' `LTX2VocoderWithBWE` (LTX-2.3): a stage-1
//! generator makes a low-rate waveform, its causal log-mel spectrogram feeds a
//! second generator that predicts a high-rate residual, added to the stage-1
//! waveform resampled by a Hann-windowed sinc, clamped to [-1, 1] and cut to
//! `samples · output_rate / input_rate`.

use tch::Tensor;

use super::config::Ltx2VocoderBweConfig;
use super::generator::Generator;
use crate::nn::resample1d::{UpSample1d, UpWindow};
use crate::nn::stft::MelStft;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// A loaded `LTX2VocoderWithBWE`.
#[derive(Debug)]
pub struct BandwidthExtended {
    stage1: Generator,
    bwe: Generator,
    mel_stft: MelStft,
    resampler: UpSample1d,
    hop_length: i64,
    input_rate: i64,
    output_rate: i64,
}

impl BandwidthExtended {
    /// Checks the parts' agreement (a message for [`Error::Config`] otherwise).
    pub fn validate(c: &Ltx2VocoderBweConfig) -> std::result::Result<(), String> {
        Generator::validate(&c.stage1()).map_err(|e| format!("stage 1: {e}"))?;
        Generator::validate(&c.bwe()).map_err(|e| format!("bandwidth extension: {e}"))?;
        if c.input_sampling_rate < 1 || c.output_sampling_rate < c.input_sampling_rate {
            return Err(format!(
                "sample rates {} → {} Hz: the output rate must be at least the input rate",
                c.input_sampling_rate, c.output_sampling_rate
            ));
        }
        if c.hop_length < 1 || c.filter_length < 1 || c.num_mel_channels < 1 {
            return Err(format!(
                "STFT filter length {}, hop {}, mel channels {}",
                c.filter_length, c.hop_length, c.num_mel_channels
            ));
        }
        if c.bwe_in_channels != c.out_channels * c.num_mel_channels {
            return Err(format!(
                "`bwe_in_channels` {} is not `out_channels` {} × `num_mel_channels` {}",
                c.bwe_in_channels, c.out_channels, c.num_mel_channels
            ));
        }
        if c.bwe_out_channels != c.out_channels {
            return Err(format!(
                "`bwe_out_channels` {} differs from `out_channels` {} (the residual adds to the stage-1 waveform)",
                c.bwe_out_channels, c.out_channels
            ));
        }
        Ok(())
    }

    /// Loads `vocoder.*`, `bwe_generator.*` and `mel_stft.*` under `p`.
    pub fn load(p: &WeightPath, c: &Ltx2VocoderBweConfig) -> Result<Self> {
        Self::validate(c).map_err(Error::Unsupported)?;
        Ok(Self {
            stage1: Generator::load(&p.pp("vocoder"), &c.stage1())?,
            bwe: Generator::load(&p.pp("bwe_generator"), &c.bwe())?,
            mel_stft: MelStft::load(
                &p.pp("mel_stft"),
                c.filter_length,
                c.hop_length,
                c.window_length,
                c.num_mel_channels,
            )?,
            resampler: UpSample1d::new(
                c.output_sampling_rate / c.input_sampling_rate,
                UpWindow::Hann,
                p.device(),
                p.kind(),
            )?,
            hop_length: c.hop_length,
            input_rate: c.input_sampling_rate,
            output_rate: c.output_sampling_rate,
        })
    }

    /// The stage-1 generator's input channels.
    pub fn in_channels(&self) -> i64 {
        self.stage1.in_channels()
    }

    /// Samples out for `frames` mel frames (0 when too short to run).
    pub fn output_len(&self, frames: i64) -> i64 {
        let n = self.stage1.output_len(frames);
        let padded = n + (self.hop_length - n % self.hop_length) % self.hop_length;
        let mel_frames = self.mel_stft.stft().frames(padded);
        if n < 1 || mel_frames < 1 {
            return 0;
        }
        let both = self
            .bwe
            .output_len(mel_frames)
            .min(self.resampler.output_len(padded));
        both.min(n * self.output_rate / self.input_rate)
    }

    /// Waveforms `[batch, channels, samples]` at the output rate from mel
    /// features `[batch, in_channels, frames]`.
    pub fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let x = self.stage1.forward(features)?;
        let (batch, channels, samples) = x.size3()?;
        let rem = samples % self.hop_length;
        let x = if rem != 0 {
            x.f_constant_pad_nd([0, self.hop_length - rem])?
        } else {
            x
        };
        let mel = self.mel_stft.log_mel(&x.f_flatten(0, 1)?)?;
        let (_, bins, frames) = mel.size3()?;
        let residual = self
            .bwe
            .forward(&mel.f_reshape([batch, channels * bins, frames])?)?;
        let skip = self.resampler.forward(&x)?;
        if residual.size() != skip.size() {
            return Err(Error::Unsupported(format!(
                "this bandwidth-extension config makes a residual {:?} and a resampled waveform {:?} of different lengths (diffusers fails on it too)",
                residual.size(),
                skip.size()
            )));
        }
        let waveform = residual.f_add(&skip)?.f_clamp(-1.0, 1.0)?;
        let keep = (samples * self.output_rate / self.input_rate).min(waveform.size()[2]);
        Ok(waveform.f_narrow(2, 0, keep)?)
    }
}
