//! Object tracks from frames, with no learned weights: a background from the
//! per-pixel temporal median (LibTorch), foreground where a frame differs from
//! it, connected components split by colour, then tracks by Hungarian
//! assignment on position and colour. Each tracked object is re-measured by
//! its own colour near where it is expected, so that an object that comes to
//! rest (and melts into the median background) keeps its track and its area.

use ndarray::ArrayView4;
use tch::{Kind, Tensor};

use super::hungarian::assign;
use crate::{Error, Result};

/// One object in one frame (pixel units, x right, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Centroid (px).
    pub x: f32,
    /// Centroid (px).
    pub y: f32,
    /// Area (pixels).
    pub area: f32,
    /// Bounding box `[x0, y0, x1, y1]` (inclusive pixel indices).
    pub bbox: [f32; 4],
    /// Mean colour.
    pub colour: [f32; 3],
    /// Whether the box touches the frame's edge.
    pub at_border: bool,
}

/// One object followed through the clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Its number (0-based, in the order tracks start).
    pub id: u32,
    /// Its colour (mean over the first detection).
    pub colour: [f32; 3],
    /// The frame of its first observation.
    pub first_frame: usize,
    /// One entry per frame from `first_frame` (`None`: not seen).
    pub obs: Vec<Option<Observation>>,
}

impl Track {
    /// Its observation at `frame`.
    pub fn at(&self, frame: usize) -> Option<&Observation> {
        frame
            .checked_sub(self.first_frame)
            .and_then(|i| self.obs.get(i))
            .and_then(|o| o.as_ref())
    }

    /// The frame of its last observation.
    pub fn last_frame(&self) -> usize {
        let seen = self.obs.iter().rposition(|o| o.is_some()).unwrap_or(0);
        self.first_frame + seen
    }

    /// How many frames it was seen in.
    pub fn seen(&self) -> usize {
        self.obs.iter().filter(|o| o.is_some()).count()
    }
}

/// Settings of the tracker (defaults suit 8-bit clips of 64–832 px).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackParams {
    /// A pixel is foreground when a channel differs from the background by more than this.
    pub foreground: i64,
    /// Neighbouring foreground pixels join one component when their colours differ
    /// by less than this (sum of channel differences).
    pub join: i32,
    /// A pixel belongs to a tracked object when its colour is within this
    /// (Euclidean RGB) distance of the object's colour.
    pub colour_tolerance: f32,
    /// Components smaller than this share of the frame are ignored (with at least 6 px).
    pub min_area_share: f32,
    /// Frames a track may go unseen before it ends.
    pub max_gap: usize,
}

impl Default for TrackParams {
    fn default() -> Self {
        TrackParams {
            foreground: 40,
            join: 90,
            colour_tolerance: 60.0,
            min_area_share: 1.0 / 1500.0,
            max_gap: 2,
        }
    }
}

/// One frame's pixels (`[H, W, 3]`, row-major) and the background model's.
struct Frame<'a> {
    px: &'a [u8],
    bg: &'a [u8],
    w: usize,
    h: usize,
}

impl Frame<'_> {
    fn rgb(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.w + x) * 3;
        [
            self.px[i] as f32,
            self.px[i + 1] as f32,
            self.px[i + 2] as f32,
        ]
    }
}

fn colour_dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Gathers an observation from a list of pixel indices. Its colour is the
/// per-channel median, the object's own colour rather than a blend with its
/// soft edge.
fn observe(frame: &Frame, pixels: &[usize]) -> Observation {
    let (mut sx, mut sy) = (0.0f64, 0.0f64);
    let mut channels: [Vec<u8>; 3] = Default::default();
    let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for &p in pixels {
        let (x, y) = (p % frame.w, p / frame.w);
        sx += x as f64;
        sy += y as f64;
        for (k, ch) in channels.iter_mut().enumerate() {
            ch.push(frame.px[p * 3 + k]);
        }
        bbox[0] = bbox[0].min(x as f32);
        bbox[1] = bbox[1].min(y as f32);
        bbox[2] = bbox[2].max(x as f32);
        bbox[3] = bbox[3].max(y as f32);
    }
    let n = pixels.len().max(1) as f64;
    let mut colour = [0.0f32; 3];
    for (c, ch) in colour.iter_mut().zip(channels.iter_mut()) {
        ch.sort_unstable();
        *c = ch.get(ch.len() / 2).copied().unwrap_or(0) as f32;
    }
    Observation {
        x: (sx / n) as f32 + 0.5,
        y: (sy / n) as f32 + 0.5,
        area: pixels.len() as f32,
        bbox,
        colour,
        at_border: bbox[0] <= 0.0
            || bbox[1] <= 0.0
            || bbox[2] >= (frame.w - 1) as f32
            || bbox[3] >= (frame.h - 1) as f32,
    }
}

