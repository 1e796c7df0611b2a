//! Reading diffusers-format model folders: the manifest (`model_index.json`),
//! each component's `config.json`, and its safetensors weights (single or sharded).

mod folder;
mod store;

pub use folder::{read_config, ModelFolder};
pub use store::{is_fp8, TensorSize, TensorStore, WeightPath, WeightReport};
