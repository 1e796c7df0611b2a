//! Resampling in the Wan VAE: `WanResample` (2× up/down in space, optionally in
//! time through a cached causal convolution) and the parameter-free shortcuts
//! of the Wan 2.2 residual blocks, `AvgDown3D` and `DupUp3D`.

use tch::{Kind, Tensor};

use super::blocks::Conv2d;
use crate::nn::causal_conv::{cache_tail, CacheSlot, CausalConv3d, FeatCache, CACHE_T};
use crate::weights::WeightPath;
use crate::{Error, Result};

/// The four modes of `WanResample`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResampleMode {
    /// Nearest 2× in space, then a 3×3 convolution.
    Up2d,
    /// As `Up2d`, preceded by a causal time convolution that doubles the frames.
    Up3d,
    /// Zero-pad right/bottom by one, 3×3 convolution with stride 2.
    Down2d,
    /// As `Down2d`, followed by a stride-2 causal time convolution.
    Down3d,
}

/// `WanResample`.
#[derive(Debug)]
pub struct Resample {
    mode: ResampleMode,
    conv: Conv2d,
    time_conv: Option<CausalConv3d>,
}

impl Resample {
    /// Loads `resample.1` and, for the 3-D modes, `time_conv`. `up_out` is the
    /// up-samplers' output channels (`dim / 2` in Wan 2.1, `dim` in Wan 2.2).
    pub fn load(p: &WeightPath, dim: i64, mode: ResampleMode, up_out: i64) -> Result<Self> {
        let rp = p.pp("resample").pp(1);
        let tp = p.pp("time_conv");
        let (conv, time_conv) = match mode {
            ResampleMode::Up2d => (Conv2d::load(&rp, dim, up_out, 3, 1, 1)?, None),
            ResampleMode::Up3d => (
                Conv2d::load(&rp, dim, up_out, 3, 1, 1)?,
                Some(CausalConv3d::load(
                    &tp,
                    dim,
                    2 * dim,
                    [3, 1, 1],
                    [1, 1, 1],
                    [1, 0, 0],
                )?),
            ),
            ResampleMode::Down2d => (Conv2d::load(&rp, dim, dim, 3, 2, 0)?, None),
            ResampleMode::Down3d => (
                Conv2d::load(&rp, dim, dim, 3, 2, 0)?,
                Some(CausalConv3d::load(
                    &tp,
                    dim,
                    dim,
                    [3, 1, 1],
                    [2, 1, 1],
                    [0, 0, 0],
                )?),
            ),
        };
        Ok(Self {
            mode,
            conv,
            time_conv,
        })
    }

    fn time_conv(&self) -> Result<&CausalConv3d> {
        self.time_conv
            .as_ref()
            .ok_or_else(|| Error::Unsupported("resample without a time convolution".into()))
    }

    /// Runs one chunk `[B, C, T, H, W]` with the feature cache.
    pub fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let mut x = x.shallow_clone();
        if self.mode == ResampleMode::Up3d {
            x = self.double_time(&x, cache)?;
        }
        let s = x.size();
        let (b, c, t, h, w) = (s[0], s[1], s[2], s[3], s[4]);
        let frames = x.f_permute([0, 2, 1, 3, 4])?.f_reshape([b * t, c, h, w])?;
        let y = match self.mode {
            ResampleMode::Up2d | ResampleMode::Up3d => {
                // Exact 2× nearest: the same in any dtype, so no round trip through f32.
                let up = frames.f_internal_upsample_nearest_exact2d(
                    [2 * h, 2 * w],
                    Some(2.0),
                    Some(2.0),
                )?;
                self.conv.forward(&up)?
            }
            ResampleMode::Down2d | ResampleMode::Down3d => {
                let padded = frames.f_constant_pad_nd([0, 1, 0, 1])?;
                self.conv.forward(&padded)?
            }
        };
        let ys = y.size();
        let y = y
            .f_view([b, t, ys[1], ys[2], ys[3]])?
            .f_permute([0, 2, 1, 3, 4])?;
        if self.mode == ResampleMode::Down3d {
            return self.halve_time(&y, cache);
        }
        Ok(y)
    }

    /// `upsample3d`: the first chunk passes unchanged (slot marked `Rep`); later
    /// chunks go through the time convolution whose `2C` outputs interleave
    /// into twice the frames.
    fn double_time(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let slot = cache.next_slot();
        if matches!(slot, CacheSlot::Empty) {
            *slot = CacheSlot::Rep;
            return Ok(x.shallow_clone());
        }
        let mut tail = cache_tail(x, slot)?;
        if tail.size()[2] < CACHE_T && matches!(slot, CacheSlot::Rep) {
            let zeros = tail.f_zeros_like()?;
            tail = Tensor::f_cat(&[&zeros, &tail], 2)?;
        }
        let y = self.time_conv()?.forward(x, slot.frames())?;
        *slot = CacheSlot::Frames(tail);
        let s = x.size();
        let (b, c, t, h, w) = (s[0], s[1], s[2], s[3], s[4]);
        // [B, 2, C, T, H, W] → [B, C, T, 2, H, W] → [B, C, 2T, H, W]
        Ok(y.f_reshape([b, 2, c, t, h, w])?
            .f_permute([0, 2, 3, 1, 4, 5])?
            .f_reshape([b, c, 2 * t, h, w])?)
    }

    /// `downsample3d`: the first chunk is stored whole and passes unchanged;
    /// later chunks are prefixed with the last stored frame and convolved with
    /// stride 2 in time.
    fn halve_time(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let slot = cache.next_slot();
        match slot {
            CacheSlot::Frames(prev) => {
                let t = x.size()[2];
                let tail = x.f_narrow(2, t - 1, 1)?.f_contiguous()?;
                let pt = prev.size()[2];
                let joined = Tensor::f_cat(&[&prev.f_narrow(2, pt - 1, 1)?, x], 2)?;
                let y = self.time_conv()?.forward(&joined, None)?;
                *slot = CacheSlot::Frames(tail);
                Ok(y)
            }
            _ => {
                *slot = CacheSlot::Frames(x.f_contiguous()?);
                Ok(x.shallow_clone())
            }
        }
    }
}

