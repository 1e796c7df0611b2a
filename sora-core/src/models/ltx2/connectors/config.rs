//! The `config.json` of diffusers' `LTX2TextConnectors`, field names and
//! defaults as diffusers 0.42.1 registers them.

use std::path::Path;

use serde::Deserialize;

use crate::weights::read_config;
use crate::{Error, Result};

/// The rotary layout of the connectors' 1-D RoPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeType {
    /// Channel pairs `(2i, 2i+1)` rotate together, over the whole inner dimension.
    Interleaved,
    /// Per head, the first and second halves rotate together.
    Split,
}

/// `LTX2TextConnectors`' configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectorsConfig {
    /// The text encoder's hidden size.
    #[serde(default = "d_caption")]
    pub caption_channels: i64,
    /// Hidden states stacked per token (text encoder layers + 1).
    #[serde(default = "d_factor")]
    pub text_proj_in_factor: i64,
    /// Heads of the video connector.
    #[serde(default = "d_heads")]
    pub video_connector_num_attention_heads: i64,
    /// Head size of the video connector.
    #[serde(default = "d_head_dim")]
    pub video_connector_attention_head_dim: i64,
    /// Blocks of the video connector.
    #[serde(default = "d_layers")]
    pub video_connector_num_layers: i64,
    /// Learnable registers replacing the video connector's padding (`null`: none).
    #[serde(default = "d_registers")]
    pub video_connector_num_learnable_registers: Option<i64>,
    /// Per-head output gates in the video connector's attention (LTX-2.3).
    #[serde(default)]
    pub video_gated_attn: bool,
    /// Heads of the audio connector.
    #[serde(default = "d_heads")]
    pub audio_connector_num_attention_heads: i64,
    /// Head size of the audio connector.
    #[serde(default = "d_head_dim")]
    pub audio_connector_attention_head_dim: i64,
    /// Blocks of the audio connector.
    #[serde(default = "d_layers")]
    pub audio_connector_num_layers: i64,
    /// Learnable registers replacing the audio connector's padding (`null`: none).
    #[serde(default = "d_registers")]
    pub audio_connector_num_learnable_registers: Option<i64>,
    /// Per-head output gates in the audio connector's attention (LTX-2.3).
    #[serde(default)]
    pub audio_gated_attn: bool,
    /// Positions are divided by this before the RoPE angles.
    #[serde(default = "d_base_seq")]
    pub connector_rope_base_seq_len: i64,
    /// RoPE base.
    #[serde(default = "d_theta")]
    pub rope_theta: f64,
    /// Frequencies computed in f64 (else f32).
    #[serde(default = "d_true")]
    pub rope_double_precision: bool,
    /// Stored for the original implementation; unused by diffusers' forward.
    #[serde(default)]
    pub causal_temporal_positioning: bool,
    /// `"interleaved"` or `"split"`.
    #[serde(default = "d_rope_type")]
    pub rope_type: String,
    /// LTX-2.3: per-token RMS norm and one projection per modality.
    #[serde(default)]
    pub per_modality_projections: bool,
    /// Output size of the video projection (LTX-2.3).
    #[serde(default = "d_video_dim")]
    pub video_hidden_dim: i64,
    /// Output size of the audio projection (LTX-2.3).
    #[serde(default = "d_audio_dim")]
    pub audio_hidden_dim: i64,
    /// Whether the input projections have a bias.
    #[serde(default)]
    pub proj_bias: bool,
}

fn d_caption() -> i64 {
    3840
}
fn d_factor() -> i64 {
    49
}
fn d_heads() -> i64 {
    30
}
fn d_head_dim() -> i64 {
    128
}
fn d_layers() -> i64 {
    2
}
fn d_registers() -> Option<i64> {
    Some(128)
}
fn d_base_seq() -> i64 {
    4096
}
fn d_theta() -> f64 {
    10000.0
}
fn d_true() -> bool {
    true
}
fn d_rope_type() -> String {
    "interleaved".into()
}
fn d_video_dim() -> i64 {
    4096
}
fn d_audio_dim() -> i64 {
    2048
}

