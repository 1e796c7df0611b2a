//! diffusers' `LTX2ConnectorTransformer1d`: the small 1-D transformer that turns
//! projected text features into one stream's text embeddings. Padding is
//! replaced by learnable registers (valid tokens moved to the front in order,
//! registers tiled by absolute position after them, then no mask), or, without
//! registers, masked additively; blocks are pre-RMS-norm (no affine)
//! self-attention with RMS q/k norms across heads, a 1-D RoPE on positions
//! `i / base_seq_len` mapped to `[-1, 1]`, optional per-head output gates, and a
//! tanh-GELU feed-forward; a final RMS norm.

use tch::{Kind, Tensor};

use super::config::RopeType;
use crate::nn::{Linear, RmsNorm};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// The connector's geometry, from [`super::ConnectorsConfig`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectorSpec {
    /// Attention heads.
    pub heads: i64,
    /// Size of one head.
    pub head_dim: i64,
    /// Transformer blocks.
    pub layers: i64,
    /// Learnable registers, if any.
    pub registers: Option<i64>,
    /// Per-head output gates.
    pub gated: bool,
    /// RoPE layout.
    pub rope: RopeType,
    /// Positions are divided by this.
    pub rope_base_seq_len: i64,
    /// RoPE base.
    pub rope_theta: f64,
    /// Frequencies in f64.
    pub rope_double_precision: bool,
}

impl ConnectorSpec {
    fn inner(&self) -> i64 {
        self.heads * self.head_dim
    }
}

struct Attention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm_q: RmsNorm,
    norm_k: RmsNorm,
    gate: Option<Linear>,
}

struct Block {
    norm1: RmsNorm,
    attn: Attention,
    norm2: RmsNorm,
    ff_in: Linear,
    ff_out: Linear,
}

/// One stream's connector.
pub struct Connector1d {
    spec: ConnectorSpec,
    /// `[registers, inner]`.
    registers: Option<Tensor>,
    blocks: Vec<Block>,
    norm_out: RmsNorm,
}

impl std::fmt::Debug for Connector1d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector1d")
            .field("spec", &self.spec)
            .finish()
    }
}

const EPS: f64 = 1e-6;

fn plain_norm() -> RmsNorm {
    RmsNorm {
        weight: None,
        eps: EPS,
    }
}

impl Connector1d {
    /// Loads the connector under `p` (`video_connector` / `audio_connector`).
    pub fn load(p: &WeightPath, spec: ConnectorSpec) -> Result<Self> {
        let d = spec.inner();
        let registers = match spec.registers {
            Some(n) => Some(p.get("learnable_registers", &[n, d])?),
            None => None,
        };
        let mut blocks = Vec::with_capacity(spec.layers.max(0) as usize);
        for i in 0..spec.layers {
            let b = p.pp("transformer_blocks").pp(i);
            let a = b.pp("attn1");
            let gate = if spec.gated {
                Some(Linear::load(&a.pp("to_gate_logits"), d, spec.heads, true)?)
            } else {
                None
            };
            blocks.push(Block {
                norm1: plain_norm(),
                attn: Attention {
                    to_q: Linear::load(&a.pp("to_q"), d, d, true)?,
                    to_k: Linear::load(&a.pp("to_k"), d, d, true)?,
                    to_v: Linear::load(&a.pp("to_v"), d, d, true)?,
                    to_out: Linear::load(&a.pp("to_out").pp(0), d, d, true)?,
                    norm_q: RmsNorm::load(&a.pp("norm_q"), d, EPS, true)?,
                    norm_k: RmsNorm::load(&a.pp("norm_k"), d, EPS, true)?,
                    gate,
                },
                norm2: plain_norm(),
                ff_in: Linear::load(&b.pp("ff").pp("net").pp(0).pp("proj"), d, 4 * d, true)?,
                ff_out: Linear::load(&b.pp("ff").pp("net").pp(2), 4 * d, d, true)?,
            });
        }
        Ok(Self {
            spec,
            registers,
            blocks,
            norm_out: plain_norm(),
        })
    }

