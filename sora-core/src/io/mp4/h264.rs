//! H.264 video through the `openh264` crate (Cisco's OpenH264, built from its
//! vendored source): RGB frames → length-prefixed NAL units plus SPS/PPS for the
//! `avcC` box, and MP4 samples → RGB frames.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array3, Array4, ArrayView3, ArrayView4, Axis};
use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameType, IntraFramePeriod, Profile, QpRange,
    RateControlMode, VuiConfig,
};
use openh264::formats::{YUVBuffer, YUVSource};
use openh264::{OpenH264API, Timestamp};

use super::yuv::{i420_to_rgb, rgb_to_i420, Planes};
use crate::io::atomic::Staged;
use crate::{Error, Result};

/// The largest quantiser the encoder may use: keeps every frame close to its
/// source (a round trip of smooth content stays within a few levels).
const MAX_QP: u8 = 24;

/// H.264 access units made by [`encode`] or [`H264Encoder`].
pub(crate) struct EncodedVideo {
    /// Sequence parameter set (NAL unit without start code).
    pub sps: Vec<u8>,
    /// Picture parameter set.
    pub pps: Vec<u8>,
    /// Byte size of each sample (one per frame).
    pub sizes: Vec<u32>,
    /// Whether each sample is an IDR (sync) frame.
    pub sync: Vec<bool>,
    /// The samples: NAL units each prefixed by a 4-byte big-endian length.
    pub store: SampleStore,
}

/// Where the compressed samples of an [`EncodedVideo`] are kept.
pub(crate) enum SampleStore {
    /// In memory, one buffer per sample (whole-clip writes).
    Memory(Vec<Vec<u8>>),
    /// Appended to a temporary spool file (streamed writes), so that memory
    /// does not grow with the clip's length; removed when dropped.
    Spool {
        /// The spool file, opened for reading and writing.
        file: File,
        /// Its staged name (never committed: dropping it removes the file).
        staged: Staged,
        /// Byte offset of each sample in the file.
        offsets: Vec<u64>,
        /// Bytes written so far.
        len: u64,
    },
}

impl SampleStore {
    /// A spool in a new temporary file next to `target`.
    pub(crate) fn spool(target: &Path) -> Result<Self> {
        let staged = Staged::file(target)?;
        let tmp = staged.path();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(|e| Error::io(target, e))?;
        Ok(SampleStore::Spool {
            file,
            staged,
            offsets: Vec::new(),
            len: 0,
        })
    }

    fn push(&mut self, sample: Vec<u8>) -> Result<()> {
        match self {
            SampleStore::Memory(v) => v.push(sample),
            SampleStore::Spool {
                file,
                staged,
                offsets,
                len,
            } => {
                (&*file)
                    .write_all(&sample)
                    .map_err(|e| Error::io(staged.target(), e))?;
                offsets.push(*len);
                *len += sample.len() as u64;
            }
        }
        Ok(())
    }

