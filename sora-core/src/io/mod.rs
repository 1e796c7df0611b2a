//! Media I/O: frames ↔ PNG/JPEG, audio ↔ WAV, MP4 (H.264 + AAC) mux/demux.

use std::path::Path;

use crate::pipeline::Clip;
use crate::{Error, Result};

/// Writes a clip by the extension of `path` (see [`Clip::save`]).
pub fn save_clip(_clip: &Clip, path: &Path) -> Result<()> {
    Err(Error::Unsupported(format!(
        "saving {} is not built yet",
        path.display()
    )))
}