    /// The connector's geometry.
    pub fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    /// `(cos, sin)` of the 1-D RoPE for `s` positions, f32: `[1, S, inner]`
    /// (interleaved) or `[1, heads, S, head_dim / 2]` (split).
    fn rope_tables(&self, s: i64, device: tch::Device) -> Result<(Tensor, Tensor)> {
        let spec = &self.spec;
        let dim = spec.inner();
        let grid = Tensor::f_arange(s, (Kind::Float, device))?
            .f_div_scalar(spec.rope_base_seq_len as f64)?;
        let freq_kind = if spec.rope_double_precision {
            Kind::Double
        } else {
            Kind::Float
        };
        let steps = Tensor::f_linspace(0.0, 1.0, dim / 2, (freq_kind, device))?;
        let freqs = Tensor::f_pow_scalar(spec.rope_theta, &steps)?
            .f_mul_scalar(std::f64::consts::PI / 2.0)?
            .f_to_kind(Kind::Float)?;
        // (2·pos − 1) · freqs, [S, dim / 2].
        let freqs = grid
            .f_unsqueeze(-1)?
            .f_mul_scalar(2.0)?
            .f_sub_scalar(1.0)?
            .f_mul(&freqs)?;
        match spec.rope {
            RopeType::Interleaved => {
                let cos = freqs.f_cos()?.f_repeat_interleave_self_int(2, -1, None)?;
                let sin = freqs.f_sin()?.f_repeat_interleave_self_int(2, -1, None)?;
                Ok((cos.f_unsqueeze(0)?, sin.f_unsqueeze(0)?))
            }
            RopeType::Split => {
                let per_head = |t: Tensor| -> Result<Tensor> {
                    Ok(t.f_reshape([1, s, spec.heads, -1])?.f_transpose(1, 2)?)
                };
                Ok((per_head(freqs.f_cos()?)?, per_head(freqs.f_sin()?)?))
            }
        }
    }

