//! The embedded default model: the tiny LTX-2 audio-video pipeline trained
//! here on the physics simulator's clips (docs/training.md), compiled into
//! the library from `sora-core/default-model/` and written out, once, to a
//! cache folder so that the normal loader reads it like any downloaded
//! model. A [`super::PipelineBuilder`] without a model folder loads it (and
//! so do the CLI without `--model`, Python's `sora.Pipeline()` and C's
//! `sora_pipeline_new(NULL, ...)`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::{Error, Result};

/// The default model's name (the cache folder starts with it).
pub const NAME: &str = "sora-tiny-av";

/// The environment variable that overrides where the default model is
/// written out (else `$XDG_CACHE_HOME/sora`, `$HOME/.cache/sora`, or the
/// temporary directory).
pub const CACHE_ENV: &str = "SORA_CACHE_DIR";

/// The marker written last: a folder without it is incomplete.
const COMPLETE: &str = ".complete";

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/default-model/", $path)) as &[u8])),*]
    };
}

/// Every file of the default model's folder: (path in the folder, bytes).
pub const FILES: &[(&str, &[u8])] = embedded!(
    "model_index.json",
    "sora_defaults.json",
    "scheduler/scheduler_config.json",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "connectors/config.json",
    "connectors/diffusion_pytorch_model.safetensors",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "audio_vae/config.json",
    "audio_vae/diffusion_pytorch_model.safetensors",
    "vocoder/config.json",
    "vocoder/diffusion_pytorch_model.safetensors",
);

/// FNV-1a over every file's path and bytes: names the cache folder, so a
/// library with other weights never reads a stale copy.
fn content_hash() -> u64 {
    static HASH: OnceLock<u64> = OnceLock::new();
    *HASH.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (path, bytes) in FILES {
            for b in path.bytes().chain([0u8]).chain(bytes.iter().copied()) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    })
}

/// Total size of the embedded files, bytes.
pub fn size_bytes() -> usize {
    FILES.iter().map(|(_, b)| b.len()).sum()
}

/// The folder the default model is written to under `cache`.
fn folder_in(cache: &Path) -> PathBuf {
    cache.join(format!("{NAME}-{:016x}", content_hash()))
}

/// The cache root: `$SORA_CACHE_DIR`, `$XDG_CACHE_HOME/sora`,
/// `$HOME/.cache/sora`, or `<temp>/sora-cache`.
pub fn cache_root() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var(CACHE_ENV) {
        return p;
    }
    if let Some(p) = var("XDG_CACHE_HOME") {
        return p.join("sora");
    }
    if let Some(p) = var("HOME") {
        return p.join(".cache").join("sora");
    }
    std::env::temp_dir().join("sora-cache")
}

/// Whether `dir` holds every embedded file at its size, and the marker.
fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE).is_file()
        && FILES.iter().all(|(path, bytes)| {
            std::fs::metadata(dir.join(path)).is_ok_and(|m| m.len() == bytes.len() as u64)
        })
}

/// Writes every file into `dir` (created), then the marker.
fn write_all(dir: &Path) -> Result<()> {
    for (path, bytes) in FILES {
        let dest = dir.join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&dest, bytes).map_err(|e| Error::io(&dest, e))?;
    }
    let marker = dir.join(COMPLETE);
    std::fs::write(&marker, NAME).map_err(|e| Error::io(&marker, e))
}

/// The default model's folder under `cache`, written out if it is missing
/// or incomplete (into a temporary sibling, then renamed into place, so
/// processes starting together never read a half-written folder).
pub fn folder_under(cache: &Path) -> Result<PathBuf> {
    let dir = folder_in(cache);
    if is_complete(&dir) {
        return Ok(dir);
    }
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = cache.join(format!(".{NAME}-{}-{nanos}.partial", std::process::id()));
    write_all(&tmp)?;
    if dir.exists() && !is_complete(&dir) {
        // A damaged copy (e.g. a file truncated by hand): replace it.
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process put a copy in place first: use it.
        std::fs::remove_dir_all(&tmp).ok();
        if !is_complete(&dir) {
            return Err(Error::invalid(format!(
                "could not write the default model to {} (set {CACHE_ENV} to a writable folder)",
                dir.display()
            )));
        }
    }
    Ok(dir)
}

/// The default model's folder under [`cache_root`], written out on first use.
pub fn folder() -> Result<PathBuf> {
    folder_under(&cache_root())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_folder_is_embedded() {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("default-model");
        let mut on_disk = Vec::new();
        walk(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn the_default_model_is_written_once_and_repaired_when_damaged() {
        assert!(size_bytes() <= 20 * 1024 * 1024, "{} bytes", size_bytes());
        let cache = std::env::temp_dir().join(format!("sora-default-{}", std::process::id()));
        let dir = folder_under(&cache).unwrap();
        assert!(is_complete(&dir));
        let index = std::fs::read_to_string(dir.join("model_index.json")).unwrap();
        assert!(index.contains("LTX2Pipeline"), "{index}");
        // A second call reuses it; a truncated file is rewritten.
        assert_eq!(folder_under(&cache).unwrap(), dir);
        let weights = dir.join("transformer/diffusion_pytorch_model.safetensors");
        std::fs::write(&weights, b"short").unwrap();
        assert!(!is_complete(&dir));
        assert_eq!(folder_under(&cache).unwrap(), dir);
        assert!(is_complete(&dir));
        let leftovers = std::fs::read_dir(&cache).unwrap().count();
        assert_eq!(leftovers, 1, "temporary folders are cleaned up");
        std::fs::remove_dir_all(&cache).ok();
    }
}
