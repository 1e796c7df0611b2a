//! Times one scheduler step on a Wan-sized latent (480p, 81 frames:
//! `[1, 16, 21, 60, 104]`, f32): UniPC (Wan's config, flow shift 3, in the
//! steady state with predictor and corrector of order 2) and flow-match Euler.
//! Also the experimental motion guidance's edit of one step's velocity on the
//! same latent (`sora_core::denoise::motion`), the cost it adds to each step it
//! acts on. `SORA_BENCH_DEVICE=cuda` runs it on the GPU (CPU otherwise).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::denoise::MotionGuidance;
use sora_core::sampler::{
    FlowMatchEulerConfig, FlowMatchEulerScheduler, Scheduler, UniPcConfig, UniPcScheduler,
};
use tch::{Device, Kind, Tensor};

const SHAPE: [i64; 5] = [1, 16, 21, 60, 104];

fn device() -> Device {
    match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    }
}

/// A scheduler with 50 timesteps, walked `warm` steps so that its history is full.
fn warmed(mut s: Box<dyn Scheduler>, warm: i64, dev: Device) -> (Box<dyn Scheduler>, Tensor) {
    s.set_timesteps(50).expect("set_timesteps");
    let mut x = Tensor::randn(SHAPE, (Kind::Float, dev));
    for i in 0..warm {
        let v = Tensor::randn(SHAPE, (Kind::Float, dev));
        x = s.step(&v, &s.timesteps().get(i), &x).expect("step");
    }
    (s, x)
}

fn bench(c: &mut Criterion) {
    tch::manual_seed(0);
    let dev = device();
    let v = Tensor::randn(SHAPE, (Kind::Float, dev));
    let unipc = UniPcScheduler::new(UniPcConfig::wan(3.0)).expect("unipc");
    let (base, x) = warmed(Box::new(unipc), 2, dev);
    let t = base.timesteps().get(2);
    c.bench_function("unipc_step_wan480p", |b| {
        b.iter(|| {
            let mut s = base.box_clone();
            let out = s.step(&v, &t, &x).expect("step");
            if dev != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            black_box(out)
        })
    });
    let euler = FlowMatchEulerScheduler::new(FlowMatchEulerConfig {
        shift: 5.0,
        ..Default::default()
    })
    .expect("euler");
    let (base, x) = warmed(Box::new(euler), 2, dev);
    let t = base.timesteps().get(2);
    c.bench_function("flow_euler_step_wan480p", |b| {
        b.iter(|| {
            let mut s = base.box_clone();
            let out = s.step(&v, &t, &x).expect("step");
            if dev != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            black_box(out)
        })
    });
    let guidance = MotionGuidance {
        strength: 0.5,
        from: 0.5,
    };
    c.bench_function("motion_guidance_wan480p", |b| {
        b.iter(|| {
            let out = guidance.apply(&x, &v, 0.4).expect("motion guidance");
            if dev != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            black_box(out)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
