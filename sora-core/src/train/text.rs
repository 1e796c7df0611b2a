//! The trained default model's prompt side (issue #15): a word-level
//! tokenizer over the caption templates' vocabulary, a tiny Gemma 3 text
//! encoder and LTX-2's text connectors, both initialised from a seed and kept
//! frozen, and each caption's conditioning computed once through the
//! pipeline's own path (Gemma → stacked hidden states → connectors, left
//! padding to `max_sequence_length`).
//!
//! The tokenizer is a `tokenizer.json` of HF `tokenizers`' `WordLevel` model
//! (lower-cased, split on whitespace and punctuation, `<bos>` prepended), with
//! a `tokenizer_config.json` naming `PreTrainedTokenizerFast`: our loader
//! ([`crate::text::tokenizer::Tokenizer`]) and `transformers` read it as is.
//! Its vocabulary is the special tokens, then
//! [`crate::physics::scenes::caption_words`] in their order; a
//! word outside it is `<unk>`.
//!
//! Random frozen features keep prompts apart because each word has its own
//! embedding row and every layer is residual: [`TextEncoders::caption_distances`]
//! measures it (the issue accepts a frozen random Gemma when prompts stay
//! distinguishable).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};

use super::init::init_component;
use super::run::write_json;
use crate::models::ltx2::connectors::{ConnectorsConfig, Ltx2TextConnectors, PaddingSide};
use crate::models::ltx2::family::CONNECTOR_SCALE_FACTOR;
use crate::models::ltx2::text_encoder::Ltx2TextEncoder;
use crate::physics::scenes::caption_words;
use crate::text::gemma3::{Gemma3TextConfig, Gemma3TextModel};
use crate::text::tokenizer::Tokenizer;
use crate::{Dtype, Error, Result};

/// The special tokens, ids 0.. (Gemma's order for the first three).
pub const SPECIAL_TOKENS: [&str; 4] = ["<pad>", "<eos>", "<bos>", "<unk>"];

/// The prompt side's settings (part of the transformer stage's config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextConfig {
    /// Hidden size of the Gemma 3 text encoder (= the connectors' and the
    /// transformer's `caption_channels`).
    pub hidden_size: i64,
    /// Its decoder layers (the connectors stack `layers + 1` hidden states).
    pub layers: i64,
    /// Its attention heads (head size `hidden_size / heads`).
    pub heads: i64,
    /// Learnable registers of each connector (divides `max_sequence_length`).
    pub registers: i64,
    /// The prompt's length in tokens, padded on the left (the pipeline's
    /// `max_sequence_length`; the default model's request default).
    pub max_sequence_length: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            hidden_size: 32,
            layers: 2,
            heads: 2,
            registers: 8,
            max_sequence_length: 32,
        }
    }
}

impl TextConfig {
    /// Checks the sizes fit together.
    pub fn validate(&self) -> Result<()> {
        let pos = [self.hidden_size, self.layers, self.heads, self.registers];
        if pos.iter().any(|v| *v < 1) || self.max_sequence_length < 2 {
            return Err(Error::invalid(format!(
                "text config: sizes must be positive and max_sequence_length ≥ 2, got {self:?}"
            )));
        }
        if self.hidden_size % self.heads != 0 || (self.hidden_size / self.heads) % 2 != 0 {
            return Err(Error::invalid(format!(
                "text config: hidden_size {} must split into {} heads of an even size",
                self.hidden_size, self.heads
            )));
        }
        if self.max_sequence_length as i64 % self.registers != 0 {
            return Err(Error::invalid(format!(
                "text config: {} registers do not divide max_sequence_length {}",
                self.registers, self.max_sequence_length
            )));
        }
        Ok(())
    }

    /// The text encoder's `config.json` (a text-only Gemma 3 of `vocab_size` tokens).
    pub fn gemma_config(&self, vocab_size: usize) -> Value {
        let head_dim = self.hidden_size / self.heads;
        json!({
            "architectures": ["Gemma3TextModel"],
            "model_type": "gemma3_text",
            "vocab_size": vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": 2 * self.hidden_size,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "num_key_value_heads": self.heads,
            "head_dim": head_dim,
            "query_pre_attn_scalar": head_dim,
            "sliding_window": self.max_sequence_length,
            "sliding_window_pattern": 2,
            "rope_theta": 1_000_000.0,
            "rope_local_base_freq": 10_000.0,
            "max_position_embeddings": self.max_sequence_length.max(64),
            "hidden_activation": "gelu_pytorch_tanh",
            "rms_norm_eps": 1e-6,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "bos_token_id": 2,
            "torch_dtype": "float32",
        })
    }

