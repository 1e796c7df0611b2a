//! Object-level physics: splits each track into contact-free segments (at
//! bounces, collisions and jumps), fits constant acceleration to each by least
//! squares, and reports what viewers notice: teleports, objects appearing or
//! vanishing with no occluder, rigid objects changing size, bounces that give
//! back more speed than they took (restitution > 1), and gravity that differs
//! between segments or objects. Units: pixels and frames inside, px/s² in
//! gravity findings; thresholds are the `const`s below (see `docs/`).

use super::input::ScoreInput;
use super::report::{Finding, FindingKind, PhysicsReport};
use super::tracks::{track, Observation, Track, TrackParams};
use crate::Result;

/// A jump larger than its neighbouring steps by this share of the frame's
/// smaller side is a teleport.
pub const TELEPORT_SHARE: f64 = 0.1;
/// A rigid object's area may drift by this share of its first area.
pub const SHAPE_DRIFT: f64 = 0.25;
/// …for at least this many consecutive frames before it is reported.
pub const SHAPE_DRIFT_FRAMES: usize = 3;
/// A bounce off a still surface may give back at most this share of the
/// incoming normal speed (1 plus a margin for measurement noise).
pub const MAX_RESTITUTION: f64 = 1.1;
/// A free-flight segment's acceleration may differ from the clip's gravity by
/// this share of it (or by the fit's own uncertainty, if larger).
pub const GRAVITY_SHARE: f64 = 0.35;
/// Least frames of a segment that gets a fit.
pub const MIN_SEGMENT: usize = 3;
/// Segments shorter than this are fitted with the clip's gravity (and no
/// horizontal acceleration) instead of a free acceleration.
pub const MIN_FREE_FIT: usize = 5;
/// Least frames of a segment whose acceleration is compared with gravity.
pub const MIN_GRAVITY_SEGMENT: usize = 6;
/// Tracks seen in fewer frames are ignored (noise).
pub const MIN_TRACK_FRAMES: usize = 3;

/// A constant-acceleration fit `p(t) = p0 + v t + a t² / 2` of one coordinate,
/// `t` in frames from the segment's first frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit1 {
    /// Position at the first frame (px).
    pub p0: f64,
    /// Velocity (px/frame).
    pub v: f64,
    /// Acceleration (px/frame²).
    pub a: f64,
    /// Standard error of `a` (px/frame²).
    pub a_se: f64,
    /// Sum of squared residuals (px²).
    pub sse: f64,
}

impl Fit1 {
    /// Position at `t` frames after the start.
    pub fn at(&self, t: f64) -> f64 {
        self.p0 + self.v * t + 0.5 * self.a * t * t
    }

    /// Velocity at `t`.
    pub fn vel(&self, t: f64) -> f64 {
        self.v + self.a * t
    }
}

/// Least-squares fit of `ys` at frames `ts` (relative), or `None` with fewer than 3 points.
pub fn fit_quadratic(ts: &[f64], ys: &[f64]) -> Option<Fit1> {
    let n = ts.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    // Normal equations of [1, t, t²/2].
    let mut m = [[0.0f64; 3]; 3];
    let mut b = [0.0f64; 3];
    for (&t, &y) in ts.iter().zip(ys) {
        let x = [1.0, t, 0.5 * t * t];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += x[i] * x[j];
            }
            b[i] += x[i] * y;
        }
    }
    let inv = invert3(m)?;
    let c: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| inv[i][j] * b[j]).sum())
        .collect();
    let sse: f64 = ts
        .iter()
        .zip(ys)
        .map(|(&t, &y)| (y - (c[0] + c[1] * t + 0.5 * c[2] * t * t)).powi(2))
        .sum();
    let dof = (n as f64 - 3.0).max(1.0);
    // Position noise of at least 0.1 px (quantisation), so perfect fits keep a finite error.
    let sigma2 = (sse / dof).max(0.01);
    Some(Fit1 {
        p0: c[0],
        v: c[1],
        a: c[2],
        a_se: (sigma2 * inv[2][2]).sqrt(),
        sse,
    })
}

fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 {
        return None;
    }
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            *cell = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    }
    Some(r)
}

/// A contact-free piece of a track with its fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The track.
    pub track: u32,
    /// First frame.
    pub start: usize,
    /// Last frame (inclusive).
    pub end: usize,
    /// Fit of x (px, right).
    pub x: Fit1,
    /// Fit of y (px, down).
    pub y: Fit1,
}

