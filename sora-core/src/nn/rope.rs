//! Rotary position embeddings: 1-D angle tables, the 3-D (frame, height, width)
//! tables of video transformers built once per latent grid and cached, and the
//! rotation itself in the "interleaved pairs" layout (channels `2i`, `2i+1`
//! rotate together), as diffusers' `get_1d_rotary_pos_embed(use_real=True,
//! repeat_interleave_real=True)` + Wan's `apply_rotary_emb` do.
//!
//! The "split halves" layout of LTX-2 (channels `i`, `i + D/2` rotate
//! together) is [`apply_rope_split`].
//!
//! Angles are computed in f64 and the tables stored in f32, like diffusers'
//! `WanRotaryPosEmbed` (which sits in `_keep_in_fp32_modules`); the rotation
//! computes in f32 and casts back to the input's dtype.

use std::sync::Mutex;

use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// How many grids a [`Rope3d`] keeps tables for.
const CACHE_SLOTS: usize = 8;

/// Rotation angles `pos · θ^(−2i/dim)` for `i < dim/2`: `[S] → [S, dim/2]` in f64.
pub fn rope_angles_1d(dim: i64, positions: &Tensor, theta: f64) -> Result<Tensor> {
    if dim <= 0 || dim % 2 != 0 {
        return Err(Error::Unsupported(format!(
            "rotary embedding over an odd or empty number of channels ({dim})"
        )));
    }
    let device = positions.device();
    let exps = Tensor::f_arange_start_step(0, dim, 2, (Kind::Double, device))?.f_div_scalar(dim)?;
    let inv = Tensor::f_pow_scalar(theta, &exps)?.f_reciprocal()?;
    Ok(positions.f_to_kind(Kind::Double)?.f_outer(&inv)?)
}

/// cos/sin tables for a sequence, each `[1, S, 1, D/2]` f32: one value per
/// rotated channel pair, broadcastable against `[B, S, heads, D/2]`.
#[derive(Debug)]
pub struct RopeTables {
    /// `cos` of the angles.
    pub cos: Tensor,
    /// `sin` of the angles.
    pub sin: Tensor,
}

impl RopeTables {
    /// A second handle on the same tables (no copy).
    pub fn shallow_clone(&self) -> Self {
        Self {
            cos: self.cos.shallow_clone(),
            sin: self.sin.shallow_clone(),
        }
    }

    /// Sequence length the tables cover.
    pub fn seq_len(&self) -> i64 {
        self.cos.size()[1]
    }
}

/// Rotates `x` `[B, S, heads, D]` by `tables`, channel pairs `(2i, 2i+1)`:
/// `(a, b) → (a·cos − b·sin, a·sin + b·cos)`. Computed in the tables' dtype
/// (f32) and cast back to `x`'s dtype.
pub fn apply_rope_interleaved(x: &Tensor, tables: &RopeTables) -> Result<Tensor> {
    let size = x.size();
    if size.len() != 4 || size[3] % 2 != 0 || size[1] != tables.seq_len() {
        return Err(Error::invalid(format!(
            "rotary embedding: input {size:?} does not fit tables of length {}",
            tables.seq_len()
        )));
    }
    let pairs = x.f_unflatten(-1, [-1, 2])?;
    let a = pairs.f_select(-1, 0)?;
    let b = pairs.f_select(-1, 1)?;
    let even = a.f_mul(&tables.cos)?.f_sub(&b.f_mul(&tables.sin)?)?;
    let odd = a.f_mul(&tables.sin)?.f_add(&b.f_mul(&tables.cos)?)?;
    Ok(Tensor::f_stack(&[even, odd], -1)?
        .f_flatten(-2, -1)?
        .f_to_kind(x.kind())?)
}

