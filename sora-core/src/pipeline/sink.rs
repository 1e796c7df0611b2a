//! Where a run's decoded output goes, chunk by chunk as the family decodes it:
//! into one preallocated in-memory clip ([`ArraySink`], no second copy and no
//! concatenation) or straight into a file or folder ([`FileSink`], through
//! [`ClipWriter`]), with a progress event per decoded chunk ([`Reporting`]).

use std::path::Path;
use std::time::Instant;

use ndarray::{Array2, Array4, ArrayView2, ArrayView4};
use tch::{Kind, Tensor};

use super::progress::{Phase, Progress};
use crate::family::FrameSink;
use crate::io::{ClipSpec, ClipWriter};
use crate::safety::guard::SafetySettings;
use crate::safety::identity::FrameSource;
use crate::safety::Marker;
use crate::{Error, Result};

/// What the loop needs to know of a sink once decoding is done.
pub(crate) trait Output: FrameSink {
    /// Frames received so far.
    fn frames_received(&self) -> usize;
    /// Whether any audio was received.
    fn has_audio(&self) -> bool;
    /// Seconds spent writing output rather than decoding (kept out of the
    /// decode timing, which measures decoding only in both paths).
    fn write_s(&self) -> f64 {
        0.0
    }
}

/// A decoded chunk `[t, H, W, 3]` as contiguous u8 on the CPU, checked against
/// the expected frame size; returns it with its frame count.
fn cpu_frames(chunk: &Tensor, width: usize, height: usize) -> Result<(Tensor, usize)> {
    let s = chunk.size();
    if s.len() != 4 || s[3] != 3 || s[1] != height as i64 || s[2] != width as i64 || s[0] < 0 {
        return Err(Error::Numeric(format!(
            "decoded frames have shape {s:?}, expected [T, {height}, {width}, 3]"
        )));
    }
    let t = chunk
        .f_to_device(tch::Device::Cpu)?
        .f_to_kind(Kind::Uint8)?
        .f_contiguous()?;
    Ok((t, s[0] as usize))
}

/// Decoded audio `[C, S]` as contiguous f32 on the CPU.
fn cpu_audio(audio: &Tensor) -> Result<(Tensor, usize, usize)> {
    let s = audio.size();
    if s.len() != 2 || s[0] < 1 || s[1] < 0 {
        return Err(Error::Numeric(format!(
            "decoded audio has shape {s:?}, expected [channels, samples]"
        )));
    }
    let t = audio
        .f_to_device(tch::Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?;
    Ok((t, s[0] as usize, s[1] as usize))
}

/// Collects a clip in memory: every chunk of frames is copied once, into one
/// buffer reserved for the whole clip up front.
pub(crate) struct ArraySink {
    data: Vec<u8>,
    frames: usize,
    width: usize,
    height: usize,
    audio: Vec<Tensor>,
    sample_rate: u32,
}

impl ArraySink {
    /// A sink for `frames` frames of `width`×`height` (more may come; the
    /// buffer then grows).
    pub(crate) fn new(width: u32, height: u32, frames: u32) -> Result<Self> {
        let (width, height) = (width as usize, height as usize);
        let bytes = (frames as usize)
            .checked_mul(height)
            .and_then(|v| v.checked_mul(width))
            .and_then(|v| v.checked_mul(3))
            .ok_or_else(|| Error::invalid("the clip is too large to hold in memory"))?;
        let mut data = Vec::new();
        data.try_reserve_exact(bytes).map_err(|_| {
            Error::Device(format!(
                "cannot allocate {} MiB for the clip's frames",
                bytes >> 20
            ))
        })?;
        Ok(Self {
            data,
            frames: 0,
            width,
            height,
            audio: Vec::new(),
            sample_rate: 0,
        })
    }

    /// The frames `[T, H, W, 3]`, the audio `[C, S]` (if any) and its rate.
    pub(crate) fn into_parts(self) -> Result<(Array4<u8>, Option<Array2<f32>>, u32)> {
        if self.frames == 0 {
            return Err(Error::Numeric("the decoder produced no frames".into()));
        }
        let frames = Array4::from_shape_vec((self.frames, self.height, self.width, 3), self.data)
            .map_err(|e| Error::Numeric(e.to_string()))?;
        let audio = if self.audio.is_empty() {
            None
        } else {
            let all = Tensor::f_cat(&self.audio, 1)?;
            let (all, c, n) = cpu_audio(&all)?;
            let data = Vec::<f32>::try_from(&all.f_flatten(0, -1)?)?;
            Some(Array2::from_shape_vec((c, n), data).map_err(|e| Error::Numeric(e.to_string()))?)
        };
        let rate = if audio.is_some() { self.sample_rate } else { 0 };
        Ok((frames, audio, rate))
    }
}

impl FrameSink for ArraySink {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        let (t, n) = cpu_frames(&frames, self.width, self.height)?;
        drop(frames);
        let bytes = n * self.height * self.width * 3;
        let start = self.data.len();
        self.data.resize(start + bytes, 0);
        t.f_copy_data(&mut self.data[start..], bytes)?;
        self.frames += n;
        Ok(())
    }

    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        self.audio.push(audio);
        self.sample_rate = sample_rate;
        Ok(())
    }
}

