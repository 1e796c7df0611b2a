//! 1-D convolution and transposed 1-D convolution (`torch.nn.Conv1d` with
//! integer or `"same"` padding, `torch.nn.ConvTranspose1d`), loaded from a
//! checkpoint, for audio models that work on `[batch, channels, samples]`.

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// How a [`Conv1d`] pads its input with zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding1d {
    /// The same number of zeros on both sides (PyTorch's integer `padding`).
    Both(i64),
    /// PyTorch's `padding="same"`: `dilation·(kernel−1)` zeros in all, the
    /// smaller half on the left (stride 1 only).
    Same,
}

/// The shape and options of a [`Conv1d`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dSpec {
    /// Input channels.
    pub in_channels: i64,
    /// Output channels.
    pub out_channels: i64,
    /// Kernel width.
    pub kernel: i64,
    /// Stride.
    pub stride: i64,
    /// Dilation.
    pub dilation: i64,
    /// Zero padding.
    pub padding: Padding1d,
    /// Whether the layer has a `bias`.
    pub bias: bool,
}

impl Conv1dSpec {
    /// A stride-1, undilated, unpadded convolution with a bias.
    pub fn new(in_channels: i64, out_channels: i64, kernel: i64) -> Self {
        Self {
            in_channels,
            out_channels,
            kernel,
            stride: 1,
            dilation: 1,
            padding: Padding1d::Both(0),
            bias: true,
        }
    }

    /// With this padding.
    pub fn padding(mut self, padding: Padding1d) -> Self {
        self.padding = padding;
        self
    }

    /// With this dilation.
    pub fn dilation(mut self, dilation: i64) -> Self {
        self.dilation = dilation;
        self
    }

    /// With or without a bias.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// Zeros added `(left, right)`.
    pub fn pad_sides(&self) -> (i64, i64) {
        match self.padding {
            Padding1d::Both(p) => (p, p),
            Padding1d::Same => {
                let total = self.dilation * (self.kernel - 1);
                (total / 2, total - total / 2)
            }
        }
    }

    /// Output length for an input of `len` samples (may be ≤ 0 when too short).
    pub fn output_len(&self, len: i64) -> i64 {
        let (l, r) = self.pad_sides();
        (len + l + r - self.dilation * (self.kernel - 1) - 1).div_euclid(self.stride) + 1
    }
}

/// `torch.nn.Conv1d` (no groups): weight `[out, in, kernel]`, optional bias `[out]`.
#[derive(Debug)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    spec: Conv1dSpec,
}

impl Conv1d {
    /// Loads `p.weight` (and `p.bias` when `spec.bias`).
    pub fn load(p: &WeightPath, spec: Conv1dSpec) -> Result<Self> {
        if spec.kernel < 1 || spec.stride < 1 || spec.dilation < 1 {
            return Err(Error::Unsupported(format!(
                "1-D convolution with kernel {}, stride {}, dilation {}",
                spec.kernel, spec.stride, spec.dilation
            )));
        }
        if spec.padding == Padding1d::Same && spec.stride != 1 {
            return Err(Error::Unsupported(
                "padding \"same\" with a stride other than 1 (PyTorch refuses it too)".into(),
            ));
        }
        let weight = p.get(
            "weight",
            &[spec.out_channels, spec.in_channels, spec.kernel],
        )?;
        let bias = if spec.bias {
            Some(p.get("bias", &[spec.out_channels])?)
        } else {
            None
        };
        Ok(Self { weight, bias, spec })
    }

    /// The layer's shape and options.
    pub fn spec(&self) -> &Conv1dSpec {
        &self.spec
    }

    /// Convolves `x` `[batch, in_channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(x, self.spec.in_channels, "1-D convolution")?;
        let len = x.size()[2];
        if self.spec.output_len(len) < 1 {
            return Err(Error::invalid(format!(
                "1-D convolution of width {} (dilation {}) cannot run on {len} samples",
                self.spec.kernel, self.spec.dilation
            )));
        }
        let (l, r) = self.spec.pad_sides();
        let (x, pad) = if l == r {
            (x.shallow_clone(), l)
        } else {
            (x.f_constant_pad_nd([l, r])?, 0)
        };
        Ok(x.f_conv1d(
            &self.weight,
            self.bias.as_ref(),
            [self.spec.stride],
            [pad],
            [self.spec.dilation],
            1,
        )?)
    }
}

/// `torch.nn.ConvTranspose1d` (no groups, dilation or output padding): weight
/// `[in, out, kernel]`, bias `[out]`.
#[derive(Debug)]
pub struct ConvTranspose1d {
    weight: Tensor,
    bias: Option<Tensor>,
    in_channels: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
}

impl ConvTranspose1d {
    /// Loads `p.weight` `[in, out, kernel]` and `p.bias` `[out]`.
    pub fn load(
        p: &WeightPath,
        in_channels: i64,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> Result<Self> {
        if kernel < 1 || stride < 1 || padding < 0 {
            return Err(Error::Unsupported(format!(
                "transposed 1-D convolution with kernel {kernel}, stride {stride}, padding {padding}"
            )));
        }
        let weight = p.get("weight", &[in_channels, out_channels, kernel])?;
        let bias = Some(p.get("bias", &[out_channels])?);
        Ok(Self {
            weight,
            bias,
            in_channels,
            kernel,
            stride,
            padding,
        })
    }

    /// Output length for an input of `len` samples.
    pub fn output_len(&self, len: i64) -> i64 {
        (len - 1) * self.stride - 2 * self.padding + self.kernel
    }

    /// Up-samples `x` `[batch, in_channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(x, self.in_channels, "transposed 1-D convolution")?;
        if self.output_len(x.size()[2]) < 1 {
            return Err(Error::invalid(format!(
                "transposed 1-D convolution cannot run on {} samples",
                x.size()[2]
            )));
        }
        Ok(x.f_conv_transpose1d(
            &self.weight,
            self.bias.as_ref(),
            [self.stride],
            [self.padding],
            [0],
            1,
            [1],
        )?)
    }
}

/// Checks that `x` is `[batch, channels, len]` with `len ≥ 1`.
pub fn check_input(x: &Tensor, channels: i64, what: &str) -> Result<()> {
    let size = x.size();
    if size.len() != 3 || size[1] != channels || size[2] < 1 {
        return Err(Error::invalid(format!(
            "{what} expects [batch, {channels}, samples], got {size:?}"
        )));
    }
    Ok(())
}
