//! The pluggable identity check: a user-supplied face (or other) recogniser
//! run by the pipeline on input images and video and on every chunk of
//! generated frames. sora ships no recogniser; with none installed nothing
//! is checked here (the prompt gate still runs).

use ndarray::ArrayView4;

use crate::Result;

/// Where frames given to an [`IdentityCheck`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSource {
    /// The request's input image (one frame).
    InputImage,
    /// The request's input video (video-to-video or extension).
    InputVideo,
    /// Generated frames, starting at frame `first` of the clip.
    Output {
        /// Index of the chunk's first frame in the clip.
        first: usize,
    },
}

impl std::fmt::Display for FrameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameSource::InputImage => f.write_str("the input image"),
            FrameSource::InputVideo => f.write_str("the input video"),
            FrameSource::Output { first } => write!(f, "generated frames from {first}"),
        }
    }
}

/// A recogniser of people in frames. Each name it returns is treated as a
/// person on screen: one in the consent registry needs a valid consent as if
/// the prompt had named them; one not registered (or with no registry) is
/// refused with [`crate::Error::ConsentRequired`]. Errors it returns stop the
/// run unchanged.
pub trait IdentityCheck: Send + Sync {
    /// The people seen in `frames` (`[T, H, W, 3]` RGB u8), by name.
    fn people_in(&self, frames: ArrayView4<'_, u8>, source: FrameSource) -> Result<Vec<String>>;
}
