//! Still images: PNG/JPEG → RGB arrays, and RGB frames ↔ folders of PNG files
//! (`0000.png, 0001.png, …`).

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use ndarray::{Array3, Array4, ArrayView2, ArrayView3, ArrayView4, Axis};
use rayon::prelude::*;

use super::atomic::Staged;
use super::paths::FOLDER_AUDIO as AUDIO_FILE;
use super::wav::{WavFormat, WavWriter};
use crate::{Error, Result};

/// Reads a PNG or JPEG file (format from its content) as RGB `[H, W, 3]`.
///
/// Grey, alpha and 16-bit images are converted to 8-bit RGB (alpha dropped).
/// A missing file gives [`Error::Io`]; an unreadable or corrupt one [`Error::Media`].
pub fn read_image(path: &Path) -> Result<Array3<u8>> {
    let reader = image::ImageReader::open(path).map_err(|e| Error::io(path, e))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    if reader.format().is_none() {
        return Err(Error::media(path, "not a PNG or JPEG image"));
    }
    let img = reader
        .decode()
        .map_err(|e| Error::media(path, format!("cannot decode image: {e}")))?
        .into_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Array3::from_shape_vec((h, w, 3), img.into_raw())
        .map_err(|e| Error::media(path, format!("unexpected image buffer: {e}")))
}

/// Checks that `frame` is `[H, W, 3]` with non-zero sizes.
fn check_frame(path: &Path, shape: &[usize]) -> Result<()> {
    if shape.len() != 3 || shape[2] != 3 || shape[0] == 0 || shape[1] == 0 {
        return Err(Error::invalid(format!(
            "{}: a frame must be [H, W, 3] RGB with H, W > 0, got {shape:?}",
            path.display()
        )));
    }
    if shape[0] > u32::MAX as usize || shape[1] > u32::MAX as usize {
        return Err(Error::invalid(format!(
            "{}: frame too large",
            path.display()
        )));
    }
    Ok(())
}

/// Encodes one `[H, W, 3]` frame to `path` (an already staged name) as `format`.
fn encode_frame(
    path: &Path,
    shown: &Path,
    frame: ArrayView3<u8>,
    format: ImageFormat,
    mark: bool,
) -> Result<()> {
    check_frame(shown, frame.shape())?;
    let (h, w) = (frame.shape()[0], frame.shape()[1]);
    let raw: Vec<u8> = frame.as_standard_layout().iter().copied().collect();
    let img = RgbImage::from_raw(w as u32, h as u32, raw)
        .ok_or_else(|| Error::media(shown, "frame buffer has the wrong size"))?;
    // Errors name the user's path (`shown`), not the hidden temporary.
    if mark {
        // A single image carries sora's mark (see io::provenance); the frames
        // of a folder do not: the folder's marker file marks them all.
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, format)
            .map_err(|e| Error::media(shown, format!("cannot encode image: {e}")))?;
        let bytes = super::provenance::mark_image(bytes.into_inner());
        return fs::write(path, bytes).map_err(|e| Error::io(shown, e));
    }
    let file = fs::File::create(path).map_err(|e| Error::io(shown, e))?;
    let mut out = BufWriter::new(file);
    img.write_to(&mut out, format)
        .map_err(|e| Error::media(shown, format!("cannot encode image: {e}")))?;
    out.into_inner()
        .map_err(|e| Error::io(shown, e.into_error()))?;
    Ok(())
}

/// Writes one RGB frame `[H, W, 3]` as a PNG or JPEG file, by the extension of
/// `path` (`.png`, `.jpg`, `.jpeg`; JPEG at the `image` crate's default quality).
/// Atomic: nothing is left under `path` on failure.
pub fn write_image(path: &Path, frame: ArrayView3<u8>) -> Result<()> {
    let format = image_format(path)?;
    let staged = Staged::file(path)?;
    encode_frame(staged.path(), path, frame, format, true)?;
    staged.commit()
}

/// The image format of `path` by its extension (`.png`, `.jpg`, `.jpeg`).
fn image_format(path: &Path) -> Result<ImageFormat> {
    match ext_lower(path).as_deref() {
        Some("png") => Ok(ImageFormat::Png),
        Some("jpg") | Some("jpeg") => Ok(ImageFormat::Jpeg),
        _ => Err(Error::invalid(format!(
            "{}: an image file must end in .png, .jpg or .jpeg",
            path.display()
        ))),
    }
}

