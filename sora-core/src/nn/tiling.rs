//! The spatial tiling option of a video VAE's decode, shared by every family
//! (diffusers' `enable_tiling` sizes): tile and stride sizes in pixels, checked
//! for what holds for any VAE ([`VaeTiling::check`]) and against one VAE's
//! spatial factor and patch ([`VaeTiling::validate`]); the tile geometry
//! diffusers derives from them ([`TileGrid`]) and its blending of overlapping
//! tiles ([`blend`], [`join_tiles`]), in place and with Python's scalar
//! arithmetic. Each family's VAE runs its tiles itself (Wan:
//! `models/wan/vae/mod.rs`, LTX-2: `models/ltx2/video_vae/tiling.rs`). Also
//! the time-window option of a decode ([`FrameTiling`], diffusers'
//! `use_framewise_decoding`; LTX-2's VAE runs it).

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// Time windows of the frame-wise decode, in video frames (diffusers'
/// `tile_sample_min_num_frames` / `tile_sample_stride_num_frames`, default 16 / 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameTiling {
    /// Frames of one window.
    pub tile_sample_min_num_frames: i64,
    /// Frames between window starts (≤ the window).
    pub tile_sample_stride_num_frames: i64,
}

impl Default for FrameTiling {
    fn default() -> Self {
        Self {
            tile_sample_min_num_frames: 16,
            tile_sample_stride_num_frames: 8,
        }
    }
}

impl FrameTiling {
    /// `WINDOW,STRIDE` in video frames (`--vae-frame-tiling=16,8`);
    /// [`Error::InvalidRequest`] naming the form otherwise. The sizes are
    /// checked against a VAE by [`Self::validate`].
    pub fn parse(value: &str) -> Result<Self> {
        let v: Vec<i64> = value
            .split(',')
            .map(|x| x.trim().parse::<i64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::invalid(format!(
                    "VAE frame tiling takes WINDOW,STRIDE in frames (e.g. 16,8), got `{value}`"
                ))
            })?;
        match v[..] {
            [m, s] => Ok(Self {
                tile_sample_min_num_frames: m,
                tile_sample_stride_num_frames: s,
            }),
            _ => Err(Error::invalid(format!(
                "VAE frame tiling takes WINDOW,STRIDE in frames (e.g. 16,8), got `{value}`"
            ))),
        }
    }

    /// `[window, stride]` in frames (the JSON `vae_frame_tiling` fields).
    pub fn to_array(&self) -> [i64; 2] {
        [
            self.tile_sample_min_num_frames,
            self.tile_sample_stride_num_frames,
        ]
    }

    /// Both sizes positive multiples of the VAE's temporal factor, the stride
    /// at most the window: [`Error::InvalidRequest`] otherwise.
    pub fn validate(&self, temporal_factor: i64) -> Result<()> {
        let (m, s) = (
            self.tile_sample_min_num_frames,
            self.tile_sample_stride_num_frames,
        );
        let f = temporal_factor.max(1);
        if s <= 0 || m < s || m % f != 0 || s % f != 0 {
            return Err(Error::invalid(format!(
                "frame-wise decode windows must be positive multiples of the VAE's temporal factor ({f}) \
                 with the stride at most the window, got window {m} and stride {s}"
            )));
        }
        Ok(())
    }
}

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

/// Tile geometry in latent units and in the decoder's (patchified) output units.
#[derive(Debug, Clone, Copy)]
pub struct TileGrid {
    /// Latent tile size (height, width).
    pub latent_min: (i64, i64),
    /// Latent stride (height, width).
    pub latent_stride: (i64, i64),
    /// Decoder-output stride (height, width), patchified domain.
    pub out_stride: (i64, i64),
    /// Blend extents (rows, columns), patchified domain.
    pub blend: (i64, i64),
}

impl TileGrid {
    /// The geometry diffusers' `tiled_decode` derives (integer divisions as there).
    pub fn new(t: &VaeTiling, spatial_factor: i64, patch: i64) -> Self {
        let s = spatial_factor.max(1);
        let p = patch.max(1);
        let out_stride = (
            t.tile_sample_stride_height / p,
            t.tile_sample_stride_width / p,
        );
        Self {
            latent_min: (t.tile_sample_min_height / s, t.tile_sample_min_width / s),
            latent_stride: (
                t.tile_sample_stride_height / s,
                t.tile_sample_stride_width / s,
            ),
            out_stride,
            blend: (
                t.tile_sample_min_height / p - out_stride.0,
                t.tile_sample_min_width / p - out_stride.1,
            ),
        }
    }

