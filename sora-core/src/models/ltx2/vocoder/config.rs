//! `config.json` of diffusers' `LTX2Vocoder` and `LTX2VocoderWithBWE`, field
//! for field, with diffusers' defaults (0.42.1).

use serde::{Deserialize, Serialize};

/// The configuration of `LTX2Vocoder` (one mel → waveform generator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ltx2VocoderConfig {
    /// Input channels: audio channels × mel bins.
    #[serde(default = "d_in_channels")]
    pub in_channels: i64,
    /// Width after `conv_in` (halved by every up-sampler).
    #[serde(default = "d_hidden_channels")]
    pub hidden_channels: i64,
    /// Audio channels out.
    #[serde(default = "d_out_channels")]
    pub out_channels: i64,
    /// Kernel of each transposed-convolution up-sampler.
    #[serde(default = "d_upsample_kernel_sizes")]
    pub upsample_kernel_sizes: Vec<i64>,
    /// Stride (up-sampling factor) of each up-sampler.
    #[serde(default = "d_upsample_factors")]
    pub upsample_factors: Vec<i64>,
    /// Kernel of each parallel residual block after an up-sampler.
    #[serde(default = "d_resnet_kernel_sizes")]
    pub resnet_kernel_sizes: Vec<i64>,
    /// Dilations of each parallel residual block.
    #[serde(default = "d_resnet_dilations")]
    pub resnet_dilations: Vec<Vec<i64>>,
    /// `leaky_relu`, `snake` or `snakebeta`.
    #[serde(default = "d_leaky")]
    pub act_fn: String,
    /// Slope of the leaky ReLU (not used by the final one, which keeps 0.01).
    #[serde(default = "d_slope")]
    pub leaky_relu_negative_slope: f64,
    /// Whether residual-block activations are anti-aliased (up, act, down).
    #[serde(default)]
    pub antialias: bool,
    /// Up/down ratio of the anti-aliased activations.
    #[serde(default = "d_aa_ratio")]
    pub antialias_ratio: i64,
    /// Taps of the anti-aliasing filters.
    #[serde(default = "d_aa_kernel")]
    pub antialias_kernel_size: i64,
    /// `tanh`, `clamp` or `null` (none).
    #[serde(default = "d_tanh")]
    pub final_act_fn: Option<String>,
    /// Whether `conv_out` has a bias.
    #[serde(default = "d_true")]
    pub final_bias: bool,
    /// Sample rate of the waveform out, in Hz.
    #[serde(default = "d_sr_24k")]
    pub output_sampling_rate: i64,
}

impl Default for Ltx2VocoderConfig {
    fn default() -> Self {
        Self {
            in_channels: d_in_channels(),
            hidden_channels: d_hidden_channels(),
            out_channels: d_out_channels(),
            upsample_kernel_sizes: d_upsample_kernel_sizes(),
            upsample_factors: d_upsample_factors(),
            resnet_kernel_sizes: d_resnet_kernel_sizes(),
            resnet_dilations: d_resnet_dilations(),
            act_fn: d_leaky(),
            leaky_relu_negative_slope: d_slope(),
            antialias: false,
            antialias_ratio: d_aa_ratio(),
            antialias_kernel_size: d_aa_kernel(),
            final_act_fn: d_tanh(),
            final_bias: true,
            output_sampling_rate: d_sr_24k(),
        }
    }
}

