//! Never lose a user's file: sora marks what it writes, and an existing output
//! path is replaced only when it holds a previous sora output (or the caller
//! says `overwrite`). The marks:
//!
//! - `.mp4`: a QuickTime `moov/udta/©too` (encoder) text `sora <version>`;
//! - `.wav`: a `LIST/INFO` chunk whose `ISFT` (software) is `sora <version>`;
//! - `.png` image: a `tEXt` chunk `Software` = `sora <version>`;
//! - `.jpg`/`.jpeg` image: a `COM` comment segment `sora <version>`;
//! - a folder of PNG frames: the file [`FOLDER_MARKER`] inside it.
//!
//! [`prepare_output`] is what a run calls first, before any compute: it takes
//! an advisory lock on the path (a second run writing the same path at once is
//! refused, naming the first's process), removes the temporaries of runs that
//! were killed ([`super::remove_stale_temporaries`]) and checks provenance.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub use super::paths::FOLDER_MARKER;
pub(crate) use super::paths::{is_loop, path_error};

/// How an output file or folder is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Replace an existing output that sora did not write (a folder is still
    /// replaced only when it holds nothing but PNG frames).
    pub overwrite: bool,
}

impl WriteOptions {
    /// Options that replace an existing output whoever wrote it.
    pub fn overwrite(mut self, on: bool) -> Self {
        self.overwrite = on;
        self
    }
}

/// The text sora writes as its mark: `sora <version>`.
pub(crate) fn mark_text() -> String {
    format!("sora {}", crate::version())
}

/// Whether `text` is a sora mark (`sora` or `sora <version>`).
fn is_mark(text: &[u8]) -> bool {
    let t = text.strip_suffix(b"\0").unwrap_or(text);
    t == b"sora" || t.starts_with(b"sora ")
}

/// The marker file's contents for a frame folder.
#[cfg(test)]
pub(crate) fn folder_marker_json() -> String {
    folder_marker_json_with_fps(None)
}

/// The marker file's contents, with the clip's frame rate when known (a
/// folder of frames has none of its own; `io::read_video` reads it back).
pub(crate) fn folder_marker_json_with_fps(fps: Option<f32>) -> String {
    let mut m = serde_json::Map::new();
    m.insert("writer".into(), "sora".into());
    m.insert("sora_version".into(), crate::version().into());
    if let Some(f) = fps.filter(|f| f.is_finite() && *f > 0.0) {
        m.insert("fps".into(), serde_json::json!(f));
    }
    let mut text = serde_json::Value::Object(m).to_string();
    text.push('\n');
    text
}

/// The frame rate recorded in a sora frame folder's marker, if any.
pub(crate) fn folder_fps(dir: &Path) -> Option<f32> {
    let text = fs::read_to_string(dir.join(FOLDER_MARKER)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let f = v.get("fps")?.as_f64()? as f32;
    (f.is_finite() && f > 0.0).then_some(f)
}

/// Whether the existing `path` holds an output sora wrote (by the marks in
/// the module docs). A path that does not exist is `false`.
pub fn is_sora_output(path: &Path) -> Result<bool> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(path_error(path, e)),
    };
    if meta.is_dir() {
        let marker = path.join(FOLDER_MARKER);
        return match fs::read(&marker) {
            Ok(bytes) => Ok(serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.get("writer")
                        .and_then(|w| w.as_str())
                        .map(|w| w == "sora")
                })
                .unwrap_or(false)),
            Err(_) => Ok(false),
        };
    }
    let mut file = fs::File::open(path).map_err(|e| path_error(path, e))?;
    let mut head = [0u8; 12];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    let r = if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        wav_marked(&mut file)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_marked(&mut file)
    } else if head.starts_with(&[0xFF, 0xD8]) {
        jpeg_marked(&mut file)
    } else if head.get(4..8) == Some(b"ftyp") {
        mp4_marked(&mut file)
    } else {
        Ok(false)
    };
    // A file too short or malformed to hold a mark is not a sora output.
    Ok(r.unwrap_or(false))
}

