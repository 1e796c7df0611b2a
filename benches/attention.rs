//! Times `nn::sdpa` (LibTorch's scaled-dot-product attention, the one attention
//! every family calls) at the shapes of the Wan transformer: self-attention over
//! the latent tokens and cross-attention to the 512 text tokens, at the
//! side-by-side harness's `small` size (CFG batch 2, 4 heads × 64, 960 tokens),
//! and at Wan2.1-1.3B's heads (12 × 128) over a 480p clip's tokens on CUDA
//! (`SORA_BENCH_DEVICE=cuda`; on CPU a 2-frame slice of them, 3 120 tokens).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::nn::sdpa;
use tch::{Device, Kind, Tensor};

struct Shape {
    name: &'static str,
    batch: i64,
    heads: i64,
    head_dim: i64,
    q_len: i64,
    kv_len: i64,
}

fn bench(cr: &mut Criterion) {
    let (device, kind) = match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => (Device::Cuda(0), Kind::BFloat16),
        _ => (Device::Cpu, Kind::Float),
    };
    // 480p Wan2.1: 81 frames → 21 latent frames × 30 × 52 patches = 32 760 tokens.
    let big_tokens = if device == Device::Cpu {
        2 * 30 * 52
    } else {
        21 * 30 * 52
    };
    let shapes = [
        Shape {
            name: "small_self",
            batch: 2,
            heads: 4,
            head_dim: 64,
            q_len: 960,
            kv_len: 960,
        },
        Shape {
            name: "small_cross",
            batch: 2,
            heads: 4,
            head_dim: 64,
            q_len: 960,
            kv_len: 512,
        },
        Shape {
            name: "wan21_1_3b_480p_self",
            batch: 1,
            heads: 12,
            head_dim: 128,
            q_len: big_tokens,
            kv_len: big_tokens,
        },
        Shape {
            name: "wan21_1_3b_480p_cross",
            batch: 1,
            heads: 12,
            head_dim: 128,
            q_len: big_tokens,
            kv_len: 512,
        },
    ];
    let mut group = cr.benchmark_group("sdpa");
    group.sample_size(10);
    for s in &shapes {
        let opts = (kind, device);
        let q = Tensor::randn([s.batch, s.heads, s.q_len, s.head_dim], opts);
        let k = Tensor::randn([s.batch, s.heads, s.kv_len, s.head_dim], opts);
        let v = Tensor::randn([s.batch, s.heads, s.kv_len, s.head_dim], opts);
        group.bench_function(s.name, |b| {
            b.iter(|| {
                let y = sdpa(&q, &k, &v, None).expect("sdpa");
                if let Device::Cuda(n) = device {
                    tch::Cuda::synchronize(n as i64);
                }
                black_box(y)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
