//! MP4 (ISO BMFF) muxer for one H.264 video track and one AAC audio track:
//! `ftyp`, `moov` (written first, so files play while downloading), then one
//! `mdat` with the samples interleaved in chunks of about half a second.
//!
//! The audio track carries an edit list (`edts/elst`) that skips the encoder's
//! priming samples and ends at the last real sample, so readers that honour it
//! (FFmpeg, browsers, QuickTime, ours) get the exact audio length back.

use std::io::Write;

use super::aac::EncodedAudio;
use super::h264::EncodedVideo;

/// `hdlr` name of an audio track that only holds filler silence (written when
/// the clip has no audio); [`super::read_mp4`] reports such a track as no audio.
pub(crate) const SILENT_TRACK_NAME: &str = "sora filler silence (the clip has no audio)";

/// The video track: encoded samples plus their timing.
pub(crate) struct VideoTrack<'a> {
    pub enc: &'a EncodedVideo,
    pub width: u16,
    pub height: u16,
    /// Media timescale (ticks per second).
    pub timescale: u32,
    /// Ticks per frame.
    pub delta: u32,
}

/// The audio track: AAC access units and their bookkeeping.
pub(crate) struct AudioTrack<'a> {
    pub enc: &'a EncodedAudio,
    /// `hdlr` name.
    pub name: &'a str,
}

/// A box: 32-bit size, type, body.
fn bx(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_be_bytes());
    v.extend_from_slice(kind);
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

/// A full box: version and 24-bit flags before the body.
fn full(kind: &[u8; 4], version: u8, flags: u32, parts: &[&[u8]]) -> Vec<u8> {
    let vf = ((u32::from(version) << 24) | (flags & 0x00ff_ffff)).to_be_bytes();
    let mut all: Vec<&[u8]> = vec![&vf];
    all.extend_from_slice(parts);
    bx(kind, &all)
}

/// Big-endian byte builder.
#[derive(Default)]
struct B(Vec<u8>);

impl B {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i32(mut self, v: i32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn matrix(mut b: B) -> B {
    for m in MATRIX {
        b = b.u32(m);
    }
    b
}

/// Clamps a duration to 32 bits (version-0 boxes); clips here are far shorter.
fn d32(v: u64) -> u32 {
    v.min(u64::from(u32::MAX)) as u32
}

fn mvhd(timescale: u32, duration: u64, next_track: u32) -> Vec<u8> {
    let b = B::default()
        .u32(0)
        .u32(0)
        .u32(timescale)
        .u32(d32(duration))
        .u32(0x0001_0000) // rate 1.0
        .u16(0x0100) // volume 1.0
        .zeros(10);
    let b = matrix(b).zeros(24).u32(next_track);
    full(b"mvhd", 0, 0, &[&b.0])
}

fn tkhd(track_id: u32, duration: u64, audio: bool, width: u16, height: u16) -> Vec<u8> {
    let b = B::default()
        .u32(0)
        .u32(0)
        .u32(track_id)
        .u32(0)
        .u32(d32(duration))
        .zeros(8)
        .u16(0) // layer
        .u16(if audio { 1 } else { 0 }) // alternate group
        .u16(if audio { 0x0100 } else { 0 }) // volume
        .u16(0);
    let b = matrix(b)
        .u32(u32::from(width) << 16)
        .u32(u32::from(height) << 16);
    full(b"tkhd", 0, 0x3, &[&b.0]) // enabled | in movie
}

fn mdhd(timescale: u32, duration: u64) -> Vec<u8> {
    let b = B::default()
        .u32(0)
        .u32(0)
        .u32(timescale)
        .u32(d32(duration))
        .u16(0x55c4) // language "und"
        .u16(0);
    full(b"mdhd", 0, 0, &[&b.0])
}

fn hdlr(kind: &[u8; 4], name: &str) -> Vec<u8> {
    let b = B::default()
        .u32(0)
        .bytes(kind)
        .zeros(12)
        .bytes(name.as_bytes())
        .u8(0);
    full(b"hdlr", 0, 0, &[&b.0])
}

fn dinf() -> Vec<u8> {
    let url = full(b"url ", 0, 1, &[]);
    let dref = full(b"dref", 0, 0, &[&1u32.to_be_bytes(), &url]);
    bx(b"dinf", &[&dref])
}

fn avc1(v: &VideoTrack) -> Vec<u8> {
    let (sps, pps) = (&v.enc.sps, &v.enc.pps);
    let avcc = B::default()
        .u8(1)
        .u8(sps.get(1).copied().unwrap_or(66))
        .u8(sps.get(2).copied().unwrap_or(0))
        .u8(sps.get(3).copied().unwrap_or(30))
        .u8(0xff) // 4-byte NAL lengths
        .u8(0xe1) // one SPS
        .u16(sps.len() as u16)
        .bytes(sps)
        .u8(1)
        .u16(pps.len() as u16)
        .bytes(pps);
    let avcc = bx(b"avcC", &[&avcc.0]);
    let mut name = [0u8; 32];
    let label = b"sora openh264";
    name[0] = label.len() as u8;
    name[1..=label.len()].copy_from_slice(label);
    let b = B::default()
        .zeros(6)
        .u16(1) // data reference index
        .zeros(16)
        .u16(v.width)
        .u16(v.height)
        .u32(0x0048_0000) // 72 dpi
        .u32(0x0048_0000)
        .u32(0)
        .u16(1) // frames per sample
        .bytes(&name)
        .u16(0x0018) // depth
        .u16(0xffff); // pre_defined = -1
    bx(b"avc1", &[&b.0, &avcc])
}

/// An MPEG-4 descriptor: tag, size (one byte when it fits, else four), body.
fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        v.extend_from_slice(&[
            0x80 | ((n >> 21) & 0x7f) as u8,
            0x80 | ((n >> 14) & 0x7f) as u8,
            0x80 | ((n >> 7) & 0x7f) as u8,
            (n & 0x7f) as u8,
        ]);
    }
    v.extend_from_slice(body);
    v
}

