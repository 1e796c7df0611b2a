//! Media I/O: frames ↔ PNG/JPEG (`image`), audio ↔ WAV (`wav`), MP4 with H.264
//! video and AAC audio (`mp4`) — all from crates.io code, no system FFmpeg —
//! and [`save_clip`] / [`read_video`], which pick the format from the path.
//! [`ClipWriter`] writes the same files piece by piece while a clip is
//! generated, so that a long clip is never held whole.
//!
//! Every writer is atomic: it writes under a temporary name in the target's
//! folder and renames at the end, so nothing partial is left on failure.
//! Every output carries sora's mark, so that a later run knows it may replace
//! it ([`provenance`]).

pub(crate) mod atomic;
mod image;
mod mp4;
mod paths;
pub mod provenance;
mod wav;

use std::path::Path;

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis};

pub use self::atomic::remove_stale_temporaries;
pub use self::image::{
    frame_file_name, read_image, read_png_sequence, write_image, write_png_sequence,
};
pub use self::mp4::{read_mp4, recompress_image, write_mp4, AAC_SAMPLE_RATES, SILENT_SAMPLE_RATE};
pub use self::provenance::{
    check_replaceable, is_sora_output, prepare_output, OutputGuard, WriteOptions,
};
pub use self::wav::{read_wav, write_wav, write_wav_as, WavFormat};

