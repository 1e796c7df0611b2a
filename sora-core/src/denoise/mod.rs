//! The one denoising walk, written once for every family: [`Latents`] (video
//! and, for joint families, audio), the [`GuidancePlan`] that says which
//! branches a step runs and how they combine, and [`walk`](mod@walk), which steps one
//! scheduler per modality, batches the branches into forwards, caches steps,
//! reports progress, honours cancellation and checks every latent is finite.
//! A family supplies only a [`Generation`](crate::family::Generation).

pub mod condition;
pub mod held;
pub mod latents;
pub mod motion;
pub mod plan;
pub mod run;
pub mod walk;

pub use condition::VideoCondition;
pub use held::{HeldFrames, Hold};
pub use latents::{Latents, PerModality};
pub use motion::MotionGuidance;
pub use plan::{Form, GuidancePlan, Space, Term, COND, ISOLATED, PERTURBED, UNCOND};
pub use run::denoise_latents;
pub use walk::{walk, Schedulers, Start, Step, WalkOptions, WalkReport};