/// Refuses an existing `path` that sora did not write, unless `overwrite`.
pub fn check_replaceable(path: &Path, options: &WriteOptions) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(path_error(path, e)),
        Ok(_) => {}
    }
    // A dangling or looping link is an error either way.
    fs::metadata(path).map_err(|e| path_error(path, e))?;
    if options.overwrite || is_sora_output(path)? {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{} exists and was not written by sora; not replacing it (choose another path, \
         or overwrite: --overwrite, Python overwrite=True, C SORA_WRITE_OVERWRITE)",
        path.display()
    )))
}

/// Reads into `buf` until it is full or the file ends; returns the count.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Largest box or chunk body read whole while looking for a mark.
const MAX_META: u64 = 64 << 20;

/// MP4: `moov/udta/©too` holding a mark (top-level boxes walked by header).
fn mp4_marked(file: &mut fs::File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    let mut pos = 0u64;
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 16];
        let n = read_up_to(file, &mut h)?;
        if n < 8 {
            return Ok(false);
        }
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let (size, header) = match size32 {
            0 => (len - pos, 8),
            1 if n >= 16 => (
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]),
                16,
            ),
            s => (s, 8),
        };
        if size < header || pos + size > len {
            return Ok(false);
        }
        if &h[4..8] == b"moov" {
            let body = size - header;
            if body > MAX_META {
                return Ok(false);
            }
            file.seek(SeekFrom::Start(pos + header))?;
            let mut moov = vec![0u8; body as usize];
            file.read_exact(&mut moov)?;
            return Ok(child(&moov, b"udta")
                .and_then(|u| child(u, b"\xa9too"))
                .is_some_and(|t| t.len() >= 4 && is_mark(&t[4..])));
        }
        pos += size;
    }
    Ok(false)
}

/// The body of the first child box `kind` in `boxes` (32-bit sizes only).
pub(crate) fn child<'a>(boxes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut p = 0usize;
    while p + 8 <= boxes.len() {
        let size = u32::from_be_bytes(boxes[p..p + 4].try_into().ok()?) as usize;
        if size < 8 || p.checked_add(size)? > boxes.len() {
            return None;
        }
        if &boxes[p + 4..p + 8] == kind {
            return Some(&boxes[p + 8..p + size]);
        }
        p += size;
    }
    None
}

/// WAV: a `LIST` chunk of type `INFO` whose `ISFT` holds a mark.
fn wav_marked(file: &mut fs::File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    let mut pos = 12u64;
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h)?;
        let size = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
        if &h[0..4] == b"LIST" && size <= MAX_META && pos + 8 + size <= len {
            let mut body = vec![0u8; size as usize];
            file.read_exact(&mut body)?;
            if body.starts_with(b"INFO") {
                let mut p = 4usize;
                while p + 8 <= body.len() {
                    let n = u32::from_le_bytes([body[p + 4], body[p + 5], body[p + 6], body[p + 7]])
                        as usize;
                    let end = (p + 8).saturating_add(n).min(body.len());
                    if &body[p..p + 4] == b"ISFT" && is_mark(&body[p + 8..end]) {
                        return Ok(true);
                    }
                    p = end + (n & 1);
                }
            }
        }
        pos += 8 + size + (size & 1);
    }
    Ok(false)
}

/// PNG: a `tEXt` chunk `Software\0sora …` before the image data ends.
fn png_marked(file: &mut fs::File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    let mut pos = 8u64;
    while pos + 12 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h)?;
        let size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let kind = &h[4..8];
        if kind == b"IEND" {
            break;
        }
        if kind == b"tEXt" && size <= MAX_META {
            let mut body = vec![0u8; size as usize];
            file.read_exact(&mut body)?;
            if let Some(text) = body.strip_prefix(b"Software\0") {
                if is_mark(text) {
                    return Ok(true);
                }
            }
        }
        pos += 12 + size;
    }
    Ok(false)
}

