//! The visible moving watermark: a small logo drawn by code (a ring with a
//! dot), the word `SORA` and an optional creator handle in a built-in 3×5
//! pixel font, alpha-blended (white over a dark outline) on every frame. The
//! mark stays at one of six anchors (corners, top and bottom centre) for
//! [`SEGMENT_S`] seconds, then glides to the next in [`MOVE_S`]; the
//! sequence of anchors comes from HMAC-SHA256 of the generation id, so
//! [`position`] re-derives where the mark must be on any frame and
//! [`check`] tests that it is there.

use super::keyed::{hmac, DEFAULT_KEY};

/// Seconds the mark holds an anchor (including the glide to the next).
pub const SEGMENT_S: f64 = 3.0;
/// Seconds of the glide at the end of a segment.
pub const MOVE_S: f64 = 0.5;
/// Opacity of the white fill.
const FILL_ALPHA: f32 = 0.6;
/// Opacity of the dark outline.
const SHADOW_ALPHA: f32 = 0.4;

/// 3×5 glyphs, rows top to bottom, 3 bits each (MSB left).
fn glyph(c: char) -> Option<[u8; 5]> {
    let g = match c.to_ascii_uppercase() {
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [6, 1, 2, 4, 7],
        '3' => [6, 1, 2, 1, 6],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 6, 1, 6],
        '6' => [3, 4, 7, 5, 7],
        '7' => [7, 1, 2, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 6],
        '@' => [2, 5, 7, 4, 3],
        '_' => [0, 0, 0, 0, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        ' ' => [0, 0, 0, 0, 0],
        _ => return None,
    };
    Some(g)
}

/// The logo, 7×7 (a ring with a centre dot).
const LOGO: [u8; 7] = [0x1c, 0x22, 0x41, 0x49, 0x41, 0x22, 0x1c];

/// What the mark looks like: a coverage mask (0 none, 1 outline, 2 fill).
#[derive(Debug, Clone, PartialEq)]
pub struct MarkShape {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// Row-major coverage.
    pub mask: Vec<u8>,
}

impl MarkShape {
    /// The mark for a frame `frame_h` pixels high (one font pixel per 90
    /// frame rows, at least one), with `handle` (characters outside the
    /// font are left out) after the word `SORA`.
    pub fn new(frame_h: usize, handle: Option<&str>) -> Self {
        let s = (frame_h / 90).max(1);
        let mut text = String::from(" SORA");
        if let Some(hd) = handle {
            text.push(' ');
            text.extend(hd.chars().filter(|c| glyph(*c).is_some()).take(24));
        }
        // Unscaled fill bitmap: logo (7 wide) then 4 columns per glyph, 7 rows
        // (glyphs sit on rows 1..6), with a 1-pixel border for the outline.
        let cols = 7 + 4 * text.chars().count();
        let (uw, uh) = (cols + 2, 9);
        let mut fill = vec![false; uw * uh];
        for (r, bits) in LOGO.iter().enumerate() {
            for c in 0..7 {
                if bits >> (6 - c) & 1 == 1 {
                    fill[(r + 1) * uw + c + 1] = true;
                }
            }
        }
        for (i, ch) in text.chars().enumerate() {
            let Some(g) = glyph(ch) else { continue };
            for (r, bits) in g.iter().enumerate() {
                for c in 0..3 {
                    if bits >> (2 - c) & 1 == 1 {
                        fill[(r + 2) * uw + 1 + 7 + 4 * i + c] = true;
                    }
                }
            }
        }
        let (w, h) = (uw * s, uh * s);
        let mut mask = vec![0u8; w * h];
        for y in 0..uh {
            for x in 0..uw {
                let v = if fill[y * uw + x] {
                    2
                } else if (y.saturating_sub(1)..=(y + 1).min(uh - 1)).any(|yy| {
                    (x.saturating_sub(1)..=(x + 1).min(uw - 1)).any(|xx| fill[yy * uw + xx])
                }) {
                    1
                } else {
                    0
                };
                for dy in 0..s {
                    for dx in 0..s {
                        mask[(y * s + dy) * w + x * s + dx] = v;
                    }
                }
            }
        }
        Self { w, h, mask }
    }
}

/// The six anchors (top-left corners of the mark) in a `w`×`h` frame.
pub fn anchors(w: usize, h: usize, shape: &MarkShape) -> [(usize, usize); 6] {
    let m = (h.min(w) / 30).max(1);
    let right = w.saturating_sub(shape.w + m);
    let bottom = h.saturating_sub(shape.h + m);
    let mid = w.saturating_sub(shape.w) / 2;
    let (l, t) = (m.min(right), m.min(bottom));
    [
        (l, t),
        (right, t),
        (right, bottom),
        (l, bottom),
        (mid, t),
        (mid, bottom),
    ]
}

/// The anchor index of segment `k` for `generation_id` (never the same twice in a row).
pub fn anchor_index(generation_id: u64, k: u64) -> usize {
    let pick = |k: u64| {
        let h = hmac(
            DEFAULT_KEY,
            &[
                b"visible-path",
                &generation_id.to_le_bytes(),
                &k.to_le_bytes(),
            ],
        );
        usize::from(h[0]) % 6
    };
    let mut a = pick(0);
    for i in 1..=k {
        let next = pick(i);
        a = if next == a { (a + 1) % 6 } else { next };
    }
    a
}

