//! `WanAttention` with `WanAttnProcessor`: q/k/v projections, RMS norms of q
//! and k across all heads, 3-D rotary embedding (self-attention), LibTorch SDPA,
//! and, for image-conditioned models, a second attention over the CLIP image
//! tokens through the added key/value projections, summed before `to_out`.
//! Cross-attention takes its keys and values as a [`CrossKv`] made once per
//! generation from the prompt (and image) tokens.

use tch::Tensor;

use super::embed::linear_tensors;
use crate::nn::rope::{apply_rope_interleaved, RopeTables};
use crate::nn::{sdpa, Linear};
use crate::weights::WeightPath;
use crate::Result;

/// `torch.nn.RMSNorm` over the last dimension with a scale, run through
/// LibTorch's own `rms_norm` so that reduced precisions round as in PyTorch.
#[derive(Debug)]
struct HeadsRmsNorm {
    weight: Tensor,
    dim: i64,
    eps: f64,
}

impl HeadsRmsNorm {
    fn load(p: &WeightPath, dim: i64, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: p.get("weight", &[dim])?,
            dim,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_rms_norm([self.dim], Some(&self.weight), self.eps)?)
    }
}

/// The added image key/value path of cross-attention (Wan 2.1 I2V / FLF2V).
#[derive(Debug)]
struct AddedKv {
    add_k_proj: Linear,
    add_v_proj: Linear,
    norm_added_k: HeadsRmsNorm,
}

/// The keys and values one cross-attention layer attends to, each
/// `[B, heads, tokens, head_dim]` (views of `[B, tokens, heads·head_dim]`
/// projections).
#[derive(Debug)]
pub struct CrossKv {
    /// Keys of the text tokens (after the image tokens when they are joined).
    k: Tensor,
    /// Values of the same tokens.
    v: Tensor,
    /// Keys and values of the image tokens through the added projections.
    image: Option<(Tensor, Tensor)>,
}

impl CrossKv {
    /// The keys of the text (or joined image and text) tokens.
    pub fn keys(&self) -> &Tensor {
        &self.k
    }

    /// Bytes held (keys and values, image pair included).
    pub fn bytes(&self) -> u64 {
        let mut n = tensor_bytes(&self.k) + tensor_bytes(&self.v);
        if let Some((k, v)) = &self.image {
            n += tensor_bytes(k) + tensor_bytes(v);
        }
        n
    }
}

/// Bytes of a tensor's elements.
fn tensor_bytes(t: &Tensor) -> u64 {
    t.numel() as u64 * t.kind().elt_size_in_bytes() as u64
}

/// One attention layer of a Wan block (`attn1`: self, `attn2`: cross).
#[derive(Debug)]
pub struct WanAttention {
    heads: i64,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm_q: HeadsRmsNorm,
    norm_k: HeadsRmsNorm,
    added: Option<AddedKv>,
}

impl WanAttention {
    /// Loads `p.{to_q,to_k,to_v,to_out.0,norm_q,norm_k}` (all `dim → heads·head_dim`)
    /// and, when `added_kv_proj_dim` is set, `p.{add_k_proj,add_v_proj,norm_added_k}`.
    pub fn load(
        p: &WeightPath,
        dim: i64,
        heads: i64,
        head_dim: i64,
        eps: f64,
        added_kv_proj_dim: Option<i64>,
    ) -> Result<Self> {
        let inner = heads * head_dim;
        let added = match added_kv_proj_dim {
            Some(a) => Some(AddedKv {
                add_k_proj: Linear::load(&p.pp("add_k_proj"), a, inner, true)?,
                add_v_proj: Linear::load(&p.pp("add_v_proj"), a, inner, true)?,
                norm_added_k: HeadsRmsNorm::load(&p.pp("norm_added_k"), inner, eps)?,
            }),
            None => None,
        };
        Ok(Self {
            heads,
            to_q: Linear::load(&p.pp("to_q"), dim, inner, true)?,
            to_k: Linear::load(&p.pp("to_k"), dim, inner, true)?,
            to_v: Linear::load(&p.pp("to_v"), dim, inner, true)?,
            to_out: Linear::load(&p.pp("to_out").pp(0), inner, dim, true)?,
            norm_q: HeadsRmsNorm::load(&p.pp("norm_q"), inner, eps)?,
            norm_k: HeadsRmsNorm::load(&p.pp("norm_k"), inner, eps)?,
            added,
        })
    }

    /// `[B, S, heads·d] → [B, heads, S, d]` after the rotary embedding when given.
    fn heads_first(&self, x: &Tensor, rope: Option<&RopeTables>) -> Result<Tensor> {
        let x = x.f_unflatten(2, [self.heads, -1])?;
        let x = match rope {
            Some(t) => apply_rope_interleaved(&x, t)?,
            None => x,
        };
        Ok(x.f_transpose(1, 2)?)
    }

    /// `softmax(q kᵀ/√d + mask) v` back to `[B, S, heads·d]`.
    fn attend(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let o = sdpa(q, k, v, mask)?;
        Ok(o.f_transpose(1, 2)?.f_flatten(2, 3)?)
    }