/// The configuration of `LTX2VocoderWithBWE`: a stage-1 generator (the plain
/// fields), a bandwidth-extension generator (`bwe_*`), the mel STFT between
/// them, and the two sample rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ltx2VocoderBweConfig {
    /// Stage 1: input channels (audio channels × mel bins).
    #[serde(default = "d_in_channels")]
    pub in_channels: i64,
    /// Stage 1: width after `conv_in`.
    #[serde(default = "d_bwe_stage1_hidden")]
    pub hidden_channels: i64,
    /// Stage 1: audio channels out.
    #[serde(default = "d_out_channels")]
    pub out_channels: i64,
    /// Stage 1: up-sampler kernels.
    #[serde(default = "d_bwe_stage1_kernels")]
    pub upsample_kernel_sizes: Vec<i64>,
    /// Stage 1: up-sampler strides.
    #[serde(default = "d_bwe_stage1_factors")]
    pub upsample_factors: Vec<i64>,
    /// Stage 1: residual-block kernels.
    #[serde(default = "d_resnet_kernel_sizes")]
    pub resnet_kernel_sizes: Vec<i64>,
    /// Stage 1: residual-block dilations.
    #[serde(default = "d_resnet_dilations")]
    pub resnet_dilations: Vec<Vec<i64>>,
    /// Stage 1: activation.
    #[serde(default = "d_snakebeta")]
    pub act_fn: String,
    /// Stage 1: leaky ReLU slope.
    #[serde(default = "d_slope")]
    pub leaky_relu_negative_slope: f64,
    /// Stage 1: anti-aliased activations.
    #[serde(default = "d_true")]
    pub antialias: bool,
    /// Stage 1: anti-aliasing ratio.
    #[serde(default = "d_aa_ratio")]
    pub antialias_ratio: i64,
    /// Stage 1: anti-aliasing taps.
    #[serde(default = "d_aa_kernel")]
    pub antialias_kernel_size: i64,
    /// Stage 1: final activation.
    #[serde(default)]
    pub final_act_fn: Option<String>,
    /// Stage 1: `conv_out` bias.
    #[serde(default)]
    pub final_bias: bool,
    /// BWE: input channels (audio channels × `num_mel_channels`).
    #[serde(default = "d_in_channels")]
    pub bwe_in_channels: i64,
    /// BWE: width after `conv_in`.
    #[serde(default = "d_bwe_hidden")]
    pub bwe_hidden_channels: i64,
    /// BWE: audio channels out.
    #[serde(default = "d_out_channels")]
    pub bwe_out_channels: i64,
    /// BWE: up-sampler kernels.
    #[serde(default = "d_bwe_kernels")]
    pub bwe_upsample_kernel_sizes: Vec<i64>,
    /// BWE: up-sampler strides.
    #[serde(default = "d_upsample_factors_bwe")]
    pub bwe_upsample_factors: Vec<i64>,
    /// BWE: residual-block kernels.
    #[serde(default = "d_resnet_kernel_sizes")]
    pub bwe_resnet_kernel_sizes: Vec<i64>,
    /// BWE: residual-block dilations.
    #[serde(default = "d_resnet_dilations")]
    pub bwe_resnet_dilations: Vec<Vec<i64>>,
    /// BWE: activation.
    #[serde(default = "d_snakebeta")]
    pub bwe_act_fn: String,
    /// BWE: leaky ReLU slope.
    #[serde(default = "d_slope")]
    pub bwe_leaky_relu_negative_slope: f64,
    /// BWE: anti-aliased activations.
    #[serde(default = "d_true")]
    pub bwe_antialias: bool,
    /// BWE: anti-aliasing ratio.
    #[serde(default = "d_aa_ratio")]
    pub bwe_antialias_ratio: i64,
    /// BWE: anti-aliasing taps.
    #[serde(default = "d_aa_kernel")]
    pub bwe_antialias_kernel_size: i64,
    /// BWE: final activation.
    #[serde(default)]
    pub bwe_final_act_fn: Option<String>,
    /// BWE: `conv_out` bias.
    #[serde(default)]
    pub bwe_final_bias: bool,
    /// STFT filter (DFT) length.
    #[serde(default = "d_filter_length")]
    pub filter_length: i64,
    /// STFT hop, in stage-1 samples.
    #[serde(default = "d_hop_length")]
    pub hop_length: i64,
    /// STFT window length.
    #[serde(default = "d_filter_length")]
    pub window_length: i64,
    /// Mel bins of the spectrogram the BWE generator reads.
    #[serde(default = "d_num_mel_channels")]
    pub num_mel_channels: i64,
    /// Stage 1's sample rate, in Hz.
    #[serde(default = "d_sr_16k")]
    pub input_sampling_rate: i64,
    /// The output's sample rate, in Hz.
    #[serde(default = "d_sr_48k")]
    pub output_sampling_rate: i64,
}

