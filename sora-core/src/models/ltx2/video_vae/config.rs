//! `config.json` of diffusers' `AutoencoderKLLTX2Video`, field for field, with
//! diffusers' defaults (0.42.1). Fields diffusers accepts as a bool or a list
//! of bools are [`Flags`].

use serde::{Deserialize, Serialize};

/// A bool for every block, or one list entry per block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Flags {
    /// The same for every block.
    All(bool),
    /// One per block.
    Each(Vec<bool>),
}

impl Flags {
    /// One flag per block for `n` blocks (a list is taken as given).
    pub fn expand(&self, n: usize) -> Vec<bool> {
        match self {
            Flags::All(b) => vec![*b; n],
            Flags::Each(v) => v.clone(),
        }
    }
}

/// The configuration of `AutoencoderKLLTX2Video`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ltx2VideoVaeConfig {
    /// Pixel channels in.
    #[serde(default = "d_three")]
    pub in_channels: i64,
    /// Pixel channels out.
    #[serde(default = "d_three")]
    pub out_channels: i64,
    /// Latent channels.
    #[serde(default = "d_latent")]
    pub latent_channels: i64,
    /// Encoder: width after each down block.
    #[serde(default = "d_block_out")]
    pub block_out_channels: Vec<i64>,
    /// Encoder: block classes (only `LTX2VideoDownBlock3D`).
    #[serde(default = "d_down_types")]
    pub down_block_types: Vec<String>,
    /// Decoder: widths, listed from the output side.
    #[serde(default = "d_dec_block_out")]
    pub decoder_block_out_channels: Vec<i64>,
    /// Encoder: residual blocks per down block, then the middle block.
    #[serde(default = "d_layers")]
    pub layers_per_block: Vec<i64>,
    /// Decoder: residual blocks per up block, then the middle block (output side first).
    #[serde(default = "d_dec_layers")]
    pub decoder_layers_per_block: Vec<i64>,
    /// Encoder: whether each down block down-samples.
    #[serde(default = "d_flags4")]
    pub spatio_temporal_scaling: Flags,
    /// Decoder: whether each up block up-samples (output side first).
    #[serde(default = "d_flags3")]
    pub decoder_spatio_temporal_scaling: Flags,
    /// Decoder: noise injection per block (not supported when set).
    #[serde(default = "d_noise")]
    pub decoder_inject_noise: Flags,
    /// Encoder: `conv`, `spatial`, `temporal` or `spatiotemporal` per block.
    #[serde(default = "d_down")]
    pub downsample_type: Vec<String>,
    /// Decoder: `spatial`, `temporal` or `spatiotemporal` per up block (in run order).
    #[serde(default = "d_up")]
    pub upsample_type: Vec<String>,
    /// Decoder: whether each up-sampler adds its depth-to-space residual.
    #[serde(default = "d_flags3")]
    pub upsample_residual: Flags,
    /// Decoder: channel reduction of each up-sampler's residual.
    #[serde(default = "d_factor")]
    pub upsample_factor: Vec<i64>,
    /// Whether the decoder is conditioned on a decode timestep.
    #[serde(default)]
    pub timestep_conditioning: bool,
    /// Spatial patch folded into channels.
    #[serde(default = "d_patch")]
    pub patch_size: i64,
    /// Temporal patch folded into channels.
    #[serde(default = "d_one")]
    pub patch_size_t: i64,
    /// Epsilon of the shortcut layer norms.
    #[serde(default = "d_eps")]
    pub resnet_norm_eps: f64,
    /// Latent scaling of the pipeline's (de)normalisation.
    #[serde(default = "d_scale")]
    pub scaling_factor: f64,
    /// Whether the encoder pads time causally.
    #[serde(default = "d_true")]
    pub encoder_causal: bool,
    /// Whether the decoder pads time causally.
    #[serde(default = "d_true")]
    pub decoder_causal: bool,
    /// Encoder spatial padding (`zeros`, `reflect`, `replicate`).
    #[serde(default = "d_zeros")]
    pub encoder_spatial_padding_mode: String,
    /// Decoder spatial padding.
    #[serde(default = "d_reflect")]
    pub decoder_spatial_padding_mode: String,
    /// Pixels per latent pixel (else `patch_size · 2^(down-sampling blocks)`).
    #[serde(default)]
    pub spatial_compression_ratio: Option<i64>,
    /// Frames per latent frame (else `patch_size_t · 2^(down-sampling blocks)`).
    #[serde(default)]
    pub temporal_compression_ratio: Option<i64>,
}

impl Default for Ltx2VideoVaeConfig {
    fn default() -> Self {
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable!("every field has a default"))
    }
}

fn d_three() -> i64 {
    3
}
fn d_latent() -> i64 {
    128
}
fn d_block_out() -> Vec<i64> {
    vec![256, 512, 1024, 2048]
}
fn d_down_types() -> Vec<String> {
    vec!["LTX2VideoDownBlock3D".into(); 4]
}
fn d_dec_block_out() -> Vec<i64> {
    vec![256, 512, 1024]
}
fn d_layers() -> Vec<i64> {
    vec![4, 6, 6, 2, 2]
}
fn d_dec_layers() -> Vec<i64> {
    vec![5, 5, 5, 5]
}
fn d_flags4() -> Flags {
    Flags::Each(vec![true; 4])
}
fn d_flags3() -> Flags {
    Flags::Each(vec![true; 3])
}
fn d_noise() -> Flags {
    Flags::Each(vec![false; 4])
}
fn d_down() -> Vec<String> {
    ["spatial", "temporal", "spatiotemporal", "spatiotemporal"]
        .map(String::from)
        .to_vec()
}
fn d_up() -> Vec<String> {
    vec!["spatiotemporal".into(); 3]
}
fn d_factor() -> Vec<i64> {
    vec![2, 2, 2]
}
fn d_patch() -> i64 {
    4
}
fn d_one() -> i64 {
    1
}
fn d_eps() -> f64 {
    1e-6
}
fn d_scale() -> f64 {
    1.0
}
fn d_true() -> bool {
    true
}
fn d_zeros() -> String {
    "zeros".into()
}
fn d_reflect() -> String {
    "reflect".into()
}