impl Segment {
    /// Frames it spans.
    pub fn len(&self) -> usize {
        self.end + 1 - self.start
    }

    /// Whether it spans no frame (never, kept for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Fitted position at frame `f` (may be fractional).
    pub fn pos(&self, f: f64) -> [f64; 2] {
        let t = f - self.start as f64;
        [self.x.at(t), self.y.at(t)]
    }

    /// Fitted velocity (px/frame) at frame `f`.
    pub fn vel(&self, f: f64) -> [f64; 2] {
        let t = f - self.start as f64;
        [self.x.vel(t), self.y.vel(t)]
    }
}

/// Everything the object analysis found in a clip.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectAnalysis {
    /// The tracks.
    pub tracks: Vec<Track>,
    /// Fitted segments of every track.
    pub segments: Vec<Segment>,
    /// Visual impacts: (frame, fractional, and the track) where a segment
    /// ends in a bounce or collision.
    pub impacts: Vec<(f64, u32)>,
    /// The clip's gravity (px/frame², down positive), when free flight was seen.
    pub gravity: Option<f64>,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// The observed positions of a track, frame by frame.
fn positions(tr: &Track) -> Vec<(usize, Observation)> {
    (tr.first_frame..=tr.last_frame())
        .filter_map(|f| tr.at(f).map(|o| (f, *o)))
        .collect()
}

/// Frames where the track's motion kinks (second difference far from `a_ref`).
fn kinked(pts: &[(usize, Observation)], a_ref: f64, thr: f64) -> Vec<bool> {
    let mut out = vec![false; pts.len()];
    for i in 1..pts.len().saturating_sub(1) {
        let (f0, p0) = pts[i - 1];
        let (f1, p1) = pts[i];
        let (f2, p2) = pts[i + 1];
        if f1 != f0 + 1 || f2 != f1 + 1 {
            continue;
        }
        let ax = (p2.x - 2.0 * p1.x + p0.x) as f64;
        let ay = (p2.y - 2.0 * p1.y + p0.y) as f64;
        out[i] = ax.hypot(ay - a_ref) > thr;
    }
    out
}

/// Splits a track's points into runs with no kink inside and no gap. A run
/// of kinked points ends one run at its first and starts the next at its last.
fn split(pts: &[(usize, Observation)], kinks: &[bool]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    if pts.is_empty() {
        return runs;
    }
    let mut start = 0usize;
    let mut i = 1usize;
    while i < pts.len() {
        if pts[i].0 != pts[i - 1].0 + 1 {
            runs.push((start, i - 1));
            start = i;
        } else if kinks[i] {
            let mut j = i;
            while j + 1 < pts.len() && kinks[j + 1] && pts[j + 1].0 == pts[j].0 + 1 {
                j += 1;
            }
            runs.push((start, i));
            start = j;
            i = j;
        }
        i += 1;
    }
    runs.push((start, pts.len() - 1));
    runs
}

/// Least-squares fit of `ys` at `ts` with the acceleration fixed to `a`.
pub fn fit_fixed(ts: &[f64], ys: &[f64], a: f64) -> Option<Fit1> {
    let n = ts.len();
    if n < 2 || ys.len() != n {
        return None;
    }
    let r: Vec<f64> = ts
        .iter()
        .zip(ys)
        .map(|(t, y)| y - 0.5 * a * t * t)
        .collect();
    let (mt, mr) = (
        ts.iter().sum::<f64>() / n as f64,
        r.iter().sum::<f64>() / n as f64,
    );
    let den: f64 = ts.iter().map(|t| (t - mt).powi(2)).sum();
    let v = if den > 0.0 {
        ts.iter()
            .zip(&r)
            .map(|(t, y)| (t - mt) * (y - mr))
            .sum::<f64>()
            / den
    } else {
        0.0
    };
    let p0 = mr - v * mt;
    let sse = ts
        .iter()
        .zip(&r)
        .map(|(t, y)| (y - p0 - v * t).powi(2))
        .sum();
    Some(Fit1 {
        p0,
        v,
        a,
        a_se: 0.0,
        sse,
    })
}