    /// The connectors' `config.json` (LTX-2.0's layout: one shared
    /// projection, interleaved RoPE, learnable registers; one block each).
    pub fn connectors_config(&self) -> Value {
        let head_dim = self.hidden_size / self.heads;
        json!({
            "caption_channels": self.hidden_size,
            "text_proj_in_factor": self.layers + 1,
            "video_connector_num_attention_heads": self.heads,
            "video_connector_attention_head_dim": head_dim,
            "video_connector_num_layers": 1,
            "video_connector_num_learnable_registers": self.registers,
            "audio_connector_num_attention_heads": self.heads,
            "audio_connector_attention_head_dim": head_dim,
            "audio_connector_num_layers": 1,
            "audio_connector_num_learnable_registers": self.registers,
            "connector_rope_base_seq_len": self.max_sequence_length,
            "rope_theta": 10_000.0,
            "rope_type": "interleaved",
            "per_modality_projections": false,
        })
    }
}

/// The tokenizer's vocabulary: [`SPECIAL_TOKENS`], then the caption words.
pub fn vocabulary() -> Vec<String> {
    let mut v: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    for w in caption_words() {
        if !v.iter().any(|x| x == w) {
            v.push(w.to_string());
        }
    }
    v
}

/// Writes `dir/tokenizer.json` and `dir/tokenizer_config.json` of the
/// word-level tokenizer over [`vocabulary`]. Returns the vocabulary size.
pub fn write_tokenizer(dir: &Path, max_sequence_length: usize) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let vocab = vocabulary();
    let ids: serde_json::Map<String, Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), json!(i)))
        .collect();
    let added: Vec<Value> = SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let bos = json!({"SpecialToken": {"id": "<bos>", "type_id": 0}});
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<bos>": {"id": "<bos>", "ids": [2], "tokens": ["<bos>"]}}
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": ids, "unk_token": "<unk>"}
    });
    write_json(&dir.join("tokenizer.json"), &tokenizer)?;
    let config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<bos>",
        "eos_token": "<eos>",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "padding_side": "left",
        "model_max_length": max_sequence_length,
    });
    write_json(&dir.join("tokenizer_config.json"), &config)?;
    Ok(vocab.len())
}

/// Writes the three text components of a pipeline folder into `root`
/// (`tokenizer/`, `text_encoder/`, `connectors/`), initialised from `seed`.
pub fn write_text_components(root: &Path, config: &TextConfig, seed: u64) -> Result<()> {
    config.validate()?;
    let vocab = write_tokenizer(&root.join("tokenizer"), config.max_sequence_length)?;
    let gemma = config.gemma_config(vocab);
    let enc_dir = root.join("text_encoder");
    let gemma_cfg = Gemma3TextConfig::from_value(gemma.clone(), &enc_dir.join("config.json"))?;
    init_component(
        &enc_dir,
        "Gemma3TextModel",
        "text_encoder",
        &gemma,
        seed ^ 0x7465_7874,
        |_, s| Gemma3TextModel::from_store(gemma_cfg, s).map(|_| ()),
    )?;
    // transformers reads `config.json` without diffusers' keys, and its
    // weights as `model.safetensors`.
    write_json(&enc_dir.join("config.json"), &gemma)?;
    let (from, to) = (
        enc_dir.join(super::init::WEIGHTS_FILE),
        enc_dir.join("model.safetensors"),
    );
    std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
    let conn = config.connectors_config();
    let conn_dir = root.join("connectors");
    let conn_cfg: ConnectorsConfig = serde_json::from_value(conn.clone())
        .map_err(|e| Error::invalid(format!("connectors config: {e}")))?;
    init_component(
        &conn_dir,
        "LTX2TextConnectors",
        "connectors",
        &conn,
        seed ^ 0x636f_6e6e,
        |_, s| Ltx2TextConnectors::from_store(conn_cfg, s).map(|_| ()),
    )?;
    Ok(())
}

/// One caption's conditioning as the transformer takes it (batch 1).
#[derive(Debug)]
pub struct CaptionConditioning {
    /// Video text `[1, L, caption_channels]`.
    pub video: Tensor,
    /// Audio text `[1, L, caption_channels]`.
    pub audio: Tensor,
    /// Mask `[1, L]`.
    pub mask: Tensor,
}

/// The loaded, frozen prompt side of a pipeline folder.
pub struct TextEncoders {
    encoder: Ltx2TextEncoder,
    connectors: Ltx2TextConnectors,
    max_sequence_length: usize,
}

