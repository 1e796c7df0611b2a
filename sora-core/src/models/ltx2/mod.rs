//! LTX-2 (Lightricks; diffusers' `LTX2Pipeline`): video with synchronized
//! audio. Built so far: the vocoders that turn the audio VAE's mel
//! spectrograms into waveforms ([`Ltx2Vocoder`]) and the audio-video
//! transformer ([`Ltx2Transformer`], one denoising forward of both streams).
//! The text path, VAEs and the family itself are not here yet: LTX-2 generation is not
//! reachable through the pipeline.

pub mod transformer;
pub mod vocoder;

pub use transformer::{Ltx2Inputs, Ltx2Transformer, Ltx2TransformerConfig};
pub use vocoder::{Ltx2Vocoder, Ltx2VocoderBweConfig, Ltx2VocoderConfig, VocoderConfig};
