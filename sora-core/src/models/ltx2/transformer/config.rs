//! `config.json` of diffusers' `LTX2VideoTransformer3DModel`, field for field,
//! with diffusers 0.42.1's defaults.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Layout of the rotary embedding's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RopeType {
    /// Channel pairs `(2i, 2i+1)` rotate together (LTX-2.0).
    Interleaved,
    /// Within each head, channels `i` and `i + D/2` rotate together (LTX-2.3).
    Split,
}

/// The transformer's configuration (`transformer/config.json`). Unknown keys
/// (`_class_name`, `_diffusers_version`, …) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ltx2TransformerConfig {
    /// Video latent channels in.
    pub in_channels: i64,
    /// Video latent channels out; `null` means `in_channels`.
    pub out_channels: Option<i64>,
    /// Spatial patch size (positions only: the input is already patchified).
    pub patch_size: i64,
    /// Temporal patch size (positions only).
    pub patch_size_t: i64,
    /// Video attention heads.
    pub num_attention_heads: i64,
    /// Channels per video head.
    pub attention_head_dim: i64,
    /// Width of the video text tokens at the cross-attention.
    pub cross_attention_dim: i64,
    /// The video VAE's (time, height, width) compression, for pixel positions.
    pub vae_scale_factors: [i64; 3],
    /// Seconds·fps normaliser of the video time positions.
    pub pos_embed_max_pos: i64,
    /// Pixel height normaliser of the positions.
    pub base_height: i64,
    /// Pixel width normaliser of the positions.
    pub base_width: i64,
    /// Per-head gates on the video attentions (LTX-2.3).
    pub gated_attn: bool,
    /// Modulated video text cross-attention (9 AdaLN parameters; LTX-2.3).
    pub cross_attn_mod: bool,
    /// Audio latent channels in.
    pub audio_in_channels: i64,
    /// Audio latent channels out; `null` means `audio_in_channels`.
    pub audio_out_channels: Option<i64>,
    /// Audio patch size (unused by the positions).
    pub audio_patch_size: i64,
    /// Audio temporal patch size.
    pub audio_patch_size_t: i64,
    /// Audio attention heads.
    pub audio_num_attention_heads: i64,
    /// Channels per audio head.
    pub audio_attention_head_dim: i64,
    /// Width of the audio text tokens at the cross-attention (and of the
    /// audio↔video cross-attention's rotary tables).
    pub audio_cross_attention_dim: i64,
    /// The audio VAE's time compression (mel frames per latent frame).
    pub audio_scale_factor: i64,
    /// Seconds normaliser of the audio positions.
    pub audio_pos_embed_max_pos: i64,
    /// Sample rate of the audio the mel frames come from.
    pub audio_sampling_rate: i64,
    /// Mel hop length in samples.
    pub audio_hop_length: i64,
    /// Per-head gates on the audio attentions (LTX-2.3).
    pub audio_gated_attn: bool,
    /// Modulated audio text cross-attention (LTX-2.3).
    pub audio_cross_attn_mod: bool,
    /// Transformer blocks.
    pub num_layers: i64,
    /// Feed-forward activation (`gelu-approximate` or `gelu`).
    pub activation_fn: String,
    /// q/k normalisation; only `rms_norm_across_heads` exists in diffusers.
    pub qk_norm: String,
    /// Affine weights on the blocks' RMS norms.
    pub norm_elementwise_affine: bool,
    /// Epsilon of the blocks' norms.
    pub norm_eps: f64,
    /// Width of the text encoder's features (LTX-2.0 caption projection input).
    pub caption_channels: i64,
    /// Biases on q/k/v.
    pub attention_bias: bool,
    /// Bias on the attention output projection.
    pub attention_out_bias: bool,
    /// RoPE base.
    pub rope_theta: f64,
    /// RoPE frequencies computed in f64 (else f32).
    pub rope_double_precision: bool,
    /// Causal shift of the first latent frame's time (1: the VAE's first frame is a single frame).
    pub causal_offset: i64,
    /// Factor between sigma and the timestep the model is given.
    pub timestep_scale_multiplier: i64,
    /// Same for the audio↔video cross-attention gates.
    pub cross_attn_timestep_scale_multiplier: i64,
    /// Rotary layout.
    pub rope_type: RopeType,
    /// LTX-2.0: project the text features per stream (`caption_projection`).
    pub use_prompt_embeddings: bool,
    /// Self-attentions can be perturbed (skipped) for spatio-temporal guidance.
    pub perturbed_attn: bool,
    /// Biases in the video feed-forward.
    pub ff_bias: bool,
    /// Biases in the audio feed-forward.
    pub audio_ff_bias: bool,
    /// Timestep-dependent prompt modulation (`prompt_adaln`) when the text
    /// cross-attention is modulated; else a static per-layer table.
    pub use_prompt_adaln_single: bool,
    /// A learned embedding added to marked keyframe tokens.
    pub use_keyframes_abs_pos_embedding: bool,
}

