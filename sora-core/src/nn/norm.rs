//! Normalisations: RMS norm (T5 / Wan q-k norm) and layer norm (with or without affine).

use tch::{Kind, Tensor};

use crate::weights::WeightPath;
use crate::Result;

/// RMS normalisation over the last dimension, computed in f32 and cast back,
/// as `torch.nn.RMSNorm` / diffusers' `RMSNorm` / T5's `T5LayerNorm` do.
#[derive(Debug)]
pub struct RmsNorm {
    /// Scale `[dim]`, if the norm is affine.
    pub weight: Option<Tensor>,
    /// Epsilon added to the mean square.
    pub eps: f64,
}

impl RmsNorm {
    /// Loads `p.weight` `[dim]` when `affine`.
    pub fn load(p: &WeightPath, dim: i64, eps: f64, affine: bool) -> Result<Self> {
        let weight = if affine {
            Some(p.get("weight", &[dim])?)
        } else {
            None
        };
        Ok(Self { weight, eps })
    }

    /// Normalises `x` over its last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let kind = x.kind();
        // LibTorch's `rms_norm` is this same chain (upcast, mean square, rsqrt,
        // cast back, then the weight in its dtype), fused into one kernel on
        // CUDA: used when the weight is absent or of x's dtype, where the two agree.
        if self.weight.as_ref().map_or(true, |w| w.kind() == kind) {
            let dim = x.size().last().copied().unwrap_or(0);
            if let Ok(y) = x.f_rms_norm([dim], self.weight.as_ref(), self.eps) {
                return Ok(y);
            }
        }
        let xf = x.f_to_kind(Kind::Float)?;
        let var = xf
            .f_pow_tensor_scalar(2)?
            .f_mean_dim(-1, true, Kind::Float)?;
        let y = xf.f_mul(&(var + self.eps).f_rsqrt()?)?;
        match &self.weight {
            Some(w) => {
                // T5 and diffusers cast to the weight's dtype before scaling when it is half.
                let y = if w.kind() == Kind::Half || w.kind() == Kind::BFloat16 {
                    y.f_to_kind(w.kind())?
                } else {
                    y
                };
                Ok(y.f_mul(w)?.f_to_kind(kind)?)
            }
            None => Ok(y.f_to_kind(kind)?),
        }
    }
}

/// `torch.nn.LayerNorm` over the last dimension (optionally without affine parameters).
#[derive(Debug)]
pub struct LayerNorm {
    /// Scale `[dim]`.
    pub weight: Option<Tensor>,
    /// Shift `[dim]`.
    pub bias: Option<Tensor>,
    /// Normalised size.
    pub dim: i64,
    /// Epsilon.
    pub eps: f64,
}

impl LayerNorm {
    /// Loads `p.weight`/`p.bias` when `affine`.
    pub fn load(p: &WeightPath, dim: i64, eps: f64, affine: bool) -> Result<Self> {
        let (weight, bias) = if affine {
            (Some(p.get("weight", &[dim])?), Some(p.get("bias", &[dim])?))
        } else {
            (None, None)
        };
        Ok(Self {
            weight,
            bias,
            dim,
            eps,
        })
    }

    /// A norm without parameters.
    pub fn plain(dim: i64, eps: f64) -> Self {
        Self {
            weight: None,
            bias: None,
            dim,
            eps,
        }
    }

    /// Normalises `x` over its last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_layer_norm(
            [self.dim],
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
            true,
        )?)
    }

    /// Normalises in f32 and casts back (diffusers' `FP32LayerNorm`).
    pub fn forward_f32(&self, x: &Tensor) -> Result<Tensor> {
        let kind = x.kind();
        let w = self.weight.as_ref().map(|w| w.to_kind(Kind::Float));
        let b = self.bias.as_ref().map(|b| b.to_kind(Kind::Float));
        Ok(x.f_to_kind(Kind::Float)?
            .f_layer_norm([self.dim], w.as_ref(), b.as_ref(), self.eps, true)?
            .f_to_kind(kind)?)
    }
}

/// Parameter-free RMS normalisation over the channel axis (dim 1) of a
/// `[B, C, ...]` tensor, in its own dtype: `x / sqrt(mean(x², dim 1) + eps)`
/// (LTX-2's `PerChannelRMSNorm` and the audio VAE's pixel norm).
pub fn channel_rms_norm(x: &Tensor, eps: f64) -> Result<Tensor> {
    let mean_sq = x.f_square()?.f_mean_dim(1, true, x.kind())?;
    Ok(x.f_div(&mean_sq.f_add_scalar(eps)?.f_sqrt()?)?)
}
