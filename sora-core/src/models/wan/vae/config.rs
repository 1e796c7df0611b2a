//! `config.json` of `AutoencoderKLWan`, with diffusers' defaults (the Wan 2.1 VAE).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The configuration of `AutoencoderKLWan`, field for field as diffusers writes
/// it. Missing fields take diffusers' defaults (the Wan 2.1 VAE); the Wan 2.2
/// VAE sets `is_residual`, `patch_size: 2`, `z_dim: 48`, `scale_factor_spatial: 16`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WanVaeConfig {
    /// Channels of the encoder's first level.
    #[serde(default = "d_base_dim")]
    pub base_dim: i64,
    /// Channels of the decoder's base level (`None`: `base_dim`).
    #[serde(default)]
    pub decoder_base_dim: Option<i64>,
    /// Latent channels.
    #[serde(default = "d_z_dim")]
    pub z_dim: i64,
    /// Channel multiplier per level.
    #[serde(default = "d_dim_mult")]
    pub dim_mult: Vec<i64>,
    /// Residual blocks per encoder level (the decoder has one more).
    #[serde(default = "d_num_res_blocks")]
    pub num_res_blocks: i64,
    /// Scales at which the (non-residual) encoder inserts attention.
    #[serde(default)]
    pub attn_scales: Vec<f64>,
    /// Per down-sampling level: whether it also halves time (sic, diffusers' spelling).
    #[serde(default = "d_temperal_downsample")]
    pub temperal_downsample: Vec<bool>,
    /// Dropout rate (unused at inference).
    #[serde(default)]
    pub dropout: f64,
    /// Per-channel latent mean (for normalising latents).
    #[serde(default = "d_latents_mean")]
    pub latents_mean: Vec<f64>,
    /// Per-channel latent standard deviation.
    #[serde(default = "d_latents_std")]
    pub latents_std: Vec<f64>,
    /// Wan 2.2: residual down/up blocks with `AvgDown3D` / `DupUp3D` shortcuts.
    #[serde(default)]
    pub is_residual: bool,
    /// Input channels of the encoder (after patchify: `3·patch²`).
    #[serde(default = "d_channels")]
    pub in_channels: i64,
    /// Output channels of the decoder (before unpatchify).
    #[serde(default = "d_channels")]
    pub out_channels: i64,
    /// Spatial patch size folded into channels before encoding (Wan 2.2: 2).
    #[serde(default)]
    pub patch_size: Option<i64>,
    /// Frames per latent frame (after the first).
    #[serde(default = "d_scale_t")]
    pub scale_factor_temporal: Option<i64>,
    /// Pixels per latent pixel along height and width.
    #[serde(default = "d_scale_s")]
    pub scale_factor_spatial: Option<i64>,
    /// Clamp decoded video to `[-1, 1]` (diffusers 0.42.1 always does).
    #[serde(default = "d_true")]
    pub clip_output: bool,
}

fn d_base_dim() -> i64 {
    96
}
fn d_z_dim() -> i64 {
    16
}
fn d_dim_mult() -> Vec<i64> {
    vec![1, 2, 4, 4]
}
fn d_num_res_blocks() -> i64 {
    2
}
fn d_temperal_downsample() -> Vec<bool> {
    vec![false, true, true]
}
fn d_channels() -> i64 {
    3
}
fn d_scale_t() -> Option<i64> {
    Some(4)
}
fn d_scale_s() -> Option<i64> {
    Some(8)
}
fn d_true() -> bool {
    true
}
fn d_latents_mean() -> Vec<f64> {
    vec![
        -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715,
        0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
    ]
}
fn d_latents_std() -> Vec<f64> {
    vec![
        2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652,
        1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
    ]
}

impl Default for WanVaeConfig {
    fn default() -> Self {
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable!("every field has a default"))
    }
}

impl WanVaeConfig {
    /// Channels of the decoder's base level.
    pub fn decoder_dim(&self) -> i64 {
        self.decoder_base_dim.unwrap_or(self.base_dim)
    }

    /// The patch size (1 when none).
    pub fn patch(&self) -> i64 {
        self.patch_size.unwrap_or(1).max(1)
    }

    /// Number of down-sampling levels (`len(dim_mult) - 1`).
    pub fn levels(&self) -> usize {
        self.dim_mult.len().saturating_sub(1)
    }

    /// Whether encoder level `i` (of [`Self::levels`]) halves time.
    pub fn down_in_time(&self, i: usize) -> bool {
        self.temperal_downsample.get(i).copied().unwrap_or(false)
    }

    /// Whether decoder level `i` doubles time (diffusers reverses the whole list).
    pub fn up_in_time(&self, i: usize) -> bool {
        let n = self.temperal_downsample.len();
        i < n && self.temperal_downsample[n - 1 - i]
    }

    /// Pixels per latent pixel implied by the architecture (`2^levels · patch`).
    pub fn arch_spatial_factor(&self) -> i64 {
        (1i64 << self.levels()) * self.patch()
    }

    /// Frames per latent frame implied by the encoder's temporal down-sampling.
    pub fn arch_temporal_factor(&self) -> i64 {
        let n = (0..self.levels()).filter(|&i| self.down_in_time(i)).count();
        1i64 << n
    }

    /// Frames per latent frame the decoder produces after the first (its
    /// time-doubling levels; equal to [`Self::arch_temporal_factor`] unless
    /// `temperal_downsample` is longer than the levels).
    pub fn decoder_temporal_factor(&self) -> i64 {
        let n = (0..self.levels()).filter(|&i| self.up_in_time(i)).count();
        1i64 << n
    }

    /// Checks the fields the model's construction relies on.
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        if self.dim_mult.is_empty() {
            return Err("`dim_mult` is empty".into());
        }
        if self.base_dim <= 0 || self.decoder_dim() <= 0 || self.z_dim <= 0 {
            return Err("`base_dim`, `decoder_base_dim` and `z_dim` must be positive".into());
        }
        if self.dim_mult.iter().any(|&m| m <= 0) {
            return Err("`dim_mult` entries must be positive".into());
        }
        if self.num_res_blocks < 0 {
            return Err("`num_res_blocks` must not be negative".into());
        }
        if self.temperal_downsample.len() < self.levels() {
            return Err(format!(
                "`temperal_downsample` has {} entries, {} levels need one each",
                self.temperal_downsample.len(),
                self.levels()
            ));
        }
        if self.in_channels <= 0 || self.out_channels <= 0 {
            return Err("`in_channels` and `out_channels` must be positive".into());
        }
        let p2 = self.patch() * self.patch();
        if self.in_channels % p2 != 0 || self.out_channels % p2 != 0 {
            return Err(format!(
                "`in_channels` ({}) and `out_channels` ({}) must be multiples of patch_size² ({p2})",
                self.in_channels, self.out_channels
            ));
        }
        Ok(())
    }

    /// Parses a `config.json` text (for tests and tools).
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::Config {
            path: "config.json".into(),
            reason: e.to_string(),
        })
    }
}
