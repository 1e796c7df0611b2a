//! Wan's condition embedder (`WanTimeTextImageEmbedding`): timestep sinusoid +
//! MLP (kept in f32) and its 6-way modulation projection, the text projection
//! (`PixArtAlphaTextProjection`), and the CLIP image-token embedder
//! (`WanImageEmbedding`); plus diffusers' GELU `FeedForward` used by them and the blocks.

use tch::{Kind, Tensor};

use crate::nn::timestep::{Activation, TimestepEmbedding, Timesteps};
use crate::nn::{LayerNorm, Linear};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// Loads `p.weight` `[dim]` and `p.bias` `[dim]` as an affine layer norm kept in `kind`.
pub(crate) fn affine_norm(p: &WeightPath, dim: i64, eps: f64, kind: Kind) -> Result<LayerNorm> {
    Ok(LayerNorm {
        weight: Some(p.get_kind("weight", &[dim], kind)?),
        bias: Some(p.get_kind("bias", &[dim], kind)?),
        dim,
        eps,
    })
}

/// Pushes the tensors of a linear layer.
pub(crate) fn linear_tensors<'a>(l: &'a Linear, out: &mut Vec<&'a Tensor>) {
    out.push(&l.weight);
    out.extend(l.bias.as_ref());
}

/// Pushes the tensors of a layer norm.
pub(crate) fn norm_tensors<'a>(n: &'a LayerNorm, out: &mut Vec<&'a Tensor>) {
    out.extend(n.weight.as_ref());
    out.extend(n.bias.as_ref());
}

/// diffusers' `FeedForward` with a GELU activation: `net.2(gelu(net.0.proj(x)))`.
#[derive(Debug)]
pub struct FeedForward {
    proj_in: Linear,
    approximate: &'static str,
    proj_out: Linear,
}

impl FeedForward {
    /// Loads `p.net.0.proj` (`dim → inner`) and `p.net.2` (`inner → dim_out`);
    /// `tanh` selects the tanh-approximated GELU (`gelu-approximate`).
    pub fn load(p: &WeightPath, dim: i64, inner: i64, dim_out: i64, tanh: bool) -> Result<Self> {
        Ok(Self {
            proj_in: Linear::load(&p.pp("net").pp(0).pp("proj"), dim, inner, true)?,
            approximate: if tanh { "tanh" } else { "none" },
            proj_out: Linear::load(&p.pp("net").pp(2), inner, dim_out, true)?,
        })
    }

    /// Applies the MLP to the last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.proj_in.forward(x)?.f_gelu(self.approximate)?;
        self.proj_out.forward(&h)
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        linear_tensors(&self.proj_in, out);
        linear_tensors(&self.proj_out, out);
    }
}

/// `PixArtAlphaTextProjection` with `gelu_tanh`: `linear_2(gelu_tanh(linear_1(x)))`.
#[derive(Debug)]
pub struct TextProjection {
    linear_1: Linear,
    linear_2: Linear,
}

impl TextProjection {
    /// Loads `p.linear_1` (`in → hidden`) and `p.linear_2` (`hidden → hidden`).
    pub fn load(p: &WeightPath, in_features: i64, hidden: i64) -> Result<Self> {
        Ok(Self {
            linear_1: Linear::load(&p.pp("linear_1"), in_features, hidden, true)?,
            linear_2: Linear::load(&p.pp("linear_2"), hidden, hidden, true)?,
        })
    }

    /// `[.., in] → [.., hidden]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.linear_1.forward(x)?.f_gelu("tanh")?;
        self.linear_2.forward(&h)
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        linear_tensors(&self.linear_1, out);
        linear_tensors(&self.linear_2, out);
    }
}

/// `WanImageEmbedding`: f32 layer norm → GELU MLP → f32 layer norm, with an
/// optional learned position embedding over the tokens of two images (FLF2V).
#[derive(Debug)]
pub struct ImageEmbedding {
    norm1: LayerNorm,
    ff: FeedForward,
    norm2: LayerNorm,
    /// `[1, pos_embed_seq_len, in_features]`.
    pos_embed: Option<Tensor>,
}

impl ImageEmbedding {
    /// Loads `p.norm1`, `p.ff`, `p.norm2` (norms kept in f32, eps 1e-5) and `p.pos_embed`.
    pub fn load(
        p: &WeightPath,
        in_features: i64,
        out_features: i64,
        pos_len: Option<i64>,
    ) -> Result<Self> {
        Ok(Self {
            norm1: affine_norm(&p.pp("norm1"), in_features, 1e-5, Kind::Float)?,
            ff: FeedForward::load(&p.pp("ff"), in_features, in_features, out_features, false)?,
            norm2: affine_norm(&p.pp("norm2"), out_features, 1e-5, Kind::Float)?,
            pos_embed: match pos_len {
                Some(n) => Some(p.get("pos_embed", &[1, n, in_features])?),
                None => None,
            },
        })
    }

