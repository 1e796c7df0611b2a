//! Windowed-sinc resampling of 1-D signals by an integer ratio, as BigVGAN-style
//! vocoders do it (diffusers' `UpSample1d` / `DownSample1d` in the LTX-2
//! vocoder): a Kaiser-windowed sinc low-pass for anti-aliased activations, and
//! a Hann-windowed sinc interpolator for sample-rate conversion. Edges are
//! padded by replicating the first / last sample. Filters are built with the
//! same LibTorch operations, in the same order, as the reference, so that they
//! agree to the bit in float32.

use std::f64::consts::PI;

use tch::{Device, Kind, Tensor};

use crate::weights::WeightPath;
use crate::{Error, Result};

/// A Kaiser-windowed sinc low-pass filter of `kernel_size` taps with normalised
/// `cutoff` (0 < cutoff ≤ 0.5) whose Kaiser `beta` follows from the transition
/// `half_width`; taps sum to one. float32 on the CPU, `[kernel_size]`.
pub fn kaiser_sinc_filter(cutoff: f64, half_width: f64, kernel_size: i64) -> Result<Tensor> {
    if kernel_size < 1 {
        return Err(Error::Unsupported(format!(
            "a low-pass filter of {kernel_size} taps"
        )));
    }
    let opts = (Kind::Float, Device::Cpu);
    let half = kernel_size / 2;
    let amplitude = 2.285 * (half - 1) as f64 * PI * (4.0 * half_width) + 7.95;
    let beta = if amplitude > 50.0 {
        0.1102 * (amplitude - 8.7)
    } else if amplitude >= 21.0 {
        0.5842 * (amplitude - 21.0).powf(0.4) + 0.07886 * (amplitude - 21.0)
    } else {
        0.0
    };
    let window = Tensor::f_kaiser_window_beta(kernel_size, false, beta, opts)?;
    let time = if kernel_size % 2 == 0 {
        Tensor::f_arange_start(-half, half, (Kind::Int64, Device::Cpu))?.f_add_scalar(0.5)?
    } else {
        Tensor::f_arange(kernel_size, (Kind::Int64, Device::Cpu))?
            .f_sub_scalar(half)?
            .f_to_kind(Kind::Float)?
    };
    if cutoff == 0.0 {
        return Ok(time.f_zeros_like()?);
    }
    let time = time.f_mul_scalar(2.0 * cutoff)?;
    let sinc_nonzero = time
        .f_mul_scalar(PI)?
        .f_sin()?
        .f_div_scalar(PI)?
        .f_div(&time)?;
    let sinc = sinc_nonzero.f_where_self(&time.f_ne(0.0)?, &Tensor::f_ones_like(&time)?)?;
    let filter = window.f_mul_scalar(2.0 * cutoff)?.f_mul(&sinc)?;
    Ok(filter.f_div(&filter.f_sum(Kind::Float)?)?)
}

/// Reads a stored filter `p.filter` `[1, 1, taps]` when the checkpoint has one
/// (diffusers saves these buffers and loads them back), else builds it; in the
/// store's dtype and on its device.
fn stored_or_built(
    p: &WeightPath,
    taps: i64,
    build: impl Fn() -> Result<Tensor>,
) -> Result<Tensor> {
    if p.contains("filter") {
        return p.get("filter", &[1, 1, taps]);
    }
    Ok(build()?
        .f_view([1, 1, taps])?
        .f_to_device(p.device())?
        .f_to_kind(p.kind())?)
}

/// The window of an [`UpSample1d`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpWindow {
    /// Kaiser-windowed sinc of this many taps (anti-aliased activations).
    Kaiser(i64),
    /// Hann-windowed sinc, width 7 input samples per side (resampling).
    Hann,
}

/// Up-sampling by an integer ratio: replicate padding, a transposed
/// convolution with a sinc filter (one per channel), gain `ratio`, and a crop.
#[derive(Debug)]
pub struct UpSample1d {
    ratio: i64,
    /// `[1, 1, taps]`.
    filter: Tensor,
    /// Input samples replicated on each side.
    pad: i64,
    /// Output samples cropped on the left / right.
    crop_left: i64,
    crop_right: i64,
}