/// Connected components (4-neighbours) of the pixels in `[x0, x1) × [y0, y1)`
/// for which `member(x, y)` holds and neighbours `joined(a, b)`.
fn components(
    frame: &Frame,
    window: [usize; 4],
    member: impl Fn(usize, usize) -> bool,
    joined: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    let [x0, y0, x1, y1] = window;
    let ww = x1 - x0;
    let mut seen = vec![false; ww * (y1 - y0)];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let li = (y - y0) * ww + (x - x0);
            if seen[li] || !member(x, y) {
                continue;
            }
            seen[li] = true;
            stack.push((x, y));
            let mut comp = Vec::new();
            while let Some((cx, cy)) = stack.pop() {
                comp.push(cy * frame.w + cx);
                let mut visit = |nx: usize, ny: usize| {
                    let nl = (ny - y0) * ww + (nx - x0);
                    if !seen[nl] && member(nx, ny) && joined(cy * frame.w + cx, ny * frame.w + nx) {
                        seen[nl] = true;
                        stack.push((nx, ny));
                    }
                };
                if cx > x0 {
                    visit(cx - 1, cy);
                }
                if cx + 1 < x1 {
                    visit(cx + 1, cy);
                }
                if cy > y0 {
                    visit(cx, cy - 1);
                }
                if cy + 1 < y1 {
                    visit(cx, cy + 1);
                }
            }
            out.push(comp);
        }
    }
    out
}

/// The per-pixel temporal median of up to 25 evenly spaced frames, `[H, W, 3]`.
fn background(frames: &Tensor, t: i64) -> Result<Tensor> {
    let step = (t / 25).max(1);
    let picked = frames.f_slice(0, 0, t, step)?;
    let (median, _) = picked.f_median_dim(0, false)?;
    Ok(median)
}

/// Foreground masks `[T, H, W]` (1 = differs from the background).
fn foreground(frames: &Tensor, bg: &Tensor, threshold: i64) -> Result<Vec<u8>> {
    let t = frames.size()[0];
    let bg = bg.f_to_kind(Kind::Int16)?;
    let mut out = Vec::new();
    let chunk = 8;
    let mut s = 0;
    while s < t {
        let e = (s + chunk).min(t);
        let part = frames.f_slice(0, s, e, 1)?.f_to_kind(Kind::Int16)?;
        let mask = part
            .f_sub(&bg)?
            .f_abs()?
            .f_amax([3i64].as_slice(), false)?
            .f_gt(threshold)?
            .f_to_kind(Kind::Uint8)?
            .f_contiguous()?;
        let n = mask.numel();
        let mut buf = vec![0u8; n];
        mask.f_copy_data(&mut buf, n)?;
        out.extend_from_slice(&buf);
        s = e;
    }
    Ok(out)
}

/// The objects the foreground shows in one frame.
fn detect(
    frame: &Frame,
    mask: &[u8],
    p: &TrackParams,
    min_area: usize,
    bg_colour: [f32; 3],
) -> Vec<Observation> {
    let (w, h) = (frame.w, frame.h);
    let join = p.join;
    let comps = components(
        frame,
        [0, 0, w, h],
        |x, y| mask[y * w + x] != 0,
        |a, b| {
            let (pa, pb) = (&frame.px[a * 3..a * 3 + 3], &frame.px[b * 3..b * 3 + 3]);
            let d: i32 = (0..3).map(|k| (pa[k] as i32 - pb[k] as i32).abs()).sum();
            d < join
        },
    );
    let max_area = w * h * 2 / 5;
    comps
        .iter()
        .filter(|c| c.len() >= min_area && c.len() <= max_area)
        .map(|c| observe(frame, c))
        // One-pixel lines are soft edges, not objects.
        .filter(|o| o.bbox[2] > o.bbox[0] && o.bbox[3] > o.bbox[1])
        .filter(|o| colour_dist(o.colour, bg_colour) > 50.0 && !looks_like_surroundings(frame, o))
        .collect()
}

