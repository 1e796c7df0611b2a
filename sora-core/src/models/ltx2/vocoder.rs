//! LTX-2's vocoders, mel spectrogram → waveform, equal to diffusers 0.42.1:
//! `LTX2Vocoder` (LTX-2.0, one generator, 24 kHz) and `LTX2VocoderWithBWE`
//! (LTX-2.3, a 16 kHz generator plus bandwidth extension to 48 kHz), chosen
//! by the component's `config.json` (`_class_name`).
//!
//! ```no_run
//! # fn main() -> sora_core::Result<()> {
//! use sora_core::models::ltx2::Ltx2Vocoder;
//! let vocoder = Ltx2Vocoder::load("model/vocoder".as_ref(), tch::Device::Cpu, tch::Kind::Float)?;
//! // [batch, audio channels, frames, mel bins], as the audio VAE decodes it.
//! let mel = tch::Tensor::zeros([1, 2, 100, 64], (tch::Kind::Float, tch::Device::Cpu));
//! let waveform = vocoder.forward(&mel)?; // [1, 2, samples] at vocoder.sample_rate() Hz
//! # Ok(()) }
//! ```

mod blocks;
mod bwe;
mod config;
mod generator;

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub use config::{Ltx2VocoderBweConfig, Ltx2VocoderConfig};

use crate::nn::offload::{ComponentWeights, Uploaded};
use crate::weights::{read_config, TensorStore};
use crate::{Error, Result};
use bwe::BandwidthExtended;
use generator::Generator;

/// `_class_name` of the plain vocoder.
const PLAIN_CLASS: &str = "LTX2Vocoder";
/// `_class_name` of the vocoder with bandwidth extension.
const BWE_CLASS: &str = "LTX2VocoderWithBWE";

/// The parsed `config.json` of either vocoder class.
#[derive(Debug, Clone, PartialEq)]
pub enum VocoderConfig {
    /// `LTX2Vocoder`.
    Plain(Ltx2VocoderConfig),
    /// `LTX2VocoderWithBWE`.
    WithBwe(Box<Ltx2VocoderBweConfig>),
}

impl VocoderConfig {
    /// The waveform's sample rate, in Hz (`output_sampling_rate`).
    pub fn sample_rate(&self) -> i64 {
        match self {
            Self::Plain(c) => c.output_sampling_rate,
            Self::WithBwe(c) => c.output_sampling_rate,
        }
    }

    /// Audio channels out.
    pub fn out_channels(&self) -> i64 {
        match self {
            Self::Plain(c) => c.out_channels,
            Self::WithBwe(c) => c.out_channels,
        }
    }
}

/// The loaded network (the variants differ in size; there is one per vocoder).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Network {
    Plain(Generator),
    WithBwe(BandwidthExtended),
}

/// A loaded LTX-2 vocoder of either class.
#[derive(Debug)]
pub struct Ltx2Vocoder {
    config: VocoderConfig,
    config_path: PathBuf,
    network: Network,
    device: Device,
    kind: Kind,
    /// Every stored weight, and whether they wait in host memory ([`Ltx2Vocoder::set_offload`]).
    weights: ComponentWeights,
}

