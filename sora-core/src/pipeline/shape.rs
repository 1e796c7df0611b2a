//! Sizes and shapes: named aspect presets ([`Aspect`]: `9:16`, `1:1`, `4:5`,
//! `16:9`, `21:9`) and resolution tiers ([`Resolution`]: `480p`, `720p`,
//! `1080p`) mapped to the nearest size a family takes ([`SizeGrid`],
//! [`size_for`]), and how an input image or clip of another shape is made the
//! request's shape ([`Fit`]: centre-crop or pad with black), never stretched
//! ([`fit_mode`](super::request::fit_mode)).
//!
//! The mapping: the short side is the tier's (480, 720, 1080), the long side
//! is the short side × the aspect; each is rounded to the nearest multiple the
//! family takes, a tie going down (so 720 on a grid of 32 is 704, as the
//! checkpoints' native 1280×704), and never below one multiple. All in integer
//! arithmetic, so `1080 × 21 / 9` is exactly 2520.

use std::fmt;
use std::str::FromStr;

use ndarray::{s, Array3, Array4, ArrayView3, Axis};

use crate::{Error, Result};

/// Largest relative difference between an input's aspect and the request's
/// that counts as the same shape (the input is then resized as it is, as
/// diffusers does). It covers the rounding of every preset to a grid of 32
/// (16:9 at 720p is 1280×704, 2.3 % off) and diffusers' own 832×480 from a
/// 16:9 image (2.6 %).
pub const ASPECT_TOLERANCE: f64 = 0.03;

/// A named aspect preset, width:height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aspect {
    w: u32,
    h: u32,
}

impl Aspect {
    /// Every preset, as named: `9:16`, `1:1`, `4:5`, `16:9`, `21:9`.
    pub const PRESETS: [Aspect; 5] = [
        Aspect { w: 9, h: 16 },
        Aspect { w: 1, h: 1 },
        Aspect { w: 4, h: 5 },
        Aspect { w: 16, h: 9 },
        Aspect { w: 21, h: 9 },
    ];

    /// The width part (`16` of `16:9`).
    pub fn width(self) -> u32 {
        self.w
    }

    /// The height part (`9` of `16:9`).
    pub fn height(self) -> u32 {
        self.h
    }

    fn names() -> String {
        Self::PRESETS
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.w, self.h)
    }
}

impl FromStr for Aspect {
    type Err = Error;

    /// One of the preset names (`16:9`, …); anything else is
    /// [`Error::InvalidRequest`] listing them.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        Self::PRESETS
            .iter()
            .find(|a| a.to_string() == t)
            .copied()
            .ok_or_else(|| {
                Error::invalid(format!(
                    "aspect `{s}` is not a preset; the presets are {} (width:height)",
                    Self::names()
                ))
            })
    }
}

/// A resolution tier: the short side of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Short side 480.
    P480,
    /// Short side 720.
    P720,
    /// Short side 1080.
    P1080,
}

impl Resolution {
    /// Every tier.
    pub const ALL: [Resolution; 3] = [Resolution::P480, Resolution::P720, Resolution::P1080];

    /// The tier's short side in pixels, before rounding to the family's grid.
    pub fn short_side(self) -> u32 {
        match self {
            Resolution::P480 => 480,
            Resolution::P720 => 720,
            Resolution::P1080 => 1080,
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}p", self.short_side())
    }
}

impl FromStr for Resolution {
    type Err = Error;

    /// `480p`, `720p` or `1080p` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|r| r.to_string() == t)
            .copied()
            .ok_or_else(|| {
                Error::invalid(format!(
                    "resolution `{s}` is not a tier; the tiers are 480p, 720p, 1080p"
                ))
            })
    }
}

/// How an input image or clip whose aspect differs from the request's is
/// made the request's shape (at its own scale, before the family resizes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Cut the centre of the request's aspect out of the input (what falls
    /// outside is lost): the input covers the frame.
    Crop,
    /// Put the whole input in the centre of a black canvas of the request's
    /// aspect (black bars): the input fits inside the frame.
    Pad,
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fit::Crop => "crop",
            Fit::Pad => "pad",
        })
    }
}

impl FromStr for Fit {
    type Err = Error;

