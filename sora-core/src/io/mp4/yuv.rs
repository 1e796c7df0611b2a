//! RGB ↔ YUV 4:2:0 (I420) with the BT.601 matrix in limited ("TV") range, the
//! colour space the H.264 writer signals in its VUI and that decoders assume for
//! unsignalled SD/HD content. Chroma is averaged over each 2×2 block (centre
//! sited) and upsampled bilinearly (weights 3/4, 1/4) on the way back.

use ndarray::ArrayView3;

/// `[H, W, 3]` RGB (even H and W) → one I420 buffer: Y (W·H), U and V (W/2·H/2).
pub(crate) fn rgb_to_i420(frame: ArrayView3<u8>) -> Vec<u8> {
    let (h, w) = (frame.shape()[0], frame.shape()[1]);
    let frame = frame.as_standard_layout();
    let rgb = frame.as_slice().unwrap_or(&[]);
    let (cw, chh) = (w / 2, h / 2);
    let mut out = vec![0u8; w * h + 2 * cw * chh];
    let (y_plane, uv) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(cw * chh);
    let px = |i: usize| {
        let p = &rgb[3 * i..3 * i + 3];
        (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
    };
    for (i, y) in y_plane.iter_mut().enumerate() {
        let (r, g, b) = px(i);
        *y = to_u8(16.0 + 0.256_788 * r + 0.504_129 * g + 0.097_906 * b);
    }
    for cy in 0..chh {
        for cx in 0..cw {
            let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let p = px((2 * cy + dy) * w + 2 * cx + dx);
                r += p.0;
                g += p.1;
                b += p.2;
            }
            let (r, g, b) = (r / 4.0, g / 4.0, b / 4.0);
            u_plane[cy * cw + cx] = to_u8(128.0 - 0.148_223 * r - 0.290_993 * g + 0.439_216 * b);
            v_plane[cy * cw + cx] = to_u8(128.0 + 0.439_216 * r - 0.367_788 * g - 0.071_427 * b);
        }
    }
    out
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// One decoded picture's planes: `(data, stride)` for Y, U and V.
pub(crate) struct Planes<'a> {
    pub y: (&'a [u8], usize),
    pub u: (&'a [u8], usize),
    pub v: (&'a [u8], usize),
}

/// Chroma value at full-resolution column/row `x` from a row of half
/// resolution: bilinear with centre-sited samples (3/4 nearest, 1/4 next).
#[inline]
fn up(row: &[f32], x: usize) -> f32 {
    let n = row.len();
    let i = x / 2;
    let j = if x % 2 == 0 {
        i.saturating_sub(1)
    } else {
        (i + 1).min(n - 1)
    };
    0.75 * row[i] + 0.25 * row[j]
}

/// I420 planes of a `w × h` picture → RGB written into `out` (`h · w · 3` bytes).
pub(crate) fn i420_to_rgb(p: &Planes, w: usize, h: usize, out: &mut [u8]) {
    let (cw, chh) = (w.div_ceil(2), h.div_ceil(2));
    let mut urow = vec![0f32; w];
    let mut vrow = vec![0f32; w];
    let mut uu = vec![0f32; cw];
    let mut vv = vec![0f32; cw];
    for yy in 0..h {
        // Vertical interpolation of the two nearest chroma rows, then horizontal.
        let ci = yy / 2;
        let cj = if yy % 2 == 0 {
            ci.saturating_sub(1)
        } else {
            (ci + 1).min(chh - 1)
        };
        for (cx, (u, v)) in uu.iter_mut().zip(vv.iter_mut()).enumerate() {
            let a = |plane: (&[u8], usize), row: usize| f32::from(plane.0[row * plane.1 + cx]);
            *u = 0.75 * a(p.u, ci) + 0.25 * a(p.u, cj);
            *v = 0.75 * a(p.v, ci) + 0.25 * a(p.v, cj);
        }
        for x in 0..w {
            urow[x] = up(&uu, x) - 128.0;
            vrow[x] = up(&vv, x) - 128.0;
        }
        let yrow = &p.y.0[yy * p.y.1..yy * p.y.1 + w];
        let orow = &mut out[yy * w * 3..(yy + 1) * w * 3];
        for x in 0..w {
            let l = 1.164_384 * (f32::from(yrow[x]) - 16.0);
            let (u, v) = (urow[x], vrow[x]);
            orow[3 * x] = to_u8(l + 1.596_027 * v);
            orow[3 * x + 1] = to_u8(l - 0.391_762 * u - 0.812_968 * v);
            orow[3 * x + 2] = to_u8(l + 2.017_232 * u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn round_trip_of_a_smooth_image_is_close() {
        let (h, w) = (16, 24);
        let img = Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
            [(x * 10) as u8, (y * 15) as u8, (100 + x + y) as u8][c]
        });
        let yuv = rgb_to_i420(img.view());
        let (cw, ch) = (w / 2, h / 2);
        let planes = Planes {
            y: (&yuv[..w * h], w),
            u: (&yuv[w * h..w * h + cw * ch], cw),
            v: (&yuv[w * h + cw * ch..], cw),
        };
        let mut out = vec![0u8; h * w * 3];
        i420_to_rgb(&planes, w, h, &mut out);
        let mean: f64 = img
            .iter()
            .zip(&out)
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
            .sum::<f64>()
            / out.len() as f64;
        assert!(mean < 1.5, "mean abs diff {mean}");
    }

    #[test]
    fn grey_levels_survive() {
        for v in [0u8, 16, 128, 200, 255] {
            let img = Array3::from_elem((2, 2, 3), v);
            let yuv = rgb_to_i420(img.view());
            let planes = Planes {
                y: (&yuv[..4], 2),
                u: (&yuv[4..5], 1),
                v: (&yuv[5..6], 1),
            };
            let mut out = vec![0u8; 12];
            i420_to_rgb(&planes, 2, 2, &mut out);
            assert!(
                out.iter()
                    .all(|o| (i32::from(*o) - i32::from(v)).abs() <= 1),
                "{v}: {out:?}"
            );
        }
    }
}