impl UpSample1d {
    /// Builds the filter of `window` for `ratio` (never read from weights: the
    /// reference keeps the Hann resampler's filter out of its checkpoint).
    pub fn new(ratio: i64, window: UpWindow, device: Device, kind: Kind) -> Result<Self> {
        let (filter, pad, crop_left, crop_right) = Self::design(ratio, window)?;
        let filter = filter.f_to_device(device)?.f_to_kind(kind)?;
        Ok(Self {
            ratio,
            filter,
            pad,
            crop_left,
            crop_right,
        })
    }

    /// A Kaiser up-sampler whose filter is `p.filter` when stored, else built.
    pub fn load_kaiser(p: &WeightPath, ratio: i64, taps: i64) -> Result<Self> {
        let (built, pad, crop_left, crop_right) = Self::design(ratio, UpWindow::Kaiser(taps))?;
        let filter = stored_or_built(p, taps, || Ok(built.shallow_clone()))?;
        Ok(Self {
            ratio,
            filter,
            pad,
            crop_left,
            crop_right,
        })
    }

    /// The filter `[1, 1, taps]` (f32, CPU), the padding and the crops.
    fn design(ratio: i64, window: UpWindow) -> Result<(Tensor, i64, i64, i64)> {
        if ratio < 1 {
            return Err(Error::Unsupported(format!("up-sampling by {ratio}")));
        }
        let (filter, pad, crop_left, crop_right) = match window {
            UpWindow::Kaiser(taps) => {
                let pad = taps / ratio - 1;
                let filter = kaiser_sinc_filter(0.5 / ratio as f64, 0.6 / ratio as f64, taps)?;
                (
                    filter,
                    pad,
                    pad * ratio + (taps - ratio) / 2,
                    pad * ratio + (taps - ratio + 1) / 2,
                )
            }
            UpWindow::Hann => {
                let rolloff: f64 = 0.99;
                let lowpass_width: f64 = 6.0;
                let width = (lowpass_width / rolloff).ceil() as i64;
                let taps = 2 * width * ratio + 1;
                let time = Tensor::f_arange(taps, (Kind::Int64, Device::Cpu))?
                    .f_div_scalar(ratio)?
                    .f_sub_scalar(width)?
                    .f_mul_scalar(rolloff)?;
                let window = time
                    .f_clamp(-lowpass_width, lowpass_width)?
                    .f_mul_scalar(PI)?
                    .f_div_scalar(lowpass_width)?
                    .f_div_scalar(2.0)?
                    .f_cos()?
                    .f_square()?;
                let filter = time
                    .f_sinc()?
                    .f_mul(&window)?
                    .f_mul_scalar(rolloff)?
                    .f_div_scalar(ratio)?;
                (filter, width, 2 * width * ratio, taps - ratio)
            }
        };
        if pad < 0 || crop_right < 1 {
            return Err(Error::Unsupported(format!(
                "up-sampling by {ratio} with a {window:?} filter (the reference's crop would be empty)"
            )));
        }
        let taps = filter.size()[0];
        Ok((filter.f_view([1, 1, taps])?, pad, crop_left, crop_right))
    }

    /// The ratio.
    pub fn ratio(&self) -> i64 {
        self.ratio
    }

    /// Output length for an input of `len` samples.
    pub fn output_len(&self, len: i64) -> i64 {
        let taps = self.filter.size()[2];
        (len + 2 * self.pad - 1) * self.ratio + taps - self.crop_left - self.crop_right
    }

    /// Up-samples every channel of `x` `[batch, channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let channels = check_signal(x, "up-sampling")?;
        let filter = self
            .filter
            .f_to_device(x.device())?
            .f_to_kind(x.kind())?
            .f_expand([channels, -1, -1], false)?;
        let padded = x.f_replication_pad1d([self.pad, self.pad])?;
        let up = padded
            .f_conv_transpose1d(
                &filter,
                None::<Tensor>,
                [self.ratio],
                [0],
                [0],
                channels,
                [1],
            )?
            .f_mul_scalar(self.ratio)?;
        let len = up.size()[2] - self.crop_left - self.crop_right;
        if len < 1 {
            return Err(Error::invalid(format!(
                "up-sampling by {} cannot run on {} samples",
                self.ratio,
                x.size()[2]
            )));
        }
        Ok(up.f_narrow(2, self.crop_left, len)?)
    }
}

