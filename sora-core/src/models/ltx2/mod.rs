//! LTX-2 (Lightricks; diffusers' `LTX2Pipeline`): video with synchronized
//! audio. Built so far: the vocoders that turn the audio VAE's mel
//! spectrograms into waveforms ([`Ltx2Vocoder`]), the audio VAE's decoder
//! ([`Ltx2AudioVae`]), the video VAE ([`Ltx2VideoVae`], encode and decode),
//! the text path (the pipeline's Gemma 3 prompt encoding, [`Ltx2TextEncoder`],
//! and the text connectors, [`Ltx2TextConnectors`], for both the LTX-2.0 and
//! 2.3 layouts), the audio-video transformer ([`Ltx2Transformer`], one
//! denoising forward of both streams) and the family's generation
//! ([`Ltx2Family`]: text, an image or frame conditions ([`conditions`]) to
//! video frames and a waveform, with the pipelines' guidance and decoding), loaded by the registry's `ltx2` row, with its
//! memory estimate ([`memory`]), text-encoder release and weight offload;
//! clip extension holds the clip's tail, picture and sound ([`audio_tail`]).

pub mod audio_tail;
pub mod audio_vae;
pub mod conditions;
pub mod connectors;
pub mod family;
pub mod geometry;
pub mod image;
pub mod latents;
pub mod longform;
pub mod memory;
pub mod params;
pub mod rules;
pub mod text_encoder;
pub mod transformer;
pub mod video_vae;
pub mod vocoder;

pub use audio_vae::{Ltx2AudioVae, Ltx2AudioVaeConfig};
pub use connectors::{ConnectorOutput, ConnectorsConfig, Ltx2TextConnectors, PaddingSide};
pub use family::{Ltx2Family, Ltx2Generation};
pub use geometry::LatentGeometry;
pub use params::GuidanceSettings;
pub use rules::Ltx2Rules;
pub use text_encoder::{Ltx2TextEncoder, DEFAULT_MAX_SEQUENCE_LENGTH};
pub use transformer::{Ltx2Inputs, Ltx2Transformer, Ltx2TransformerConfig, PreparedText};
pub use video_vae::{DecodeConditioning, FrameTiling, Ltx2VideoVae, Ltx2VideoVaeConfig};
pub use vocoder::{Ltx2Vocoder, Ltx2VocoderBweConfig, Ltx2VocoderConfig, VocoderConfig};
