//! MP4 files with an H.264 video track and an AAC-LC audio track, written and
//! read with crates.io code only (no system FFmpeg): [`write_mp4`], [`read_mp4`].
//!
//! - `h264`: OpenH264 encode/decode; `yuv`: RGB ↔ YUV 4:2:0 (BT.601, limited range)
//! - `aac`: FDK AAC encode/decode
//! - `mux` / `demux`: the ISO BMFF boxes

mod aac;
mod demux;
mod h264;
mod mux;
mod yuv;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ndarray::{s, Array2, ArrayView2, ArrayView4};

pub use aac::AAC_SAMPLE_RATES;

use super::atomic::Staged;
use super::wav::check_audio;
use super::MediaClip;
use crate::safety::credentials::{self, ClipCredentials, MediaFormat};
use crate::{Error, Result};

/// Sample rate of the filler silence written when a clip has no audio.
pub const SILENT_SAMPLE_RATE: u32 = 48_000;

/// `(timescale, ticks per frame)` that represent `fps` exactly for integer
/// rates, NTSC rates (`24000/1001`, …) and rates with three decimals.
fn video_timebase(fps: f32) -> (u32, u32) {
    let f = f64::from(fps);
    let (mut num, mut den) = if (f - f.round()).abs() < 1e-4 {
        (f.round() as u64, 1u64)
    } else if (f * 1.001 - (f * 1.001).round()).abs() < 1e-3 {
        ((f * 1.001).round() as u64 * 1000, 1001)
    } else {
        ((f * 1000.0).round() as u64, 1000)
    };
    let g = gcd(num, den);
    num /= g;
    den /= g;
    // A timescale of at least 10 000 ticks, as players expect.
    let k = 10_000u64.div_ceil(num).max(1);
    (
        (num * k).min(u64::from(u32::MAX)) as u32,
        (den * k).min(u64::from(u32::MAX)) as u32,
    )
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// Checks what [`write_mp4`] and [`Mp4Writer`] can store: even sizes up to
/// 3840×2160 and a frame rate in (0, 1000].
fn check_video(path: &Path, width: usize, height: usize, fps: f32) -> Result<()> {
    let shown = path.display();
    if width == 0 || height == 0 {
        return Err(Error::invalid(format!(
            "{shown}: frames must have a width and height > 0, got {width}x{height}"
        )));
    }
    if height % 2 != 0 || width % 2 != 0 {
        return Err(Error::invalid(format!(
            "{shown}: H.264 (4:2:0) needs an even width and height, got {width}x{height}; crop or pad one pixel"
        )));
    }
    if width.max(height) > 3840 || width.min(height) > 2160 {
        return Err(Error::invalid(format!(
            "{shown}: {width}x{height} is larger than the H.264 encoder's 3840x2160"
        )));
    }
    if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
        return Err(Error::invalid(format!(
            "{shown}: fps must be in (0, 1000], got {fps}"
        )));
    }
    Ok(())
}

/// The filler track of a clip without audio: [`SILENT_SAMPLE_RATE`] mono
/// silence as long as `frames` at `fps`, encoded in pieces (never held whole).
fn encode_silence(path: &Path, frames: usize, fps: f32) -> Result<aac::EncodedAudio> {
    let n = (frames as f64 * f64::from(SILENT_SAMPLE_RATE) / f64::from(fps)).round() as usize;
    let mut encoder = aac::AacEncoder::new(path, 1, SILENT_SAMPLE_RATE)?;
    let mut left = n.max(1);
    while left > 0 {
        let piece = left.min(SILENT_SAMPLE_RATE as usize);
        encoder.push_silence(piece)?;
        left -= piece;
    }
    encoder.finish()
}

