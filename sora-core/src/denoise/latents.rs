//! What the walk steps: the video latent and, for families that generate sound
//! with the picture, the audio latent; and [`PerModality`], one value per modality.

use tch::Tensor;

use crate::Result;

/// One value for each modality (scales, rescale factors, noise levels).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerModality<T> {
    /// The video's value.
    pub video: T,
    /// The audio's value.
    pub audio: T,
}

impl<T: Copy> PerModality<T> {
    /// The same value for both modalities.
    pub fn both(v: T) -> Self {
        Self { video: v, audio: v }
    }
}

/// Latents the walk steps: video, and audio for joint families.
pub struct Latents {
    /// Video latent `[B, C, F, H, W]`.
    pub video: Tensor,
    /// Audio latent, for families that generate audio with the picture.
    pub audio: Option<Tensor>,
}

impl Latents {
    /// Video-only latents.
    pub fn video(video: Tensor) -> Self {
        Self { video, audio: None }
    }

    /// Video and audio latents.
    pub fn joint(video: Tensor, audio: Tensor) -> Self {
        Self {
            video,
            audio: Some(audio),
        }
    }

    /// A cheap copy sharing storage.
    pub fn shallow_clone(&self) -> Self {
        Self {
            video: self.video.shallow_clone(),
            audio: self.audio.as_ref().map(|a| a.shallow_clone()),
        }
    }

    /// Applies `f` to each modality present (video first).
    pub fn try_map(&self, mut f: impl FnMut(&Tensor) -> Result<Tensor>) -> Result<Self> {
        Ok(Self {
            video: f(&self.video)?,
            audio: match &self.audio {
                Some(a) => Some(f(a)?),
                None => None,
            },
        })
    }
}
