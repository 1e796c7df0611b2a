//! Gemma's tokenizer as transformers 5 loads it (`GemmaTokenizer`, also when
//! `tokenizer_config.json` says `GemmaTokenizerFast`): of `tokenizer.json` it
//! keeps the BPE vocabulary and merges, the added tokens and the
//! post-processor, and rebuilds the rest whatever the file says: normalizer
//! `Replace(" ", "▁")`, pre-tokenizer `Split(" ", merged_with_previous)` (a
//! no-op after that normalizer), a BPE with byte fallback, `fuse_unk` and the
//! config's unknown token. The named special tokens of the config (defaults
//! `<bos>`, `<eos>`, `<unk>`, `<pad>`, `<mask>`) become special added tokens.
//! `add_bos_token` / `add_eos_token` are ignored when a `tokenizer.json` is
//! present, as transformers ignores them: the file's post-processor decides
//! (none: no special tokens).

use std::path::Path;

use serde_json::{json, Value};
use tokenizers::AddedToken;

use crate::{Error, Result};

/// Whether `tokenizer_config.json`'s class is loaded as transformers 5's `GemmaTokenizer`.
pub fn is_gemma_class(class: &str) -> bool {
    matches!(class, "GemmaTokenizer" | "GemmaTokenizerFast")
}

fn token_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// A named special token of the config: its value, the default when the key
/// is absent, nothing when it is `null`.
fn named(config: &Value, key: &str, default: &str) -> Option<String> {
    match config.get(key) {
        None => Some(default.to_string()),
        Some(v) => token_str(Some(v)),
    }
}

/// Rewrites the parsed `tokenizer.json` `doc` into the backend transformers
/// builds (see the module documentation). A model other than BPE is an
/// [`Error::Config`] naming `path`.
pub fn rebuild_backend(doc: &mut Value, config: &Value, path: &Path) -> Result<()> {
    let model_type = doc.pointer("/model/type").and_then(Value::as_str);
    if model_type != Some("BPE") {
        return Err(Error::Config {
            path: path.to_path_buf(),
            reason: format!(
                "GemmaTokenizer expects a BPE model in tokenizer.json, found {}",
                model_type.unwrap_or("none")
            ),
        });
    }
    let unk = named(config, "unk_token", "<unk>");
    let obj = doc.as_object_mut().ok_or_else(|| Error::Config {
        path: path.to_path_buf(),
        reason: "not a JSON object".into(),
    })?;
    obj.insert(
        "normalizer".into(),
        json!({"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}),
    );
    obj.insert(
        "pre_tokenizer".into(),
        json!({"type": "Split", "pattern": {"String": " "},
               "behavior": "MergedWithPrevious", "invert": false}),
    );
    if let Some(model) = obj.get_mut("model").and_then(Value::as_object_mut) {
        model.insert("dropout".into(), Value::Null);
        model.insert("unk_token".into(), unk.map_or(Value::Null, Value::String));
        model.insert("continuing_subword_prefix".into(), Value::Null);
        model.insert("end_of_word_suffix".into(), Value::Null);
        model.insert("fuse_unk".into(), json!(true));
        model.insert("byte_fallback".into(), json!(true));
        model.insert("ignore_merges".into(), json!(false));
    }
    Ok(())
}

/// Adds the config's named and extra special tokens that are not added tokens
/// yet, as transformers does after building the backend (a token already in
/// the vocabulary keeps its id).
pub fn add_special_tokens(inner: &mut tokenizers::Tokenizer, config: &Value) -> Result<()> {
    let mut tokens: Vec<String> = [
        ("bos_token", "<bos>"),
        ("eos_token", "<eos>"),
        ("unk_token", "<unk>"),
        ("pad_token", "<pad>"),
        ("mask_token", "<mask>"),
    ]
    .iter()
    .filter_map(|(key, default)| named(config, key, default))
    .collect();
    for key in ["additional_special_tokens", "extra_special_tokens"] {
        if let Some(list) = config.get(key).and_then(Value::as_array) {
            tokens.extend(list.iter().filter_map(|v| token_str(Some(v))));
        }
    }
    let present: Vec<String> = inner
        .get_added_tokens_decoder()
        .values()
        .map(|t| t.content.clone())
        .collect();
    let new: Vec<AddedToken> = tokens
        .into_iter()
        .filter(|t| !present.contains(t))
        .map(|t| AddedToken::from(t, true))
        .collect();
    if !new.is_empty() {
        inner
            .add_special_tokens(new)
            .map_err(|e| Error::invalid(format!("tokenizer: adding special tokens: {e}")))?;
    }
    Ok(())
}
