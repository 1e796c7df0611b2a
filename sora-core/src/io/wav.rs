//! Audio ↔ WAV files (through `hound`): `[channels, samples]` f32 in [-1, 1].

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayView2};

use super::atomic::Staged;
use crate::safety::credentials::{self, ClipCredentials, MediaFormat};
use crate::{Error, Result};

/// How [`write_wav_as`] stores the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WavFormat {
    /// 16-bit signed PCM (plays everywhere; values are clamped to [-1, 1]).
    #[default]
    Pcm16,
    /// 32-bit IEEE float (exact; values outside [-1, 1] are kept).
    Float32,
}

/// Checks an audio array `[C, S]` and its sample rate before it is encoded.
pub(crate) fn check_audio(path: &Path, audio: &ArrayView2<f32>, sample_rate: u32) -> Result<()> {
    let (c, s) = audio.dim();
    if c == 0 || s == 0 {
        return Err(Error::invalid(format!(
            "{}: audio must be [channels, samples] with both > 0, got [{c}, {s}]",
            path.display()
        )));
    }
    if sample_rate == 0 {
        return Err(Error::invalid(format!(
            "{}: the audio sample rate is 0",
            path.display()
        )));
    }
    if audio.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numeric(format!(
            "{}: the audio holds NaN or infinite samples",
            path.display()
        )));
    }
    Ok(())
}

/// Writes `audio` `[C, S]` as a 16-bit PCM WAV file (see [`write_wav_as`]).
pub fn write_wav(path: &Path, audio: ArrayView2<f32>, sample_rate: u32) -> Result<()> {
    write_wav_as(path, audio, sample_rate, WavFormat::Pcm16)
}

/// Writes `audio` `[C, S]` (f32, nominally in [-1, 1]) as a WAV file in `format`.
/// Atomic: nothing is left under `path` on failure. Gives the same bytes as
/// [`crate::io::ClipWriter`] fed the audio in pieces.
pub fn write_wav_as(
    path: &Path,
    audio: ArrayView2<f32>,
    sample_rate: u32,
    format: WavFormat,
) -> Result<()> {
    check_audio(path, &audio, sample_rate)?;
    let mut writer = WavWriter::create(path, format)?;
    writer.push(audio, sample_rate)?;
    writer.finish(None)
}

/// A WAV file written while the audio is generated: samples are written to a
/// temporary file as they arrive (nothing is kept in memory) and the file is
/// renamed into place at [`WavWriter::finish`]. The header is written with the
/// first piece (which fixes channels and sample rate). Dropped unfinished, it
/// removes the temporary file.
pub(crate) struct WavWriter {
    path: PathBuf,
    staged: Staged,
    format: WavFormat,
    writer: Option<hound::WavWriter<BufWriter<std::fs::File>>>,
}

