//! Physics consistency and audio-visual sync of a clip, generated or given:
//! a [`PhysicsReport`] (clip metrics and findings with frame ranges), computed
//! on tensors through LibTorch with no learned weights.
//!
//! [`score`](fn@score) runs every analyzer of [`score::ANALYZERS`] on a [`ScoreInput`].

pub mod colour;
pub mod detect;
pub mod flow;
pub mod hungarian;
pub mod input;
pub mod metrics;
pub mod plot;
pub mod policy;
pub mod render;
pub mod report;
pub mod scenes;
pub mod score;
pub mod sim;
pub mod sound;
pub mod sync;
pub mod tracks;
pub mod warp;

pub use input::{Analyzer, ScoreInput};
pub use policy::{plausibility_penalty, PhysicsCandidate, PhysicsPolicy};
pub use report::{Finding, FindingKind, PhysicsReport};
pub use score::score;