/// Muxes the encoded tracks into the staged file, signs it when
/// `credentials` are given, and renames it into place. `audio` is `None` for
/// a clip without audio (the filler silence is made here).
#[allow(clippy::too_many_arguments)] // the tracks and where they go
fn mux_and_commit(
    staged: Staged,
    file: File,
    path: &Path,
    video: &h264::EncodedVideo,
    size: (usize, usize),
    fps: f32,
    audio: Option<aac::EncodedAudio>,
    credentials: Option<&ClipCredentials>,
) -> Result<()> {
    let (sound, name) = match audio {
        Some(a) => (a, "SoundHandler"),
        None => (
            encode_silence(path, video.sizes.len(), fps)?,
            mux::SILENT_TRACK_NAME,
        ),
    };
    let (timescale, delta) = video_timebase(fps);
    let vt = mux::VideoTrack {
        enc: video,
        width: size.0 as u16,
        height: size.1 as u16,
        timescale,
        delta,
    };
    let at = mux::AudioTrack { enc: &sound, name };
    // Errors name the user's path, not the hidden temporary.
    let mut out = BufWriter::new(file);
    mux::write(&mut out, &vt, &at).map_err(|e| Error::io(path, e))?;
    out.flush().map_err(|e| Error::io(path, e))?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    drop(file);
    credentials::commit_signed(staged, MediaFormat::Mp4, credentials)
}

/// Stages `path` and creates its temporary file (so that an unwritable folder
/// fails before any encoding).
fn stage_file(path: &Path) -> Result<(Staged, File)> {
    let staged = Staged::file(path)?;
    let file = File::create(staged.path()).map_err(|e| Error::io(path, e))?;
    Ok((staged, file))
}

/// Writes frames `[T, H, W, 3]` at `fps` and optional audio `([C, S] f32, sample_rate)`
/// as an MP4 file: H.264 (constrained baseline, BT.601 limited range, quantiser
/// ≤ 24 so a round trip of smooth content stays within a few levels) and AAC-LC
/// (about 2 bits per sample and channel).
///
/// - H and W must be even (H.264 4:2:0 cannot store odd sizes), at most 3840×2160.
/// - Audio must be mono or stereo at one of [`AAC_SAMPLE_RATES`].
/// - When `audio` is `None`, a mono silent AAC track ([`SILENT_SAMPLE_RATE`]) of
///   the video's duration is written anyway, so that players and tools that
///   expect both streams find them. It is marked as filler (`hdlr` name), and
///   [`read_mp4`] reads it back as `audio: None`.
/// - The AAC encoder's priming samples and end padding are trimmed by the audio
///   track's edit list, so readers get the exact sample count back.
///
/// Gives the same bytes as [`crate::io::ClipWriter`] fed the same frames and audio in
/// pieces. Atomic: the file is written under a temporary name in the same
/// folder and renamed at the end; nothing is left under `path` on failure.
pub fn write_mp4(
    path: &Path,
    frames: ArrayView4<u8>,
    fps: f32,
    audio: Option<(ArrayView2<f32>, u32)>,
) -> Result<()> {
    write_mp4_signed(path, frames, fps, audio, None)
}

/// [`write_mp4`], with a signed C2PA manifest embedded before the file is
/// renamed into place when `credentials` are given.
pub(crate) fn write_mp4_signed(
    path: &Path,
    frames: ArrayView4<u8>,
    fps: f32,
    audio: Option<(ArrayView2<f32>, u32)>,
    credentials: Option<&ClipCredentials>,
) -> Result<()> {
    let (t, h, w, c) = frames.dim();
    if t == 0 || h == 0 || w == 0 || c != 3 {
        return Err(Error::invalid(format!(
            "{}: frames must be [T, H, W, 3] with T, H, W > 0, got {:?}",
            path.display(),
            frames.shape()
        )));
    }
    check_video(path, w, h, fps)?;
    if let Some((a, sr)) = &audio {
        check_audio(path, a, *sr)?;
    }
    // Video and audio encode in parallel; the filler silence is made while muxing.
    let (video, sound) = rayon::join(
        || h264::encode(path, frames, fps),
        || audio.map(|(a, sr)| aac::encode(path, a, sr)).transpose(),
    );
    let (video, sound) = (video?, sound?);
    let (staged, file) = stage_file(path)?;
    mux_and_commit(staged, file, path, &video, (w, h), fps, sound, credentials)
}

