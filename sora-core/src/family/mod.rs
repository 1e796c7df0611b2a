//! The seam between the denoising walk (written once, in `crate::denoise`)
//! and a model family: what a family supplies ([`ModelFamily`] with its
//! [`Rules`], and a [`Generation`] per run), and the registry of families
//! detected from `model_index.json`.

pub mod generation;
pub mod model;
pub mod params;
pub mod registry;

pub use generation::{FrameSink, Generation};
pub use model::{MemoryOptions, ModelFamily, Rules};
pub use registry::{
    audit, estimate_folder, estimate_path, family_of, family_row, load, AuditReport, Family,
    FAMILIES,
};