    /// Whether a latent `h × w` is larger than one tile (diffusers' rule for
    /// using the tiled path at all).
    pub fn needs_tiling(&self, h: i64, w: i64) -> bool {
        w > self.latent_min.1 || h > self.latent_min.0
    }

    /// Origins of the tile rows and columns over a latent `h × w`.
    pub fn origins(&self, h: i64, w: i64) -> (Vec<i64>, Vec<i64>) {
        let step = |n: i64, s: i64| (0..n).step_by(s.max(1) as usize).collect::<Vec<_>>();
        (step(h, self.latent_stride.0), step(w, self.latent_stride.1))
    }

    /// The latent sizes of the tiles over a latent `h × w`, rows and columns
    /// apart: `(size, how many tiles have it)`, as [`Self::origins`] starts
    /// them and the decode clips them at the edge (counted, not listed).
    pub fn tile_extents(&self, h: i64, w: i64) -> (Extents, Extents) {
        (
            axis_extents(h, self.latent_min.0, self.latent_stride.0),
            axis_extents(w, self.latent_min.1, self.latent_stride.1),
        )
    }
}

/// Tile sizes along one axis: `(latent size, how many tiles have it)`.
pub type Extents = Vec<(i64, u64)>;

/// Tiles of `size` every `stride` over `n`: the full ones, then one entry for
/// each tile the edge clips.
fn axis_extents(n: i64, size: i64, stride: i64) -> Extents {
    let s = stride.max(1);
    if n <= 0 {
        return Vec::new();
    }
    let count = (n + s - 1) / s;
    let full = if n >= size {
        ((n - size) / s + 1).min(count)
    } else {
        0
    };
    let mut v = Vec::new();
    if full > 0 {
        v.push((size, full as u64));
    }
    v.extend((full..count).map(|k| (n - k * s, 1)));
    v
}

/// The two weight ramps of diffusers' blend for extent `e`:
/// `1 − y/e` and `y/e`, computed in f64 as Python does, then cast to the
/// dtype PyTorch multiplies a `kind` tensor by a Python scalar in (f64 for
/// f64 tensors, f32 otherwise).
fn ramps(e: i64, kind: Kind, device: tch::Device) -> Result<(Tensor, Tensor)> {
    let ef = e as f64;
    let wb: Vec<f64> = (0..e).map(|y| y as f64 / ef).collect();
    let wa: Vec<f64> = wb.iter().map(|&r| 1.0 - r).collect();
    let opmath = opmath_kind(kind);
    let make = |v: &[f64]| -> Result<Tensor> {
        Ok(Tensor::f_from_slice(v)?
            .f_to_kind(opmath)?
            .f_to_device(device)?)
    };
    Ok((make(&wa)?, make(&wb)?))
}

fn opmath_kind(kind: Kind) -> Kind {
    if kind == Kind::Double {
        Kind::Double
    } else {
        Kind::Float
    }
}

/// `a[…, −e + y] · (1 − y/e) + b[…, y] · (y/e)` over `y < e` along `dim`
/// (3: rows, `blend_v`; 4: columns, `blend_h`), written into `b` in place,
/// with `e = min(a.size(dim), b.size(dim), extent)`.
pub fn blend(a: &Tensor, b: &mut Tensor, extent: i64, dim: i64) -> Result<()> {
    let d = dim as usize;
    let e = a.size()[d].min(b.size()[d]).min(extent);
    if e <= 0 {
        return Ok(());
    }
    let kind = b.kind();
    let opmath = opmath_kind(kind);
    let (wa, wb) = ramps(e, kind, b.device())?;
    // Ramps shaped to broadcast along `dim` of a 5-D tensor.
    let shape: Vec<i64> = (0..5).map(|i| if i == dim { e } else { 1 }).collect();
    let (wa, wb) = (wa.f_view(shape.as_slice())?, wb.f_view(shape.as_slice())?);
    let a_part = a.f_narrow(dim, a.size()[d] - e, e)?;
    let mut b_part = b.f_narrow(dim, 0, e)?;
    let left = a_part.f_to_kind(opmath)?.f_mul(&wa)?.f_to_kind(kind)?;
    let right = b_part.f_to_kind(opmath)?.f_mul(&wb)?.f_to_kind(kind)?;
    let mixed = left.f_add(&right)?;
    b_part.f_copy_(&mixed)?;
    Ok(())
}

