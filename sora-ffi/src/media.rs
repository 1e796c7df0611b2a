//! Reading image and video inputs from a path for the request setters.
//!
//! TODO(io): `sora_core::io::read_image` / `read_video` are being written by the
//! io engineer and do not exist in this tree yet. Until they are wired here, the
//! path setters return `SORA_ERR_UNSUPPORTED` (never fake pixels). Wiring is a
//! two-line change in each function below; the raw-pixel setters
//! (`sora_request_set_image_rgb`, `..._video_rgb`, `..._extend_rgb`) work now.

use std::path::Path;

use sora_core::{Error, ImageInput, Result, VideoInput};

/// Reads an RGB image (PNG/JPEG) from `path`.
pub(crate) fn read_image(path: &Path) -> Result<ImageInput> {
    // TODO(io): `sora_core::io::read_image(path)` once it exists.
    Err(Error::Unsupported(format!(
        "reading an image from a path ({}) is not built yet (sora_core::io::read_image); \
         pass the pixels with sora_request_set_image_rgb",
        path.display()
    )))
}

/// Reads a video's frames and frame rate from `path`.
pub(crate) fn read_video(path: &Path) -> Result<VideoInput> {
    // TODO(io): `sora_core::io::read_video(path)` once it exists.
    Err(Error::Unsupported(format!(
        "reading a video from a path ({}) is not built yet (sora_core::io::read_video); \
         pass the frames with sora_request_set_video_rgb",
        path.display()
    )))
}
