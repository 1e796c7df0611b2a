//! Media I/O: frames ↔ PNG/JPEG (`image`), audio ↔ WAV (`wav`), MP4 with H.264
//! video and AAC audio (`mp4`) — all from crates.io code, no system FFmpeg —
//! and [`save_clip`] / [`read_video`], which pick the format from the path.
//!
//! Every writer is atomic: it writes under a temporary name in the target's
//! folder and renames at the end, so nothing partial is left on failure.

mod atomic;
mod image;
mod mp4;
mod wav;

use std::path::Path;

use ndarray::{Array2, Array4, Axis};

pub use self::image::{
    frame_file_name, read_image, read_png_sequence, write_image, write_png_sequence,
};
pub use self::mp4::{read_mp4, write_mp4, AAC_SAMPLE_RATES, SILENT_SAMPLE_RATE};
pub use self::wav::{read_wav, write_wav, write_wav_as, WavFormat};

use crate::pipeline::Clip;
use crate::{Error, Result};

/// Frame rate given to a folder of PNG frames (or a single image), which has none of its own.
pub const DEFAULT_FPS: f32 = 16.0;

/// Media read from a file or folder.
#[derive(Debug, Clone)]
pub struct MediaClip {
    /// RGB frames `[T, H, W, 3]`.
    pub frames: Array4<u8>,
    /// Frames per second.
    pub fps: f32,
    /// Audio `[channels, samples]` in [-1, 1], if the source has real audio.
    pub audio: Option<Array2<f32>>,
    /// Audio sample rate in Hz (0 when there is no audio).
    pub sample_rate: u32,
}

/// Reads video from `path`: an `.mp4`/`.m4v`/`.mov` file ([`read_mp4`]), a folder
/// of PNG frames ([`read_png_sequence`], at [`DEFAULT_FPS`]), or a single
/// `.png`/`.jpg`/`.jpeg` image (one frame at [`DEFAULT_FPS`]).
pub fn read_video(path: &Path) -> Result<MediaClip> {
    if path.is_dir() {
        let frames = read_png_sequence(path)?;
        return Ok(MediaClip {
            frames,
            fps: DEFAULT_FPS,
            audio: None,
            sample_rate: 0,
        });
    }
    match self::image::ext_lower(path).as_deref() {
        Some("mp4" | "m4v" | "mov") => read_mp4(path),
        Some("png" | "jpg" | "jpeg") => {
            let img = read_image(path)?;
            Ok(MediaClip {
                frames: img.insert_axis(Axis(0)),
                fps: DEFAULT_FPS,
                audio: None,
                sample_rate: 0,
            })
        }
        _ if !path.exists() => Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        )),
        _ => Err(Error::invalid(format!(
            "{}: cannot read video from this kind of file (use .mp4, .m4v, .mov, an image or a folder of PNG frames)",
            path.display()
        ))),
    }
}

/// Writes a clip by the extension of `path` (see [`Clip::save`]):
///
/// - `.mp4`: H.264 video + AAC audio ([`write_mp4`]); a clip without audio gets a
///   silent audio track so that both streams exist (the clip itself is unchanged).
/// - `.wav`: the audio only ([`write_wav`], 16-bit PCM); a clip without audio is an
///   [`Error::InvalidRequest`].
/// - `.png`, `.jpg`, `.jpeg`: a single image; only for a one-frame clip (for more
///   frames, give a folder path), otherwise [`Error::InvalidRequest`].
/// - no extension: a folder of PNG frames `0000.png, 0001.png, …` ([`write_png_sequence`]).
///
/// Any other extension is an [`Error::InvalidRequest`]. Writes are atomic:
/// nothing partial is left under `path` on failure.
pub fn save_clip(clip: &Clip, path: &Path) -> Result<()> {
    let ext = self::image::ext_lower(path);
    match ext.as_deref() {
        Some("mp4") => write_mp4(
            path,
            clip.frames.view(),
            clip.fps,
            clip.audio.as_ref().map(|a| (a.view(), clip.sample_rate)),
        ),
        Some("wav") => match &clip.audio {
            Some(audio) => write_wav(path, audio.view(), clip.sample_rate),
            None => Err(Error::invalid(format!(
                "{}: the clip has no audio to write as WAV",
                path.display()
            ))),
        },
        Some("png" | "jpg" | "jpeg") => {
            if clip.frames.len_of(Axis(0)) != 1 {
                return Err(Error::invalid(format!(
                    "{}: an image file holds one frame but the clip has {}; give a folder path (no extension) for a PNG sequence",
                    path.display(),
                    clip.frames.len_of(Axis(0))
                )));
            }
            write_image(path, clip.frames.index_axis(Axis(0), 0))
        }
        None => write_png_sequence(path, clip.frames.view()),
        Some(other) => Err(Error::invalid(format!(
            "{}: cannot save a clip as `.{other}` (use .mp4, .wav, .png, .jpg or a folder path)",
            path.display()
        ))),
    }
}
