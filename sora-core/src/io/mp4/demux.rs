//! MP4 (ISO BMFF / QuickTime) demuxer: finds the `moov` box, reads each track's
//! sample table (`stsd`, `stts`, `ctts`, `stsc`, `stsz`/`stz2`, `stco`/`co64`,
//! `stss`) and edit list, and reads samples from the file on demand.
//!
//! Every length and count is checked against the data it points into, so a
//! corrupt or truncated file gives an error, never a panic or a huge allocation.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Error, Result};

/// Parse error message (turned into [`Error::Media`] with the path at the top).
type Pr<T> = std::result::Result<T, String>;

/// Bounds-checked big-endian reader over a byte slice.
struct Rd<'a> {
    d: &'a [u8],
    p: usize,
}

impl<'a> Rd<'a> {
    fn new(d: &'a [u8]) -> Self {
        Rd { d, p: 0 }
    }
    fn left(&self) -> usize {
        self.d.len() - self.p
    }
    fn take(&mut self, n: usize) -> Pr<&'a [u8]> {
        if n > self.left() {
            return Err("a box ends early".into());
        }
        let s = &self.d[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }
    fn skip(&mut self, n: usize) -> Pr<()> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Pr<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Pr<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Pr<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Pr<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    /// `(version, flags)` of a full box.
    fn full(&mut self) -> Pr<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }
    /// A count of entries of `entry` bytes each that must fit in what is left.
    fn count(&mut self, entry: usize) -> Pr<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(entry) > self.left() {
            return Err("a table is longer than its box".into());
        }
        Ok(n)
    }
}

/// The child boxes of `data`: `(type, body)`.
fn children(data: &[u8]) -> Pr<Vec<([u8; 4], &[u8])>> {
    let mut out = Vec::new();
    let mut r = Rd::new(data);
    while r.left() >= 8 {
        let size = r.u32()? as u64;
        let mut kind = [0u8; 4];
        kind.copy_from_slice(r.take(4)?);
        let header = if size == 1 { 16 } else { 8 };
        let size = match size {
            0 => (r.left() + 8) as u64,
            1 => r.u64()?,
            s => s,
        };
        if size < header || size - header > r.left() as u64 {
            return Err(format!(
                "box `{}` has a bad size",
                String::from_utf8_lossy(&kind)
            ));
        }
        out.push((kind, r.take((size - header) as usize)?));
    }
    Ok(out)
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Pr<Option<&'a [u8]>> {
    Ok(children(data)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, b)| b))
}

fn need<'a>(data: &'a [u8], kind: &[u8; 4]) -> Pr<&'a [u8]> {
    child(data, kind)?.ok_or_else(|| format!("missing `{}` box", String::from_utf8_lossy(kind)))
}

/// What a track's sample description says.
#[derive(Debug, Clone)]
pub(crate) enum Codec {
    /// H.264 (`avc1`/`avc3`) with its `avcC`: NAL length size and SPS/PPS units.
    Avc {
        length_size: usize,
        parameter_sets: Vec<Vec<u8>>,
    },
    /// AAC (`mp4a` with object type 0x40/0x66/0x67/0x68) with its AudioSpecificConfig.
    Aac { asc: Vec<u8> },
    /// Anything else (the four-character code).
    Other(String),
}

/// One sample's place and timing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub offset: u64,
    pub size: u32,
    /// Duration in media timescale ticks.
    pub duration: u32,
}

/// One entry of an edit list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edit {
    /// In the movie timescale.
    pub segment_duration: u64,
    /// In the media timescale; -1 for an empty edit.
    pub media_time: i64,
}

/// A track of the movie.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    /// `vide`, `soun`, …
    pub handler: [u8; 4],
    /// `hdlr` name.
    pub name: String,
    pub timescale: u32,
    pub codec: Codec,
    pub samples: Vec<Sample>,
    pub edits: Vec<Edit>,
}

/// The parsed `moov`.
#[derive(Debug, Clone)]
pub(crate) struct Movie {
    pub timescale: u32,
    pub tracks: Vec<Track>,
}

