//! AAC-LC audio through the `fdk-aac` crate (the Fraunhofer FDK AAC codec,
//! built from its vendored C++ source): encode `[C, S]` f32 into raw access
//! units (1024 samples each) and decode them back.
//!
//! The encoder delays its output by `priming` samples (its codec delay); the
//! MP4 writer records that delay and the true length in the track's edit list
//! so that every reader (ours, FFmpeg, players) trims it exactly.

use std::path::{Path, PathBuf};

use fdk_aac::enc::{
    AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport as EncTransport,
};
use fdk_aac_sys as fdk;
use ndarray::{Array2, ArrayView2};

use crate::io::wav::f32_to_i16;
use crate::{Error, Result};

/// The sample rates AAC can signal with a table index.
pub const AAC_SAMPLE_RATES: [u32; 12] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000,
];

/// AAC access units made by [`encode`], with what the muxer needs to know.
pub(crate) struct EncodedAudio {
    /// AudioSpecificConfig (goes into the `esds` box).
    pub asc: Vec<u8>,
    /// Raw AAC access units, one per `frame_len` samples.
    pub frames: Vec<Vec<u8>>,
    /// Samples per channel of codec delay at the start of the decoded stream.
    pub priming: u32,
    /// Samples per channel of real audio (after the priming).
    pub valid: u64,
    /// Samples per channel per access unit (1024).
    pub frame_len: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Hz.
    pub sample_rate: u32,
    /// Bits per second asked of the encoder.
    pub bitrate: u32,
}

impl EncodedAudio {
    /// Size of the largest access unit in bytes.
    pub fn max_frame_bytes(&self) -> u32 {
        self.frames.iter().map(|f| f.len()).max().unwrap_or(0) as u32
    }
}

/// An AAC-LC encoder fed audio piece by piece: it keeps the pending PCM of
/// less than one access unit and the compressed access units, nothing else.
/// The encoder is called with exactly the same input slices whether the audio
/// comes whole ([`encode`]) or in pieces, so both give the same bytes.
pub(crate) struct AacEncoder {
    encoder: Encoder,
    path: PathBuf,
    asc: Vec<u8>,
    frame_len: usize,
    priming: usize,
    channels: usize,
    sample_rate: u32,
    bitrate: u32,
    /// Interleaved i16 samples not yet consumed by the encoder.
    pcm: Vec<i16>,
    /// Samples per channel received.
    received: u64,
    out: Vec<u8>,
    frames: Vec<Vec<u8>>,
    calls: usize,
}

impl AacEncoder {
    /// An encoder for `channels` (1 or 2) at `sample_rate` (one of
    /// [`AAC_SAMPLE_RATES`]); `path` names the output in error messages.
    pub(crate) fn new(path: &Path, channels: usize, sample_rate: u32) -> Result<Self> {
        let mode = match channels {
            1 => ChannelMode::Mono,
            2 => ChannelMode::Stereo,
            c => {
                return Err(Error::invalid(format!(
                    "{}: the AAC writer takes mono or stereo audio, got {c} channels",
                    path.display()
                )))
            }
        };
        if !AAC_SAMPLE_RATES.contains(&sample_rate) {
            return Err(Error::invalid(format!(
                "{}: AAC cannot store {sample_rate} Hz audio (supported: {AAC_SAMPLE_RATES:?}); resample it first",
                path.display()
            )));
        }
        // About 2 bits per sample and channel: transparent for generated audio, and
        // within the AAC-LC limit of 6 bits per sample and channel.
        let bitrate = (u64::from(sample_rate) * channels as u64 * 2).min(320_000) as u32;
        let enc_err = |what: &str, e: fdk_aac::enc::EncoderError| {
            Error::media(path, format!("AAC encoder {what}: {e}"))
        };
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(bitrate),
            sample_rate,
            transport: EncTransport::Raw,
            channels: mode,
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .map_err(|e| enc_err("setup", e))?;
        let info = encoder.info().map_err(|e| enc_err("info", e))?;
        let frame_len = info.frameLength as usize;
        let priming = info.nDelay as usize;
        let conf_len = (info.confSize as usize).min(info.confBuf.len());
        if frame_len == 0 || conf_len == 0 {
            return Err(Error::media(
                path,
                "AAC encoder reported no frame length or no config",
            ));
        }
        Ok(Self {
            asc: info.confBuf[..conf_len].to_vec(),
            out: vec![0u8; (info.maxOutBufBytes as usize).max(8192)],
            encoder,
            path: path.to_path_buf(),
            frame_len,
            priming,
            channels,
            sample_rate,
            bitrate,
            pcm: Vec::new(),
            received: 0,
            frames: Vec::new(),
            calls: 0,
        })
    }

