//! Building blocks shared by every model family: linear layers, norms,
//! attention, rotary embeddings, timestep embeddings, convolutions, modulation,
//! weight offload.

pub mod attention;
pub mod causal_conv;
pub mod conv;
pub mod linear;
pub mod modulation;
pub mod norm;
pub mod offload;
pub mod rope;
pub mod step_cache;
pub mod tiling;
pub mod timestep;

pub use attention::sdpa;
pub use linear::Linear;
pub use norm::{LayerNorm, RmsNorm};
pub use offload::{BlockStream, ComponentWeights, Offload, StreamParts, Uploaded, WeightSet};
pub use tiling::VaeTiling;