/// An MP4 written while the clip is generated: each frame is H.264-encoded as
/// it arrives and its compressed sample appended to a temporary spool file
/// beside the target (audio is AAC-encoded as it arrives and kept in memory:
/// about 2 bits per sample); the file is muxed at [`Mp4Writer::finish`], which
/// copies the samples from the spool. Memory therefore does not grow with the
/// clip's length. Same format and bytes as [`write_mp4`] for the same frames
/// and audio, however they are split.
///
/// The temporary files are created by [`Mp4Writer::create`] (so an unwritable
/// folder fails before any work) and removed if the writer is dropped
/// unfinished (and the spool after muxing): nothing is ever left under the
/// final name but a whole file.
pub(crate) struct Mp4Writer {
    path: PathBuf,
    staged: Staged,
    file: File,
    size: (usize, usize),
    fps: f32,
    video: h264::H264Encoder,
    audio: Option<aac::AacEncoder>,
}

impl Mp4Writer {
    /// Opens a writer of `width`×`height` frames at `fps` (the rules of [`write_mp4`]).
    pub(crate) fn create(path: &Path, width: usize, height: usize, fps: f32) -> Result<Self> {
        check_video(path, width, height, fps)?;
        let (staged, file) = stage_file(path)?;
        let spool = h264::SampleStore::spool(path)?;
        Ok(Self {
            video: h264::H264Encoder::new(path, width, height, fps)?.with_store(spool),
            path: path.to_path_buf(),
            staged,
            file,
            size: (width, height),
            fps,
            audio: None,
        })
    }

    /// Frames encoded so far.
    pub(crate) fn frames(&self) -> usize {
        self.video.frames()
    }

    /// Encodes frames `[t, H, W, 3]`.
    pub(crate) fn push_frames(&mut self, frames: ArrayView4<u8>) -> Result<()> {
        for frame in frames.axis_iter(ndarray::Axis(0)) {
            self.video.push(frame)?;
        }
        Ok(())
    }

    /// Encodes audio `[C, S]` at `sample_rate` (every piece at the same rate
    /// and channel count).
    pub(crate) fn push_audio(&mut self, audio: ArrayView2<f32>, sample_rate: u32) -> Result<()> {
        check_audio(&self.path, &audio, sample_rate)?;
        let encoder = match &mut self.audio {
            Some(a) => a,
            None => self.audio.insert(aac::AacEncoder::new(
                &self.path,
                audio.nrows(),
                sample_rate,
            )?),
        };
        if encoder.sample_rate() != sample_rate || encoder.channels() != audio.nrows() {
            return Err(Error::invalid(format!(
                "{}: the audio changes from {} channels at {} Hz to {} at {sample_rate} Hz",
                self.path.display(),
                encoder.channels(),
                encoder.sample_rate(),
                audio.nrows()
            )));
        }
        encoder.push(audio)
    }

    /// Finishes both tracks, muxes the file, signs it when `credentials`
    /// are given, and renames it into place.
    pub(crate) fn finish(self, credentials: Option<&ClipCredentials>) -> Result<()> {
        let video = self.video.finish()?;
        let audio = self.audio.map(aac::AacEncoder::finish).transpose()?;
        mux_and_commit(
            self.staged,
            self.file,
            &self.path,
            &video,
            self.size,
            self.fps,
            audio,
            credentials,
        )
    }
}

