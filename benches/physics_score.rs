//! Times the physics report of one clip the size Wan generates (81 frames of
//! 480×832, RGB) on the CPU: the clip metrics (flow at the analysis size) and
//! every other analyzer of `sora_core::physics::score::ANALYZERS`.
//!
//! `SORA_BENCH_THREADS=N` sets LibTorch's intra-op threads (its default
//! otherwise: one per core).
//!
//! The clip is drawn here: a textured background panning slowly, with a
//! bright disc falling across it, so that the flow has texture and motion.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array4;
use sora_core::physics::{score, ScoreInput};

const FRAMES: usize = 81;
const HEIGHT: usize = 480;
const WIDTH: usize = 832;

/// The bench clip (see the module docs).
fn clip() -> Array4<u8> {
    Array4::from_shape_fn((FRAMES, HEIGHT, WIDTH, 3), |(t, y, x, c)| {
        let (tf, yf, xf) = (t as f64, y as f64, x as f64);
        let px = xf - 1.5 * tf;
        let py = yf - 0.5 * tf;
        let bg = 0.5 * (0.05 * px + 0.3 * c as f64).sin() * (0.07 * py).cos()
            + 0.3 * (0.021 * px - 0.033 * py).sin()
            + 0.2 * (0.11 * px + 0.09 * py).sin();
        let (bx, by) = (200.0 + 6.0 * tf, 40.0 + 0.07 * tf * tf * 4.0);
        let r2 = (xf - bx).powi(2) + (yf - by).powi(2);
        let v = if r2 < 40.0 * 40.0 {
            230.0
        } else {
            120.0 + 80.0 * bg
        };
        v.clamp(0.0, 255.0) as u8
    })
}

fn bench(c: &mut Criterion) {
    if let Some(n) = std::env::var("SORA_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        tch::set_num_threads(n);
    }
    let frames = clip();
    let input = ScoreInput {
        frames: frames.view(),
        fps: 16.0,
        audio: None,
        sample_rate: 0,
        reference: None,
    };
    let start = Instant::now();
    let report = score(&input).expect("score");
    eprintln!(
        "one report: {:.2} s, {}",
        start.elapsed().as_secs_f64(),
        report.to_json()
    );
    let mut group = c.benchmark_group("physics");
    group.sample_size(10);
    group.bench_function("score_81x480x832", |b| {
        b.iter(|| black_box(score(&input).expect("score")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
