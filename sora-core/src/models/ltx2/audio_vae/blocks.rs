//! The audio VAE's layers (diffusers' `LTX2Audio*`): 2-D convolutions padded
//! causally along one axis, per-location RMS or group norms, residual blocks,
//! single-head self-attention over the spectrogram and nearest ×2 up-sampling.

use tch::Tensor;

use crate::nn::conv::conv;
use crate::nn::norm::channel_rms_norm;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// Along which axis the convolutions are causal (`causality_axis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Causality {
    /// `none`: symmetric padding.
    None,
    /// `height`: time (the spectrogram's rows) padded in the past only.
    Height,
    /// `width`: mel bins padded on the left only.
    Width,
    /// `width-compatibility`: as `width`, but up-sampling keeps every column.
    WidthCompat,
}

impl Causality {
    /// Parses the config's name.
    pub fn from_name(name: &str) -> std::result::Result<Self, String> {
        Ok(match name {
            "none" => Self::None,
            "height" => Self::Height,
            "width" => Self::Width,
            "width-compatibility" => Self::WidthCompat,
            other => {
                return Err(format!(
                "`causality_axis` `{other}` is not one of none, width, height, width-compatibility"
            ))
            }
        })
    }
}

/// The normalisation of every block (`norm_type`).
#[derive(Debug)]
pub enum Norm {
    /// Per-location RMS over channels, eps 1e-6.
    Pixel,
    /// `GroupNorm(32, C, eps 1e-6)` with its affine weights.
    Group { weight: Tensor, bias: Tensor },
}

impl Norm {
    /// Loads `p.weight` / `p.bias` for a group norm of `c` channels.
    pub fn load(p: &WeightPath, group: bool, c: i64) -> Result<Self> {
        Ok(if group {
            Norm::Group {
                weight: p.get("weight", &[c])?,
                bias: p.get("bias", &[c])?,
            }
        } else {
            Norm::Pixel
        })
    }

    /// Normalises `x` `[B, C, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Norm::Pixel => channel_rms_norm(x, 1e-6),
            Norm::Group { weight, bias } => {
                Ok(x.f_group_norm(32, Some(weight), Some(bias), 1e-6, false)?)
            }
        }
    }
}

/// `LTX2AudioCausalConv2d`: explicit padding by the causal rule, then a
/// stride-1 convolution (weights under `<path>.conv`).
#[derive(Debug)]
pub struct CausalConv2d {
    weight: Tensor,
    bias: Tensor,
    /// `(left, right, top, bottom)`.
    pad: [i64; 4],
}

impl CausalConv2d {
    /// Loads a `k × k` convolution `in_dim → out_dim` from `p.conv`.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        k: i64,
        axis: Causality,
    ) -> Result<Self> {
        let p = p.pp("conv");
        let full = k - 1;
        let (half_lo, half_hi) = (full / 2, full - full / 2);
        let pad = match axis {
            Causality::None => [half_lo, half_hi, half_lo, half_hi],
            Causality::Width | Causality::WidthCompat => [full, 0, half_lo, half_hi],
            Causality::Height => [half_lo, half_hi, full, 0],
        };
        Ok(Self {
            weight: p.get("weight", &[out_dim, in_dim, k, k])?,
            bias: p.get("bias", &[out_dim])?,
            pad,
        })
    }

    /// `[B, in, H, W] → [B, out, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = if self.pad.iter().any(|&p| p > 0) {
            x.f_constant_pad_nd(self.pad)?
        } else {
            x.shallow_clone()
        };
        conv(&x, &self.weight, Some(&self.bias), &[1, 1], &[0, 0])
    }
}

/// `LTX2AudioResnetBlock` without timestep input (the VAE never passes one).
#[derive(Debug)]
pub struct ResnetBlock {
    norm1: Norm,
    conv1: CausalConv2d,
    norm2: Norm,
    conv2: CausalConv2d,
    shortcut: Option<CausalConv2d>,
}

impl ResnetBlock {
    /// Loads a block `in_dim → out_dim`; a width change uses `nin_shortcut`
    /// (1×1), as diffusers builds it by default.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        group: bool,
        axis: Causality,
    ) -> Result<Self> {
        let shortcut = if in_dim != out_dim {
            Some(CausalConv2d::load(
                &p.pp("nin_shortcut"),
                in_dim,
                out_dim,
                1,
                axis,
            )?)
        } else {
            None
        };
        Ok(Self {
            norm1: Norm::load(&p.pp("norm1"), group, in_dim)?,
            conv1: CausalConv2d::load(&p.pp("conv1"), in_dim, out_dim, 3, axis)?,
            norm2: Norm::load(&p.pp("norm2"), group, out_dim)?,
            conv2: CausalConv2d::load(&p.pp("conv2"), out_dim, out_dim, 3, axis)?,
            shortcut,
        })
    }

    /// `x + conv2(silu(norm2(conv1(silu(norm1(x))))))`, the shortcut applied to `x` when widths differ.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.norm1.forward(x)?.f_silu()?;
        let h = self.conv1.forward(&h)?;
        let h = self.norm2.forward(&h)?.f_silu()?;
        let h = self.conv2.forward(&h)?;
        let x = match &self.shortcut {
            Some(s) => s.forward(x)?,
            None => x.shallow_clone(),
        };
        Ok(x.f_add(&h)?)
    }
}

