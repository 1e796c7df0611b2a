//! CLIP's vision tower (transformers' `CLIPVisionModel`) and its image
//! preprocessing (`CLIPImageProcessor`), shared by the families that condition
//! on an image embedding (Wan 2.1 I2V first).

pub mod preprocess;
pub mod resample;
pub mod vision;

pub use preprocess::{ClipImagePreprocessor, ClipImageProcessorConfig, ResizeTarget};
pub use resample::{pil_resize, PilFilter};
pub use vision::{Activation, ClipVisionConfig, ClipVisionModel, ClipVisionOutput};
