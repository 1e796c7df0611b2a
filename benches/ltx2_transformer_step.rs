//! Times one joint forward of LTX-2's audio-video transformer
//! (`Ltx2Transformer::forward`) at a small LTX-2.0-layout config: 2 blocks,
//! video 4 heads × 32 over a 3×8×12 latent grid (288 tokens), audio 4 heads ×
//! 16 over 25 latent frames, 64 text tokens, batch 2 (the two classifier-free
//! guidance branches), random weights written to a scratch folder and loaded
//! like a checkpoint. `SORA_BENCH_DEVICE=cuda` runs it on the GPU (CPU otherwise).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use sora_core::models::ltx2::{Ltx2Inputs, Ltx2Transformer, Ltx2TransformerConfig};
use tch::{Device, Kind, Tensor};

const GRID: [i64; 3] = [3, 8, 12];
const AUDIO_FRAMES: i64 = 25;
const TEXT_LEN: i64 = 64;

fn small_config() -> Ltx2TransformerConfig {
    Ltx2TransformerConfig {
        num_attention_heads: 4,
        attention_head_dim: 32,
        cross_attention_dim: 128,
        audio_num_attention_heads: 4,
        audio_attention_head_dim: 16,
        audio_cross_attention_dim: 64,
        caption_channels: 128,
        num_layers: 2,
        perturbed_attn: true,
        ..Ltx2TransformerConfig::default()
    }
}

/// Checkpoint names and shapes of an LTX-2.0-layout transformer (no gates,
/// no prompt modulation, caption projections).
fn tensor_shapes(c: &Ltx2TransformerConfig) -> Vec<(String, Vec<i64>)> {
    let (d, ad) = (c.inner_dim(), c.audio_inner_dim());
    let mut v: Vec<(String, Vec<i64>)> = Vec::new();
    let mut lin = |name: String, i: i64, o: i64| {
        v.push((format!("{name}.weight"), vec![o, i]));
        v.push((format!("{name}.bias"), vec![o]));
    };
    lin("proj_in".into(), c.in_channels, d);
    lin("audio_proj_in".into(), c.audio_in_channels, ad);
    lin("proj_out".into(), d, c.video_out_channels());
    lin("audio_proj_out".into(), ad, c.audio_out_dim());
    for (p, w) in [("caption_projection", d), ("audio_caption_projection", ad)] {
        lin(format!("{p}.linear_1"), c.caption_channels, w);
        lin(format!("{p}.linear_2"), w, w);
    }
    for (p, w, n) in [
        ("time_embed", d, 6),
        ("audio_time_embed", ad, 6),
        ("av_cross_attn_video_scale_shift", d, 4),
        ("av_cross_attn_audio_scale_shift", ad, 4),
        ("av_cross_attn_video_a2v_gate", d, 1),
        ("av_cross_attn_audio_v2a_gate", ad, 1),
    ] {
        lin(format!("{p}.emb.timestep_embedder.linear_1"), 256, w);
        lin(format!("{p}.emb.timestep_embedder.linear_2"), w, w);
        lin(format!("{p}.linear"), w, n * w);
    }
    for i in 0..c.num_layers {
        let b = format!("transformer_blocks.{i}");
        // (name, query width, key/value width, inner width)
        for (a, q, kv, inner) in [
            ("attn1", d, d, d),
            ("audio_attn1", ad, ad, ad),
            ("attn2", d, c.cross_attention_dim, d),
            ("audio_attn2", ad, c.audio_cross_attention_dim, ad),
            ("audio_to_video_attn", d, ad, ad),
            ("video_to_audio_attn", ad, d, ad),
        ] {
            lin(format!("{b}.{a}.to_q"), q, inner);
            lin(format!("{b}.{a}.to_k"), kv, inner);
            lin(format!("{b}.{a}.to_v"), kv, inner);
            lin(format!("{b}.{a}.to_out.0"), inner, q);
        }
        for (f, w) in [("ff", d), ("audio_ff", ad)] {
            lin(format!("{b}.{f}.net.0.proj"), w, 4 * w);
            lin(format!("{b}.{f}.net.2"), 4 * w, w);
        }
    }
    for i in 0..c.num_layers {
        let b = format!("transformer_blocks.{i}");
        for (a, inner) in [
            ("attn1", d),
            ("audio_attn1", ad),
            ("attn2", d),
            ("audio_attn2", ad),
            ("audio_to_video_attn", ad),
            ("video_to_audio_attn", ad),
        ] {
            v.push((format!("{b}.{a}.norm_q.weight"), vec![inner]));
            v.push((format!("{b}.{a}.norm_k.weight"), vec![inner]));
        }
        v.push((format!("{b}.scale_shift_table"), vec![6, d]));
        v.push((format!("{b}.audio_scale_shift_table"), vec![6, ad]));
        v.push((
            format!("{b}.video_a2v_cross_attn_scale_shift_table"),
            vec![5, d],
        ));
        v.push((
            format!("{b}.audio_a2v_cross_attn_scale_shift_table"),
            vec![5, ad],
        ));
    }
    v.push(("scale_shift_table".into(), vec![2, d]));
    v.push(("audio_scale_shift_table".into(), vec![2, ad]));
    v
}

/// Writes a random-weight checkpoint folder for `c`.
fn write_random_checkpoint(c: &Ltx2TransformerConfig) -> PathBuf {
    tch::manual_seed(0);
    let dir = std::env::temp_dir().join(format!(
        "sora_bench_ltx2_transformer_{}",
        std::process::id()
    ));
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
    let json = config_json(c);
    std::fs::write(dir.join("config.json"), json).expect("write config");
    dir
}

fn config_json(c: &Ltx2TransformerConfig) -> String {
    format!(
        r#"{{"_class_name": "LTX2VideoTransformer3DModel", "num_attention_heads": {},
            "attention_head_dim": {}, "cross_attention_dim": {}, "audio_num_attention_heads": {},
            "audio_attention_head_dim": {}, "audio_cross_attention_dim": {},
            "caption_channels": {}, "num_layers": {}, "perturbed_attn": true}}"#,
        c.num_attention_heads,
        c.attention_head_dim,
        c.cross_attention_dim,
        c.audio_num_attention_heads,
        c.audio_attention_head_dim,
        c.audio_cross_attention_dim,
        c.caption_channels,
        c.num_layers
    )
}

fn bench(cr: &mut Criterion) {
    let device = match std::env::var("SORA_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    };
    let cfg = small_config();
    let dir = write_random_checkpoint(&cfg);
    let model = Ltx2Transformer::load(&dir, device, Kind::Float).expect("load the bench model");
    let _ = std::fs::remove_dir_all(&dir);
    let opts = (Kind::Float, device);
    let tokens = GRID.iter().product::<i64>();
    let video = Tensor::randn([2, tokens, cfg.in_channels], opts);
    let audio = Tensor::randn([2, AUDIO_FRAMES, cfg.audio_in_channels], opts);
    let text = Tensor::randn([2, TEXT_LEN, cfg.caption_channels], opts);
    let t = Tensor::from_slice(&[500.0f32, 500.0]).to_device(device);
    let inputs = Ltx2Inputs::new(&video, &audio, &text, &text, &t, GRID, AUDIO_FRAMES);
    cr.bench_function("ltx2_transformer_forward_small", |b| {
        b.iter(|| {
            let y = model.forward(&inputs).expect("forward");
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
