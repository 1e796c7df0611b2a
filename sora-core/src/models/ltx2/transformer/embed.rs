//! LTX-2's conditioning embeddings: `LTX2AdaLayerNormSingle` (sinusoidal
//! timestep → MLP → `n` modulation vectors) and the LTX-2.0 caption
//! projection (`PixArtAlphaTextProjection`, tanh-GELU MLP).

use tch::Tensor;

use crate::nn::timestep::{Activation, TimestepEmbedding, Timesteps};
use crate::nn::Linear;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// adaLN-single: `linear(silu(emb(t)))` with `emb` PixArt-α's timestep
/// embedding (256 sinusoidal channels, cosines first, MLP to `dim`).
#[derive(Debug)]
pub struct AdaLayerNormSingle {
    proj: Timesteps,
    embedder: TimestepEmbedding,
    linear: Linear,
}

impl AdaLayerNormSingle {
    /// Loads `p.emb.timestep_embedder` and `p.linear` (`dim → n_params·dim`).
    pub fn load(p: &WeightPath, dim: i64, n_params: i64) -> Result<Self> {
        Ok(Self {
            proj: Timesteps::new(256, true, 0.0),
            embedder: TimestepEmbedding::load(
                &p.pp("emb").pp("timestep_embedder"),
                256,
                dim,
                None,
                Activation::Silu,
                p.kind(),
            )?,
            linear: Linear::load(&p.pp("linear"), dim, n_params * dim, true)?,
        })
    }

    /// Pushes the module's tensors.
    pub fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        out.extend(self.embedder.tensors());
        super::linear_tensors(&self.linear, out);
    }

    /// `t` `[B, T]` (or `[B]`) → (modulation `[B, T, n·dim]`, embedding `[B, T, dim]`),
    /// in the weights' dtype.
    pub fn forward(&self, t: &Tensor, batch: i64) -> Result<(Tensor, Tensor)> {
        let flat = t.f_flatten(0, -1)?;
        let n = flat.size()[0];
        if batch <= 0 || n % batch != 0 {
            return Err(Error::invalid(format!(
                "timesteps of shape {:?} do not split over a batch of {batch}",
                t.size()
            )));
        }
        let emb = self.embedder.forward(&self.proj.forward(&flat)?)?;
        let m = self.linear.forward(&emb.f_silu()?)?;
        Ok((
            m.f_view([batch, n / batch, -1])?,
            emb.f_view([batch, n / batch, -1])?,
        ))
    }
}

/// `PixArtAlphaTextProjection` with `gelu_tanh`: `linear_2(gelu_tanh(linear_1(x)))`.
#[derive(Debug)]
pub struct CaptionProjection {
    linear_1: Linear,
    linear_2: Linear,
}

impl CaptionProjection {
    /// Loads `p.linear_1` (`in → hidden`) and `p.linear_2` (`hidden → hidden`).
    pub fn load(p: &WeightPath, in_features: i64, hidden: i64) -> Result<Self> {
        Ok(Self {
            linear_1: Linear::load(&p.pp("linear_1"), in_features, hidden, true)?,
            linear_2: Linear::load(&p.pp("linear_2"), hidden, hidden, true)?,
        })
    }

    /// Pushes the module's tensors.
    pub fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        super::linear_tensors(&self.linear_1, out);
        super::linear_tensors(&self.linear_2, out);
    }

    /// `[.., in] → [.., hidden]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.linear_1.forward(x)?.f_gelu("tanh")?;
        self.linear_2.forward(&h)
    }
}
