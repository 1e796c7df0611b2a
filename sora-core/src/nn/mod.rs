//! Building blocks shared by every model family: linear layers, norms,
//! attention, rotary embeddings, timestep embeddings, convolutions, modulation,
//! weight offload, and the 1-D pieces of audio models (convolutions, Snake,
//! windowed-sinc resampling, STFT, log-mel).

pub mod attention;
pub mod causal_conv;
pub mod conv;
pub mod conv1d;
pub mod feed_forward;
pub mod frame_pad_conv;
pub mod linear;
pub mod mel;
pub mod modulation;
pub mod norm;
pub mod offload;
pub mod resample1d;
pub mod rope;
pub mod snake;
pub mod step_cache;
pub mod stft;
pub mod tiling;
pub mod timestep;

pub use attention::sdpa;
pub use linear::Linear;
pub use norm::{LayerNorm, RmsNorm};
pub use offload::{BlockStream, ComponentWeights, Offload, StreamParts, Uploaded, WeightSet};
pub use tiling::VaeTiling;
