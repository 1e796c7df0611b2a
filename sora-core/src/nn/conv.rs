//! Convolution dispatch shared by every family: sends CPU convolutions to
//! oneDNN directly instead of letting LibTorch pick its im2col path.
//!
//! LibTorch's CPU `conv2d`/`conv3d` use oneDNN only above a size threshold
//! (for float32 3-D convolutions, when N·C·T·H of the input exceeds 20480);
//! below it they take `slow_conv3d` (im2col + GEMM). A causal video VAE that
//! decodes one latent frame at a time (Wan's) sits below that threshold for
//! most layers at small widths, where oneDNN measured 8–10× faster per call
//! and the whole decode about 2× faster (docs/performance.md). The results
//! agree to float rounding (parity tests against diffusers still hold).
//!
//! CUDA and other devices, and dtypes other than float32 (oneDNN's bf16 and
//! f16 kernels need CPU features not every machine has), go through the
//! ordinary `conv2d` / `conv3d`. `SORA_NO_ONEDNN=1` turns the dispatch off
//! (for comparisons).

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// Whether this LibTorch was built with oneDNN (checked once).
fn onednn_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE
        .get_or_init(|| std::env::var_os("SORA_NO_ONEDNN").is_none() && tch::utils::has_mkldnn())
}

/// Whether `x` (and a weight of the same dtype) would be convolved by oneDNN.
pub fn uses_onednn(x: &Tensor, weight: &Tensor) -> bool {
    x.device() == Device::Cpu
        && x.kind() == weight.kind()
        && x.kind() == Kind::Float
        && onednn_available()
}

/// A 2-D or 3-D convolution (by the input's rank: `[N, C, H, W]` or
/// `[N, C, T, H, W]`), without dilation or groups, as `conv2d` / `conv3d` with
/// the same arguments, through oneDNN on CPU where it can.
pub fn conv(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
) -> Result<Tensor> {
    let dims = x.dim();
    if !(dims == 4 || dims == 5) || weight.dim() != dims {
        return Err(Error::invalid(format!(
            "convolution expects a [N, C, (T,) H, W] input and a weight of the same rank, got {:?} and {:?}",
            x.size(),
            weight.size()
        )));
    }
    let spatial = dims - 2;
    if stride.len() != spatial || padding.len() != spatial {
        return Err(Error::invalid(format!(
            "convolution of rank {dims} needs {spatial} strides and paddings, got {stride:?} and {padding:?}"
        )));
    }
    let ones = vec![1i64; spatial];
    if uses_onednn(x, weight) {
        let x = x.f_contiguous()?;
        return Ok(x.f_mkldnn_convolution(weight, bias, padding, stride, ones.as_slice(), 1)?);
    }
    Ok(if spatial == 3 {
        x.f_conv3d(weight, bias, stride, padding, ones.as_slice(), 1)?
    } else {
        x.f_conv2d(weight, bias, stride, padding, ones.as_slice(), 1)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// oneDNN and LibTorch's default path agree for the shapes the VAEs use.
    #[test]
    fn onednn_matches_the_default_path() {
        tch::manual_seed(3);
        let opts = (Kind::Float, Device::Cpu);
        for (xs, ws, stride, pad) in [
            (
                vec![1, 8, 3, 12, 10],
                vec![6, 8, 3, 3, 3],
                vec![1, 1, 1],
                vec![0, 1, 1],
            ),
            (
                vec![2, 4, 4, 9, 7],
                vec![4, 4, 3, 1, 1],
                vec![2, 1, 1],
                vec![0, 0, 0],
            ),
            (vec![3, 5, 11, 13], vec![7, 5, 3, 3], vec![2, 2], vec![0, 0]),
            (vec![1, 5, 8, 8], vec![7, 5, 3, 3], vec![1, 1], vec![1, 1]),
        ] {
            let x = Tensor::randn(xs.as_slice(), opts);
            let w = Tensor::randn(ws.as_slice(), opts);
            let b = Tensor::randn([ws[0]], opts);
            let ones = vec![1i64; stride.len()];
            let want = if xs.len() == 5 {
                x.conv3d(
                    &w,
                    Some(&b),
                    stride.as_slice(),
                    pad.as_slice(),
                    ones.as_slice(),
                    1,
                )
            } else {
                x.conv2d(
                    &w,
                    Some(&b),
                    stride.as_slice(),
                    pad.as_slice(),
                    ones.as_slice(),
                    1,
                )
            };
            let got = conv(&x, &w, Some(&b), &stride, &pad).unwrap();
            assert_eq!(got.size(), want.size());
            let d = (&got - &want).abs().max().double_value(&[]);
            assert!(d < 1e-4, "{xs:?}: differs by {d}");
        }
    }

    #[test]
    fn bad_ranks_are_invalid_requests() {
        let opts = (Kind::Float, Device::Cpu);
        let x = Tensor::zeros([1, 2, 3], opts);
        let w = Tensor::zeros([1, 2, 3], opts);
        assert!(matches!(
            conv(&x, &w, None, &[1], &[0]),
            Err(Error::InvalidRequest(_))
        ));
        let x = Tensor::zeros([1, 2, 3, 3], opts);
        let w = Tensor::zeros([1, 2, 3, 3], opts);
        assert!(matches!(
            conv(&x, &w, None, &[1, 1, 1], &[0, 0]),
            Err(Error::InvalidRequest(_))
        ));
    }
}
