//! A picture of one track for the docs and for users: a frame of the clip
//! (dimmed, enlarged), the track's observed centres (white dots), each
//! segment's constant-acceleration fit (green curves) and the frames a finding
//! flagged (red rings), written as a PNG with the `image` crate.

use std::path::Path;

use image::{Rgb, RgbImage};
use ndarray::ArrayView4;

use super::detect::ObjectAnalysis;
use crate::{Error, Result};

/// Enlarges pixels by this factor.
const SCALE: u32 = 4;

fn put(img: &mut RgbImage, x: f64, y: f64, c: [u8; 3]) {
    if x >= 0.0 && y >= 0.0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

/// A filled disc (radius `r` px) at `(x, y)`.
fn disc(img: &mut RgbImage, x: f64, y: f64, r: f64, c: [u8; 3]) {
    let ri = r.ceil() as i64;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            if ((dx * dx + dy * dy) as f64) <= r * r {
                put(img, x + dx as f64, y + dy as f64, c);
            }
        }
    }
}

/// A ring between radii `r - 1.5` and `r`.
fn ring(img: &mut RgbImage, x: f64, y: f64, r: f64, c: [u8; 3]) {
    let ri = r.ceil() as i64;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d = ((dx * dx + dy * dy) as f64).sqrt();
            if d <= r && d >= r - 1.5 {
                put(img, x + dx as f64, y + dy as f64, c);
            }
        }
    }
}

/// Draws track `track` of `analysis` over frame `frame` of `frames` and writes
/// the PNG to `path`.
pub fn draw_track(
    frames: ArrayView4<u8>,
    frame: usize,
    analysis: &ObjectAnalysis,
    track: u32,
    path: &Path,
) -> Result<()> {
    let s = frames.shape();
    if frame >= s[0] || s[3] != 3 {
        return Err(Error::invalid(format!(
            "no frame {frame} in frames of shape {s:?}"
        )));
    }
    let tr = analysis
        .tracks
        .iter()
        .find(|t| t.id == track)
        .ok_or_else(|| Error::invalid(format!("no track {track}")))?;
    let (h, w) = (s[1] as u32, s[2] as u32);
    let mut img = RgbImage::new(w * SCALE, h * SCALE);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (fx, fy) = ((x / SCALE) as usize, (y / SCALE) as usize);
        let c = |k: usize| (frames[[frame, fy, fx, k]] as f32 * 0.45) as u8;
        *p = Rgb([c(0), c(1), c(2)]);
    }
    let k = SCALE as f64;
    for seg in analysis.segments.iter().filter(|s| s.track == track) {
        let steps = (seg.len() * 12).max(2);
        for i in 0..=steps {
            let f = seg.start as f64 + (seg.end - seg.start) as f64 * i as f64 / steps as f64;
            let p = seg.pos(f);
            disc(&mut img, p[0] * k, p[1] * k, 1.2, [60, 230, 90]);
        }
    }
    for f in tr.first_frame..=tr.last_frame() {
        if let Some(o) = tr.at(f) {
            disc(
                &mut img,
                o.x as f64 * k,
                o.y as f64 * k,
                2.2,
                [245, 245, 245],
            );
        }
    }
    for finding in analysis.findings.iter().filter(|f| f.track == Some(track)) {
        for f in finding.start_frame..=finding.end_frame {
            if let Some(o) = tr.at(f as usize) {
                ring(&mut img, o.x as f64 * k, o.y as f64 * k, 7.0, [240, 40, 40]);
            }
        }
    }
    img.save(path)
        .map_err(|e| Error::media(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::detect::analyze_frames;
    use crate::physics::report::FindingKind;
    use crate::physics::scenes::{generate, SceneConfig};

    /// Draws the picture of `docs/img/physics-track.png` (a gravity flip):
    /// `SORA_DRAW_DOCS=1 cargo test -p sora-core --lib physics::plot`.
    #[test]
    fn draws_a_track_with_its_fit_and_flags() {
        let clip = generate(1009, &SceneConfig::default(), Some(FindingKind::Gravity)).unwrap();
        let a = analyze_frames(clip.frames.view(), clip.fps as f64).unwrap();
        let flagged = a.findings.iter().find_map(|f| f.track).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("sora-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("track.png");
        draw_track(clip.frames.view(), 47, &a, flagged, &path).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (96 * SCALE, 96 * SCALE));
        assert!(
            img.pixels().any(|p| p.0 == [240, 40, 40]),
            "flagged frames drawn"
        );
        assert!(img.pixels().any(|p| p.0 == [60, 230, 90]), "fits drawn");
        if std::env::var_os("SORA_DRAW_DOCS").is_some() {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img/physics-track.png");
            std::fs::create_dir_all(docs.parent().unwrap()).unwrap();
            std::fs::copy(&path, docs).unwrap();
        }
        assert!(draw_track(clip.frames.view(), 99, &a, flagged, &path).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