/// Anti-aliased down-sampling by an integer ratio: replicate padding, then a
/// strided convolution with a Kaiser-windowed sinc low-pass (one per channel).
#[derive(Debug)]
pub struct DownSample1d {
    ratio: i64,
    /// `[1, 1, taps]`.
    filter: Tensor,
    pad_left: i64,
    pad_right: i64,
}

impl DownSample1d {
    /// A down-sampler whose filter is `p.filter` when stored, else built.
    pub fn load_kaiser(p: &WeightPath, ratio: i64, taps: i64) -> Result<Self> {
        if ratio < 1 || taps < 1 {
            return Err(Error::Unsupported(format!(
                "down-sampling by {ratio} with {taps} taps"
            )));
        }
        let filter = stored_or_built(p, taps, || {
            kaiser_sinc_filter(0.5 / ratio as f64, 0.6 / ratio as f64, taps)
        })?;
        Ok(Self {
            ratio,
            filter,
            pad_left: taps / 2 + taps % 2 - 1,
            pad_right: taps / 2,
        })
    }

    /// Output length for an input of `len` samples.
    pub fn output_len(&self, len: i64) -> i64 {
        let taps = self.filter.size()[2];
        (len + self.pad_left + self.pad_right - taps).div_euclid(self.ratio) + 1
    }

    /// Low-passes and decimates every channel of `x` `[batch, channels, len]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let channels = check_signal(x, "down-sampling")?;
        if self.output_len(x.size()[2]) < 1 {
            return Err(Error::invalid(format!(
                "down-sampling cannot run on {} samples",
                x.size()[2]
            )));
        }
        let filter = self
            .filter
            .f_to_device(x.device())?
            .f_to_kind(x.kind())?
            .f_expand([channels, -1, -1], false)?;
        let padded = x.f_replication_pad1d([self.pad_left, self.pad_right])?;
        Ok(padded.f_conv1d(&filter, None::<Tensor>, [self.ratio], [0], [1], channels)?)
    }
}