/// Reads the top-level boxes of `file` and parses its `moov`.
pub(crate) fn parse(path: &Path, file: &mut File) -> Result<Movie> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut pos = 0u64;
    let mut moov: Option<Vec<u8>> = None;
    let mut first = true;
    let bad = |m: &str| Error::media(path, format!("not a valid MP4 file: {m}"));
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io(path, e))?;
        let mut h = [0u8; 16];
        file.read_exact(&mut h[..8])
            .map_err(|e| Error::io(path, e))?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let kind = [h[4], h[5], h[6], h[7]];
        if !kind
            .iter()
            .all(|c| c.is_ascii_graphic() || *c == b' ' || *c >= 0xa9)
        {
            return Err(bad("garbage where a box header should be"));
        }
        if first
            && !matches!(
                &kind,
                b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide" | b"pnot" | b"styp"
            )
        {
            return Err(bad("it does not start with an MP4 box"));
        }
        first = false;
        let (size, header) = match size32 {
            0 => (len - pos, 8),
            1 => {
                file.read_exact(&mut h[8..16])
                    .map_err(|e| Error::io(path, e))?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[8..16]);
                (u64::from_be_bytes(b), 16)
            }
            s => (s, 8),
        };
        if size < header || pos + size > len {
            return Err(bad(&format!(
                "box `{}` runs past the end of the file (truncated?)",
                String::from_utf8_lossy(&kind)
            )));
        }
        match &kind {
            b"moov" => {
                let body = usize::try_from(size - header).map_err(|_| bad("moov too large"))?;
                if body > 1 << 30 {
                    return Err(bad("moov box larger than 1 GiB"));
                }
                let mut buf = vec![0u8; body];
                file.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
                moov = Some(buf);
            }
            b"moof" => {
                return Err(Error::Unsupported(format!(
                    "{}: fragmented MP4 files are not read",
                    path.display()
                )))
            }
            _ => {}
        }
        pos += size;
    }
    let moov = moov.ok_or_else(|| bad("no `moov` box (truncated or not an MP4 file)"))?;
    parse_moov(&moov).map_err(|m| bad(&m))
}

fn parse_moov(moov: &[u8]) -> Pr<Movie> {
    let mut r = Rd::new(need(moov, b"mvhd")?);
    let (version, _) = r.full()?;
    r.skip(if version == 1 { 16 } else { 8 })?;
    let timescale = r.u32()?;
    let mut tracks = Vec::new();
    for (kind, body) in children(moov)? {
        if &kind == b"trak" {
            tracks.push(parse_trak(body)?);
        }
    }
    Ok(Movie { timescale, tracks })
}

fn parse_trak(trak: &[u8]) -> Pr<Track> {
    let mdia = need(trak, b"mdia")?;
    let mut r = Rd::new(need(mdia, b"mdhd")?);
    let (version, _) = r.full()?;
    r.skip(if version == 1 { 16 } else { 8 })?;
    let timescale = r.u32()?;
    if timescale == 0 {
        return Err("a track has timescale 0".into());
    }
    let mut r = Rd::new(need(mdia, b"hdlr")?);
    r.full()?;
    r.skip(4)?;
    let mut handler = [0u8; 4];
    handler.copy_from_slice(r.take(4)?);
    r.skip(12.min(r.left()))?;
    let raw = r.take(r.left())?;
    let name = String::from_utf8_lossy(raw.split(|b| *b == 0).next().unwrap_or(&[])).into_owned();

    let mut edits = Vec::new();
    if let Some(edts) = child(trak, b"edts")? {
        if let Some(elst) = child(edts, b"elst")? {
            let mut r = Rd::new(elst);
            let (version, _) = r.full()?;
            let n = r.count(if version == 1 { 20 } else { 12 })?;
            for _ in 0..n {
                let (segment_duration, media_time) = if version == 1 {
                    (r.u64()?, r.u64()? as i64)
                } else {
                    (u64::from(r.u32()?), i64::from(r.u32()? as i32))
                };
                r.skip(4)?;
                edits.push(Edit {
                    segment_duration,
                    media_time,
                });
            }
        }
    }

    let stbl = need(need(mdia, b"minf")?, b"stbl")?;
    let codec = parse_stsd(need(stbl, b"stsd")?)?;
    let samples = parse_samples(stbl)?;
    Ok(Track {
        handler,
        name,
        timescale,
        codec,
        samples,
        edits,
    })
}