    /// Channels the encoder was opened for.
    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate the encoder was opened for.
    pub(crate) fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Appends audio `[C, S]` (the encoder's channel count) and encodes every
    /// whole access unit it completes.
    pub(crate) fn push(&mut self, audio: ArrayView2<f32>) -> Result<()> {
        let (channels, n) = audio.dim();
        if channels != self.channels {
            return Err(Error::invalid(format!(
                "{}: the audio has {} channels, then {channels}",
                self.path.display(),
                self.channels
            )));
        }
        self.pcm.reserve(n * channels);
        for s in 0..n {
            for c in 0..channels {
                self.pcm.push(f32_to_i16(audio[[c, s]]));
            }
        }
        self.received += n as u64;
        self.encode_whole_units()
    }

    /// Appends `n` samples per channel of silence.
    pub(crate) fn push_silence(&mut self, n: usize) -> Result<()> {
        self.pcm.resize(self.pcm.len() + n * self.channels, 0);
        self.received += n as u64;
        self.encode_whole_units()
    }

    /// One encoder call on `input` (interleaved); returns the samples it consumed.
    fn call(&mut self, input: &[i16]) -> Result<usize> {
        self.calls += 1;
        let r = self
            .encoder
            .encode(input, &mut self.out)
            .map_err(|e| Error::media(&self.path, format!("AAC encoder failed: {e}")))?;
        if r.output_size > 0 {
            self.frames
                .push(self.out[..r.output_size.min(self.out.len())].to_vec());
        }
        Ok(r.input_consumed)
    }

    /// Feeds the encoder whole access units of pending PCM, as many as there are.
    fn encode_whole_units(&mut self) -> Result<()> {
        let chunk = self.frame_len * self.channels;
        let mut pos = 0;
        let mut stalled = 0;
        while self.pcm.len() - pos >= chunk {
            let input = std::mem::take(&mut self.pcm);
            let used = self.call(&input[pos..pos + chunk]);
            self.pcm = input;
            let used = used?;
            pos += used;
            stalled = if used == 0 { stalled + 1 } else { 0 };
            if stalled > 64 {
                return Err(Error::media(&self.path, "AAC encoder takes no more input"));
            }
        }
        self.pcm.drain(..pos);
        Ok(())
    }

    /// Encodes the rest (padded with silence so that every real sample lies in a
    /// whole access unit) and returns the access units.
    pub(crate) fn finish(mut self) -> Result<EncodedAudio> {
        let n = self.received as usize;
        let needed = (self.priming + n).div_ceil(self.frame_len);
        let chunk = self.frame_len * self.channels;
        let zeros = vec![0i16; chunk];
        let mut pos = 0;
        while self.frames.len() < needed {
            if self.calls > needed + 64 {
                return Err(Error::media(
                    &self.path,
                    "AAC encoder stopped producing frames",
                ));
            }
            if pos < self.pcm.len() {
                let input = std::mem::take(&mut self.pcm);
                let used = self.call(&input[pos..(pos + chunk).min(input.len())]);
                self.pcm = input;
                pos += used?;
            } else {
                self.call(&zeros)?;
            }
        }
        Ok(EncodedAudio {
            asc: self.asc,
            frames: self.frames,
            priming: self.priming as u32,
            valid: n as u64,
            frame_len: self.frame_len as u32,
            channels: self.channels as u16,
            sample_rate: self.sample_rate,
            bitrate: self.bitrate,
        })
    }
}

/// Encodes `audio` `[C, S]` (C = 1 or 2) at `sample_rate` as AAC-LC with
/// [`AacEncoder`]. Silence is padded at the end so that every real sample lies
/// in a whole access unit.
pub(crate) fn encode(
    path: &Path,
    audio: ArrayView2<f32>,
    sample_rate: u32,
) -> Result<EncodedAudio> {
    let mut encoder = AacEncoder::new(path, audio.nrows(), sample_rate)?;
    encoder.push(audio)?;
    encoder.finish()
}

/// Audio decoded by [`decode`]: everything the access units hold, priming included.
pub(crate) struct DecodedAudio {
    /// `[C, S]` in [-1, 1).
    pub pcm: Array2<f32>,
    /// Output sample rate in Hz.
    pub sample_rate: u32,
}

/// The FDK AAC decoder, opened for raw access units with its output limiter
/// off. (The `fdk-aac` crate's decoder cannot turn the limiter off or flush;
/// the limiter delays the output by ~1700 samples, which would lose the end.)
struct FdkDecoder {
    handle: fdk::HANDLE_AACDECODER,
}

impl FdkDecoder {
    fn open(asc: &[u8]) -> std::result::Result<Self, String> {
        // SAFETY: plain constructor; a null handle is checked below.
        let handle = unsafe { fdk::aacDecoder_Open(fdk::TRANSPORT_TYPE_TT_MP4_RAW, 1) };
        if handle.is_null() {
            return Err("cannot open the decoder".into());
        }
        let dec = FdkDecoder { handle };
        let mut conf = asc.as_ptr().cast_mut();
        let len = asc.len() as u32;
        // SAFETY: `conf` points to `len` readable bytes that outlive the call;
        // the decoder only reads them.
        check(
            unsafe { fdk::aacDecoder_ConfigRaw(dec.handle, &mut conf, &len) },
            "config",
        )?;
        // SAFETY: valid handle; parameter and value from the library's header.
        check(
            unsafe {
                fdk::aacDecoder_SetParam(dec.handle, fdk::AACDEC_PARAM_AAC_PCM_LIMITER_ENABLE, 0)
            },
            "limiter",
        )?;
        Ok(dec)
    }