/// `LTX2AudioAttnBlock`: one-head self-attention over every location, 1×1
/// convolutions for q, k, v and the output, residual.
#[derive(Debug)]
pub struct AttnBlock {
    norm: Norm,
    q: (Tensor, Tensor),
    k: (Tensor, Tensor),
    v: (Tensor, Tensor),
    proj_out: (Tensor, Tensor),
}

impl AttnBlock {
    /// Loads `p.{norm, q, k, v, proj_out}` for `c` channels.
    pub fn load(p: &WeightPath, c: i64, group: bool) -> Result<Self> {
        let lin = |name: &str| -> Result<(Tensor, Tensor)> {
            let q = p.pp(name);
            Ok((q.get("weight", &[c, c, 1, 1])?, q.get("bias", &[c])?))
        };
        Ok(Self {
            norm: Norm::load(&p.pp("norm"), group, c)?,
            q: lin("q")?,
            k: lin("k")?,
            v: lin("v")?,
            proj_out: lin("proj_out")?,
        })
    }

    /// `x + proj_out(softmax(q kᵀ / √C) v)` over the `H·W` locations.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.size();
        let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
        let n = self.norm.forward(x)?;
        let one = |(wt, bs): &(Tensor, Tensor), t: &Tensor| -> Result<Tensor> {
            conv(t, wt, Some(bs), &[1, 1], &[0, 0])
        };
        let q = one(&self.q, &n)?
            .f_reshape([b, c, h * w])?
            .f_permute([0, 2, 1])?;
        let k = one(&self.k, &n)?.f_reshape([b, c, h * w])?;
        let v = one(&self.v, &n)?.f_reshape([b, c, h * w])?;
        let attn = q
            .f_bmm(&k)?
            .f_mul_scalar((c as f64).powf(-0.5))?
            .f_softmax(2, x.kind())?;
        let out = v
            .f_bmm(&attn.f_permute([0, 2, 1])?)?
            .f_reshape([b, c, h, w])?;
        Ok(x.f_add(&one(&self.proj_out, &out)?)?)
    }
}

/// `LTX2AudioUpsample` with its convolution: nearest ×2 in both axes, a causal
/// 3×3 convolution, then the first row (`height`) or column (`width`) dropped.
#[derive(Debug)]
pub struct Upsample {
    conv: CausalConv2d,
    axis: Causality,
}

impl Upsample {
    /// Loads `p.conv` for `c` channels.
    pub fn load(p: &WeightPath, c: i64, axis: Causality) -> Result<Self> {
        Ok(Self {
            conv: CausalConv2d::load(&p.pp("conv"), c, c, 3, axis)?,
            axis,
        })
    }

    /// `[B, C, H, W] → [B, C, 2H(−1), 2W(−1)]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.size();
        if s.len() != 4 {
            return Err(Error::invalid(format!(
                "upsample expects [B, C, H, W], got {s:?}"
            )));
        }
        let x = x.f_upsample_nearest2d([s[2] * 2, s[3] * 2], 2.0, 2.0)?;
        let x = self.conv.forward(&x)?;
        Ok(match self.axis {
            Causality::Height => x.f_narrow(2, 1, 2 * s[2] - 1)?,
            Causality::Width => x.f_narrow(3, 1, 2 * s[3] - 1)?,
            Causality::None | Causality::WidthCompat => x,
        })
    }
}

/// `LTX2AudioDownsample` with its convolution: zero padding by the causal
/// rule (one row/column after, or two before along the causal axis), then a
/// 3×3 convolution of stride 2 (`p.conv`, a plain `Conv2d`).
#[derive(Debug)]
pub struct Downsample {
    weight: Tensor,
    bias: Tensor,
    /// `(left, right, top, bottom)`.
    pad: [i64; 4],
}

impl Downsample {
    /// Loads `p.conv` for `c` channels.
    pub fn load(p: &WeightPath, c: i64, axis: Causality) -> Result<Self> {
        let q = p.pp("conv");
        let pad = match axis {
            Causality::None => [0, 1, 0, 1],
            Causality::Width => [2, 0, 0, 1],
            Causality::Height => [0, 1, 2, 0],
            Causality::WidthCompat => [1, 0, 0, 1],
        };
        Ok(Self {
            weight: q.get("weight", &[c, c, 3, 3])?,
            bias: q.get("bias", &[c])?,
            pad,
        })
    }

    /// `[B, C, H, W] → [B, C, ⌊(H − 1)/2⌋ + 1, ⌊(W − 1)/2⌋ + 1]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.f_constant_pad_nd(self.pad)?;
        conv(&x, &self.weight, Some(&self.bias), &[2, 2], &[0, 0])
    }
}