fn parse_stsd(stsd: &[u8]) -> Pr<Codec> {
    let mut r = Rd::new(stsd);
    r.full()?;
    r.u32()?;
    let entries = children(&stsd[r.p..])?;
    let Some((kind, body)) = entries.first() else {
        return Err("empty sample description".into());
    };
    let fourcc = String::from_utf8_lossy(kind).into_owned();
    match kind {
        b"avc1" | b"avc3" => {
            // Visual sample entry: 78 bytes, then boxes.
            if body.len() < 78 {
                return Err("short avc1 entry".into());
            }
            let avcc = need(&body[78..], b"avcC")?;
            let mut r = Rd::new(avcc);
            r.skip(4)?;
            let length_size = (r.u8()? & 3) as usize + 1;
            let mut parameter_sets = Vec::new();
            let nsps = r.u8()? & 0x1f;
            for _ in 0..nsps {
                let n = r.u16()? as usize;
                parameter_sets.push(r.take(n)?.to_vec());
            }
            let npps = r.u8()?;
            for _ in 0..npps {
                let n = r.u16()? as usize;
                parameter_sets.push(r.take(n)?.to_vec());
            }
            if length_size == 3 {
                return Err("avcC: 3-byte NAL lengths are invalid".into());
            }
            Ok(Codec::Avc {
                length_size,
                parameter_sets,
            })
        }
        b"mp4a" => {
            // Audio sample entry: 28 bytes (version 0), 44 (v1) or 64 (v2), then boxes.
            let mut r = Rd::new(body);
            r.skip(8)?;
            let version = r.u16()?;
            let skip = match version {
                0 => 28,
                1 => 44,
                2 => 64,
                _ => return Err("unknown mp4a entry version".into()),
            };
            if body.len() < skip {
                return Err("short mp4a entry".into());
            }
            let mut rest = &body[skip..];
            // QuickTime files may wrap esds in a `wave` box.
            if let Some(wave) = child(rest, b"wave")? {
                rest = wave;
            }
            let esds = need(rest, b"esds")?;
            match parse_esds(esds)? {
                Some(asc) => Ok(Codec::Aac { asc }),
                None => Ok(Codec::Other("mp4a (not AAC)".into())),
            }
        }
        _ => Ok(Codec::Other(fourcc)),
    }
}

/// Reads one descriptor header: `(tag, body)`.
fn descriptor<'a>(r: &mut Rd<'a>) -> Pr<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        len = (len << 7) | (b & 0x7f) as usize;
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, r.take(len)?))
}

/// The AudioSpecificConfig of an `esds` box, if its object type is AAC.
fn parse_esds(esds: &[u8]) -> Pr<Option<Vec<u8>>> {
    let mut r = Rd::new(esds);
    r.full()?;
    let (tag, es) = descriptor(&mut r)?;
    if tag != 0x03 {
        return Err("esds: no ES descriptor".into());
    }
    let mut r = Rd::new(es);
    r.u16()?;
    let flags = r.u8()?;
    if flags & 0x80 != 0 {
        r.u16()?;
    }
    if flags & 0x40 != 0 {
        let n = r.u8()? as usize;
        r.skip(n)?;
    }
    if flags & 0x20 != 0 {
        r.u16()?;
    }
    while r.left() > 0 {
        let (tag, body) = descriptor(&mut r)?;
        if tag != 0x04 {
            continue;
        }
        let mut d = Rd::new(body);
        let object_type = d.u8()?;
        d.skip(12)?;
        if !matches!(object_type, 0x40 | 0x66 | 0x67 | 0x68) {
            return Ok(None);
        }
        while d.left() > 0 {
            let (tag, dsi) = descriptor(&mut d)?;
            if tag == 0x05 {
                return Ok(Some(dsi.to_vec()));
            }
        }
        return Err("esds: AAC without an AudioSpecificConfig".into());
    }
    Err("esds: no decoder config".into())
}

