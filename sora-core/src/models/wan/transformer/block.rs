//! `WanTransformerBlock`: ada-LN modulated self-attention with 3-D RoPE,
//! cross-attention to text (and image) tokens, and a tanh-GELU feed-forward.
//! Modulation, norms and residual sums run in f32 as in diffusers, each fused
//! into one kernel (`nn::modulation`).

use tch::{Kind, Tensor};

use super::attention::{CrossKv, WanAttention};
use super::embed::{affine_norm, norm_tensors, FeedForward};
use crate::nn::modulation::{gated_residual, modulated_layer_norm};
use crate::nn::rope::RopeTables;
use crate::nn::LayerNorm;
use crate::weights::WeightPath;
use crate::Result;

/// The six modulation vectors of a block, f32, each broadcastable to `[B, S, dim]`.
struct Modulation {
    shift_msa: Tensor,
    scale_msa: Tensor,
    gate_msa: Tensor,
    c_shift_msa: Tensor,
    c_scale_msa: Tensor,
    c_gate_msa: Tensor,
}

/// One transformer block.
#[derive(Debug)]
pub struct WanBlock {
    dim: i64,
    eps: f64,
    attn1: WanAttention,
    /// Affine f32 layer norm before cross-attention (`cross_attn_norm`), else identity.
    norm2: Option<LayerNorm>,
    attn2: WanAttention,
    ffn: FeedForward,
    /// `[1, 6, dim]`, kept in f32.
    scale_shift_table: Tensor,
}

impl WanBlock {
    /// Loads block `p` (`blocks.<i>`).
    pub fn load(
        p: &WeightPath,
        dim: i64,
        ffn_dim: i64,
        heads: i64,
        cross_attn_norm: bool,
        eps: f64,
        added_kv_proj_dim: Option<i64>,
    ) -> Result<Self> {
        let head_dim = dim / heads;
        Ok(Self {
            dim,
            eps,
            attn1: WanAttention::load(&p.pp("attn1"), dim, heads, head_dim, eps, None)?,
            norm2: if cross_attn_norm {
                Some(affine_norm(&p.pp("norm2"), dim, eps, Kind::Float)?)
            } else {
                None
            },
            attn2: WanAttention::load(
                &p.pp("attn2"),
                dim,
                heads,
                head_dim,
                eps,
                added_kv_proj_dim,
            )?,
            ffn: FeedForward::load(&p.pp("ffn"), dim, ffn_dim, dim, true)?,
            scale_shift_table: p.get_kind("scale_shift_table", &[1, 6, dim], Kind::Float)?,
        })
    }

    /// Splits `table + temb` into the six vectors; `temb` is `[B, 6, dim]` or,
    /// with per-token timesteps, `[B, S, 6, dim]`.
    fn modulation(&self, temb: &Tensor) -> Result<Modulation> {
        let (sum, axis) = if temb.dim() == 4 {
            let s = self
                .scale_shift_table
                .f_unsqueeze(0)?
                .f_add(&temb.f_to_kind(Kind::Float)?)?;
            (s, 2)
        } else {
            let s = self
                .scale_shift_table
                .f_add(&temb.f_to_kind(Kind::Float)?)?;
            (s, 1)
        };
        let mut parts = sum.f_chunk(6, axis)?;
        if axis == 2 {
            parts = parts
                .into_iter()
                .map(|t| t.f_squeeze_dim(2))
                .collect::<std::result::Result<Vec<_>, _>>()?;
        }
        let mut it = parts.into_iter();
        let mut next = || {
            it.next()
                .ok_or_else(|| crate::Error::invalid("modulation does not have six parts"))
        };
        Ok(Modulation {
            shift_msa: next()?,
            scale_msa: next()?,
            gate_msa: next()?,
            c_shift_msa: next()?,
            c_scale_msa: next()?,
            c_gate_msa: next()?,
        })
    }

    /// `norm(x.float()) · (1 + scale) + shift`, cast to `x`'s dtype.
    fn modulated_norm(&self, x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
        modulated_layer_norm(x, scale, shift, self.dim, self.eps)
    }

    /// The cross-attention keys and values of this block for the projected
    /// text `[B, L, dim]` (and image `[B, S_img, dim]`) tokens.
    pub fn cross_kv(&self, text: &Tensor, image: Option<&Tensor>) -> Result<CrossKv> {
        self.attn2.cross_kv(text, image)
    }

    /// Runs the block on `x` `[B, S, dim]` with its cross-attention keys and
    /// values `kv` (from [`WanBlock::cross_kv`]) and the text padding's bias.
    pub fn forward(
        &self,
        x: &Tensor,
        kv: &CrossKv,
        text_bias: Option<&Tensor>,
        temb: &Tensor,
        rope: &RopeTables,
    ) -> Result<Tensor> {
        let m = self.modulation(temb)?;

        let h = self.modulated_norm(x, &m.scale_msa, &m.shift_msa)?;
        let a = self.attn1.forward_self(&h, rope)?;
        let x = gated_residual(x, &a, &m.gate_msa)?;

        let h = match &self.norm2 {
            Some(n) => n.forward_f32(&x)?,
            None => x.shallow_clone(),
        };
        let a = self.attn2.forward_cross(&h, kv, text_bias)?;
        let x = x.f_add(&a)?;

        let h = self.modulated_norm(&x, &m.c_scale_msa, &m.c_shift_msa)?;
        let f = self.ffn.forward(&h)?;
        gated_residual(&x, &f, &m.c_gate_msa)
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        self.attn1.tensors(out);
        if let Some(n) = &self.norm2 {
            norm_tensors(n, out);
        }
        self.attn2.tensors(out);
        self.ffn.tensors(out);
        out.push(&self.scale_shift_table);
    }
}
