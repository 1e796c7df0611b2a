//! `sora train` (vae, audio-vae, vocoder, transformer, quality) as a
//! user runs them: a tiny run writes its checkpoint, final component folder,
//! loss curve and held-out evaluation; `--resume` continues to the asked
//! step count, also under changes to the loop's fields; a bad `--config`,
//! or a change on `--resume` to anything else, is exit 2.

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

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What one stage's test checks.
struct StageCase<'a> {
    /// The stage (`sora train <stage>`).
    stage: &'a str,
    /// A tiny config (JSON).
    config: &'a str,
    /// The final component folder in the output folder.
    component: &'a str,
    /// Printed on success.
    marker: &'a str,
    /// A positive number in eval.json.
    eval_key: &'a str,
    /// Another stage's preset, refused by this one.
    wrong_preset: &'a str,
}

/// Trains `case` for 2 steps, checks its outputs, resumes to 3 steps (a
/// progress line in the log), resumes to 4 steps under loop changes
/// (`--batch`, a `--config` file of loop fields), and checks that an unknown
/// or wrong preset, and a change on `--resume` to what shapes the weights,
/// are exit 2.
fn check_stage(case: StageCase) {
    let d = scratch(case.stage);
    let cfg = d.join("tiny.json");
    std::fs::write(&cfg, case.config).unwrap();
    let out = d.join("run");
    let o = out.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", case.stage, "--out", o];
        args.extend_from_slice(extra);
        sora(&args)
    };
    let r = train(&["--config", cfg.to_str().unwrap(), "--steps", "2", "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains(case.marker));
    let config = format!("{}/config.json", case.component);
    let weights = format!("{}/diffusion_pytorch_model.safetensors", case.component);
    for f in [
        "loss.png",
        "eval.json",
        "checkpoint/state.json",
        &config,
        &weights,
    ] {
        assert!(out.join(f).is_file(), "{}: {f} missing", case.stage);
    }
    let eval = json(&out.join("eval.json"));
    assert_eq!(eval["step"], 2);
    assert!(eval[case.eval_key].as_f64().unwrap() > 0.0);
    // Without --quiet and with stderr not a terminal: plain progress lines.
    let r = train(&["--steps", "3", "--resume"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("step 3/3") && err.contains("s/step"), "{err}");
    let state = json(&out.join("checkpoint/state.json"));
    assert_eq!(state["step"], 3);
    assert_eq!(state["losses"].as_array().unwrap().len(), 3);
    for preset in ["no-such-preset", case.wrong_preset] {
        let r = train(&["--config", preset, "--steps", "1"]);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{}: --config {preset}",
            case.stage
        );
    }
    // --resume may change the loop (here: the batch, a moving average and a
    // decay), not what shapes the weights nor the preset.
    let changes = d.join("anneal.json");
    std::fs::write(
        &changes,
        r#"{"optimizer": {"decay_steps": 6, "min_lr_ratio": 0.1, "ema_decay": 0.9}}"#,
    )
    .unwrap();
    let c = changes.to_str().unwrap();
    let r = train(&[
        "--steps", "4", "--resume", "--batch", "2", "--config", c, "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let state = json(&out.join("checkpoint/state.json"));
    assert_eq!(state["step"], 4);
    assert_eq!(state["config"]["batch"], 2);
    assert_eq!(state["config"]["optimizer"]["ema_decay"], 0.9);
    assert_eq!(state["config"]["optimizer"]["decay_steps"], 6);
    let bad = d.join("reshape.json");
    std::fs::write(&bad, r#"{"data": {"width": 64}}"#).unwrap();
    for spec in [bad.to_str().unwrap(), case.wrong_preset] {
        let r = train(&["--steps", "5", "--resume", "--config", spec]);
        assert_eq!(
            r.status.code(),
            Some(2),
            "--resume --config {spec} is refused"
        );
    }
    let err = String::from_utf8_lossy(
        &train(&[
            "--steps",
            "5",
            "--resume",
            "--config",
            bad.to_str().unwrap(),
        ])
        .stderr,
    )
    .to_string();
    assert!(err.contains("`data` cannot change"), "{err}");
}

#[test]
fn train_vae_writes_its_outputs_and_resumes() {
    check_stage(StageCase {
        stage: "vae",
        config: r#"{"vae": {"latent_channels": 4, "block_out_channels": [8], "decoder_block_out_channels": [8],
            "down_block_types": ["LTX2VideoDownBlock3D"], "layers_per_block": [1, 1],
            "decoder_layers_per_block": [1, 1], "spatio_temporal_scaling": [true],
            "decoder_spatio_temporal_scaling": [true], "decoder_inject_noise": [false, false],
            "downsample_type": ["spatial"], "upsample_type": ["spatial"], "upsample_residual": [true],
            "upsample_factor": [2], "patch_size": 4, "decoder_causal": false,
            "spatial_compression_ratio": 8, "temporal_compression_ratio": 1},
           "data": {"width": 32, "height": 32, "frames": 17},
           "train_clips": 2, "eval_clips": 1, "batch": 1}"#,
        component: "vae",
        marker: "held-out PSNR",
        eval_key: "psnr_db",
        wrong_preset: "tiny-audio",
    });
}

#[test]
fn train_audio_vae_writes_its_outputs_and_resumes() {
    check_stage(StageCase {
        stage: "audio-vae",
        config: r#"{"vae": {"base_channels": 16, "latent_channels": 1, "ch_mult": [1, 1, 1],
            "num_res_blocks": 1, "mel_bins": 64},
           "data": {"width": 32, "height": 32, "frames": 16},
           "train_clips": 2, "eval_clips": 1, "batch": 1}"#,
        component: "audio_vae",
        marker: "log-mel L1",
        eval_key: "mel_l1",
        wrong_preset: "tiny64",
    });
}