    /// `crop` or `pad` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "crop" => Ok(Fit::Crop),
            "pad" => Ok(Fit::Pad),
            _ => Err(Error::invalid(format!(
                "fit `{s}` is not crop or pad (crop: centre-crop the input to the request's aspect; pad: add black bars)"
            ))),
        }
    }
}

/// The sizes a family takes: widths multiples of `width`, heights of `height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeGrid {
    /// Widths are multiples of this.
    pub width: u32,
    /// Heights are multiples of this.
    pub height: u32,
}

impl SizeGrid {
    /// Every size (a grid of one pixel).
    pub const PIXEL: SizeGrid = SizeGrid {
        width: 1,
        height: 1,
    };
}

/// The multiple of `m` nearest `num / den` (a tie goes down), at least `m`,
/// at most the largest multiple that fits a u32.
fn nearest_multiple(num: u64, den: u64, m: u32) -> u32 {
    let m = u64::from(m.max(1));
    let step = den.max(1).saturating_mul(m);
    let (k, r) = (num / step, num % step);
    let k = if r.saturating_mul(2) > step { k + 1 } else { k };
    let cap = u64::from(u32::MAX) / m;
    (k.clamp(1, cap) * m) as u32
}

/// The size, on `grid`, of a frame with the aspect `ratio` (width, height:
/// any two positive numbers, e.g. `(16, 9)` or an input's `(640, 480)`)
/// whose short side is `short`: the short side rounded to the grid, the long
/// side `short × ratio` rounded to the grid (ties down, at least one
/// multiple). Returns `(width, height)`.
pub fn size_for(ratio: (u32, u32), short: u32, grid: SizeGrid) -> (u32, u32) {
    let (rw, rh) = (u64::from(ratio.0.max(1)), u64::from(ratio.1.max(1)));
    let short = u64::from(short.max(1));
    if rw >= rh {
        // Landscape or square: the height is the short side.
        (
            nearest_multiple(short * rw, rh, grid.width),
            nearest_multiple(short, 1, grid.height),
        )
    } else {
        (
            nearest_multiple(short, 1, grid.width),
            nearest_multiple(short * rh, rw, grid.height),
        )
    }
}

/// How much two aspects (width, height) differ: `max(a/b, b/a) − 1`.
pub fn aspect_difference(a: (usize, usize), b: (usize, usize)) -> f64 {
    let x = a.0 as f64 * b.1 as f64;
    let y = a.1 as f64 * b.0 as f64;
    if x <= 0.0 || y <= 0.0 {
        return f64::INFINITY;
    }
    x.max(y) / x.min(y) - 1.0
}

/// `640x480 (aspect 1.333)`.
pub(crate) fn shown(w: usize, h: usize) -> String {
    format!("{w}x{h} (aspect {:.3})", w as f64 / h.max(1) as f64)
}

/// The window `(x0, y0, w, h)` of the input `(iw, ih)` a crop keeps, or the
/// canvas `(x0, y0, w, h)` a pad puts it on (the input at `(x0, y0)` of a
/// `w × h` canvas): the request's aspect `(rw, rh)` at the input's scale.
fn geometry(fit: Fit, iw: usize, ih: usize, rw: u32, rh: u32) -> (usize, usize, usize, usize) {
    let (rw, rh) = (rw.max(1) as f64, rh.max(1) as f64);
    let wider = iw as f64 * rh > ih as f64 * rw;
    match (fit, wider) {
        // Too wide: keep the full height, cut the sides.
        (Fit::Crop, true) => {
            let w = ((ih as f64 * rw / rh).round() as usize).clamp(1, iw);
            ((iw - w) / 2, 0, w, ih)
        }
        (Fit::Crop, false) => {
            let h = ((iw as f64 * rh / rw).round() as usize).clamp(1, ih);
            (0, (ih - h) / 2, iw, h)
        }
        // Too wide: bars above and below.
        (Fit::Pad, true) => {
            let h = ((iw as f64 * rh / rw).round() as usize).max(ih);
            (0, (h - ih) / 2, iw, h)
        }
        (Fit::Pad, false) => {
            let w = ((ih as f64 * rw / rh).round() as usize).max(iw);
            ((w - iw) / 2, 0, w, ih)
        }
    }
}