/// Fits one run of points: a free constant acceleration, or the clip's
/// gravity `g` (px/frame², down) for runs shorter than [`MIN_FREE_FIT`].
fn fit_run(tr: &Track, pts: &[(usize, Observation)], g: f64) -> Option<Segment> {
    let f0 = pts.first()?.0;
    let ts: Vec<f64> = pts.iter().map(|(f, _)| (*f - f0) as f64).collect();
    let xs: Vec<f64> = pts.iter().map(|(_, o)| o.x as f64).collect();
    let ys: Vec<f64> = pts.iter().map(|(_, o)| o.y as f64).collect();
    let (x, y) = if pts.len() < MIN_FREE_FIT {
        (fit_fixed(&ts, &xs, 0.0)?, fit_fixed(&ts, &ys, g)?)
    } else {
        (fit_quadratic(&ts, &xs)?, fit_quadratic(&ts, &ys)?)
    };
    Some(Segment {
        track: tr.id,
        start: f0,
        end: pts.last()?.0,
        x,
        y,
    })
}

/// Splits a long segment in two where that explains it much better (a change
/// of acceleration in mid-flight).
fn change_point(
    tr: &Track,
    pts: &[(usize, Observation)],
    whole: &Segment,
) -> Option<(Segment, Segment)> {
    let n = pts.len();
    if n < 2 * MIN_GRAVITY_SEGMENT {
        return None;
    }
    let sse = whole.x.sse + whole.y.sse;
    let mut best: Option<(f64, Segment, Segment)> = None;
    for s in MIN_GRAVITY_SEGMENT..=n - MIN_GRAVITY_SEGMENT {
        let (a, b) = (fit_run(tr, &pts[..s], 0.0)?, fit_run(tr, &pts[s..], 0.0)?);
        let e = a.x.sse + a.y.sse + b.x.sse + b.y.sse;
        if best.as_ref().map_or(true, |(be, _, _)| e < *be) {
            best = Some((e, a, b));
        }
    }
    let (e, a, b) = best?;
    // Much better, beyond what the position noise (0.3 px per coordinate) explains.
    (sse > 4.0 * e + 2.0 * n as f64 * 0.09).then_some((a, b))
}

/// Whether another track is within `gap` px of `o` at frame `f`.
fn near_other(tracks: &[Track], id: u32, f: usize, o: &Observation, gap: f32) -> bool {
    tracks.iter().filter(|t| t.id != id).any(|t| {
        t.at(f).is_some_and(|p| {
            p.bbox[0] <= o.bbox[2] + gap
                && p.bbox[2] >= o.bbox[0] - gap
                && p.bbox[1] <= o.bbox[3] + gap
                && p.bbox[3] >= o.bbox[1] - gap
        })
    })
}

/// Whether another object within 3 px of `o` at frame `f` changed its own
/// velocity across the contact `(before, after)` frames by at least half of
/// `min_speed` (px/frame): it took part in the collision and momentum moved
/// between the two, so the bounce says nothing about restitution.
fn struck_other(
    tracks: &[Track],
    id: u32,
    f: usize,
    o: &Observation,
    contact: (usize, usize),
    min_speed: f64,
) -> bool {
    let (before, after) = contact;
    tracks.iter().filter(|t| t.id != id).any(|t| {
        let Some(p) = t.at(f) else { return false };
        let gap = 3.0;
        let near = p.bbox[0] <= o.bbox[2] + gap
            && p.bbox[2] >= o.bbox[0] - gap
            && p.bbox[1] <= o.bbox[3] + gap
            && p.bbox[3] >= o.bbox[1] - gap;
        if !near {
            return false;
        }
        let step =
            |f0: usize, f1: usize| Some((t.at(f1)?.x - t.at(f0)?.x, t.at(f1)?.y - t.at(f0)?.y));
        match (
            before.checked_sub(1).and_then(|b0| step(b0, before)),
            step(after, after + 1),
        ) {
            (Some(v1), Some(v2)) => {
                ((v2.0 - v1.0) as f64).hypot((v2.1 - v1.1) as f64) >= 0.5 * min_speed
            }
            // Not enough of the other's path to tell: assume it took part.
            _ => true,
        }
    })
}

/// Whether a box moved by `v` leaves the frame by more than 30 % of its size.
fn leaves_frame(o: &Observation, v: [f32; 2], w: usize, h: usize) -> bool {
    let b = [
        o.bbox[0] + v[0],
        o.bbox[1] + v[1],
        o.bbox[2] + v[0],
        o.bbox[3] + v[1],
    ];
    let (bw, bh) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    let out_x = (-b[0]).max(0.0) + (b[2] - (w as f32 - 1.0)).max(0.0);
    let out_y = (-b[1]).max(0.0) + (b[3] - (h as f32 - 1.0)).max(0.0);
    out_x > 0.3 * bw || out_y > 0.3 * bh
}

