//! Decodes random latents with a Wan VAE into an MP4 through the streaming
//! path that `Pipeline::generate_to_file` uses (`WanVae::decode_streaming` →
//! u8 frames → `FileSink` → H.264 chunk by chunk → mux at the end), then
//! prints one JSON line with the frame count, the time and the process's peak
//! resident memory. `benches/long_clip.py` runs it in a fresh process per clip
//! length and compares the peaks (docs/performance.md, "Long clips").
//!
//! ```text
//! cargo run --release -p sora-core --example stream_decode -- \
//!     --vae target/long_clip/small/vae --latent-frames 21 --width 832 --height 480 \
//!     --out /tmp/x.mp4 [--threads 2] [--seed 0] [--sink file|memory]
//! ```
//!
//! `--sink memory` decodes into one in-memory clip (what `Pipeline::generate`
//! holds) and writes it with `io::write_mp4`, for comparison.

use std::path::PathBuf;
use std::time::Instant;

use sora_core::family::FrameSink;
use sora_core::io::ClipSpec;
use sora_core::models::wan::vae::WanVae;
use sora_core::models::wan::video_to_frames;
use sora_core::pipeline::{peak_rss_mb, FileSink};
use sora_core::{Error, Result};
use tch::{Device, Kind, Tensor};

struct Args {
    vae: PathBuf,
    latent_frames: i64,
    width: i64,
    height: i64,
    out: PathBuf,
    threads: Option<i32>,
    seed: i64,
    memory: bool,
}

fn parse() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        vae: PathBuf::new(),
        latent_frames: 21,
        width: 832,
        height: 480,
        out: PathBuf::from("stream_decode.mp4"),
        threads: None,
        seed: 0,
        memory: false,
    };
    let bad = |flag: &str| Error::invalid(format!("{flag} needs a valid value"));
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| bad(&flag));
        match flag.as_str() {
            "--vae" => a.vae = PathBuf::from(value()?),
            "--latent-frames" => a.latent_frames = value()?.parse().map_err(|_| bad(&flag))?,
            "--width" => a.width = value()?.parse().map_err(|_| bad(&flag))?,
            "--height" => a.height = value()?.parse().map_err(|_| bad(&flag))?,
            "--out" => a.out = PathBuf::from(value()?),
            "--threads" => a.threads = Some(value()?.parse().map_err(|_| bad(&flag))?),
            "--seed" => a.seed = value()?.parse().map_err(|_| bad(&flag))?,
            "--sink" => {
                a.memory = match value()?.as_str() {
                    "file" => false,
                    "memory" => true,
                    _ => return Err(bad(&flag)),
                }
            }
            other => return Err(Error::invalid(format!("unknown option {other}"))),
        }
    }
    if a.vae.as_os_str().is_empty() {
        return Err(Error::invalid(
            "--vae DIR (a diffusers AutoencoderKLWan folder) is required",
        ));
    }
    Ok(a)
}

/// Collects the clip in memory the way `Pipeline::generate` does: one buffer
/// for the whole clip, each chunk copied in once.
struct Memory {
    data: Vec<u8>,
    frames: usize,
}

impl FrameSink for Memory {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        let t = frames.f_contiguous()?;
        let n = t.numel();
        let start = self.data.len();
        self.data.resize(start + n, 0);
        t.f_copy_data(&mut self.data[start..], n)?;
        self.frames += t.size()[0] as usize;
        Ok(())
    }
    fn audio(&mut self, _audio: Tensor, _sample_rate: u32) -> Result<()> {
        Ok(())
    }
}

fn run() -> Result<()> {
    let a = parse()?;
    if let Some(n) = a.threads {
        tch::set_num_threads(n);
    }
    let _guard = tch::no_grad_guard();
    let vae = WanVae::load(&a.vae, Device::Cpu, Kind::Float)?;
    let s = vae.spatial_factor();
    if a.width % s != 0 || a.height % s != 0 {
        return Err(Error::invalid(format!(
            "width and height must be multiples of {s}"
        )));
    }
    tch::manual_seed(a.seed);
    let z = Tensor::f_randn(
        [
            1,
            vae.latent_channels(),
            a.latent_frames,
            a.height / s,
            a.width / s,
        ],
        (Kind::Float, Device::Cpu),
    )?;
    let frames = vae.video_frames(a.latent_frames) as u32;
    let spec = ClipSpec {
        width: a.width as u32,
        height: a.height as u32,
        frames,
        fps: 16.0,
        audio: false,
    };
    let started = Instant::now();
    let written = if a.memory {
        let bytes = frames as usize * a.height as usize * a.width as usize * 3;
        let mut sink = Memory {
            data: Vec::with_capacity(bytes),
            frames: 0,
        };
        vae.decode_streaming(&z, &mut |v| sink.frames(video_to_frames(&v)?))?;
        let clip = ndarray::Array4::from_shape_vec(
            (sink.frames, a.height as usize, a.width as usize, 3),
            sink.data,
        )
        .map_err(|e| Error::Numeric(e.to_string()))?;
        sora_core::io::write_mp4(&a.out, clip.view(), spec.fps, None)?;
        clip.shape()[0]
    } else {
        let mut sink = FileSink::create(&a.out, &spec)?;
        vae.decode_streaming(&z, &mut |v| sink.frames(video_to_frames(&v)?))?;
        let n = sink.frames_written();
        sink.finish()?;
        n
    };
    let seconds = started.elapsed().as_secs_f64();
    let mp4_bytes = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"latent_frames\": {}, \"frames\": {written}, \"width\": {}, \"height\": {}, \
         \"sink\": \"{}\", \"seconds\": {seconds:.2}, \"mp4_bytes\": {mp4_bytes}, \
         \"latent_bytes\": {}, \"peak_rss_mb\": {:.1}}}",
        a.latent_frames,
        a.width,
        a.height,
        if a.memory { "memory" } else { "file" },
        z.numel() * 4,
        peak_rss_mb()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream_decode: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
