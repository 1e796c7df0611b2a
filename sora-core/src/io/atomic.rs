//! Atomic writes: every writer of this module writes to a temporary name in the
//! target's own folder and renames it into place at the end, so a failed or
//! interrupted write never leaves a partial file (or folder) under the final name.
//!
//! Temporaries are named `.NAME.sora-PID-N.tmp` beside `NAME` (PID: the
//! writing process, N: a counter). A process killed outright (SIGKILL, power
//! loss) cannot remove its own: [`remove_stale_temporaries`], run by the next
//! write to the same path, removes those whose process is gone.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file or folder next to `target`; removed on drop unless committed.
pub(crate) struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    is_dir: bool,
    committed: bool,
}

/// The existing folder `target` is to be written into.
pub(crate) fn parent_of(target: &Path) -> Result<PathBuf> {
    if target.file_name().is_none() {
        return Err(Error::invalid(format!(
            "{} does not name a file",
            target.display()
        )));
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Err(e) = fs::metadata(&parent) {
        if super::paths::is_loop(&e) {
            return Err(super::paths::path_error(&parent, e));
        }
    }
    if !parent.is_dir() {
        return Err(Error::io(
            &parent,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the folder to write into does not exist",
            ),
        ));
    }
    Ok(parent)
}

/// `parent/.name.sora-<pid>-<n>.tmp` for `target`.
fn temp_name(target: &Path) -> Result<PathBuf> {
    let parent = parent_of(target)?;
    let name = target
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} does not name a file", target.display())))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".sora-{}-{n}.tmp", std::process::id()));
    Ok(parent.join(tmp_name))
}

impl Staged {
    /// Checks, before any work, that a file can be committed as `target`: its
    /// folder exists and `target` is not a folder.
    pub(crate) fn check_file_target(target: &Path) -> Result<()> {
        parent_of(target)?;
        if target.is_dir() {
            return Err(Error::io(
                target,
                std::io::Error::other("is a folder; give a file name to write"),
            ));
        }
        Ok(())
    }

    /// Checks, before any work, that a folder can be committed as `target`:
    /// its parent exists, and an existing `target` is a PNG frame folder
    /// (the only kind [`Staged::commit`] replaces).
    pub(crate) fn check_dir_target(target: &Path) -> Result<()> {
        parent_of(target)?;
        match fs::symlink_metadata(target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(target, e)),
            Ok(meta) if meta.is_dir() && holds_only_frames(target)? => Ok(()),
            Ok(_) => Err(not_a_frame_folder(target)),
        }
    }

    /// Stages a file write for `target` (the temporary file is not created yet).
    pub(crate) fn file(target: &Path) -> Result<Self> {
        Self::check_file_target(target)?;
        Ok(Staged {
            tmp: temp_name(target)?,
            target: target.to_path_buf(),
            is_dir: false,
            committed: false,
        })
    }

    /// Stages a folder write for `target`: creates an empty temporary folder.
    /// An existing `target` that is not a PNG frame folder is refused now.
    pub(crate) fn dir(target: &Path) -> Result<Self> {
        Self::check_dir_target(target)?;
        let tmp = temp_name(target)?;
        fs::create_dir(&tmp).map_err(|e| Error::io(target, e))?;
        Ok(Staged {
            tmp,
            target: target.to_path_buf(),
            is_dir: true,
            committed: false,
        })
    }

    /// Where to write.
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final name (what errors name: the user's path, not the temporary).
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the staged file or folder to its final name (replacing an
    /// existing file; an existing folder only if it holds nothing but a PNG
    /// frame sequence).
    pub(crate) fn commit(mut self) -> Result<()> {
        if self.is_dir {
            self.commit_dir()?;
        } else {
            fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        self.committed = true;
        Ok(())
    }

    fn commit_dir(&self) -> Result<()> {
        let target = &self.target;
        match fs::symlink_metadata(target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::rename(&self.tmp, target).map_err(|e| Error::io(target, e))
            }
            Err(e) => Err(Error::io(target, e)),
            Ok(meta) => {
                if !meta.is_dir() || !holds_only_frames(target)? {
                    return Err(not_a_frame_folder(target));
                }
                // Move the old folder aside, put the new one in place, then drop the old one.
                let old = temp_name(target)?;
                fs::rename(target, &old).map_err(|e| Error::io(target, e))?;
                if let Err(e) = fs::rename(&self.tmp, target) {
                    let _ = fs::rename(&old, target);
                    return Err(Error::io(target, e));
                }
                fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))
            }
        }
    }
}

/// The error for an existing `target` that a frame folder may not replace.
fn not_a_frame_folder(target: &Path) -> Error {
    Error::media(
        target,
        "exists and is not a PNG frame folder written by sora; not replacing it",
    )
}

