//! LTX-2 (Lightricks; diffusers' `LTX2Pipeline`): video with synchronized
//! audio. Built so far: the vocoders that turn the audio VAE's mel
//! spectrograms into waveforms ([`Ltx2Vocoder`]), the audio VAE's decoder
//! ([`Ltx2AudioVae`]), the video VAE ([`Ltx2VideoVae`], encode and decode) and
//! the text path: the pipeline's Gemma 3 prompt encoding ([`Ltx2TextEncoder`])
//! and the text connectors ([`Ltx2TextConnectors`]) for both the LTX-2.0 and
//! 2.3 layouts. The transformer and the family itself are not here yet: LTX-2
//! generation is not reachable through the pipeline.

pub mod audio_vae;
pub mod connectors;
pub mod text_encoder;
pub mod video_vae;
pub mod vocoder;

pub use audio_vae::{Ltx2AudioVae, Ltx2AudioVaeConfig};
pub use connectors::{ConnectorOutput, ConnectorsConfig, Ltx2TextConnectors, PaddingSide};
pub use text_encoder::{Ltx2TextEncoder, DEFAULT_MAX_SEQUENCE_LENGTH};
pub use video_vae::{DecodeConditioning, FrameTiling, Ltx2VideoVae, Ltx2VideoVaeConfig};
pub use vocoder::{Ltx2Vocoder, Ltx2VocoderBweConfig, Ltx2VocoderConfig, VocoderConfig};
