//! The Snake and SnakeBeta activations (BigVGAN-style vocoders): periodic
//! activations `x + sin²(α·x) / (β + ε)` with per-channel `α`, `β` stored as
//! logarithms (diffusers' `SnakeBeta` with `logscale=True`, the only form its
//! vocoders build). Snake is the same with `β = α`.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// Added to the amplitude before dividing (diffusers' `eps`).
const EPS: f64 = 1e-9;

/// A Snake (`beta: false`) or SnakeBeta activation over dim 1 of `[batch, channels, len]`.
#[derive(Debug)]
pub struct Snake {
    /// `exp(alpha)`, `[1, C, 1]`.
    frequency: Tensor,
    /// `1 / (exp(beta or alpha) + eps)`, `[1, C, 1]`.
    inv_amplitude: Tensor,
    channels: i64,
}

impl Snake {
    /// Loads `p.alpha` `[channels]` (and `p.beta` `[channels]` when `beta`).
    pub fn load(p: &WeightPath, channels: i64, beta: bool) -> Result<Self> {
        let frequency = p
            .get("alpha", &[channels])?
            .f_exp()?
            .f_view([1, channels, 1])?;
        let amplitude = if beta {
            p.get("beta", &[channels])?
                .f_exp()?
                .f_view([1, channels, 1])?
        } else {
            frequency.shallow_clone()
        };
        let inv_amplitude = amplitude.f_add_scalar(EPS)?.f_reciprocal()?;
        Ok(Self {
            frequency,
            inv_amplitude,
            channels,
        })
    }

    /// `x + sin²(α·x) / (β + ε)` for `x` `[batch, channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim() != 3 || x.size()[1] != self.channels {
            return Err(Error::invalid(format!(
                "Snake over {} channels got {:?}",
                self.channels,
                x.size()
            )));
        }
        let wave = x.f_mul(&self.frequency)?.f_sin()?.f_square()?;
        Ok(x.f_add(&wave.f_mul(&self.inv_amplitude)?)?)
    }
}