    /// Writes samples `first .. first + n` (sizes from `sizes`) to `out`.
    pub(crate) fn write_to(
        &self,
        first: usize,
        n: usize,
        sizes: &[u32],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        match self {
            SampleStore::Memory(v) => {
                for s in &v[first..first + n] {
                    out.write_all(s)?;
                }
            }
            SampleStore::Spool { file, offsets, .. } => {
                let bytes: u64 = sizes[first..first + n].iter().map(|&s| u64::from(s)).sum();
                let mut f = file;
                f.seek(SeekFrom::Start(offsets[first]))?;
                let copied = std::io::copy(&mut f.take(bytes), out)?;
                if copied != bytes {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the H.264 spool file is shorter than what was written to it",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Splits an Annex B byte stream into NAL units (start codes removed).
fn annexb_nals(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&n| n - 3);
        // Trailing zeros belong to the next 4-byte start code.
        while end > s && stream[end - 1] == 0 && k + 1 < starts.len() {
            end -= 1;
        }
        if end > s {
            nals.push(&stream[s..end]);
        }
    }
    nals
}

/// An H.264 encoder fed one RGB frame at a time (constrained baseline, one IDR
/// frame every ~2 s, no B-frames: decode order = display order). It keeps only
/// the compressed samples, so a long clip costs its compressed size, not its
/// frames. [`encode`] (a whole clip) and the streaming MP4 writer both use it.
pub(crate) struct H264Encoder {
    encoder: Encoder,
    path: PathBuf,
    width: usize,
    height: usize,
    fps: f32,
    out: EncodedVideo,
}

impl H264Encoder {
    /// An encoder for `width`×`height` frames (even sizes, checked by the
    /// caller) at `fps`; `path` names the output in error messages.
    pub(crate) fn new(path: &Path, width: usize, height: usize, fps: f32) -> Result<Self> {
        let enc_err = |e: openh264::Error| Error::media(path, format!("H.264 encoder: {e}"));
        // Plenty of bits (about 1.5 per pixel at the top quantiser) so that the
        // quantiser cap, not the rate control, decides quality.
        let bps = ((width * height) as f64 * f64::from(fps) * 1.5).clamp(200_000.0, 2.0e9) as u32;
        let keyint = (fps * 2.0).round().max(1.0) as u32;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bps))
            .max_frame_rate(openh264::encoder::FrameRate::from_hz(fps))
            .rate_control_mode(RateControlMode::Quality)
            .skip_frames(false)
            .complexity(Complexity::High)
            .profile(Profile::Baseline)
            .qp(QpRange::new(0, MAX_QP))
            .intra_frame_period(IntraFramePeriod::from_num_frames(keyint))
            .scene_change_detect(false)
            .background_detection(false)
            .vui(VuiConfig::bt601())
            .num_threads(1);
        let encoder = quiet_encoder(config).map_err(enc_err)?;
        Ok(Self {
            encoder,
            path: path.to_path_buf(),
            width,
            height,
            fps,
            out: EncodedVideo {
                sps: Vec::new(),
                pps: Vec::new(),
                sizes: Vec::new(),
                sync: Vec::new(),
                store: SampleStore::Memory(Vec::new()),
            },
        })
    }

    /// Keeps the compressed samples in `store` instead of in memory.
    pub(crate) fn with_store(mut self, store: SampleStore) -> Self {
        self.out.store = store;
        self
    }

    /// Frames encoded so far.
    pub(crate) fn frames(&self) -> usize {
        self.out.sizes.len()
    }

    /// Encodes the next frame `[H, W, 3]` (the encoder's size).
    pub(crate) fn push(&mut self, frame: ArrayView3<u8>) -> Result<()> {
        let path = self.path.as_path();
        let (h, w) = (self.height, self.width);
        if frame.dim() != (h, w, 3) {
            return Err(Error::invalid(format!(
                "{}: every frame must be [{h}, {w}, 3], got {:?}",
                path.display(),
                frame.shape()
            )));
        }
        let enc_err = |e: openh264::Error| Error::media(path, format!("H.264 encoder: {e}"));
        let t = self.out.sizes.len();
        let yuv = YUVBuffer::from_vec(rgb_to_i420(frame), w, h);
        let ms = (t as f64 * 1000.0 / f64::from(self.fps)) as u64;
        let bits = self
            .encoder
            .encode_at(&yuv, Timestamp::from_millis(ms))
            .map_err(enc_err)?;
        if matches!(bits.frame_type(), FrameType::Skip | FrameType::Invalid) {
            return Err(Error::media(
                path,
                format!("H.264 encoder dropped frame {t}"),
            ));
        }
        let stream = bits.to_vec();
        let out = &mut self.out;
        let mut sample = Vec::with_capacity(stream.len() + 16);
        let mut idr = false;
        for nal in annexb_nals(&stream) {
            match nal[0] & 0x1f {
                7 if out.sps.is_empty() || out.sps == nal => out.sps = nal.to_vec(),
                8 if out.pps.is_empty() || out.pps == nal => out.pps = nal.to_vec(),
                9 => {} // access unit delimiter: not stored in MP4 samples
                kind => {
                    idr |= kind == 5;
                    sample.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                    sample.extend_from_slice(nal);
                }
            }
        }
        if sample.is_empty() {
            return Err(Error::media(
                path,
                format!("H.264 encoder gave no picture for frame {t}"),
            ));
        }
        let size = u32::try_from(sample.len())
            .map_err(|_| Error::media(path, format!("H.264 frame {t} is over 4 GiB")))?;
        out.store.push(sample)?;
        out.sizes.push(size);
        out.sync.push(idr);
        Ok(())
    }

    /// The compressed clip: at least one frame, with its SPS and PPS.
    pub(crate) fn finish(self) -> Result<EncodedVideo> {
        if self.out.sizes.is_empty() {
            return Err(Error::invalid(format!(
                "{}: no frames to write",
                self.path.display()
            )));
        }
        if self.out.sps.is_empty() || self.out.pps.is_empty() {
            return Err(Error::media(&self.path, "H.264 encoder gave no SPS/PPS"));
        }
        Ok(self.out)
    }
}

/// Encodes frames `[T, H, W, 3]` (H and W even) at `fps` with [`H264Encoder`].
pub(crate) fn encode(path: &Path, frames: ArrayView4<u8>, fps: f32) -> Result<EncodedVideo> {
    let (_, h, w, _) = frames.dim();
    let mut encoder = H264Encoder::new(path, w, h, fps)?;
    for frame in frames.axis_iter(Axis(0)) {
        encoder.push(frame)?;
    }
    encoder.finish()
}

/// Appends the NAL units of an MP4 sample (`length_size`-byte lengths) to `out`
/// as Annex B (4-byte start codes).
fn sample_to_annexb(
    path: &Path,
    sample: &[u8],
    length_size: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut rest = sample;
    while !rest.is_empty() {
        if rest.len() < length_size {
            return Err(Error::media(path, "H.264 sample ends inside a NAL length"));
        }
        let len = rest[..length_size]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | b as usize);
        rest = &rest[length_size..];
        if len > rest.len() {
            return Err(Error::media(
                path,
                "H.264 NAL unit runs past its sample (corrupt file)",
            ));
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(())
}

/// What the decoder needs from the `avcC` box.
pub(crate) struct AvcConfig {
    /// NAL length field size in bytes (1, 2 or 4).
    pub length_size: usize,
    /// SPS and PPS NAL units.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// Frames collected from the decoder.
struct Collector {
    frames: Vec<u8>,
    count: usize,
    size: Option<(usize, usize)>,
}

impl Collector {
    fn push(&mut self, path: &Path, pic: &openh264::decoder::DecodedYUV) -> Result<()> {
        let (w, h) = pic.dimensions();
        match self.size {
            None => self.size = Some((w, h)),
            Some(s) if s != (w, h) => {
                return Err(Error::Unsupported(format!(
                    "{}: the video changes size mid-stream ({}x{} then {w}x{h})",
                    path.display(),
                    s.0,
                    s.1
                )))
            }
            Some(_) => {}
        }
        let (sy, su, sv) = pic.strides();
        let planes = Planes {
            y: (pic.y(), sy),
            u: (pic.u(), su),
            v: (pic.v(), sv),
        };
        let start = self.frames.len();
        self.frames.resize(start + w * h * 3, 0);
        i420_to_rgb(&planes, w, h, &mut self.frames[start..]);
        self.count += 1;
        Ok(())
    }
}

/// Decodes H.264 samples (in decode order) into RGB frames `[T, H, W, 3]` in
/// display order.
pub(crate) fn decode<I>(path: &Path, config: &AvcConfig, samples: I) -> Result<Array4<u8>>
where
    I: IntoIterator<Item = Result<Vec<u8>>>,
{
    let dec_err = |e: openh264::Error| Error::media(path, format!("H.264 decoder: {e}"));
    let dconf = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder =
        Decoder::with_api_config(OpenH264API::from_source(), dconf).map_err(dec_err)?;
    let mut col = Collector {
        frames: Vec::new(),
        count: 0,
        size: None,
    };
    let mut annexb = Vec::new();
    for ps in &config.parameter_sets {
        annexb.extend_from_slice(&[0, 0, 0, 1]);
        annexb.extend_from_slice(ps);
    }
    let opts = DecodeOptions::new().flush_after_decode(Flush::NoFlush);
    for sample in samples {
        sample_to_annexb(path, &sample?, config.length_size, &mut annexb)?;
        if let Some(pic) = decoder
            .decode_with_options(&annexb, opts.clone())
            .map_err(dec_err)?
        {
            col.push(path, &pic)?;
        }
        annexb.clear();
    }
    for pic in decoder.flush_remaining().map_err(dec_err)? {
        col.push(path, &pic)?;
    }
    let Some((w, h)) = col.size else {
        return Err(Error::media(path, "the H.264 track decodes to no pictures"));
    };
    Array4::from_shape_vec((col.count, h, w, 3), col.frames)
        .map_err(|e| Error::media(path, format!("decoded frame buffer: {e}")))
}

/// The highest quantiser H.264 has.
const H264_MAX_QP: u32 = 51;

/// One RGB image through an H.264 intra round trip, as LTX-2's pipelines
/// re-compress a conditioning image (`image_crf`, diffusers'
/// `apply_image_conditioning_crf`): cropped to even height and width, converted
/// to YUV 4:2:0 (BT.601, limited range), encoded as one IDR picture at the
/// constant quantiser `qp` (1..=51), decoded, converted back to RGB.
///
/// diffusers encodes with libx264 at constant rate factor `qp`; this encodes
/// with OpenH264 at that quantiser, so the artifacts are alike in kind and
/// strength but not bit-equal to diffusers'.
pub fn recompress_image(image: ArrayView3<u8>, qp: u32) -> Result<Array3<u8>> {
    let (h, w, c) = image.dim();
    if c != 3 || h < 2 || w < 2 {
        return Err(Error::invalid(format!(
            "H.264 re-compression takes an RGB image of at least 2×2, got {:?}",
            image.shape()
        )));
    }
    if qp == 0 || qp > H264_MAX_QP {
        return Err(Error::invalid(format!(
            "the H.264 quantiser must be in 1..={H264_MAX_QP}, got {qp}"
        )));
    }
    let (h, w) = (h / 2 * 2, w / 2 * 2);
    let crop = image.slice(ndarray::s![..h, ..w, ..]);
    let path = Path::new("<conditioning image>");
    let enc_err = |e: openh264::Error| Error::media(path, format!("H.264 encoder: {e}"));
    let q = qp as u8;
    // Quality rate control with the quantiser range pinned to `qp` (with
    // rate control off, OpenH264 ignores the range and stays at 26), and
    // plenty of bits, so that the quantiser alone decides.
    let bps = ((w * h) as u64 * 64).clamp(200_000, 2_000_000_000) as u32;
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(bps))
        .rate_control_mode(RateControlMode::Quality)
        .skip_frames(false)
        .complexity(Complexity::High)
        .profile(Profile::Baseline)
        .qp(QpRange::new(q, q))
        .scene_change_detect(false)
        .background_detection(false)
        .adaptive_quantization(false)
        .vui(VuiConfig::bt601())
        .num_threads(1);
    let mut encoder = quiet_encoder(config).map_err(enc_err)?;
    let yuv = YUVBuffer::from_vec(rgb_to_i420(crop), w, h);
    let stream = encoder
        .encode_at(&yuv, Timestamp::from_millis(0))
        .map_err(enc_err)?
        .to_vec();
    let dec_err = |e: openh264::Error| Error::media(path, format!("H.264 decoder: {e}"));
    let dconf = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder =
        Decoder::with_api_config(OpenH264API::from_source(), dconf).map_err(dec_err)?;
    let mut col = Collector {
        frames: Vec::new(),
        count: 0,
        size: None,
    };
    if let Some(pic) = decoder.decode(&stream).map_err(dec_err)? {
        col.push(path, &pic)?;
    }
    for pic in decoder.flush_remaining().map_err(dec_err)? {
        col.push(path, &pic)?;
    }
    if col.count != 1 || col.size != Some((w, h)) {
        return Err(Error::media(
            path,
            format!(
                "the H.264 round trip gave {} pictures of {:?}, not one of {w}×{h}",
                col.count, col.size
            ),
        ));
    }
    Array3::from_shape_vec((h, w, 3), col.frames)
        .map_err(|e| Error::media(path, format!("decoded picture buffer: {e}")))
}

/// An OpenH264 encoder for `config`, its logging quieted first: the library
/// logs warnings to stderr while it initialises (on the first frame), before
/// the crate would quiet it.
fn quiet_encoder(config: EncoderConfig) -> std::result::Result<Encoder, openh264::Error> {
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)?;
    let mut quiet: i32 = openh264_sys2::WELS_LOG_QUIET;
    // SAFETY: the trace level may be set before initialisation; the library
    // reads one int through the pointer during the call.
    unsafe {
        encoder.raw_api().set_option(
            openh264_sys2::ENCODER_OPTION_TRACE_LEVEL,
            std::ptr::addr_of_mut!(quiet).cast(),
        );
    }
    Ok(encoder)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth gradient with a sharp-edged square and some texture.
    fn picture(h: usize, w: usize) -> Array3<u8> {
        Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
            let edge = if (10..30).contains(&y) && (12..40).contains(&x) {
                120.0
            } else {
                0.0
            };
            let tex = 20.0 * ((x as f64 * 0.9 + c as f64).sin() * (y as f64 * 0.7).cos());
            (40.0 + 2.0 * x as f64 + y as f64 + edge + tex).clamp(0.0, 255.0) as u8
        })
    }

    fn mean_abs(a: &Array3<u8>, b: ArrayView3<u8>) -> f64 {
        let (h, w, _) = a.dim();
        let b = b.slice(ndarray::s![..h, ..w, ..]);
        (&a.mapv(f64::from) - &b.mapv(f64::from))
            .mapv(f64::abs)
            .mean()
            .unwrap()
    }

    #[test]
    fn the_round_trip_crops_to_even_sizes_and_the_quantiser_sets_the_loss() {
        let img = picture(47, 65);
        let errs: Vec<f64> = [10, 31, 45]
            .iter()
            .map(|&qp| {
                let out = recompress_image(img.view(), qp).unwrap();
                assert_eq!(out.dim(), (46, 64, 3));
                mean_abs(&out, img.view())
            })
            .collect();
        // (Quantiser 10 keeps little more than the 4:2:0 chroma loss.)
        assert!(errs[0] < 4.0, "{errs:?}");
        assert!(errs[0] < errs[1] && errs[1] < errs[2], "{errs:?}");
        // Deterministic.
        let a = recompress_image(img.view(), 31).unwrap();
        assert_eq!(a, recompress_image(img.view(), 31).unwrap());
    }

    #[test]
    fn bad_pictures_and_quantisers_are_refused() {
        let img = picture(8, 8);
        for qp in [0, 52] {
            assert!(matches!(
                recompress_image(img.view(), qp),
                Err(Error::InvalidRequest(_))
            ));
        }
        let tiny = Array3::<u8>::zeros((1, 8, 3));
        assert!(matches!(
            recompress_image(tiny.view(), 30),
            Err(Error::InvalidRequest(_))
        ));
    }
}
