//! The Wan VAE's building blocks: channel RMS norm, 2-D convolution, the causal
//! residual block, single-head spatial attention and the middle block.

use tch::{Kind, Tensor};

use crate::nn::causal_conv::{CausalConv3d, FeatCache};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// `WanRMS_norm`: L2-normalises over the channel axis (dim 1), then scales by
/// `sqrt(dim)·gamma` (no bias in the Wan VAE).
#[derive(Debug)]
pub struct ChannelRmsNorm {
    /// `gamma · sqrt(dim)`, broadcastable over `[.., C, (T,) H, W]`.
    scaled_gamma: Tensor,
}

impl ChannelRmsNorm {
    /// Loads `p.gamma`: `[dim, 1, 1, 1]` for video (`images=False`), `[dim, 1, 1]` for images.
    pub fn load(p: &WeightPath, dim: i64, images: bool) -> Result<Self> {
        let shape: &[i64] = if images {
            &[dim, 1, 1]
        } else {
            &[dim, 1, 1, 1]
        };
        let gamma = p.get("gamma", shape)?;
        let scaled_gamma = gamma.f_mul_scalar((dim as f64).sqrt())?;
        Ok(Self { scaled_gamma })
    }

    /// Normalises `x` over dim 1 (in f32 for half dtypes, as diffusers does).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let kind = x.kind();
        let half = matches!(kind, Kind::Half | Kind::BFloat16);
        let xf = if half {
            x.f_to_kind(Kind::Float)?
        } else {
            x.shallow_clone()
        };
        let denom = xf.f_norm_scalaropt_dim(2, [1], true)?.f_clamp_min(1e-12)?;
        let mut y = xf.f_div(&denom)?;
        if half {
            y = y.f_to_kind(kind)?;
        }
        let _ = y.f_mul_(&self.scaled_gamma)?;
        Ok(y)
    }

    /// Norm, then SiLU in place.
    pub fn forward_silu(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = self.forward(x)?;
        let _ = y.f_silu_()?;
        Ok(y)
    }
}

/// `torch.nn.Conv2d` with square kernel, stride and symmetric padding.
#[derive(Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Tensor,
    stride: i64,
    padding: i64,
}

impl Conv2d {
    /// Loads `p.weight` `[out, in, k, k]` and `p.bias` `[out]`.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        k: i64,
        stride: i64,
        padding: i64,
    ) -> Result<Self> {
        Ok(Self {
            weight: p.get("weight", &[out_dim, in_dim, k, k])?,
            bias: p.get("bias", &[out_dim])?,
            stride,
            padding,
        })
    }

    /// Applies the convolution to `[N, C, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::nn::conv::conv(
            x,
            &self.weight,
            Some(&self.bias),
            &[self.stride, self.stride],
            &[self.padding, self.padding],
        )
    }
}

/// `WanResidualBlock`: `conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x)`,
/// both 3×3×3 convolutions causal and cached.
#[derive(Debug)]
pub struct ResidualBlock {
    norm1: ChannelRmsNorm,
    conv1: CausalConv3d,
    norm2: ChannelRmsNorm,
    conv2: CausalConv3d,
    shortcut: Option<CausalConv3d>,
}

impl ResidualBlock {
    /// Loads the block under `p` (`norm1`, `conv1`, `norm2`, `conv2`, `conv_shortcut`).
    pub fn load(p: &WeightPath, in_dim: i64, out_dim: i64) -> Result<Self> {
        Ok(Self {
            norm1: ChannelRmsNorm::load(&p.pp("norm1"), in_dim, false)?,
            conv1: CausalConv3d::load_cube(&p.pp("conv1"), in_dim, out_dim, 3, 1)?,
            norm2: ChannelRmsNorm::load(&p.pp("norm2"), out_dim, false)?,
            conv2: CausalConv3d::load_cube(&p.pp("conv2"), out_dim, out_dim, 3, 1)?,
            shortcut: if in_dim != out_dim {
                Some(CausalConv3d::load_cube(
                    &p.pp("conv_shortcut"),
                    in_dim,
                    out_dim,
                    1,
                    0,
                )?)
            } else {
                None
            },
        })
    }

