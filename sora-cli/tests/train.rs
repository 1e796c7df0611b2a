//! `sora train vae` and `sora train audio-vae` as a user runs them: a tiny
//! run writes its checkpoint, final VAE folder, loss curve and held-out
//! evaluation; `--resume` continues to the asked step count; a bad
//! `--config` is exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let d = root.join("target/scratch/cli-train").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sora(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sora"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn train_vae_writes_its_outputs_and_resumes() {
    let d = scratch("vae");
    let cfg = d.join("tiny.json");
    std::fs::write(
        &cfg,
        r#"{"vae": {"latent_channels": 4, "block_out_channels": [8], "decoder_block_out_channels": [8],
            "down_block_types": ["LTX2VideoDownBlock3D"], "layers_per_block": [1, 1],
            "decoder_layers_per_block": [1, 1], "spatio_temporal_scaling": [true],
            "decoder_spatio_temporal_scaling": [true], "decoder_inject_noise": [false, false],
            "downsample_type": ["spatial"], "upsample_type": ["spatial"], "upsample_residual": [true],
            "upsample_factor": [2], "patch_size": 4, "decoder_causal": false,
            "spatial_compression_ratio": 8, "temporal_compression_ratio": 1},
           "data": {"width": 32, "height": 32, "frames": 17},
           "train_clips": 2, "eval_clips": 1, "batch": 1}"#,
    )
    .unwrap();
    let out = d.join("run");
    let o = out.to_str().unwrap();
    let r = sora(&[
        "train",
        "vae",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        o,
        "--steps",
        "2",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("held-out PSNR"));
    for f in [
        "loss.png",
        "eval.json",
        "vae/config.json",
        "checkpoint/state.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    assert_eq!(eval["step"], 2);
    assert!(eval["psnr_db"].as_f64().unwrap() > 0.0);
    let r = sora(&[
        "train", "vae", "--out", o, "--steps", "3", "--resume", "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("checkpoint/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["step"], 3);
    assert_eq!(state["losses"].as_array().unwrap().len(), 3);
    let r = sora(&[
        "train",
        "vae",
        "--config",
        "no-such-preset",
        "--out",
        o,
        "--steps",
        "1",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let r = sora(&[
        "train", "vae", "--out", o, "--steps", "4", "--resume", "--batch", "3",
    ]);
    assert_eq!(r.status.code(), Some(2), "--batch with --resume is refused");
}

#[test]
fn train_audio_vae_writes_its_outputs_and_resumes() {
    let d = scratch("audio-vae");
    let cfg = d.join("tiny.json");
    std::fs::write(
        &cfg,
        r#"{"vae": {"base_channels": 16, "latent_channels": 1, "ch_mult": [1, 1, 1],
            "num_res_blocks": 1, "mel_bins": 64},
           "data": {"width": 32, "height": 32, "frames": 16},
           "train_clips": 2, "eval_clips": 1, "batch": 1}"#,
    )
    .unwrap();
    let out = d.join("run");
    let o = out.to_str().unwrap();
    let r = sora(&[
        "train",
        "audio-vae",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        o,
        "--steps",
        "2",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("log-mel L1"));
    for f in [
        "loss.png",
        "eval.json",
        "audio_vae/config.json",
        "audio_vae/diffusion_pytorch_model.safetensors",
        "checkpoint/state.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    assert_eq!(eval["step"], 2);
    assert!(eval["mel_l1"].as_f64().unwrap() > 0.0);
    let r = sora(&[
        "train",
        "audio-vae",
        "--out",
        o,
        "--steps",
        "3",
        "--resume",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("checkpoint/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["step"], 3);
    let r = sora(&[
        "train",
        "audio-vae",
        "--config",
        "tiny64",
        "--out",
        o,
        "--steps",
        "1",
    ]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "a video preset is not an audio one"
    );
}
