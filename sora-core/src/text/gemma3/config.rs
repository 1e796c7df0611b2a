//! The configuration of a Gemma 3 text model (transformers' `Gemma3TextConfig`),
//! read from a `Gemma3TextModel` / `Gemma3ForCausalLM` `config.json` or from the
//! `text_config` of a `Gemma3ForConditionalGeneration` one, in both the
//! transformers 4 form (`rope_theta`, `rope_local_base_freq`, `rope_scaling`,
//! `sliding_window_pattern`) and the transformers 5 form (`rope_parameters`
//! per layer type, `layer_types`).

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::weights::read_config;
use crate::{Error, Result};

/// The attention of one decoder layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerType {
    /// Causal attention limited to the last `sliding_window` positions, local RoPE.
    Sliding,
    /// Causal attention over the whole prefix, global RoPE.
    Full,
}

/// The rotary embedding of one layer type, resolved from the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RopeSpec {
    /// Base of the inverse frequencies.
    pub theta: f64,
    /// Positions are divided by this (`rope_type: "linear"`; 1 for `"default"`).
    pub linear_factor: f64,
}

/// `Gemma3TextConfig`, with transformers' field names and defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct Gemma3TextConfig {
    /// Rows of the token embedding.
    #[serde(default = "d_vocab")]
    pub vocab_size: i64,
    /// Hidden size.
    #[serde(default = "d_hidden")]
    pub hidden_size: i64,
    /// Inner size of the gated MLP.
    #[serde(default = "d_inter")]
    pub intermediate_size: i64,
    /// Decoder layers.
    #[serde(default = "d_layers")]
    pub num_hidden_layers: i64,
    /// Query heads.
    #[serde(default = "d_heads")]
    pub num_attention_heads: i64,
    /// Key / value heads (grouped-query attention).
    #[serde(default = "d_kv_heads")]
    pub num_key_value_heads: i64,
    /// Size of one head.
    #[serde(default = "d_head_dim")]
    pub head_dim: i64,
    /// The MLP's activation (`gelu_pytorch_tanh`).
    #[serde(default = "d_act")]
    pub hidden_activation: String,
    /// Epsilon of the RMS norms.
    #[serde(default = "d_eps")]
    pub rms_norm_eps: f64,
    /// Whether q/k/v/o projections have a bias.
    #[serde(default)]
    pub attention_bias: bool,
    /// Attention logits are scaled by `query_pre_attn_scalar^-0.5`.
    #[serde(default = "d_qpas")]
    pub query_pre_attn_scalar: f64,
    /// Window of the sliding layers.
    #[serde(default = "d_window")]
    pub sliding_window: Option<i64>,
    /// `"sliding_attention"` / `"full_attention"` per layer (transformers 5).
    #[serde(default)]
    pub layer_types: Option<Vec<String>>,
    /// Every n-th layer is global when `layer_types` is absent (default 6).
    #[serde(default)]
    pub sliding_window_pattern: Option<i64>,
    /// The same, as transformers 5 also writes it.
    #[serde(default, rename = "_sliding_window_pattern")]
    pub sliding_window_pattern_private: Option<i64>,
    /// Per-layer-type RoPE parameters (transformers 5).
    #[serde(default)]
    pub rope_parameters: Option<Value>,
    /// Global RoPE base (transformers 4 form).
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// Local RoPE base (transformers 4 form).
    #[serde(default)]
    pub rope_local_base_freq: Option<f64>,
    /// Scaling of the global RoPE (transformers 4 form).
    #[serde(default)]
    pub rope_scaling: Option<Value>,
    /// Attention logit soft-capping (not supported with SDPA, as in transformers).
    #[serde(default)]
    pub attn_logit_softcapping: Option<f64>,
    /// Bidirectional attention (EmbeddingGemma); not supported here.
    #[serde(default)]
    pub use_bidirectional_attention: Option<bool>,
    /// Image placeholder id, from the multimodal config: replaced by 0 when out of vocabulary.
    #[serde(skip)]
    pub image_token_index: Option<i64>,
}

