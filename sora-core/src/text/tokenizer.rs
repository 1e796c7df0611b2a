//! Tokenizers read from a folder's `tokenizer.json` (HF `tokenizers`), called as
//! transformers calls them: `tokenizer(texts, padding="max_length",
//! max_length=L, truncation=True, add_special_tokens=True)`.
//!
//! Loading follows transformers 5 (`AutoTokenizer.from_pretrained`): when the
//! sibling `tokenizer_config.json` names `T5Tokenizer` (as Wan's UMT5 tokenizer
//! does) and the model is a Unigram, transformers rebuilds the backend rather
//! than using `tokenizer.json` as is: it keeps the vocabulary and only the
//! `Precompiled` (SentencePiece) normalizer, splits on whitespace before a
//! `Metaspace("▁", prepend always, split)`, uses `unk_id = 2`, and appends the
//! EOS token with a `$A </s>` template. [`Tokenizer::from_file`] does the same,
//! so that token ids match the Python pipeline exactly. The pad token and the
//! padding / truncation sides come from `tokenizer_config.json` (defaults:
//! `<pad>`, right, right). A `GemmaTokenizer` is rebuilt as transformers 5
//! rebuilds it ([`super::gemma3::tokenizer`]).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tch::Tensor;
use tokenizers::{
    pad_encodings, truncate_encodings, PaddingDirection, PaddingParams, PaddingStrategy,
    PostProcessor, PostProcessorWrapper, TruncationDirection, TruncationParams, TruncationStrategy,
};

use super::gemma3;
use crate::{Error, Result};

/// Token ids and attention masks, one row per text.
pub type IdsAndMasks = (Vec<Vec<i64>>, Vec<Vec<i64>>);

/// A tokenizer loaded from `tokenizer.json` (and its sibling `tokenizer_config.json`).
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    pad_id: u32,
    pad_token: String,
    pad_left: bool,
    truncate_left: bool,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("path", &self.path)
            .field("vocab_size", &self.vocab_size())
            .field("pad_token", &self.pad_token)
            .field("pad_id", &self.pad_id)
            .finish()
    }
}

fn config_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A special token in `tokenizer_config.json`: a string or an `AddedToken` object.
fn token_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::NotFound {
            "file not found".to_string()
        } else {
            e.to_string()
        };
        config_err(path, reason)
    })?;
    serde_json::from_str(&text).map_err(|e| config_err(path, e.to_string()))
}

/// The first `Precompiled` normalizer, at the top level or inside a `Sequence`.
fn precompiled_normalizer(normalizer: &Value) -> Option<Value> {
    match normalizer.get("type")?.as_str()? {
        "Precompiled" => Some(normalizer.clone()),
        "Sequence" => normalizer
            .get("normalizers")?
            .as_array()?
            .iter()
            .find(|n| n.get("type").and_then(Value::as_str) == Some("Precompiled"))
            .cloned(),
        _ => None,
    }
}

impl Tokenizer {
    /// Loads `tokenizer.json` at `path` as transformers' `AutoTokenizer` loads the
    /// folder holding it (see the module documentation). Any problem with the
    /// file (absent, unreadable, not a tokenizer, no pad/EOS token) is an
    /// [`Error::Config`] naming it.
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut doc = read_json(path)?;
        let config_path = path.with_file_name("tokenizer_config.json");
        let config = if config_path.is_file() {
            read_json(&config_path)?
        } else {
            Value::Object(Default::default())
        };
        let class = config
            .get("tokenizer_class")
            .and_then(Value::as_str)
            .unwrap_or("");
        let is_unigram = doc.pointer("/model/type").and_then(Value::as_str) == Some("Unigram");
        let t5 = matches!(class, "T5Tokenizer" | "T5TokenizerFast") && is_unigram;
        let gemma = gemma3::tokenizer::is_gemma_class(class);
        if gemma {
            gemma3::tokenizer::rebuild_backend(&mut doc, &config, path)?;
        }
        let eos_token = token_str(config.get("eos_token")).unwrap_or_else(|| "</s>".into());

        let json_pad_token = doc
            .pointer("/padding/pad_token")
            .and_then(Value::as_str)
            .map(str::to_string);
        // Sides: tokenizer_config.json's, else those baked into tokenizer.json, else right.
        let left = |key: &str, pointer: &str| match config.get(key).and_then(Value::as_str) {
            Some(side) => side == "left",
            None => doc.pointer(pointer).and_then(Value::as_str) == Some("Left"),
        };
        let pad_left = left("padding_side", "/padding/direction");
        let truncate_left = left("truncation_side", "/truncation/direction");
        if let Some(obj) = doc.as_object_mut() {
            // Padding and truncation are set per call.
            obj.insert("padding".into(), Value::Null);
            obj.insert("truncation".into(), Value::Null);
            if t5 {
                let normalizer = obj
                    .get("normalizer")
                    .and_then(precompiled_normalizer)
                    .unwrap_or(Value::Null);
                obj.insert("normalizer".into(), normalizer);
                obj.insert(
                    "pre_tokenizer".into(),
                    json!({"type": "Sequence", "pretokenizers": [
                        {"type": "WhitespaceSplit"},
                        {"type": "Metaspace", "replacement": "\u{2581}",
                         "prepend_scheme": "always", "split": true}
                    ]}),
                );
                obj.insert("post_processor".into(), Value::Null);
                if let Some(model) = obj.get_mut("model").and_then(Value::as_object_mut) {
                    model.insert("unk_id".into(), json!(2));
                    model.insert("byte_fallback".into(), json!(false));
                }
            }
        }
        let mut inner: tokenizers::Tokenizer = serde_json::from_value(doc)
            .map_err(|e| config_err(path, format!("not a tokenizers file: {e}")))?;
        if gemma {
            gemma3::tokenizer::add_special_tokens(&mut inner, &config)?;
        }

