//! `config.json` of diffusers' `WanTransformer3DModel`, field for field, with
//! diffusers' defaults, plus presets of the released checkpoints.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The transformer's configuration (`transformer/config.json`).
///
/// Unknown keys (`_class_name`, `_diffusers_version`, …) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WanTransformerConfig {
    /// Patch size `(t, h, w)` of the 3-D patch embedding.
    #[serde(default = "default_patch_size")]
    pub patch_size: [i64; 3],
    /// Attention heads.
    #[serde(default = "default_heads")]
    pub num_attention_heads: i64,
    /// Channels per head.
    #[serde(default = "default_head_dim")]
    pub attention_head_dim: i64,
    /// Latent channels in (36 for Wan 2.1 I2V: noise + mask + image latent).
    #[serde(default = "default_channels")]
    pub in_channels: i64,
    /// Latent channels out; `null` (or 0) means `in_channels`.
    #[serde(default = "default_out_channels")]
    pub out_channels: Option<i64>,
    /// Width of the text encoder's hidden states.
    #[serde(default = "default_text_dim")]
    pub text_dim: i64,
    /// Width of the sinusoidal timestep embedding.
    #[serde(default = "default_freq_dim")]
    pub freq_dim: i64,
    /// Hidden width of the feed-forward layers.
    #[serde(default = "default_ffn_dim")]
    pub ffn_dim: i64,
    /// Transformer blocks.
    #[serde(default = "default_layers")]
    pub num_layers: i64,
    /// Affine layer norm before the cross-attention (else identity).
    #[serde(default = "default_true")]
    pub cross_attn_norm: bool,
    /// Kind of q/k normalisation. diffusers builds RMS norms across heads
    /// whatever this says, and so do we; kept for round-tripping the file.
    #[serde(default = "default_qk_norm")]
    pub qk_norm: Option<String>,
    /// Epsilon of the norms.
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// Width of CLIP image embeddings (Wan 2.1 I2V / FLF2V: 1280), if image-conditioned.
    #[serde(default)]
    pub image_dim: Option<i64>,
    /// Input width of the added image key/value projections in cross-attention.
    #[serde(default)]
    pub added_kv_proj_dim: Option<i64>,
    /// Positions covered by the rotary tables, per axis.
    #[serde(default = "default_rope_len")]
    pub rope_max_seq_len: i64,
    /// Learned position embedding of the image tokens (FLF2V: 514 = 2 × 257).
    #[serde(default)]
    pub pos_embed_seq_len: Option<i64>,
}

fn default_patch_size() -> [i64; 3] {
    [1, 2, 2]
}
fn default_heads() -> i64 {
    40
}
fn default_head_dim() -> i64 {
    128
}
fn default_channels() -> i64 {
    16
}
fn default_out_channels() -> Option<i64> {
    Some(16)
}
fn default_text_dim() -> i64 {
    4096
}
fn default_freq_dim() -> i64 {
    256
}
fn default_ffn_dim() -> i64 {
    13824
}
fn default_layers() -> i64 {
    40
}
fn default_true() -> bool {
    true
}
fn default_qk_norm() -> Option<String> {
    Some("rms_norm_across_heads".into())
}
fn default_eps() -> f64 {
    1e-6
}
fn default_rope_len() -> i64 {
    1024
}

impl Default for WanTransformerConfig {
    /// diffusers' constructor defaults (the 14B text-to-video shape).
    fn default() -> Self {
        Self {
            patch_size: default_patch_size(),
            num_attention_heads: default_heads(),
            attention_head_dim: default_head_dim(),
            in_channels: default_channels(),
            out_channels: default_out_channels(),
            text_dim: default_text_dim(),
            freq_dim: default_freq_dim(),
            ffn_dim: default_ffn_dim(),
            num_layers: default_layers(),
            cross_attn_norm: true,
            qk_norm: default_qk_norm(),
            eps: default_eps(),
            image_dim: None,
            added_kv_proj_dim: None,
            rope_max_seq_len: default_rope_len(),
            pos_embed_seq_len: None,
        }
    }
}

impl WanTransformerConfig {
    /// Wan 2.1 T2V 1.3B.
    pub fn wan21_t2v_1_3b() -> Self {
        Self {
            num_attention_heads: 12,
            ffn_dim: 8960,
            num_layers: 30,
            ..Self::default()
        }
    }

