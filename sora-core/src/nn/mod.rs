//! Building blocks shared by every model family: linear layers, norms,
//! attention, rotary embeddings, timestep embeddings, convolutions, modulation.

pub mod attention;
pub mod causal_conv;
pub mod conv;
pub mod linear;
pub mod modulation;
pub mod norm;
pub mod rope;
pub mod step_cache;
pub mod timestep;

pub use attention::sdpa;
pub use linear::Linear;
pub use norm::{LayerNorm, RmsNorm};
