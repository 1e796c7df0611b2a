//! Wan's size rule: widths and heights multiples of (VAE spatial factor ×
//! patch size), frame counts `1 + k × temporal factor`; errors name the
//! nearest valid values (valid themselves: never 0, never beyond a given maximum).

use crate::pipeline::shape::SizeGrid;
use crate::{Error, Result};

/// The size rule of one Wan folder.
#[derive(Debug, Clone, Copy)]
pub struct SizeRule {
    /// VAE spatial down-sampling (8 for Wan 2.1, 16 for Wan 2.2's VAE).
    pub spatial: u32,
    /// VAE temporal down-sampling (4).
    pub temporal: u32,
    /// Transformer patch height.
    pub patch_h: u32,
    /// Transformer patch width.
    pub patch_w: u32,
}

/// The valid values (multiples of `m`, at least `m`, at most `max`) nearest
/// `v`: the one below and the one above, or one when they coincide. In u64, so
/// that sizes near `u32::MAX` cannot overflow.
fn around(v: u32, m: u32, max: Option<u64>) -> String {
    let (v, m) = (u64::from(v), u64::from(m.max(1)));
    let cap = max
        .map_or(u64::from(u32::MAX) / m * m, |x| x / m * m)
        .max(m);
    let lo = (v / m * m).clamp(m, cap);
    let hi = (v / m * m + m).clamp(m, cap);
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} or {hi}")
    }
}

impl SizeRule {
    /// The multiples widths and heights must be: VAE factor × patch.
    pub fn grid(&self) -> SizeGrid {
        SizeGrid {
            width: (self.spatial * self.patch_w).max(1),
            height: (self.spatial * self.patch_h).max(1),
        }
    }

    /// The frame count of the form `1 + k·temporal` nearest to `frames` (at least 1).
    pub fn nearest_frames(&self, frames: u32) -> u32 {
        let t = u64::from(self.temporal.max(1));
        let k = ((frames.max(1) - 1) as f64 / t as f64).round() as u64;
        // The largest count of that form that is still a u32.
        let k = k.min((u64::from(u32::MAX) - 1) / t);
        (1 + k * t) as u32
    }

    /// Checks a size and frame count, naming the nearest valid values when wrong.
    pub fn check(&self, width: u32, height: u32, frames: u32) -> Result<()> {
        self.check_within(width, height, frames, None)
    }

    /// [`SizeRule::check`] with the largest valid `[width, height, frames]`
    /// (e.g. the rotary tables' `PositionLimits`): no value beyond them is
    /// suggested.
    pub fn check_within(
        &self,
        width: u32,
        height: u32,
        frames: u32,
        max: Option<[u64; 3]>,
    ) -> Result<()> {
        let mh = self.spatial * self.patch_h;
        let mw = self.spatial * self.patch_w;
        let mut problems = Vec::new();
        if width % mw.max(1) != 0 || width == 0 {
            problems.push(format!(
                "width {width} is not a multiple of {mw} (VAE factor {} × patch {}); nearest valid: {}",
                self.spatial,
                self.patch_w,
                around(width, mw, max.map(|m| m[0]))
            ));
        }
        if height % mh.max(1) != 0 || height == 0 {
            problems.push(format!(
                "height {height} is not a multiple of {mh} (VAE factor {} × patch {}); nearest valid: {}",
                self.spatial,
                self.patch_h,
                around(height, mh, max.map(|m| m[1]))
            ));
        }
        let t = self.temporal.max(1);
        if frames == 0 || (frames - 1) % t != 0 {
            // Valid counts are 1 + k·t: nearest to `frames - 1` among multiples of t (0 allowed).
            let (f, t64) = (u64::from(frames.max(1) - 1), u64::from(t));
            let cap = max.map_or(u64::from(u32::MAX) - 1, |m| m[2].max(1) - 1) / t64 * t64;
            let lo = (f / t64 * t64).min(cap) + 1;
            let hi = (f / t64 * t64 + t64).min(cap) + 1;
            let near = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo} or {hi}")
            };
            problems.push(format!(
                "frames {frames} must be 1 + a multiple of {t}; nearest valid: {near}"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(problems.join("; ")))
        }
    }
}