/// A component whose colour matches the ring of pixels around it is a ghost
/// (a place the background model remembers an object at), not an object.
fn looks_like_surroundings(frame: &Frame, o: &Observation) -> bool {
    let x0 = (o.bbox[0] as i64 - 2).max(0) as usize;
    let y0 = (o.bbox[1] as i64 - 2).max(0) as usize;
    let x1 = ((o.bbox[2] as usize) + 2).min(frame.w - 1);
    let y1 = ((o.bbox[3] as usize) + 2).min(frame.h - 1);
    let mut sum = [0.0f32; 3];
    let mut n = 0.0f32;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let inside = x as f32 >= o.bbox[0]
                && x as f32 <= o.bbox[2]
                && y as f32 >= o.bbox[1]
                && y as f32 <= o.bbox[3];
            if !inside {
                let c = frame.rgb(x, y);
                for k in 0..3 {
                    sum[k] += c[k];
                }
                n += 1.0;
            }
        }
    }
    n > 0.0 && colour_dist([sum[0] / n, sum[1] / n, sum[2] / n], o.colour) < 30.0
}

/// The object of colour `colour` inside `window` `[x0, y0, x1, y1)` nearest `near`.
fn measure(
    frame: &Frame,
    colour: [f32; 3],
    window: [usize; 4],
    near: [f32; 2],
    p: &TrackParams,
    min_area: usize,
) -> Option<Observation> {
    let tol = p.colour_tolerance;
    let comps = components(
        frame,
        window,
        |x, y| colour_dist(frame.rgb(x, y), colour) < tol,
        |_, _| true,
    );
    comps
        .iter()
        .filter(|c| c.len() >= min_area)
        .map(|c| (observe(frame, c), c))
        .min_by(|(a, _), (b, _)| {
            let da = (a.x - near[0]).powi(2) + (a.y - near[1]).powi(2);
            let db = (b.x - near[0]).powi(2) + (b.y - near[1]).powi(2);
            da.total_cmp(&db)
        })
        .map(|(o, c)| subpixel(frame, o, c, colour))
}

/// Sharpens an observation with the soft edge: each pixel bordering the
/// component counts with its coverage, read as where its colour lies between
/// the background model's and the object's (none where the two are alike).
fn subpixel(frame: &Frame, o: Observation, pixels: &[usize], colour: [f32; 3]) -> Observation {
    let w = frame.w;
    let inside: std::collections::HashSet<usize> = pixels.iter().copied().collect();
    let (mut sx, mut sy, mut sa) = (0.0f64, 0.0f64, 0.0f64);
    for &p in pixels {
        sx += (p % w) as f64;
        sy += (p / w) as f64;
        sa += 1.0;
    }
    let mut seen = std::collections::HashSet::new();
    for &p in pixels {
        let (x, y) = (p % w, p / w);
        let around = [
            (x > 0).then(|| p - 1),
            (x + 1 < w).then(|| p + 1),
            (y > 0).then(|| p - w),
            (y + 1 < frame.h).then(|| p + w),
        ];
        for q in around.into_iter().flatten() {
            if inside.contains(&q) || !seen.insert(q) {
                continue;
            }
            let bg = [
                frame.bg[q * 3] as f32,
                frame.bg[q * 3 + 1] as f32,
                frame.bg[q * 3 + 2] as f32,
            ];
            let px = frame.rgb(q % w, q / w);
            let d = [colour[0] - bg[0], colour[1] - bg[1], colour[2] - bg[2]];
            let dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if dd < 60.0 * 60.0 {
                continue;
            }
            let along = (0..3).map(|k| (px[k] - bg[k]) * d[k]).sum::<f32>() / dd;
            let alpha = along.clamp(0.0, 1.0) as f64;
            sx += alpha * (q % w) as f64;
            sy += alpha * (q / w) as f64;
            sa += alpha;
        }
    }
    Observation {
        x: (sx / sa) as f32 + 0.5,
        y: (sy / sa) as f32 + 0.5,
        area: sa as f32,
        ..o
    }
}

