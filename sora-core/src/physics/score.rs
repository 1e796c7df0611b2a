//! Scores one clip: runs each analyzer (clip metrics, object physics,
//! audio-visual sync) on the same input and gathers one [`PhysicsReport`].

use ndarray::{ArrayView2, ArrayView4};

use super::report::PhysicsReport;
use crate::{Error, Result};

/// A clip to score: frames, and optionally its sound and a reference continuation.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput<'a> {
    /// RGB frames `[T, H, W, 3]`.
    pub frames: ArrayView4<'a, u8>,
    /// Frames per second.
    pub fps: f32,
    /// Audio `[channels, samples]` in [-1, 1], when the clip has sound.
    pub audio: Option<ArrayView2<'a, f32>>,
    /// The audio's sample rate (Hz); required with `audio`.
    pub sample_rate: u32,
    /// A reference continuation of the same scene (Physics-IQ metrics), `[T, H, W, 3]`.
    pub reference: Option<ArrayView4<'a, u8>>,
}

/// One analysis: reads the input, adds metrics and findings to the report.
pub type Analyzer = fn(&ScoreInput, &mut PhysicsReport) -> Result<()>;

/// Every analyzer, run in this order by [`score`].
pub const ANALYZERS: &[Analyzer] = &[super::detect::analyze, super::sync::analyze];

/// Checks the input's shape and values before any analysis.
fn check(input: &ScoreInput) -> Result<()> {
    let s = input.frames.shape();
    if s[0] == 0 || s[1] == 0 || s[2] == 0 || s[3] != 3 {
        return Err(Error::invalid(format!(
            "frames must be [T, H, W, 3] with T, H, W ≥ 1, got {s:?}"
        )));
    }
    if !input.fps.is_finite() || input.fps <= 0.0 {
        return Err(Error::invalid(format!(
            "fps must be a positive number, got {}",
            input.fps
        )));
    }
    if let Some(a) = input.audio {
        if input.sample_rate == 0 {
            return Err(Error::invalid("audio given without a sample rate"));
        }
        if a.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid("the audio contains NaN or infinity"));
        }
    }
    if let Some(r) = input.reference {
        let rs = r.shape();
        if rs[1..] != s[1..] {
            return Err(Error::invalid(format!(
                "the reference's frame size {:?} differs from the clip's {:?}",
                &rs[1..],
                &s[1..]
            )));
        }
    }
    Ok(())
}

/// The physics report of a clip (see the module docs of [`crate::physics`]).
pub fn score(input: &ScoreInput) -> Result<PhysicsReport> {
    check(input)?;
    let _guard = tch::no_grad_guard();
    let mut report = PhysicsReport::default();
    for analyze in ANALYZERS {
        analyze(input, &mut report)?;
    }
    report.findings.sort_by_key(|f| (f.start_frame, f.kind));
    Ok(report)
}