use crate::safety::credentials::ClipCredentials;
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
/// of PNG frames ([`read_png_sequence`], at the rate sora recorded in its
/// marker or [`DEFAULT_FPS`], with its `audio.wav` if it has one), or a single
/// `.png`/`.jpg`/`.jpeg` image (one frame at [`DEFAULT_FPS`]).
pub fn read_video(path: &Path) -> Result<MediaClip> {
    if path.is_dir() {
        let frames = read_png_sequence(path)?;
        let audio_path = path.join(self::paths::FOLDER_AUDIO);
        let (audio, sample_rate) = if audio_path.is_file() {
            let (a, rate) = read_wav(&audio_path)?;
            (Some(a), rate)
        } else {
            (None, 0)
        };
        return Ok(MediaClip {
            frames,
            fps: self::provenance::folder_fps(path).unwrap_or(DEFAULT_FPS),
            audio,
            sample_rate,
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

/// What [`save_clip`] reads of a clip (the pipeline's `Clip` is one).
pub trait ClipData {
    /// RGB frames `[T, H, W, 3]`.
    fn frame_data(&self) -> ArrayView4<'_, u8>;
    /// Frames per second.
    fn frame_rate(&self) -> f32;
    /// Audio `[channels, samples]` and its sample rate, when the clip has sound.
    fn audio_data(&self) -> Option<(ArrayView2<'_, f32>, u32)>;
    /// The content credentials to embed in MP4 and WAV outputs (none by
    /// default; a pipeline's clips carry theirs).
    fn credentials(&self) -> Option<&ClipCredentials> {
        None
    }
}

/// Writes a clip by the extension of `path` (see `Clip::save`):
///
/// - `.mp4`: H.264 video + AAC audio ([`write_mp4`]); a clip without audio gets a
///   silent audio track so that both streams exist (the clip itself is unchanged).
/// - `.wav`: the audio only ([`write_wav_as`], 32-bit float: the model's
///   samples exactly); a clip without audio is an [`Error::InvalidRequest`].
/// - `.png`, `.jpg`, `.jpeg`: a single image; only for a one-frame clip (for more
///   frames, give a folder path), otherwise [`Error::InvalidRequest`].
/// - no extension: a folder of PNG frames `0000.png, 0001.png, …` ([`write_png_sequence`]),
///   and the clip's audio, if it has any, as `audio.wav` inside it (32-bit float).
///
/// Any other extension is an [`Error::InvalidRequest`]. Writes are atomic:
/// nothing partial is left under `path` on failure. [`ClipWriter`] writes the
/// same bytes from a clip that arrives in pieces.
///
/// When the clip has [`ClipData::credentials`], MP4 and WAV files get a
/// signed C2PA manifest, embedded before the file is renamed into place
/// (images and frame folders carry none; see `docs/safety.md`).
pub fn save_clip(clip: &impl ClipData, path: &Path) -> Result<()> {
    let format = OutputFormat::of(path)?;
    let frames = clip.frame_data();
    let credentials = clip.credentials();
    match format {
        OutputFormat::Mp4 => self::mp4::write_mp4_signed(
            path,
            frames,
            clip.frame_rate(),
            clip.audio_data(),
            credentials,
        ),
        OutputFormat::Wav => match clip.audio_data() {
            Some((audio, rate)) => {
                self::wav::check_audio(path, &audio, rate)?;
                let mut w = self::wav::WavWriter::create(path, WavFormat::Float32)?;
                w.push(audio, rate)?;
                w.finish(credentials)
            }
            None => Err(self::wav::no_audio(path)),
        },
        OutputFormat::Image => {
            let n = frames.len_of(Axis(0));
            if n != 1 {
                return Err(self::image::one_frame_only(path, n));
            }
            write_image(path, frames.index_axis(Axis(0), 0))
        }
        OutputFormat::PngFolder => {
            let fps = Some(clip.frame_rate());
            self::image::write_png_sequence_with_audio(path, frames, fps, clip.audio_data())
        }
    }
}

/// Whether `path` names an audio-only output (`.wav`): no frames are written.
pub fn is_audio_only(path: &Path) -> bool {
    self::image::ext_lower(path).as_deref() == Some("wav")
}

/// The kinds of output [`save_clip`] and [`ClipWriter`] write, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Mp4,
    Wav,
    Image,
    PngFolder,
}

impl OutputFormat {
    fn of(path: &Path) -> Result<Self> {
        match self::image::ext_lower(path).as_deref() {
            Some("mp4") => Ok(Self::Mp4),
            Some("wav") => Ok(Self::Wav),
            Some("png" | "jpg" | "jpeg") => Ok(Self::Image),
            None => Ok(Self::PngFolder),
            Some(other) => Err(Error::invalid(format!(
                "{}: cannot save a clip as `.{other}` (use .mp4, .wav, .png, .jpg or a folder path)",
                path.display()
            ))),
        }
    }
}

/// What a clip written by a [`ClipWriter`] will hold, known before its first
/// frame (from the resolved request), so that a path that cannot take it is
/// refused before any work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipSpec {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames the clip will have (a single image file takes exactly 1).
    pub frames: u32,
    /// Frames per second.
    pub fps: f32,
    /// Whether audio will be written (a `.wav` path needs it).
    pub audio: bool,
}

/// Per-format writers behind [`ClipWriter`].
enum Sink {
    /// Boxed: the H.264 encoder's state is several KiB.
    Mp4(Box<self::mp4::Mp4Writer>),
    Png(self::image::PngSequenceWriter),
    Image(self::image::ImageWriter),
    Wav(self::wav::WavWriter),
}

/// Writes a clip to a file or folder piece by piece, as it is generated, by
/// the extension of the path with the rules of [`save_clip`]:
///
/// - `.mp4`: each frame is H.264-encoded as it arrives and only the
///   compressed samples are kept (audio likewise, as AAC); the file is muxed
///   at [`ClipWriter::finish`].
/// - no extension: each frame is written to the folder's `NNNN.png` as it
///   arrives, the audio to its `audio.wav`.
/// - `.wav`: the audio samples are written as they arrive; frames are ignored.
/// - `.png`, `.jpg`, `.jpeg`: the one frame of a one-frame clip.
///
/// The output is staged under a temporary name in the target's folder and
/// renamed into place by [`ClipWriter::finish`]; a writer dropped before that
/// (an error, a cancelled run) removes what it staged, so nothing partial is
/// left. The files are byte-identical to [`save_clip`]'s for the same clip,
/// however it is split into pieces.
///
/// ```no_run
/// use sora_core::io::{ClipSpec, ClipWriter};
/// let spec = ClipSpec { width: 64, height: 64, frames: 8, fps: 16.0, audio: false };
/// let mut w = ClipWriter::create("out.mp4".as_ref(), &spec)?;
/// for _ in 0..2 {
///     let piece = ndarray::Array4::<u8>::zeros((4, 64, 64, 3));
///     w.write_frames(piece.view())?;
/// }
/// w.finish()?;
/// # Ok::<(), sora_core::Error>(())
/// ```
pub struct ClipWriter {
    sink: Sink,
    credentials: Option<ClipCredentials>,
}

impl ClipWriter {
    /// Opens a writer for `path`. Everything that can be checked before the
    /// first frame is: the extension, that the folder exists (and, for `.mp4`,
    /// that a file can be created in it), that an existing folder target holds
    /// only PNG frames, that the size and rate suit H.264, that a `.wav` path
    /// gets audio and an image path one frame.
    pub fn create(path: &Path, spec: &ClipSpec) -> Result<Self> {
        let sink = match OutputFormat::of(path)? {
            OutputFormat::Mp4 => Sink::Mp4(Box::new(self::mp4::Mp4Writer::create(
                path,
                spec.width as usize,
                spec.height as usize,
                spec.fps,
            )?)),
            OutputFormat::Wav => {
                if !spec.audio {
                    return Err(self::wav::no_audio(path));
                }
                Sink::Wav(self::wav::WavWriter::create(path, WavFormat::Float32)?)
            }
            OutputFormat::Image => {
                if spec.frames != 1 {
                    return Err(self::image::one_frame_only(path, spec.frames as usize));
                }
                Sink::Image(self::image::ImageWriter::create(path)?)
            }
            OutputFormat::PngFolder => {
                Sink::Png(self::image::PngSequenceWriter::create(path)?.with_fps(spec.fps))
            }
        };
        Ok(Self {
            sink,
            credentials: None,
        })
    }

    /// The content credentials [`ClipWriter::finish`] embeds in an MP4 or
    /// WAV output (`None`, the default, embeds none; images and frame
    /// folders ignore them). May be set any time before `finish`.
    pub fn set_credentials(&mut self, credentials: Option<ClipCredentials>) {
        self.credentials = credentials;
    }

    /// Appends frames `[t, H, W, 3]` (RGB, every frame the same size).
    pub fn write_frames(&mut self, frames: ArrayView4<u8>) -> Result<()> {
        match &mut self.sink {
            Sink::Mp4(w) => w.push_frames(frames),
            Sink::Png(w) => w.push(frames),
            Sink::Image(w) => w.push(frames),
            Sink::Wav(_) => Ok(()),
        }
    }

    /// Appends audio `[channels, samples]` in [-1, 1] at `sample_rate` (every
    /// piece with the same channels and rate). A PNG folder stores it as its
    /// `audio.wav`; an image ignores it, as [`save_clip`] does.
    pub fn write_audio(&mut self, audio: ArrayView2<f32>, sample_rate: u32) -> Result<()> {
        match &mut self.sink {
            Sink::Mp4(w) => w.push_audio(audio, sample_rate),
            Sink::Wav(w) => w.push(audio, sample_rate),
            Sink::Png(w) => w.push_audio(audio, sample_rate),
            Sink::Image(_) => Ok(()),
        }
    }

    /// Frames written so far (0 for a `.wav` writer).
    pub fn frames_written(&self) -> usize {
        match &self.sink {
            Sink::Mp4(w) => w.frames(),
            Sink::Png(w) => w.frames(),
            Sink::Image(w) => w.frames(),
            Sink::Wav(_) => 0,
        }
    }

    /// Completes the output (muxes an MP4, finalises a WAV header, signs
    /// either when credentials are set) and moves it to its final name. An
    /// output without frames (or a `.wav` without audio) is an
    /// [`Error::InvalidRequest`] and leaves nothing.
    pub fn finish(self) -> Result<()> {
        let credentials = self.credentials.as_ref();
        match self.sink {
            Sink::Mp4(w) => w.finish(credentials),
            Sink::Png(w) => w.finish(),
            Sink::Image(w) => w.finish(),
            Sink::Wav(w) => w.finish(credentials),
        }
    }
}
