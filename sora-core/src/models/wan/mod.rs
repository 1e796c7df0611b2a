//! Wan 2.1 / 2.2: UMT5 text encoder, `WanTransformer3DModel`, `AutoencoderKLWan`,
//! the CLIP image encoder of Wan 2.1 I2V, and the family glue that plugs them
//! into the shared loop (`family.rs`).

mod family;
pub mod image_encoder;
pub mod limits;
mod memory;
pub mod params;
pub mod preprocess;
pub mod rules;
pub mod size;
pub mod text_encoder;
pub mod transformer;
pub mod vae;

pub use family::{load_family, video_to_frames, WanFamily};
pub use memory::estimate_folder;
pub use rules::MAX_SEQUENCE_LENGTH;