fn mp4a(a: &AudioTrack, track_id: u32) -> Vec<u8> {
    let e = a.enc;
    let max_bytes = e.max_frame_bytes();
    let max_bitrate = (u64::from(max_bytes) * 8 * u64::from(e.sample_rate)
        / u64::from(e.frame_len.max(1))) as u32;
    let dsi = descriptor(0x05, &e.asc);
    let dcd = B::default()
        .u8(0x40) // MPEG-4 audio
        .u8(0x15) // audio stream
        .u8((max_bytes >> 16) as u8)
        .u16(max_bytes as u16)
        .u32(max_bitrate.max(e.bitrate))
        .u32(e.bitrate)
        .bytes(&dsi);
    let dcd = descriptor(0x04, &dcd.0);
    let sl = descriptor(0x06, &[0x02]);
    let es = B::default()
        .u16(track_id as u16)
        .u8(0)
        .bytes(&dcd)
        .bytes(&sl);
    let esds = full(b"esds", 0, 0, &[&descriptor(0x03, &es.0)]);
    let rate = if e.sample_rate < 0x1_0000 {
        e.sample_rate << 16
    } else {
        0
    };
    let b = B::default()
        .zeros(6)
        .u16(1)
        .zeros(8)
        .u16(e.channels)
        .u16(16)
        .u16(0)
        .u16(0)
        .u32(rate);
    bx(b"mp4a", &[&b.0, &esds])
}

/// `stts` from per-sample durations (run-length coded).
fn stts(deltas: impl Iterator<Item = u32>) -> Vec<u8> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for d in deltas {
        match runs.last_mut() {
            Some((n, last)) if *last == d => *n += 1,
            _ => runs.push((1, d)),
        }
    }
    let mut b = B::default().u32(runs.len() as u32);
    for (n, d) in runs {
        b = b.u32(n).u32(d);
    }
    full(b"stts", 0, 0, &[&b.0])
}

fn stsz(sizes: &[u32]) -> Vec<u8> {
    let mut b = B::default().u32(0).u32(sizes.len() as u32);
    for s in sizes {
        b = b.u32(*s);
    }
    full(b"stsz", 0, 0, &[&b.0])
}

/// `stsc` from the number of samples in each chunk (run-length coded).
fn stsc(per_chunk: &[u32]) -> Vec<u8> {
    let mut entries: Vec<(u32, u32)> = Vec::new();
    for (i, &n) in per_chunk.iter().enumerate() {
        if entries.last().map(|e| e.1) != Some(n) {
            entries.push((i as u32 + 1, n));
        }
    }
    let mut b = B::default().u32(entries.len() as u32);
    for (first, n) in entries {
        b = b.u32(first).u32(n).u32(1);
    }
    full(b"stsc", 0, 0, &[&b.0])
}

