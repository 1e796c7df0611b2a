//! Wan's position limits, known from its configs before anything is
//! allocated: the transformer's rotary tables cover `rope_max_seq_len`
//! positions per axis, so a request whose latent grid has more patches along
//! frames, height or width than that cannot run. [`PositionLimits::check`]
//! refuses it with [`Error::InvalidRequest`] naming the limit and the largest
//! valid size (a valid size: never 0, always a multiple the size rule takes).

use super::size::SizeRule;
use crate::{Error, Result};

/// The positions one Wan transformer can embed, per axis of the latent grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionLimits {
    /// Positions covered by the rotary tables on each axis (`rope_max_seq_len`).
    pub rope_len: u32,
    /// Transformer patch size along frames (latent frames per token).
    pub patch_t: u32,
}

impl PositionLimits {
    /// The limits of a transformer config's `rope_max_seq_len` and `patch_size`.
    pub fn new(rope_max_seq_len: i64, patch_size: &[i64]) -> Self {
        let rope_len = rope_max_seq_len.clamp(0, i64::from(u32::MAX)) as u32;
        let patch_t = patch_size
            .first()
            .copied()
            .unwrap_or(1)
            .clamp(1, i64::from(u32::MAX)) as u32;
        Self { rope_len, patch_t }
    }

    /// Latent patches along `[frames, height, width]` for a request that
    /// already passed `size` (sizes multiples of its factors, frames `1 + k·t`).
    pub fn grid(&self, size: &SizeRule, width: u32, height: u32, frames: u32) -> [u64; 3] {
        let t = u64::from(size.temporal.max(1));
        let lat_f = u64::from(frames.max(1) - 1) / t + 1;
        let f = lat_f.div_ceil(u64::from(self.patch_t.max(1)));
        let h = u64::from(height) / u64::from((size.spatial * size.patch_h).max(1));
        let w = u64::from(width) / u64::from((size.spatial * size.patch_w).max(1));
        [f, h, w]
    }

    /// The largest frame count the rotary tables cover (of the form `1 + k·t`).
    pub fn max_frames(&self, size: &SizeRule) -> u64 {
        let t = u64::from(size.temporal.max(1));
        let lat = u64::from(self.rope_len) * u64::from(self.patch_t.max(1));
        (lat.max(1) - 1) * t + 1
    }

    /// The largest width the rotary tables cover (a multiple of the size rule's).
    pub fn max_width(&self, size: &SizeRule) -> u64 {
        u64::from(self.rope_len) * u64::from(size.spatial * size.patch_w)
    }

    /// The largest height the rotary tables cover (a multiple of the size rule's).
    pub fn max_height(&self, size: &SizeRule) -> u64 {
        u64::from(self.rope_len) * u64::from(size.spatial * size.patch_h)
    }

    /// Refuses a request (already checked by `size`) whose latent grid the
    /// rotary tables do not cover, naming each axis over the limit and the
    /// largest valid value for it.
    pub fn check(&self, size: &SizeRule, width: u32, height: u32, frames: u32) -> Result<()> {
        if self.rope_len == 0 {
            return Err(Error::invalid(
                "the transformer's rope_max_seq_len is 0: it can embed no position",
            ));
        }
        let [f, h, w] = self.grid(size, width, height, frames);
        let cover = u64::from(self.rope_len);
        let mut problems = Vec::new();
        if w > cover {
            problems.push(format!(
                "width {width} makes {w} latent patches along width, but the model's rotary \
                 tables cover at most {cover} (rope_max_seq_len); largest valid width: {}",
                self.max_width(size)
            ));
        }
        if h > cover {
            problems.push(format!(
                "height {height} makes {h} latent patches along height, but the model's rotary \
                 tables cover at most {cover} (rope_max_seq_len); largest valid height: {}",
                self.max_height(size)
            ));
        }
        if f > cover {
            problems.push(format!(
                "frames {frames} make {f} latent patches along time, but the model's rotary \
                 tables cover at most {cover} (rope_max_seq_len); largest valid frame count: {}",
                self.max_frames(size)
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAN21: SizeRule = SizeRule {
        spatial: 8,
        temporal: 4,
        patch_h: 2,
        patch_w: 2,
    };

    #[test]
    fn the_defaults_fit_wan21_and_oversized_requests_name_the_largest_valid_size() {
        let lim = PositionLimits::new(1024, &[1, 2, 2]);
        assert!(lim.check(&WAN21, 832, 480, 81).is_ok());
        let tiny = PositionLimits::new(32, &[1, 2, 2]);
        assert!(tiny.check(&WAN21, 512, 512, 125).is_ok());
        let e = tiny
            .check(&WAN21, 100_000, 100_000, 5)
            .unwrap_err()
            .to_string();
        assert!(e.contains("6250 latent patches along width"), "{e}");
        assert!(e.contains("largest valid width: 512"), "{e}");
        assert!(e.contains("largest valid height: 512"), "{e}");
        assert!(!e.contains("frames"), "{e}");
        let e = tiny.check(&WAN21, 32, 32, 129).unwrap_err().to_string();
        assert!(e.contains("33 latent patches along time"), "{e}");
        assert!(e.contains("largest valid frame count: 125"), "{e}");
        // The largest valid values are themselves valid.
        assert!(WAN21.check(512, 512, 125).is_ok());
        assert!(tiny.check(&WAN21, 512, 512, 125).is_ok());
        // A temporal patch of 2 halves the time positions.
        let pt2 = PositionLimits::new(32, &[2, 2, 2]);
        assert_eq!(pt2.max_frames(&WAN21), 253);
        assert!(pt2.check(&WAN21, 32, 32, 253).is_ok());
        assert!(pt2.check(&WAN21, 32, 32, 261).is_err());
        // A degenerate config never suggests 0.
        assert!(PositionLimits::new(0, &[1, 2, 2])
            .check(&WAN21, 32, 32, 1)
            .is_err());
    }
}
