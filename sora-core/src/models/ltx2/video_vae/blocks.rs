//! The video VAE's layers (diffusers' `LTX2Video*`): residual blocks with
//! per-channel RMS norms and optional timestep scale/shift, space-to-depth
//! down-samplers and depth-to-space (pixel-shuffle) up-samplers with their
//! parameter-free residuals, and the blocks that group them.

use tch::{Kind, Tensor};

use crate::nn::frame_pad_conv::{FramePadConv3d, SpatialPadding};
use crate::nn::norm::channel_rms_norm;
use crate::nn::timestep::{Activation, TimestepEmbedding, Timesteps};
use crate::nn::LayerNorm;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// Epsilon of `PerChannelRMSNorm` (diffusers' default, used everywhere).
const RMS_EPS: f64 = 1e-8;

/// `PixArtAlphaCombinedTimestepSizeEmbeddings` without size conditions: a
/// 256-wide flipped sinusoid and a SiLU MLP (`<path>.timestep_embedder`).
#[derive(Debug)]
pub struct TimeEmbedder {
    mlp: TimestepEmbedding,
}

impl TimeEmbedder {
    /// Loads an embedder to `dim` features.
    pub fn load(p: &WeightPath, dim: i64) -> Result<Self> {
        Ok(Self {
            mlp: TimestepEmbedding::load(
                &p.pp("timestep_embedder"),
                256,
                dim,
                None,
                Activation::Silu,
                p.kind(),
            )?,
        })
    }

    /// `[B]` (scaled) timesteps → `[B, dim, 1, 1, 1]` in `kind`.
    pub fn forward(&self, t: &Tensor, kind: Kind) -> Result<Tensor> {
        let proj = Timesteps::new(256, true, 0.0).forward(&t.f_flatten(0, -1)?)?;
        let e = self.mlp.forward(&proj)?.f_to_kind(kind)?;
        let b = e.size()[0];
        Ok(e.f_view([b, -1, 1, 1, 1])?)
    }
}

/// `LTX2VideoResnetBlock3d`.
#[derive(Debug)]
pub struct ResnetBlock {
    conv1: FramePadConv3d,
    conv2: FramePadConv3d,
    /// Layer norm over channels and a 1×1×1 convolution when the width changes.
    shortcut: Option<(LayerNorm, Tensor, Tensor)>,
    /// `[4, in]`: shift/scale pairs added to the timestep embedding.
    scale_shift_table: Option<Tensor>,
}

impl ResnetBlock {
    /// Loads a block `in_dim → out_dim`; `timestep` adds its scale-shift table.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        eps: f64,
        timestep: bool,
        pad: SpatialPadding,
    ) -> Result<Self> {
        let shortcut = if in_dim != out_dim {
            let c = p.pp("conv_shortcut");
            Some((
                LayerNorm::load(&p.pp("norm3"), in_dim, eps, true)?,
                c.get("weight", &[out_dim, in_dim, 1, 1, 1])?,
                c.get("bias", &[out_dim])?,
            ))
        } else {
            None
        };
        let scale_shift_table = if timestep {
            Some(p.get("scale_shift_table", &[4, in_dim])?)
        } else {
            None
        };
        Ok(Self {
            conv1: FramePadConv3d::load(
                &p.pp("conv1").pp("conv"),
                in_dim,
                out_dim,
                3,
                [1, 1, 1],
                pad,
            )?,
            conv2: FramePadConv3d::load(
                &p.pp("conv2").pp("conv"),
                out_dim,
                out_dim,
                3,
                [1, 1, 1],
                pad,
            )?,
            shortcut,
            scale_shift_table,
        })
    }

    /// `x` `[B, C, T, H, W]`; `temb` `[B, 4C, 1, 1, 1]` when the block is
    /// timestep-conditioned (required then).
    pub fn forward(&self, x: &Tensor, temb: Option<&Tensor>, causal: bool) -> Result<Tensor> {
        let mods =
            match (&self.scale_shift_table, temb) {
                (Some(table), Some(t)) => {
                    let c = table.size()[1];
                    let t = t.f_unflatten(1, [4, c])?;
                    let t = t.f_add(&table.f_view([1, 4, c, 1, 1, 1])?)?;
                    Some(
                        (0..4)
                            .map(|i| t.f_select(1, i))
                            .collect::<std::result::Result<Vec<_>, _>>()?,
                    )
                }
                (Some(_), None) => return Err(Error::invalid(
                    "this LTX-2 VAE decoder is timestep-conditioned: a decode timestep is required",
                )),
                (None, _) => None,
            };
        let mut h = channel_rms_norm(x, RMS_EPS)?;
        if let Some(m) = &mods {
            h = h.f_mul(&m[1].f_add_scalar(1.0)?)?.f_add(&m[0])?;
        }
        h = self.conv1.forward(&h.f_silu()?, causal)?;
        h = channel_rms_norm(&h, RMS_EPS)?;
        if let Some(m) = &mods {
            h = h.f_mul(&m[3].f_add_scalar(1.0)?)?.f_add(&m[2])?;
        }
        h = self.conv2.forward(&h.f_silu()?, causal)?;
        let x = match &self.shortcut {
            Some((norm, w, b)) => {
                let n = norm.forward(&x.f_movedim(1, -1)?)?.f_movedim(-1, 1)?;
                crate::nn::conv::conv(&n, w, Some(b), &[1, 1, 1], &[0, 0, 0])?
            }
            None => x.shallow_clone(),
        };
        Ok(h.f_add(&x)?)
    }
}