fn chunk_offsets(offsets: &[u64], wide: bool) -> Vec<u8> {
    let mut b = B::default().u32(offsets.len() as u32);
    for &o in offsets {
        b = if wide { b.u64(o) } else { b.u32(o as u32) };
    }
    if wide {
        full(b"co64", 0, 0, &[&b.0])
    } else {
        full(b"stco", 0, 0, &[&b.0])
    }
}

fn stss(sync: &[bool]) -> Option<Vec<u8>> {
    if sync.iter().all(|s| *s) {
        return None; // every sample is a sync sample
    }
    let ids: Vec<u32> = (0..sync.len())
        .filter(|&i| sync[i])
        .map(|i| i as u32 + 1)
        .collect();
    let mut b = B::default().u32(ids.len() as u32);
    for id in ids {
        b = b.u32(id);
    }
    Some(full(b"stss", 0, 0, &[&b.0]))
}

/// How samples are grouped into chunks and where each chunk lands in the file.
struct Layout {
    /// `(track, first sample, count)` in file order (track 0 = video, 1 = audio).
    chunks: Vec<(usize, usize, usize)>,
}

impl Layout {
    fn new(v: &VideoTrack, a: &AudioTrack) -> Self {
        let nv = v.enc.sizes.len();
        let na = a.enc.frames.len();
        let fps = f64::from(v.timescale) / f64::from(v.delta.max(1));
        let per_v = ((fps * 0.5).ceil() as usize).max(1);
        let afps = f64::from(a.enc.sample_rate) / f64::from(a.enc.frame_len.max(1));
        let per_a = ((afps * 0.5).ceil() as usize).max(1);
        let (mut iv, mut ia) = (0, 0);
        let mut chunks = Vec::new();
        while iv < nv || ia < na {
            let tv = iv as f64 / fps;
            let ta = ia as f64 / afps;
            if iv < nv && (ia >= na || tv <= ta) {
                let n = per_v.min(nv - iv);
                chunks.push((0, iv, n));
                iv += n;
            } else {
                let n = per_a.min(na - ia);
                chunks.push((1, ia, n));
                ia += n;
            }
        }
        Layout { chunks }
    }
}

/// Everything but the offsets of the `moov` box.
fn moov(v: &VideoTrack, a: &AudioTrack, layout: &Layout, data_start: u64, wide: bool) -> Vec<u8> {
    let samples: [Vec<u32>; 2] = [
        v.enc.sizes.clone(),
        a.enc.frames.iter().map(|s| s.len() as u32).collect(),
    ];
    let mut offsets: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let mut per_chunk: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut pos = data_start;
    for &(track, first, n) in &layout.chunks {
        offsets[track].push(pos);
        per_chunk[track].push(n as u32);
        pos += samples[track][first..first + n]
            .iter()
            .map(|&s| u64::from(s))
            .sum::<u64>();
    }

    let e = a.enc;
    let movie_ts = e.sample_rate; // exact for the audio edit list
    let v_media_dur = v.enc.sizes.len() as u64 * u64::from(v.delta);
    let v_movie_dur =
        (v_media_dur as f64 * f64::from(movie_ts) / f64::from(v.timescale)).round() as u64;
    let a_media_dur = e.frames.len() as u64 * u64::from(e.frame_len);
    let a_movie_dur = e.valid; // movie timescale = sample rate

    // Video trak.
    let mut vstbl: Vec<Vec<u8>> = vec![
        full(b"stsd", 0, 0, &[&1u32.to_be_bytes(), &avc1(v)]),
        stts(std::iter::repeat(v.delta).take(v.enc.sizes.len())),
    ];
    if let Some(s) = stss(&v.enc.sync) {
        vstbl.push(s);
    }
    vstbl.push(stsc(&per_chunk[0]));
    vstbl.push(stsz(&samples[0]));
    vstbl.push(chunk_offsets(&offsets[0], wide));
    let vstbl: Vec<&[u8]> = vstbl.iter().map(|b| b.as_slice()).collect();
    let vmhd = full(b"vmhd", 0, 1, &[&[0u8; 8]]);
    let vminf = bx(b"minf", &[&vmhd, &dinf(), &bx(b"stbl", &vstbl)]);
    let vmdia = bx(
        b"mdia",
        &[
            &mdhd(v.timescale, v_media_dur),
            &hdlr(b"vide", "VideoHandler"),
            &vminf,
        ],
    );
    let vtrak = bx(
        b"trak",
        &[&tkhd(1, v_movie_dur, false, v.width, v.height), &vmdia],
    );

    // Audio trak, with its edit list.
    let astbl = bx(
        b"stbl",
        &[
            &full(b"stsd", 0, 0, &[&1u32.to_be_bytes(), &mp4a(a, 2)]),
            &stts(std::iter::repeat(e.frame_len).take(e.frames.len())),
            &stsc(&per_chunk[1]),
            &stsz(&samples[1]),
            &chunk_offsets(&offsets[1], wide),
        ],
    );
    let smhd = full(b"smhd", 0, 0, &[&[0u8; 4]]);
    let aminf = bx(b"minf", &[&smhd, &dinf(), &astbl]);
    let amdia = bx(
        b"mdia",
        &[
            &mdhd(e.sample_rate, a_media_dur),
            &hdlr(b"soun", a.name),
            &aminf,
        ],
    );
    let elst = B::default()
        .u32(1)
        .u32(d32(a_movie_dur))
        .i32(e.priming as i32)
        .u32(0x0001_0000);
    let edts = bx(b"edts", &[&full(b"elst", 0, 0, &[&elst.0])]);
    let atrak = bx(b"trak", &[&tkhd(2, a_movie_dur, true, 0, 0), &edts, &amdia]);

    bx(
        b"moov",
        &[
            &mvhd(movie_ts, v_movie_dur.max(a_movie_dur), 3),
            &vtrak,
            &atrak,
            &udta(),
        ],
    )
}

