//! LTX-2's rotary position embeddings on fractional positions
//! (`LTX2AudioVideoRotaryPosEmbed`): each token's position is the midpoint of
//! its patch in pixel/second coordinates (video: frame time in seconds, pixel
//! row and column; audio: seconds), divided by the model's base extent, mapped
//! to `[-1, 1]` and multiplied by `θ^linspace(0, 1)·π/2`. The tables are laid
//! out for the "interleaved" or the "split" rotation ([`RopeType`]).

use tch::{Device, Kind, Tensor};

use super::config::RopeType;
use crate::nn::rope::{apply_rope_interleaved, apply_rope_split, RopeTables};
use crate::{Error, Result};

/// Patch boundaries `[B, 3, F·H·W, 2]` (f32) of a latent video grid in pixel
/// space, `[start, end)` per axis (frame time in seconds, row, column), tokens
/// frame-major as the patchified latents (`prepare_video_coords`).
#[allow(clippy::too_many_arguments)]
pub fn video_coords(
    batch: i64,
    grid: [i64; 3],
    patch_size_t: i64,
    patch_size: i64,
    scale_factors: [i64; 3],
    causal_offset: i64,
    fps: f64,
    device: Device,
) -> Result<Tensor> {
    let [frames, height, width] = grid;
    if batch <= 0 || frames <= 0 || height <= 0 || width <= 0 {
        return Err(Error::invalid(format!(
            "video positions need a positive batch and grid, got batch {batch}, grid {grid:?}"
        )));
    }
    if !(fps.is_finite() && fps > 0.0) {
        return Err(Error::invalid(format!("fps must be positive, got {fps}")));
    }
    let opts = (Kind::Float, device);
    let axis = |n: i64, step: i64| Tensor::f_arange_start_step(0, n, step, opts);
    let g = Tensor::f_meshgrid_indexing(
        &[
            axis(frames, patch_size_t)?,
            axis(height, patch_size)?,
            axis(width, patch_size)?,
        ],
        "ij",
    )?;
    let starts = Tensor::f_stack(&g, 0)?; // [3, nF, nH, nW]
    let delta = Tensor::f_from_slice(&[patch_size_t as f32, patch_size as f32, patch_size as f32])?
        .f_to_device(device)?
        .f_view([3, 1, 1, 1])?;
    let ends = starts.f_add(&delta)?;
    let latent = Tensor::f_stack(&[starts, ends], -1)?.f_flatten(1, 3)?; // [3, N, 2]
    let scale = Tensor::f_from_slice(&scale_factors.map(|f| f as f32))?
        .f_to_device(device)?
        .f_view([3, 1, 1])?;
    let pixel = latent.f_mul(&scale)?;
    let time = pixel
        .f_select(0, 0)?
        .f_add_scalar(causal_offset as f64)?
        .f_sub_scalar(scale_factors[0] as f64)?
        .f_clamp_min(0.0)?
        .f_div_scalar(fps)?;
    let pixel = Tensor::f_cat(&[time.f_unsqueeze(0)?, pixel.f_narrow(0, 1, 2)?], 0)?;
    Ok(pixel.f_unsqueeze(0)?.f_repeat([batch, 1, 1, 1])?)
}

/// Start/end times in seconds `[B, 1, N, 2]` (f32) of `frames` audio latent
/// frames (`prepare_audio_coords`, no shift).
#[allow(clippy::too_many_arguments)]
pub fn audio_coords(
    batch: i64,
    frames: i64,
    patch_size_t: i64,
    scale_factor: i64,
    causal_offset: i64,
    hop_length: i64,
    sampling_rate: i64,
    device: Device,
) -> Result<Tensor> {
    if batch <= 0 || frames <= 0 {
        return Err(Error::invalid(format!(
            "audio positions need a positive batch and length, got batch {batch}, {frames} frames"
        )));
    }
    let g = Tensor::f_arange_start_step(0, frames, patch_size_t, (Kind::Float, device))?;
    let seconds = |mel: Tensor| -> Result<Tensor> {
        Ok(mel
            .f_add_scalar(causal_offset as f64)?
            .f_sub_scalar(scale_factor as f64)?
            .f_clamp_min(0.0)?
            .f_mul_scalar(hop_length as f64)?
            .f_div_scalar(sampling_rate as f64)?)
    };
    let start = seconds(g.f_mul_scalar(scale_factor as f64)?)?;
    let end = seconds(
        g.f_add_scalar(patch_size_t as f64)?
            .f_mul_scalar(scale_factor as f64)?,
    )?;
    Ok(Tensor::f_stack(&[start, end], -1)?
        .f_unsqueeze(0)?
        .f_expand([batch, -1, -1], false)?
        .f_unsqueeze(1)?)
}

/// One rotary embedding of the model (self-attention of a stream, or the
/// time-only one of the audio↔video cross-attention).
#[derive(Debug, Clone)]
pub struct FractionalRope {
    /// Channels rotated (the attention's inner width).
    pub dim: i64,
    /// Heads the "split" tables are cut into.
    pub heads: i64,
    /// Base extent per axis: positions are divided by it.
    pub max_positions: Vec<f64>,
    /// RoPE base.
    pub theta: f64,
    /// Frequencies computed in f64.
    pub double_precision: bool,
    /// Layout of the tables.
    pub rope_type: RopeType,
}

/// cos/sin tables of one sequence, laid out for [`Ltx2RopeTables::apply`]:
/// `[B, S, 1, C/2]` (interleaved) or `[B, S, heads, C/(2·heads)]` (split), f32.
#[derive(Debug)]
pub struct Ltx2RopeTables {
    cos: Tensor,
    sin: Tensor,
    rope_type: RopeType,
}