    /// Runs the connector on `x` `[B, S, inner]` with the additive mask
    /// `[B, 1, 1, S]` (0 = token, a very negative number = padding). Returns
    /// the embeddings and the mask after the connector (all zeros when
    /// registers replaced the padding).
    pub fn forward(&self, x: &Tensor, add_mask: &Tensor) -> Result<(Tensor, Tensor)> {
        let size = x.size();
        let (b, s, d) = match size[..] {
            [b, s, d] => (b, s, d),
            _ => {
                return Err(Error::invalid(format!(
                    "connector input {size:?} is not [B, S, D]"
                )))
            }
        };
        if d != self.spec.inner() {
            return Err(Error::invalid(format!(
                "connector input has {d} features, the connector is {} wide",
                self.spec.inner()
            )));
        }
        let device = x.device();
        let mut x = x.shallow_clone();
        let mut mask = add_mask.shallow_clone();
        if let (Some(regs), Some(n)) = (&self.registers, self.spec.registers) {
            if s % n != 0 {
                return Err(Error::invalid(format!(
                    "the text sequence length {s} should be divisible by the number of learnable registers {n}"
                )));
            }
            let tiled = regs.f_repeat([s / n, 1])?; // [S, D], register i at rows i, i + n, ...
            let valid = add_mask
                .f_reshape([b, s])?
                .f_ge(-9000.0)?
                .f_to_kind(Kind::Int64)?;
            // Valid tokens first, in order (stable sort of 1 − valid).
            let order = valid
                .f_neg()?
                .f_add_scalar(1)?
                .f_argsort_stable(true, 1, false)?;
            let front = x.f_gather(
                1,
                &order.f_unsqueeze(-1)?.f_expand([b, s, d], false)?,
                false,
            )?;
            let count = valid.f_sum_dim_intlist(1, true, Kind::Int64)?;
            let pos = Tensor::f_arange(s, (Kind::Int64, device))?.f_unsqueeze(0)?;
            let keep = pos.f_lt_tensor(&count)?.f_unsqueeze(-1)?;
            let regs = tiled.f_to_kind(x.kind())?.f_unsqueeze(0)?;
            x = front.f_where_self(&keep, &regs)?;
            mask = mask.f_zeros_like()?;
        }
        let (cos, sin) = self.rope_tables(s, device)?;
        let (h, hd) = (self.spec.heads, self.spec.head_dim);
        for block in &self.blocks {
            let normed = block.norm1.forward(&x)?;
            let a = &block.attn;
            let q = a.norm_q.forward(&a.to_q.forward(&normed)?)?;
            let k = a.norm_k.forward(&a.to_k.forward(&normed)?)?;
            let v = a.to_v.forward(&normed)?;
            let (q, k) = match self.spec.rope {
                RopeType::Interleaved => (
                    rotate_interleaved(&q, &cos, &sin)?,
                    rotate_interleaved(&k, &cos, &sin)?,
                ),
                RopeType::Split => (
                    rotate_split(&q, &cos, &sin, h)?,
                    rotate_split(&k, &cos, &sin, h)?,
                ),
            };
            let heads =
                |t: &Tensor| -> Result<Tensor> { Ok(t.f_view([b, s, h, hd])?.f_transpose(1, 2)?) };
            let attn_mask = mask.f_to_kind(q.kind())?;
            let out = Tensor::f_scaled_dot_product_attention(
                &heads(&q)?,
                &heads(&k)?,
                &heads(&v)?,
                Some(&attn_mask),
                0.0,
                false,
                None::<f64>,
                false,
            )?
            .f_transpose(1, 2)?; // [B, S, H, hd]
            let out = match &a.gate {
                Some(gate) => {
                    let g = gate.forward(&normed)?.f_sigmoid()?.f_mul_scalar(2.0)?;
                    out.f_mul(&g.f_unsqueeze(-1)?)?
                }
                None => out,
            };
            let out = a.to_out.forward(&out.f_reshape([b, s, h * hd])?)?;
            x = x.f_add(&out)?;

            let normed = block.norm2.forward(&x)?;
            let ff = block
                .ff_out
                .forward(&block.ff_in.forward(&normed)?.f_gelu("tanh")?)?;
            x = x.f_add(&ff)?;
        }
        Ok((self.norm_out.forward(&x)?, mask))
    }
}

/// diffusers' `apply_interleaved_rotary_emb` on `[B, S, D]` with `[1, S, D]` tables.
fn rotate_interleaved(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let pairs = x.f_unflatten(2, [-1, 2])?;
    let real = pairs.f_select(-1, 0)?;
    let imag = pairs.f_select(-1, 1)?;
    let rotated = Tensor::f_stack(&[imag.f_neg()?, real], -1)?.f_flatten(2, -1)?;
    let out = x
        .f_to_kind(Kind::Float)?
        .f_mul(cos)?
        .f_add(&rotated.f_to_kind(Kind::Float)?.f_mul(sin)?)?;
    Ok(out.f_to_kind(x.kind())?)
}

/// diffusers' `apply_split_rotary_emb` on `[B, S, H·2r]` with `[1, H, S, r]`
/// tables: per head, halves `(a, b) → (a·cos − b·sin, b·cos + a·sin)`.
fn rotate_split(x: &Tensor, cos: &Tensor, sin: &Tensor, heads: i64) -> Result<Tensor> {
    let size = x.size();
    let (b, s) = (size[0], size[1]);
    let xf = x
        .f_reshape([b, s, heads, -1])?
        .f_transpose(1, 2)?
        .f_to_kind(Kind::Float)?;
    let r = xf.size()[3] / 2;
    let first = xf.f_narrow(-1, 0, r)?;
    let second = xf.f_narrow(-1, r, r)?;
    let out_first = first.f_mul(cos)?.f_sub(&sin.f_mul(&second)?)?;
    let out_second = second.f_mul(cos)?.f_add(&sin.f_mul(&first)?)?;
    let out = Tensor::f_cat(&[out_first, out_second], -1)?
        .f_transpose(1, 2)?
        .f_reshape([b, s, -1])?;
    Ok(out.f_to_kind(x.kind())?)
}
