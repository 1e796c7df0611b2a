//! Build script shared by every crate that links LibTorch: gives its binaries,
//! tests and shared libraries an rpath to the torch `lib/` that torch-sys
//! linked against, so they run with no `LD_LIBRARY_PATH`.

fn main() {
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    if std::env::var("CARGO_PKG_NAME").as_deref() == Ok("sora-py") {
        // Installed as site-packages/sora/_sora*.so: torch's libraries are beside it.
        println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../torch/lib");
    }
    println!("cargo:rerun-if-changed=../build/rpath.rs");
}
