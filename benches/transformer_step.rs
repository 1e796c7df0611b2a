//! Times one `WanTransformer::forward` at a small config (2 blocks, 4 heads × 32,
//! latent 16×3×16×16 → 192 tokens, 64 text tokens) with random weights written
//! to a scratch folder and loaded like a checkpoint, and one denoising step
//! (`forward_with`, the cross-attention keys and values made beforehand). `SORA_BENCH_DEVICE=cuda`
//! runs it on the GPU (CPU otherwise).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::models::wan::transformer::{WanTransformer, WanTransformerConfig};
use tch::{Device, Kind, Tensor};

fn small_config() -> WanTransformerConfig {
    WanTransformerConfig {
        num_attention_heads: 4,
        attention_head_dim: 32,
        in_channels: 16,
        out_channels: Some(16),
        text_dim: 64,
        freq_dim: 32,
        ffn_dim: 256,
        num_layers: 2,
        ..WanTransformerConfig::default()
    }
}

/// Checkpoint names and shapes of a text-to-video Wan transformer.
fn tensor_shapes(c: &WanTransformerConfig) -> Vec<(String, Vec<i64>)> {
    let d = c.inner_dim();
    let [pt, ph, pw] = c.patch_size;
    let mut v: Vec<(String, Vec<i64>)> = Vec::new();
    let mut lin = |name: String, i: i64, o: i64| {
        v.push((format!("{name}.weight"), vec![o, i]));
        v.push((format!("{name}.bias"), vec![o]));
    };
    lin(
        "condition_embedder.time_embedder.linear_1".into(),
        c.freq_dim,
        d,
    );
    lin("condition_embedder.time_embedder.linear_2".into(), d, d);
    lin("condition_embedder.time_proj".into(), d, 6 * d);
    lin(
        "condition_embedder.text_embedder.linear_1".into(),
        c.text_dim,
        d,
    );
    lin("condition_embedder.text_embedder.linear_2".into(), d, d);
    lin("proj_out".into(), d, c.out_channels() * pt * ph * pw);
    for i in 0..c.num_layers {
        for a in ["attn1", "attn2"] {
            for p in ["to_q", "to_k", "to_v", "to_out.0"] {
                lin(format!("blocks.{i}.{a}.{p}"), d, d);
            }
        }
        lin(format!("blocks.{i}.ffn.net.0.proj"), d, c.ffn_dim);
        lin(format!("blocks.{i}.ffn.net.2"), c.ffn_dim, d);
    }
    for i in 0..c.num_layers {
        for a in ["attn1", "attn2"] {
            v.push((format!("blocks.{i}.{a}.norm_q.weight"), vec![d]));
            v.push((format!("blocks.{i}.{a}.norm_k.weight"), vec![d]));
        }
        v.push((format!("blocks.{i}.norm2.weight"), vec![d]));
        v.push((format!("blocks.{i}.norm2.bias"), vec![d]));
        v.push((format!("blocks.{i}.scale_shift_table"), vec![1, 6, d]));
    }
    v.push((
        "patch_embedding.weight".into(),
        vec![d, c.in_channels, pt, ph, pw],
    ));
    v.push(("patch_embedding.bias".into(), vec![d]));
    v.push(("scale_shift_table".into(), vec![1, 2, d]));
    v
}

/// Writes a random-weight checkpoint folder for `c`.
fn write_random_checkpoint(c: &WanTransformerConfig) -> PathBuf {
    tch::manual_seed(0);
    let dir =
        std::env::temp_dir().join(format!("sora_bench_wan_transformer_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let tensors: Vec<(String, Tensor)> = tensor_shapes(c)
        .into_iter()
        .map(|(n, s)| {
            let t = if n.contains("norm") && n.ends_with("weight") {
                Tensor::ones(s.as_slice(), (Kind::Float, Device::Cpu))
            } else {
                Tensor::randn(s.as_slice(), (Kind::Float, Device::Cpu)) * 0.05
            };
            (n, t)
        })
        .collect();
    Tensor::write_safetensors(&tensors, dir.join("diffusion_pytorch_model.safetensors"))
        .expect("write weights");
    let json = format!(
        r#"{{"_class_name": "WanTransformer3DModel", "patch_size": {:?},
            "num_attention_heads": {}, "attention_head_dim": {}, "in_channels": {},
            "out_channels": {}, "text_dim": {}, "freq_dim": {}, "ffn_dim": {},
            "num_layers": {}, "cross_attn_norm": true, "eps": 1e-6}}"#,
        c.patch_size,
        c.num_attention_heads,
        c.attention_head_dim,
        c.in_channels,
        c.out_channels(),
        c.text_dim,
        c.freq_dim,
        c.ffn_dim,
        c.num_layers
    );
    std::fs::write(dir.join("config.json"), json).expect("write config");
    dir
}

fn bench(cr: &mut Criterion) {
    let device = match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    };
    let cfg = small_config();
    let dir = write_random_checkpoint(&cfg);
    let model = WanTransformer::load(&dir, device, Kind::Float).expect("load the bench model");
    let _ = std::fs::remove_dir_all(&dir);
    let opts = (Kind::Float, device);
    let x = Tensor::randn([1, 16, 3, 16, 16], opts);
    let t = Tensor::from_slice(&[500.0f32]).to_device(device);
    let text = Tensor::randn([1, 64, cfg.text_dim], opts);
    cr.bench_function("wan_transformer_forward_small", |b| {
        b.iter(|| {
            let y = model.forward(&x, &t, &text, None).expect("forward");
            if device != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            black_box(y)
        })
    });
    // A denoising step as the pipeline runs it: the cross-attention keys and
    // values made once beforehand (the difference to the above is their cost).
    let kv = model
        .cross_attn_kv(&text, None)
        .expect("cross-attention keys and values");
    cr.bench_function("wan_transformer_step_small", |b| {
        b.iter(|| {
            let y = model.forward_with(&x, &t, &kv).expect("forward_with");
            if device != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            black_box(y)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