        if t5 {
            let eos_id = inner.token_to_id(&eos_token).ok_or_else(|| {
                config_err(
                    path,
                    format!("EOS token `{eos_token}` is not in the vocabulary"),
                )
            })?;
            let template = json!({
                "type": "TemplateProcessing",
                "single": [{"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": eos_token, "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": eos_token, "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 0}},
                         {"SpecialToken": {"id": eos_token, "type_id": 0}}],
                "special_tokens": {eos_token.clone(): {"id": eos_token, "ids": [eos_id], "tokens": [eos_token]}}
            });
            let pp: PostProcessorWrapper = serde_json::from_value(template)
                .map_err(|e| config_err(path, format!("EOS template: {e}")))?;
            inner.with_post_processor(Some(pp));
        }

        let pad_token = token_str(config.get("pad_token"))
            .or(json_pad_token)
            .unwrap_or_else(|| "<pad>".into());
        let pad_id = inner.token_to_id(&pad_token).ok_or_else(|| {
            config_err(
                path,
                format!("pad token `{pad_token}` is not in the vocabulary"),
            )
        })?;
        Ok(Self {
            inner,
            path: path.to_path_buf(),
            pad_id,
            pad_token,
            pad_left,
            truncate_left,
        })
    }

    /// `<dir>/tokenizer.json`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::from_file(&dir.join("tokenizer.json"))
    }

    /// The file this tokenizer was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Pads on the left (`true`) or right, whatever `tokenizer_config.json`
    /// says: LTX-2's pipeline sets `padding_side = "left"` before tokenizing.
    pub fn set_padding_left(&mut self, left: bool) {
        self.pad_left = left;
    }

    /// Whether padding goes on the left.
    pub fn pads_left(&self) -> bool {
        self.pad_left
    }

    /// The id of the pad token.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// The id of `token`, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token ids and attention masks (1 = token, 0 = padding) of each text, each
    /// exactly `max_len` long: special tokens added, truncated then padded as
    /// transformers does with `padding="max_length", truncation=True`.
    pub fn encode_ids(&self, texts: &[&str], max_len: usize) -> Result<IdsAndMasks> {
        let post = self.inner.get_post_processor();
        let added = post.map(|p| p.added_tokens(false)).unwrap_or(0);
        if max_len <= added {
            return Err(Error::invalid(format!(
                "max_sequence_length {max_len} leaves no room for text next to the {added} special token(s)"
            )));
        }
        let tok_err = |e: tokenizers::Error| Error::invalid(format!("tokenizer: {e}"));
        let truncation = TruncationParams {
            direction: if self.truncate_left {
                TruncationDirection::Left
            } else {
                TruncationDirection::Right
            },
            max_length: max_len - added,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        };
        let padding = PaddingParams {
            strategy: PaddingStrategy::Fixed(max_len),
            direction: if self.pad_left {
                PaddingDirection::Left
            } else {
                PaddingDirection::Right
            },
            pad_to_multiple_of: None,
            pad_id: self.pad_id,
            pad_type_id: 0,
            pad_token: self.pad_token.clone(),
        };
        let mut ids = Vec::with_capacity(texts.len());
        let mut masks = Vec::with_capacity(texts.len());
        for text in texts {
            let enc = self.inner.encode(*text, false).map_err(tok_err)?;
            let (enc, _) = truncate_encodings(enc, None, &truncation).map_err(tok_err)?;
            let enc = match post {
                Some(p) => p.process(enc, None, true).map_err(tok_err)?,
                None => enc,
            };
            let mut one = [enc];
            pad_encodings(&mut one, &padding).map_err(tok_err)?;
            let [enc] = one;
            ids.push(enc.get_ids().iter().map(|&i| i as i64).collect());
            masks.push(enc.get_attention_mask().iter().map(|&m| m as i64).collect());
        }
        Ok((ids, masks))
    }

    /// [`Tokenizer::encode_ids`] as CPU tensors: ids `i64 [B, max_len]`, mask `i64 [B, max_len]`.
    pub fn encode_padded(&self, texts: &[&str], max_len: usize) -> Result<(Tensor, Tensor)> {
        let (ids, masks) = self.encode_ids(texts, max_len)?;
        let rows = texts.len() as i64;
        let flat = |v: Vec<Vec<i64>>| -> Result<Tensor> {
            let data: Vec<i64> = v.into_iter().flatten().collect();
            Ok(Tensor::f_from_slice(&data)?.f_reshape([rows, max_len as i64])?)
        };
        Ok((flat(ids)?, flat(masks)?))
    }
}