/// The channel count of a `[batch, channels, len]` signal with `len ≥ 1`.
fn check_signal(x: &Tensor, what: &str) -> Result<i64> {
    let size = x.size();
    if size.len() != 3 || size[2] < 1 {
        return Err(Error::invalid(format!(
            "{what} expects [batch, channels, samples], got {size:?}"
        )));
    }
    Ok(size[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaiser_taps_sum_to_one_and_are_symmetric() {
        for taps in [6, 7, 12] {
            let f = kaiser_sinc_filter(0.25, 0.3, taps).unwrap();
            assert!((f.sum(Kind::Double).double_value(&[]) - 1.0).abs() < 1e-6);
            let d = (&f - f.flip([0])).abs().max().double_value(&[]);
            assert!(d < 1e-7, "{taps} taps: asymmetric by {d}");
        }
    }

    #[test]
    fn lengths_follow_the_ratio() {
        let x = Tensor::randn([2, 3, 10], (Kind::Float, Device::Cpu));
        for (ratio, window) in [
            (2, UpWindow::Kaiser(12)),
            (3, UpWindow::Hann),
            (2, UpWindow::Hann),
        ] {
            let up = UpSample1d::new(ratio, window, Device::Cpu, Kind::Float).unwrap();
            let y = up.forward(&x).unwrap();
            assert_eq!(y.size(), [2, 3, 10 * ratio]);
            assert_eq!(up.output_len(10), 10 * ratio);
        }
    }

    #[test]
    fn hann_upsampling_keeps_a_constant() {
        let x = Tensor::full([1, 1, 16], 0.5, (Kind::Float, Device::Cpu));
        let up = UpSample1d::new(3, UpWindow::Hann, Device::Cpu, Kind::Float).unwrap();
        let y = up.forward(&x).unwrap();
        let err = (y - 0.5).abs().max().double_value(&[]);
        assert!(err < 2e-2, "constant drifts by {err}");
    }
}

/// Greatest common divisor.
fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Sample-rate conversion of waveforms `[..., N]` (f32) from `from` Hz to
/// `to` Hz by any rational ratio, with the band-limited Hann-windowed sinc
/// interpolation of `torchaudio.functional.resample`'s defaults (6 zero
/// crossings, roll-off 0.99, zero padding at the ends):
/// `⌈N · to / from⌉` samples out.
pub fn resample_hz(x: &Tensor, from: i64, to: i64) -> Result<Tensor> {
    if from < 1 || to < 1 {
        return Err(Error::invalid(format!(
            "resampling needs positive rates, got {from} Hz → {to} Hz"
        )));
    }
    if from == to {
        return Ok(x.shallow_clone());
    }
    let g = gcd(from, to);
    let (orig, new) = (from / g, to / g);
    let zero_crossings = 6.0;
    let base = orig.min(new) as f64 * 0.99;
    let width = (zero_crossings * orig as f64 / base).ceil() as i64;
    let dev = x.device();
    let opts = (Kind::Float, Device::Cpu);
    // Tap positions of each of the `new` output phases, in input samples.
    let idx = Tensor::f_arange_start(-width, width + orig, opts)?.f_div_scalar(orig as f64)?;
    let phase = Tensor::f_arange_start_step(0, -new, -1, opts)?
        .f_div_scalar(new as f64)?
        .f_unsqueeze(1)?;
    let t = phase
        .f_add(&idx.f_unsqueeze(0)?)?
        .f_mul_scalar(base)?
        .f_clamp(-zero_crossings, zero_crossings)?;
    let window = t
        .f_mul_scalar(PI / zero_crossings / 2.0)?
        .f_cos()?
        .f_pow_tensor_scalar(2)?;
    let t = t.f_mul_scalar(PI)?;
    let sinc = t.f_sin()?.f_div(&t)?;
    let sinc = sinc.f_where_self(&t.f_ne(0.0)?, &Tensor::f_ones_like(&t)?)?;
    let kernels = sinc
        .f_mul(&window)?
        .f_mul_scalar(base / orig as f64)?
        .f_unsqueeze(1)?
        .f_to_device(dev)?;
    let shape = x.size();
    let n = *shape
        .last()
        .ok_or_else(|| Error::invalid("resampling a 0-d tensor"))?;
    let lead: Vec<i64> = shape[..shape.len() - 1].to_vec();
    let rows: i64 = lead.iter().product();
    let flat = x
        .f_to_kind(Kind::Float)?
        .f_reshape([rows, 1, n])?
        .f_constant_pad_nd([width, width + orig])?;
    let y = flat.f_conv1d(&kernels, None::<Tensor>, [orig], [0], [1], 1)?;
    let out_len = (new * n + orig - 1) / orig;
    let y = y.f_transpose(1, 2)?.f_reshape([rows, -1])?;
    let keep = out_len.min(y.size()[1]);
    let mut out_shape = lead;
    out_shape.push(keep);
    Ok(y.f_narrow(1, 0, keep)?.f_reshape(out_shape.as_slice())?)
}

#[cfg(test)]
mod resample_hz_tests {
    use super::*;

    #[test]
    fn a_tone_survives_rational_resampling() {
        let (from, to) = (24000i64, 16000i64);
        let n = 2400;
        let t = Tensor::arange(n, (Kind::Float, Device::Cpu)) / from as f64;
        let x = (t * (2.0 * PI * 440.0)).sin().view([1, n]);
        let y = resample_hz(&x, from, to).unwrap();
        assert_eq!(y.size(), [1, 1600]);
        let t2 = Tensor::arange(1600, (Kind::Float, Device::Cpu)) / to as f64;
        let want = (t2 * (2.0 * PI * 440.0)).sin();
        // Away from the zero-padded ends the tone is reproduced.
        let err = (y.get(0).narrow(0, 100, 1400) - want.narrow(0, 100, 1400))
            .abs()
            .max();
        assert!(f64::try_from(err).unwrap() < 0.01);
        assert!(resample_hz(&x, 0, 16000).is_err());
        assert_eq!(resample_hz(&x, 8, 8).unwrap().size(), [1, n]);
    }
}
