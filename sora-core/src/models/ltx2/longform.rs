//! LTX-2's long-form decode: the windows' latents, handed on part by part
//! ([`crate::pipeline::longform`]), decoded as one stream with bounded
//! memory. LTX-2's video decoder is not causal (no cache carries one part's
//! state into the next, as Wan's does), so each part is decoded with the last
//! latent frames before it as context, and the seam is crossfaded: the last
//! latent frame's pixels of every part are held back, and blended into the
//! next part's decode of the same frames (which sees what follows them).
//! The sound goes the same way: audio latents decoded with the ones before
//! them as context (the audio VAE and vocoder run on the whole part), the
//! last samples held back and crossfaded into the next part's.
//!
//! Global positions: a decode of latents starting at global latent frame
//! `g0` starts at global frame `temporal · g0` (its first latent frame is
//! decoded as one frame, the last of that latent frame's group), and a
//! decode of audio latents starting at `a0` starts at mel frame `4 · a0`
//! (the same rule at the audio VAE's ×4). [`SeamStream`] places each decoded
//! part by that offset, drops what was already written and crossfades what
//! was held back.

use tch::{Kind, Tensor};

use super::audio_tail::SeamStitch;
use super::audio_vae::Ltx2AudioVae;
use super::geometry::AUDIO_COMPRESSION;
use super::params::decode_settings;
use super::video_vae::{DecodeConditioning, Ltx2VideoVae};
use super::vocoder::Ltx2Vocoder;
use crate::denoise::latents::Latents;
use crate::family::FrameSink;
use crate::pipeline::longform::window_seed;
use crate::pipeline::noise::Noise;
use crate::pipeline::request::Resolved;
use crate::{Error, Result};

/// Latent frames before a part decoded with it as context.
pub const VIDEO_CONTEXT: i64 = 2;
/// Audio latents before a part decoded with it as context.
pub const AUDIO_CONTEXT: i64 = 4;
/// Audio latents at the end of a part whose samples are held back for the seam.
pub const AUDIO_HOLD: i64 = 2;

/// A stream of decoded parts along one axis (frames, samples), each placed
/// at its global offset: what was already written is dropped, what was held
/// back is crossfaded into the part's own version (linearly, the new part
/// weighing `(j + 1)/(k + 1)` at held element `j` of `k`), and the part's
/// last elements are held back for the next part unless it is the last.
#[derive(Debug)]
pub struct SeamStream {
    axis: i64,
    emitted: i64,
    held: Option<Tensor>,
}

impl SeamStream {
    /// A stream along `axis` of the parts, nothing written yet.
    pub fn new(axis: i64) -> Self {
        Self {
            axis,
            emitted: 0,
            held: None,
        }
    }

    /// Elements written so far (the global index of the next one).
    pub fn emitted(&self) -> i64 {
        self.emitted
    }

    /// Takes a part whose element 0 sits at global index `offset`; returns
    /// the elements to write now (`None` when all are held back), holding
    /// back the last `hold` unless `last`.
    pub fn push(
        &mut self,
        part: &Tensor,
        offset: i64,
        hold: i64,
        last: bool,
    ) -> Result<Option<Tensor>> {
        let axis = self.axis;
        let n = part.size().get(axis as usize).copied().unwrap_or(0);
        let skip = self.emitted - offset;
        if skip < 0 || skip > n {
            return Err(Error::Numeric(format!(
                "a decoded part of {n} at {offset} does not continue the {} written",
                self.emitted
            )));
        }
        let len = n - skip;
        let mut rest = part.f_narrow(axis, skip, len)?;
        if let Some(held) = self.held.take() {
            let k = held.size().get(axis as usize).copied().unwrap_or(0);
            if k > len {
                return Err(Error::Numeric(format!(
                    "a decoded part covers {len} of the {k} held back for its seam"
                )));
            }
            let mut shape = vec![1i64; rest.dim()];
            shape[axis as usize] = k;
            let w = Tensor::f_arange_start(1, k + 1, (Kind::Float, rest.device()))?
                .f_div_scalar((k + 1) as f64)?
                .f_view(shape.as_slice())?;
            let fresh = rest.f_narrow(axis, 0, k)?.f_to_kind(Kind::Float)?;
            let old = held.f_to_device(rest.device())?.f_to_kind(Kind::Float)?;
            let blended = old
                .f_mul(&w.f_rsub_scalar(1.0)?)?
                .f_add(&fresh.f_mul(&w)?)?;
            rest = Tensor::f_cat(
                &[
                    blended,
                    rest.f_narrow(axis, k, len - k)?.f_to_kind(Kind::Float)?,
                ],
                axis,
            )?;
        }
        let keep = if last { 0 } else { hold.clamp(0, len) };
        if keep > 0 {
            self.held = Some(rest.f_narrow(axis, len - keep, keep)?.f_detach_copy()?);
        }
        let out = len - keep;
        self.emitted += out;
        if out == 0 {
            return Ok(None);
        }
        Ok(Some(rest.f_narrow(axis, 0, out)?))
    }
}