    /// Feeds one access unit.
    fn fill(&mut self, mut data: &[u8]) -> std::result::Result<(), String> {
        while !data.is_empty() {
            let mut ptr = data.as_ptr().cast_mut();
            let size = data.len() as u32;
            let mut valid = size;
            // SAFETY: `ptr` points to `size` readable bytes; the decoder copies
            // them into its own buffer and reports how many it left (`valid`).
            check(
                unsafe { fdk::aacDecoder_Fill(self.handle, &mut ptr, &size, &mut valid) },
                "input",
            )?;
            let used = (size - valid.min(size)) as usize;
            if used == 0 {
                return Err("the decoder takes no more input".into());
            }
            data = &data[used..];
        }
        Ok(())
    }

    /// Decodes one frame into `pcm` (interleaved); `Ok(false)` when it needs more input.
    fn decode(&mut self, pcm: &mut [i16], flush: bool) -> std::result::Result<bool, String> {
        let flags = if flush { fdk::AACDEC_FLUSH } else { 0 };
        // SAFETY: `pcm` is writable for `pcm.len()` samples, which the decoder respects.
        let e = unsafe {
            fdk::aacDecoder_DecodeFrame(self.handle, pcm.as_mut_ptr(), pcm.len() as i32, flags)
        };
        if e == fdk::AAC_DECODER_ERROR_AAC_DEC_NOT_ENOUGH_BITS {
            return Ok(false);
        }
        check(e, "decode")?;
        Ok(true)
    }

    /// `(channels, sample rate, samples per channel in the last frame, output delay)`.
    fn info(&self) -> (usize, u32, usize, usize) {
        // SAFETY: valid handle; the library returns a pointer to its own
        // stream info (or null), read before the next call into the decoder.
        let info = unsafe { fdk::aacDecoder_GetStreamInfo(self.handle).as_ref() };
        info.map_or((0, 0, 0, 0), |i| {
            (
                i.numChannels.max(0) as usize,
                i.sampleRate.max(0) as u32,
                i.frameSize.max(0) as usize,
                i.outputDelay as usize,
            )
        })
    }
}

impl Drop for FdkDecoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from aacDecoder_Open and is closed once.
        unsafe { fdk::aacDecoder_Close(self.handle) }
    }
}

fn check(e: fdk::AAC_DECODER_ERROR, what: &str) -> std::result::Result<(), String> {
    if e == fdk::AAC_DECODER_ERROR_AAC_DEC_OK {
        Ok(())
    } else {
        Err(format!("{what} failed (FDK error 0x{e:x})"))
    }
}

/// Appends the frame the decoder just produced to `out`, checking that the
/// channel count and rate stay those of the first frame (`layout`); returns the
/// decoder's output delay in samples per channel.
fn keep(
    path: &Path,
    decoder: &FdkDecoder,
    buf: &[i16],
    layout: &mut Option<(usize, u32)>,
    out: &mut Vec<i16>,
) -> Result<usize> {
    let (ch, sr, n, delay) = decoder.info();
    if ch == 0 || sr == 0 || ch * n > buf.len() {
        return Err(Error::media(path, "AAC decoder reported an invalid frame"));
    }
    match *layout {
        None => *layout = Some((ch, sr)),
        Some(l) if l != (ch, sr) => {
            return Err(Error::Unsupported(format!(
                "{}: AAC stream changes channels or sample rate mid-stream",
                path.display()
            )))
        }
        Some(_) => {}
    }
    out.extend_from_slice(&buf[..ch * n]);
    Ok(delay)
}

