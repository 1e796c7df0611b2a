//! The report every clip gets: named metrics (a number, or `null` when a metric
//! does not apply) and findings, each with its frame range, track, measured
//! value and threshold. Its JSON form is a contract (`sora score --json`,
//! Python `sora.physics.score`, C `sora_physics_score_json`): extend, never rename.

use std::collections::BTreeMap;

use serde::Serialize;

/// What a finding says went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An object jumped further between two frames than its motion allows.
    Teleport,
    /// An object appeared with no occluder to come out from.
    Appear,
    /// An object vanished with no occluder to go behind.
    Vanish,
    /// A rigid object changed its area or shape.
    ShapeDrift,
    /// A bounce gave back more speed than it received (restitution > 1).
    Restitution,
    /// Gravity differs between segments of a track or between objects.
    Gravity,
    /// The sound is offset from the picture.
    AvOffset,
}

impl FindingKind {
    /// The kind's JSON name (`teleport`, `shape_drift`, …).
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Teleport => "teleport",
            FindingKind::Appear => "appear",
            FindingKind::Vanish => "vanish",
            FindingKind::ShapeDrift => "shape_drift",
            FindingKind::Restitution => "restitution",
            FindingKind::Gravity => "gravity",
            FindingKind::AvOffset => "av_offset",
        }
    }
}

/// One thing a viewer would notice, located in the clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What kind of violation.
    pub kind: FindingKind,
    /// First frame of the range (0-based, inclusive).
    pub start_frame: u32,
    /// Last frame of the range (inclusive).
    pub end_frame: u32,
    /// The object track, when the finding is about one object.
    pub track: Option<u32>,
    /// The measured value (units depend on the kind; see `docs/physics.md`).
    pub value: f64,
    /// The threshold the value crossed.
    pub threshold: f64,
}

/// Metrics and findings of one clip.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhysicsReport {
    /// Metric name → value (`None`, JSON `null`, when it does not apply: no
    /// audio, no reference, too few frames).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Findings, in the order of their start frame.
    pub findings: Vec<Finding>,
}

impl PhysicsReport {
    /// Sets metric `name`.
    pub fn set(&mut self, name: &str, value: Option<f64>) {
        self.metrics
            .insert(name.to_string(), value.filter(|v| v.is_finite()));
    }

    /// The value of metric `name`, when present and applicable.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied().flatten()
    }

    /// The report as one JSON object `{ "metrics": {...}, "findings": [...] }`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_the_contract() {
        let mut r = PhysicsReport::default();
        r.set("flicker", Some(0.5));
        r.set("av_offset_ms", None);
        r.findings.push(Finding {
            kind: FindingKind::ShapeDrift,
            start_frame: 3,
            end_frame: 9,
            track: Some(1),
            value: 0.4,
            threshold: 0.2,
        });
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["metrics"]["flicker"], 0.5);
        assert!(v["metrics"]["av_offset_ms"].is_null());
        assert_eq!(v["findings"][0]["kind"], "shape_drift");
        assert_eq!(v["findings"][0]["track"], 1);
        assert_eq!(FindingKind::AvOffset.name(), "av_offset");
    }
}
