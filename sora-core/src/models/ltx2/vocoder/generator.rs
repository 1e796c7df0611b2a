//! The mel → waveform generator of diffusers' `LTX2Vocoder` (a HiFi-GAN /
//! BigVGAN-style network): `conv_in`, then per stage a transposed-convolution
//! up-sampler followed by the mean of parallel residual blocks, then a final
//! activation, `conv_out` and `tanh` / clamp / nothing.

use tch::{Kind, Tensor};

use super::blocks::{leaky_relu, ActKind, Activation, AntiAlias, ResBlock};
use super::config::Ltx2VocoderConfig;
use crate::nn::conv1d::{Conv1d, Conv1dSpec, ConvTranspose1d, Padding1d};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// The final activation of `conv_out`'s result (`final_act_fn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FinalAct {
    Tanh,
    Clamp,
    None,
}

/// One up-sampling stage: the up-sampler and its parallel residual blocks.
#[derive(Debug)]
struct Stage {
    upsampler: ConvTranspose1d,
    resnets: Vec<ResBlock>,
}

/// A loaded `LTX2Vocoder` network.
#[derive(Debug)]
pub struct Generator {
    in_channels: i64,
    conv_in: Conv1d,
    /// Leaky ReLU slope applied before each up-sampler (leaky-ReLU generators only).
    pre_upsample_slope: Option<f64>,
    stages: Vec<Stage>,
    act_out: Activation,
    conv_out: Conv1d,
    final_act: FinalAct,
}

impl Generator {
    /// Checks `config` (a message for [`crate::Error::Config`] otherwise).
    pub fn validate(config: &Ltx2VocoderConfig) -> std::result::Result<(), String> {
        let c = config;
        if c.upsample_kernel_sizes.len() != c.upsample_factors.len() {
            return Err(format!(
                "`upsample_kernel_sizes` ({}) and `upsample_factors` ({}) differ in length",
                c.upsample_kernel_sizes.len(),
                c.upsample_factors.len()
            ));
        }
        if c.resnet_kernel_sizes.len() != c.resnet_dilations.len() {
            return Err(format!(
                "`resnet_kernel_sizes` ({}) and `resnet_dilations` ({}) differ in length",
                c.resnet_kernel_sizes.len(),
                c.resnet_dilations.len()
            ));
        }
        if c.upsample_factors.is_empty() || c.resnet_kernel_sizes.is_empty() {
            return Err("a vocoder needs at least one up-sampler and one residual block".into());
        }
        if ActKind::parse(&c.act_fn, c.leaky_relu_negative_slope).is_none() {
            return Err(format!(
                "unsupported `act_fn` `{}` (supported: leaky_relu, snake, snakebeta)",
                c.act_fn
            ));
        }
        if let Some(f) = &c.final_act_fn {
            if f != "tanh" && f != "clamp" {
                return Err(format!(
                    "unsupported `final_act_fn` `{f}` (supported: tanh, clamp, null)"
                ));
            }
        }
        let smallest = c.hidden_channels >> c.upsample_factors.len();
        if c.in_channels < 1 || c.out_channels < 1 || smallest < 1 {
            return Err(format!(
                "channels must stay positive: in {}, hidden {} halved {} times, out {}",
                c.in_channels,
                c.hidden_channels,
                c.upsample_factors.len(),
                c.out_channels
            ));
        }
        for (&k, &s) in c.upsample_kernel_sizes.iter().zip(&c.upsample_factors) {
            if s < 1 || k < s {
                return Err(format!(
                    "up-sampler kernel {k} with stride {s}: the kernel must be at least the stride"
                ));
            }
        }
        let all = c
            .resnet_kernel_sizes
            .iter()
            .chain(c.resnet_dilations.iter().flatten());
        if all.clone().any(|&v| v < 1) || c.resnet_dilations.iter().any(|d| d.is_empty()) {
            return Err(
                "residual-block kernels and dilations must be positive and non-empty".into(),
            );
        }
        if (c.antialias || c.act_fn != "leaky_relu")
            && (c.antialias_ratio < 1 || c.antialias_kernel_size < c.antialias_ratio)
        {
            return Err(format!(
                "anti-aliasing ratio {} with {} taps",
                c.antialias_ratio, c.antialias_kernel_size
            ));
        }
        Ok(())
    }