/// One image made `(rw, rh)`'s aspect by `fit` at its own scale.
pub fn fit_image(pixels: ArrayView3<u8>, rw: u32, rh: u32, fit: Fit) -> Result<Array3<u8>> {
    let sh = pixels.shape();
    if sh.len() != 3 || sh[2] != 3 || sh[0] == 0 || sh[1] == 0 {
        return Err(Error::invalid(format!(
            "an image must be a non-empty [H, W, 3] RGB array, got {sh:?}"
        )));
    }
    let (ih, iw) = (sh[0], sh[1]);
    let (x0, y0, w, h) = geometry(fit, iw, ih, rw, rh);
    Ok(match fit {
        Fit::Crop => pixels.slice(s![y0..y0 + h, x0..x0 + w, ..]).to_owned(),
        Fit::Pad => {
            let mut canvas = Array3::<u8>::zeros((h, w, 3));
            canvas
                .slice_mut(s![y0..y0 + ih, x0..x0 + iw, ..])
                .assign(&pixels);
            canvas
        }
    })
}

/// Every frame of `[T, H, W, 3]` made `(rw, rh)`'s aspect by `fit`.
pub fn fit_frames(frames: &Array4<u8>, rw: u32, rh: u32, fit: Fit) -> Result<Array4<u8>> {
    let sh = frames.shape();
    if sh[0] == 0 || sh[1] == 0 || sh[2] == 0 || sh[3] != 3 {
        return Err(Error::invalid(format!(
            "a video must be non-empty [T, H, W, 3] RGB frames, got {sh:?}"
        )));
    }
    let (_, _, w, h) = geometry(fit, sh[2], sh[1], rw, rh);
    let mut out = Array4::<u8>::zeros((sh[0], h, w, 3));
    for (src, mut dst) in frames.axis_iter(Axis(0)).zip(out.axis_iter_mut(Axis(0))) {
        dst.assign(&fit_image(src, rw, rh, fit)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for a in Aspect::PRESETS {
            assert_eq!(a.to_string().parse::<Aspect>().unwrap(), a);
        }
        for r in Resolution::ALL {
            assert_eq!(r.to_string().parse::<Resolution>().unwrap(), r);
        }
        assert_eq!("720P".parse::<Resolution>().unwrap(), Resolution::P720);
        assert_eq!(" Crop ".parse::<Fit>().unwrap(), Fit::Crop);
        assert_eq!("pad".parse::<Fit>().unwrap(), Fit::Pad);
        for bad in ["16x9", "3:2", "", "16:9:1", "9 : 16"] {
            let e = bad.parse::<Aspect>().unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{bad}");
            assert!(e.to_string().contains("9:16, 1:1, 4:5, 16:9, 21:9"), "{e}");
        }
        for bad in ["480", "4k", "2160p"] {
            assert!(bad.parse::<Resolution>().is_err(), "{bad}");
        }
        assert!("stretch".parse::<Fit>().is_err());
    }

    #[test]
    fn rounding_is_to_the_nearest_multiple_ties_down() {
        assert_eq!(nearest_multiple(720, 1, 32), 704);
        assert_eq!(nearest_multiple(721, 1, 32), 736);
        assert_eq!(nearest_multiple(1080 * 21, 9, 16), 2512);
        assert_eq!(nearest_multiple(3, 1, 16), 16);
        assert_eq!(nearest_multiple(u64::from(u32::MAX) * 2, 1, 16), 4294967280);
    }

    /// Every preset at every tier on the grids of the families today (Wan 2.1:
    /// 16; Wan 2.2 TI2V and LTX-2: 32): the table of docs/params.md.
    #[test]
    fn every_preset_and_tier_maps_to_the_documented_size() {
        let table: [(u32, Resolution, &str, (u32, u32)); 30] = [
            (16, Resolution::P480, "9:16", (480, 848)),
            (16, Resolution::P480, "1:1", (480, 480)),
            (16, Resolution::P480, "4:5", (480, 592)),
            (16, Resolution::P480, "16:9", (848, 480)),
            (16, Resolution::P480, "21:9", (1120, 480)),
            (16, Resolution::P720, "9:16", (720, 1280)),
            (16, Resolution::P720, "1:1", (720, 720)),
            (16, Resolution::P720, "4:5", (720, 896)),
            (16, Resolution::P720, "16:9", (1280, 720)),
            (16, Resolution::P720, "21:9", (1680, 720)),
            (16, Resolution::P1080, "9:16", (1072, 1920)),
            (16, Resolution::P1080, "1:1", (1072, 1072)),
            (16, Resolution::P1080, "4:5", (1072, 1344)),
            (16, Resolution::P1080, "16:9", (1920, 1072)),
            (16, Resolution::P1080, "21:9", (2512, 1072)),
            (32, Resolution::P480, "9:16", (480, 864)),
            (32, Resolution::P480, "1:1", (480, 480)),
            (32, Resolution::P480, "4:5", (480, 608)),
            (32, Resolution::P480, "16:9", (864, 480)),
            (32, Resolution::P480, "21:9", (1120, 480)),
            (32, Resolution::P720, "9:16", (704, 1280)),
            (32, Resolution::P720, "1:1", (704, 704)),
            (32, Resolution::P720, "4:5", (704, 896)),
            (32, Resolution::P720, "16:9", (1280, 704)),
            (32, Resolution::P720, "21:9", (1664, 704)),
            (32, Resolution::P1080, "9:16", (1088, 1920)),
            (32, Resolution::P1080, "1:1", (1088, 1088)),
            (32, Resolution::P1080, "4:5", (1088, 1344)),
            (32, Resolution::P1080, "16:9", (1920, 1088)),
            (32, Resolution::P1080, "21:9", (2528, 1088)),
        ];
        for (m, tier, aspect, want) in table {
            let a: Aspect = aspect.parse().unwrap();
            let grid = SizeGrid {
                width: m,
                height: m,
            };
            let got = size_for((a.width(), a.height()), tier.short_side(), grid);
            assert_eq!(got, want, "{aspect} at {tier} on a grid of {m}");
            assert_eq!(got.0 % m, 0);
            assert_eq!(got.1 % m, 0);
            // An input of the preset's exact aspect needs no fit.
            let diff = aspect_difference(
                (a.width() as usize * 120, a.height() as usize * 120),
                (got.0 as usize, got.1 as usize),
            );
            assert!(diff <= ASPECT_TOLERANCE, "{aspect} {tier} {m}: {diff}");
        }
    }

    #[test]
    fn crop_keeps_the_centre_and_pad_adds_black_bars() {
        // 8 wide, 4 high; columns numbered 0..8.
        let img = Array3::from_shape_fn((4, 8, 3), |(_, x, _)| 10 + x as u8);
        // Square: the crop keeps columns 2..6, the pad adds 2 black rows above and below.
        let c = fit_image(img.view(), 1, 1, Fit::Crop).unwrap();
        assert_eq!(c.shape(), &[4, 4, 3]);
        assert_eq!(c[[0, 0, 0]], 12);
        assert_eq!(c[[3, 3, 2]], 15);
        let p = fit_image(img.view(), 1, 1, Fit::Pad).unwrap();
        assert_eq!(p.shape(), &[8, 8, 3]);
        assert!(p.slice(s![0..2, .., ..]).iter().all(|&v| v == 0));
        assert!(p.slice(s![6..8, .., ..]).iter().all(|&v| v == 0));
        assert_eq!(p.slice(s![2..6, .., ..]), img);
        // Portrait request from a landscape image: a narrow centre strip, or tall bars.
        let c = fit_image(img.view(), 9, 16, Fit::Crop).unwrap();
        assert_eq!(c.shape(), &[4, 2, 3]);
        assert_eq!(c[[0, 0, 0]], 13);
        let p = fit_image(img.view(), 9, 16, Fit::Pad).unwrap();
        assert_eq!(p.shape(), &[14, 8, 3]);
        assert_eq!(p.slice(s![5..9, .., ..]), img);
        // A tall image to a wide request: rows cut, or columns added.
        let tall = Array3::from_shape_fn((8, 4, 3), |(y, _, _)| 10 + y as u8);
        let c = fit_image(tall.view(), 2, 1, Fit::Crop).unwrap();
        assert_eq!(c.shape(), &[2, 4, 3]);
        assert_eq!(c[[0, 0, 0]], 13);
        let p = fit_image(tall.view(), 2, 1, Fit::Pad).unwrap();
        assert_eq!(p.shape(), &[8, 16, 3]);
        assert_eq!(p.slice(s![.., 6..10, ..]), tall);
        assert!(p.slice(s![.., 0..6, ..]).iter().all(|&v| v == 0));
    }
}
