//! `LTX2VideoDecoder3d`: a convolution in, a middle block, up blocks with
//! depth-to-space up-samplers, RMS norm (with a timestep scale/shift when
//! conditioned), SiLU, a convolution out and un-patchify.

use tch::Tensor;

use super::blocks::{stride_of, MidBlock, ResnetBlock, TimeEmbedder, UpBlock, Upsampler};
use super::config::Ltx2VideoVaeConfig;
use crate::nn::frame_pad_conv::{FramePadConv3d, SpatialPadding};
use crate::nn::norm::channel_rms_norm;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// The final timestep modulation: multiplier, embedder and `[2, C]` table.
#[derive(Debug)]
struct OutModulation {
    multiplier: f64,
    embedder: TimeEmbedder,
    table: Tensor,
}

/// The decoder.
#[derive(Debug)]
pub struct Decoder {
    conv_in: FramePadConv3d,
    mid: MidBlock,
    up_blocks: Vec<UpBlock>,
    out_mod: Option<OutModulation>,
    conv_out: FramePadConv3d,
    causal: bool,
    patch: i64,
    patch_t: i64,
    /// Product of the up-samplers' strides `(t, h, w)`.
    pub factors: [i64; 3],
}

impl Decoder {
    /// Loads `p.*` as the config describes.
    pub fn load(p: &WeightPath, c: &Ltx2VideoVaeConfig) -> Result<Self> {
        let pad = SpatialPadding::from_name(&c.decoder_spatial_padding_mode)?;
        let eps = c.resnet_norm_eps;
        let n_layers = c.decoder_layers_per_block.len();
        let n = c.decoder_block_out_channels.len();
        let rev = |v: Vec<bool>| -> Vec<bool> { v.into_iter().rev().collect() };
        let scaling = rev(c
            .decoder_spatio_temporal_scaling
            .expand(n_layers.saturating_sub(1)));
        let noise = rev(c.decoder_inject_noise.expand(n_layers));
        let residual = rev(c.upsample_residual.expand(n_layers.saturating_sub(1)));
        let widths: Vec<i64> = c.decoder_block_out_channels.iter().rev().copied().collect();
        let layers: Vec<i64> = c.decoder_layers_per_block.iter().rev().copied().collect();
        let factor: Vec<i64> = c.upsample_factor.iter().rev().copied().collect();
        if n_layers != n + 1
            || scaling.len() < n
            || residual.len() < n
            || factor.len() < n
            || c.upsample_type.len() < n
        {
            return Err(Error::Unsupported(format!(
                "decoder lists disagree: {n} block widths, {n_layers} layer counts (want {}), {} scaling flags, \
                 {} residual flags, {} up-sample factors, {} up-sample types",
                n + 1,
                scaling.len(),
                residual.len(),
                factor.len(),
                c.upsample_type.len()
            )));
        }
        if noise.iter().any(|&b| b) {
            return Err(Error::Unsupported(
                "decoder noise injection (`decoder_inject_noise`) draws fresh noise inside the decoder; \
                 no released LTX-2 checkpoint uses it"
                    .into(),
            ));
        }
        let t = c.timestep_conditioning;
        let mut out = widths[0];
        let conv_in = FramePadConv3d::load(
            &p.pp("conv_in").pp("conv"),
            c.latent_channels,
            out,
            3,
            [1, 1, 1],
            pad,
        )?;
        let mp = p.pp("mid_block");
        let mid = MidBlock {
            time_embedder: if t {
                Some(TimeEmbedder::load(&mp.pp("time_embedder"), out * 4)?)
            } else {
                None
            },
            resnets: (0..layers[0])
                .map(|j| ResnetBlock::load(&mp.pp("resnets").pp(j), out, out, eps, t, pad))
                .collect::<Result<Vec<_>>>()?,
        };
        let mut factors = [1i64; 3];
        let mut up_blocks = Vec::with_capacity(n);
        for i in 0..n {
            let f = factor[i];
            if f < 1 {
                return Err(Error::Unsupported(format!("up-sample factor {f}")));
            }
            let input = out / f;
            out = widths[i] / f;
            let bp = p.pp("up_blocks").pp(i);
            let conv_in = if input != out {
                if t {
                    return Err(Error::Unsupported(
                        "an up block that changes width in a timestep-conditioned decoder \
                         (diffusers cannot run it either)"
                            .into(),
                    ));
                }
                Some(ResnetBlock::load(
                    &bp.pp("conv_in"),
                    input,
                    out,
                    eps,
                    false,
                    pad,
                )?)
            } else {
                None
            };
            let time_embedder = if t {
                Some(TimeEmbedder::load(&bp.pp("time_embedder"), out * 4)?)
            } else {
                None
            };
            let upsampler = if scaling[i] {
                let kind = c.upsample_type[i].as_str();
                let stride = stride_of(kind)
                    .ok_or_else(|| Error::Unsupported(format!("up-sample type `{kind}`")))?;
                for (a, s) in factors.iter_mut().zip(stride) {
                    *a *= s;
                }
                Some(Upsampler::load(
                    &bp.pp("upsamplers").pp(0),
                    out * f,
                    stride,
                    residual[i],
                    f,
                    pad,
                )?)
            } else {
                None
            };
            let resnets = (0..layers[i + 1])
                .map(|j| ResnetBlock::load(&bp.pp("resnets").pp(j), out, out, eps, t, pad))
                .collect::<Result<Vec<_>>>()?;
            up_blocks.push(UpBlock {
                conv_in,
                time_embedder,
                upsampler,
                resnets,
            });
        }
        let out_mod = if t {
            let m = p.get("timestep_scale_multiplier", &[])?;
            Some(OutModulation {
                multiplier: m.f_double_value(&[])?,
                embedder: TimeEmbedder::load(&p.pp("time_embedder"), out * 2)?,
                table: p.get("scale_shift_table", &[2, out])?,
            })
        } else {
            None
        };
        let pix = c.out_channels * c.patch_size * c.patch_size * c.patch_size_t;
        let conv_out =
            FramePadConv3d::load(&p.pp("conv_out").pp("conv"), out, pix, 3, [1, 1, 1], pad)?;
        Ok(Self {
            conv_in,
            mid,
            up_blocks,
            out_mod,
            conv_out,
            causal: c.decoder_causal,
            patch: c.patch_size,
            patch_t: c.patch_size_t,
            factors,
        })
    }