/// Blends one frame chunk's decoded tiles (row-major, each `[B, C, n, th, tw]`)
/// in place exactly as diffusers does, crops each to the stride, joins them and
/// crops to `out_h × out_w` (decoder-output units).
pub fn join_tiles(
    mut rows: Vec<Vec<Tensor>>,
    grid: &TileGrid,
    out_h: i64,
    out_w: i64,
) -> Result<Tensor> {
    let mut result_rows = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let (above, rest) = rows.split_at_mut(i);
        let row = &mut rest[0];
        let mut cropped = Vec::with_capacity(row.len());
        for j in 0..row.len() {
            let (left, cur) = row.split_at_mut(j);
            let tile = &mut cur[0];
            if let Some(prev_row) = above.last() {
                blend(&prev_row[j], tile, grid.blend.0, 3)?;
            }
            if let Some(prev) = left.last() {
                blend(prev, tile, grid.blend.1, 4)?;
            }
            let s = tile.size();
            cropped.push(tile.f_narrow(3, 0, grid.out_stride.0.min(s[3]))?.f_narrow(
                4,
                0,
                grid.out_stride.1.min(s[4]),
            )?);
        }
        result_rows.push(Tensor::f_cat(&cropped, 4)?);
    }
    let dec = Tensor::f_cat(&result_rows, 3)?;
    let s = dec.size();
    Ok(dec
        .f_narrow(3, 0, out_h.min(s[3]))?
        .f_narrow(4, 0, out_w.min(s[4]))?)
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn blend_matches_python_scalar_arithmetic() {
        // Row by row with f64 scalars, as diffusers' loop does.
        let a = Tensor::randn([1, 2, 1, 7, 5], (Kind::Float, tch::Device::Cpu));
        let b0 = Tensor::randn([1, 2, 1, 6, 5], (Kind::Float, tch::Device::Cpu));
        let mut b = b0.copy();
        blend(&a, &mut b, 4, 3).unwrap();
        let want = b0.copy();
        for y in 0..4 {
            let r = y as f64 / 4.0;
            let row = a.narrow(3, 7 - 4 + y, 1) * (1.0 - r) + b0.narrow(3, y, 1) * r;
            want.narrow(3, y, 1).copy_(&row);
        }
        assert!(b.equal(&want));
    }

    #[test]
    fn grid_geometry() {
        let t = VaeTiling {
            tile_sample_min_height: 64,
            tile_sample_min_width: 80,
            tile_sample_stride_height: 48,
            tile_sample_stride_width: 48,
        };
        let g = TileGrid::new(&t, 16, 2);
        assert_eq!(g.latent_min, (4, 5));
        assert_eq!(g.latent_stride, (3, 3));
        assert_eq!(g.out_stride, (24, 24));
        assert_eq!(g.blend, (8, 16));
        assert_eq!(g.origins(5, 8), (vec![0, 3], vec![0, 3, 6]));
        assert!(!g.needs_tiling(4, 5));
        assert!(g.needs_tiling(4, 6));
        assert_eq!(
            g.tile_extents(5, 8),
            (vec![(4, 1), (2, 1)], vec![(5, 2), (2, 1)])
        );
    }

    #[test]
    fn tile_extents_count_the_tiles_the_decode_cuts() {
        for (size, stride) in [(4, 3), (8, 6), (8, 2), (5, 5), (3, 1), (16, 12)] {
            let t = VaeTiling {
                tile_sample_min_height: 8 * size,
                tile_sample_min_width: 8 * size,
                tile_sample_stride_height: 8 * stride,
                tile_sample_stride_width: 8 * stride,
            };
            let g = TileGrid::new(&t, 8, 1);
            for n in 1..40 {
                let (rows, _) = g.origins(n, 1);
                let mut want: Vec<i64> = rows.iter().map(|&i| size.min(n - i)).collect();
                let mut got: Vec<i64> = Vec::new();
                for (ext, k) in g.tile_extents(n, 1).0 {
                    got.resize(got.len() + k as usize, ext);
                }
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, want, "size {size} stride {stride} n {n}");
            }
        }
    }
}