    /// Wan 2.1 T2V 14B (also the shape of each Wan 2.2 T2V A14B expert).
    pub fn wan21_t2v_14b() -> Self {
        Self::default()
    }

    /// Wan 2.1 I2V 14B (480P / 720P): 36 input channels, CLIP image tokens.
    pub fn wan21_i2v_14b() -> Self {
        Self {
            in_channels: 36,
            image_dim: Some(1280),
            added_kv_proj_dim: Some(5120),
            ..Self::default()
        }
    }

    /// Wan 2.1 FLF2V 14B: I2V with a position embedding over two images' tokens.
    pub fn wan21_flf2v_14b() -> Self {
        Self {
            pos_embed_seq_len: Some(514),
            ..Self::wan21_i2v_14b()
        }
    }

    /// Wan 2.2 TI2V 5B: 48 latent channels, per-token timesteps.
    pub fn wan22_ti2v_5b() -> Self {
        Self {
            num_attention_heads: 24,
            in_channels: 48,
            out_channels: Some(48),
            ffn_dim: 14336,
            num_layers: 30,
            ..Self::default()
        }
    }

    /// `heads × head_dim`.
    pub fn inner_dim(&self) -> i64 {
        self.num_attention_heads * self.attention_head_dim
    }

    /// Output channels (`out_channels or in_channels`).
    pub fn out_channels(&self) -> i64 {
        match self.out_channels {
            Some(c) if c > 0 => c,
            _ => self.in_channels,
        }
    }

    /// Checks what the model cannot be built with.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("in_channels", self.in_channels),
            ("text_dim", self.text_dim),
            ("freq_dim", self.freq_dim),
            ("ffn_dim", self.ffn_dim),
            ("rope_max_seq_len", self.rope_max_seq_len),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return Err(Error::Unsupported(format!(
                    "Wan transformer config: `{name}` must be positive, got {v}"
                )));
            }
        }
        if self.num_layers < 0 {
            return Err(Error::Unsupported(format!(
                "Wan transformer config: `num_layers` is negative ({})",
                self.num_layers
            )));
        }
        if self.patch_size.iter().any(|&p| p <= 0) {
            return Err(Error::Unsupported(format!(
                "Wan transformer config: bad `patch_size` {:?}",
                self.patch_size
            )));
        }
        if self.attention_head_dim % 2 != 0 || self.attention_head_dim < 6 {
            return Err(Error::Unsupported(format!(
                "Wan transformer config: `attention_head_dim` {} must be even and at least 6 \
                 (3-D rotary embedding)",
                self.attention_head_dim
            )));
        }
        for (name, v) in [
            ("image_dim", self.image_dim),
            ("added_kv_proj_dim", self.added_kv_proj_dim),
            ("pos_embed_seq_len", self.pos_embed_seq_len),
        ] {
            if let Some(v) = v {
                if v <= 0 {
                    return Err(Error::Unsupported(format!(
                        "Wan transformer config: `{name}` must be positive, got {v}"
                    )));
                }
            }
        }
        if let Some(p) = self.pos_embed_seq_len {
            if p % 2 != 0 {
                return Err(Error::Unsupported(format!(
                    "Wan transformer config: `pos_embed_seq_len` {p} must be even (two images)"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_released_config_and_fills_defaults() {
        let json = r#"{"_class_name": "WanTransformer3DModel", "_diffusers_version": "0.33.0",
            "added_kv_proj_dim": null, "attention_head_dim": 128, "cross_attn_norm": true,
            "eps": 1e-06, "ffn_dim": 8960, "freq_dim": 256, "image_dim": null, "in_channels": 16,
            "num_attention_heads": 12, "num_layers": 30, "out_channels": 16,
            "patch_size": [1, 2, 2], "qk_norm": "rms_norm_across_heads",
            "rope_max_seq_len": 1024, "text_dim": 4096}"#;
        let c: WanTransformerConfig = serde_json::from_str(json).unwrap();
        assert_eq!(c, WanTransformerConfig::wan21_t2v_1_3b());
        let d: WanTransformerConfig = serde_json::from_str(r#"{"out_channels": null}"#).unwrap();
        assert_eq!(d.out_channels(), d.in_channels);
        assert_eq!(d.inner_dim(), 5120);
        assert!(d.validate().is_ok());
    }
}
