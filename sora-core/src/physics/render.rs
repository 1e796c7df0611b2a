//! Draws simulated frames: coloured balls and boxes with anti-aliased edges
//! (exact pixel coverage for boxes, a one-pixel ramp for discs) over a plain
//! or wood-textured background, into `[T, H, W, 3]` u8 frames of any size.

use ndarray::Array4;

use super::sim::{Shape, Trajectory};
use crate::{Error, Result};

/// The background behind the objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Background {
    /// One colour.
    Plain([u8; 3]),
    /// Horizontal planks with grain around this colour (low saturation).
    Wood([u8; 3]),
}

/// How to draw a trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSpec {
    /// Frame height (px); the room's height maps onto it.
    pub height: usize,
    /// Frame width (px).
    pub width: usize,
    /// Room height (m), so that the scale is `height / room_height` px per metre.
    pub room_height: f32,
    /// The background.
    pub background: Background,
    /// One colour per body.
    pub colours: Vec<[u8; 3]>,
    /// Per body, the frames `[first, last]` it is drawn in (`None`: all).
    pub visible: Vec<Option<(usize, usize)>>,
}

impl RenderSpec {
    /// Pixels per metre.
    pub fn scale(&self) -> f32 {
        self.height as f32 / self.room_height
    }

    /// A room position (m, y up) in pixel coordinates (x right, y down; pixel
    /// centres at integer + 0.5 are `(col + 0.5, row + 0.5)`).
    pub fn to_pixels(&self, pos: [f32; 2]) -> [f32; 2] {
        let s = self.scale();
        [pos[0] * s, (self.room_height - pos[1]) * s]
    }
}

