//! Causal 3-D convolution with a feature cache, for video VAEs that run a clip
//! chunk by chunk over time (Wan's `WanCausalConv3d` and its `feat_cache`).
//!
//! A causal convolution pads only the past side of the time axis (by twice the
//! configured time padding) so that output frame `t` sees input frames `≤ t`.
//! When a clip is processed in chunks, the last [`CACHE_T`] input frames of
//! the previous chunk stand in for that padding, so chunked and whole-clip
//! results agree and memory does not grow with the clip's length.
//!
//! The cache is a list of slots, one per cached layer, walked in the same
//! order on every chunk: [`FeatCache::begin_chunk`] rewinds the cursor and each
//! cached layer takes the next slot with [`FeatCache::next_slot`].

use tch::Tensor;

use crate::weights::WeightPath;
use crate::{Error, Result};

/// Frames of input kept per cached layer between chunks.
pub const CACHE_T: i64 = 2;

/// What one cached layer remembers from the previous chunk.
#[derive(Debug, Default)]
pub enum CacheSlot {
    /// The layer has not run yet (first chunk).
    #[default]
    Empty,
    /// Marker used by temporal up-samplers: "ran once, had no past to use".
    Rep,
    /// The last input frames of the previous chunk, `[B, C, ≤CACHE_T, H, W]`.
    Frames(Tensor),
}

impl CacheSlot {
    /// The cached frames, if any.
    pub fn frames(&self) -> Option<&Tensor> {
        match self {
            CacheSlot::Frames(t) => Some(t),
            _ => None,
        }
    }
}

/// Per-layer feature caches for a chunked pass over time.
#[derive(Debug, Default)]
pub struct FeatCache {
    slots: Vec<CacheSlot>,
    idx: usize,
}

impl FeatCache {
    /// An empty cache (before the first chunk).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rewinds the cursor to the first layer; call before each chunk.
    pub fn begin_chunk(&mut self) {
        self.idx = 0;
    }

    /// The slot of the next cached layer (created empty on the first chunk).
    pub fn next_slot(&mut self) -> &mut CacheSlot {
        if self.idx == self.slots.len() {
            self.slots.push(CacheSlot::Empty);
        }
        let i = self.idx;
        self.idx += 1;
        &mut self.slots[i]
    }

    /// Number of slots created so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no slot was created yet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Drops every cached tensor.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.idx = 0;
    }
}

/// The frames to cache for the next chunk from this chunk's input `x`
/// `[B, C, T, H, W]`: its last [`CACHE_T`] frames, preceded by the last
/// cached frame of `prev` when `x` holds fewer than [`CACHE_T`] frames.
/// The result is a compact copy (it does not keep `x` alive).
pub fn cache_tail(x: &Tensor, prev: &CacheSlot) -> Result<Tensor> {
    let t = x.size()[2];
    let n = t.min(CACHE_T);
    let tail = x.f_narrow(2, t - n, n)?.f_contiguous()?;
    if n < CACHE_T {
        if let CacheSlot::Frames(p) = prev {
            let pt = p.size()[2];
            let last = p.f_narrow(2, pt - 1, 1)?;
            return Ok(Tensor::f_cat(&[&last, &tail], 2)?);
        }
    }
    Ok(tail)
}

/// A 3-D convolution padded causally in time (`WanCausalConv3d`): the input is
/// padded by `2·padding_t` frames in the past (the cache first, zeros for the
/// rest) and by `padding_h` / `padding_w` on both sides in space.
#[derive(Debug)]
pub struct CausalConv3d {
    /// `[out, in, kt, kh, kw]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Option<Tensor>,
    /// Stride `(t, h, w)`.
    pub stride: [i64; 3],
    /// The configured padding `(t, h, w)`; time is applied causally, doubled.
    pub padding: [i64; 3],
}

impl CausalConv3d {
    /// Loads `p.weight` `[out, in, k…]` and `p.bias` `[out]`.
    pub fn load(
        p: &WeightPath,
        in_dim: i64,
        out_dim: i64,
        kernel: [i64; 3],
        stride: [i64; 3],
        padding: [i64; 3],
    ) -> Result<Self> {
        let weight = p.get(
            "weight",
            &[out_dim, in_dim, kernel[0], kernel[1], kernel[2]],
        )?;
        let bias = Some(p.get("bias", &[out_dim])?);
        Ok(Self {
            weight,
            bias,
            stride,
            padding,
        })
    }

    /// A cubic kernel `k` with stride 1 and padding `pad` on every axis.
    pub fn load_cube(p: &WeightPath, in_dim: i64, out_dim: i64, k: i64, pad: i64) -> Result<Self> {
        Self::load(p, in_dim, out_dim, [k, k, k], [1, 1, 1], [pad, pad, pad])
    }

    /// Frames of causal padding in time (`2·padding_t`).
    pub fn causal_pad(&self) -> i64 {
        2 * self.padding[0]
    }