impl Default for Ltx2TransformerConfig {
    fn default() -> Self {
        Self {
            in_channels: 128,
            out_channels: Some(128),
            patch_size: 1,
            patch_size_t: 1,
            num_attention_heads: 32,
            attention_head_dim: 128,
            cross_attention_dim: 4096,
            vae_scale_factors: [8, 32, 32],
            pos_embed_max_pos: 20,
            base_height: 2048,
            base_width: 2048,
            gated_attn: false,
            cross_attn_mod: false,
            audio_in_channels: 128,
            audio_out_channels: Some(128),
            audio_patch_size: 1,
            audio_patch_size_t: 1,
            audio_num_attention_heads: 32,
            audio_attention_head_dim: 64,
            audio_cross_attention_dim: 2048,
            audio_scale_factor: 4,
            audio_pos_embed_max_pos: 20,
            audio_sampling_rate: 16000,
            audio_hop_length: 160,
            audio_gated_attn: false,
            audio_cross_attn_mod: false,
            num_layers: 48,
            activation_fn: "gelu-approximate".into(),
            qk_norm: "rms_norm_across_heads".into(),
            norm_elementwise_affine: false,
            norm_eps: 1e-6,
            caption_channels: 3840,
            attention_bias: true,
            attention_out_bias: true,
            rope_theta: 10000.0,
            rope_double_precision: true,
            causal_offset: 1,
            timestep_scale_multiplier: 1000,
            cross_attn_timestep_scale_multiplier: 1000,
            rope_type: RopeType::Interleaved,
            use_prompt_embeddings: true,
            perturbed_attn: false,
            ff_bias: true,
            audio_ff_bias: true,
            use_prompt_adaln_single: true,
            use_keyframes_abs_pos_embedding: false,
        }
    }
}

impl Ltx2TransformerConfig {
    /// Video width `heads · head_dim`.
    pub fn inner_dim(&self) -> i64 {
        self.num_attention_heads * self.attention_head_dim
    }

    /// Audio width.
    pub fn audio_inner_dim(&self) -> i64 {
        self.audio_num_attention_heads * self.audio_attention_head_dim
    }

    /// Video channels out.
    pub fn video_out_channels(&self) -> i64 {
        self.out_channels
            .filter(|&c| c > 0)
            .unwrap_or(self.in_channels)
    }

    /// Audio channels out.
    pub fn audio_out_dim(&self) -> i64 {
        self.audio_out_channels
            .filter(|&c| c > 0)
            .unwrap_or(self.audio_in_channels)
    }

    /// Whether either stream's text cross-attention is modulated (LTX-2.3).
    pub fn prompt_modulation(&self) -> bool {
        self.cross_attn_mod || self.audio_cross_attn_mod
    }

    /// Checks what the model cannot be built from; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m));
        if self.qk_norm != "rms_norm_across_heads" {
            return Err(Error::Unsupported(format!(
                "qk_norm `{}` (diffusers only builds `rms_norm_across_heads`)",
                self.qk_norm
            )));
        }
        let positive = [
            ("in_channels", self.in_channels),
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("cross_attention_dim", self.cross_attention_dim),
            ("audio_in_channels", self.audio_in_channels),
            ("audio_num_attention_heads", self.audio_num_attention_heads),
            ("audio_attention_head_dim", self.audio_attention_head_dim),
            ("audio_cross_attention_dim", self.audio_cross_attention_dim),
            ("caption_channels", self.caption_channels),
            ("patch_size", self.patch_size),
            ("patch_size_t", self.patch_size_t),
            ("audio_patch_size_t", self.audio_patch_size_t),
            ("audio_scale_factor", self.audio_scale_factor),
            ("audio_sampling_rate", self.audio_sampling_rate),
            ("pos_embed_max_pos", self.pos_embed_max_pos),
            ("audio_pos_embed_max_pos", self.audio_pos_embed_max_pos),
            ("base_height", self.base_height),
            ("base_width", self.base_width),
            ("timestep_scale_multiplier", self.timestep_scale_multiplier),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return bad(format!("{name} must be positive, got {v}"));
            }
        }
        if self.num_layers < 0 {
            return bad(format!("num_layers is negative ({})", self.num_layers));
        }
        if self.vae_scale_factors.iter().any(|&f| f <= 0) {
            return bad(format!(
                "vae_scale_factors must be positive, got {:?}",
                self.vae_scale_factors
            ));
        }
        if self.attention_head_dim % 2 != 0 || self.audio_attention_head_dim % 2 != 0 {
            return bad("rotary embeddings need even head dimensions".into());
        }
        if self.rope_type == RopeType::Split {
            // The split tables are cut per head of the stream's rope.
            for (name, dim, heads) in [
                ("video", self.inner_dim(), self.num_attention_heads),
                (
                    "audio",
                    self.audio_inner_dim(),
                    self.audio_num_attention_heads,
                ),
                (
                    "audio-video cross (video heads)",
                    self.audio_cross_attention_dim,
                    self.num_attention_heads,
                ),
                (
                    "audio-video cross (audio heads)",
                    self.audio_cross_attention_dim,
                    self.audio_num_attention_heads,
                ),
            ] {
                if dim % (2 * heads) != 0 {
                    return bad(format!(
                        "split rotary tables of width {dim} cannot be cut into {heads} heads ({name})"
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_names_follow_diffusers() {
        let c: Ltx2TransformerConfig = serde_json::from_str(
            r#"{"_class_name": "LTX2VideoTransformer3DModel", "rope_type": "split",
                "out_channels": null, "cross_attn_mod": true}"#,
        )
        .unwrap();
        assert_eq!(c.rope_type, RopeType::Split);
        assert_eq!(c.video_out_channels(), 128);
        assert_eq!(c.inner_dim(), 4096);
        assert_eq!(c.audio_inner_dim(), 2048);
        assert!(c.prompt_modulation());
        assert!(c.validate().is_ok());
        let bad: Ltx2TransformerConfig =
            serde_json::from_str(r#"{"qk_norm": "rms_norm"}"#).unwrap();
        assert!(matches!(bad.validate(), Err(Error::Unsupported(_))));
    }
}
