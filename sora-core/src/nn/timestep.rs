//! Sinusoidal timestep embeddings and their MLP, as diffusers computes them
//! (`get_timestep_embedding`, `Timesteps`, `TimestepEmbedding`).
//!
//! The sinusoid is always computed in f32 (diffusers does so whatever the
//! model's dtype); the MLP runs in the dtype of its weights, which the caller
//! may keep in f32 (e.g. Wan's `_keep_in_fp32_modules` lists `time_embedder`).

use tch::{Kind, Tensor};

use crate::nn::Linear;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// Sinusoidal embedding of a 1-D tensor of (possibly fractional) timesteps:
/// `[N] → [N, dim]` in f32.
///
/// Frequencies are `exp(-ln(max_period) · i / (dim/2 − downscale_freq_shift))`
/// for `i < dim/2`; the output is `[sin, cos]`, or `[cos, sin]` when
/// `flip_sin_to_cos`; an odd `dim` gets a zero column at the end.
pub fn timestep_embedding(
    timesteps: &Tensor,
    dim: i64,
    flip_sin_to_cos: bool,
    downscale_freq_shift: f64,
    scale: f64,
    max_period: f64,
) -> Result<Tensor> {
    if timesteps.dim() != 1 {
        return Err(Error::invalid(format!(
            "timestep embedding expects a 1-D tensor of timesteps, got shape {:?}",
            timesteps.size()
        )));
    }
    if dim < 2 {
        return Err(Error::invalid(format!(
            "timestep embedding dimension must be at least 2, got {dim}"
        )));
    }
    let half = dim / 2;
    let device = timesteps.device();
    let exponent = Tensor::f_arange_start(0, half, (Kind::Float, device))?
        .f_mul_scalar(-max_period.ln())?
        .f_div_scalar(half as f64 - downscale_freq_shift)?;
    let freqs = exponent.f_exp()?;
    let args = timesteps
        .f_unsqueeze(1)?
        .f_to_kind(Kind::Float)?
        .f_mul(&freqs.f_unsqueeze(0)?)?;
    let args = if scale != 1.0 {
        args.f_mul_scalar(scale)?
    } else {
        args
    };
    let (sin, cos) = (args.f_sin()?, args.f_cos()?);
    let emb = if flip_sin_to_cos {
        Tensor::f_cat(&[cos, sin], -1)?
    } else {
        Tensor::f_cat(&[sin, cos], -1)?
    };
    if dim % 2 == 1 {
        Ok(emb.f_constant_pad_nd([0, 1, 0, 0])?)
    } else {
        Ok(emb)
    }
}

/// diffusers' `Timesteps` module: the parameter-free sinusoidal projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timesteps {
    /// Output width.
    pub num_channels: i64,
    /// Put the cosines first.
    pub flip_sin_to_cos: bool,
    /// Shift of the frequency denominator (0 or 1 in practice).
    pub downscale_freq_shift: f64,
    /// Multiplier of the angles.
    pub scale: f64,
}

impl Timesteps {
    /// A projection to `num_channels` with `scale = 1`.
    pub fn new(num_channels: i64, flip_sin_to_cos: bool, downscale_freq_shift: f64) -> Self {
        Self {
            num_channels,
            flip_sin_to_cos,
            downscale_freq_shift,
            scale: 1.0,
        }
    }

    /// `[N] → [N, num_channels]` in f32 (max period 10000).
    pub fn forward(&self, timesteps: &Tensor) -> Result<Tensor> {
        timestep_embedding(
            timesteps,
            self.num_channels,
            self.flip_sin_to_cos,
            self.downscale_freq_shift,
            self.scale,
            10000.0,
        )
    }
}

/// Activations diffusers' `get_activation` offers to the timestep MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `silu` / `swish`.
    Silu,
    /// `mish`.
    Mish,
    /// `gelu` (exact).
    Gelu,
    /// `relu`.
    Relu,
}

