//! `LTX2Attention` with its two processors: q/k/v projections, RMS norms of q
//! and k across heads, rotary embeddings with separate query and key tables
//! (the audio↔video cross-attention rotates each side by its own time),
//! optional per-head output gates (LTX-2.3), and the perturbed self-attention
//! of spatio-temporal guidance (the value projection stands in for the
//! attention on perturbed batch elements).

use tch::Tensor;

use super::rope::Ltx2RopeTables;
use crate::nn::{sdpa, Linear, RmsNorm};
use crate::weights::WeightPath;
use crate::Result;

/// How the self-attention of a block is perturbed for STG.
#[derive(Debug, Clone, Copy)]
pub enum Perturbation<'a> {
    /// No perturbation.
    None,
    /// Every batch element is perturbed: the output is the value projection.
    All,
    /// Per batch element: `lerp(value, attention, mask)` with `mask` `[B, 1, 1]`
    /// (0 perturbs, 1 keeps the attention).
    Mask(&'a Tensor),
}

/// Sizes of one attention layer.
#[derive(Debug, Clone, Copy)]
pub struct AttentionDims {
    /// Width of the queries' input (and of the output).
    pub query_dim: i64,
    /// Width of the keys'/values' input.
    pub kv_dim: i64,
    /// Heads.
    pub heads: i64,
    /// Channels per head.
    pub head_dim: i64,
}

/// One attention layer.
#[derive(Debug)]
pub struct Ltx2Attention {
    heads: i64,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    norm_q: RmsNorm,
    norm_k: RmsNorm,
    to_out: Linear,
    to_gate_logits: Option<Linear>,
}

impl Ltx2Attention {
    /// Loads `p.to_q`, `to_k`, `to_v`, `norm_q`, `norm_k`, `to_out.0` and,
    /// when `gated`, `to_gate_logits`.
    pub fn load(
        p: &WeightPath,
        d: AttentionDims,
        bias: bool,
        out_bias: bool,
        gated: bool,
    ) -> Result<Self> {
        let inner = d.heads * d.head_dim;
        Ok(Self {
            heads: d.heads,
            to_q: Linear::load(&p.pp("to_q"), d.query_dim, inner, bias)?,
            to_k: Linear::load(&p.pp("to_k"), d.kv_dim, inner, bias)?,
            to_v: Linear::load(&p.pp("to_v"), d.kv_dim, inner, bias)?,
            // torch.nn.RMSNorm(eps=1e-6) with its weight: LTX2Attention's defaults.
            norm_q: RmsNorm::load(&p.pp("norm_q"), inner, 1e-6, true)?,
            norm_k: RmsNorm::load(&p.pp("norm_k"), inner, 1e-6, true)?,
            to_out: Linear::load(&p.pp("to_out").pp(0), inner, d.query_dim, out_bias)?,
            to_gate_logits: if gated {
                Some(Linear::load(
                    &p.pp("to_gate_logits"),
                    d.query_dim,
                    d.heads,
                    true,
                )?)
            } else {
                None
            },
        })
    }

    /// Pushes the layer's tensors.
    pub fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        for l in [&self.to_q, &self.to_k, &self.to_v, &self.to_out] {
            super::linear_tensors(l, out);
        }
        super::rms_tensors(&self.norm_q, out);
        super::rms_tensors(&self.norm_k, out);
        if let Some(g) = &self.to_gate_logits {
            super::linear_tensors(g, out);
        }
    }

    /// The keys (normalised, not rotated) and values of `context`
    /// `[B, L, kv_dim]`: what a cross-attention over a fixed context (the
    /// prompt) can compute once and reuse at every step
    /// ([`Ltx2Attention::forward_kv`]).
    pub fn context_kv(&self, context: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.norm_k.forward(&self.to_k.forward(context)?)?,
            self.to_v.forward(context)?,
        ))
    }

    /// Attention of `x` `[B, S, query_dim]` over `context` (`x` itself when
    /// `None`) with an additive `bias` broadcastable to `[B, heads, S, L]`;
    /// `q_rope` rotates the queries, `k_rope` the keys (`q_rope` when `None`).
    pub fn forward(
        &self,
        x: &Tensor,
        context: Option<&Tensor>,
        bias: Option<&Tensor>,
        q_rope: Option<&Ltx2RopeTables>,
        k_rope: Option<&Ltx2RopeTables>,
        perturb: Perturbation<'_>,
    ) -> Result<Tensor> {
        let ctx = context.unwrap_or(x);
        let value = self.to_v.forward(ctx)?;
        let key = if matches!(perturb, Perturbation::All) {
            None
        } else {
            Some(self.norm_k.forward(&self.to_k.forward(ctx)?)?)
        };
        self.attend(x, key, value, bias, q_rope, k_rope, perturb)
    }

    /// [`Ltx2Attention::forward`] over a context whose keys and values
    /// [`Ltx2Attention::context_kv`] computed (no rotation of the keys, no
    /// perturbation): the same result, without the key and value projections.
    pub fn forward_kv(
        &self,
        x: &Tensor,
        kv: &(Tensor, Tensor),
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.attend(
            x,
            Some(kv.0.shallow_clone()),
            kv.1.shallow_clone(),
            bias,
            None,
            None,
            Perturbation::None,
        )
    }

    /// The attention proper, given the (unrotated) keys and the values; no
    /// keys only under [`Perturbation::All`].
    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        x: &Tensor,
        key: Option<Tensor>,
        value: Tensor,
        bias: Option<&Tensor>,
        q_rope: Option<&Ltx2RopeTables>,
        k_rope: Option<&Ltx2RopeTables>,
        perturb: Perturbation<'_>,
    ) -> Result<Tensor> {
        let gate_logits = match &self.to_gate_logits {
            Some(l) => Some(l.forward(x)?),
            None => None,
        };
        let out = match key {
            None => value,
            Some(mut k) => {
                let mut q = self.norm_q.forward(&self.to_q.forward(x)?)?;
                if let Some(qr) = q_rope {
                    q = qr.apply(&q)?;
                    k = k_rope.unwrap_or(qr).apply(&k)?;
                }
                let split = |t: &Tensor| -> Result<Tensor> {
                    Ok(t.f_unflatten(2, [self.heads, -1])?.f_transpose(1, 2)?)
                };
                let h = sdpa(&split(&q)?, &split(&k)?, &split(&value)?, bias)?
                    .f_transpose(1, 2)?
                    .f_flatten(2, 3)?;
                match perturb {
                    Perturbation::Mask(m) => value.f_lerp_tensor(&h, m)?,
                    _ => h,
                }
            }
        };
        let out = match gate_logits {
            Some(g) => {
                let gates = g.f_sigmoid()?.f_mul_scalar(2.0)?.f_unsqueeze(-1)?;
                out.f_unflatten(2, [self.heads, -1])?
                    .f_mul(&gates)?
                    .f_flatten(2, 3)?
            }
            None => out,
        };
        self.to_out.forward(&out)
    }
}