fn finding(
    kind: FindingKind,
    start: usize,
    end: usize,
    track: u32,
    value: f64,
    threshold: f64,
) -> Finding {
    Finding {
        kind,
        start_frame: start as u32,
        end_frame: end as u32,
        track: Some(track),
        value,
        threshold,
    }
}

/// Teleports: a step much longer than the steps around it.
fn teleports(tr: &Track, pts: &[(usize, Observation)], thr: f64, out: &mut Vec<Finding>) {
    let step = |i: usize| -> Option<f64> {
        let (a, b) = (pts.get(i.checked_sub(1)?)?, pts.get(i)?);
        (b.0 == a.0 + 1).then(|| ((b.1.x - a.1.x) as f64).hypot((b.1.y - a.1.y) as f64))
    };
    for i in 1..pts.len() {
        let Some(d) = step(i) else { continue };
        let around = [i.checked_sub(1).and_then(step), step(i + 1)];
        let neighbour = around.iter().flatten().fold(0.0f64, |m, v| m.max(*v));
        let excess = d - neighbour;
        if excess > thr {
            out.push(finding(
                FindingKind::Teleport,
                pts[i - 1].0,
                pts[i].0,
                tr.id,
                excess,
                thr,
            ));
        }
    }
}

/// Area drift of a rigid object, away from borders and other objects.
fn shape_drift(tracks: &[Track], tr: &Track, pts: &[(usize, Observation)], out: &mut Vec<Finding>) {
    // Frames cut by the frame's edge (touching it with a changed aspect) or
    // touching another object do not count.
    let aspect = |o: &Observation| (o.bbox[2] - o.bbox[0] + 1.0) / (o.bbox[3] - o.bbox[1] + 1.0);
    let mut aspects: Vec<f32> = pts.iter().take(6).map(|(_, o)| aspect(o)).collect();
    aspects.sort_by(f32::total_cmp);
    let Some(&ref_aspect) = aspects.get(aspects.len() / 2) else {
        return;
    };
    let clear: Vec<(usize, f64)> = pts
        .iter()
        .filter(|(_, o)| !o.at_border || (aspect(o) / ref_aspect - 1.0).abs() < 0.2)
        .filter(|(f, o)| !near_other(tracks, tr.id, *f, o, 2.0))
        .map(|(f, o)| (*f, o.area as f64))
        .collect();
    if clear.len() < SHAPE_DRIFT_FRAMES + 3 {
        return;
    }
    let mut first: Vec<f64> = clear.iter().take(6).map(|c| c.1).collect();
    first.sort_by(f64::total_cmp);
    let Some(&reference) = first.get(first.len() / 2) else {
        return;
    };
    let dev: Vec<f64> = clear
        .iter()
        .map(|(_, a)| (a / reference - 1.0).abs())
        .collect();
    let mut i = 0;
    while i < dev.len() {
        if dev[i] <= SHAPE_DRIFT {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < dev.len() && dev[j + 1] > SHAPE_DRIFT {
            j += 1;
        }
        if j + 1 - i >= SHAPE_DRIFT_FRAMES {
            // Where the drift began: back while the area is already off by a third of the threshold.
            let mut s = i;
            while s > 0 && dev[s - 1] > SHAPE_DRIFT / 3.0 {
                s -= 1;
            }
            let worst = dev[i..=j].iter().fold(0.0f64, |m, v| m.max(*v));
            out.push(finding(
                FindingKind::ShapeDrift,
                clear[s].0,
                clear[j].0,
                tr.id,
                worst,
                SHAPE_DRIFT,
            ));
        }
        i = j + 1;
    }
}

/// Appear / vanish with no occluder and not through the frame's edge.
#[allow(clippy::too_many_arguments)]
fn appear_vanish(
    tracks: &[Track],
    tr: &Track,
    pts: &[(usize, Observation)],
    t: usize,
    w: usize,
    h: usize,
    min_area: f64,
    out: &mut Vec<Finding>,
) {
    let vel = |a: &(usize, Observation), b: &(usize, Observation)| {
        let dt = (b.0 - a.0).max(1) as f32;
        [(b.1.x - a.1.x) / dt, (b.1.y - a.1.y) / dt]
    };
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    // Coming out from (or going behind) an occluder: touching another object
    // while only partly visible (smaller than it is a few frames later/earlier).
    let typical = |range: &[(usize, Observation)]| {
        let mut a: Vec<f32> = range.iter().map(|p| p.1.area).collect();
        a.sort_by(f32::total_cmp);
        a.get(a.len() / 2).copied().unwrap_or(0.0)
    };
    let partial_first = first.1.area < 0.8 * typical(&pts[..pts.len().min(6)]);
    let partial_last = last.1.area < 0.8 * typical(&pts[pts.len().saturating_sub(6)..]);
    if first.0 > 0 {
        let v = vel(&pts[0], &pts[1]);
        let before = [-v[0], -v[1]];
        if !leaves_frame(&first.1, before, w, h)
            && (!partial_first || !near_other(tracks, tr.id, first.0, &first.1, 3.0))
        {
            out.push(finding(
                FindingKind::Appear,
                first.0,
                first.0,
                tr.id,
                first.1.area as f64,
                min_area,
            ));
        }
    }
    if last.0 + 1 < t {
        let v = vel(&pts[pts.len() - 2], &last);
        if !leaves_frame(&last.1, v, w, h)
            && (!partial_last || !near_other(tracks, tr.id, last.0, &last.1, 3.0))
        {
            out.push(finding(
                FindingKind::Vanish,
                last.0 + 1,
                last.0 + 1,
                tr.id,
                last.1.area as f64,
                min_area,
            ));
        }
    }
}

/// Bounces and collisions between consecutive segments: visual impacts, and
/// restitution findings for bounces off still surfaces.
fn bounces(
    tracks: &[Track],
    segs: &[Segment],
    min_speed: f64,
    out: &mut Vec<Finding>,
    impacts: &mut Vec<(f64, u32)>,
) {
    for pair in segs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.start > a.end + 2 || a.len() < MIN_SEGMENT || b.len() < MIN_SEGMENT {
            continue;
        }
        // Contact time: where the two fitted paths meet.
        let (lo, hi) = (a.end as f64 - 0.5, b.start as f64 + 0.5);
        let tc = (0..=40)
            .map(|k| lo + (hi - lo) * k as f64 / 40.0)
            .min_by(|&s, &u| {
                let (pa, pb) = (a.pos(s), b.pos(s));
                let (qa, qb) = (a.pos(u), b.pos(u));
                let ds = (pa[0] - pb[0]).hypot(pa[1] - pb[1]);
                let du = (qa[0] - qb[0]).hypot(qa[1] - qb[1]);
                ds.total_cmp(&du)
            })
            .unwrap_or(lo);
        let (vi, vo) = (a.vel(tc), b.vel(tc));
        let dv = [vo[0] - vi[0], vo[1] - vi[1]];
        let dn = dv[0].hypot(dv[1]);
        if dn < min_speed {
            continue;
        }
        impacts.push((tc, a.track));
        let n = [dv[0] / dn, dv[1] / dn];
        let v_in = -(vi[0] * n[0] + vi[1] * n[1]);
        let v_out = vo[0] * n[0] + vo[1] * n[1];
        if v_in < min_speed {
            continue;
        }
        let touching = [a.end, b.start].iter().any(|&f| {
            tracks
                .iter()
                .find(|t| t.id == a.track)
                .and_then(|t| t.at(f))
                .is_some_and(|o| struck_other(tracks, a.track, f, o, (a.end, b.start), min_speed))
        });
        let ratio = v_out / v_in;
        if !touching && ratio > MAX_RESTITUTION {
            out.push(finding(
                FindingKind::Restitution,
                a.end,
                b.start,
                a.track,
                ratio,
                MAX_RESTITUTION,
            ));
        }
    }
}