/// A cheap deterministic hash of integers to [0, 1).
fn hash01(a: u32, b: u32, c: u32) -> f32 {
    let mut h =
        a.wrapping_mul(0x9E37_79B1) ^ b.wrapping_mul(0x85EB_CA77) ^ c.wrapping_mul(0xC2B2_AE3D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^= h >> 15;
    (h >> 8) as f32 / (1u32 << 24) as f32
}

/// The background of one frame `[H, W, 3]` as floats.
fn background(spec: &RenderSpec) -> Vec<[f32; 3]> {
    let (h, w) = (spec.height, spec.width);
    let mut out = vec![[0.0f32; 3]; h * w];
    match spec.background {
        Background::Plain(c) => out.fill([c[0] as f32, c[1] as f32, c[2] as f32]),
        Background::Wood(c) => {
            let plank = (h / 6).max(4);
            for y in 0..h {
                let band = (y / plank) as u32;
                let tone = 0.9 + 0.2 * hash01(band, 7, 1);
                let seam = if y % plank == 0 { 0.8 } else { 1.0 };
                for x in 0..w {
                    let grain =
                        0.96 + 0.08 * (x as f32 * 0.3 + 5.0 * hash01(band, 3, 2)).sin().abs();
                    let noise = 0.97 + 0.06 * hash01(x as u32, y as u32, 9);
                    let k = tone * seam * grain * noise;
                    out[y * w + x] = [c[0] as f32 * k, c[1] as f32 * k, c[2] as f32 * k];
                }
            }
        }
    }
    out
}

/// 1-D overlap of the pixel `[p, p+1]` with `[a, b]`.
fn overlap(p: f32, a: f32, b: f32) -> f32 {
    ((p + 1.0).min(b) - p.max(a)).clamp(0.0, 1.0)
}

/// Paints one shape at pixel centre `c` with colour `col` into `img`.
fn paint(
    img: &mut [[f32; 3]],
    w: usize,
    h: usize,
    shape: Shape,
    c: [f32; 2],
    scale: f32,
    col: [u8; 3],
) {
    let (hw, hh) = shape.half_extents();
    let (hw, hh) = (hw * scale, hh * scale);
    let x0 = (c[0] - hw - 1.0).floor().max(0.0) as usize;
    let x1 = ((c[0] + hw + 1.0).ceil().max(0.0) as usize).min(w);
    let y0 = (c[1] - hh - 1.0).floor().max(0.0) as usize;
    let y1 = ((c[1] + hh + 1.0).ceil().max(0.0) as usize).min(h);
    let colf = [col[0] as f32, col[1] as f32, col[2] as f32];
    for y in y0..y1 {
        for x in x0..x1 {
            let cov = match shape {
                Shape::Ball { .. } => {
                    let dx = x as f32 + 0.5 - c[0];
                    let dy = y as f32 + 0.5 - c[1];
                    (hw - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0.0, 1.0)
                }
                Shape::Box { .. } => {
                    overlap(x as f32, c[0] - hw, c[0] + hw)
                        * overlap(y as f32, c[1] - hh, c[1] + hh)
                }
            };
            if cov > 0.0 {
                let p = &mut img[y * w + x];
                for k in 0..3 {
                    p[k] = p[k] * (1.0 - cov) + colf[k] * cov;
                }
            }
        }
    }
}

/// Renders every frame of `traj` as `[T, H, W, 3]` u8.
pub fn render(traj: &Trajectory, spec: &RenderSpec) -> Result<Array4<u8>> {
    let (h, w) = (spec.height, spec.width);
    if h < 8 || w < 8 || spec.room_height.is_nan() || spec.room_height <= 0.0 {
        return Err(Error::invalid(format!(
            "render needs frames of at least 8×8 px and a positive room height, got {w}×{h}"
        )));
    }
    let bodies = traj.states.first().map_or(0, |s| s.len());
    if spec.colours.len() != bodies || spec.visible.len() != bodies {
        return Err(Error::invalid(format!(
            "render needs one colour and one visibility per body ({bodies})"
        )));
    }
    let bg = background(spec);
    let scale = spec.scale();
    let mut out = Array4::<u8>::zeros((traj.states.len(), h, w, 3));
    for (t, states) in traj.states.iter().enumerate() {
        let mut img = bg.clone();
        for (i, s) in states.iter().enumerate() {
            if let Some((a, b)) = spec.visible[i] {
                if t < a || t > b {
                    continue;
                }
            }
            paint(
                &mut img,
                w,
                h,
                s.shape,
                spec.to_pixels(s.pos),
                scale,
                spec.colours[i],
            );
        }
        for (idx, p) in img.iter().enumerate() {
            for k in 0..3 {
                out[[t, idx / w, idx % w, k]] = p[k].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::sim::BodyState;

    #[test]
    fn a_ball_covers_its_area_with_soft_edges() {
        let traj = Trajectory {
            fps: 24.0,
            states: vec![vec![BodyState {
                pos: [1.0, 1.0],
                vel: [0.0, 0.0],
                shape: Shape::Ball { radius: 0.25 },
            }]],
            impacts: vec![],
            violation_time: None,
        };
        let spec = RenderSpec {
            height: 64,
            width: 96,
            room_height: 2.0,
            background: Background::Wood([180, 140, 100]),
            colours: vec![[250, 0, 0]],
            visible: vec![None],
        };
        let f = render(&traj, &spec).unwrap();
        assert_eq!(f.shape(), &[1, 64, 96, 3]);
        let red = f.slice(ndarray::s![0, .., .., 0]);
        let green = f.slice(ndarray::s![0, .., .., 1]);
        let inside = red
            .iter()
            .zip(green.iter())
            .filter(|(r, g)| **r > 240 && **g < 10)
            .count() as f32;
        let r_px = 0.25 * 32.0;
        let area = std::f32::consts::PI * r_px * r_px;
        assert!((inside / area - 1.0).abs() < 0.15, "{inside} vs {area}");
        let edge = red
            .iter()
            .zip(green.iter())
            .filter(|(r, g)| **g > 10 && **g < 120 && **r > 180)
            .count();
        assert!(edge > 0, "anti-aliased edge pixels");
        assert_eq!(f[[0, 32, 32, 0]], 250);
    }
}
