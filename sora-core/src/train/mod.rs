//! Training in Rust with tch autograd: the first stages of the embedded
//! default model (issue #15): the LTX-2 video and audio VAEs and the vocoder
//! trained on the physics simulator's clips.
//!
//! - [`data`]: (frames, audio, caption) examples from [`crate::physics::scenes`],
//!   with a held-out split by caption.
//! - [`init`]: a component's weights from its `config.json` alone, with
//!   PyTorch's default initialisation, written as a diffusers folder.
//! - [`params`] and [`adam`]: a loaded component's named trainable tensors and
//!   AdamW over them.
//! - [`checkpoint`]: weights, optimizer state, step, losses and random state;
//!   resuming is bit-identical to an uninterrupted run.
//! - [`curve`]: the loss curve as a PNG.
//! - [`run`]: what every stage shares (run state, start/resume/save, the
//!   optimizer step, the VAE loss terms, latent statistics, reports).
//! - [`video_vae`]: the video VAE's training loop and its held-out evaluation.
//! - [`audio_vae`]: the audio VAE's (log-mel in, log-mel out) and its
//!   held-out evaluation (log-mel error, impact onsets); the log-mel front
//!   end and the onset measure the vocoder stage shares.
//! - [`vocoder`]: the vocoder's (log-mel in, waveform out; multi-resolution
//!   STFT and log-mel losses, random crops) and its held-out evaluation.
//! - [`text`]: the default model's prompt side (word-level tokenizer over the
//!   caption vocabulary, frozen random Gemma 3 and connectors).
//! - [`transformer`]: the audio-video transformer's flow-matching stage on
//!   the VAEs' latents, and its held-out evaluation.
//! - [`pipeline`]: the trained parts assembled into one LTX-2 pipeline folder.
//! - [`quality`]: generated clips graded against their captions with the
//!   physics module's tracker and report (and the simulator's own clips, the bar).
//! - [`rng`]: the one random generator of training (SplitMix64, state saved).

pub mod adam;
pub mod audio_vae;
pub mod checkpoint;
pub mod curve;
pub mod data;
pub mod init;
pub mod params;
pub mod pipeline;
pub mod quality;
pub mod rng;
pub mod run;
pub mod text;
pub mod transformer;
pub mod video_vae;
pub mod vocoder;

/// Sets LibTorch's CPU threads for training (at least 1).
pub fn set_threads(n: i32) -> crate::Result<()> {
    if n < 1 {
        return Err(crate::Error::invalid("training needs at least 1 thread"));
    }
    tch::set_num_threads(n);
    Ok(())
}