impl Output for ArraySink {
    fn frames_received(&self) -> usize {
        self.frames
    }
    fn has_audio(&self) -> bool {
        !self.audio.is_empty()
    }
}

/// A [`FrameSink`] that writes each decoded chunk straight into a file or
/// folder through an [`ClipWriter`] (MP4, WAV, a PNG folder or one image,
/// by the path's extension), so that a clip of any length is never held
/// whole. Used by [`super::Pipeline::generate_to_file`]; public so that a
/// decoder driven directly (e.g. a VAE in a benchmark) can stream the same way.
///
/// Frames arrive as u8 `[t, H, W, 3]` tensors (any device), audio as
/// `[C, S]` f32. Nothing appears under the path until [`FileSink::finish`];
/// dropping the sink unfinished removes what was staged.
pub struct FileSink {
    writer: ClipWriter,
    width: usize,
    height: usize,
    frames: usize,
    audio: bool,
    write_s: f64,
}

impl FileSink {
    /// Opens `path` for a clip described by `spec` (see [`ClipWriter::create`]
    /// for what is checked before any work).
    pub fn create(path: &Path, spec: &ClipSpec) -> Result<Self> {
        Ok(Self {
            writer: ClipWriter::create(path, spec)?,
            width: spec.width as usize,
            height: spec.height as usize,
            frames: 0,
            audio: false,
            write_s: 0.0,
        })
    }

    /// Frames received so far.
    pub fn frames_written(&self) -> usize {
        self.frames
    }

    /// The content credentials to embed in an MP4 or WAV output at
    /// [`FileSink::finish`] ([`ClipWriter::set_credentials`]).
    pub fn set_credentials(&mut self, credentials: Option<crate::safety::ClipCredentials>) {
        self.writer.set_credentials(credentials);
    }

    /// Completes the output (signing it when credentials are set) and moves
    /// it to its final name.
    pub fn finish(self) -> Result<()> {
        self.writer.finish()
    }
}

impl FrameSink for FileSink {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        let (t, n) = cpu_frames(&frames, self.width, self.height)?;
        drop(frames);
        let data = Vec::<u8>::try_from(&t.f_flatten(0, -1)?)?;
        drop(t);
        let view = ArrayView4::from_shape((n, self.height, self.width, 3), &data)
            .map_err(|e| Error::Numeric(e.to_string()))?;
        let started = Instant::now();
        self.writer.write_frames(view)?;
        self.write_s += started.elapsed().as_secs_f64();
        self.frames += n;
        Ok(())
    }

    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        let (t, c, n) = cpu_audio(&audio)?;
        let data = Vec::<f32>::try_from(&t.f_flatten(0, -1)?)?;
        let view =
            ArrayView2::from_shape((c, n), &data).map_err(|e| Error::Numeric(e.to_string()))?;
        let started = Instant::now();
        self.writer.write_audio(view, sample_rate)?;
        self.write_s += started.elapsed().as_secs_f64();
        self.audio = true;
        Ok(())
    }
}

impl Output for FileSink {
    fn frames_received(&self) -> usize {
        self.frames
    }
    fn has_audio(&self) -> bool {
        self.audio
    }
    fn write_s(&self) -> f64 {
        self.write_s
    }
}

/// Marks chunks with the clip's watermarks (when a [`Marker`] is given) and
/// passes them on to `inner`: frames are marked as they arrive, so a clip
/// written while decoding is marked without being held.
pub(crate) struct Marked<S> {
    pub inner: S,
    pub marker: Option<Marker>,
}

