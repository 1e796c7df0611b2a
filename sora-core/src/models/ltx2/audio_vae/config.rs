//! `config.json` of diffusers' `AutoencoderKLLTX2Audio`, field for field, with
//! diffusers' defaults (0.42.1).

use serde::{Deserialize, Serialize};

/// The configuration of `AutoencoderKLLTX2Audio`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ltx2AudioVaeConfig {
    /// Width of the first level (the decoder's last).
    #[serde(default = "d_base")]
    pub base_channels: i64,
    /// Audio channels of the decoded mel spectrogram.
    #[serde(default = "d_two")]
    pub output_channels: i64,
    /// Width multiplier per level.
    #[serde(default = "d_ch_mult")]
    pub ch_mult: Vec<i64>,
    /// Residual blocks per level (the decoder has one more).
    #[serde(default = "d_two")]
    pub num_res_blocks: i64,
    /// Resolutions at which blocks are followed by self-attention.
    #[serde(default)]
    pub attn_resolutions: Option<Vec<i64>>,
    /// Audio channels the encoder takes.
    #[serde(default = "d_two")]
    pub in_channels: i64,
    /// Nominal resolution (decides where attention sits).
    #[serde(default = "d_resolution")]
    pub resolution: i64,
    /// Latent channels.
    #[serde(default = "d_latent")]
    pub latent_channels: i64,
    /// `pixel` (per-location RMS) or `group` (GroupNorm, 32 groups).
    #[serde(default = "d_pixel")]
    pub norm_type: String,
    /// `height` (time), `width`, `width-compatibility` or `none`.
    #[serde(default = "d_height")]
    pub causality_axis: Option<String>,
    /// Dropout (inference: unused).
    #[serde(default)]
    pub dropout: f64,
    /// Whether the middle block has self-attention.
    #[serde(default)]
    pub mid_block_add_attention: bool,
    /// Sample rate of the mel analysis, in Hz.
    #[serde(default = "d_sr")]
    pub sample_rate: i64,
    /// Hop of the mel analysis, in samples.
    #[serde(default = "d_hop")]
    pub mel_hop_length: i64,
    /// Whether the model is causal in time.
    #[serde(default = "d_true")]
    pub is_causal: bool,
    /// Mel bins of the decoded spectrogram (`null`: 4 × the latent's).
    #[serde(default = "d_mel_bins")]
    pub mel_bins: Option<i64>,
    /// Whether the encoder outputs mean and log-variance.
    #[serde(default = "d_true")]
    pub double_z: bool,
}

impl Default for Ltx2AudioVaeConfig {
    fn default() -> Self {
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable!("every field has a default"))
    }
}

fn d_base() -> i64 {
    128
}
fn d_two() -> i64 {
    2
}
fn d_ch_mult() -> Vec<i64> {
    vec![1, 2, 4]
}
fn d_resolution() -> i64 {
    256
}
fn d_latent() -> i64 {
    8
}
fn d_pixel() -> String {
    "pixel".into()
}
fn d_height() -> Option<String> {
    Some("height".into())
}
fn d_sr() -> i64 {
    16000
}
fn d_hop() -> i64 {
    160
}
fn d_true() -> bool {
    true
}
fn d_mel_bins() -> Option<i64> {
    Some(64)
}