    /// Self-attention of `x` `[B, S, dim]` with the rotary tables of its grid.
    pub fn forward_self(&self, x: &Tensor, rope: &RopeTables) -> Result<Tensor> {
        let q = self.norm_q.forward(&self.to_q.forward(x)?)?;
        let k = self.norm_k.forward(&self.to_k.forward(x)?)?;
        let v = self.to_v.forward(x)?;
        let q = self.heads_first(&q, Some(rope))?;
        let k = self.heads_first(&k, Some(rope))?;
        let v = self.heads_first(&v, None)?;
        self.to_out.forward(&Self::attend(&q, &k, &v, None)?)
    }

    /// The keys and values cross-attention takes from the projected text
    /// tokens `ctx` `[B, L, dim]` and, when given, the projected image tokens
    /// `[B, S_img, dim]`: through the added projections into a separate pair
    /// when the layer has them, else joined before the text (`[image, text]`).
    /// They depend on the prompt (and image) alone, so a generation makes them
    /// once and every step's [`WanAttention::forward_cross`] reuses them.
    pub fn cross_kv(&self, ctx: &Tensor, image: Option<&Tensor>) -> Result<CrossKv> {
        let joined;
        let ctx = match (image, &self.added) {
            (Some(img), None) => {
                joined = Tensor::f_cat(&[img, ctx], 1)?;
                &joined
            }
            _ => ctx,
        };
        let k = self.norm_k.forward(&self.to_k.forward(ctx)?)?;
        let v = self.to_v.forward(ctx)?;
        let k = self.heads_first(&k, None)?;
        let v = self.heads_first(&v, None)?;
        let image = match (image, &self.added) {
            (Some(img), Some(a)) => {
                let ki = a.norm_added_k.forward(&a.add_k_proj.forward(img)?)?;
                let vi = a.add_v_proj.forward(img)?;
                Some((self.heads_first(&ki, None)?, self.heads_first(&vi, None)?))
            }
            _ => None,
        };
        Ok(CrossKv { k, v, image })
    }

    /// Cross-attention of `x` `[B, S, dim]` to the keys and values `kv` made by
    /// [`WanAttention::cross_kv`]; with an image pair, the attention to the
    /// image tokens is added to the one to the text tokens.
    ///
    /// `text_bias`: the additive mask of [`multiplicity_bias`] when the last
    /// text key stands for several identical padding tokens (see
    /// [`super::compact_text_padding`]).
    pub fn forward_cross(
        &self,
        x: &Tensor,
        kv: &CrossKv,
        text_bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let q = self.norm_q.forward(&self.to_q.forward(x)?)?;
        let q = self.heads_first(&q, None)?;
        let image_out = match &kv.image {
            Some((ki, vi)) => Some(Self::attend(&q, ki, vi, None)?),
            None => None,
        };
        let out = Self::attend(&q, &kv.k, &kv.v, text_bias)?;
        let out = match image_out {
            Some(i) => out.f_add(&i)?,
            None => out,
        };
        self.to_out.forward(&out)
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        for l in [&self.to_q, &self.to_k, &self.to_v, &self.to_out] {
            linear_tensors(l, out);
        }
        out.push(&self.norm_q.weight);
        out.push(&self.norm_k.weight);
        if let Some(a) = &self.added {
            linear_tensors(&a.add_k_proj, out);
            linear_tensors(&a.add_v_proj, out);
            out.push(&a.norm_added_k.weight);
        }
    }
}

/// An additive attention bias `[1, 1, 1, len]` on the device and in the dtype
/// of `like`: zero everywhere but `ln(n)` on the last key, which then weighs
/// as `n` copies of itself in the softmax.
pub(crate) fn multiplicity_bias(len: i64, n: i64, like: &Tensor) -> Result<Tensor> {
    let mut bias = vec![0f32; len.max(1) as usize];
    if let Some(last) = bias.last_mut() {
        *last = (n as f64).ln() as f32;
    }
    Ok(Tensor::f_from_slice(&bias)?
        .f_to_device(like.device())?
        .f_to_kind(like.kind())?
        .f_view([1, 1, 1, len])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Attending to `n` identical trailing keys equals attending to one of them
    /// with the `ln(n)` bias.
    #[test]
    fn one_biased_key_stands_for_identical_keys() {
        tch::manual_seed(5);
        let opts = (Kind::Float, Device::Cpu);
        let q = Tensor::randn([2, 3, 7, 8], opts);
        let real_k = Tensor::randn([2, 3, 4, 8], opts);
        let real_v = Tensor::randn([2, 3, 4, 8], opts);
        let pad_k = Tensor::randn([1, 1, 1, 8], opts).expand([2, 3, 9, 8], false);
        let pad_v = Tensor::randn([1, 1, 1, 8], opts).expand([2, 3, 9, 8], false);
        let k = Tensor::cat(&[&real_k, &pad_k], 2);
        let v = Tensor::cat(&[&real_v, &pad_v], 2);
        let full = WanAttention::attend(&q, &k, &v, None).unwrap();
        let bias = multiplicity_bias(5, 9, &q).unwrap();
        let (k5, v5) = (k.narrow(2, 0, 5), v.narrow(2, 0, 5));
        let short = WanAttention::attend(&q, &k5, &v5, Some(&bias)).unwrap();
        let d = (&full - &short).abs().max().double_value(&[]);
        assert!(d < 1e-5, "differs by {d}");
        // Without the bias the result is different (the test can fail).
        let wrong = WanAttention::attend(&q, &k5, &v5, None).unwrap();
        assert!((&full - &wrong).abs().max().double_value(&[]) > 1e-3);
    }
}