/// Where the mark's top-left corner is on frame `index` at `fps`.
pub fn position(
    generation_id: u64,
    index: usize,
    fps: f64,
    w: usize,
    h: usize,
    shape: &MarkShape,
) -> (usize, usize) {
    let fps = if fps.is_finite() && fps > 0.0 {
        fps
    } else {
        16.0
    };
    let t = index as f64 / fps;
    let k = (t / SEGMENT_S).floor() as u64;
    let into = t - k as f64 * SEGMENT_S;
    let an = anchors(w, h, shape);
    let a = an[anchor_index(generation_id, k)];
    if into <= SEGMENT_S - MOVE_S {
        return a;
    }
    let b = an[anchor_index(generation_id, k + 1)];
    let u = (into - (SEGMENT_S - MOVE_S)) / MOVE_S;
    let lerp = |p: usize, q: usize| (p as f64 + (q as f64 - p as f64) * u).round() as usize;
    (lerp(a.0, b.0), lerp(a.1, b.1))
}

/// The mark's path: its position on each of `frames` frames.
pub fn path(
    generation_id: u64,
    frames: usize,
    fps: f64,
    w: usize,
    h: usize,
    handle: Option<&str>,
) -> Vec<(usize, usize)> {
    let shape = MarkShape::new(h, handle);
    (0..frames)
        .map(|i| position(generation_id, i, fps, w, h, &shape))
        .collect()
}

/// Blends `shape` at `(x, y)` into an RGB frame `[h, w, 3]` in place (clipped at the edges).
pub fn draw(frame: &mut [u8], h: usize, w: usize, shape: &MarkShape, x: usize, y: usize) {
    if frame.len() < h * w * 3 {
        return;
    }
    for my in 0..shape.h {
        let fy = y + my;
        if fy >= h {
            break;
        }
        for mx in 0..shape.w {
            let fx = x + mx;
            if fx >= w {
                break;
            }
            let (alpha, target) = match shape.mask[my * shape.w + mx] {
                2 => (FILL_ALPHA, 255.0),
                1 => (SHADOW_ALPHA, 0.0),
                _ => continue,
            };
            for v in &mut frame[(fy * w + fx) * 3..(fy * w + fx) * 3 + 3] {
                *v = (f32::from(*v) * (1.0 - alpha) + target * alpha).round() as u8;
            }
        }
    }
}

/// Mean luma of fill minus outline pixels of `shape` at `(x, y)`.
fn contrast(frame: &[u8], w: usize, h: usize, shape: &MarkShape, x: usize, y: usize) -> f32 {
    let (mut fill, mut nf, mut edge, mut ne) = (0.0f32, 0usize, 0.0f32, 0usize);
    for my in 0..shape.h.min(h.saturating_sub(y)) {
        for mx in 0..shape.w.min(w.saturating_sub(x)) {
            let p = ((y + my) * w + x + mx) * 3;
            let l = 0.299 * f32::from(frame[p])
                + 0.587 * f32::from(frame[p + 1])
                + 0.114 * f32::from(frame[p + 2]);
            match shape.mask[my * shape.w + mx] {
                2 => {
                    fill += l;
                    nf += 1;
                }
                1 => {
                    edge += l;
                    ne += 1;
                }
                _ => {}
            }
        }
    }
    if nf == 0 || ne == 0 {
        return 0.0;
    }
    fill / nf as f32 - edge / ne as f32
}

/// The fraction of frames (`[T, H, W, 3]` bytes) on which the mark of
/// `generation_id` stands out where [`position`] puts it: its fill is
/// brighter than its outline by at least 40 luma levels and by more than at
/// any other anchor.
pub fn check(
    frames: &[u8],
    t: usize,
    h: usize,
    w: usize,
    fps: f64,
    generation_id: u64,
    handle: Option<&str>,
) -> f64 {
    if t == 0 || frames.len() < t * h * w * 3 {
        return 0.0;
    }
    let shape = MarkShape::new(h, handle);
    let an = anchors(w, h, &shape);
    let mut ok = 0usize;
    for i in 0..t {
        let f = &frames[i * h * w * 3..(i + 1) * h * w * 3];
        let (x, y) = position(generation_id, i, fps, w, h, &shape);
        let c = contrast(f, w, h, &shape, x, y);
        let others = an
            .iter()
            .filter(|&&(ax, ay)| ax.abs_diff(x) > shape.w / 2 || ay.abs_diff(y) > shape.h / 2)
            .map(|&(ax, ay)| contrast(f, w, h, &shape, ax, ay))
            .fold(f32::NEG_INFINITY, f32::max);
        if c >= 40.0 && c > others {
            ok += 1;
        }
    }
    ok as f64 / t as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_rederived_and_keyed() {
        let a = path(42, 200, 16.0, 320, 240, Some("@me"));
        assert_eq!(a, path(42, 200, 16.0, 320, 240, Some("@me")));
        assert_ne!(a, path(43, 200, 16.0, 320, 240, Some("@me")));
        // It moves: more than one anchor over 12 s.
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 2);
        // Holds still within a segment.
        assert_eq!(a[0], a[30]);
    }

    #[test]
    fn drawn_mark_is_found_where_the_path_says() {
        let (t, h, w) = (40usize, 120usize, 200usize);
        let mut frames: Vec<u8> = (0..t * h * w * 3)
            .map(|i| ((i * 7) % 97 + 60) as u8)
            .collect();
        let plain = frames.clone();
        let shape = MarkShape::new(h, Some("@ada"));
        for i in 0..t {
            let (x, y) = position(9, i, 8.0, w, h, &shape);
            draw(
                &mut frames[i * h * w * 3..(i + 1) * h * w * 3],
                h,
                w,
                &shape,
                x,
                y,
            );
        }
        assert_eq!(check(&frames, t, h, w, 8.0, 9, Some("@ada")), 1.0);
        assert!(check(&plain, t, h, w, 8.0, 9, Some("@ada")) < 0.1);
        assert!(check(&frames, t, h, w, 8.0, 10, Some("@ada")) < 1.0);
    }
}