impl TextEncoders {
    /// Loads `root`'s `tokenizer/`, `text_encoder/` and `connectors/` (CPU, f32).
    pub fn load(root: &Path, max_sequence_length: usize) -> Result<Self> {
        let tokenizer = Tokenizer::from_dir(&root.join("tokenizer"))?;
        let model =
            Gemma3TextModel::load(&root.join("text_encoder"), crate::Device::Cpu, Dtype::F32)?;
        let connectors =
            Ltx2TextConnectors::load(&root.join("connectors"), crate::Device::Cpu, Dtype::F32)?;
        Ok(Self {
            encoder: Ltx2TextEncoder::new(tokenizer, model),
            connectors,
            max_sequence_length,
        })
    }

    /// The conditioning of `caption`, exactly as the pipeline makes it.
    pub fn encode(&self, caption: &str) -> Result<CaptionConditioning> {
        let _guard = tch::no_grad_guard();
        let (hidden, mask) = self.encoder.encode(&[caption], self.max_sequence_length)?;
        let out =
            self.connectors
                .forward(&hidden, &mask, PaddingSide::Left, CONNECTOR_SCALE_FACTOR)?;
        Ok(CaptionConditioning {
            video: out.video.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?,
            audio: out.audio.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?,
            mask: out.mask.f_to_device(Device::Cpu)?,
        })
    }

    /// The smallest and the mean relative distance `‖a − b‖ / ‖a‖` between
    /// the video conditionings of distinct `captions` (how far apart frozen
    /// random features keep prompts).
    pub fn caption_distances(&self, captions: &[&str]) -> Result<(f64, f64)> {
        let enc: Vec<Tensor> = captions
            .iter()
            .map(|c| Ok(self.encode(c)?.video))
            .collect::<Result<_>>()?;
        let (mut min, mut sum, mut n) = (f64::INFINITY, 0.0, 0usize);
        for i in 0..enc.len() {
            for j in 0..enc.len() {
                if i == j || captions[i] == captions[j] {
                    continue;
                }
                let d = enc[i].f_sub(&enc[j])?.f_norm()?.f_double_value(&[])?
                    / enc[i].f_norm()?.f_double_value(&[])?.max(1e-12);
                min = min.min(d);
                sum += d;
                n += 1;
            }
        }
        if n == 0 {
            return Err(Error::invalid("no two distinct captions to compare"));
        }
        Ok((min, sum / n as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("sora-text-{name}-{}", std::process::id()))
    }

    #[test]
    fn the_tokenizer_maps_caption_words_to_their_ids_with_bos_and_left_padding() {
        let dir = tmp("tok");
        let n = write_tokenizer(&dir, 16).unwrap();
        assert_eq!(n, vocabulary().len());
        let mut tok = Tokenizer::from_dir(&dir).unwrap();
        tok.set_padding_left(true);
        let (ids, mask) = tok
            .encode_ids(&["A Red ball bounces on a wooden floor", "purple"], 16)
            .unwrap();
        let v = vocabulary();
        let id = |w: &str| v.iter().position(|x| x == w).unwrap() as i64;
        let want = [
            2,
            id("a"),
            id("red"),
            id("ball"),
            id("bounces"),
            id("on"),
            id("a"),
            id("wooden"),
            id("floor"),
        ];
        assert_eq!(&ids[0][16 - want.len()..], &want);
        assert!(ids[0][..16 - want.len()].iter().all(|&i| i == 0));
        assert_eq!(mask[0].iter().sum::<i64>(), want.len() as i64);
        // An unknown word is <unk>.
        assert_eq!(&ids[1][14..], &[2, 3]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn frozen_random_text_keeps_captions_apart() {
        let dir = tmp("enc");
        let cfg = TextConfig::default();
        write_text_components(&dir, &cfg, 3).unwrap();
        let text = TextEncoders::load(&dir, cfg.max_sequence_length).unwrap();
        let c = text.encode("a red ball bounces on a wooden floor").unwrap();
        assert_eq!(c.video.size(), [1, 32, 32]);
        assert_eq!(c.audio.size(), [1, 32, 32]);
        let (min, mean) = text
            .caption_distances(&[
                "a red ball bounces on a wooden floor",
                "a blue ball bounces on a wooden floor",
                "two red balls bounce on a metal floor",
                "",
            ])
            .unwrap();
        assert!(min > 0.05 && mean > min, "{min} {mean}");
        assert!(TextConfig {
            registers: 5,
            ..cfg.clone()
        }
        .validate()
        .is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