/// The decode stream of one long-form run (dropped at its end).
#[derive(Debug)]
pub struct LongformDecode {
    video_context: Option<Tensor>,
    next_latent: i64,
    frames: SeamStream,
    audio_context: Option<Tensor>,
    next_audio: i64,
    samples: SeamStream,
    /// An extension's track: the source's samples, then the decoded ones.
    audio_seam: Option<SeamStitch>,
}

impl Default for LongformDecode {
    fn default() -> Self {
        Self {
            video_context: None,
            next_latent: 0,
            frames: SeamStream::new(2),
            audio_context: None,
            next_audio: 0,
            samples: SeamStream::new(1),
            audio_seam: None,
        }
    }
}

/// The models a part is decoded with.
pub struct Decoders<'a> {
    /// The video VAE.
    pub vae: &'a Ltx2VideoVae,
    /// The audio VAE.
    pub audio_vae: &'a Ltx2AudioVae,
    /// The vocoder.
    pub vocoder: &'a Ltx2Vocoder,
}

/// A decoded track: samples `[channels, n]` (f32, on the CPU) at `rate`,
/// from `mel_frames` mel frames.
pub struct Sound {
    /// The waveform `[channels, samples]`.
    pub wave: Tensor,
    /// Mel frames the audio VAE decoded (the vocoder's input length).
    pub mel_frames: i64,
    /// The vocoder's sample rate.
    pub rate: u32,
}

impl Decoders<'_> {
    /// What `LTX2Pipeline` does with normalised packed audio latents
    /// `[1, L, C·M]`: the audio VAE's mel spectrogram, then the vocoder's
    /// waveform.
    pub fn sound(&self, packed: &Tensor) -> Result<Sound> {
        let mel = self
            .audio_vae
            .decode_packed(&packed.f_to_kind(Kind::Float)?)?;
        let wave = self
            .vocoder
            .forward(&mel)?
            .f_squeeze_dim(0)?
            .f_to_kind(Kind::Float)?
            .f_to_device(tch::Device::Cpu)?;
        let rate = self.vocoder.track_rate()?;
        Ok(Sound {
            wave,
            mel_frames: mel.size().get(2).copied().unwrap_or(0),
            rate,
        })
    }
}

/// `context` (the last latents before the part, `None` at the start)
/// followed by `part`, along `axis`; and how many context latents lead.
fn with_context(context: &Option<Tensor>, part: &Tensor, axis: i64) -> Result<(Tensor, i64)> {
    Ok(match context {
        Some(c) => (
            Tensor::f_cat(&[c.shallow_clone(), part.shallow_clone()], axis)?,
            c.size()[axis as usize],
        ),
        None => (part.shallow_clone(), 0),
    })
}

/// The last `keep` latents of `z` along `axis`, copied.
fn last_of(z: &Tensor, keep: i64, axis: i64) -> Result<Tensor> {
    let n = z.size()[axis as usize];
    let k = keep.min(n);
    Ok(z.f_narrow(axis, n - k, k)?.f_detach_copy()?)
}

impl LongformDecode {
    /// Whether nothing has been decoded yet.
    pub fn is_fresh(&self) -> bool {
        self.next_latent == 0 && self.next_audio == 0
    }

    /// Makes the stream's track an extension's: the clip's own samples up
    /// to the seam, then the decoded ones (the first window is the
    /// extension's, whose sound starts in the clip's overlap), faded across
    /// the seam ([`SeamStitch`]).
    pub fn stitch_audio(&mut self, seam: SeamStitch) {
        self.audio_seam = Some(seam);
    }