impl Ltx2VocoderBweConfig {
    /// The stage-1 generator's configuration (at `input_sampling_rate`).
    pub fn stage1(&self) -> Ltx2VocoderConfig {
        Ltx2VocoderConfig {
            in_channels: self.in_channels,
            hidden_channels: self.hidden_channels,
            out_channels: self.out_channels,
            upsample_kernel_sizes: self.upsample_kernel_sizes.clone(),
            upsample_factors: self.upsample_factors.clone(),
            resnet_kernel_sizes: self.resnet_kernel_sizes.clone(),
            resnet_dilations: self.resnet_dilations.clone(),
            act_fn: self.act_fn.clone(),
            leaky_relu_negative_slope: self.leaky_relu_negative_slope,
            antialias: self.antialias,
            antialias_ratio: self.antialias_ratio,
            antialias_kernel_size: self.antialias_kernel_size,
            final_act_fn: self.final_act_fn.clone(),
            final_bias: self.final_bias,
            output_sampling_rate: self.input_sampling_rate,
        }
    }

    /// The bandwidth-extension generator's configuration (at `output_sampling_rate`).
    pub fn bwe(&self) -> Ltx2VocoderConfig {
        Ltx2VocoderConfig {
            in_channels: self.bwe_in_channels,
            hidden_channels: self.bwe_hidden_channels,
            out_channels: self.bwe_out_channels,
            upsample_kernel_sizes: self.bwe_upsample_kernel_sizes.clone(),
            upsample_factors: self.bwe_upsample_factors.clone(),
            resnet_kernel_sizes: self.bwe_resnet_kernel_sizes.clone(),
            resnet_dilations: self.bwe_resnet_dilations.clone(),
            act_fn: self.bwe_act_fn.clone(),
            leaky_relu_negative_slope: self.bwe_leaky_relu_negative_slope,
            antialias: self.bwe_antialias,
            antialias_ratio: self.bwe_antialias_ratio,
            antialias_kernel_size: self.bwe_antialias_kernel_size,
            final_act_fn: self.bwe_final_act_fn.clone(),
            final_bias: self.bwe_final_bias,
            output_sampling_rate: self.output_sampling_rate,
        }
    }
}

fn d_in_channels() -> i64 {
    128
}
fn d_hidden_channels() -> i64 {
    1024
}
fn d_bwe_stage1_hidden() -> i64 {
    1536
}
fn d_bwe_hidden() -> i64 {
    512
}
fn d_out_channels() -> i64 {
    2
}
fn d_upsample_kernel_sizes() -> Vec<i64> {
    vec![16, 15, 8, 4, 4]
}
fn d_upsample_factors() -> Vec<i64> {
    vec![6, 5, 2, 2, 2]
}
fn d_bwe_stage1_kernels() -> Vec<i64> {
    vec![11, 4, 4, 4, 4, 4]
}
fn d_bwe_stage1_factors() -> Vec<i64> {
    vec![5, 2, 2, 2, 2, 2]
}
fn d_bwe_kernels() -> Vec<i64> {
    vec![12, 11, 4, 4, 4]
}
fn d_upsample_factors_bwe() -> Vec<i64> {
    vec![6, 5, 2, 2, 2]
}
fn d_resnet_kernel_sizes() -> Vec<i64> {
    vec![3, 7, 11]
}
fn d_resnet_dilations() -> Vec<Vec<i64>> {
    vec![vec![1, 3, 5]; 3]
}
fn d_leaky() -> String {
    "leaky_relu".into()
}
fn d_snakebeta() -> String {
    "snakebeta".into()
}
fn d_slope() -> f64 {
    0.1
}
fn d_aa_ratio() -> i64 {
    2
}
fn d_aa_kernel() -> i64 {
    12
}
fn d_tanh() -> Option<String> {
    Some("tanh".into())
}
fn d_true() -> bool {
    true
}
fn d_sr_24k() -> i64 {
    24000
}
fn d_sr_16k() -> i64 {
    16000
}
fn d_sr_48k() -> i64 {
    48000
}
fn d_filter_length() -> i64 {
    512
}
fn d_hop_length() -> i64 {
    80
}
fn d_num_mel_channels() -> i64 {
    64
}
