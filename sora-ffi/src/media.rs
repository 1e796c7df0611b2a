//! Reading image and video inputs from a path for the request setters (the
//! core's `io::read_image` / `io::read_video`, wrapped in the request's input types).

use std::path::Path;

use sora_core::{io, ImageInput, Result, VideoInput};

/// Reads an RGB image (PNG/JPEG) from `path`.
pub(crate) fn read_image(path: &Path) -> Result<ImageInput> {
    Ok(ImageInput {
        pixels: io::read_image(path)?,
    })
}

/// Reads a video's frames, frame rate and audio track (if any) from `path`
/// (MP4 or a folder of PNG frames).
pub(crate) fn read_video(path: &Path) -> Result<VideoInput> {
    Ok(VideoInput::from_media(io::read_video(path)?))
}