/// Lower-cased extension of `path`, if any.
pub(crate) fn ext_lower(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Name of frame `i` in a PNG sequence: `0000.png`, `0001.png`, … (more digits past 9999).
pub fn frame_file_name(i: usize) -> String {
    format!("{i:04}.png")
}

/// Writes frames `[T, H, W, 3]` into the folder `dir` as `0000.png, 0001.png, …`.
///
/// The folder is created (its parent must exist). It is written under a
/// temporary name and renamed at the end; an existing `dir` is replaced only if
/// it holds nothing but such a PNG sequence (otherwise [`Error::Media`]).
/// Gives the same files as [`crate::io::ClipWriter`] fed the frames in pieces.
pub fn write_png_sequence(dir: &Path, frames: ArrayView4<u8>) -> Result<()> {
    write_png_sequence_with_audio(dir, frames, None, None)
}

/// [`write_png_sequence`], plus the clip's frame rate (in the folder's
/// marker) and its audio (`[C, S]` at a sample rate)
/// as the folder's `audio.wav` ([`super::paths::FOLDER_AUDIO`], 32-bit float).
pub(crate) fn write_png_sequence_with_audio(
    dir: &Path,
    frames: ArrayView4<u8>,
    fps: Option<f32>,
    audio: Option<(ArrayView2<f32>, u32)>,
) -> Result<()> {
    let s = frames.shape();
    if s[0] == 0 {
        return Err(Error::invalid(format!(
            "{}: no frames to write",
            dir.display()
        )));
    }
    check_frame(dir, &s[1..])?;
    let mut writer = PngSequenceWriter::create(dir)?;
    if let Some(f) = fps {
        writer = writer.with_fps(f);
    }
    writer.push(frames)?;
    if let Some((a, rate)) = audio {
        writer.push_audio(a, rate)?;
    }
    writer.finish()
}

/// A folder of PNG frames written while the clip is generated: each frame is
/// encoded to `NNNN.png` in a temporary folder as it arrives (nothing is kept
/// in memory), and the folder is renamed to its final name at
/// [`PngSequenceWriter::finish`] (the rules of [`write_png_sequence`]).
/// Dropped unfinished, it removes the temporary folder.
pub(crate) struct PngSequenceWriter {
    dir: PathBuf,
    staged: Staged,
    count: usize,
    size: Option<(usize, usize)>,
    /// The clip's audio, written as [`AUDIO_FILE`] inside the folder.
    audio: Option<WavWriter>,
    /// The clip's frame rate, recorded in the folder's marker.
    fps: Option<f32>,
}

impl PngSequenceWriter {
    /// Stages the folder `dir`: its parent must exist, and an existing `dir`
    /// must hold only a PNG sequence (checked now, before any frame).
    pub(crate) fn create(dir: &Path) -> Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            staged: Staged::dir(dir)?,
            count: 0,
            size: None,
            audio: None,
            fps: None,
        })
    }

    /// Records the clip's frame rate in the folder's marker.
    pub(crate) fn with_fps(mut self, fps: f32) -> Self {
        self.fps = Some(fps);
        self
    }

    /// Appends audio `[C, S]` at `sample_rate` to the folder's [`AUDIO_FILE`]
    /// (32-bit float WAV, streamed as it arrives).
    pub(crate) fn push_audio(&mut self, audio: ArrayView2<f32>, sample_rate: u32) -> Result<()> {
        if self.audio.is_none() {
            let path = self.staged.path().join(AUDIO_FILE);
            self.audio = Some(WavWriter::create(&path, WavFormat::Float32)?);
        }
        match self.audio.as_mut() {
            Some(w) => w.push(audio, sample_rate),
            None => Ok(()),
        }
    }

    /// Frames written so far.
    pub(crate) fn frames(&self) -> usize {
        self.count
    }

    /// Writes frames `[t, H, W, 3]` (every frame the size of the first) as the
    /// next numbered files, in parallel.
    pub(crate) fn push(&mut self, frames: ArrayView4<u8>) -> Result<()> {
        let s = frames.shape();
        if s[0] == 0 {
            return Ok(());
        }
        check_frame(&self.dir, &s[1..])?;
        let size = (s[1], s[2]);
        if *self.size.get_or_insert(size) != size {
            return Err(Error::invalid(format!(
                "{}: frames change size mid-clip",
                self.dir.display()
            )));
        }
        let (first, tmp, dir) = (self.count, self.staged.path(), &self.dir);
        (0..s[0]).into_par_iter().try_for_each(|i| {
            let name = frame_file_name(first + i);
            encode_frame(
                &tmp.join(&name),
                &dir.join(&name),
                frames.index_axis(Axis(0), i),
                ImageFormat::Png,
                false,
            )
        })?;
        self.count += s[0];
        Ok(())
    }

    /// Renames the folder into place; a folder with no frames is an error.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.count == 0 {
            return Err(Error::invalid(format!(
                "{}: no frames to write",
                self.dir.display()
            )));
        }
        if let Some(audio) = self.audio.take() {
            audio.finish(None)?;
        }
        // sora's mark on the folder (see io::provenance).
        let marker = self.staged.path().join(super::provenance::FOLDER_MARKER);
        fs::write(
            &marker,
            super::provenance::folder_marker_json_with_fps(self.fps),
        )
        .map_err(|e| Error::io(&self.dir, e))?;
        self.staged.commit()
    }
}