impl Activation {
    /// Parses diffusers' activation name.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "silu" | "swish" => Activation::Silu,
            "mish" => Activation::Mish,
            "gelu" => Activation::Gelu,
            "relu" => Activation::Relu,
            other => {
                return Err(Error::Unsupported(format!(
                    "activation `{other}` in a timestep embedding"
                )))
            }
        })
    }

    /// Applies the activation.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Silu => x.f_silu()?,
            Activation::Mish => x.f_mish()?,
            Activation::Gelu => x.f_gelu("none")?,
            Activation::Relu => x.f_relu()?,
        })
    }
}

/// diffusers' `TimestepEmbedding`: `linear_2(act(linear_1(x)))`.
#[derive(Debug)]
pub struct TimestepEmbedding {
    /// `linear_1`: `in_channels → time_embed_dim`.
    pub linear_1: Linear,
    /// The activation between the layers.
    pub act: Activation,
    /// `linear_2`: `time_embed_dim → out_dim`.
    pub linear_2: Linear,
}

impl TimestepEmbedding {
    /// Loads `p.linear_1` and `p.linear_2` (with biases), keeping the weights in
    /// `kind` (pass `p.kind()` unless the module is kept in f32).
    pub fn load(
        p: &WeightPath,
        in_channels: i64,
        time_embed_dim: i64,
        out_dim: Option<i64>,
        act: Activation,
        kind: Kind,
    ) -> Result<Self> {
        let out_dim = out_dim.unwrap_or(time_embed_dim);
        let lin = |name: &str, i: i64, o: i64| -> Result<Linear> {
            let q = p.pp(name);
            Ok(Linear {
                weight: q.get_kind("weight", &[o, i], kind)?,
                bias: Some(q.get_kind("bias", &[o], kind)?),
            })
        };
        Ok(Self {
            linear_1: lin("linear_1", in_channels, time_embed_dim)?,
            act,
            linear_2: lin("linear_2", time_embed_dim, out_dim)?,
        })
    }

    /// The dtype of the weights.
    pub fn kind(&self) -> Kind {
        self.linear_1.weight.kind()
    }

    /// `[.., in_channels] → [.., out_dim]`; the input is cast to the weights' dtype first
    /// (as Wan's condition embedder does before calling it).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = if x.kind() != self.kind() {
            x.f_to_kind(self.kind())?
        } else {
            x.shallow_clone()
        };
        let h = self.linear_1.forward(&x)?;
        let h = self.act.forward(&h)?;
        self.linear_2.forward(&h)
    }

    /// The tensors of the module (for counting or moving them).
    pub fn tensors(&self) -> Vec<&Tensor> {
        let mut v = vec![&self.linear_1.weight, &self.linear_2.weight];
        v.extend(self.linear_1.bias.as_ref());
        v.extend(self.linear_2.bias.as_ref());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_puts_cos_first_and_zero_time_is_one_zero() {
        let t = Tensor::from_slice(&[0.0f32]);
        let e = timestep_embedding(&t, 8, true, 0.0, 1.0, 10000.0).unwrap();
        assert_eq!(e.size(), vec![1, 8]);
        let v: Vec<f32> = Vec::try_from(e.flatten(0, -1)).unwrap();
        assert_eq!(&v[..4], &[1.0; 4]);
        assert_eq!(&v[4..], &[0.0; 4]);
    }

    #[test]
    fn odd_dim_is_padded_and_2d_input_is_rejected() {
        let t = Tensor::from_slice(&[3.0f32, 7.0]);
        let e = timestep_embedding(&t, 7, false, 1.0, 1.0, 10000.0).unwrap();
        assert_eq!(e.size(), vec![2, 7]);
        assert_eq!(e.get(0).double_value(&[6]), 0.0);
        let bad = Tensor::zeros([2, 2], (Kind::Float, tch::Device::Cpu));
        assert!(matches!(
            timestep_embedding(&bad, 8, false, 1.0, 1.0, 10000.0),
            Err(Error::InvalidRequest(_))
        ));
    }
}