/// True when `dir` holds only files named like `0000.png` (or nothing), and
/// at most sora's marker file ([`super::paths::FOLDER_MARKER`]) and the
/// clip's audio ([`super::paths::FOLDER_AUDIO`]).
pub(crate) fn holds_only_frames(dir: &Path) -> Result<bool> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_frame = name == super::paths::FOLDER_MARKER
            || name == super::paths::FOLDER_AUDIO
            || name
                .strip_suffix(".png")
                .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()));
        let is_file = entry.file_type().map_err(|e| Error::io(dir, e))?.is_file();
        if !(is_frame && is_file) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The process id in a temporary's name `.NAME.sora-PID-N.tmp` of `target_name`.
fn temp_owner(entry_name: &str, target_name: &str) -> Option<u32> {
    let rest = entry_name
        .strip_prefix('.')?
        .strip_prefix(target_name)?
        .strip_prefix(".sora-")?
        .strip_suffix(".tmp")?;
    let (pid, n) = rest.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` exists (Linux and other Unix: `kill(pid, 0)`;
/// elsewhere every process is assumed alive, so nothing is removed).
pub(crate) fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(p) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if p <= 0 {
            return true;
        }
        // SAFETY: kill with signal 0 sends nothing; it only checks the process.
        let r = unsafe { libc::kill(p, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the temporaries `.NAME.sora-PID-N.tmp` (files or folders) left
/// beside `target` by processes that no longer run (a run killed with
/// SIGKILL cannot remove its own). Those of running processes, this one
/// included, are kept. Returns the paths removed.
pub fn remove_stale_temporaries(target: &Path) -> Result<Vec<PathBuf>> {
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let entries = match fs::read_dir(parent) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(parent, e)),
    };
    let me = std::process::id();
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(parent, e))?;
        let entry_name = entry.file_name();
        let Some(pid) = entry_name.to_str().and_then(|n| temp_owner(n, name)) else {
            continue;
        };
        if pid == me || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir();
        let r = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match r {
            Ok(()) => removed.push(path),
            // Another run removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Ok(removed)
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = if self.is_dir {
                fs::remove_dir_all(&self.tmp)
            } else {
                fs::remove_file(&self.tmp)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sora-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn targets_are_checked_before_any_write() {
        let d = scratch("targets");
        assert!(Staged::check_file_target(&d.join("a.mp4")).is_ok());
        assert!(matches!(
            Staged::check_file_target(&d.join("missing/a.mp4")),
            Err(Error::Io { .. })
        ));
        // A folder where a file should go.
        assert!(matches!(
            Staged::check_file_target(&d),
            Err(Error::Io { .. })
        ));
        assert!(Staged::check_dir_target(&d.join("frames")).is_ok());
        let frames = d.join("frames");
        fs::create_dir(&frames).unwrap();
        fs::write(frames.join("0000.png"), b"x").unwrap();
        assert!(Staged::check_dir_target(&frames).is_ok());
        fs::write(frames.join("notes.txt"), b"x").unwrap();
        assert!(matches!(
            Staged::check_dir_target(&frames),
            Err(Error::Media { .. })
        ));
        // A file where a frame folder should go.
        fs::write(d.join("file"), b"x").unwrap();
        assert!(matches!(
            Staged::check_dir_target(&d.join("file")),
            Err(Error::Media { .. })
        ));
        // Staging refuses the same targets, and leaves nothing.
        assert!(Staged::dir(&frames).is_err());
        assert!(Staged::file(&d).is_err());
        let mut names: Vec<String> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["file", "frames"]);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let d = scratch("stale");
        let target = d.join("a.mp4");
        // A pid above Linux's largest pid_max (2^22): no such process.
        let dead = 99_999_999u32;
        let me = std::process::id();
        for n in [
            format!(".a.mp4.sora-{dead}-0.tmp"),
            format!(".a.mp4.sora-{dead}-1.tmp"),
            format!(".a.mp4.sora-{me}-7.tmp"),
            format!(".b.mp4.sora-{dead}-0.tmp"),
            ".a.mp4.sora-x-0.tmp".to_string(),
            "a.mp4".to_string(),
        ] {
            fs::write(d.join(n), b"x").unwrap();
        }
        fs::create_dir(d.join(format!(".a.mp4.sora-{dead}-2.tmp"))).unwrap();
        fs::write(d.join(format!(".a.mp4.sora-{dead}-2.tmp/0000.png")), b"x").unwrap();
        let removed = remove_stale_temporaries(&target).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        let mut names: Vec<String> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want = vec![
            format!(".a.mp4.sora-{me}-7.tmp"),
            format!(".b.mp4.sora-{dead}-0.tmp"),
            ".a.mp4.sora-x-0.tmp".to_string(),
            "a.mp4".to_string(),
        ];
        want.sort();
        assert_eq!(names, want);
        assert!(process_alive(me));
        assert!(!process_alive(dead));
        let _ = fs::remove_dir_all(d);
    }
}