/// `[B, C, T·st, H·sh, W·sw] → [B, C·st·sh·sw, T, H, W]` (LTX's space-to-depth order).
fn space_to_depth(x: &Tensor, s: [i64; 3]) -> Result<Tensor> {
    Ok(x.f_unflatten(4, [-1, s[2]])?
        .f_unflatten(3, [-1, s[1]])?
        .f_unflatten(2, [-1, s[0]])?
        .f_permute([0, 1, 3, 5, 7, 2, 4, 6])?
        .f_flatten(1, 4)?)
}

/// `[B, C·st·sh·sw, T, H, W] → [B, C, T·st, H·sh, W·sw]` (pixel shuffle in 3-D).
fn depth_to_space(x: &Tensor, s: [i64; 3]) -> Result<Tensor> {
    let z = x.size();
    Ok(x.f_reshape([z[0], -1, s[0], s[1], s[2], z[2], z[3], z[4]])?
        .f_permute([0, 1, 5, 2, 6, 3, 7, 4])?
        .f_flatten(6, 7)?
        .f_flatten(4, 5)?
        .f_flatten(2, 3)?)
}

/// `LTX2VideoDownsampler3d`: convolution then space-to-depth, plus the
/// space-to-depth of the input averaged over channel groups.
#[derive(Debug)]
pub struct Downsampler {
    conv: FramePadConv3d,
    stride: [i64; 3],
    group_size: i64,
}

impl Downsampler {
    /// Loads a down-sampler `in_dim → out_dim` by `stride`.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        stride: [i64; 3],
        pad: SpatialPadding,
    ) -> Result<Self> {
        let prod = stride.iter().product::<i64>();
        if out_dim % prod != 0 || (in_dim * prod) % out_dim != 0 {
            return Err(Error::Unsupported(format!(
                "a down-sampler from {in_dim} to {out_dim} channels by {stride:?} does not divide evenly"
            )));
        }
        Ok(Self {
            conv: FramePadConv3d::load(
                &p.pp("conv").pp("conv"),
                in_dim,
                out_dim / prod,
                3,
                [1, 1, 1],
                pad,
            )?,
            stride,
            group_size: in_dim * prod / out_dim,
        })
    }

    /// `[B, C, T, H, W] → [B, out, (T + st − 1)/st, H/sh, W/sw]`.
    pub fn forward(&self, x: &Tensor, causal: bool) -> Result<Tensor> {
        let st = self.stride[0];
        let x = if st > 1 {
            Tensor::f_cat(&[&x.f_narrow(2, 0, st - 1)?, x], 2)?
        } else {
            x.shallow_clone()
        };
        let residual = space_to_depth(&x, self.stride)?
            .f_unflatten(1, [-1, self.group_size])?
            .f_mean_dim(2, false, x.kind())?;
        let h = space_to_depth(&self.conv.forward(&x, causal)?, self.stride)?;
        Ok(h.f_add(&residual)?)
    }
}

/// `LTX2VideoUpsampler3d`: convolution then depth-to-space (dropping the
/// `st − 1` leading frames), plus the depth-to-space of the input repeated
/// over channels when `residual`.
#[derive(Debug)]
pub struct Upsampler {
    conv: FramePadConv3d,
    stride: [i64; 3],
    residual: bool,
    upscale_factor: i64,
}

