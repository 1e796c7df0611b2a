//! Clip extension's frame arithmetic, shared by every family: how many of the
//! source's last frames the continuation is conditioned on (the overlap),
//! how many frames are added, and the window the model generates (the overlap
//! followed by the added frames, a frame count the family takes).
//!
//! The output clip is the source's frames, unchanged, followed by the window's
//! frames after the overlap: `source + added` frames at the source's rate and
//! size. The pipeline writes the source's frames first and drops the decoded
//! overlap; a family conditions its window on the overlap's latents (see
//! [`crate::denoise::held`]). A resolved request's plan is
//! [`Resolved::extend_plan`](super::request::Resolved::extend_plan).

use crate::{Error, Result};

/// Most source frames the continuation is conditioned on (the largest count
/// at most this the family takes: 9 for Wan, three latent frames; 9 for a
/// temporal factor of 8).
pub const MAX_OVERLAP: u32 = 9;

/// Most frames an extension may add (as `seconds` ≤ 600 at 240 fps would).
const MAX_ADDED: u64 = 600 * 240;

/// The frames of one extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendPlan {
    /// Frames of the source clip.
    pub source: u32,
    /// The source's last frames the continuation is conditioned on (the
    /// window's first frames).
    pub overlap: u32,
    /// Frames added after the source.
    pub added: u32,
}

/// The largest count `≤ cap` (at least 1) that `frame_rule` keeps as it is.
pub(crate) fn largest_valid(cap: u32, frame_rule: &impl Fn(u32) -> u32) -> u32 {
    (1..=cap.max(1))
        .rev()
        .find(|&k| frame_rule(k) == k)
        .unwrap_or(1)
}

impl ExtendPlan {
    /// The plan of extending `source` frames by `seconds` at `fps`: the
    /// overlap is the largest frame count the family takes within
    /// [`MAX_OVERLAP`] and the source; the window is the nearest count the
    /// family takes to overlap + `seconds × fps` (and above the overlap), so
    /// the frames added may differ from `seconds × fps` by the family's rounding.
    pub fn new(
        source: u32,
        seconds: f32,
        fps: u32,
        frame_rule: impl Fn(u32) -> u32,
    ) -> Result<Self> {
        if source == 0 {
            return Err(Error::invalid("the clip to extend has no frames"));
        }
        if !seconds.is_finite() || seconds <= 0.0 {
            return Err(Error::invalid(format!(
                "seconds to add must be positive, got {seconds}"
            )));
        }
        let wanted = (f64::from(seconds) * f64::from(fps)).round().max(1.0);
        if wanted > MAX_ADDED as f64 {
            return Err(Error::invalid(format!(
                "an extension adds at most {MAX_ADDED} frames; {seconds} s at {fps} fps is {wanted}"
            )));
        }
        let overlap = largest_valid(source.min(MAX_OVERLAP), &frame_rule);
        let mut window = frame_rule(overlap + wanted as u32);
        if window <= overlap {
            // The smallest count above the overlap the family takes.
            window = (overlap + 1..=overlap + 64)
                .find(|&v| frame_rule(v) == v)
                .ok_or_else(|| {
                    Error::invalid("no frame count above the overlap is valid for this model")
                })?;
        }
        Ok(Self {
            source,
            overlap,
            added: window - overlap,
        })
    }

    /// The frames the model generates: the overlap, then the added frames.
    pub fn window(&self) -> u32 {
        self.overlap + self.added
    }

    /// The frames of the output clip: the source's, then the added ones.
    pub fn total(&self) -> u32 {
        self.source + self.added
    }

    /// Index of the first overlap frame in the source.
    pub fn overlap_start(&self) -> u32 {
        self.source - self.overlap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wan's rule: `1 + 4k`.
    fn wan(f: u32) -> u32 {
        let k = ((f.max(1) - 1) as f64 / 4.0).round() as u32;
        1 + 4 * k
    }

    #[test]
    fn overlap_window_and_total() {
        // 17 frames + 1 s at 16 fps: overlap 9, window nearest 9 + 16 = 25.
        let p = ExtendPlan::new(17, 1.0, 16, wan).unwrap();
        assert_eq!((p.overlap, p.added, p.window(), p.total()), (9, 16, 25, 33));
        assert_eq!(p.overlap_start(), 8);
        // A short source: the largest valid count within it.
        let p = ExtendPlan::new(7, 0.5, 16, wan).unwrap();
        assert_eq!((p.overlap, p.added), (5, 8));
        let p = ExtendPlan::new(1, 0.25, 16, wan).unwrap();
        assert_eq!((p.overlap, p.added, p.window()), (1, 4, 5));
        // Fewer frames than the rounding: at least one step of the rule.
        let p = ExtendPlan::new(9, 0.01, 16, wan).unwrap();
        assert_eq!((p.overlap, p.added), (9, 4));
        // LTX-2's rule, 1 + 8k.
        let ltx = |f: u32| 1 + 8 * (((f.max(1) - 1) as f64 / 8.0).round() as u32);
        let p = ExtendPlan::new(30, 1.0, 24, ltx).unwrap();
        assert_eq!((p.overlap, p.window()), (9, 33));
        for bad in [
            ExtendPlan::new(0, 1.0, 16, wan),
            ExtendPlan::new(5, 0.0, 16, wan),
            ExtendPlan::new(5, f32::NAN, 16, wan),
            ExtendPlan::new(5, 1e9, 16, wan),
        ] {
            assert!(matches!(bad, Err(Error::InvalidRequest(_))));
        }
    }
}