    /// Runs one chunk `[B, C, T, H, W]` with the feature cache.
    pub fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let h = match &self.shortcut {
            Some(c) => c.forward(x, None)?,
            None => x.shallow_clone(),
        };
        let y = self.norm1.forward_silu(x)?;
        let y = self.conv1.forward_cached(&y, cache)?;
        let y = self.norm2.forward_silu(&y)?;
        let mut y = self.conv2.forward_cached(&y, cache)?;
        let _ = y.f_add_(&h)?;
        Ok(y)
    }
}

/// `WanAttentionBlock`: single-head self-attention over the pixels of each frame.
#[derive(Debug)]
pub struct AttentionBlock {
    dim: i64,
    norm: ChannelRmsNorm,
    to_qkv: Conv2d,
    proj: Conv2d,
}

impl AttentionBlock {
    /// Loads `norm.gamma`, `to_qkv` (1×1, `dim → 3·dim`) and `proj` (1×1).
    pub fn load(p: &WeightPath, dim: i64) -> Result<Self> {
        Ok(Self {
            dim,
            norm: ChannelRmsNorm::load(&p.pp("norm"), dim, true)?,
            to_qkv: Conv2d::load(&p.pp("to_qkv"), dim, 3 * dim, 1, 1, 0)?,
            proj: Conv2d::load(&p.pp("proj"), dim, dim, 1, 1, 0)?,
        })
    }

    /// Applies attention frame by frame to `[B, C, T, H, W]`, plus the identity.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.size();
        let (b, c, t, h, w) = (s[0], s[1], s[2], s[3], s[4]);
        if c != self.dim {
            return Err(Error::invalid(format!(
                "attention block expects {} channels, got {c}",
                self.dim
            )));
        }
        let bt = b * t;
        let frames = x.f_permute([0, 2, 1, 3, 4])?.f_reshape([bt, c, h, w])?;
        let normed = self.norm.forward(&frames)?;
        let qkv = self
            .to_qkv
            .forward(&normed)?
            .f_reshape([bt, 1, 3 * c, h * w])?
            .f_permute([0, 1, 3, 2])?
            .f_contiguous()?;
        let qkv = qkv.f_chunk(3, -1)?;
        let a = Tensor::f_scaled_dot_product_attention(
            &qkv[0],
            &qkv[1],
            &qkv[2],
            None::<&Tensor>,
            0.0,
            false,
            None::<f64>,
            false,
        )?;
        let a = a
            .f_squeeze_dim(1)?
            .f_permute([0, 2, 1])?
            .f_reshape([bt, c, h, w])?;
        let out = self
            .proj
            .forward(&a)?
            .f_view([b, t, c, h, w])?
            .f_permute([0, 2, 1, 3, 4])?;
        Ok(out.f_add(x)?)
    }
}

/// `WanMidBlock` with one attention layer: resnet, attention, resnet.
#[derive(Debug)]
pub struct MidBlock {
    res0: ResidualBlock,
    attn: AttentionBlock,
    res1: ResidualBlock,
}

impl MidBlock {
    /// Loads `resnets.0`, `attentions.0`, `resnets.1`.
    pub fn load(p: &WeightPath, dim: i64) -> Result<Self> {
        Ok(Self {
            res0: ResidualBlock::load(&p.pp("resnets").pp(0), dim, dim)?,
            attn: AttentionBlock::load(&p.pp("attentions").pp(0), dim)?,
            res1: ResidualBlock::load(&p.pp("resnets").pp(1), dim, dim)?,
        })
    }

    /// Runs one chunk with the feature cache.
    pub fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let x = self.res0.forward(x, cache)?;
        let x = self.attn.forward(&x)?;
        self.res1.forward(&x, cache)
    }
}
