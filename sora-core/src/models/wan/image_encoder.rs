//! Wan 2.1 I2V's image conditioning: `WanImageToVideoPipeline.encode_image`,
//! i.e. `CLIPImageProcessor` then `CLIPVisionModel(..., output_hidden_states=True)
//! .hidden_states[-2]` (`[B, 257, 1280]` for the ViT-H/14 image encoder).

use std::path::Path;

use ndarray::ArrayView3;
use tch::Tensor;

use crate::models::clip::{ClipImagePreprocessor, ClipVisionModel};
use crate::{Device, Dtype, Result};

/// The `image_encoder` + `image_processor` components of a Wan 2.1 I2V folder.
#[derive(Debug)]
pub struct WanImageEncoder {
    /// The preprocessing read from `image_processor/preprocessor_config.json`.
    pub processor: ClipImagePreprocessor,
    /// The CLIP vision tower read from `image_encoder/`.
    pub model: ClipVisionModel,
}

impl WanImageEncoder {
    /// Loads `image_encoder_dir` (config.json + safetensors) and
    /// `image_processor_dir` (its `preprocessor_config.json`, or the file itself).
    pub fn load(
        image_encoder_dir: impl AsRef<Path>,
        image_processor_dir: impl AsRef<Path>,
        device: Device,
        dtype: Dtype,
    ) -> Result<Self> {
        let processor = ClipImagePreprocessor::load(image_processor_dir)?;
        let model = ClipVisionModel::load(image_encoder_dir, device, dtype)?;
        Ok(Self { processor, model })
    }

    /// Embeds one `[H, W, 3]` RGB image: `[1, tokens, hidden]` in the model's dtype, on its device.
    pub fn encode(&self, image: ArrayView3<u8>) -> Result<Tensor> {
        self.encode_batch(&[image])
    }

    /// Embeds several images at once (the pipeline passes `[image, last_image]`
    /// when a last frame is given): `[B, tokens, hidden]`.
    pub fn encode_batch(&self, images: &[ArrayView3<u8>]) -> Result<Tensor> {
        let pixel_values = self.processor.preprocess_batch(images)?;
        self.model.penultimate(&pixel_values)
    }

    /// The encoder applied to already preprocessed `pixel_values` `[B, 3, S, S]`.
    pub fn encode_pixels(&self, pixel_values: &Tensor) -> Result<Tensor> {
        self.model.penultimate(pixel_values)
    }
}