/// Runs tracking and every object detector on frames `[T, H, W, 3]` at `fps`.
pub fn analyze_frames(frames: ndarray::ArrayView4<u8>, fps: f64) -> Result<ObjectAnalysis> {
    let s = frames.shape();
    let (t, h, w) = (s[0], s[1], s[2]);
    let params = TrackParams::default();
    let tracks: Vec<Track> = track(frames, &params)?
        .into_iter()
        .filter(|tr| tr.seen() >= MIN_TRACK_FRAMES)
        .collect();
    let side = h.min(w) as f64;
    let min_area = ((w * h) as f32 * params.min_area_share).max(6.0) as f64;
    let mut out = ObjectAnalysis {
        tracks,
        ..ObjectAnalysis::default()
    };
    // Gravity estimate from the median second difference of all tracks (px/frame²).
    let mut second: Vec<f64> = Vec::new();
    let all: Vec<Vec<(usize, Observation)>> = out.tracks.iter().map(positions).collect();
    for pts in &all {
        for win in pts.windows(3) {
            if win[1].0 == win[0].0 + 1 && win[2].0 == win[1].0 + 1 {
                let ay = (win[2].1.y - 2.0 * win[1].1.y + win[0].1.y) as f64;
                let moving = (win[2].1.y - win[0].1.y).abs() > 0.5;
                if moving {
                    second.push(ay);
                }
            }
        }
    }
    second.sort_by(f64::total_cmp);
    let a_ref = second.get(second.len() / 2).copied().unwrap_or(0.0);
    let kink = (0.012 * side).max(1.0) + a_ref.abs();
    let min_speed = (0.015 * side).max(1.0);
    for (tr, pts) in out.tracks.iter().zip(&all) {
        if pts.len() < 2 {
            continue;
        }
        teleports(tr, pts, TELEPORT_SHARE * side, &mut out.findings);
        shape_drift(&out.tracks, tr, pts, &mut out.findings);
        appear_vanish(&out.tracks, tr, pts, t, w, h, min_area, &mut out.findings);
        let kinks = kinked(pts, a_ref, kink);
        let mut segs = Vec::new();
        for (a, b) in split(pts, &kinks) {
            let run = &pts[a..=b];
            if run.len() < MIN_SEGMENT {
                continue;
            }
            let Some(seg) = fit_run(tr, run, a_ref) else {
                continue;
            };
            match change_point(tr, run, &seg) {
                Some((x, y)) => segs.extend([x, y]),
                None => segs.push(seg),
            }
        }
        bounces(
            &out.tracks,
            &segs,
            min_speed,
            &mut out.findings,
            &mut out.impacts,
        );
        out.segments.extend(segs);
    }
    out.gravity = gravity(&mut out, side, fps);
    out.impacts.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

/// Whether a segment is free flight worth comparing with gravity: long enough
/// and moving vertically by 5 % of the frame's smaller side `side` (resting,
/// sliding and barely hopping objects are held up).
fn free_flight(s: &Segment, side: f64) -> bool {
    let n = s.len() as f64 - 1.0;
    let span = (s.y.at(0.0) - s.y.at(n))
        .abs()
        .max((s.y.at(n / 2.0) - s.y.at(0.0)).abs());
    s.len() >= MIN_GRAVITY_SEGMENT && span > (0.05 * side).max(2.0)
}

/// Where a track stops following gravity `g` (px/frame²) between frames
/// `from` and `to`: the change point `c` of the vertical motion
/// `y(t) = y0 + v0·t + g·t²/2 + d·(t − c)₊²/2` (the acceleration becomes
/// `g + d` at `c`, position and velocity continuous, as when gravity itself
/// changes) that fits the positions best by least squares; `from` when one
/// parabola from the start fits as well.
fn gravity_onset(tr: &Track, from: usize, to: usize, g: f64) -> usize {
    let pts: Vec<(f64, f64)> = (from..=to)
        .filter_map(|f| tr.at(f).map(|o| ((f - from) as f64, o.y as f64)))
        .collect();
    let n = pts.len();
    if n < 4 {
        return from;
    }
    let sse_at = |c: f64| -> f64 {
        let mut m = [[0.0f64; 3]; 3];
        let mut b = [0.0f64; 3];
        let row = |t: f64| [1.0, t, 0.5 * (t - c).max(0.0).powi(2)];
        for &(t, y) in &pts {
            let x = row(t);
            let y = y - 0.5 * g * t * t;
            for i in 0..3 {
                for j in 0..3 {
                    m[i][j] += x[i] * x[j];
                }
                b[i] += x[i] * y;
            }
        }
        let Some(inv) = invert3(m) else {
            return f64::INFINITY;
        };
        let k: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| inv[i][j] * b[j]).sum())
            .collect();
        pts.iter()
            .map(|&(t, y)| {
                let x = row(t);
                (y - 0.5 * g * t * t - (k[0] * x[0] + k[1] * x[1] + k[2] * x[2])).powi(2)
            })
            .sum()
    };
    let whole = sse_at(0.0);
    let best = pts[..n - 2]
        .iter()
        .skip(1)
        .map(|&(t, _)| (t, sse_at(t)))
        .fold((0.0, f64::INFINITY), |m, c| if c.1 < m.1 { c } else { m });
    // A later onset only when it fits better than one parabola by more than
    // a position noise of 0.1 px a frame.
    let t = if whole <= best.1 + 0.01 * n as f64 {
        0.0
    } else {
        best.0
    };
    from + t as usize
}