/// `AvgDown3D`: folds `factor_t × factor_s × factor_s` neighbourhoods into
/// channels and averages channel groups down to `out` channels (time padded
/// with zeros in front to a multiple of `factor_t`).
#[derive(Debug, Clone, Copy)]
pub struct AvgDown3d {
    out: i64,
    factor_t: i64,
    factor_s: i64,
    group: i64,
}

impl AvgDown3d {
    /// A shortcut from `in_dim` to `out_dim` channels; an error when
    /// `in_dim · factor` is not a multiple of `out_dim`.
    pub fn new(in_dim: i64, out_dim: i64, factor_t: i64, factor_s: i64) -> Result<Self> {
        let factor = factor_t * factor_s * factor_s;
        if (in_dim * factor) % out_dim != 0 {
            return Err(Error::Unsupported(format!(
                "AvgDown3D: in_channels ({in_dim}) × factor ({factor}) is not a multiple of out_channels ({out_dim})"
            )));
        }
        Ok(Self {
            out: out_dim,
            factor_t,
            factor_s,
            group: in_dim * factor / out_dim,
        })
    }

    /// Applies the shortcut to `[B, C, T, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let t0 = x.size()[2];
        let pad_t = (ft - t0 % ft) % ft;
        let x = if pad_t > 0 {
            x.f_constant_pad_nd([0, 0, 0, 0, pad_t, 0])?
        } else {
            x.shallow_clone()
        };
        let s = x.size();
        let (b, c, t, h, w) = (s[0], s[1], s[2], s[3], s[4]);
        if h % fs != 0 || w % fs != 0 {
            return Err(Error::invalid(format!(
                "AvgDown3D: height {h} and width {w} must be multiples of {fs}"
            )));
        }
        let (t2, h2, w2) = (t / ft, h / fs, w / fs);
        Ok(x.f_reshape([b, c, t2, ft, h2, fs, w2, fs])?
            .f_permute([0, 1, 3, 5, 7, 2, 4, 6])?
            .f_contiguous()?
            .f_view([b, self.out, self.group, t2, h2, w2])?
            .f_mean_dim(&[2i64][..], false, None::<Kind>)?)
    }
}

/// `DupUp3D`: repeats channels and unfolds them into `factor_t × factor_s ×
/// factor_s` neighbourhoods (the first chunk keeps only the last time step).
#[derive(Debug, Clone, Copy)]
pub struct DupUp3d {
    out: i64,
    factor_t: i64,
    factor_s: i64,
    repeats: i64,
}

impl DupUp3d {
    /// A shortcut from `in_dim` to `out_dim` channels; an error when
    /// `out_dim · factor` is not a multiple of `in_dim`.
    pub fn new(in_dim: i64, out_dim: i64, factor_t: i64, factor_s: i64) -> Result<Self> {
        let factor = factor_t * factor_s * factor_s;
        if (out_dim * factor) % in_dim != 0 {
            return Err(Error::Unsupported(format!(
                "DupUp3D: out_channels ({out_dim}) × factor ({factor}) is not a multiple of in_channels ({in_dim})"
            )));
        }
        Ok(Self {
            out: out_dim,
            factor_t,
            factor_s,
            repeats: out_dim * factor / in_dim,
        })
    }

