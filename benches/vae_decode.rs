//! Times the Wan VAE decode (latent frame by latent frame with the feature
//! cache) at small configs: the tiny Wan 2.1 and Wan 2.2 parity checkpoints
//! (`target/fixtures/wan_vae/{v21,v22}`, built by
//! `.venv/bin/python tests/fixtures/build_all.py wan_vae`), or a real `vae/`
//! folder given by `SORA_BENCH_VAE=/path/to/vae`.
//!
//! Environment: `SORA_BENCH_VAE_LATENT=FxHxW` (latent frames × height × width,
//! default `3x8x8`), `SORA_BENCH_DEVICE=cpu|cuda` (default cpu).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::models::wan::vae::WanVae;
use tch::{Device, Kind, Tensor};

fn latent_dims() -> (i64, i64, i64) {
    let spec = std::env::var("SORA_BENCH_VAE_LATENT").unwrap_or_else(|_| "3x8x8".into());
    let v: Vec<i64> = spec.split('x').filter_map(|s| s.parse().ok()).collect();
    match v.as_slice() {
        [f, h, w] => (*f, *h, *w),
        _ => panic!("SORA_BENCH_VAE_LATENT must look like 3x8x8, got {spec}"),
    }
}

fn device() -> Device {
    match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    }
}

fn folders() -> Vec<(String, PathBuf)> {
    if let Some(dir) = std::env::var_os("SORA_BENCH_VAE") {
        return vec![("custom".into(), PathBuf::from(dir))];
    }
    let root = std::env::var_os("SORA_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("fixtures")
        })
        .join("wan_vae");
    ["v21", "v22"]
        .iter()
        .map(|c| (format!("tiny_{c}"), root.join(c)))
        .filter(|(_, d)| d.is_dir())
        .collect()
}

fn bench(c: &mut Criterion) {
    tch::set_num_threads(
        std::thread::available_parallelism()
            .map(|n| n.get() as i32)
            .unwrap_or(1),
    );
    let _guard = tch::no_grad_guard();
    let dev = device();
    let (f, h, w) = latent_dims();
    let found = folders();
    if found.is_empty() {
        eprintln!(
            "vae_decode: no checkpoint; run `.venv/bin/python tests/fixtures/build_all.py wan_vae` \
             or set SORA_BENCH_VAE"
        );
        return;
    }
    let mut group = c.benchmark_group("wan_vae_decode");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, dir) in found {
        let vae = WanVae::load(&dir, dev, Kind::Float).expect("load the VAE");
        tch::manual_seed(0);
        let z = Tensor::randn([1, vae.latent_channels(), f, h, w], (Kind::Float, dev));
        let id = format!(
            "{name}/{}frames_{}x{}",
            vae.video_frames(f),
            h * vae.spatial_factor(),
            w * vae.spatial_factor()
        );
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut frames = 0;
                vae.decode_streaming(&z, &mut |chunk| {
                    frames += chunk.size()[2];
                    Ok(())
                })
                .expect("decode");
                if dev != Device::Cpu {
                    tch::Cuda::synchronize(0);
                }
                frames
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