/// The clip's gravity and the gravity findings.
fn gravity(out: &mut ObjectAnalysis, side: f64, fps: f64) -> Option<f64> {
    let mut down: Vec<f64> = out
        .segments
        .iter()
        .filter(|s| free_flight(s, side) && s.y.a > 0.0)
        .map(|s| s.y.a)
        .collect();
    down.sort_by(f64::total_cmp);
    let g = down.get(down.len() / 2).copied();
    let expected = g.unwrap_or(0.0);
    let floor = 0.002 * side;
    let mut flagged: Vec<(u32, usize, usize, f64, f64)> = Vec::new();
    // Objects touching another one for a third of a segment or more may be
    // held up or pushed by it: only a sustained upward acceleration counts then.
    let alone = |s: &Segment| {
        out.tracks
            .iter()
            .find(|t| t.id == s.track)
            .is_some_and(|t| {
                let touching = (s.start..=s.end)
                    .filter(|&f| {
                        t.at(f)
                            .is_some_and(|o| near_other(&out.tracks, s.track, f, o, 2.0))
                    })
                    .count();
                3 * touching < s.len()
            })
    };
    for s in out.segments.iter().filter(|s| free_flight(s, side)) {
        // Vertical only: sideways accelerations come from rolling, sliding and
        // pushes that the tracks cannot tell from flight.
        let thr = (GRAVITY_SHARE * expected.abs())
            .max(4.0 * s.y.a_se)
            .max(floor);
        let dev = (s.y.a - expected).abs();
        let upward = s.y.a < -thr;
        if dev > thr && (upward || (g.is_some() && alone(s))) {
            match flagged.last_mut() {
                Some(last) if last.0 == s.track && s.start <= last.2 + 2 => last.2 = s.end,
                _ => {
                    let track = out.tracks.iter().find(|t| t.id == s.track);
                    // The change may have begun in the adjoining piece before,
                    // whose mix of old and new gravity passed the check but
                    // strayed half way to the threshold.
                    // (Pieces split at a kink share its frame.) A piece in
                    // contact with another object strays for that reason.
                    let before = out.segments.iter().rev().find(|p| {
                        p.track == s.track
                            && p.end <= s.start
                            && p.start < s.start
                            && p.end + 2 >= s.start
                            && p.len() >= MIN_GRAVITY_SEGMENT
                            && (p.y.a - expected).abs() > 0.5 * thr
                            && alone(p)
                    });
                    // The onset is looked for from the earlier piece on (past
                    // its first frame, the kink it shares with the piece before).
                    let from = before.map_or(s.start, |p| p.start + 1);
                    let start = track
                        .map(|t| gravity_onset(t, from, s.end, expected))
                        .unwrap_or(s.start);
                    flagged.push((s.track, start, s.end, dev * fps * fps, thr * fps * fps))
                }
            }
        }
    }
    for (track, start, end, value, thr) in flagged {
        out.findings
            .push(finding(FindingKind::Gravity, start, end, track, value, thr));
    }
    g
}

/// The object analyzer of [`super::score::ANALYZERS`]: adds the findings.
pub fn analyze(input: &ScoreInput, report: &mut PhysicsReport) -> Result<()> {
    let analysis = analyze_frames(input.frames, input.fps as f64)?;
    report.findings.extend(analysis.findings);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_fit_recovers_motion() {
        let ts: Vec<f64> = (0..8).map(|t| t as f64).collect();
        let ys: Vec<f64> = ts.iter().map(|t| 3.0 - 2.0 * t + 0.25 * t * t).collect();
        let f = fit_quadratic(&ts, &ys).unwrap();
        assert!((f.p0 - 3.0).abs() < 1e-9 && (f.v + 2.0).abs() < 1e-9 && (f.a - 0.5).abs() < 1e-9);
        assert!(f.sse < 1e-12);
        assert!(fit_quadratic(&ts[..2], &ys[..2]).is_none());
    }
}