    /// Whether a decode timestep is needed.
    pub fn conditioned(&self) -> bool {
        self.out_mod.is_some()
    }

    /// Latents `[B, C, F, h, w]` → pixels `[B, 3, T, H, W]`; `timestep` `[B]`
    /// (f32) when [`Self::conditioned`].
    pub fn forward(&self, z: &Tensor, timestep: Option<&Tensor>) -> Result<Tensor> {
        let mut h = self.conv_in.forward(z, self.causal)?;
        let t = match (&self.out_mod, timestep) {
            (Some(m), Some(t)) => Some(t.f_mul_scalar(m.multiplier)?),
            _ => None,
        };
        h = self.mid.forward(&h, t.as_ref(), self.causal)?;
        for b in &self.up_blocks {
            h = b.forward(&h, t.as_ref(), self.causal)?;
        }
        h = channel_rms_norm(&h, 1e-8)?;
        if let (Some(m), Some(t)) = (&self.out_mod, &t) {
            let c = m.table.size()[1];
            let e = m
                .embedder
                .forward(t, h.kind())?
                .f_unflatten(1, [2, c])?
                .f_add(&m.table.f_view([1, 2, c, 1, 1, 1])?)?;
            let (shift, scale) = (e.f_select(1, 0)?, e.f_select(1, 1)?);
            h = h.f_mul(&scale.f_add_scalar(1.0)?)?.f_add(&shift)?;
        }
        let h = self.conv_out.forward(&h.f_silu()?, self.causal)?;
        let (p, pt) = (self.patch, self.patch_t);
        let s = h.size();
        Ok(h.f_reshape([s[0], -1, pt, p, p, s[2], s[3], s[4]])?
            .f_permute([0, 1, 5, 2, 6, 4, 7, 3])?
            .f_flatten(6, 7)?
            .f_flatten(4, 5)?
            .f_flatten(2, 3)?)
    }
}
