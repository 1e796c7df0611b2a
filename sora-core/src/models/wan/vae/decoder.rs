//! `WanDecoder3d`: latents → video (patchified for Wan 2.2), one latent frame
//! at a time with the feature cache.

use tch::Tensor;

use super::blocks::{ChannelRmsNorm, MidBlock, ResidualBlock};
use super::config::WanVaeConfig;
use super::resample::{DupUp3d, Resample, ResampleMode};
use crate::nn::causal_conv::{CausalConv3d, FeatCache};
use crate::weights::WeightPath;
use crate::Result;

/// An up block: `WanUpBlock` (Wan 2.1) or `WanResidualUpBlock` (Wan 2.2, with
/// a `DupUp3D` shortcut of its input when it up-samples).
#[derive(Debug)]
struct UpBlock {
    resnets: Vec<ResidualBlock>,
    up: Option<Resample>,
    shortcut: Option<DupUp3d>,
}

impl UpBlock {
    #[allow(clippy::too_many_arguments)]
    fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        num_res_blocks: i64,
        up: bool,
        in_time: bool,
        residual: bool,
    ) -> Result<Self> {
        let mut resnets = Vec::new();
        let mut d = in_dim;
        for j in 0..=num_res_blocks {
            resnets.push(ResidualBlock::load(&p.pp("resnets").pp(j), d, out_dim)?);
            d = out_dim;
        }
        let mode = if in_time {
            ResampleMode::Up3d
        } else {
            ResampleMode::Up2d
        };
        let (up, shortcut) = match (up, residual) {
            (false, _) => (None, None),
            (true, false) => (
                Some(Resample::load(
                    &p.pp("upsamplers").pp(0),
                    out_dim,
                    mode,
                    out_dim / 2,
                )?),
                None,
            ),
            (true, true) => (
                Some(Resample::load(&p.pp("upsampler"), out_dim, mode, out_dim)?),
                Some(DupUp3d::new(
                    in_dim,
                    out_dim,
                    if in_time { 2 } else { 1 },
                    2,
                )?),
            ),
        };
        Ok(Self {
            resnets,
            up,
            shortcut,
        })
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache, first_chunk: bool) -> Result<Tensor> {
        let mut y = x.shallow_clone();
        for r in &self.resnets {
            y = r.forward(&y, cache)?;
        }
        if let Some(u) = &self.up {
            y = u.forward(&y, cache)?;
        }
        match &self.shortcut {
            Some(s) => s.add_to(&y, x, first_chunk),
            None => Ok(y),
        }
    }
}

/// `WanDecoder3d`.
#[derive(Debug)]
pub struct Decoder {
    conv_in: CausalConv3d,
    mid: MidBlock,
    up: Vec<UpBlock>,
    norm_out: ChannelRmsNorm,
    conv_out: CausalConv3d,
}

impl Decoder {
    /// Loads `decoder.*` for `cfg`.
    pub fn load(p: &WeightPath, cfg: &WanVaeConfig) -> Result<Self> {
        let dim = cfg.decoder_dim();
        let n = cfg.dim_mult.len();
        let mut dims = vec![dim * cfg.dim_mult[n - 1]];
        dims.extend(cfg.dim_mult.iter().rev().map(|m| dim * m));
        let conv_in = CausalConv3d::load_cube(&p.pp("conv_in"), cfg.z_dim, dims[0], 3, 1)?;
        let mid = MidBlock::load(&p.pp("mid_block"), dims[0])?;
        let mut up = Vec::new();
        for i in 0..n {
            let (mut in_dim, out_dim) = (dims[i], dims[i + 1]);
            if i > 0 && !cfg.is_residual {
                // Wan 2.1's up-samplers halve the channels.
                in_dim /= 2;
            }
            let up_flag = i != n - 1;
            up.push(UpBlock::load(
                &p.pp("up_blocks").pp(i),
                in_dim,
                out_dim,
                cfg.num_res_blocks,
                up_flag,
                up_flag && cfg.up_in_time(i),
                cfg.is_residual,
            )?);
        }
        let out_dim = dims[n];
        Ok(Self {
            conv_in,
            mid,
            up,
            norm_out: ChannelRmsNorm::load(&p.pp("norm_out"), out_dim, false)?,
            conv_out: CausalConv3d::load_cube(&p.pp("conv_out"), out_dim, cfg.out_channels, 3, 1)?,
        })
    }

    /// Decodes one latent chunk with the feature cache (`first_chunk` for the
    /// clip's first latent frame).
    pub fn forward(&self, z: &Tensor, cache: &mut FeatCache, first_chunk: bool) -> Result<Tensor> {
        let mut x = self.conv_in.forward_cached(z, cache)?;
        x = self.mid.forward(&x, cache)?;
        for b in &self.up {
            x = b.forward(&x, cache, first_chunk)?;
        }
        let x = self.norm_out.forward_silu(&x)?;
        self.conv_out.forward_cached(&x, cache)
    }
}