/// Rotates `x` `[.., 2r]` in the "split halves" layout (channels `i` and
/// `i + r` rotate together, as LTX-2's `apply_split_rotary_emb` does):
/// `(a, b) → (a·cos − b·sin, b·cos + a·sin)` with `cos`/`sin` `[.., r]`
/// broadcastable to `x`'s halves. Computed in f32, cast back to `x`'s dtype.
pub fn apply_rope_split(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let size = x.size();
    let last = size.last().copied().unwrap_or(0);
    if last % 2 != 0 || cos.size().last().copied() != Some(last / 2) {
        return Err(Error::invalid(format!(
            "split rotary embedding: input {size:?} does not fit tables {:?}",
            cos.size()
        )));
    }
    let halves = x.f_unflatten(-1, [2, last / 2])?.f_to_kind(Kind::Float)?;
    let a = halves.f_select(-2, 0)?;
    let b = halves.f_select(-2, 1)?;
    let first = a.f_mul(cos)?.f_sub(&b.f_mul(sin)?)?;
    let second = b.f_mul(cos)?.f_add(&a.f_mul(sin)?)?;
    Ok(Tensor::f_stack(&[first, second], -2)?
        .f_flatten(-2, -1)?
        .f_to_kind(x.kind())?)
}

/// 3-D rotary embedding over a `(frames, height, width)` token grid: the head
/// dimension is split into three bands, each rotated by one coordinate.
/// Tables per grid are built on first use and cached.
pub struct Rope3d {
    axis_dims: [i64; 3],
    max_len: i64,
    /// Per axis, `[max_len, axis_dim/2]` f32 on the target device.
    cos: [Tensor; 3],
    sin: [Tensor; 3],
    cache: Mutex<Vec<([i64; 3], RopeTables)>>,
}

