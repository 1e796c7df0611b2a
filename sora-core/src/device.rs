//! Devices and dtypes as plain Rust enums (the public API does not expose tch types).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// Where tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The CPU.
    #[default]
    Cpu,
    /// CUDA GPU number `n`.
    Cuda(usize),
}

impl Device {
    /// The tch device.
    pub fn to_tch(self) -> tch::Device {
        match self {
            Device::Cpu => tch::Device::Cpu,
            Device::Cuda(n) => tch::Device::Cuda(n),
        }
    }

    /// Waits until the device has finished its queued work (CUDA runs kernels
    /// asynchronously), so that a wall-clock reading covers them. No-op on CPU.
    pub fn synchronize(self) {
        if let Device::Cuda(n) = self {
            tch::Cuda::synchronize(n as i64);
        }
    }

    /// An error when the device is not available on this machine.
    ///
    /// For a CUDA device this first makes sure LibTorch's CUDA backend is loaded
    /// (see [`load_cuda_backend`]): the linker drops `libtorch_cuda.so` from
    /// binaries that never name one of its symbols, and then CUDA looks absent.
    pub fn check(self) -> Result<()> {
        if let Device::Cuda(n) = self {
            let loaded = load_cuda_backend();
            if !tch::Cuda::is_available() {
                let why = match loaded {
                    Err(e) => format!(" ({e})"),
                    Ok(()) => String::new(),
                };
                return Err(Error::Device(format!(
                    "cuda:{n} requested but CUDA is not available on this machine{why} (use --device cpu)"
                )));
            }
            let count = tch::Cuda::device_count() as usize;
            if n >= count {
                return Err(Error::Device(format!(
                    "cuda:{n} requested but this machine has {count} CUDA device(s)"
                )));
            }
        }
        Ok(())
    }
}

/// Loads LibTorch's CUDA backend (`libtorch_cuda.so`) into the process, once.
///
/// Its static initialisers register CUDA with LibTorch; until then
/// `tch::Cuda::is_available()` is false even on a GPU machine with a CUDA build
/// of torch. Binaries linked with `--as-needed` (the default) do not load it on
/// their own, because no Rust code names one of its symbols. The library is
/// found like any `dlopen`: the binary's rpath (the torch it was built
/// against), then `LD_LIBRARY_PATH`. Returns why it could not be loaded (a CPU
/// build of torch has no such library); loading twice is a no-op.
pub fn load_cuda_backend() -> std::result::Result<(), String> {
    static RESULT: std::sync::OnceLock<std::result::Result<(), String>> =
        std::sync::OnceLock::new();
    RESULT
        .get_or_init(|| {
            let name = c"libtorch_cuda.so";
            // SAFETY: a NUL-terminated constant name; the handle is kept open for
            // the life of the process (never dlclose'd), as LibTorch requires.
            let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            if handle.is_null() {
                // SAFETY: dlerror returns NULL or a NUL-terminated string owned by libc.
                let err = unsafe { libc::dlerror() };
                let why = if err.is_null() {
                    "unknown dlopen error".to_owned()
                } else {
                    // SAFETY: non-null, NUL-terminated (above).
                    unsafe { std::ffi::CStr::from_ptr(err) }
                        .to_string_lossy()
                        .into_owned()
                };
                Err(format!("cannot load libtorch_cuda.so: {why}"))
            } else {
                Ok(())
            }
        })
        .clone()
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for Device {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| {
                    Error::invalid(format!("unknown device `{s}` (use cpu, cuda or cuda:N)"))
                }),
        }
    }
}

/// The floating dtype of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    /// 32-bit float.
    #[default]
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    BF16,
}

impl Dtype {
    /// The tch kind.
    pub fn to_kind(self) -> tch::Kind {
        match self {
            Dtype::F32 => tch::Kind::Float,
            Dtype::F16 => tch::Kind::Half,
            Dtype::BF16 => tch::Kind::BFloat16,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::BF16 => "bfloat16",
        })
    }
}

impl FromStr for Dtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" | "fp32" | "float" => Ok(Dtype::F32),
            "f16" | "float16" | "fp16" | "half" => Ok(Dtype::F16),
            "bf16" | "bfloat16" => Ok(Dtype::BF16),
            other => Err(Error::invalid(format!(
                "unknown dtype `{other}` (use float32, float16 or bfloat16)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        for d in ["cpu", "cuda:1"] {
            assert_eq!(d.parse::<Device>().unwrap().to_string(), d);
        }
        assert!("tpu".parse::<Device>().is_err());
        assert_eq!("bf16".parse::<Dtype>().unwrap(), Dtype::BF16);
        assert!("int8".parse::<Dtype>().is_err());
    }
}