/// Reads an MP4 (or QuickTime `.mov`) file: the first H.264 video track
/// (progressive; baseline, main or high as far as OpenH264 decodes them),
/// decoded to RGB `[T, H, W, 3]` in display order, and the first AAC audio
/// track decoded to `[C, S]` f32, trimmed by its edit list (priming and padding).
///
/// `fps` is the track's mean frame rate (sample count over total duration).
/// A filler-silence track written by [`write_mp4`] reads as `audio: None`
/// (`sample_rate` 0), as does a file without audio.
///
/// Errors: missing file → [`Error::Io`]; not MP4, truncated or corrupt →
/// [`Error::Media`]; other codecs (HEVC, AV1, Opus, …) or fragmented MP4 →
/// [`Error::Unsupported`].
pub fn read_mp4(path: &Path) -> Result<MediaClip> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let movie = demux::parse(path, &mut file)?;
    // The first H.264 track (files may carry other video tracks, e.g. cover art).
    let videos: Vec<&demux::Track> = movie
        .tracks
        .iter()
        .filter(|t| t.handler == *b"vide")
        .collect();
    let Some(first) = videos.first() else {
        return Err(Error::media(path, "the file has no video track"));
    };
    let Some(video) = videos
        .iter()
        .find(|t| matches!(t.codec, demux::Codec::Avc { .. }))
    else {
        return Err(Error::Unsupported(format!(
            "{}: video codec `{}` (only H.264 is read)",
            path.display(),
            codec_name(&first.codec)
        )));
    };
    let demux::Codec::Avc {
        length_size,
        parameter_sets,
    } = &video.codec
    else {
        return Err(Error::media(path, "internal: H.264 track without avcC"));
    };
    if video.samples.is_empty() {
        return Err(Error::media(path, "the video track has no frames"));
    }
    let total: u64 = video.samples.iter().map(|s| u64::from(s.duration)).sum();
    if total == 0 {
        return Err(Error::media(path, "the video track has zero duration"));
    }
    let fps = (video.samples.len() as f64 * f64::from(video.timescale) / total as f64) as f32;
    let config = h264::AvcConfig {
        length_size: *length_size,
        parameter_sets: parameter_sets.clone(),
    };
    let frames = {
        let file = &mut file;
        h264::decode(
            path,
            &config,
            video
                .samples
                .iter()
                .map(|s| demux::read_sample(path, file, s)),
        )?
    };

    let mut audio = None;
    let mut sample_rate = 0;
    let sounds: Vec<&demux::Track> = movie
        .tracks
        .iter()
        .filter(|t| t.handler == *b"soun" && !t.samples.is_empty())
        .collect();
    let aac_track = sounds
        .iter()
        .find(|t| matches!(t.codec, demux::Codec::Aac { .. }));
    if let (None, Some(first)) = (aac_track, sounds.first()) {
        return Err(Error::Unsupported(format!(
            "{}: audio codec `{}` (only AAC is read)",
            path.display(),
            codec_name(&first.codec)
        )));
    }
    if let Some(track) = aac_track.filter(|t| t.name != mux::SILENT_TRACK_NAME) {
        let demux::Codec::Aac { asc } = &track.codec else {
            return Err(Error::media(path, "internal: AAC track without config"));
        };
        let file = &mut file;
        let decoded = aac::decode(
            path,
            asc,
            track
                .samples
                .iter()
                .map(|s| demux::read_sample(path, file, s)),
        )?;
        let pcm = trim(decoded.pcm, decoded.sample_rate, track, movie.timescale);
        if pcm.ncols() > 0 {
            sample_rate = decoded.sample_rate;
            audio = Some(pcm);
        }
    }
    Ok(MediaClip {
        frames,
        fps,
        audio,
        sample_rate,
    })
}

/// A short name for a track's codec, for error messages.
fn codec_name(codec: &demux::Codec) -> &str {
    match codec {
        demux::Codec::Avc { .. } => "avc1",
        demux::Codec::Aac { .. } => "mp4a",
        demux::Codec::Other(name) => name,
    }
}

/// Applies the first non-empty edit of `track` to decoded audio: skips its
/// `media_time` (the encoder priming) and keeps its `segment_duration`.
fn trim(
    pcm: Array2<f32>,
    out_rate: u32,
    track: &demux::Track,
    movie_timescale: u32,
) -> Array2<f32> {
    let n = pcm.ncols();
    let Some(edit) = track.edits.iter().find(|e| e.media_time >= 0) else {
        return pcm;
    };
    let to_out = f64::from(out_rate) / f64::from(track.timescale);
    let start = ((edit.media_time as f64 * to_out).round() as usize).min(n);
    let len = if edit.segment_duration == 0 || movie_timescale == 0 {
        n - start
    } else {
        (edit.segment_duration as f64 * f64::from(out_rate) / f64::from(movie_timescale)).round()
            as usize
    };
    let end = start.saturating_add(len).min(n);
    pcm.slice(s![.., start..end]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::video_timebase;

    #[test]
    fn timebases_are_exact() {
        for (fps, expect) in [(16.0f32, 16.0f64), (24.0, 24.0), (30.0, 30.0), (12.5, 12.5)] {
            let (ts, d) = video_timebase(fps);
            assert!(ts >= 10_000);
            assert_eq!(f64::from(ts) / f64::from(d), expect, "{fps}");
        }
        let (ts, d) = video_timebase(23.976);
        assert_eq!((ts / 1000 * 1000, d), (ts, 1001));
        assert_eq!(ts, 24000);
    }
}
