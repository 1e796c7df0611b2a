//! The latent geometry of an LTX-2 folder, read from the VAEs' configs alone
//! (no VAE weights): the video VAE's spatial and temporal compression and
//! latent channels, the audio VAE's latent channels, mel bins, sample rate
//! and hop length, and its fixed ×4 compression of time and mel bins. The
//! pipeline's fall-backs (32, 8, 4, 16 kHz, hop 160, 64 bins) apply to a
//! folder without the VAEs.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::weights::{read_config, ModelFolder};
use crate::Result;

/// `LATENT_DOWNSAMPLE_FACTOR` of `AutoencoderKLLTX2Audio` (time and mel bins).
pub const AUDIO_COMPRESSION: i64 = 4;

#[derive(Debug, Deserialize)]
struct VideoVaeConfig {
    #[serde(default = "default_latent_channels")]
    latent_channels: i64,
    #[serde(default = "default_patch")]
    patch_size: i64,
    #[serde(default = "one")]
    patch_size_t: i64,
    #[serde(default)]
    spatio_temporal_scaling: Option<Value>,
    #[serde(default)]
    layers_per_block: Option<Vec<i64>>,
    #[serde(default)]
    spatial_compression_ratio: Option<i64>,
    #[serde(default)]
    temporal_compression_ratio: Option<i64>,
}

fn default_latent_channels() -> i64 {
    128
}
fn default_patch() -> i64 {
    4
}
fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
struct AudioVaeConfig {
    #[serde(default = "default_audio_channels")]
    latent_channels: i64,
    #[serde(default = "default_mel_bins")]
    mel_bins: Option<i64>,
    #[serde(default = "default_sample_rate")]
    sample_rate: i64,
    #[serde(default = "default_hop")]
    mel_hop_length: i64,
}

fn default_audio_channels() -> i64 {
    8
}
fn default_mel_bins() -> Option<i64> {
    Some(64)
}
fn default_sample_rate() -> i64 {
    16000
}
fn default_hop() -> i64 {
    160
}

/// The latent geometry of one LTX-2 folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatentGeometry {
    /// Pixels per latent row/column (`vae.spatial_compression_ratio`).
    pub spatial: i64,
    /// Frames per latent frame after the first (`vae.temporal_compression_ratio`).
    pub temporal: i64,
    /// Video latent channels.
    pub video_channels: i64,
    /// Audio latent channels.
    pub audio_channels: i64,
    /// Mel bins of the audio VAE's spectrogram.
    pub mel_bins: i64,
    /// The audio VAE's sample rate.
    pub sample_rate: i64,
    /// The audio VAE's mel hop length.
    pub hop_length: i64,
}

impl LatentGeometry {
    /// The geometry of `folder` (the `vae` and `audio_vae` configs; the
    /// pipeline's fall-backs for a missing one).
    pub fn from_folder(folder: &ModelFolder) -> Result<Self> {
        let video = if folder.has("vae") {
            Some(read_config::<VideoVaeConfig>(
                &folder.component_dir("vae")?.join("config.json"),
            )?)
        } else {
            None
        };
        let audio = if folder.has("audio_vae") {
            Some(read_config::<AudioVaeConfig>(
                &folder.component_dir("audio_vae")?.join("config.json"),
            )?)
        } else {
            None
        };
        Ok(Self::from_configs(video.as_ref(), audio.as_ref()))
    }

    /// The geometry of the VAE config files at `video` and `audio`.
    pub fn from_files(video: &Path, audio: &Path) -> Result<Self> {
        let v: VideoVaeConfig = read_config(video)?;
        let a: AudioVaeConfig = read_config(audio)?;
        Ok(Self::from_configs(Some(&v), Some(&a)))
    }

    fn from_configs(video: Option<&VideoVaeConfig>, audio: Option<&AudioVaeConfig>) -> Self {
        let (spatial, temporal, video_channels) = match video {
            Some(v) => {
                // `patch_size · 2^Σ spatio_temporal_scaling` unless given.
                let scalings = match &v.spatio_temporal_scaling {
                    Some(Value::Array(a)) => a.iter().filter(|x| x.as_bool() == Some(true)).count(),
                    Some(Value::Bool(true)) => v
                        .layers_per_block
                        .as_ref()
                        .map(|l| l.len().saturating_sub(1))
                        .unwrap_or(4),
                    Some(_) => 0,
                    None => 4,
                } as u32;
                let up = 2i64.saturating_pow(scalings);
                (
                    v.spatial_compression_ratio.unwrap_or(v.patch_size * up),
                    v.temporal_compression_ratio.unwrap_or(v.patch_size_t * up),
                    v.latent_channels,
                )
            }
            None => (32, 8, 128),
        };
        let (audio_channels, mel_bins, sample_rate, hop_length) = match audio {
            Some(a) => (
                a.latent_channels,
                a.mel_bins.unwrap_or(64),
                a.sample_rate,
                a.mel_hop_length,
            ),
            None => (8, 64, 16000, 160),
        };
        Self {
            spatial,
            temporal,
            video_channels,
            audio_channels,
            mel_bins,
            sample_rate,
            hop_length,
        }
    }

    /// Mel bins of the audio latent (`mel_bins / 4`).
    pub fn latent_mel_bins(&self) -> i64 {
        self.mel_bins / AUDIO_COMPRESSION
    }

    /// Latent frames of `frames` video frames: `(frames − 1) / temporal + 1`.
    pub fn latent_frames(&self, frames: u32) -> i64 {
        (i64::from(frames) - 1) / self.temporal.max(1) + 1
    }
}