impl WavWriter {
    /// Stages `path` (its folder must exist).
    pub(crate) fn create(path: &Path, format: WavFormat) -> Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            staged: Staged::file(path)?,
            format,
            writer: None,
        })
    }

    fn err(&self, e: hound::Error) -> Error {
        match e {
            // The user's path, not the hidden temporary.
            hound::Error::IoError(io) => Error::io(&self.path, io),
            other => Error::media(&self.path, format!("cannot write WAV: {other}")),
        }
    }

    /// Appends audio `[C, S]` at `sample_rate` (every piece with the same
    /// channels and rate).
    pub(crate) fn push(&mut self, audio: ArrayView2<f32>, sample_rate: u32) -> Result<()> {
        check_audio(&self.path, &audio, sample_rate)?;
        let channels = u16::try_from(audio.nrows()).map_err(|_| {
            Error::invalid(format!("{}: too many audio channels", self.path.display()))
        })?;
        let format = self.format;
        if self.writer.is_none() {
            let spec = hound::WavSpec {
                channels,
                sample_rate,
                bits_per_sample: match format {
                    WavFormat::Pcm16 => 16,
                    WavFormat::Float32 => 32,
                },
                sample_format: match format {
                    WavFormat::Pcm16 => hound::SampleFormat::Int,
                    WavFormat::Float32 => hound::SampleFormat::Float,
                },
            };
            let file =
                std::fs::File::create(self.staged.path()).map_err(|e| Error::io(&self.path, e))?;
            let w = hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| self.err(e))?;
            self.writer = Some(w);
        }
        let Some(w) = self.writer.as_mut() else {
            unreachable!("created above")
        };
        let spec = w.spec();
        if spec.channels != channels || spec.sample_rate != sample_rate {
            return Err(Error::invalid(format!(
                "{}: the audio changes from {} channels at {} Hz to {channels} at {sample_rate} Hz",
                self.path.display(),
                spec.channels,
                spec.sample_rate
            )));
        }
        let mut result = Ok(());
        'all: for s in 0..audio.ncols() {
            for c in 0..audio.nrows() {
                let v = audio[[c, s]];
                result = match format {
                    WavFormat::Pcm16 => w.write_sample(f32_to_i16(v)),
                    WavFormat::Float32 => w.write_sample(v),
                };
                if result.is_err() {
                    break 'all;
                }
            }
        }
        result.map_err(|e| self.err(e))
    }

    /// Finalises the header, signs the file when `credentials` are given, and
    /// renames it into place; a WAV writer that received no audio is an
    /// [`Error::InvalidRequest`].
    pub(crate) fn finish(mut self, credentials: Option<&ClipCredentials>) -> Result<()> {
        let Some(w) = self.writer.take() else {
            return Err(no_audio(&self.path));
        };
        w.finalize().map_err(|e| self.err(e))?;
        // sora's mark (a LIST/INFO chunk after the data; see io::provenance).
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.staged.path())
            .map_err(|e| Error::io(&self.path, e))?;
        super::provenance::mark_wav(&mut file).map_err(|e| Error::io(&self.path, e))?;
        drop(file);
        credentials::commit_signed(self.staged, MediaFormat::Wav, credentials)
    }
}

/// The error for a WAV path given a clip without audio.
pub(crate) fn no_audio(path: &Path) -> Error {
    Error::invalid(format!(
        "{}: the clip has no audio to write as WAV",
        path.display()
    ))
}

/// f32 in [-1, 1] → i16: `round(v · 32768)` clamped to the i16 range (the
/// inverse of reading, `x / 32768`, so that a round trip is within half a step).
pub(crate) fn f32_to_i16(v: f32) -> i16 {
    (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Reads a WAV file (8/16/24/32-bit PCM or 32-bit float) as `([C, S] f32, sample_rate)`.
/// Integer PCM is scaled to [-1, 1) by its full scale (16-bit: x / 32768).
pub fn read_wav(path: &Path) -> Result<(Array2<f32>, u32)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = hound::WavReader::new(std::io::BufReader::new(file))
        .map_err(|e| Error::media(path, format!("not a readable WAV file: {e}")))?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    if channels == 0 {
        return Err(Error::media(path, "WAV header declares 0 channels"));
    }
    let bad = |e: hound::Error| Error::media(path, format!("corrupt WAV data: {e}"));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(bad)?,
        hound::SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if bits == 0 || bits > 32 {
                return Err(Error::media(
                    path,
                    format!("unsupported WAV sample size {bits} bits"),
                ));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|r| r.map(|v| (v as f64 * scale) as f32))
                .collect::<std::result::Result<_, _>>()
                .map_err(bad)?
        }
    };
    let frames = interleaved.len() / channels;
    let mut out = Array2::<f32>::zeros((channels, frames));
    for (i, v) in interleaved.iter().take(frames * channels).enumerate() {
        out[[i % channels, i / channels]] = *v;
    }
    Ok((out, spec.sample_rate))
}
