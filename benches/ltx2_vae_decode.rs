//! Times LTX-2's VAE decodes at small configs: the audio VAE (latents →
//! mel, `target/fixtures/ltx2_vae/audio`) on five seconds of audio latents
//! (126 frames, the pipeline's 25 latent frames per second); the whole audio
//! decode, latents → mel → waveform (audio VAE + vocoder of the pipeline
//! fixture `target/fixtures/ltx2_pipeline/v20`, 24 kHz stereo), on the same five
//! seconds; and the video VAE
//! (`target/fixtures/ltx2_vae/v20`) on `SORA_BENCH_VAE_LATENT=FxHxW` latents
//! (default `4x8x8`). Fixtures: `.venv/bin/python tests/fixtures/build_all.py
//! ltx2_vae`. Real folders: `SORA_BENCH_AUDIO_VAE=/path/audio_vae`,
//! `SORA_BENCH_VIDEO_VAE=/path/vae`, `SORA_BENCH_LTX2=/path/ltx2-folder` (its
//! `audio_vae` and `vocoder`). `SORA_BENCH_DEVICE=cpu|cuda` (default cpu).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::models::ltx2::{Ltx2AudioVae, Ltx2VideoVae, Ltx2Vocoder};
use tch::{Device, Kind, Tensor};

fn device() -> Device {
    match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    }
}

fn folder(var: &str, case: &str) -> Option<PathBuf> {
    fixture_folder(var, "ltx2_vae", case)
}

fn fixture_folder(var: &str, fixture: &str, case: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(var) {
        return Some(PathBuf::from(dir));
    }
    let dir = std::env::var_os("SORA_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("fixtures")
        })
        .join(fixture)
        .join(case);
    dir.is_dir().then_some(dir)
}

fn latent_dims() -> (i64, i64, i64) {
    let spec = std::env::var("SORA_BENCH_VAE_LATENT").unwrap_or_else(|_| "4x8x8".into());
    let v: Vec<i64> = spec.split('x').filter_map(|s| s.parse().ok()).collect();
    match v.as_slice() {
        [f, h, w] => (*f, *h, *w),
        _ => panic!("SORA_BENCH_VAE_LATENT must look like 4x8x8, got {spec}"),
    }
}

fn sync(dev: Device) {
    if dev != Device::Cpu {
        tch::Cuda::synchronize(0);
    }
}

fn bench(c: &mut Criterion) {
    let _guard = tch::no_grad_guard();
    let dev = device();
    let mut group = c.benchmark_group("ltx2_vae_decode");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    match folder("SORA_BENCH_AUDIO_VAE", "audio") {
        Some(dir) => {
            let vae = Ltx2AudioVae::load(&dir, dev, Kind::Float).expect("load the audio VAE");
            tch::manual_seed(0);
            let d = vae.latent_channels() * vae.latent_mel_bins();
            let packed = Tensor::randn([1, 126, d], (Kind::Float, dev));
            let id = format!("audio/{}mel_frames", vae.mel_frames(126));
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mel = vae.decode_packed(&packed).expect("decode");
                    sync(dev);
                    mel
                })
            });
        }
        None => eprintln!("ltx2_vae_decode: no audio VAE (build the ltx2_vae fixture or set SORA_BENCH_AUDIO_VAE)"),
    }
    match fixture_folder("SORA_BENCH_LTX2", "ltx2_pipeline", "v20") {
        Some(dir) => {
            let vae =
                Ltx2AudioVae::load(&dir.join("audio_vae"), dev, Kind::Float).expect("audio VAE");
            let vocoder =
                Ltx2Vocoder::load(&dir.join("vocoder"), dev, Kind::Float).expect("vocoder");
            tch::manual_seed(0);
            let d = vae.latent_channels() * vae.latent_mel_bins();
            let packed = Tensor::randn([1, 126, d], (Kind::Float, dev));
            let id = format!(
                "audio_to_waveform/{}samples_{}hz",
                vocoder.output_len(vae.mel_frames(126)),
                vocoder.sample_rate()
            );
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mel = vae.decode_packed(&packed).expect("decode");
                    let wave = vocoder.forward(&mel).expect("vocoder");
                    sync(dev);
                    wave
                })
            });
        }
        None => eprintln!(
            "ltx2_vae_decode: no LTX-2 pipeline (build the ltx2_pipeline fixture or set SORA_BENCH_LTX2)"
        ),
    }
    match folder("SORA_BENCH_VIDEO_VAE", "v20") {
        Some(dir) => {
            let vae = Ltx2VideoVae::load(&dir, dev, Kind::Float).expect("load the video VAE");
            let (f, h, w) = latent_dims();
            tch::manual_seed(0);
            let z = Tensor::randn([1, vae.latent_channels(), f, h, w], (Kind::Float, dev));
            let t = vae.timestep_conditioning().then(|| Tensor::from_slice(&[0.05f32]));
            let s = vae.spatial_compression_ratio();
            let id = format!("video/{}frames_{}x{}", vae.video_frames(f), h * s, w * s);
            group.bench_function(id, |b| {
                b.iter(|| {
                    let v = vae.decode(&z, t.as_ref()).expect("decode");
                    sync(dev);
                    v
                })
            });
        }
        None => eprintln!("ltx2_vae_decode: no video VAE (build the ltx2_vae fixture or set SORA_BENCH_VIDEO_VAE)"),
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
