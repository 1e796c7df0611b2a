//! Writes the C header `include/sora.h` from `sora-ffi/src` with cbindgen
//! (pinned in this tool's own Cargo.lock). Not part of ordinary builds:
//!
//! ```sh
//! cargo run --manifest-path sora-ffi/gen-header/Cargo.toml --target-dir target/gen-header -- [OUT]
//! ```
//! `scripts/check_header.sh` runs it into a temporary file and fails when the
//! committed header is stale.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The crate whose `extern "C"` items make the header: sora-ffi, one level up.
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../include/sora.h"));
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gen-header: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&out);
            eprintln!("gen-header: wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-header: {e}");
            ExitCode::FAILURE
        }
    }
}
