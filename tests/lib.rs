//! Helpers shared by the integration tests: where the parity fixtures are
//! (built by `tests/fixtures/build_all.py` into `target/fixtures/`), reading
//! them, and comparing tensors with a tolerance relative to the output's scale.

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// `target/fixtures/<name>`, built by `tests/fixtures/build_all.py`. Panics with
/// the command to run when it is absent: a parity test never passes without its fixture.
pub fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("SORA_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target").join("fixtures"))
        .join(name);
    assert!(
        dir.is_dir(),
        "fixture {} is missing: run `.venv/bin/python tests/fixtures/build_all.py` (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// Reads every tensor of a safetensors file written by a fixture script (on CPU, as stored).
pub fn read_tensors(path: &Path) -> std::collections::HashMap<String, Tensor> {
    let v = Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    v.into_iter().collect()
}

/// Max |a − b| divided by max(|b|, 1e-6) over all values (both cast to f64).
pub fn rel_max_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shape mismatch");
    let a = a.to_kind(Kind::Double).to_device(tch::Device::Cpu);
    let b = b.to_kind(Kind::Double).to_device(tch::Device::Cpu);
    let diff = (&a - &b).abs().max().double_value(&[]);
    let scale = b.abs().max().double_value(&[]).max(1e-6);
    diff / scale
}

/// Asserts `rel_max_err(a, b) <= tol` with a message naming `what`.
pub fn assert_close(what: &str, a: &Tensor, b: &Tensor, tol: f64) {
    let e = rel_max_err(a, b);
    assert!(
        e <= tol,
        "{what}: max abs error relative to scale {e:.3e} > {tol:.1e}"
    );
}

/// Copies the folder `from` to `to`, recursively (for tests that damage a copy of a fixture).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A fresh, empty folder `target/tmp/<name>_<pid>` for a test's damaged
/// copies and outputs (emptied first).
pub fn scratch(name: &str) -> PathBuf {
    let dir = workspace()
        .join("target")
        .join("tmp")
        .join(format!("{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether two signed MP4 or WAV files are the same bytes outside their
/// content-credentials manifest, which sits at the same place with the same
/// size in both (C2PA salts each assertion's hash with random bytes, so two
/// signings of the same content differ only inside it). Files without a
/// manifest must be equal.
pub fn same_outside_manifest(a: &Path, b: &Path) -> bool {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    use sora_core::safety::credentials::manifest_span;
    match (manifest_span(&x), manifest_span(&y)) {
        (None, None) => x == y,
        (Some(sx), Some(sy)) => {
            sx == sy
                && x.len() == y.len()
                && x[..sx.0] == y[..sx.0]
                && x[sx.0 + sx.1..] == y[sx.0 + sx.1..]
        }
        _ => false,
    }
}
