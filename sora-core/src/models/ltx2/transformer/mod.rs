//! LTX-2's audio-video diffusion transformer, `LTX2VideoTransformer3DModel`
//! (diffusers 0.42.1), for the LTX-2.0 and LTX-2.3 layouts: a video and an
//! audio stream through the same blocks, each with AdaLN-single modulation,
//! text cross-attention and fractional rotary positions, talking to each
//! other through audio→video and video→audio cross-attention; STG's
//! perturbed self-attention and modality isolation as diffusers has them.
//!
//! ```no_run
//! # fn main() -> sora_core::Result<()> {
//! use sora_core::models::ltx2::transformer::{Ltx2Inputs, Ltx2Transformer};
//! use tch::{Device, Kind, Tensor};
//! let model = Ltx2Transformer::load("ltx2/transformer".as_ref(), Device::Cpu, Kind::Float)?;
//! let c = model.config();
//! let o = (Kind::Float, Device::Cpu);
//! let video = Tensor::zeros([1, 2 * 4 * 6, c.in_channels], o);
//! let audio = Tensor::zeros([1, 9, c.audio_in_channels], o);
//! let text = Tensor::zeros([1, 16, c.caption_channels], o);
//! let t = Tensor::from_slice(&[500.0f32]);
//! let mut inputs = Ltx2Inputs::new(&video, &audio, &text, &text, &t, [2, 4, 6], 9);
//! inputs.fps = 24.0;
//! let (video_velocity, audio_velocity) = model.forward(&inputs)?;
//! # Ok(()) }
//! ```

mod attention;
mod block;
mod config;
mod embed;
mod model;
mod rope;

pub use attention::Perturbation;

use tch::Tensor;

use crate::nn::{Linear, RmsNorm};

/// Pushes a linear layer's tensors (for offload).
fn linear_tensors<'a>(l: &'a Linear, out: &mut Vec<&'a Tensor>) {
    out.push(&l.weight);
    out.extend(l.bias.as_ref());
}

/// Pushes an RMS norm's weight, if it has one.
fn rms_tensors<'a>(n: &'a RmsNorm, out: &mut Vec<&'a Tensor>) {
    out.extend(n.weight.as_ref());
}
pub use config::{Ltx2TransformerConfig, RopeType};
pub use model::{Ltx2Inputs, Ltx2Transformer, PreparedText};
pub use rope::{audio_coords, video_coords, FractionalRope, Ltx2RopeTables};
