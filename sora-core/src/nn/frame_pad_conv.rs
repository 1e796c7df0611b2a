//! A 3-D convolution padded in time by repeating edge frames (LTX-Video and
//! LTX-2's `CausalConv3d`): causal runs repeat the first frame `k_t − 1`
//! times in front, non-causal runs repeat the first and the last frame
//! `(k_t − 1) / 2` times on each side. Space is padded by `k / 2` with zeros
//! or by reflection, as the checkpoint's `spatial_padding_mode` says.
//!
//! Unlike [`super::causal_conv::CausalConv3d`] (Wan, zero time padding and a
//! feature cache for chunked runs), the padding depends on the clip's first
//! frame, so this one runs over whole clips.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// How a convolution pads its spatial borders (PyTorch's `padding_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialPadding {
    /// `zeros`.
    Zeros,
    /// `reflect` (the border pixel is not repeated).
    Reflect,
    /// `replicate` (the border pixel is repeated).
    Replicate,
}

impl SpatialPadding {
    /// Parses PyTorch's `padding_mode` name; other names are [`Error::Unsupported`].
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "zeros" => Ok(Self::Zeros),
            "reflect" => Ok(Self::Reflect),
            "replicate" => Ok(Self::Replicate),
            other => Err(Error::Unsupported(format!(
                "spatial padding mode `{other}` (zeros, reflect and replicate are supported)"
            ))),
        }
    }
}

/// `Conv3d` with edge-frame time padding and configurable spatial padding;
/// weights under `<path>.weight` / `<path>.bias`.
#[derive(Debug)]
pub struct FramePadConv3d {
    /// `[out, in, kt, kh, kw]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Option<Tensor>,
    /// Stride `(t, h, w)`.
    pub stride: [i64; 3],
    /// Spatial padding mode.
    pub padding: SpatialPadding,
}

impl FramePadConv3d {
    /// Loads a cubic kernel `k` from `p.weight` `[out, in, k, k, k]` and `p.bias`.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        k: i64,
        stride: [i64; 3],
        padding: SpatialPadding,
    ) -> Result<Self> {
        Ok(Self {
            weight: p.get("weight", &[out_dim, in_dim, k, k, k])?,
            bias: Some(p.get("bias", &[out_dim])?),
            stride,
            padding,
        })
    }

    /// Output channels.
    pub fn out_dim(&self) -> i64 {
        self.weight.size()[0]
    }

    /// Applies the convolution to `x` `[B, C, T, H, W]`, `causal` choosing the
    /// time padding (see the module's doc).
    pub fn forward(&self, x: &Tensor, causal: bool) -> Result<Tensor> {
        let s = x.size();
        let w = self.weight.size();
        if s.len() != 5 || s[1] != w[1] {
            return Err(Error::invalid(format!(
                "convolution expects [B, {}, T, H, W], got {s:?}",
                w[1]
            )));
        }
        let (kt, kh, kw) = (w[2], w[3], w[4]);
        let t = s[2];
        let repeat = |at: i64, n: i64| -> Result<Tensor> {
            Ok(x.f_narrow(2, at, 1)?.f_repeat([1, 1, n, 1, 1])?)
        };
        let x = if kt <= 1 {
            x.shallow_clone()
        } else if causal {
            Tensor::f_cat(&[&repeat(0, kt - 1)?, x], 2)?
        } else {
            let n = (kt - 1) / 2;
            if n == 0 {
                x.shallow_clone()
            } else {
                Tensor::f_cat(&[&repeat(0, n)?, x, &repeat(t - 1, n)?], 2)?
            }
        };
        let (ph, pw) = (kh / 2, kw / 2);
        let (x, conv_pad) = match self.padding {
            SpatialPadding::Zeros => (x, [0, ph, pw]),
            _ if ph == 0 && pw == 0 => (x, [0, 0, 0]),
            SpatialPadding::Reflect => (x.f_reflection_pad3d([pw, pw, ph, ph, 0, 0])?, [0, 0, 0]),
            SpatialPadding::Replicate => {
                (x.f_replication_pad3d([pw, pw, ph, ph, 0, 0])?, [0, 0, 0])
            }
        };
        super::conv::conv(
            &x,
            &self.weight,
            self.bias.as_ref(),
            &self.stride,
            &conv_pad,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn conv(padding: SpatialPadding) -> FramePadConv3d {
        let opts = (Kind::Float, Device::Cpu);
        FramePadConv3d {
            weight: Tensor::randn([4, 3, 3, 3, 3], opts),
            bias: Some(Tensor::randn([4], opts)),
            stride: [1, 1, 1],
            padding,
        }
    }

    /// Explicit padding by hand, then an unpadded convolution, gives the same.
    #[test]
    fn padding_matches_explicit_construction() {
        tch::manual_seed(2);
        let x = Tensor::randn([1, 3, 5, 6, 7], (Kind::Float, Device::Cpu));
        for (mode, causal) in [
            (SpatialPadding::Zeros, true),
            (SpatialPadding::Reflect, false),
            (SpatialPadding::Replicate, true),
        ] {
            let c = conv(mode);
            let got = c.forward(&x, causal).unwrap();
            let first = x.narrow(2, 0, 1);
            let last = x.narrow(2, 4, 1);
            let xt = if causal {
                Tensor::cat(&[&first, &first, &x], 2)
            } else {
                Tensor::cat(&[&first, &x, &last], 2)
            };
            let xs = match mode {
                SpatialPadding::Zeros => xt.constant_pad_nd([1, 1, 1, 1, 0, 0]),
                SpatialPadding::Reflect => xt.reflection_pad3d([1, 1, 1, 1, 0, 0]),
                SpatialPadding::Replicate => xt.replication_pad3d([1, 1, 1, 1, 0, 0]),
            };
            let want = xs.conv3d(
                &c.weight,
                c.bias.as_ref(),
                [1, 1, 1],
                [0, 0, 0],
                [1, 1, 1],
                1,
            );
            assert_eq!(got.size(), vec![1, 4, 5, 6, 7]);
            let d = (&got - &want).abs().max().double_value(&[]);
            assert!(d < 1e-4, "{mode:?}: {d}");
        }
        assert!(matches!(
            SpatialPadding::from_name("circular"),
            Err(Error::Unsupported(_))
        ));
    }
}