/// A window around a box, grown by `margin` px and clipped to the frame.
fn window(b: [f32; 4], margin: f32, w: usize, h: usize) -> [usize; 4] {
    [
        (b[0] - margin).floor().max(0.0) as usize,
        (b[1] - margin).floor().max(0.0) as usize,
        ((b[2] + margin + 1.0).ceil().max(0.0) as usize).min(w),
        ((b[3] + margin + 1.0).ceil().max(0.0) as usize).min(h),
    ]
}

/// A track still being followed.
struct Live {
    track: Track,
    last: Observation,
    vel: [f32; 2],
    missed: usize,
}

/// Tracks the objects of `frames` (`[T, H, W, 3]`).
pub fn track(frames: ArrayView4<u8>, p: &TrackParams) -> Result<Vec<Track>> {
    let s = frames.shape();
    let (t, h, w) = (s[0], s[1], s[2]);
    if t == 0 || h < 4 || w < 4 || s[3] != 3 {
        return Err(Error::invalid(format!(
            "tracking needs frames [T, H ≥ 4, W ≥ 4, 3], got {s:?}"
        )));
    }
    let data = frames.as_standard_layout();
    let flat = data
        .as_slice()
        .ok_or_else(|| Error::invalid("frames are not contiguous"))?;
    let tensor = Tensor::f_from_slice(flat)?.f_reshape([t as i64, h as i64, w as i64, 3])?;
    let bg = background(&tensor, t as i64)?;
    let bg_px: Vec<u8> = Vec::<u8>::try_from(&bg.f_contiguous()?.f_view([-1])?)?;
    // The background's typical colour: a component of that colour is a place
    // the median remembers an object at, not an object.
    let bg_colour = {
        let (m, _) = bg.f_reshape([-1, 3])?.f_median_dim(0, false)?;
        let v: Vec<u8> = Vec::<u8>::try_from(&m)?;
        [v[0] as f32, v[1] as f32, v[2] as f32]
    };
    let masks = foreground(&tensor, &bg, p.foreground)?;
    let min_area = ((w * h) as f32 * p.min_area_share).max(6.0) as usize;
    let diag = ((w * w + h * h) as f32).sqrt();
    let mut live: Vec<Live> = Vec::new();
    let mut done: Vec<Track> = Vec::new();
    let mut next_id = 0u32;
    for f in 0..t {
        let frame = Frame {
            px: &flat[f * h * w * 3..(f + 1) * h * w * 3],
            bg: &bg_px,
            w,
            h,
        };
        let dets = detect(
            &frame,
            &masks[f * h * w..(f + 1) * h * w],
            p,
            min_area,
            bg_colour,
        );
        // Assignment of live tracks to detections.
        let (nr, nc) = (live.len(), dets.len());
        let big = 1e6;
        let mut cost = vec![big; nr * nc];
        for (i, l) in live.iter().enumerate() {
            let pred = [l.last.x + l.vel[0], l.last.y + l.vel[1]];
            for (j, d) in dets.iter().enumerate() {
                let dist = ((d.x - pred[0]).powi(2) + (d.y - pred[1]).powi(2)).sqrt() / diag;
                let cd = colour_dist(d.colour, l.track.colour);
                if cd < 80.0 && dist < 0.6 {
                    cost[i * nc + j] = dist as f64 + 2.0 * (cd / 441.0) as f64;
                }
            }
        }
        let matched = assign(&cost, nr, nc);
        let mut used = vec![false; nc];
        for (i, l) in live.iter_mut().enumerate() {
            let pred = [l.last.x + l.vel[0], l.last.y + l.vel[1]];
            let found = match matched[i].filter(|&j| cost[i * nc + j] < big) {
                Some(j) => {
                    used[j] = true;
                    let d = &dets[j];
                    let grow = 0.25 * (d.bbox[2] - d.bbox[0]).max(d.bbox[3] - d.bbox[1]) + 3.0;
                    measure(
                        &frame,
                        l.track.colour,
                        window(d.bbox, grow, w, h),
                        [d.x, d.y],
                        p,
                        min_area,
                    )
                    .filter(|o| o.area <= 2.5 * l.last.area.max(d.area))
                    .or(Some(*d))
                }
                None => {
                    let b = l.last.bbox;
                    let moved = [
                        b[0] + l.vel[0],
                        b[1] + l.vel[1],
                        b[2] + l.vel[0],
                        b[3] + l.vel[1],
                    ];
                    let margin = (l.vel[0].hypot(l.vel[1])).max(0.06 * w.min(h) as f32);
                    measure(
                        &frame,
                        l.track.colour,
                        window(moved, margin, w, h),
                        pred,
                        p,
                        min_area,
                    )
                    .filter(|o| o.area >= 0.3 * l.last.area && o.area <= 2.5 * l.last.area)
                }
            };
            match found {
                Some(o) => {
                    let gap = (l.missed + 1) as f32;
                    l.vel = [(o.x - l.last.x) / gap, (o.y - l.last.y) / gap];
                    l.last = o;
                    l.missed = 0;
                    l.track.obs.push(Some(o));
                }
                None => {
                    l.missed += 1;
                    l.track.obs.push(None);
                }
            }
        }
        // Small or like-coloured detections touching a followed object are part
        // of it (its soft edge).
        // Largest first, so that an object claims its own soft edge.
        let mut order: Vec<usize> = (0..nc).collect();
        order.sort_by(|&a, &b| dets[b].area.total_cmp(&dets[a].area));
        for j in order {
            let d = &dets[j];
            if used[j] {
                continue;
            }
            let inside = live.iter().any(|l| {
                let b = l.last.bbox;
                let fringe =
                    colour_dist(d.colour, l.track.colour) < 100.0 || d.area < 0.3 * l.last.area;
                l.missed == 0
                    && fringe
                    && d.bbox[0] <= b[2] + 2.0
                    && d.bbox[2] >= b[0] - 2.0
                    && d.bbox[1] <= b[3] + 2.0
                    && d.bbox[3] >= b[1] - 2.0
            });
            if inside {
                continue;
            }
            let colour = d.colour;
            let o = measure(
                &frame,
                colour,
                window(d.bbox, 2.0, w, h),
                [d.x, d.y],
                p,
                min_area,
            )
            .unwrap_or(*d);
            live.push(Live {
                track: Track {
                    id: next_id,
                    colour,
                    first_frame: f,
                    obs: vec![Some(o)],
                },
                last: o,
                vel: [0.0, 0.0],
                missed: 0,
            });
            next_id += 1;
        }
        let (ended, kept): (Vec<Live>, Vec<Live>) =
            live.into_iter().partition(|l| l.missed > p.max_gap);
        done.extend(ended.into_iter().map(|l| l.track));
        live = kept;
    }
    done.extend(live.into_iter().map(|l| l.track));
    for tr in &mut done {
        let keep = tr
            .obs
            .iter()
            .rposition(|o| o.is_some())
            .map_or(0, |i| i + 1);
        tr.obs.truncate(keep);
    }
    done.sort_by_key(|tr| tr.id);
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::report::FindingKind;
    use crate::physics::scenes::{generate, SceneConfig};

    #[test]
    fn tracks_follow_the_simulated_objects() {
        let cfg = SceneConfig::default();
        for seed in 0..4u64 {
            let clip = generate(seed, &cfg, None).unwrap();
            let tracks = track(clip.frames.view(), &TrackParams::default()).unwrap();
            let bodies = clip.trajectory.states[0].len();
            let long: Vec<&Track> = tracks.iter().filter(|t| t.seen() >= 10).collect();
            assert_eq!(
                long.len(),
                bodies,
                "seed {seed}: {} tracks for {bodies} bodies",
                long.len()
            );
            for tr in long {
                let mut errs = Vec::new();
                for f in tr.first_frame..=tr.last_frame() {
                    if let Some(o) = tr.at(f) {
                        let best = (0..bodies)
                            .filter_map(|b| clip.position_px(f, b))
                            .map(|p| (p[0] - o.x).hypot(p[1] - o.y))
                            .fold(f32::MAX, f32::min);
                        errs.push(best);
                    }
                }
                let mean = errs.iter().sum::<f32>() / errs.len() as f32;
                assert!(
                    mean < 0.6,
                    "seed {seed} track {}: mean centroid error {mean} px",
                    tr.id
                );
            }
        }
        let clip = generate(3, &cfg, Some(FindingKind::Vanish)).unwrap();
        assert!(track(
            clip.frames.slice(ndarray::s![.., ..2, .., ..]),
            &TrackParams::default()
        )
        .is_err());
    }
}