impl std::fmt::Debug for Rope3d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rope3d")
            .field("axis_dims", &self.axis_dims)
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl Rope3d {
    /// Tables for positions `0..max_len` on each axis; `axis_dims` are the
    /// channels (even) given to frames, height and width, in that order.
    pub fn new(axis_dims: [i64; 3], max_len: i64, theta: f64, device: Device) -> Result<Self> {
        if max_len <= 0 {
            return Err(Error::invalid(format!(
                "rotary embedding length must be positive, got {max_len}"
            )));
        }
        let pos = Tensor::f_arange(max_len, (Kind::Int64, Device::Cpu))?;
        let mut cos = Vec::with_capacity(3);
        let mut sin = Vec::with_capacity(3);
        for &d in &axis_dims {
            let ang = rope_angles_1d(d, &pos, theta)?;
            cos.push(ang.f_cos()?.f_to_kind(Kind::Float)?.f_to_device(device)?);
            sin.push(ang.f_sin()?.f_to_kind(Kind::Float)?.f_to_device(device)?);
        }
        let arr = |v: Vec<Tensor>| -> Result<[Tensor; 3]> {
            v.try_into()
                .map_err(|_| Error::invalid("rotary embedding needs three axes"))
        };
        Ok(Self {
            axis_dims,
            max_len,
            cos: arr(cos)?,
            sin: arr(sin)?,
            cache: Mutex::new(Vec::new()),
        })
    }

    /// Wan's split of a head dimension: height and width get `2·(d/6)` channels
    /// each, frames the rest (`WanRotaryPosEmbed`).
    pub fn wan_axis_dims(head_dim: i64) -> [i64; 3] {
        let hw = 2 * (head_dim / 6);
        [head_dim - 2 * hw, hw, hw]
    }

    /// Channels per axis.
    pub fn axis_dims(&self) -> [i64; 3] {
        self.axis_dims
    }

    /// Largest position per axis.
    pub fn max_len(&self) -> i64 {
        self.max_len
    }

    /// Tables for the grid `[frames, height, width]` (tokens ordered frame-major,
    /// then height, then width), `[1, F·H·W, 1, D/2]` each; cached per grid.
    pub fn tables(&self, grid: [i64; 3]) -> Result<RopeTables> {
        if let Some(t) = self.lookup(grid) {
            return Ok(t);
        }
        for (axis, &n) in ["frame", "height", "width"].iter().zip(grid.iter()) {
            if n <= 0 || n > self.max_len {
                return Err(Error::invalid(format!(
                    "rotary embedding: {n} latent patches along {axis}, but the model's tables \
                     cover 1..={} (rope_max_seq_len)",
                    self.max_len
                )));
            }
        }
        let [f, h, w] = grid;
        let band = |t: &Tensor, n: i64, view: [i64; 4]| -> Result<Tensor> {
            Ok(t.f_narrow(0, 0, n)?
                .f_view(view)?
                .f_expand([f, h, w, -1], false)?)
        };
        let build = |tabs: &[Tensor; 3]| -> Result<Tensor> {
            let parts = [
                band(&tabs[0], f, [f, 1, 1, -1])?,
                band(&tabs[1], h, [1, h, 1, -1])?,
                band(&tabs[2], w, [1, 1, w, -1])?,
            ];
            Ok(Tensor::f_cat(&parts, -1)?.f_reshape([1, f * h * w, 1, -1])?)
        };
        let tables = RopeTables {
            cos: build(&self.cos)?,
            sin: build(&self.sin)?,
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_SLOTS {
            cache.remove(0);
        }
        cache.push((grid, tables.shallow_clone()));
        Ok(tables)
    }

    fn lookup(&self, grid: [i64; 3]) -> Option<RopeTables> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .iter()
            .find(|(g, _)| *g == grid)
            .map(|(_, t)| t.shallow_clone())
    }

    /// Drops the cached per-grid tables.
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_halves_rotate_channel_i_with_i_plus_half() {
        // One head of 4 channels: (x0, x2) rotate by angle a0, (x1, x3) by a1.
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).view([1, 4]);
        let ang = [0.3f64, -1.1];
        let cos = Tensor::from_slice(&[ang[0].cos() as f32, ang[1].cos() as f32]).view([1, 2]);
        let sin = Tensor::from_slice(&[ang[0].sin() as f32, ang[1].sin() as f32]).view([1, 2]);
        let y: Vec<f32> =
            Vec::try_from(apply_rope_split(&x, &cos, &sin).unwrap().view([-1])).unwrap();
        let want = [
            1.0 * ang[0].cos() - 3.0 * ang[0].sin(),
            2.0 * ang[1].cos() - 4.0 * ang[1].sin(),
            3.0 * ang[0].cos() + 1.0 * ang[0].sin(),
            4.0 * ang[1].cos() + 2.0 * ang[1].sin(),
        ];
        for (g, w) in y.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-6, "{y:?} vs {want:?}");
        }
        let odd = Tensor::zeros([1, 3], (Kind::Float, Device::Cpu));
        assert!(apply_rope_split(&odd, &cos, &sin).is_err());
    }

    #[test]
    fn wan_split_matches_diffusers() {
        assert_eq!(Rope3d::wan_axis_dims(128), [44, 42, 42]);
        assert_eq!(Rope3d::wan_axis_dims(8), [4, 2, 2]);
    }

    #[test]
    fn position_zero_is_identity_and_cache_is_reused() {
        let rope = Rope3d::new([4, 2, 2], 16, 10000.0, Device::Cpu).unwrap();
        let t = rope.tables([2, 3, 4]).unwrap();
        assert_eq!(t.cos.size(), vec![1, 24, 1, 4]);
        let x = Tensor::randn([1, 24, 2, 8], (Kind::Float, Device::Cpu));
        let y = apply_rope_interleaved(&x, &t).unwrap();
        let d = (y.get(0).get(0) - x.get(0).get(0))
            .abs()
            .max()
            .double_value(&[]);
        assert!(d < 1e-7);
        // Rotation keeps norms.
        let n = (y.norm() - x.norm()).abs().double_value(&[]);
        assert!(n < 1e-3);
        let again = rope.tables([2, 3, 4]).unwrap();
        assert_eq!(again.cos.data_ptr(), t.cos.data_ptr());
        assert!(matches!(
            rope.tables([17, 1, 1]),
            Err(Error::InvalidRequest(_))
        ));
    }
}