/// User data: the QuickTime encoder text `©too` = `sora <version>`, sora's
/// mark on its outputs (see `io::provenance`).
fn udta() -> Vec<u8> {
    let text = crate::io::provenance::mark_text();
    let t = B::default()
        .u16(text.len() as u16)
        .u16(0x55C4) // language: undetermined
        .bytes(text.as_bytes());
    bx(b"udta", &[&bx(b"\xa9too", &[&t.0])])
}

/// Writes the whole file to `out`.
pub(crate) fn write(out: &mut dyn Write, v: &VideoTrack, a: &AudioTrack) -> std::io::Result<()> {
    let ftyp = bx(
        b"ftyp",
        &[
            b"isom",
            &0x200u32.to_be_bytes(),
            b"isom",
            b"iso2",
            b"avc1",
            b"mp41",
        ],
    );
    let layout = Layout::new(v, a);
    let payload: u64 = v.enc.sizes.iter().map(|&s| u64::from(s)).sum::<u64>()
        + a.enc.frames.iter().map(|s| s.len() as u64).sum::<u64>();
    let big_mdat = payload + 8 > u64::from(u32::MAX);
    let mdat_header = if big_mdat { 16 } else { 8 };
    // The moov's size does not depend on the offset values: size it with
    // placeholders (co64 when 32-bit offsets could overflow), then fill them in.
    let narrow = moov(v, a, &layout, 0, false);
    let wide = (ftyp.len() + 2 * narrow.len() + mdat_header) as u64 + payload > u64::from(u32::MAX);
    let probe = if wide {
        moov(v, a, &layout, 0, true)
    } else {
        narrow
    };
    let data_start = (ftyp.len() + probe.len() + mdat_header) as u64;
    let moov = moov(v, a, &layout, data_start, wide);
    debug_assert_eq!(moov.len(), probe.len());
    out.write_all(&ftyp)?;
    out.write_all(&moov)?;
    if big_mdat {
        out.write_all(&1u32.to_be_bytes())?;
        out.write_all(b"mdat")?;
        out.write_all(&(payload + 16).to_be_bytes())?;
    } else {
        out.write_all(&((payload + 8) as u32).to_be_bytes())?;
        out.write_all(b"mdat")?;
    }
    for &(track, first, n) in &layout.chunks {
        if track == 0 {
            v.enc.store.write_to(first, n, &v.enc.sizes, out)?;
        } else {
            for s in &a.enc.frames[first..first + n] {
                out.write_all(s)?;
            }
        }
    }
    Ok(())
}
