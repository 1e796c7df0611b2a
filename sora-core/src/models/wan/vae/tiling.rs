//! Spatially tiled VAE decode, streamed over time, with the values of
//! diffusers' `AutoencoderKLWan.tiled_decode`: the latent is cut into
//! overlapping spatial tiles, each decoded with its own causal cache; tiles
//! are blended in place with the (already blended) tile above and to the left,
//! cropped to the stride and joined. Decoding is causal frame by frame and
//! blending is per frame, so one latent frame at a time gives the same values
//! as diffusers' whole-clip form with memory bounded by one chunk of tiles.
//! The geometry and the blending are shared (`nn/tiling.rs`).

pub use crate::nn::tiling::VaeTiling;
pub(crate) use crate::nn::tiling::{join_tiles, TileGrid};