/// JPEG: a `COM` segment holding a mark, before the scan starts.
fn jpeg_marked(file: &mut fs::File) -> std::io::Result<bool> {
    let mut pos = 2u64;
    let len = file.metadata()?.len();
    while pos + 4 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 4];
        file.read_exact(&mut h)?;
        if h[0] != 0xFF || h[1] == 0xDA || h[1] == 0xD9 {
            break;
        }
        let size = u64::from(u16::from_be_bytes([h[2], h[3]]));
        if size < 2 {
            break;
        }
        if h[1] == 0xFE {
            let mut body = vec![0u8; (size - 2) as usize];
            file.read_exact(&mut body)?;
            if is_mark(&body) {
                return Ok(true);
            }
        }
        pos += 2 + size;
    }
    Ok(false)
}

/// CRC-32 (ISO-HDLC, as PNG uses) of `parts` concatenated.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
    }
    !c
}

/// Inserts sora's mark into an encoded PNG (a `tEXt` chunk after `IHDR`) or
/// JPEG (a `COM` segment after `SOI`); other bytes are returned unchanged.
pub(crate) fn mark_image(bytes: Vec<u8>) -> Vec<u8> {
    let text = mark_text();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 33 && &bytes[12..16] == b"IHDR" {
        // Signature (8) + IHDR chunk (4 + 4 + 13 + 4).
        let at = 33;
        let mut body = b"Software\0".to_vec();
        body.extend_from_slice(text.as_bytes());
        let mut out = Vec::with_capacity(bytes.len() + body.len() + 12);
        out.extend_from_slice(&bytes[..at]);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(b"tEXt");
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&[b"tEXt", &body]).to_be_bytes());
        out.extend_from_slice(&bytes[at..]);
        return out;
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut out = Vec::with_capacity(bytes.len() + text.len() + 4);
        out.extend_from_slice(&bytes[..2]);
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&bytes[2..]);
        return out;
    }
    bytes
}

/// Appends sora's `LIST/INFO/ISFT` chunk to a finished WAV file and fixes its
/// RIFF size (readers skip chunks they do not know).
pub(crate) fn mark_wav(file: &mut fs::File) -> std::io::Result<()> {
    let mut text = mark_text().into_bytes();
    text.push(0);
    if text.len() % 2 == 1 {
        text.push(0);
    }
    let mut info = b"INFO".to_vec();
    info.extend_from_slice(b"ISFT");
    info.extend_from_slice(&(text.len() as u32).to_le_bytes());
    info.extend_from_slice(&text);
    let end = file.seek(SeekFrom::End(0))?;
    if end % 2 == 1 {
        // Chunks start on even offsets.
        file.write_all(&[0])?;
    }
    file.write_all(b"LIST")?;
    file.write_all(&(info.len() as u32).to_le_bytes())?;
    file.write_all(&info)?;
    let total = file.seek(SeekFrom::End(0))?;
    let riff = u32::try_from(total - 8).unwrap_or(u32::MAX);
    file.seek(SeekFrom::Start(4))?;
    file.write_all(&riff.to_le_bytes())?;
    file.flush()
}

/// The advisory lock of one output path: `.NAME.sora.lock` beside it, holding
/// the locking process's id; released (and removed) on drop.
#[derive(Debug)]
pub struct OutputLock {
    file: fs::File,
    path: PathBuf,
}

/// `parent/.NAME.sora.lock` for `target`.
fn lock_path(target: &Path) -> Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} does not name a file", target.display())))?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut n = std::ffi::OsString::from(".");
    n.push(name);
    n.push(".sora.lock");
    Ok(parent.join(n))
}

impl OutputLock {
    /// Locks `target` for this process, or refuses with
    /// [`Error::InvalidRequest`] naming the process that holds it.
    pub fn acquire(target: &Path) -> Result<Self> {
        let path = lock_path(target)?;
        // A run that removes the lock file between our open and our lock
        // leaves us holding a lock on a removed file: check, and try again.
        for _ in 0..16 {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| path_error(&path, e))?;
            if !try_lock(&file).map_err(|e| Error::io(&path, e))? {
                let mut held = String::new();
                let _ = file.read_to_string(&mut held);
                let who = match held.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".to_string(),
                };
                return Err(Error::invalid(format!(
                    "{} is in use by {who} (another run is writing it); wait for it to \
                     finish or choose another path",
                    target.display()
                )));
            }
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(|e| Error::io(&path, e))?;
            file.write_all(std::process::id().to_string().as_bytes())
                .map_err(|e| Error::io(&path, e))?;
            return Ok(Self { file, path });
        }
        Err(Error::io(
            &path,
            std::io::Error::other("the lock file keeps being replaced by other runs"),
        ))
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked, so that no other run locks this file
        // after us (it checks that the path still names what it locked).
        let _ = fs::remove_file(&self.path);
        let _ = &self.file;
    }
}

