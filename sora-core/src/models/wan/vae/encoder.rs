//! `WanEncoder3d`: video (patchified for Wan 2.2) → `2·z_dim` channels of
//! latent statistics, one time chunk at a time with the feature cache.

use tch::Tensor;

use super::blocks::{AttentionBlock, ChannelRmsNorm, MidBlock, ResidualBlock};
use super::config::WanVaeConfig;
use super::resample::{AvgDown3d, Resample, ResampleMode};
use crate::nn::causal_conv::{CausalConv3d, FeatCache};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// One entry of the Wan 2.1 encoder's flat `down_blocks` list, or one Wan 2.2
/// `WanResidualDownBlock`.
#[derive(Debug)]
enum DownLayer {
    Res(ResidualBlock),
    Attn(#[allow(dead_code)] AttentionBlock),
    Resample(Resample),
    ResidualDown(ResidualDownBlock),
}

/// `WanResidualDownBlock` (Wan 2.2): resnets, optional down-sampler, plus an
/// `AvgDown3D` shortcut of the block's input.
#[derive(Debug)]
struct ResidualDownBlock {
    resnets: Vec<ResidualBlock>,
    down: Option<Resample>,
    shortcut: AvgDown3d,
}

impl ResidualDownBlock {
    fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        num_res_blocks: i64,
        in_time: bool,
        down: bool,
    ) -> Result<Self> {
        let shortcut = AvgDown3d::new(
            in_dim,
            out_dim,
            if in_time { 2 } else { 1 },
            if down { 2 } else { 1 },
        )?;
        let mut resnets = Vec::new();
        let mut d = in_dim;
        for j in 0..num_res_blocks {
            resnets.push(ResidualBlock::load(&p.pp("resnets").pp(j), d, out_dim)?);
            d = out_dim;
        }
        let down = if down {
            let mode = if in_time {
                ResampleMode::Down3d
            } else {
                ResampleMode::Down2d
            };
            Some(Resample::load(
                &p.pp("downsampler"),
                out_dim,
                mode,
                out_dim,
            )?)
        } else {
            None
        };
        Ok(Self {
            resnets,
            down,
            shortcut,
        })
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let mut y = x.shallow_clone();
        for r in &self.resnets {
            y = r.forward(&y, cache)?;
        }
        if let Some(d) = &self.down {
            y = d.forward(&y, cache)?;
        }
        Ok(y.f_add(&self.shortcut.forward(x)?)?)
    }
}

/// `WanEncoder3d`.
#[derive(Debug)]
pub struct Encoder {
    conv_in: CausalConv3d,
    down: Vec<DownLayer>,
    mid: MidBlock,
    norm_out: ChannelRmsNorm,
    conv_out: CausalConv3d,
}

impl Encoder {
    /// Loads `encoder.*` for `cfg`; the output has `2·z_dim` channels.
    pub fn load(p: &WeightPath, cfg: &WanVaeConfig) -> Result<Self> {
        let dim = cfg.base_dim;
        let mut dims = vec![dim];
        dims.extend(cfg.dim_mult.iter().map(|m| dim * m));
        let n = cfg.dim_mult.len();
        let conv_in = CausalConv3d::load_cube(&p.pp("conv_in"), cfg.in_channels, dims[0], 3, 1)?;
        let dp = p.pp("down_blocks");
        let mut down = Vec::new();
        let mut scale = 1.0f64;
        for i in 0..n {
            let (in_dim, out_dim) = (dims[i], dims[i + 1]);
            let last = i == n - 1;
            if cfg.is_residual {
                down.push(DownLayer::ResidualDown(ResidualDownBlock::load(
                    &dp.pp(i),
                    in_dim,
                    out_dim,
                    cfg.num_res_blocks,
                    !last && cfg.down_in_time(i),
                    !last,
                )?));
                continue;
            }
            let mut d = in_dim;
            for _ in 0..cfg.num_res_blocks {
                down.push(DownLayer::Res(ResidualBlock::load(
                    &dp.pp(down.len()),
                    d,
                    out_dim,
                )?));
                if cfg.attn_scales.contains(&scale) {
                    down.push(DownLayer::Attn(AttentionBlock::load(
                        &dp.pp(down.len()),
                        out_dim,
                    )?));
                }
                d = out_dim;
            }
            if !last {
                let mode = if cfg.down_in_time(i) {
                    ResampleMode::Down3d
                } else {
                    ResampleMode::Down2d
                };
                down.push(DownLayer::Resample(Resample::load(
                    &dp.pp(down.len()),
                    out_dim,
                    mode,
                    out_dim,
                )?));
                scale /= 2.0;
            }
        }
        let out_dim = dims[n];
        Ok(Self {
            conv_in,
            down,
            mid: MidBlock::load(&p.pp("mid_block"), out_dim)?,
            norm_out: ChannelRmsNorm::load(&p.pp("norm_out"), out_dim, false)?,
            conv_out: CausalConv3d::load_cube(&p.pp("conv_out"), out_dim, 2 * cfg.z_dim, 3, 1)?,
        })
    }

    /// Encodes one time chunk with the feature cache.
    pub fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let mut x = self.conv_in.forward_cached(x, cache)?;
        for layer in &self.down {
            x = match layer {
                DownLayer::Res(r) => r.forward(&x, cache)?,
                // diffusers 0.42.1 cannot run these either (it passes the
                // cache to a block that takes none): no reference to match.
                DownLayer::Attn(_) => {
                    return Err(Error::Unsupported(
                        "attention in the Wan VAE encoder (non-empty `attn_scales`)".into(),
                    ))
                }
                DownLayer::Resample(r) => r.forward(&x, cache)?,
                DownLayer::ResidualDown(b) => b.forward(&x, cache)?,
            };
        }
        let x = self.mid.forward(&x, cache)?;
        let x = self.norm_out.forward_silu(&x)?;
        self.conv_out.forward_cached(&x, cache)
    }
}
