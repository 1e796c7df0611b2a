//! The spatial tiling option of a video VAE's decode, shared by every family
//! (diffusers' `enable_tiling` sizes): tile and stride sizes in pixels, checked
//! for what holds for any VAE ([`VaeTiling::check`]) and against one VAE's
//! spatial factor and patch ([`VaeTiling::validate`]). Each family's VAE
//! implements the tiled decode itself (Wan: `models/wan/vae/tiling.rs`).

use crate::{Error, Result};

/// Tile sizes of the tiled decode, in sample (pixel) units, with diffusers'
/// `enable_tiling` names. [`Default`] is diffusers' 256 / 256 / 192 / 192.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VaeTiling {
    /// Height of one tile in pixels.
    pub tile_sample_min_height: i64,
    /// Width of one tile in pixels.
    pub tile_sample_min_width: i64,
    /// Vertical distance between tile origins in pixels (≤ the tile height).
    pub tile_sample_stride_height: i64,
    /// Horizontal distance between tile origins in pixels (≤ the tile width).
    pub tile_sample_stride_width: i64,
}

impl Default for VaeTiling {
    fn default() -> Self {
        Self {
            tile_sample_min_height: 256,
            tile_sample_min_width: 256,
            tile_sample_stride_height: 192,
            tile_sample_stride_width: 192,
        }
    }
}

impl VaeTiling {
    /// `[height, width, stride_height, stride_width]` in pixels (the order of
    /// `--vae-tiling=H,W,SH,SW` and of the JSON `vae_tiling` fields).
    pub fn to_array(&self) -> [i64; 4] {
        [
            self.tile_sample_min_height,
            self.tile_sample_min_width,
            self.tile_sample_stride_height,
            self.tile_sample_stride_width,
        ]
    }

    /// Checks what holds for any VAE: sizes > 0 and each stride ≤ its tile
    /// size; [`Error::InvalidRequest`] otherwise.
    pub fn check(&self) -> Result<()> {
        let v = self.to_array();
        if v.iter().any(|&x| x <= 0) {
            return Err(Error::invalid(format!(
                "VAE tiling sizes must be positive, got {v:?} (height, width, stride height, stride width)"
            )));
        }
        if self.tile_sample_stride_height > self.tile_sample_min_height
            || self.tile_sample_stride_width > self.tile_sample_min_width
        {
            return Err(Error::invalid(format!(
                "VAE tiling strides ({}, {}) must not exceed the tile size ({}, {})",
                self.tile_sample_stride_height,
                self.tile_sample_stride_width,
                self.tile_sample_min_height,
                self.tile_sample_min_width
            )));
        }
        Ok(())
    }

    /// [`Self::check`], and every size a multiple of the VAE's spatial factor
    /// and of its patch size; [`Error::InvalidRequest`] otherwise.
    pub fn validate(&self, spatial_factor: i64, patch: i64) -> Result<()> {
        self.check()?;
        let v = self.to_array();
        for m in [spatial_factor, patch] {
            if m > 0 && v.iter().any(|&x| x % m != 0) {
                return Err(Error::invalid(format!(
                    "VAE tiling sizes {v:?} must be multiples of the VAE's spatial factor \
                     ({spatial_factor}) and patch size ({patch})"
                )));
            }
        }
        Ok(())
    }

    /// Parses `H,W,SH,SW` (pixels), checked with [`Self::check`].
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let nums: Option<Vec<i64>> = parts.iter().map(|p| p.parse::<i64>().ok()).collect();
        match nums.as_deref() {
            Some(&[h, w, sh, sw]) => {
                let t = Self {
                    tile_sample_min_height: h,
                    tile_sample_min_width: w,
                    tile_sample_stride_height: sh,
                    tile_sample_stride_width: sw,
                };
                t.check()?;
                Ok(t)
            }
            _ => Err(Error::invalid(format!(
                "VAE tiling takes four integers `H,W,SH,SW` (tile height, width, stride height, stride width), got `{text}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_check() {
        let t = VaeTiling::parse("32, 40,24,24").unwrap();
        assert_eq!(t.tile_sample_min_width, 40);
        for bad in [
            "32,40,24",
            "a,b,c,d",
            "32,40,48,24",
            "0,40,0,24",
            "32,40,-8,24",
        ] {
            assert!(
                matches!(VaeTiling::parse(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert!(VaeTiling::default().validate(8, 1).is_ok());
        assert!(VaeTiling::default().validate(16, 2).is_ok());
        let odd = VaeTiling {
            tile_sample_stride_height: 100,
            ..VaeTiling::default()
        };
        assert!(matches!(odd.validate(8, 1), Err(Error::InvalidRequest(_))));
        let t = VaeTiling {
            tile_sample_min_height: 40,
            tile_sample_min_width: 40,
            tile_sample_stride_height: 24,
            tile_sample_stride_width: 24,
        };
        assert!(t.validate(8, 1).is_ok());
        assert!(matches!(t.validate(16, 2), Err(Error::InvalidRequest(_))));
    }
}