/// Takes an exclusive advisory lock on `file` without waiting.
fn try_lock(file: &fs::File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor this function borrows.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(e)
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// What a run holds on its output while it runs: the lock.
#[derive(Debug)]
pub struct OutputGuard {
    _lock: OutputLock,
}

/// Everything a run does with its output path before any compute: locks it
/// ([`OutputLock`]), removes the temporaries of killed runs
/// ([`super::remove_stale_temporaries`]) and refuses an existing path that
/// sora did not write unless `options.overwrite` ([`check_replaceable`]).
/// Keep the guard until the output is written.
pub fn prepare_output(path: &Path, options: &WriteOptions) -> Result<OutputGuard> {
    super::atomic::parent_of(path)?;
    let lock = OutputLock::acquire(path)?;
    super::atomic::remove_stale_temporaries(path)?;
    check_replaceable(path, options)?;
    Ok(OutputGuard { _lock: lock })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sora-prov-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn crc_matches_the_png_reference_value() {
        // CRC of "IEND" as every PNG ends with it.
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }

    #[test]
    fn foreign_files_are_refused_and_marked_ones_accepted() {
        let d = scratch("marks");
        let user = d.join("mine.mp4");
        fs::write(&user, b"\0\0\0\x10ftypisom\0\0\0\0").unwrap();
        let e = check_replaceable(&user, &WriteOptions::default()).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains("mine.mp4"), "{e}");
        assert!(check_replaceable(&user, &WriteOptions::default().overwrite(true)).is_ok());
        assert!(check_replaceable(&d.join("new.mp4"), &WriteOptions::default()).is_ok());
        // A frame folder without the marker is the user's; with it, ours.
        let frames = d.join("frames");
        fs::create_dir(&frames).unwrap();
        fs::write(frames.join("0000.png"), b"x").unwrap();
        assert!(!is_sora_output(&frames).unwrap());
        fs::write(frames.join(FOLDER_MARKER), folder_marker_json()).unwrap();
        assert!(is_sora_output(&frames).unwrap());
        // Marked PNG and JPEG bytes are recognised.
        let png = d.join("a.png");
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&[0; 17]);
        fs::write(&png, &bytes).unwrap();
        assert!(!is_sora_output(&png).unwrap());
        fs::write(&png, mark_image(bytes)).unwrap();
        assert!(is_sora_output(&png).unwrap());
        let jpg = d.join("a.jpg");
        fs::write(&jpg, mark_image(vec![0xFF, 0xD8, 0xFF, 0xD9])).unwrap();
        assert!(is_sora_output(&jpg).unwrap());
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_second_lock_on_the_same_path_names_the_holder() {
        let d = scratch("lock");
        let out = d.join("x.mp4");
        let first = OutputLock::acquire(&out).unwrap();
        let e = OutputLock::acquire(&out).unwrap_err().to_string();
        assert!(
            e.contains(&format!("in use by process {}", std::process::id())),
            "{e}"
        );
        drop(first);
        assert!(!d.join(".x.mp4.sora.lock").exists());
        let again = OutputLock::acquire(&out).unwrap();
        drop(again);
        let _ = fs::remove_dir_all(d);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_reported_as_a_loop() {
        let d = scratch("loop");
        let a = d.join("a.mp4");
        std::os::unix::fs::symlink(&a, &a).unwrap();
        let e = check_replaceable(&a, &WriteOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link loop"), "{e}");
        let _ = fs::remove_dir_all(d);
    }
}