#[test]
fn train_vocoder_writes_its_outputs_and_resumes() {
    check_stage(StageCase {
        stage: "vocoder",
        config: r#"{"vocoder": {"in_channels": 128, "hidden_channels": 16, "out_channels": 2,
            "upsample_kernel_sizes": [16, 11, 8], "upsample_factors": [8, 5, 4],
            "resnet_kernel_sizes": [3], "resnet_dilations": [[1]],
            "output_sampling_rate": 16000},
           "data": {"width": 32, "height": 32, "frames": 16},
           "stft_ffts": [256, 1024], "crop_frames": 8,
           "train_clips": 2, "eval_clips": 1, "batch": 1}"#,
        component: "vocoder",
        marker: "STFT distance",
        eval_key: "stft_distance",
        wrong_preset: "tiny-audio",
    });
}

/// The whole chain as a user runs it, on tiny configs: the three component
/// stages, the transformer on their outputs assembled into a pipeline
/// folder, a clip generated from it with its own defaults, and its grades
/// (`sora train quality`).
#[test]
fn train_transformer_assembles_a_pipeline_that_generates_and_is_graded() {
    let d = scratch("transformer");
    let data = r#""data": {"width": 32, "height": 32, "frames": 17}"#;
    let stages = [
        (
            "vae",
            r#""vae": {"latent_channels": 4, "block_out_channels": [8], "decoder_block_out_channels": [8],
            "down_block_types": ["LTX2VideoDownBlock3D"], "layers_per_block": [1, 1],
            "decoder_layers_per_block": [1, 1], "spatio_temporal_scaling": [true],
            "decoder_spatio_temporal_scaling": [true], "decoder_inject_noise": [false, false],
            "downsample_type": ["spatial"], "upsample_type": ["spatial"], "upsample_residual": [true],
            "upsample_factor": [2], "patch_size": 4, "decoder_causal": false,
            "spatial_compression_ratio": 8, "temporal_compression_ratio": 1}"#,
        ),
        (
            "audio-vae",
            r#""vae": {"base_channels": 16, "latent_channels": 1, "ch_mult": [1, 1, 1],
            "num_res_blocks": 1, "mel_bins": 64}"#,
        ),
        (
            "vocoder",
            r#""vocoder": {"in_channels": 128, "hidden_channels": 16, "out_channels": 2,
            "upsample_kernel_sizes": [16, 11, 8], "upsample_factors": [8, 5, 4],
            "resnet_kernel_sizes": [3], "resnet_dilations": [[1]], "output_sampling_rate": 16000},
            "stft_ffts": [256, 1024], "crop_frames": 8"#,
        ),
    ];
    for (stage, part) in stages {
        let cfg = d.join(format!("{stage}.json"));
        let text = format!(r#"{{{part}, {data}, "train_clips": 2, "eval_clips": 1, "batch": 1}}"#);
        std::fs::write(&cfg, text).unwrap();
        let out = d.join(stage);
        let r = sora(&[
            "train",
            stage,
            "--out",
            out.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
            "--steps",
            "1",
            "--quiet",
        ]);
        assert!(
            r.status.success(),
            "{stage}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let cfg = d.join("transformer.json");
    let text = format!(
        r#"{{"text": {{"hidden_size": 16, "layers": 1, "registers": 4, "max_sequence_length": 16}},
            {data}, "train_clips": 2, "eval_clips": 1, "batch": 1}}"#
    );
    std::fs::write(&cfg, text).unwrap();
    let out = d.join("tf");
    let o = out.to_str().unwrap();
    let path = |p: &str| d.join(p).to_str().unwrap().to_string();
    let (vae, audio, voc) = (
        path("vae/vae"),
        path("audio-vae/audio_vae"),
        path("vocoder/vocoder"),
    );
    let args = [
        "train",
        "transformer",
        "--out",
        o,
        "--config",
        cfg.to_str().unwrap(),
        "--steps",
        "2",
        "--quiet",
        "--vae",
        &vae,
        "--audio-vae",
        &audio,
        "--vocoder",
        &voc,
        "--pipeline-steps",
        "2",
    ];
    let r = sora(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("pipeline/ assembled"));
    let eval = json(&out.join("eval.json"));
    assert_eq!(eval["step"], 2);
    assert!(eval["zero_video_loss"].as_f64().unwrap() > 0.0);
    // A fresh run without the VAEs, and --resume with them, are refused.
    let r = sora(&["train", "transformer", "--out", &path("x"), "--steps", "1"]);
    assert_eq!(r.status.code(), Some(2));
    let r = sora(&[
        "train",
        "transformer",
        "--out",
        o,
        "--steps",
        "3",
        "--resume",
        "--vae",
        &vae,
    ]);
    assert_eq!(r.status.code(), Some(2));

    // A warm start from the run's transformer; not with --resume, nor from
    // a folder that is no transformer of this config.
    let tf = path("tf/transformer");
    let warm = |out: &str, init: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "transformer",
            "--out",
            out,
            "--steps",
            "1",
            "--quiet",
            "--init",
            init,
        ];
        args.extend_from_slice(extra);
        sora(&args)
    };
    let inputs = [
        "--config",
        cfg.to_str().unwrap(),
        "--vae",
        &vae,
        "--audio-vae",
        &audio,
    ];
    let r = warm(&path("warm"), &tf, &inputs);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(json(&d.join("warm/eval.json"))["step"], 1);
    let r = warm(o, &tf, &["--resume"]);
    assert_eq!(r.status.code(), Some(2));
    let r = warm(&path("cold"), &vae, &inputs);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("does not fit"), "{stderr}");

    // The pipeline folder generates with its own size, length and steps.
    let pipeline = path("tf/pipeline");
    let clip = path("clip.mp4");
    let r = sora(&[
        "generate",
        "--model",
        &pipeline,
        "--prompt",
        "a red ball bounces on a wooden floor",
        "--out",
        &clip,
        "--json",
        "--threads",
        "1",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        (meta["width"].as_u64(), meta["frames"].as_u64()),
        (Some(32), Some(17))
    );
    assert_eq!(
        (meta["steps"].as_u64(), meta["has_audio"].as_bool()),
        (Some(2), Some(true))
    );

    // Graded beside the simulator.
    let q = path("quality");
    let r = sora(&[
        "train",
        "quality",
        "--model",
        &pipeline,
        "--out",
        &q,
        "--clips",
        "1",
        "--set",
        "guidance_scale=2",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report = json(&d.join("quality/quality.json"));
    assert_eq!(report["model"]["clips"], 1);
    assert_eq!(report["simulator"]["clips"], 1);
    assert_eq!(report["video_vae_round_trip"]["clips"], 1);
    // The stricter physics grade never exceeds the issue's.
    for source in ["model", "simulator", "video_vae_round_trip"] {
        let strict = report[source]["physics_ok_tracked"].as_f64().unwrap();
        assert!(strict <= report[source]["physics_ok"].as_f64().unwrap());
        // Empty clips and named-colour clips are counted out of the clips graded.
        let empty = report[source]["clips_without_objects"].as_u64().unwrap();
        let named = report[source]["named_colour_clips"].as_u64().unwrap();
        assert!(empty <= 1 && named <= 1, "{}", report[source]);
        assert_eq!(report[source]["named_colour_tracked"].is_null(), named == 0);
    }
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("with an object tracked"), "{stdout}");
    assert!(stdout.contains("clips with no object tracked"), "{stdout}");
    assert_eq!(
        report["settings"],
        serde_json::json!([["guidance_scale", "2"]])
    );
    // A key no request takes is refused before any clip is made.
    let bad = sora(&[
        "train", "quality", "--model", &pipeline, "--out", &q, "--set", "stepz=2",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("stepz"));
    assert!(d.join("quality/contact.png").is_file());
}

/// `sora generate` without `--model` is the embedded default model: an MP4
/// with sound at the model's own size.
#[test]
fn generate_without_a_model_uses_the_embedded_default() {
    let d = scratch("default-model");
    let clip = d.join("clip.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_sora"))
        .env("SORA_CACHE_DIR", d.join("cache"))
        .args([
            "generate",
            "--prompt",
            "a red ball bounces on a wooden floor",
            "--frames",
            "9",
            "--steps",
            "2",
            "--threads",
            "1",
            "--json",
            "--out",
            clip.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["family"], "ltx2");
    assert_eq!(
        (meta["width"].as_u64(), meta["height"].as_u64()),
        (Some(64), Some(64))
    );
    assert_eq!(meta["has_audio"], true);
    assert!(clip.is_file());
}