    /// The shortcut of `x` `[B, C, t, h, w]` as a strided 8-D view
    /// `[B, out, t, ft, h, fs, w, fs]` without copying, when the repeated
    /// channels line up with trailing neighbourhood axes (the case in every
    /// Wan 2.2 checkpoint); `None` otherwise.
    fn strided_view(&self, x: &Tensor) -> Result<Option<Tensor>> {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let axes = [ft, fs, fs];
        // Find k such that the axes from k on account exactly for the repeats.
        let Some(k) = (0..=3).find(|&k| axes[k..].iter().product::<i64>() == self.repeats) else {
            return Ok(None);
        };
        let s = x.size();
        let st = x.stride();
        let (b, t, h, w) = (s[0], s[2], s[3], s[4]);
        let sc = st[1];
        // Strides of the real (channel-carrying) axes before k; zero after.
        let mut ax_stride = [0i64; 3];
        let mut acc = sc;
        for d in (0..k).rev() {
            ax_stride[d] = acc;
            acc *= axes[d];
        }
        let so = acc; // stride of the output channel
        let view = x.f_as_strided(
            [b, self.out, t, ft, h, fs, w, fs],
            [
                st[0],
                so,
                st[2],
                ax_stride[0],
                st[3],
                ax_stride[1],
                st[4],
                ax_stride[2],
            ],
            x.storage_offset(),
        )?;
        Ok(Some(view))
    }

    /// `main + DupUp3D(shortcut)`, the end of a Wan 2.2 up block. `main` is
    /// `[B, out, T', H·fs, W·fs]` where `T' = t·ft`, or `1` for the first chunk
    /// of a time-doubling block with `t = 1`.
    pub fn add_to(&self, main: &Tensor, shortcut: &Tensor, first_chunk: bool) -> Result<Tensor> {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let s = shortcut.size();
        let (b, t, h, w) = (s[0], s[2], s[3], s[4]);
        let trim = first_chunk && ft > 1;
        if !trim || t == 1 {
            if let Some(view) = self.strided_view(shortcut)? {
                let (view, tt) = if trim {
                    (view.f_narrow(3, ft - 1, 1)?, 1)
                } else {
                    (view, ft)
                };
                let m = main.f_view(&[b, self.out, t, tt, h, fs, w, fs][..])?;
                let sum = m.f_add(&view)?;
                let ms = main.size();
                return Ok(sum.f_view([b, self.out, ms[2], ms[3], ms[4]])?);
            }
        }
        let dup = self.forward(shortcut, first_chunk)?;
        Ok(main.f_add(&dup)?)
    }

    /// The shortcut materialised, as diffusers computes it.
    pub fn forward(&self, x: &Tensor, first_chunk: bool) -> Result<Tensor> {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let y = x.f_repeat_interleave_self_int(self.repeats, 1, None::<i64>)?;
        let s = y.size();
        let (b, t, h, w) = (s[0], s[2], s[3], s[4]);
        let y = y
            .f_view(&[b, self.out, ft, fs, fs, t, h, w][..])?
            .f_permute([0, 1, 5, 2, 6, 3, 7, 4])?
            .f_contiguous()?
            .f_view([b, self.out, t * ft, h * fs, w * fs])?;
        if first_chunk && ft > 1 {
            Ok(y.f_narrow(2, ft - 1, t * ft - (ft - 1))?)
        } else {
            Ok(y)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// The strided (copy-free) shortcut add equals diffusers' materialised one,
    /// for every repeat layout, first chunk or not, contiguous input or not.
    #[test]
    fn dup_up_add_matches_materialised() {
        tch::manual_seed(0);
        let opts = (Kind::Float, Device::Cpu);
        // (in, out, factor_t): repeats 8, 4, 2, 1; 16, 32, 3 have no strided layout.
        let cases = [
            (4, 4, 2),
            (8, 4, 2),
            (8, 4, 1),
            (8, 2, 1),
            (4, 8, 2),
            (2, 8, 2),
            (4, 3, 1),
        ];
        for (cin, cout, ft) in cases {
            let d = DupUp3d::new(cin, cout, ft, 2).unwrap();
            for t in [1i64, 2] {
                for first in [false, true] {
                    for permuted in [false, true] {
                        let x = if permuted {
                            Tensor::randn([2, t, cin, 3, 5], opts).permute([0, 2, 1, 3, 4])
                        } else {
                            Tensor::randn([2, cin, t, 3, 5], opts)
                        };
                        let want_t = if first && ft > 1 {
                            t * ft - (ft - 1)
                        } else {
                            t * ft
                        };
                        let main = Tensor::randn([2, cout, want_t, 6, 10], opts);
                        let want = &main + d.forward(&x, first).unwrap();
                        let got = d.add_to(&main, &x, first).unwrap();
                        assert_eq!(got.size(), want.size());
                        assert_eq!(
                            max_diff(&got, &want),
                            0.0,
                            "in {cin} out {cout} ft {ft} t {t} first {first}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn avg_down_shapes() {
        let d = AvgDown3d::new(4, 8, 2, 2).unwrap();
        let x = Tensor::ones([1, 4, 1, 4, 6], (Kind::Float, Device::Cpu));
        let y = d.forward(&x).unwrap();
        assert_eq!(y.size(), vec![1, 8, 1, 2, 3]);
        // One real frame averaged with one zero-padded frame.
        assert!((y.mean(Kind::Float).double_value(&[]) - 0.5).abs() < 1e-6);
        assert!(AvgDown3d::new(3, 8, 1, 1).is_err());
    }
}
