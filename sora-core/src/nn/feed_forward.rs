//! diffusers' `FeedForward` with a GELU activation (`gelu` or
//! `gelu-approximate`): `net.2(gelu(net.0.proj(x)))`, with or without biases.

use tch::Tensor;

use crate::nn::Linear;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// `FeedForward(dim, dim_out, inner_dim, activation_fn, bias)` for the GELU activations.
#[derive(Debug)]
pub struct GeluFeedForward {
    proj_in: Linear,
    approximate: &'static str,
    proj_out: Linear,
}

impl GeluFeedForward {
    /// Loads `p.net.0.proj` (`dim → inner`) and `p.net.2` (`inner → dim_out`).
    /// `activation_fn` is diffusers' name: `gelu` (exact) or `gelu-approximate`
    /// (tanh); any other is [`Error::Unsupported`].
    pub fn load(
        p: &WeightPath,
        dim: i64,
        inner: i64,
        dim_out: i64,
        activation_fn: &str,
        bias: bool,
    ) -> Result<Self> {
        let approximate = match activation_fn {
            "gelu" => "none",
            "gelu-approximate" => "tanh",
            other => {
                return Err(Error::Unsupported(format!(
                "feed-forward activation `{other}` (only `gelu` and `gelu-approximate` are built)"
            )))
            }
        };
        Ok(Self {
            proj_in: Linear::load(&p.pp("net").pp(0).pp("proj"), dim, inner, bias)?,
            approximate,
            proj_out: Linear::load(&p.pp("net").pp(2), inner, dim_out, bias)?,
        })
    }

    /// Pushes the layers' tensors (for counting or moving them).
    pub fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        for l in [&self.proj_in, &self.proj_out] {
            out.push(&l.weight);
            out.extend(l.bias.as_ref());
        }
    }

    /// Applies the MLP to the last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.proj_in.forward(x)?.f_gelu(self.approximate)?;
        self.proj_out.forward(&h)
    }
}
