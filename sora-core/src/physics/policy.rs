//! How the pipeline uses the physics report ([`PhysicsPolicy`]): not at all,
//! attached to every clip, or to pick the most plausible of N seeds by
//! [`plausibility_penalty`], the documented ranking score.

use std::fmt;

use serde::Serialize;

use super::report::PhysicsReport;
use crate::{Error, Result};

/// What the pipeline does with the physics report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhysicsPolicy {
    /// No report (the default).
    #[default]
    Off,
    /// Every clip's metadata carries its report (`meta.physics`).
    Report,
    /// Generates this many seeds (the request's seed, then the next ones) and
    /// returns the clip with the lowest [`plausibility_penalty`]; every
    /// candidate's seed, penalty and report are in `meta.physics_candidates`.
    Rerank(u32),
}

impl PhysicsPolicy {
    /// Parses `off`, `report` or `rerank:N` (N in 1..=64).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "off" | "none" | "false" => Ok(Self::Off),
            "report" | "on" | "true" => Ok(Self::Report),
            _ => {
                let n = t
                    .strip_prefix("rerank:")
                    .and_then(|n| n.trim().parse::<u32>().ok())
                    .filter(|n| (1..=64).contains(n));
                match n {
                    Some(n) => Ok(Self::Rerank(n)),
                    None => Err(Error::invalid(format!(
                        "physics takes off, report or rerank:N with N in 1..=64, got `{text}`"
                    ))),
                }
            }
        }
    }

    /// Whether a report is made.
    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

impl fmt::Display for PhysicsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => write!(f, "off"),
            Self::Report => write!(f, "report"),
            Self::Rerank(n) => write!(f, "rerank:{n}"),
        }
    }
}

/// One seed tried by [`PhysicsPolicy::Rerank`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhysicsCandidate {
    /// The seed of the candidate.
    pub seed: u64,
    /// Its [`plausibility_penalty`] (lower is more plausible).
    pub penalty: f64,
    /// Its report.
    pub report: PhysicsReport,
}

/// The ranking score of [`PhysicsPolicy::Rerank`], lower is better: one point
/// per finding (each is a violation a viewer would notice), plus the clip's
/// `flicker` and `warping_error` metrics (both small numbers on plausible
/// clips; a missing metric counts 0). Ties keep the earlier seed.
pub fn plausibility_penalty(report: &PhysicsReport) -> f64 {
    report.findings.len() as f64
        + report.metric("flicker").unwrap_or(0.0)
        + report.metric("warping_error").unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::report::{Finding, FindingKind};

    #[test]
    fn parses_and_prints_the_policies() {
        for (text, want) in [
            ("off", PhysicsPolicy::Off),
            ("report", PhysicsPolicy::Report),
            ("rerank:3", PhysicsPolicy::Rerank(3)),
            (" RERANK:1 ", PhysicsPolicy::Rerank(1)),
        ] {
            assert_eq!(PhysicsPolicy::parse(text).unwrap(), want);
        }
        assert_eq!(PhysicsPolicy::Rerank(4).to_string(), "rerank:4");
        for bad in ["rerank", "rerank:0", "rerank:65", "rerank:x", "maybe"] {
            assert!(
                matches!(PhysicsPolicy::parse(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn findings_weigh_more_than_metrics() {
        let mut clean = PhysicsReport::default();
        clean.set("flicker", Some(0.2));
        clean.set("warping_error", Some(0.1));
        let mut broken = PhysicsReport::default();
        broken.findings.push(Finding {
            kind: FindingKind::Teleport,
            start_frame: 1,
            end_frame: 2,
            track: Some(0),
            value: 40.0,
            threshold: 10.0,
        });
        assert!((plausibility_penalty(&clean) - 0.3).abs() < 1e-12);
        assert!(plausibility_penalty(&broken) > plausibility_penalty(&clean));
    }
}