    /// Applies the convolution to `x` `[B, C, T, H, W]`, with `cache` (the
    /// previous chunk's last frames) in place of as much of the past padding
    /// as it covers. The cache is ignored by convolutions without time padding.
    pub fn forward(&self, x: &Tensor, cache: Option<&Tensor>) -> Result<Tensor> {
        let pad = self.causal_pad();
        let spatial = [0, self.padding[1], self.padding[2]];
        if pad == 0 {
            return self.conv(x, spatial);
        }
        let cache = cache.filter(|c| c.size()[2] > 0);
        let have = cache.map(|c| c.size()[2]).unwrap_or(0);
        let zeros = pad - have;
        let input = match (cache, zeros) {
            (None, z) => x.f_constant_pad_nd([0, 0, 0, 0, z, 0])?,
            (Some(c), 0) => Tensor::f_cat(&[c, x], 2)?,
            (Some(c), z) if z > 0 => {
                let s = x.size();
                let zero = Tensor::f_zeros([s[0], s[1], z, s[3], s[4]], (x.kind(), x.device()))?;
                Tensor::f_cat(&[&zero, c, x], 2)?
            }
            // More cached frames than padding: keep only the most recent ones.
            (Some(c), z) => {
                let joined = Tensor::f_cat(&[c, x], 2)?;
                let t = joined.size()[2];
                joined.f_narrow(2, -z, t + z)?
            }
        };
        self.conv(&input, spatial)
    }

    /// The cached form used chunk by chunk: takes this layer's slot from
    /// `cache`, runs with the frames it holds and stores this chunk's tail.
    pub fn forward_cached(&self, x: &Tensor, cache: &mut FeatCache) -> Result<Tensor> {
        let slot = cache.next_slot();
        let tail = cache_tail(x, slot)?;
        let y = self.forward(x, slot.frames())?;
        *slot = CacheSlot::Frames(tail);
        Ok(y)
    }

    fn conv(&self, x: &Tensor, padding: [i64; 3]) -> Result<Tensor> {
        if x.size().len() != 5 {
            return Err(Error::invalid(format!(
                "causal conv3d expects [B, C, T, H, W], got {:?}",
                x.size()
            )));
        }
        super::conv::conv(x, &self.weight, self.bias.as_ref(), &self.stride, &padding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn conv(k: [i64; 3], pad: [i64; 3]) -> CausalConv3d {
        let opts = (Kind::Float, Device::Cpu);
        CausalConv3d {
            weight: Tensor::randn([5, 3, k[0], k[1], k[2]], opts),
            bias: Some(Tensor::randn([5], opts)),
            stride: [1, 1, 1],
            padding: pad,
        }
    }

    /// Chunk by chunk with the cache equals one pass over the whole clip,
    /// whatever the chunk sizes (including 1-frame chunks after the first).
    #[test]
    fn chunked_equals_whole() {
        tch::manual_seed(1);
        let x = Tensor::randn([2, 3, 9, 4, 6], (Kind::Float, Device::Cpu));
        for (k, pad) in [
            ([3, 3, 3], [1, 1, 1]),
            ([3, 1, 1], [1, 0, 0]),
            ([1, 1, 1], [0, 0, 0]),
        ] {
            let c = conv(k, pad);
            let whole = c.forward(&x, None).unwrap();
            for chunks in [vec![1, 4, 4], vec![1, 1, 1, 2, 4], vec![9]] {
                let mut cache = FeatCache::new();
                let mut outs = Vec::new();
                let mut start = 0;
                for n in chunks {
                    cache.begin_chunk();
                    outs.push(
                        c.forward_cached(&x.narrow(2, start, n), &mut cache)
                            .unwrap(),
                    );
                    start += n;
                }
                assert_eq!(cache.len(), 1);
                let joined = Tensor::cat(&outs, 2);
                let d = (&joined - &whole).abs().max().double_value(&[]);
                assert!(d < 1e-4, "kernel {k:?}: chunked differs by {d}");
            }
        }
    }

    #[test]
    fn cache_tail_keeps_two_frames() {
        let x = Tensor::arange(3, (Kind::Float, Device::Cpu)).view([1, 1, 3, 1, 1]);
        let t = cache_tail(&x, &CacheSlot::Empty).unwrap();
        assert_eq!(
            t.view([-1]).iter::<f64>().unwrap().collect::<Vec<_>>(),
            vec![1.0, 2.0]
        );
        let one = x.narrow(2, 2, 1);
        let t = cache_tail(&one, &CacheSlot::Frames(x.narrow(2, 0, 2))).unwrap();
        assert_eq!(
            t.view([-1]).iter::<f64>().unwrap().collect::<Vec<_>>(),
            vec![1.0, 2.0]
        );
        let t = cache_tail(&one, &CacheSlot::Empty).unwrap();
        assert_eq!(t.size()[2], 1);
    }
}