/// One still image (`.png`, `.jpg`, `.jpeg`) written from a one-frame clip:
/// the frame is kept until [`ImageWriter::finish`], which writes it with
/// [`write_image`]. A second frame is an [`Error::InvalidRequest`].
pub(crate) struct ImageWriter {
    path: PathBuf,
    frame: Option<Array3<u8>>,
}

impl ImageWriter {
    /// A writer for `path`, which must end in `.png`, `.jpg` or `.jpeg` and
    /// whose folder must exist.
    pub(crate) fn create(path: &Path) -> Result<Self> {
        image_format(path)?;
        Staged::check_file_target(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            frame: None,
        })
    }

    /// Frames received (0 or 1).
    pub(crate) fn frames(&self) -> usize {
        usize::from(self.frame.is_some())
    }

    /// Takes the frame of a `[1, H, W, 3]` piece.
    pub(crate) fn push(&mut self, frames: ArrayView4<u8>) -> Result<()> {
        let n = frames.len_of(Axis(0)) + self.frames();
        if n > 1 {
            return Err(one_frame_only(&self.path, n));
        }
        if let Some(f) = frames.axis_iter(Axis(0)).next() {
            self.frame = Some(f.to_owned());
        }
        Ok(())
    }

    /// Writes the image.
    pub(crate) fn finish(self) -> Result<()> {
        match &self.frame {
            Some(f) => write_image(&self.path, f.view()),
            None => Err(one_frame_only(&self.path, 0)),
        }
    }
}

/// The error for an image path given a clip of `n` frames.
pub(crate) fn one_frame_only(path: &Path, n: usize) -> Error {
    Error::invalid(format!(
        "{}: an image file holds one frame but the clip has {n}; give a folder path (no extension) for a PNG sequence",
        path.display()
    ))
}

/// The `.png` files of `dir`, in frame order: numerically when every stem is a
/// number (`9.png` before `10.png`), by name otherwise.
fn png_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && path.is_file() && ext_lower(&path).as_deref() == Some("png") {
            files.push(path);
        }
    }
    let numbers: Option<Vec<u64>> = files
        .iter()
        .map(|p| p.file_stem()?.to_str()?.parse::<u64>().ok())
        .collect();
    match numbers {
        Some(nums) => {
            let mut pairs: Vec<(u64, PathBuf)> = nums.into_iter().zip(files).collect();
            pairs.sort();
            Ok(pairs.into_iter().map(|(_, p)| p).collect())
        }
        None => {
            files.sort();
            Ok(files)
        }
    }
}

/// Reads every `.png` file of `dir` (sorted as [`write_png_sequence`] names
/// them) as frames `[T, H, W, 3]`.
///
/// A folder without PNG files or with frames of different sizes gives
/// [`Error::Media`]; a missing folder [`Error::Io`].
pub fn read_png_sequence(dir: &Path) -> Result<Array4<u8>> {
    if !dir.is_dir() {
        let err = match fs::metadata(dir) {
            Err(e) => e,
            Ok(_) => std::io::Error::other("not a folder"),
        };
        return Err(Error::io(dir, err));
    }
    let files = png_files(dir)?;
    if files.is_empty() {
        return Err(Error::media(dir, "the folder holds no .png frames"));
    }
    let images: Vec<Array3<u8>> = files
        .par_iter()
        .map(|f| read_image(f))
        .collect::<Result<_>>()?;
    let (h, w) = (images[0].shape()[0], images[0].shape()[1]);
    let mut out = Array4::<u8>::zeros((files.len(), h, w, 3));
    for (i, (img, file)) in images.iter().zip(&files).enumerate() {
        if img.shape() != images[0].shape() {
            return Err(Error::media(
                file,
                format!(
                    "frame is {}x{} but the first frame is {w}x{h}; all frames must have the same size",
                    img.shape()[1],
                    img.shape()[0]
                ),
            ));
        }
        out.index_axis_mut(Axis(0), i).assign(img);
    }
    Ok(out)
}