impl Ltx2RopeTables {
    /// A second handle on the same tables.
    pub fn shallow_clone(&self) -> Self {
        Self {
            cos: self.cos.shallow_clone(),
            sin: self.sin.shallow_clone(),
            rope_type: self.rope_type,
        }
    }

    /// The tables of the batch elements `index` (`[n]`, int64); tables
    /// shared by the whole batch (batch 1) stay as they are.
    pub fn select_batch(&self, index: &Tensor) -> Result<Self> {
        if self.cos.size()[0] == 1 {
            return Ok(self.shallow_clone());
        }
        Ok(Self {
            cos: self.cos.f_index_select(0, index)?,
            sin: self.sin.f_index_select(0, index)?,
            rope_type: self.rope_type,
        })
    }

    /// Tokens the tables cover.
    pub fn seq_len(&self) -> i64 {
        self.cos.size()[1]
    }

    /// Rotates `x` `[B, S, C]` (queries or keys before the head split).
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.size();
        let t = self.cos.size();
        if s.len() != 3 || s[1] != t[1] || (t[0] != s[0] && t[0] != 1) {
            return Err(Error::invalid(format!(
                "rotary embedding: input {s:?} does not fit tables {t:?}"
            )));
        }
        match self.rope_type {
            RopeType::Interleaved => {
                let tables = RopeTables {
                    cos: self.cos.shallow_clone(),
                    sin: self.sin.shallow_clone(),
                };
                Ok(apply_rope_interleaved(&x.f_unsqueeze(2)?, &tables)?.f_squeeze_dim(2)?)
            }
            RopeType::Split => {
                let heads = t[2];
                let y = apply_rope_split(&x.f_unflatten(2, [heads, -1])?, &self.cos, &self.sin)?;
                Ok(y.f_flatten(2, 3)?)
            }
        }
    }
}

impl FractionalRope {
    /// Tables for `coords`: `[B, axes, N, 2]` patch boundaries (their
    /// midpoints are used) or `[B, axes, N]` positions.
    pub fn tables(&self, coords: &Tensor) -> Result<Ltx2RopeTables> {
        let s = coords.size();
        let axes = s.get(1).copied().unwrap_or(0);
        if !(s.len() == 3 || (s.len() == 4 && s[3] == 2))
            || axes < 1
            || axes as usize > self.max_positions.len()
        {
            return Err(Error::invalid(format!(
                "rotary positions must be [batch, {}, tokens, 2] (or without the last axis), got {s:?}",
                self.max_positions.len()
            )));
        }
        let device = coords.device();
        let coords = coords.f_to_kind(Kind::Float)?;
        let pos = if s.len() == 4 {
            let start = coords.f_select(3, 0)?;
            let end = coords.f_select(3, 1)?;
            start.f_add(&end)?.f_div_scalar(2.0)?
        } else {
            coords
        };
        let mut cols = Vec::with_capacity(axes as usize);
        for i in 0..axes {
            cols.push(
                pos.f_select(1, i)?
                    .f_div_scalar(self.max_positions[i as usize])?,
            );
        }
        let grid = Tensor::f_stack(&cols, -1)?; // [B, N, axes]
        let elems = 2 * axes;
        let nf = self.dim / elems;
        let fkind = if self.double_precision {
            Kind::Double
        } else {
            Kind::Float
        };
        let exps = Tensor::f_linspace(0.0, 1.0, nf, (fkind, device))?;
        let freqs = Tensor::f_pow_scalar(self.theta, &exps)?
            .f_mul_scalar(std::f64::consts::PI / 2.0)?
            .f_to_kind(Kind::Float)?;
        let angles = grid
            .f_unsqueeze(-1)?
            .f_mul_scalar(2.0)?
            .f_sub_scalar(1.0)?
            .f_mul(&freqs)?; // [B, N, axes, nf]
        let angles = angles.f_transpose(-1, -2)?.f_flatten(2, 3)?; // [B, N, nf·axes]
        let (b, n) = (s[0], s[2]);
        let pad = self.dim / 2 - nf * axes;
        let (mut cos, mut sin) = (angles.f_cos()?, angles.f_sin()?);
        if pad > 0 {
            let ones = Tensor::f_ones([b, n, pad], (Kind::Float, device))?;
            let zeros = Tensor::f_zeros([b, n, pad], (Kind::Float, device))?;
            cos = Tensor::f_cat(&[ones, cos], -1)?;
            sin = Tensor::f_cat(&[zeros, sin], -1)?;
        }
        let shape = match self.rope_type {
            RopeType::Interleaved => [b, n, 1, self.dim / 2],
            RopeType::Split => [b, n, self.heads, -1],
        };
        Ok(Ltx2RopeTables {
            cos: cos.f_reshape(shape)?,
            sin: sin.f_reshape(shape)?,
            rope_type: self.rope_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coords_follow_the_causal_first_frame() {
        let c = video_coords(1, [2, 1, 1], 1, 1, [8, 32, 32], 1, 24.0, Device::Cpu).unwrap();
        assert_eq!(c.size(), vec![1, 3, 2, 2]);
        // Frame 0 covers pixel frames [0, 1), frame 1 [1, 9), in seconds.
        let t: Vec<f32> = Vec::try_from(c.get(0).get(0).flatten(0, -1)).unwrap();
        assert_eq!(t, vec![0.0, 1.0 / 24.0, 1.0 / 24.0, 9.0 / 24.0]);
        let a = audio_coords(2, 3, 1, 4, 1, 160, 16000, Device::Cpu).unwrap();
        assert_eq!(a.size(), vec![2, 1, 3, 2]);
        let v: Vec<f32> = Vec::try_from(a.get(1).flatten(0, -1)).unwrap();
        assert_eq!(v, vec![0.0, 0.01, 0.01, 0.05, 0.05, 0.09]);
    }
}