/// Decodes raw AAC access units configured by the AudioSpecificConfig `asc`.
/// Any output delay the decoder reports is removed (and flushed at the end),
/// so sample `i` of the result is sample `i` of the encoder's output stream.
pub(crate) fn decode<I>(path: &Path, asc: &[u8], frames: I) -> Result<DecodedAudio>
where
    I: IntoIterator<Item = Result<Vec<u8>>>,
{
    let err = |m: String| Error::media(path, format!("AAC decoder: {m}"));
    let mut decoder = FdkDecoder::open(asc).map_err(err)?;
    let mut buf = vec![0i16; 8 * 4096];
    let mut interleaved: Vec<i16> = Vec::new();
    let mut layout: Option<(usize, u32)> = None;
    let mut delay = 0usize;
    for frame in frames {
        decoder.fill(&frame?).map_err(err)?;
        if decoder.decode(&mut buf, false).map_err(err)? {
            delay = keep(path, &decoder, &buf, &mut layout, &mut interleaved)?;
        }
    }
    let Some((ch, sr)) = layout else {
        return Err(Error::media(path, "the AAC track decodes to no audio"));
    };
    // Drain the decoder's delay line, if it has one.
    let target = interleaved.len() + delay * ch;
    while interleaved.len() < target {
        if !decoder.decode(&mut buf, true).map_err(err)? {
            break;
        }
        let before = interleaved.len();
        keep(path, &decoder, &buf, &mut layout, &mut interleaved)?;
        if interleaved.len() == before {
            break;
        }
    }
    let start = (delay * ch).min(interleaved.len());
    let end = target.min(interleaved.len()).max(start);
    let samples = &interleaved[start..end];
    let n = samples.len() / ch;
    let mut pcm = Array2::<f32>::zeros((ch, n));
    for (i, v) in samples.iter().take(n * ch).enumerate() {
        pcm[[i % ch, i / ch]] = f32::from(*v) / 32768.0;
    }
    Ok(DecodedAudio {
        pcm,
        sample_rate: sr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    fn noise(channels: usize, n: usize) -> Array2<f32> {
        let mut x: u32 = 12345;
        Array2::from_shape_fn((channels, n), |_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
    }

    #[test]
    fn pieces_encode_to_the_same_access_units_as_the_whole() {
        let path = Path::new("test.mp4");
        for (channels, rate) in [(1, 48_000), (2, 22_050)] {
            let audio = noise(channels, 5 * 1024 + 333);
            let whole = encode(path, audio.view(), rate).unwrap();
            let mut enc = AacEncoder::new(path, channels, rate).unwrap();
            let mut at = 0;
            for n in [1usize, 1023, 1024, 2000, 7, 10_000] {
                let end = (at + n).min(audio.ncols());
                enc.push(audio.slice(s![.., at..end])).unwrap();
                at = end;
            }
            let pieces = enc.finish().unwrap();
            assert_eq!(whole.frames, pieces.frames, "{channels} ch at {rate} Hz");
            assert_eq!((whole.priming, whole.valid), (pieces.priming, pieces.valid));
            assert_eq!(whole.asc, pieces.asc);
            // Silence pushed in pieces equals silence pushed whole.
            let zeros = Array2::<f32>::zeros((channels, 4000));
            let whole = encode(path, zeros.view(), rate).unwrap();
            let mut enc = AacEncoder::new(path, channels, rate).unwrap();
            enc.push_silence(1500).unwrap();
            enc.push_silence(2500).unwrap();
            assert_eq!(whole.frames, enc.finish().unwrap().frames);
        }
    }

    #[test]
    fn bad_layouts_are_invalid_requests() {
        let path = Path::new("test.mp4");
        assert!(matches!(
            AacEncoder::new(path, 3, 48_000),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            AacEncoder::new(path, 1, 12_345),
            Err(Error::InvalidRequest(_))
        ));
        let mut enc = AacEncoder::new(path, 1, 48_000).unwrap();
        let e = enc.push(noise(2, 100).view()).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    }
}