impl<S: Output> FrameSink for Marked<S> {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        let Some(marker) = self.marker.as_mut() else {
            return self.inner.frames(frames);
        };
        let s = frames.size();
        if s.len() != 4 {
            return self.inner.frames(frames);
        }
        let (t, n) = cpu_frames(&frames, s[2].max(0) as usize, s[1].max(0) as usize)?;
        drop(frames);
        let mut data = Vec::<u8>::try_from(&t.f_flatten(0, -1)?)?;
        drop(t);
        marker.mark_frames(&mut data, n);
        let marked = Tensor::f_from_slice(&data)?.f_view([s[0], s[1], s[2], s[3]])?;
        self.inner.frames(marked)
    }

    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        let Some(marker) = self.marker.as_mut() else {
            return self.inner.audio(audio, sample_rate);
        };
        let (t, c, n) = cpu_audio(&audio)?;
        let data = Vec::<f32>::try_from(&t.f_flatten(0, -1)?)?;
        let view =
            ArrayView2::from_shape((c, n), &data).map_err(|e| Error::Numeric(e.to_string()))?;
        let marked = marker.mark_audio(view, sample_rate)?;
        let flat: Vec<f32> = marked.iter().copied().collect();
        let out = Tensor::f_from_slice(&flat)?.f_view([c as i64, n as i64])?;
        self.inner.audio(out, sample_rate)
    }
}

impl<S: Output> Output for Marked<S> {
    fn frames_received(&self) -> usize {
        self.inner.frames_received()
    }
    fn has_audio(&self) -> bool {
        self.inner.has_audio()
    }
    fn write_s(&self) -> f64 {
        self.inner.write_s()
    }
}

/// Drops the first `skip` decoded frames and passes the rest on to `inner`:
/// an extension's window starts with the clip's tail (the overlap), whose
/// frames the output already has, unchanged, from the source.
pub(crate) struct Skipping<'s, S> {
    pub inner: &'s mut S,
    pub skip: usize,
}

impl<S: Output> FrameSink for Skipping<'_, S> {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        if self.skip == 0 {
            return self.inner.frames(frames);
        }
        let n = frames.size().first().copied().unwrap_or(0).max(0) as usize;
        if n <= self.skip {
            self.skip -= n;
            return Ok(());
        }
        let rest = frames.f_narrow(0, self.skip as i64, (n - self.skip) as i64)?;
        self.skip = 0;
        self.inner.frames(rest)
    }

    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        self.inner.audio(audio, sample_rate)
    }
}

impl<S: Output> Output for Skipping<'_, S> {
    fn frames_received(&self) -> usize {
        self.inner.frames_received()
    }
    fn has_audio(&self) -> bool {
        self.inner.has_audio()
    }
    fn write_s(&self) -> f64 {
        self.inner.write_s()
    }
}

/// Passes chunks on to `sink` and reports [`Phase::Decode`] progress after
/// each (step = frames so far, total = frames expected), so that a long
/// decode shows progress and can be cancelled from the callback.
pub(crate) struct Reporting<'r, 'p, S> {
    pub sink: &'r mut S,
    pub progress: &'r mut Progress<'p>,
    pub total: usize,
    pub started: Instant,
    /// The identity check to run on each chunk before it is kept, with the
    /// request's consents (`None`: no check installed).
    pub identity: Option<(&'r SafetySettings, &'r [String])>,
    /// The consent ids the identity check relied on so far.
    pub consents_used: Vec<String>,
}

