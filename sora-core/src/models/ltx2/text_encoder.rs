//! LTX-2's prompt encoding (diffusers' `LTX2Pipeline._get_gemma_prompt_embeds`):
//! each prompt stripped, tokenized by Gemma's tokenizer with left padding to
//! `max_sequence_length` (default 1024, `<bos>` and whatever the tokenizer's
//! post-processor adds), run through the Gemma 3 text model, and every hidden
//! state stacked per token: `[B, S, hidden × (layers + 1)]`, layer index
//! fastest, as `torch.stack(hidden_states, -1).flatten(2, 3)` lays them out.

use std::path::Path;

use tch::{Kind, Tensor};

use crate::nn::{Offload, Uploaded};
use crate::text::gemma3::Gemma3TextModel;
use crate::text::tokenizer::Tokenizer;
use crate::weights::ModelFolder;
use crate::{Device, Dtype, Error, Result};

/// `max_sequence_length` that `LTX2Pipeline.__call__` uses by default.
pub const DEFAULT_MAX_SEQUENCE_LENGTH: usize = 1024;

/// Python's `str.strip()`: Unicode whitespace plus the separators U+001C..U+001F.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// The pipeline's prompt encoder: Gemma tokenizer + Gemma 3 text model.
#[derive(Debug)]
pub struct Ltx2TextEncoder {
    tokenizer: Tokenizer,
    model: Gemma3TextModel,
}

impl Ltx2TextEncoder {
    /// Loads `tokenizer_dir/tokenizer.json` (+ `tokenizer_config.json`) and
    /// the Gemma 3 model in `encoder_dir`.
    pub fn load(
        tokenizer_dir: &Path,
        encoder_dir: &Path,
        device: Device,
        dtype: Dtype,
    ) -> Result<Self> {
        let tokenizer = Tokenizer::from_dir(tokenizer_dir)?;
        let model = Gemma3TextModel::load(encoder_dir, device, dtype)?;
        Ok(Self::new(tokenizer, model))
    }

    /// Loads the `tokenizer` and `text_encoder` components of a diffusers LTX-2 folder.
    pub fn from_folder(folder: &ModelFolder, device: Device, dtype: Dtype) -> Result<Self> {
        let tokenizer_dir = folder.component_dir("tokenizer")?;
        let encoder_dir = folder.component_dir("text_encoder")?;
        Self::load(&tokenizer_dir, &encoder_dir, device, dtype)
    }

    /// Bundles a loaded tokenizer and model; padding is set to the left, as
    /// the pipeline sets it.
    pub fn new(mut tokenizer: Tokenizer, model: Gemma3TextModel) -> Self {
        tokenizer.set_padding_left(true);
        Self { tokenizer, model }
    }

    /// The tokenizer (left padding).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The Gemma 3 text model.
    pub fn model(&self) -> &Gemma3TextModel {
        &self.model
    }

    /// Offloads the model's weights (see [`Gemma3TextModel::set_offload`]).
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        self.model.set_offload(offload, device)
    }

    /// Copies the offloaded weights to the run device (see [`Gemma3TextModel::upload`]).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.model.upload()
    }

    /// Parks the weights in host memory after encoding (see [`Gemma3TextModel::park`]).
    pub fn park(&mut self) -> Result<()> {
        self.model.park()
    }

    /// Moves parked weights back to the run device (see [`Gemma3TextModel::unpark`]).
    pub fn unpark(&mut self) -> Result<()> {
        self.model.unpark()
    }

    /// Width of one token's packed embedding: `hidden × (layers + 1)`.
    pub fn embed_dim(&self) -> i64 {
        self.model.config().hidden_size * self.model.num_hidden_states() as i64
    }

    /// Token ids and mask `[B, max_sequence_length]` (i64, CPU) of the stripped prompts.
    pub fn tokenize(
        &self,
        prompts: &[&str],
        max_sequence_length: usize,
    ) -> Result<(Tensor, Tensor)> {
        if prompts.is_empty() {
            return Err(Error::invalid("no prompt to encode"));
        }
        let stripped: Vec<&str> = prompts.iter().map(|p| py_strip(p)).collect();
        self.tokenizer.encode_padded(&stripped, max_sequence_length)
    }

    /// `(prompt_embeds [B, S, hidden × (layers + 1)], prompt_attention_mask [B, S] i64)`
    /// on the model's device, in its dtype.
    pub fn encode(&self, prompts: &[&str], max_sequence_length: usize) -> Result<(Tensor, Tensor)> {
        let (ids, mask) = self.tokenize(prompts, max_sequence_length)?;
        let states = self.model.forward(&ids, &mask)?;
        let stacked = Tensor::f_stack(&states, -1)?.f_flatten(2, 3)?;
        let mask = mask.f_to_device(stacked.device())?.f_to_kind(Kind::Int64)?;
        Ok((stacked, mask))
    }
}
