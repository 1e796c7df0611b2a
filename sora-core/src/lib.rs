//! `sora-core`: an embeddable engine that generates video (and, for joint
//! families, synchronized audio) from text, images or video with open-weight
//! latent diffusion models, on LibTorch.
//!
//! ```no_run
//! use sora_core::{Pipeline, Request, Progress, Device, Dtype};
//! let pipe = Pipeline::builder()
//!     .model("Wan2.1-T2V-1.3B-Diffusers")
//!     .device(Device::Cpu)
//!     .dtype(Dtype::F32)
//!     .build()?;
//! let clip = pipe.generate(
//!     &Request::text("a basketball bounces off the backboard").size(832, 480).frames(81).seed(7),
//!     &mut Progress::none(),
//! )?;
//! clip.save("out.mp4")?;
//! # Ok::<(), sora_core::Error>(())
//! ```

pub mod denoise;
pub mod error;
pub mod estimate;
pub mod family;
pub mod inspect;
pub mod io;
pub mod models;
pub mod nn;
pub mod physics;
pub mod pipeline;
pub mod safety;
pub mod sampler;
pub mod text;
pub mod train;
pub mod weights;

mod device;

pub use device::{load_cuda_backend, Device, Dtype};
pub use error::{Error, ErrorKind, Result};
pub use estimate::{EstimateOptions, MemoryEstimate};
pub use nn::tiling::{FrameTiling, VaeTiling};
pub use nn::Offload;
pub use pipeline::{
    Aspect, CancelToken, Clip, ClipMeta, Fit, FrameCondition, ImageInput, Mode, Phase, Pipeline,
    PipelineBuilder, Progress, Request, Resolution, SourceAudio, StepInfo, Timings, VideoInput,
    WriteOptions,
};
pub use safety::WatermarkPolicy;

/// The engine's version (`CARGO_PKG_VERSION`).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
