//! Attention through LibTorch's fused scaled-dot-product attention (flash /
//! memory-efficient kernels where the device has them).

use tch::Tensor;

use crate::Result;

/// `softmax(q kᵀ / sqrt(d)) v` on `[batch, heads, seq, head_dim]` tensors, with an
/// optional boolean or additive mask broadcastable to `[batch, heads, q_len, k_len]`.
pub fn sdpa(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    Ok(Tensor::f_scaled_dot_product_attention(
        q,
        k,
        v,
        mask,
        0.0,
        false,
        None::<f64>,
        false,
    )?)
}
