//! A dense layer `y = x Wᵀ + b` with weights named as in PyTorch (`weight`, `bias`).
//! A weight kept in float8 ([`crate::weights::TensorStore::keep_fp8_linears`])
//! is cast to the input's dtype for each call.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::Result;

/// `torch.nn.Linear`.
#[derive(Debug)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`, if the layer has a bias.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Loads `p.weight` `[out, in]` and, when `bias`, `p.bias` `[out]`.
    pub fn load(p: &WeightPath, in_dim: i64, out_dim: i64, bias: bool) -> Result<Self> {
        let weight = p.get_linear_weight("weight", &[out_dim, in_dim])?;
        let bias = if bias {
            Some(p.get("bias", &[out_dim])?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    /// Applies the layer to the last dimension of `x`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if crate::weights::is_fp8(self.weight.kind()) {
            // Upcast per layer: the float8 weight in the input's dtype for this call.
            let w = self.weight.f_to_kind(x.kind())?;
            return Ok(x.f_linear(&w, self.bias.as_ref())?);
        }
        Ok(x.f_linear(&self.weight, self.bias.as_ref())?)
    }

    /// Output features.
    pub fn out_dim(&self) -> i64 {
        self.weight.size()[0]
    }
}