    /// Decodes one part of window `req` (normalised latents in the window
    /// layout: video `[1, C, n, h, w]`, audio `[1, n, D]` or `None`) into
    /// `sink`; `last` writes what the stream held back.
    pub fn decode(
        &mut self,
        dec: &Decoders<'_>,
        req: &Resolved,
        part: &Latents,
        last: bool,
        to_frames: &dyn Fn(&Tensor) -> Result<Tensor>,
        sink: &mut dyn FrameSink,
    ) -> Result<()> {
        let new = part.video.f_to_kind(Kind::Float)?;
        let n = new.size().get(2).copied().unwrap_or(0);
        let (z, ctx) = with_context(&self.video_context, &new, 2)?;
        let g0 = self.next_latent - ctx;
        // A timestep-conditioned VAE mixes noise into the latents: drawn
        // per part from the window's seed (same request, same clip).
        let cond = if dec.vae.timestep_conditioning() {
            let (timestep, scale) = decode_settings(req);
            let seed = window_seed(req.seed, (self.next_latent as usize).wrapping_add(1 << 20));
            Some(DecodeConditioning {
                timestep: vec![timestep],
                noise_scale: vec![scale],
                noise: Noise::new(seed).randn(&z.size())?.f_to_device(z.device())?,
            })
        } else {
            None
        };
        let mut decoded = Vec::new();
        dec.vae
            .decode_latents_streaming(&z, cond.as_ref(), &mut |v: Tensor| {
                decoded.push(v);
                Ok(())
            })?;
        let video = Tensor::f_cat(&decoded, 2)?;
        drop(decoded);
        let temporal = dec.vae.temporal_compression_ratio();
        if let Some(out) = self.frames.push(&video, temporal * g0, temporal, last)? {
            sink.frames(to_frames(&out)?)?;
        }
        drop(video);
        self.video_context = Some(last_of(&z, VIDEO_CONTEXT, 2)?);
        self.next_latent += n;

        let Some(audio) = &part.audio else {
            return Ok(());
        };
        let new = audio.f_to_kind(Kind::Float)?;
        let n = new.size().get(1).copied().unwrap_or(0);
        if n == 0 {
            return Ok(());
        }
        let (za, ctx) = with_context(&self.audio_context, &new, 1)?;
        let a0 = self.next_audio - ctx;
        let sound = dec.sound(&za)?;
        let samples = sound.wave.size().get(1).copied().unwrap_or(0);
        // Samples per mel frame (the vocoder's hop at its rate).
        let per = samples as f64 / sound.mel_frames.max(1) as f64;
        let offset = (AUDIO_COMPRESSION as f64 * a0 as f64 * per).round() as i64;
        let hold = (AUDIO_COMPRESSION as f64 * AUDIO_HOLD as f64 * per).round() as i64;
        if let Some(out) = self.samples.push(&sound.wave, offset, hold, last)? {
            let out = match &mut self.audio_seam {
                Some(seam) => seam.push(&out)?,
                None => out,
            };
            if out.size().get(1).is_some_and(|n| *n > 0) {
                sink.audio(out, sound.rate)?;
            }
        }
        // An extension's track ends with its picture, as one walk's does.
        if let (true, Some(seam)) = (last, &self.audio_seam) {
            let secs = self.frames.emitted() as f64 / f64::from(req.fps.max(1));
            if let Some(pad) = seam.finish(secs)? {
                sink.audio(pad, sound.rate)?;
            }
        }
        self.audio_context = Some(last_of(&za, AUDIO_CONTEXT, 1)?);
        self.next_audio += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(from: i64, n: i64) -> Tensor {
        Tensor::arange_start(from, from + n, (Kind::Float, tch::Device::Cpu)).view([1, n])
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(&t.flatten(0, -1)).unwrap()
    }

    #[test]
    fn parts_at_their_offsets_make_one_sequence() {
        // Parts of the global ramp 0, 1, 2, …: overlapping copies agree, so
        // the crossfade changes nothing and the stream is the ramp itself.
        let mut s = SeamStream::new(1);
        let mut out = Vec::new();
        for (offset, n, last) in [(0, 9, false), (5, 10, false), (12, 6, true)] {
            if let Some(t) = s.push(&seq(offset, n), offset, 3, last).unwrap() {
                out.extend(values(&t));
            }
        }
        let want: Vec<f32> = (0..18).map(|v| v as f32).collect();
        assert_eq!(out, want);
        assert_eq!(s.emitted(), 18);
    }

    #[test]
    fn held_elements_are_crossfaded_into_the_next_part() {
        let mut s = SeamStream::new(1);
        let a = s
            .push(
                &Tensor::zeros([1, 4], (Kind::Float, tch::Device::Cpu)),
                0,
                3,
                false,
            )
            .unwrap()
            .unwrap();
        assert_eq!(values(&a), vec![0.0]);
        let b = s
            .push(
                &Tensor::ones([1, 5], (Kind::Float, tch::Device::Cpu)),
                1,
                0,
                true,
            )
            .unwrap()
            .unwrap();
        // Held zeros at 1..4 fade into the ones: 1/4, 2/4, 3/4, then 1.
        assert_eq!(values(&b), vec![0.25, 0.5, 0.75, 1.0, 1.0]);
    }

    #[test]
    fn a_gap_or_a_part_behind_the_stream_is_an_error() {
        let mut s = SeamStream::new(1);
        s.push(&seq(0, 4), 0, 0, false).unwrap();
        assert!(s.push(&seq(6, 4), 6, 0, false).is_err());
        assert!(s.push(&seq(0, 2), -3, 0, false).is_err());
        // A part that does not cover what was held back.
        let mut s = SeamStream::new(1);
        s.push(&seq(0, 6), 0, 4, false).unwrap();
        assert!(s.push(&seq(2, 3), 2, 0, true).is_err());
    }
}
