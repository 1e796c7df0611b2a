//! Request inputs read from media: a clip to extend or restyle
//! ([`VideoInput::from_media`]) and a frame condition from a file
//! ([`FrameCondition::from_path`]). Kept apart from `request.rs` so that the
//! request types do not depend on `io` (whose writers depend on the safety
//! policy, which reads requests).

use super::request::{FrameCondition, SourceAudio, VideoInput};
use crate::io::{read_video, MediaClip};
use crate::Result;

impl VideoInput {
    /// A clip read with [`read_video`]: its frames, rate and audio (when it
    /// has a track).
    pub fn from_media(media: MediaClip) -> Self {
        let audio = media
            .audio
            .map(|samples| SourceAudio::new(samples, media.sample_rate));
        Self {
            frames: media.frames,
            fps: media.fps,
            audio,
        }
    }
}

impl FrameCondition {
    /// A condition read from `path`: an image (PNG/JPEG), an MP4 or a
    /// folder of PNG frames ([`read_video`]), at `index` with `strength`
    /// (checked when the request resolves).
    pub fn from_path(path: &std::path::Path, index: i64, strength: f32) -> Result<Self> {
        let clip = read_video(path)?;
        Ok(Self {
            frames: clip.frames,
            index,
            strength,
        })
    }
}
