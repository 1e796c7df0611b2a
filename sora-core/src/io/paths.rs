//! Small path helpers shared by the atomic writers and the provenance
//! checks: the frame folder's marker name, and I/O errors that say a
//! symbolic-link loop is one.

use std::path::Path;

use crate::Error;

/// The marker file sora writes inside a folder of PNG frames.
pub const FOLDER_MARKER: &str = ".sora-output.json";

/// The clip's audio inside a folder of PNG frames (32-bit float WAV).
pub const FOLDER_AUDIO: &str = "audio.wav";

/// An I/O error on `path`, a symbolic-link loop said as such.
pub(crate) fn path_error(path: &Path, e: std::io::Error) -> Error {
    if is_loop(&e) {
        return Error::io(
            path,
            std::io::Error::new(e.kind(), "a symbolic link loop (too many levels of links)"),
        );
    }
    Error::io(path, e)
}

/// Whether `e` is ELOOP (too many levels of symbolic links).
pub(crate) fn is_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}