impl Ltx2Vocoder {
    /// Loads a diffusers `vocoder/` folder: `config.json` (`_class_name`
    /// `LTX2Vocoder` or `LTX2VocoderWithBWE`) and its safetensors, cast to
    /// `kind` on `device`. A bad config is [`Error::Config`]; every missing or
    /// mis-shaped tensor is reported at once as [`Error::WeightMismatch`].
    /// Anti-aliasing filters stored in the checkpoint are used as stored (as
    /// diffusers does), and built when absent.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        Self::load_inner(dir, None, device, kind)
    }

    /// As [`Self::load`], with the tensors taken from `store` (on its device
    /// and dtype) instead of `dir`'s safetensors: a recording store (random
    /// initialisation) or one that keeps the tensors' names (training).
    pub fn load_with_store(dir: &Path, store: &TensorStore) -> Result<Self> {
        Self::load_inner(dir, Some(store), store.device(), store.kind())
    }

    /// Checks a plain `LTX2Vocoder` config as [`Self::load`] does (a message
    /// for [`Error::Config`] otherwise).
    pub fn validate_config(config: &Ltx2VocoderConfig) -> std::result::Result<(), String> {
        Generator::validate(config)
    }

    fn load_inner(
        dir: &Path,
        given: Option<&TensorStore>,
        device: Device,
        kind: Kind,
    ) -> Result<Self> {
        let config_path = dir.join("config.json");
        let raw: serde_json::Value = read_config(&config_path)?;
        let bad = |reason: String| Error::Config {
            path: config_path.clone(),
            reason,
        };
        let class = raw.get("_class_name").and_then(|v| v.as_str());
        let with_bwe = match class {
            Some(PLAIN_CLASS) => false,
            Some(BWE_CLASS) => true,
            Some(other) => {
                return Err(bad(format!(
                    "`_class_name` `{other}` is not an LTX-2 vocoder ({PLAIN_CLASS} or {BWE_CLASS})"
                )))
            }
            None => raw.get("bwe_in_channels").is_some(),
        };
        let parse_err = |e: serde_json::Error| bad(e.to_string());
        let config = if with_bwe {
            let c: Ltx2VocoderBweConfig = serde_json::from_value(raw).map_err(parse_err)?;
            BandwidthExtended::validate(&c).map_err(bad)?;
            VocoderConfig::WithBwe(Box::new(c))
        } else {
            let c: Ltx2VocoderConfig = serde_json::from_value(raw).map_err(parse_err)?;
            Generator::validate(&c).map_err(bad)?;
            VocoderConfig::Plain(c)
        };
        let opened;
        let store = match given {
            Some(s) => s,
            None => {
                opened = TensorStore::open(dir, "vocoder", device, kind)?;
                &opened
            }
        };
        let root = store.root();
        let network = match &config {
            VocoderConfig::Plain(c) => Network::Plain(Generator::load(&root, c)?),
            VocoderConfig::WithBwe(c) => Network::WithBwe(BandwidthExtended::load(&root, c)?),
        };
        store.finish()?;
        let weights = ComponentWeights::new(store.weight_set());
        Ok(Self {
            config,
            config_path,
            network,
            device,
            kind,
            weights,
        })
    }

    /// With `offloaded`, runs on `device` while the weights stay where they
    /// were loaded (host memory); [`Ltx2Vocoder::forward`] then copies them
    /// to `device` for the call (model offload). Without, `device` must be the
    /// weights' device.
    pub fn set_offload(&mut self, offloaded: bool, device: Device) -> Result<()> {
        self.weights.place("LTX-2 vocoder", offloaded, device)?;
        self.device = device;
        Ok(())
    }

    /// Whether the weights wait in host memory between calls.
    pub fn is_offloaded(&self) -> bool {
        self.weights.is_offloaded()
    }

    /// When offloaded: copies every weight to the run device until the result
    /// is released (`None` when not offloaded).
    fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// The parsed `config.json`.
    pub fn config(&self) -> &VocoderConfig {
        &self.config
    }

    /// The `config.json` this vocoder was loaded from.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The waveform's sample rate in Hz (24000 for LTX-2.0, 48000 for LTX-2.3).
    pub fn sample_rate(&self) -> i64 {
        self.config.sample_rate()
    }

    /// [`Ltx2Vocoder::sample_rate`] as an audio track's rate (an error when
    /// the config's is out of range).
    pub fn track_rate(&self) -> Result<u32> {
        u32::try_from(self.sample_rate()).map_err(|_| {
            Error::invalid(format!(
                "the vocoder's sample rate {} is out of range",
                self.sample_rate()
            ))
        })
    }

    /// Audio channels of the waveform.
    pub fn out_channels(&self) -> i64 {
        self.config.out_channels()
    }

    /// Whether this is `LTX2VocoderWithBWE`.
    pub fn has_bandwidth_extension(&self) -> bool {
        matches!(self.network, Network::WithBwe(_))
    }

    /// The device the vocoder runs on (where its weights live, unless offloaded).
    pub fn device(&self) -> Device {
        self.device
    }

    /// The dtype of the weights.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn in_channels(&self) -> i64 {
        match &self.network {
            Network::Plain(g) => g.in_channels(),
            Network::WithBwe(b) => b.in_channels(),
        }
    }

    /// Waveform samples produced from `frames` mel frames (0: too few to run).
    pub fn output_len(&self, frames: i64) -> i64 {
        match &self.network {
            Network::Plain(g) => g.output_len(frames),
            Network::WithBwe(b) => b.output_len(frames),
        }
    }

    /// Waveforms `[batch, out_channels, samples]` (at [`Self::sample_rate`])
    /// from mel spectrograms `[batch, audio_channels, frames, mel_bins]`, the
    /// layout the audio VAE decodes to and `LTX2Pipeline` passes (diffusers'
    /// `time_last=False`); `audio_channels · mel_bins` must be the config's
    /// `in_channels`. The input is moved to the vocoder's device and dtype.
    pub fn forward(&self, mel: &Tensor) -> Result<Tensor> {
        let size = mel.size();
        if size.len() != 4 || size[1] * size[3] != self.in_channels() || size[0] < 1 {
            return Err(Error::invalid(format!(
                "the LTX-2 vocoder expects a mel spectrogram [batch, channels, frames, mel_bins] with channels × mel_bins = {}, got {size:?}",
                self.in_channels()
            )));
        }
        if self.output_len(size[2]) < 1 {
            return Err(Error::invalid(format!(
                "{} mel frames are too few for the LTX-2 vocoder",
                size[2]
            )));
        }
        let _uploaded = self.upload()?;
        let features = mel
            .f_to_device(self.device)?
            .f_to_kind(self.kind)?
            .f_transpose(2, 3)?
            .f_flatten(1, 2)?;
        match &self.network {
            Network::Plain(g) => g.forward(&features),
            Network::WithBwe(b) => b.forward(&features),
        }
    }
}