impl<S: Output> FrameSink for Reporting<'_, '_, S> {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        let s = frames.size();
        // A chunk of the wrong shape is left for the sink to refuse.
        if let (Some((safety, consents)), [_, h, w, 3]) = (self.identity, s.as_slice()) {
            let (h, w) = ((*h).max(0) as usize, (*w).max(0) as usize);
            let (t, n) = cpu_frames(&frames, w, h)?;
            let data = Vec::<u8>::try_from(&t.f_flatten(0, -1)?)?;
            let view = ArrayView4::from_shape((n, h, w, 3), &data)
                .map_err(|e| Error::Numeric(e.to_string()))?;
            let first = self.sink.frames_received();
            for id in safety.check_frames_consents(view, FrameSource::Output { first }, consents)? {
                if !self.consents_used.contains(&id) {
                    self.consents_used.push(id);
                }
            }
        }
        self.sink.frames(frames)?;
        let done = self.sink.frames_received().min(self.total);
        self.progress
            .report(Phase::Decode, done, self.total, self.started)
    }

    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        self.sink.audio(audio, sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(first: u8, frames: i64, h: i64, w: i64) -> Tensor {
        Tensor::arange(frames * h * w * 3, (Kind::Int64, tch::Device::Cpu))
            .f_add_scalar(i64::from(first))
            .and_then(|t| t.f_remainder(256))
            .and_then(|t| t.f_to_kind(Kind::Uint8))
            .and_then(|t| t.f_view([frames, h, w, 3]))
            .unwrap()
    }

    #[test]
    fn array_sink_holds_the_chunks_in_order_once() {
        let mut sink = ArraySink::new(6, 4, 5).unwrap();
        let cap = sink.data.capacity();
        assert!(cap >= 5 * 4 * 6 * 3);
        let (a, b) = (chunk(0, 1, 4, 6), chunk(7, 4, 4, 6));
        sink.frames(a.shallow_clone()).unwrap();
        // A non-contiguous chunk (a transposed view) is copied in frame order too.
        let b_t = b.f_transpose(1, 2).unwrap().f_contiguous().unwrap();
        sink.frames(b_t.f_transpose(1, 2).unwrap()).unwrap();
        assert_eq!(sink.frames_received(), 5);
        assert_eq!(sink.data.capacity(), cap, "the buffer was not reallocated");
        let (frames, audio, rate) = sink.into_parts().unwrap();
        assert!(audio.is_none() && rate == 0);
        let want = Tensor::f_cat(&[a, b], 0).unwrap();
        let want = Vec::<u8>::try_from(&want.f_flatten(0, -1).unwrap()).unwrap();
        assert_eq!(frames.shape(), &[5, 4, 6, 3]);
        assert_eq!(frames.as_slice().unwrap(), want.as_slice());
    }

    #[test]
    fn sinks_refuse_chunks_of_the_wrong_shape() {
        let mut sink = ArraySink::new(6, 4, 5).unwrap();
        for bad in [chunk(0, 1, 4, 5), chunk(0, 1, 3, 6)] {
            let e = sink.frames(bad).unwrap_err();
            assert!(matches!(e, Error::Numeric(_)), "{e}");
        }
        let rgba = Tensor::zeros([1, 4, 6, 4], (Kind::Uint8, tch::Device::Cpu));
        assert!(matches!(sink.frames(rgba), Err(Error::Numeric(_))));
        assert!(matches!(sink.into_parts(), Err(Error::Numeric(_))));
    }

    #[test]
    fn skipping_drops_the_first_frames_across_chunks() {
        let mut sink = ArraySink::new(2, 2, 4).unwrap();
        {
            let mut skip = Skipping {
                inner: &mut sink,
                skip: 3,
            };
            skip.frames(chunk(0, 1, 2, 2)).unwrap();
            skip.frames(chunk(50, 4, 2, 2)).unwrap();
            skip.frames(chunk(100, 2, 2, 2)).unwrap();
            assert_eq!(skip.frames_received(), 4);
        }
        let (frames, _, _) = sink.into_parts().unwrap();
        // Frames 2 and 3 of the second chunk, then the third chunk.
        let want = Tensor::f_cat(
            &[chunk(50, 4, 2, 2).narrow(0, 2, 2), chunk(100, 2, 2, 2)],
            0,
        )
        .unwrap();
        let want = Vec::<u8>::try_from(&want.f_flatten(0, -1).unwrap()).unwrap();
        assert_eq!(frames.as_slice().unwrap(), want.as_slice());
    }

    #[test]
    fn array_sink_joins_audio_pieces() {
        let mut sink = ArraySink::new(2, 2, 1).unwrap();
        sink.frames(chunk(0, 1, 2, 2)).unwrap();
        let a = Tensor::from_slice(&[0.1f32, 0.2, 0.3, 0.4])
            .f_view([2, 2])
            .unwrap();
        let b = Tensor::from_slice(&[0.5f32, 0.6]).f_view([2, 1]).unwrap();
        sink.audio(a, 24_000).unwrap();
        sink.audio(b, 24_000).unwrap();
        assert!(sink.has_audio());
        let (_, audio, rate) = sink.into_parts().unwrap();
        assert_eq!(rate, 24_000);
        let audio = audio.unwrap();
        assert_eq!(audio.dim(), (2, 3));
        assert_eq!(audio.row(0).to_vec(), vec![0.1, 0.2, 0.5]);
        assert_eq!(audio.row(1).to_vec(), vec![0.3, 0.4, 0.6]);
    }
}
