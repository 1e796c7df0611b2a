//! The loss curve as a PNG, drawn by the project with the `image` crate (no
//! fonts): a white 640×360 canvas, grey axes with a faint horizontal line at
//! every power of ten of a logarithmic loss axis, each step's loss as light
//! blue points and their running mean (window of 1/20 of the run, at least
//! 1) as a dark blue line. Steps run left to right.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::{Error, Result};

const W: u32 = 640;
const H: u32 = 360;
const MARGIN: u32 = 24;

fn put(img: &mut RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

/// A line from `(x0, y0)` to `(x1, y1)`, one pixel wide.
fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3]) {
    let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as i64).max(1);
    for i in 0..=n {
        let t = i as f64 / n as f64;
        put(
            img,
            (x0 + (x1 - x0) * t).round() as i64,
            (y0 + (y1 - y0) * t).round() as i64,
            c,
        );
    }
}

/// The running mean of `v` over a trailing window of `w` values.
pub fn running_mean(v: &[f64], w: usize) -> Vec<f64> {
    let w = w.max(1);
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= w {
            sum -= v[i - w];
        }
        out.push(sum / (i + 1).min(w) as f64);
    }
    out
}

/// Draws `losses` (one per step; positive finite values are drawn) as the
/// picture described in the module's doc.
pub fn draw(losses: &[f64]) -> Result<RgbImage> {
    let vals: Vec<(usize, f64)> = losses
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && **v > 0.0)
        .map(|(i, v)| (i, v.log10()))
        .collect();
    if vals.is_empty() {
        return Err(Error::invalid("no positive finite loss to draw"));
    }
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let lo = vals
        .iter()
        .map(|v| v.1)
        .fold(f64::INFINITY, f64::min)
        .floor();
    let mut hi = vals
        .iter()
        .map(|v| v.1)
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil();
    if hi <= lo {
        hi = lo + 1.0;
    }
    let (x0, x1) = (MARGIN as f64, (W - MARGIN) as f64);
    let (y0, y1) = ((H - MARGIN) as f64, MARGIN as f64);
    let steps = losses.len().max(2) - 1;
    let px = |i: usize| x0 + (x1 - x0) * i as f64 / steps as f64;
    let py = |l: f64| y0 + (y1 - y0) * (l - lo) / (hi - lo);
    let mut decade = lo;
    while decade <= hi {
        line(
            &mut img,
            (x0, py(decade)),
            (x1, py(decade)),
            [230, 230, 230],
        );
        decade += 1.0;
    }
    line(&mut img, (x0, y0), (x1, y0), [120, 120, 120]);
    line(&mut img, (x0, y0), (x0, y1), [120, 120, 120]);
    for &(i, l) in &vals {
        let (x, y) = (px(i).round() as i64, py(l).round() as i64);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            put(&mut img, x + dx, y + dy, [150, 190, 240]);
        }
    }
    let smooth = running_mean(
        &vals.iter().map(|v| v.1).collect::<Vec<_>>(),
        losses.len() / 20,
    );
    for k in 1..vals.len() {
        line(
            &mut img,
            (px(vals[k - 1].0), py(smooth[k - 1])),
            (px(vals[k].0), py(smooth[k])),
            [20, 60, 160],
        );
    }
    Ok(img)
}

/// Draws `losses` ([`draw`]) and writes the PNG to `path`.
pub fn write(losses: &[f64], path: &Path) -> Result<()> {
    draw(losses)?
        .save(path)
        .map_err(|e| Error::media(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_falling_curve() {
        let losses: Vec<f64> = (0..200).map(|i| 1.0 / (1.0 + i as f64 * 0.1)).collect();
        let img = draw(&losses).unwrap();
        assert_eq!(img.dimensions(), (W, H));
        // The smoothed curve starts high at the left and ends low at the right.
        let dark = |x: u32| (0..H).find(|&y| img.get_pixel(x, y).0 == [20, 60, 160]);
        let (a, b) = (dark(MARGIN + 2).unwrap(), dark(W - MARGIN - 2).unwrap());
        assert!(a < b, "{a} {b}");
        assert!(draw(&[f64::NAN]).is_err());
        assert_eq!(running_mean(&[1.0, 3.0, 5.0], 2), vec![1.0, 2.0, 4.0]);
        let path = std::env::temp_dir().join(format!("sora-curve-{}.png", std::process::id()));
        write(&losses, &path).unwrap();
        assert!(image::open(&path).is_ok());
        std::fs::remove_file(&path).ok();
    }
}