fn d_vocab() -> i64 {
    262_208
}
fn d_hidden() -> i64 {
    2304
}
fn d_inter() -> i64 {
    9216
}
fn d_layers() -> i64 {
    26
}
fn d_heads() -> i64 {
    8
}
fn d_kv_heads() -> i64 {
    4
}
fn d_head_dim() -> i64 {
    256
}
fn d_act() -> String {
    "gelu_pytorch_tanh".into()
}
fn d_eps() -> f64 {
    1e-6
}
fn d_qpas() -> f64 {
    256.0
}
fn d_window() -> Option<i64> {
    Some(4096)
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Gemma3TextConfig {
    /// Reads `config.json`: the `text_config` of a multimodal Gemma 3 config
    /// (its `image_token_index` kept, default 262144), or a text-only one.
    pub fn load(path: &Path) -> Result<Self> {
        let v: Value = read_config(path)?;
        Self::from_value(v, path)
    }

    /// As [`Gemma3TextConfig::load`], from parsed JSON (`path` names it in errors).
    pub fn from_value(v: Value, path: &Path) -> Result<Self> {
        let (text, image) = match v.get("text_config") {
            Some(t) if t.is_object() => (
                t.clone(),
                Some(
                    v.get("image_token_index")
                        .and_then(Value::as_i64)
                        .unwrap_or(262_144),
                ),
            ),
            Some(t) if t.is_null() => (Value::Object(Default::default()), Some(262_144)),
            _ => (v, None),
        };
        let mut cfg: Self =
            serde_json::from_value(text).map_err(|e| bad(path, format!("Gemma 3 config: {e}")))?;
        cfg.image_token_index = image;
        cfg.check().map_err(|e| match e {
            Error::InvalidRequest(m) => bad(path, m),
            other => other,
        })?;
        Ok(cfg)
    }

    fn check(&self) -> Result<()> {
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
        ] {
            if v <= 0 {
                return Err(Error::invalid(format!(
                    "Gemma 3 config: `{name}` must be positive, got {v}"
                )));
            }
        }
        if self.num_hidden_layers < 0 {
            return Err(Error::invalid(
                "Gemma 3 config: `num_hidden_layers` is negative",
            ));
        }
        if self.num_attention_heads % self.num_key_value_heads != 0 {
            return Err(Error::invalid(format!(
                "Gemma 3 config: {} attention heads are not a multiple of {} key/value heads",
                self.num_attention_heads, self.num_key_value_heads
            )));
        }
        if self.head_dim % 2 != 0 {
            return Err(Error::invalid("Gemma 3 config: `head_dim` must be even"));
        }
        if self.query_pre_attn_scalar <= 0.0 {
            return Err(Error::invalid(
                "Gemma 3 config: `query_pre_attn_scalar` must be positive",
            ));
        }
        if self.attn_logit_softcapping.is_some() {
            return Err(Error::Unsupported(
                "Gemma 3 with `attn_logit_softcapping` (transformers' SDPA path refuses it too)"
                    .into(),
            ));
        }
        if self.use_bidirectional_attention == Some(true) {
            return Err(Error::Unsupported(
                "Gemma 3 with `use_bidirectional_attention` (only the causal text model is ported)"
                    .into(),
            ));
        }
        self.layer_types()?;
        self.rope(LayerType::Full)?;
        self.rope(LayerType::Sliding)?;
        Ok(())
    }

    /// The attention type of every layer: `layer_types`, else every
    /// `sliding_window_pattern`-th layer global (default 6), as transformers derives it.
    pub fn layer_types(&self) -> Result<Vec<LayerType>> {
        let n = self.num_hidden_layers as usize;
        let types: Vec<LayerType> = match &self.layer_types {
            Some(names) => names
                .iter()
                .map(|s| match s.as_str() {
                    "sliding_attention" => Ok(LayerType::Sliding),
                    "full_attention" => Ok(LayerType::Full),
                    other => Err(Error::Unsupported(format!("Gemma 3 layer type `{other}`"))),
                })
                .collect::<Result<_>>()?,
            None => {
                let pattern = self
                    .sliding_window_pattern
                    .or(self.sliding_window_pattern_private)
                    .unwrap_or(6);
                if pattern <= 0 {
                    return Err(Error::invalid(
                        "Gemma 3 config: `sliding_window_pattern` must be positive",
                    ));
                }
                (0..n as i64)
                    .map(|i| {
                        if (i + 1) % pattern != 0 {
                            LayerType::Sliding
                        } else {
                            LayerType::Full
                        }
                    })
                    .collect()
            }
        };
        if types.len() < n {
            return Err(Error::invalid(format!(
                "Gemma 3 config: {} layer types for {n} layers",
                types.len()
            )));
        }
        if types.contains(&LayerType::Sliding) && self.sliding_window.map_or(true, |w| w <= 0) {
            return Err(Error::invalid(
                "Gemma 3 config: sliding layers need a positive `sliding_window`",
            ));
        }
        Ok(types[..n].to_vec())
    }

    /// The RoPE of `layer`'s type: `rope_parameters[type]` (transformers 5) or
    /// `rope_theta` / `rope_local_base_freq` with `rope_scaling` on the global
    /// layers (transformers 4). Types other than `default` and `linear` are
    /// [`Error::Unsupported`].
    pub fn rope(&self, layer: LayerType) -> Result<RopeSpec> {
        let (key, default_theta) = match layer {
            LayerType::Full => ("full_attention", 1_000_000.0),
            LayerType::Sliding => ("sliding_attention", 10_000.0),
        };
        let params: Option<Value> = match &self.rope_parameters {
            Some(Value::Object(map)) if map.contains_key(key) => map.get(key).cloned(),
            // A flat dict (one RoPE for every layer type).
            Some(Value::Object(map)) if map.contains_key("rope_type") => {
                Some(Value::Object(map.clone()))
            }
            _ => None,
        };
        let params = match params {
            Some(p) if !p.is_null() => p,
            _ => {
                // transformers 4 form: rope_scaling applies to the global layers only.
                let theta = match layer {
                    LayerType::Full => self.rope_theta,
                    LayerType::Sliding => self.rope_local_base_freq,
                }
                .unwrap_or(default_theta);
                let mut p = match (layer, &self.rope_scaling) {
                    (LayerType::Full, Some(Value::Object(s))) => s.clone(),
                    _ => Default::default(),
                };
                p.entry("rope_theta").or_insert(theta.into());
                Value::Object(p)
            }
        };
        let rope_type = params
            .get("rope_type")
            .or_else(|| params.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        let theta = params
            .get("rope_theta")
            .and_then(Value::as_f64)
            .unwrap_or(default_theta);
        let linear_factor = match rope_type {
            "default" => 1.0,
            "linear" => {
                let f = params.get("factor").and_then(Value::as_f64).unwrap_or(1.0);
                if f <= 0.0 {
                    return Err(Error::invalid(
                        "Gemma 3 config: RoPE `factor` must be positive",
                    ));
                }
                f
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "Gemma 3 RoPE type `{other}` (default and linear are ported)"
                )))
            }
        };
        if theta <= 0.0 {
            return Err(Error::invalid(
                "Gemma 3 config: `rope_theta` must be positive",
            ));
        }
        Ok(RopeSpec {
            theta,
            linear_factor,
        })
    }
}
