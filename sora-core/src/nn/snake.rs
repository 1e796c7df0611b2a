//! The Snake and SnakeBeta activations (BigVGAN-style vocoders): periodic
//! activations `x + sin²(α·x) / (β + ε)` with per-channel `α`, `β` stored as
//! logarithms (diffusers' `SnakeBeta` with `logscale=True`, the only form its
//! vocoders build). Snake is the same with `β = α`.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// Added to the amplitude before dividing (diffusers' `eps`).
const EPS: f64 = 1e-9;

/// A Snake (no `beta`) or SnakeBeta activation over dim 1 of `[batch, channels, len]`.
#[derive(Debug)]
pub struct Snake {
    /// `log α`, `[C]`.
    alpha: Tensor,
    /// `log β`, `[C]` (SnakeBeta only).
    beta: Option<Tensor>,
    channels: i64,
}

impl Snake {
    /// Loads `p.alpha` `[channels]` (and `p.beta` `[channels]` when `beta`).
    /// The parameters are kept as loaded (weight handles, so that offload
    /// moves them) and exponentiated per call, as the reference does.
    pub fn load(p: &WeightPath, channels: i64, beta: bool) -> Result<Self> {
        let alpha = p.get("alpha", &[channels])?;
        let beta = if beta {
            Some(p.get("beta", &[channels])?)
        } else {
            None
        };
        Ok(Self {
            alpha,
            beta,
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
        let shape = [1, self.channels, 1];
        let frequency = self.alpha.f_view(shape)?.f_exp()?;
        let amplitude = match &self.beta {
            Some(beta) => beta.f_view(shape)?.f_exp()?,
            None => frequency.shallow_clone(),
        };
        let inv_amplitude = amplitude.f_add_scalar(EPS)?.f_reciprocal()?;
        let wave = x.f_mul(&frequency)?.f_sin()?.f_square()?;
        Ok(x.f_add(&wave.f_mul(&inv_amplitude)?)?)
    }
}