    /// Image tokens `[B, S, in]` (or, with a position embedding, `[2B, S, in]`
    /// for two images per sample, joined into `[B, 2S, in]`) → `[B, S', out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = match &self.pos_embed {
            Some(pos) => {
                let s = x.size();
                x.f_view([-1, 2 * s[1], s[2]])?.f_add(pos)?
            }
            None => x.shallow_clone(),
        };
        let h = self.norm1.forward_f32(&x)?;
        let h = self.ff.forward(&h)?;
        self.norm2.forward_f32(&h)
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        norm_tensors(&self.norm1, out);
        self.ff.tensors(out);
        norm_tensors(&self.norm2, out);
        out.extend(self.pos_embed.as_ref());
    }
}

/// What the condition embedder hands to the blocks at every step (the text
/// and image projections depend on the prompt alone and are made once per
/// generation, see [`ConditionEmbedder::embed_text`]).
#[derive(Debug)]
pub struct Conditions {
    /// Time embedding `[B, dim]` (or `[B, seq, dim]` for per-token timesteps), model dtype.
    pub temb: Tensor,
    /// Block modulation `[B, 6, dim]` (or `[B, seq, 6, dim]`), model dtype.
    pub timestep_proj: Tensor,
}

/// `WanTimeTextImageEmbedding`.
#[derive(Debug)]
pub struct ConditionEmbedder {
    timesteps_proj: Timesteps,
    time_embedder: TimestepEmbedding,
    time_proj: Linear,
    text_embedder: TextProjection,
    image_embedder: Option<ImageEmbedding>,
}

impl ConditionEmbedder {
    /// Loads `p.time_embedder` (kept in f32), `p.time_proj`, `p.text_embedder`
    /// and, when `image_dim` is set, `p.image_embedder`.
    pub fn load(
        p: &WeightPath,
        dim: i64,
        freq_dim: i64,
        text_dim: i64,
        image_dim: Option<i64>,
        pos_len: Option<i64>,
    ) -> Result<Self> {
        Ok(Self {
            timesteps_proj: Timesteps::new(freq_dim, true, 0.0),
            time_embedder: TimestepEmbedding::load(
                &p.pp("time_embedder"),
                freq_dim,
                dim,
                None,
                Activation::Silu,
                Kind::Float,
            )?,
            time_proj: Linear::load(&p.pp("time_proj"), dim, dim * 6, true)?,
            text_embedder: TextProjection::load(&p.pp("text_embedder"), text_dim, dim)?,
            image_embedder: match image_dim {
                Some(d) => Some(ImageEmbedding::load(
                    &p.pp("image_embedder"),
                    d,
                    dim,
                    pos_len,
                )?),
                None => None,
            },
        })
    }

    /// Embeds flat timesteps `[N]` (`N = B·seq` when `seq` is given).
    /// `kind` is the model's dtype (the time embedding is cast to it).
    pub fn forward(&self, timestep: &Tensor, seq: Option<i64>, kind: Kind) -> Result<Conditions> {
        let t = self.timesteps_proj.forward(timestep)?;
        let t = match seq {
            Some(s) => t.f_unflatten(0, [-1, s])?,
            None => t,
        };
        let temb = self.time_embedder.forward(&t)?.f_to_kind(kind)?;
        let timestep_proj = self.time_proj.forward(&temb.f_silu()?)?;
        Ok(Conditions {
            temb,
            timestep_proj,
        })
    }

    /// Projects text embeddings `[B, L, text_dim]` to `[B, L, dim]`.
    pub fn embed_text(&self, text: &Tensor) -> Result<Tensor> {
        self.text_embedder.forward(text)
    }

    /// Embeds CLIP image tokens (see [`ImageEmbedding::forward`]).
    pub fn embed_image(&self, image: &Tensor) -> Result<Tensor> {
        match &self.image_embedder {
            Some(e) => e.forward(image),
            None => Err(Error::invalid(
                "image embeddings were given but this transformer has no image embedder \
                 (config `image_dim` is null)",
            )),
        }
    }

    pub(crate) fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        out.extend(self.time_embedder.tensors());
        linear_tensors(&self.time_proj, out);
        self.text_embedder.tensors(out);
        if let Some(e) = &self.image_embedder {
            e.tensors(out);
        }
    }
}