    /// Loads the network under `p` for a validated `config`.
    pub fn load(p: &WeightPath, config: &Ltx2VocoderConfig) -> Result<Self> {
        let c = config;
        Self::validate(c).map_err(Error::Unsupported)?;
        let act = ActKind::parse(&c.act_fn, c.leaky_relu_negative_slope)
            .ok_or_else(|| Error::Unsupported(format!("act_fn `{}`", c.act_fn)))?;
        let aa = AntiAlias {
            ratio: c.antialias_ratio,
            taps: c.antialias_kernel_size,
        };
        let conv_in = Conv1d::load(
            &p.pp("conv_in"),
            Conv1dSpec::new(c.in_channels, c.hidden_channels, 7).padding(Padding1d::Both(3)),
        )?;
        let mut stages = Vec::with_capacity(c.upsample_factors.len());
        let mut channels = c.hidden_channels;
        let per_stage = c.resnet_kernel_sizes.len();
        for (i, (&kernel, &stride)) in c
            .upsample_kernel_sizes
            .iter()
            .zip(&c.upsample_factors)
            .enumerate()
        {
            let out = channels / 2;
            let upsampler = ConvTranspose1d::load(
                &p.pp("upsamplers").pp(i),
                channels,
                out,
                kernel,
                stride,
                (kernel - stride) / 2,
            )?;
            let mut resnets = Vec::with_capacity(per_stage);
            for (j, (&k, dilations)) in c
                .resnet_kernel_sizes
                .iter()
                .zip(&c.resnet_dilations)
                .enumerate()
            {
                resnets.push(ResBlock::load(
                    &p.pp("resnets").pp(i * per_stage + j),
                    out,
                    k,
                    dilations,
                    act,
                    c.antialias.then_some(aa),
                )?);
            }
            stages.push(Stage { upsampler, resnets });
            channels = out;
        }
        let (pre_upsample_slope, act_out) = match act {
            ActKind::LeakyRelu(slope) => (Some(slope), Activation::LeakyRelu(0.01)),
            // Snake generators always end with an anti-aliased SnakeBeta.
            ActKind::Snake | ActKind::SnakeBeta => (
                None,
                Activation::load(&p.pp("act_out"), ActKind::SnakeBeta, channels, Some(aa))?,
            ),
        };
        let conv_out = Conv1d::load(
            &p.pp("conv_out"),
            Conv1dSpec::new(channels, c.out_channels, 7)
                .padding(Padding1d::Both(3))
                .bias(c.final_bias),
        )?;
        let final_act = match c.final_act_fn.as_deref() {
            Some("tanh") => FinalAct::Tanh,
            Some("clamp") => FinalAct::Clamp,
            _ => FinalAct::None,
        };
        Ok(Self {
            in_channels: c.in_channels,
            conv_in,
            pre_upsample_slope,
            stages,
            act_out,
            conv_out,
            final_act,
        })
    }

    /// Input channels (audio channels × mel bins).
    pub fn in_channels(&self) -> i64 {
        self.in_channels
    }

    /// Waveform samples produced from `frames` mel frames.
    pub fn output_len(&self, frames: i64) -> i64 {
        self.stages
            .iter()
            .fold(frames, |len, s| s.upsampler.output_len(len))
    }

    /// Waveforms `[batch, out_channels, samples]` from mel features
    /// `[batch, in_channels, frames]` (channels and mel bins already flattened).
    pub fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let mut x = self.conv_in.forward(features)?;
        for stage in &self.stages {
            if let Some(slope) = self.pre_upsample_slope {
                x = leaky_relu(&x, slope)?;
            }
            x = stage.upsampler.forward(&x)?;
            let outs = stage
                .resnets
                .iter()
                .map(|r| r.forward(&x))
                .collect::<Result<Vec<_>>>()?;
            x = Tensor::f_stack(&outs, 0)?.f_mean_dim(0, false, None::<Kind>)?;
        }
        let x = self.conv_out.forward(&self.act_out.forward(&x)?)?;
        Ok(match self.final_act {
            FinalAct::Tanh => x.f_tanh()?,
            FinalAct::Clamp => x.f_clamp(-1.0, 1.0)?,
            FinalAct::None => x,
        })
    }
}
