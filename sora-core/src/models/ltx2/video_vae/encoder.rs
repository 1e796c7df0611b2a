//! `LTX2VideoEncoder3d`: patchify, a causal convolution in, down blocks, a
//! middle block, RMS norm, SiLU and a convolution out to `latent + 1`
//! channels (the means and one shared log-variance).

use tch::Tensor;

use super::blocks::{stride_of, Down, DownBlock, Downsampler, MidBlock, ResnetBlock};
use super::config::Ltx2VideoVaeConfig;
use crate::nn::frame_pad_conv::{FramePadConv3d, SpatialPadding};
use crate::nn::norm::channel_rms_norm;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// The encoder.
#[derive(Debug)]
pub struct Encoder {
    conv_in: FramePadConv3d,
    down_blocks: Vec<DownBlock>,
    mid: MidBlock,
    conv_out: FramePadConv3d,
    causal: bool,
    patch: i64,
    patch_t: i64,
    /// Product of the down-samplers' strides `(t, h, w)`.
    pub factors: [i64; 3],
}

impl Encoder {
    /// Loads `p.*` as the config describes.
    // Five parallel per-block lists of the config are read by block index.
    #[allow(clippy::needless_range_loop)]
    pub fn load(p: &WeightPath, c: &Ltx2VideoVaeConfig) -> Result<Self> {
        let pad = SpatialPadding::from_name(&c.encoder_spatial_padding_mode)?;
        let eps = c.resnet_norm_eps;
        let n = c.block_out_channels.len();
        let scaling = c
            .spatio_temporal_scaling
            .expand(c.layers_per_block.len().saturating_sub(1));
        if c.layers_per_block.len() != n + 1
            || scaling.len() < n
            || c.downsample_type.len() < n
            || c.down_block_types.len() < n
        {
            return Err(Error::Unsupported(format!(
                "encoder lists disagree: {n} block widths, {} layer counts (want {}), {} scaling flags, {} down-sample types",
                c.layers_per_block.len(),
                n + 1,
                scaling.len(),
                c.downsample_type.len()
            )));
        }
        let in_dim = c.in_channels * c.patch_size * c.patch_size * c.patch_size_t;
        let mut ch = c.latent_channels;
        let conv_in =
            FramePadConv3d::load(&p.pp("conv_in").pp("conv"), in_dim, ch, 3, [1, 1, 1], pad)?;
        let mut factors = [1i64; 3];
        let mut down_blocks = Vec::with_capacity(n);
        for i in 0..n {
            if c.down_block_types[i] != "LTX2VideoDownBlock3D" {
                return Err(Error::Unsupported(format!(
                    "down block type `{}`",
                    c.down_block_types[i]
                )));
            }
            let bp = p.pp("down_blocks").pp(i);
            let out = c.block_out_channels[i];
            let resnets = (0..c.layers_per_block[i])
                .map(|j| ResnetBlock::load(&bp.pp("resnets").pp(j), ch, ch, eps, false, pad))
                .collect::<Result<Vec<_>>>()?;
            let down = if scaling[i] {
                let dp = bp.pp("downsamplers").pp(0);
                let kind = c.downsample_type[i].as_str();
                let stride = if kind == "conv" {
                    [2, 2, 2]
                } else {
                    stride_of(kind)
                        .ok_or_else(|| Error::Unsupported(format!("down-sample type `{kind}`")))?
                };
                for (f, s) in factors.iter_mut().zip(stride) {
                    *f *= s;
                }
                Some(if kind == "conv" {
                    Down::Conv(FramePadConv3d::load(
                        &dp.pp("conv"),
                        ch,
                        ch,
                        3,
                        stride,
                        pad,
                    )?)
                } else {
                    let d = Downsampler::load(&dp, ch, out, stride, pad)?;
                    ch = out;
                    Down::Shuffle(d)
                })
            } else {
                None
            };
            down_blocks.push(DownBlock { resnets, down });
        }
        let mp = p.pp("mid_block");
        let mid = MidBlock {
            time_embedder: None,
            resnets: (0..c.layers_per_block[n])
                .map(|j| ResnetBlock::load(&mp.pp("resnets").pp(j), ch, ch, eps, false, pad))
                .collect::<Result<Vec<_>>>()?,
        };
        let conv_out = FramePadConv3d::load(
            &p.pp("conv_out").pp("conv"),
            ch,
            c.latent_channels + 1,
            3,
            [1, 1, 1],
            pad,
        )?;
        Ok(Self {
            conv_in,
            down_blocks,
            mid,
            conv_out,
            causal: c.encoder_causal,
            patch: c.patch_size,
            patch_t: c.patch_size_t,
            factors,
        })
    }

    /// `[B, C, T, H, W]` pixels → `[B, latent + 1, t, h, w]` (shapes checked by the caller).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (p, pt) = (self.patch, self.patch_t);
        let s = x.size();
        let h = x
            .f_reshape([s[0], s[1], s[2] / pt, pt, s[3] / p, p, s[4] / p, p])?
            .f_permute([0, 1, 3, 7, 5, 2, 4, 6])?
            .f_flatten(1, 4)?;
        let mut h = self.conv_in.forward(&h, self.causal)?;
        for b in &self.down_blocks {
            h = b.forward(&h, self.causal)?;
        }
        h = self.mid.forward(&h, None, self.causal)?;
        let h = channel_rms_norm(&h, 1e-8)?.f_silu()?;
        self.conv_out.forward(&h, self.causal)
    }
}
