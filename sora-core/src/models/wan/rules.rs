//! Wan's size rules: width and height multiples of (VAE spatial factor × patch
//! size), frame counts of the form `1 + k × temporal factor`. Errors name the
//! nearest valid values.

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

fn around(v: u32, m: u32) -> (u32, u32) {
    let lo = v / m * m;
    (lo.max(m), lo + m)
}

impl SizeRule {
    /// The frame count of the form `1 + k·temporal` nearest to `frames` (at least 1).
    pub fn nearest_frames(&self, frames: u32) -> u32 {
        let t = self.temporal.max(1);
        let k = ((frames.max(1) - 1) as f64 / t as f64).round() as u32;
        1 + k * t
    }

    /// Checks a size and frame count, naming the nearest valid values when wrong.
    pub fn check(&self, width: u32, height: u32, frames: u32) -> Result<()> {
        let mh = self.spatial * self.patch_h;
        let mw = self.spatial * self.patch_w;
        let mut problems = Vec::new();
        if width % mw != 0 || width == 0 {
            let (a, b) = around(width, mw);
            problems.push(format!(
                "width {width} is not a multiple of {mw} (VAE factor {} × patch {}); nearest valid: {a} or {b}",
                self.spatial, self.patch_w
            ));
        }
        if height % mh != 0 || height == 0 {
            let (a, b) = around(height, mh);
            problems.push(format!(
                "height {height} is not a multiple of {mh} (VAE factor {} × patch {}); nearest valid: {a} or {b}",
                self.spatial, self.patch_h
            ));
        }
        let t = self.temporal.max(1);
        if frames == 0 || (frames - 1) % t != 0 {
            let lo = if frames == 0 {
                1
            } else {
                (frames - 1) / t * t + 1
            };
            problems.push(format!(
                "frames {frames} must be 1 + a multiple of {t}; nearest valid: {lo} or {}",
                lo + t
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
    fn accepts_the_defaults_and_names_nearest_values() {
        assert!(WAN21.check(832, 480, 81).is_ok());
        let e = WAN21.check(830, 480, 80).unwrap_err().to_string();
        assert!(e.contains("width 830") && e.contains("816 or 832"), "{e}");
        assert!(e.contains("frames 80") && e.contains("77 or 81"), "{e}");
        assert_eq!(WAN21.nearest_frames(80), 81);
        assert_eq!(WAN21.nearest_frames(1), 1);
        assert_eq!(WAN21.nearest_frames(32), 33);
    }
}
