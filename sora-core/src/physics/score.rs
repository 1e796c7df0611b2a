//! Scores one clip: runs each analyzer (clip metrics, object physics,
//! audio-visual sync) on the same input and gathers one [`PhysicsReport`].

use super::input::{check, Analyzer, ScoreInput};
use super::report::PhysicsReport;
use crate::Result;

/// Every analyzer, run in this order by [`score`].
pub const ANALYZERS: &[Analyzer] = &[
    super::metrics::clip_metrics,
    super::detect::analyze,
    super::sync::analyze,
];

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