impl ConnectorsConfig {
    /// Reads and checks `config.json`; problems are [`Error::Config`] naming it.
    pub fn load(path: &Path) -> Result<Self> {
        let cfg: Self = read_config(path)?;
        cfg.check().map_err(|e| match e {
            Error::InvalidRequest(reason) => Error::Config {
                path: path.to_path_buf(),
                reason,
            },
            other => other,
        })?;
        Ok(cfg)
    }

    /// The RoPE layout.
    pub fn rope(&self) -> Result<RopeType> {
        match self.rope_type.as_str() {
            "interleaved" => Ok(RopeType::Interleaved),
            "split" => Ok(RopeType::Split),
            other => Err(Error::invalid(format!(
                "LTX-2 connectors: rope_type `{other}` is not `interleaved` or `split`"
            ))),
        }
    }

    /// Width of the stacked text features: `caption_channels × text_proj_in_factor`.
    pub fn text_encoder_dim(&self) -> i64 {
        self.caption_channels * self.text_proj_in_factor
    }

    /// Inner width of the video connector (`heads × head_dim`).
    pub fn video_inner_dim(&self) -> i64 {
        self.video_connector_num_attention_heads * self.video_connector_attention_head_dim
    }

    /// Inner width of the audio connector (`heads × head_dim`).
    pub fn audio_inner_dim(&self) -> i64 {
        self.audio_connector_num_attention_heads * self.audio_connector_attention_head_dim
    }

    /// Checks sizes and that each connector's width equals what feeds it.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [
            ("caption_channels", self.caption_channels),
            ("text_proj_in_factor", self.text_proj_in_factor),
            (
                "video_connector_num_attention_heads",
                self.video_connector_num_attention_heads,
            ),
            (
                "video_connector_attention_head_dim",
                self.video_connector_attention_head_dim,
            ),
            (
                "audio_connector_num_attention_heads",
                self.audio_connector_num_attention_heads,
            ),
            (
                "audio_connector_attention_head_dim",
                self.audio_connector_attention_head_dim,
            ),
            (
                "connector_rope_base_seq_len",
                self.connector_rope_base_seq_len,
            ),
            ("video_hidden_dim", self.video_hidden_dim),
            ("audio_hidden_dim", self.audio_hidden_dim),
        ] {
            if v <= 0 {
                return Err(Error::invalid(format!(
                    "LTX-2 connectors: `{name}` must be positive, got {v}"
                )));
            }
        }
        for (name, v) in [
            (
                "video_connector_num_layers",
                self.video_connector_num_layers,
            ),
            (
                "audio_connector_num_layers",
                self.audio_connector_num_layers,
            ),
        ] {
            if v < 0 {
                return Err(Error::invalid(format!(
                    "LTX-2 connectors: `{name}` is negative"
                )));
            }
        }
        for (name, v) in [
            (
                "video_connector_num_learnable_registers",
                self.video_connector_num_learnable_registers,
            ),
            (
                "audio_connector_num_learnable_registers",
                self.audio_connector_num_learnable_registers,
            ),
        ] {
            if v.is_some_and(|n| n <= 0) {
                return Err(Error::invalid(format!(
                    "LTX-2 connectors: `{name}` must be positive or null"
                )));
            }
        }
        let rope = self.rope()?;
        let (video_in, audio_in) = if self.per_modality_projections {
            (self.video_hidden_dim, self.audio_hidden_dim)
        } else {
            (self.caption_channels, self.caption_channels)
        };
        for (which, inner, input, heads) in [
            (
                "video",
                self.video_inner_dim(),
                video_in,
                self.video_connector_num_attention_heads,
            ),
            (
                "audio",
                self.audio_inner_dim(),
                audio_in,
                self.audio_connector_num_attention_heads,
            ),
        ] {
            if inner != input {
                return Err(Error::invalid(format!(
                    "LTX-2 connectors: the {which} connector is {inner} wide (heads × head_dim) but is fed {input} features"
                )));
            }
            if inner % 2 != 0 {
                return Err(Error::Unsupported(format!(
                    "LTX-2 connectors: odd {which} connector width {inner} (RoPE padding)"
                )));
            }
            if rope == RopeType::Split && (inner / 2) % heads != 0 {
                return Err(Error::invalid(format!(
                    "LTX-2 connectors: split RoPE needs {which} width / 2 divisible by its heads"
                )));
            }
        }
        Ok(())
    }
}