impl Upsampler {
    /// Loads an up-sampler taking `in_dim` channels.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        stride: [i64; 3],
        residual: bool,
        upscale_factor: i64,
        pad: SpatialPadding,
    ) -> Result<Self> {
        let prod = stride.iter().product::<i64>();
        if upscale_factor < 1 || (in_dim * prod) % upscale_factor != 0 || prod % upscale_factor != 0
        {
            return Err(Error::Unsupported(format!(
                "an up-sampler of {in_dim} channels by {stride:?} with up-scale factor {upscale_factor} does not divide evenly"
            )));
        }
        let out = in_dim * prod / upscale_factor;
        Ok(Self {
            conv: FramePadConv3d::load(&p.pp("conv").pp("conv"), in_dim, out, 3, [1, 1, 1], pad)?,
            stride,
            residual,
            upscale_factor,
        })
    }

    /// `[B, C, T, H, W] → [B, C·s/(f·s), st·T − st + 1, sh·H, sw·W]`.
    pub fn forward(&self, x: &Tensor, causal: bool) -> Result<Tensor> {
        let drop = self.stride[0] - 1;
        let trim = |t: Tensor| -> Result<Tensor> {
            let n = t.size()[2];
            Ok(t.f_narrow(2, drop, n - drop)?)
        };
        let h = trim(depth_to_space(&self.conv.forward(x, causal)?, self.stride)?)?;
        if !self.residual {
            return Ok(h);
        }
        let repeats = self.stride.iter().product::<i64>() / self.upscale_factor;
        let r = depth_to_space(x, self.stride)?.f_repeat([1, repeats, 1, 1, 1])?;
        Ok(h.f_add(&trim(r)?)?)
    }
}

/// Stride of an up/down-sampling type name.
pub fn stride_of(kind: &str) -> Option<[i64; 3]> {
    match kind {
        "spatial" => Some([1, 2, 2]),
        "temporal" => Some([2, 1, 1]),
        "spatiotemporal" => Some([2, 2, 2]),
        _ => None,
    }
}

/// The down-sampling layer of an encoder block.
#[derive(Debug)]
pub enum Down {
    /// `conv`: a stride-2 convolution keeping the width.
    Conv(FramePadConv3d),
    /// `spatial` / `temporal` / `spatiotemporal`: [`Downsampler`].
    Shuffle(Downsampler),
}

/// `LTX2VideoDownBlock3D`.
#[derive(Debug)]
pub struct DownBlock {
    /// Residual blocks (width kept).
    pub resnets: Vec<ResnetBlock>,
    /// The down-sampler, if the block scales.
    pub down: Option<Down>,
}

impl DownBlock {
    /// Runs the block.
    pub fn forward(&self, x: &Tensor, causal: bool) -> Result<Tensor> {
        let mut h = x.shallow_clone();
        for r in &self.resnets {
            h = r.forward(&h, None, causal)?;
        }
        match &self.down {
            Some(Down::Conv(c)) => c.forward(&h, causal),
            Some(Down::Shuffle(d)) => d.forward(&h, causal),
            None => Ok(h),
        }
    }
}

/// `LTX2VideoMidBlock3d`.
#[derive(Debug)]
pub struct MidBlock {
    /// Embeds the timestep to `4·C` when conditioned.
    pub time_embedder: Option<TimeEmbedder>,
    /// Residual blocks.
    pub resnets: Vec<ResnetBlock>,
}

impl MidBlock {
    /// Runs the block; `t` the scaled decode timestep `[B]` when conditioned.
    pub fn forward(&self, x: &Tensor, t: Option<&Tensor>, causal: bool) -> Result<Tensor> {
        let temb = embed(self.time_embedder.as_ref(), t, x.kind())?;
        let mut h = x.shallow_clone();
        for r in &self.resnets {
            h = r.forward(&h, temb.as_ref(), causal)?;
        }
        Ok(h)
    }
}

/// `LTX2VideoUpBlock3d`.
#[derive(Debug)]
pub struct UpBlock {
    /// A residual block changing the width first, if needed.
    pub conv_in: Option<ResnetBlock>,
    /// Embeds the timestep to `4·C` when conditioned.
    pub time_embedder: Option<TimeEmbedder>,
    /// The up-sampler, if the block scales.
    pub upsampler: Option<Upsampler>,
    /// Residual blocks after it.
    pub resnets: Vec<ResnetBlock>,
}

impl UpBlock {
    /// Runs the block; `t` the scaled decode timestep `[B]` when conditioned.
    pub fn forward(&self, x: &Tensor, t: Option<&Tensor>, causal: bool) -> Result<Tensor> {
        let mut h = match &self.conv_in {
            Some(c) => c.forward(x, None, causal)?,
            None => x.shallow_clone(),
        };
        let temb = embed(self.time_embedder.as_ref(), t, x.kind())?;
        if let Some(u) = &self.upsampler {
            h = u.forward(&h, causal)?;
        }
        for r in &self.resnets {
            h = r.forward(&h, temb.as_ref(), causal)?;
        }
        Ok(h)
    }
}

fn embed(e: Option<&TimeEmbedder>, t: Option<&Tensor>, kind: Kind) -> Result<Option<Tensor>> {
    match (e, t) {
        (Some(e), Some(t)) => Ok(Some(e.forward(t, kind)?)),
        (Some(_), None) => Err(Error::invalid(
            "this LTX-2 VAE decoder is timestep-conditioned: a decode timestep is required",
        )),
        (None, _) => Ok(None),
    }
}
