//! The LTX-2 vocoder's building blocks: its activations (leaky ReLU, Snake,
//! SnakeBeta, optionally anti-aliased: up-sample ×2, activate, low-pass and
//! down-sample) and the residual block of dilated convolutions (`ResBlock`).

use tch::Tensor;

use crate::nn::conv1d::{Conv1d, Conv1dSpec, Padding1d};
use crate::nn::resample1d::{DownSample1d, UpSample1d};
use crate::nn::snake::Snake;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// Which activation a generator uses (`act_fn` in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActKind {
    /// Leaky ReLU with this negative slope.
    LeakyRelu(f64),
    /// Snake (one learned parameter per channel).
    Snake,
    /// SnakeBeta (two learned parameters per channel).
    SnakeBeta,
}

impl ActKind {
    /// Parses `act_fn` (`leaky_relu`, `snake`, `snakebeta`).
    pub fn parse(act_fn: &str, slope: f64) -> Option<Self> {
        match act_fn {
            "leaky_relu" => Some(Self::LeakyRelu(slope)),
            "snake" => Some(Self::Snake),
            "snakebeta" => Some(Self::SnakeBeta),
            _ => None,
        }
    }
}

/// Anti-aliasing around an activation: ratio and filter taps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AntiAlias {
    /// Up- and down-sampling ratio.
    pub ratio: i64,
    /// Taps of both Kaiser filters.
    pub taps: i64,
}

/// `x` where positive, `slope·x` elsewhere.
pub fn leaky_relu(x: &Tensor, slope: f64) -> Result<Tensor> {
    let scaled = x.f_mul_scalar(slope)?;
    Ok(x.f_where_self(&x.f_gt(0.0)?, &scaled)?)
}

/// One activation layer, as loaded.
#[derive(Debug)]
pub enum Activation {
    /// Leaky ReLU with this slope (no weights).
    LeakyRelu(f64),
    /// Snake or SnakeBeta.
    Snake(Snake),
    /// Up-sample, activate, down-sample (`AntiAliasAct1d`).
    AntiAliased {
        /// Kaiser up-sampler (`upsample`).
        up: UpSample1d,
        /// The activation in between (`act`).
        act: Box<Activation>,
        /// Kaiser down-sampler (`downsample`).
        down: DownSample1d,
    },
}

impl Activation {
    /// Loads an activation over `channels` under `p` (Snake parameters at
    /// `p.alpha`/`p.beta`, or at `p.act.*` inside an anti-aliased wrapper).
    pub fn load(
        p: &WeightPath,
        kind: ActKind,
        channels: i64,
        anti_alias: Option<AntiAlias>,
    ) -> Result<Self> {
        let Some(aa) = anti_alias else {
            return Self::load_plain(p, kind, channels);
        };
        Ok(Self::AntiAliased {
            up: UpSample1d::load_kaiser(&p.pp("upsample"), aa.ratio, aa.taps)?,
            act: Box::new(Self::load_plain(&p.pp("act"), kind, channels)?),
            down: DownSample1d::load_kaiser(&p.pp("downsample"), aa.ratio, aa.taps)?,
        })
    }

    fn load_plain(p: &WeightPath, kind: ActKind, channels: i64) -> Result<Self> {
        Ok(match kind {
            ActKind::LeakyRelu(slope) => Self::LeakyRelu(slope),
            ActKind::Snake => Self::Snake(Snake::load(p, channels, false)?),
            ActKind::SnakeBeta => Self::Snake(Snake::load(p, channels, true)?),
        })
    }

    /// Applies the activation to `[batch, channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::LeakyRelu(slope) => leaky_relu(x, *slope),
            Self::Snake(snake) => snake.forward(x),
            Self::AntiAliased { up, act, down } => down.forward(&act.forward(&up.forward(x)?)?),
        }
    }
}

/// `ResBlock`: for each dilation, `x += conv2(act2(conv1(act1(x))))`, where
/// `conv1` is dilated and both keep the length ("same" padding).
#[derive(Debug)]
pub struct ResBlock {
    /// `(act1, conv1, act2, conv2)` per dilation.
    layers: Vec<(Activation, Conv1d, Activation, Conv1d)>,
}

impl ResBlock {
    /// Loads `p.convs1.{i}`, `p.convs2.{i}`, `p.acts1.{i}`, `p.acts2.{i}`.
    pub fn load(
        p: &WeightPath,
        channels: i64,
        kernel: i64,
        dilations: &[i64],
        act: ActKind,
        anti_alias: Option<AntiAlias>,
    ) -> Result<Self> {
        if anti_alias.is_some() && matches!(act, ActKind::LeakyRelu(_)) {
            // diffusers 0.42.1 nests the second activations' anti-aliasing
            // wrappers one level deeper per layer in this combination.
            return Err(Error::Unsupported(
                "act_fn `leaky_relu` with antialias in the LTX-2 vocoder".into(),
            ));
        }
        let conv = |q: &WeightPath, dilation: i64| {
            Conv1d::load(
                q,
                Conv1dSpec::new(channels, channels, kernel)
                    .dilation(dilation)
                    .padding(Padding1d::Same),
            )
        };
        let mut layers = Vec::with_capacity(dilations.len());
        for (i, &dilation) in dilations.iter().enumerate() {
            layers.push((
                Activation::load(&p.pp("acts1").pp(i), act, channels, anti_alias)?,
                conv(&p.pp("convs1").pp(i), dilation)?,
                Activation::load(&p.pp("acts2").pp(i), act, channels, anti_alias)?,
                conv(&p.pp("convs2").pp(i), 1)?,
            ));
        }
        Ok(Self { layers })
    }

    /// Runs the block on `[batch, channels, len]` (same shape out).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.shallow_clone();
        for (act1, conv1, act2, conv2) in &self.layers {
            let h = conv1.forward(&act1.forward(&x)?)?;
            let h = conv2.forward(&act2.forward(&h)?)?;
            x = x.f_add(&h)?;
        }
        Ok(x)
    }
}