fn parse_samples(stbl: &[u8]) -> Pr<Vec<Sample>> {
    // Sizes.
    let sizes: Vec<u32> = if let Some(stsz) = child(stbl, b"stsz")? {
        let mut r = Rd::new(stsz);
        r.full()?;
        let fixed = r.u32()?;
        if fixed != 0 {
            let n = r.u32()? as usize;
            if n > 1 << 24 {
                return Err("implausible sample count".into());
            }
            vec![fixed; n]
        } else {
            let n = r.count(4)?;
            (0..n).map(|_| r.u32()).collect::<Pr<_>>()?
        }
    } else if let Some(stz2) = child(stbl, b"stz2")? {
        let mut r = Rd::new(stz2);
        r.full()?;
        r.skip(3)?;
        let bits = r.u8()?;
        let n = r.u32()? as usize;
        match bits {
            8 => (0..n).map(|_| r.u8().map(u32::from)).collect::<Pr<_>>()?,
            16 => (0..n).map(|_| r.u16().map(u32::from)).collect::<Pr<_>>()?,
            4 => {
                let bytes = r.take(n.div_ceil(2))?;
                (0..n)
                    .map(|i| u32::from((bytes[i / 2] >> (4 * (1 - i % 2))) & 0xf))
                    .collect()
            }
            _ => return Err("stz2: bad field size".into()),
        }
    } else {
        return Err("missing sample sizes (stsz)".into());
    };
    let n = sizes.len();

    // Chunk offsets.
    let offsets: Vec<u64> = if let Some(stco) = child(stbl, b"stco")? {
        let mut r = Rd::new(stco);
        r.full()?;
        let c = r.count(4)?;
        (0..c).map(|_| r.u32().map(u64::from)).collect::<Pr<_>>()?
    } else if let Some(co64) = child(stbl, b"co64")? {
        let mut r = Rd::new(co64);
        r.full()?;
        let c = r.count(8)?;
        (0..c).map(|_| r.u64()).collect::<Pr<_>>()?
    } else {
        return Err("missing chunk offsets (stco)".into());
    };

    // Samples per chunk.
    let mut r = Rd::new(need(stbl, b"stsc")?);
    r.full()?;
    let c = r.count(12)?;
    let mut stsc = Vec::with_capacity(c);
    for _ in 0..c {
        let (first, per, _) = (r.u32()?, r.u32()?, r.u32()?);
        stsc.push((first as usize, per as usize));
    }

    // Durations.
    let mut r = Rd::new(need(stbl, b"stts")?);
    r.full()?;
    let c = r.count(8)?;
    let mut durations = Vec::with_capacity(n);
    for _ in 0..c {
        let (count, delta) = (r.u32()? as usize, r.u32()?);
        let count = count.min(n - durations.len());
        durations.extend(std::iter::repeat(delta).take(count));
    }
    if durations.len() < n {
        return Err("stts covers fewer samples than stsz".into());
    }

    let mut samples = Vec::with_capacity(n);
    let mut entry = 0;
    for (ci, &chunk_offset) in offsets.iter().enumerate() {
        let chunk = ci + 1;
        while entry + 1 < stsc.len() && stsc[entry + 1].0 <= chunk {
            entry += 1;
        }
        let per = match stsc.get(entry) {
            Some(&(first, per)) if first <= chunk => per,
            _ => 0,
        };
        let mut off = chunk_offset;
        for _ in 0..per {
            let i = samples.len();
            if i == n {
                break;
            }
            samples.push(Sample {
                offset: off,
                size: sizes[i],
                duration: durations[i],
            });
            off += u64::from(sizes[i]);
        }
    }
    if samples.len() != n {
        return Err(format!(
            "sample-to-chunk table places {} of {n} samples",
            samples.len()
        ));
    }
    Ok(samples)
}

/// Reads one sample's bytes from the file.
pub(crate) fn read_sample(path: &Path, file: &mut File, s: &Sample) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(s.offset))
        .map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; s.size as usize];
    file.read_exact(&mut buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::media(path, "a sample lies past the end of the file (truncated?)")
        } else {
            Error::io(path, e)
        }
    })?;
    Ok(buf)
}
