//! The memory features: the estimate (per part, per phase, from a folder and
//! from a loaded pipeline), the budget refusing a request before any work, and
//! the text encoder released after encoding with prompt embeddings cached.
//! (The estimate against a measured peak is in `sora-cli/tests/cli.rs`, which
//! runs the `sora` command in its own process.)

use sora_core::estimate::{estimate_folder, EstimateOptions};
use sora_core::{Error, ErrorKind, Pipeline, Progress, Request, VaeTiling};
use sora_tests::fixture;

fn model() -> std::path::PathBuf {
    fixture("wan_pipeline").join("t2v_21").join("model")
}

fn request(prompt: &str) -> Request {
    Request::text(prompt)
        .size(32, 32)
        .frames(5)
        .steps(2)
        .guidance(5.0)
        .seed(7)
}

/// The working set of the model call `name` in `e`, MiB.
fn activation_mb(e: &sora_core::MemoryEstimate, name: &str) -> f64 {
    e.activations.iter().find(|p| p.name == name).unwrap().mb
}

#[test]
fn a_tiny_budget_is_refused_before_any_work() {
    let pipe = Pipeline::builder()
        .model(model())
        .memory_budget_mb(1)
        .build()
        .unwrap();
    let mut calls = 0;
    let e = {
        let mut p = Progress::with_callback(|_| {
            calls += 1;
            true
        });
        pipe.generate(&request("a fox"), &mut p).unwrap_err()
    };
    assert_eq!(calls, 0, "no phase may start");
    assert_eq!(e.kind(), ErrorKind::Device);
    let msg = e.to_string();
    match e {
        Error::OutOfMemory {
            needed_mb,
            budget_mb,
            largest_part,
        } => {
            assert_eq!(budget_mb, 1);
            let est = pipe.estimate(&request("a fox")).unwrap();
            assert_eq!(needed_mb, est.total_mib());
            assert!(needed_mb > 1);
            assert!(largest_part.contains("largest part"), "{largest_part}");
            assert!(msg.contains("MiB") && msg.contains("budget"), "{msg}");
        }
        other => panic!("expected OutOfMemory, got {other}"),
    }
    // The same pipeline with a budget that fits generates.
    let est = pipe.estimate(&request("a fox")).unwrap();
    let fits = Pipeline::builder()
        .model(model())
        .memory_budget_mb(est.total_mib())
        .build()
        .unwrap();
    let clip = fits
        .generate(&request("a fox"), &mut Progress::none())
        .unwrap();
    assert_eq!(clip.meta.estimated_peak_mb, Some(est.total_mb));
}

#[test]
fn estimate_has_every_part_and_phase() {
    let opts = EstimateOptions::default();
    let req = request("a fox");
    let folder = estimate_folder(&model(), &req, &opts).unwrap();
    let names: Vec<&str> = folder.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["load", "text", "denoise", "decode"]);
    let comps: Vec<&str> = folder.weights.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(comps, ["text_encoder", "transformer", "vae"]);
    assert!(folder.weights.iter().all(|p| p.mb > 0.0));
    assert_eq!((folder.batch, folder.width, folder.frames), (2, 32, 5));
    // 32×32×5 frames → latent 2 × 4 × 4, patch (1, 2, 2): 2·2·2 tokens.
    assert_eq!(folder.tokens, 8);
    let max = folder.phases.iter().map(|p| p.total_mb).fold(0.0, f64::max);
    assert_eq!(folder.total_mb, max);
    assert_eq!(folder.output_mb, (5 * 32 * 32 * 3) as f64 / 1048576.0);
    assert_eq!(folder.held_mb, 0.0);

    // The loaded pipeline's estimate: the same generation phases, no loading,
    // the weights held.
    let pipe = Pipeline::builder().model(model()).build().unwrap();
    let loaded = pipe.estimate(&req).unwrap();
    assert_eq!(loaded.phases.len(), 3);
    for p in &loaded.phases {
        let f = folder.phases.iter().find(|q| q.name == p.name).unwrap();
        assert_eq!(p, f, "phase {}", p.name);
    }
    let weights: f64 = loaded.weights.iter().map(|p| p.mb).sum();
    assert!((loaded.held_mb - weights).abs() < 1e-9);
    assert!(pipe.memory_budget_mb(&loaded).unwrap() > loaded.held_mb as u64);

    // Guidance off: batch 1, a smaller transformer forward. Bigger frames: more.
    let no_cfg = pipe.estimate(&req.clone().guidance(1.0)).unwrap();
    assert_eq!(no_cfg.batch, 1);
    let act = activation_mb;
    assert!(act(&no_cfg, "transformer forward") < act(&loaded, "transformer forward"));
    let big = pipe
        .estimate(&req.clone().size(256, 256).frames(17))
        .unwrap();
    assert!(act(&big, "VAE decode") > 10.0 * act(&loaded, "VAE decode"));
    assert!(big.total_mb > loaded.total_mb);
    // Bad sizes are refused as by generate, absurd ones without overflowing.
    assert!(matches!(
        pipe.estimate(&req.clone().size(30, 32)),
        Err(Error::InvalidRequest(_))
    ));
    let huge = req
        .clone()
        .size(4_000_000_000, 4_000_000_000)
        .frames(1_000_001);
    assert!(matches!(
        pipe.estimate(&huge),
        Err(Error::InvalidRequest(_))
    ));
    // bfloat16 weights are half the size.
    let bf16 = estimate_folder(
        &model(),
        &req,
        &EstimateOptions {
            dtype: sora_core::Dtype::BF16,
            ..opts
        },
    )
    .unwrap();
    let w = |e: &sora_core::MemoryEstimate| e.weights.iter().map(|p| p.mb).sum::<f64>();
    assert!(w(&bf16) < 0.6 * w(&folder) && w(&bf16) > 0.4 * w(&folder));
    // Step caching keeps two residuals of the batch: 2 × [2, 8, 16] f32 more.
    let cached = estimate_folder(
        &model(),
        &req,
        &EstimateOptions {
            step_cache: true,
            ..opts
        },
    )
    .unwrap();
    let denoise = |e: &sora_core::MemoryEstimate| {
        e.phases
            .iter()
            .find(|p| p.name == "denoise")
            .unwrap()
            .carried_mb
    };
    let extra = (2 * 2 * 8 * 16 * 4) as f64 / 1048576.0;
    assert!((denoise(&cached) - denoise(&folder) - extra).abs() < 1e-9);
}

#[test]
fn offloaded_text_encoder_gives_the_same_frames_and_prompts_are_cached() {
    let plain = Pipeline::builder().model(model()).build().unwrap();
    let off = Pipeline::builder()
        .model(model())
        .offload_text_encoder(true)
        .build()
        .unwrap();
    let held_before = off.estimate(&request("a fox")).unwrap().held_mb;

    let a = plain
        .generate(&request("a fox"), &mut Progress::none())
        .unwrap();
    let b = off
        .generate(&request("a fox"), &mut Progress::none())
        .unwrap();
    assert_eq!(a.frames, b.frames, "offloading changed the frames");
    assert!(!b.meta.text_embeddings_cached);

    // Released: the pipeline no longer holds the encoder's weights, and the
    // estimate of a new prompt counts its reload.
    let after = off.estimate(&request("a cat")).unwrap();
    let text_mb = after
        .weights
        .iter()
        .find(|p| p.name == "text_encoder")
        .unwrap()
        .mb;
    assert!((held_before - after.held_mb - text_mb).abs() < 1e-9);
    let text_phase =
        |e: &sora_core::MemoryEstimate| e.phases.iter().find(|p| p.name == "text").unwrap().clone();
    // The same prompt again: from the cache, the encoder not brought back.
    let est_cached = off.estimate(&request("a fox")).unwrap();
    assert_eq!(text_phase(&est_cached).activations_mb, 0.0);
    let c = off
        .generate(&request("a fox"), &mut Progress::none())
        .unwrap();
    assert!(c.meta.text_embeddings_cached);
    assert_eq!(c.frames, a.frames);

    // A new prompt reloads the encoder and matches the plain pipeline.
    let d = off
        .generate(&request("a cat"), &mut Progress::none())
        .unwrap();
    assert!(!d.meta.text_embeddings_cached);
    let e = plain
        .generate(&request("a cat"), &mut Progress::none())
        .unwrap();
    assert_eq!(d.frames, e.frames, "the reloaded encoder differs");
    // The plain pipeline caches too: a repeated prompt skips its encoder.
    let f = plain
        .generate(&request("a cat"), &mut Progress::none())
        .unwrap();
    assert!(f.meta.text_embeddings_cached);
    assert_eq!(f.frames, e.frames);
}

#[test]
fn estimate_follows_the_vae_tiling() {
    let req = request("a fox").size(256, 256).frames(17);
    let decode = |e: &sora_core::MemoryEstimate| activation_mb(e, "VAE decode");
    let plain = estimate_folder(&model(), &req, &EstimateOptions::default()).unwrap();
    assert_eq!((plain.vae_tiling, plain.vae_tiles), (None, 1));
    // 64×64 tiles every 48 over a 32×32 latent: 6 × 6 tiles, a smaller decode.
    let tiling = VaeTiling {
        tile_sample_min_height: 64,
        tile_sample_min_width: 64,
        tile_sample_stride_height: 48,
        tile_sample_stride_width: 48,
    };
    let opts = EstimateOptions {
        vae_tiling: Some(tiling),
        ..EstimateOptions::default()
    };
    let tiled = estimate_folder(&model(), &req, &opts).unwrap();
    assert_eq!(tiled.vae_tiling, Some([64, 64, 48, 48]));
    assert_eq!(tiled.vae_tiles, 36);
    assert!(decode(&tiled) < 0.7 * decode(&plain));
    let pipeline = |tiling: Option<VaeTiling>, budget: Option<u64>| {
        let mut b = Pipeline::builder().model(model()).vae_tiling(tiling);
        if let Some(mb) = budget {
            b = b.memory_budget_mb(mb);
        }
        b.build().unwrap()
    };
    // The loaded pipeline with the same tiling estimates the same phases.
    let loaded = pipeline(Some(tiling), None).estimate(&req).unwrap();
    assert_eq!(loaded.vae_tiles, 36);
    for p in &loaded.phases {
        let f = tiled.phases.iter().find(|q| q.name == p.name).unwrap();
        assert_eq!(p, f, "phase {}", p.name);
    }
    // A budget the tiled decode fits and the untiled one does not.
    let budget = Some(loaded.total_mib());
    let e = pipeline(None, budget)
        .generate(&req.clone().steps(1), &mut Progress::none())
        .unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    let clip = pipeline(Some(tiling), budget)
        .generate(&req.clone().steps(1), &mut Progress::none())
        .unwrap();
    assert_eq!(clip.meta.estimated_peak_mb, Some(loaded.total_mb));
    // The default tiles hold the 256×256 frame: decoded whole, the same estimate.
    let one = EstimateOptions {
        vae_tiling: Some(VaeTiling::default()),
        ..EstimateOptions::default()
    };
    let one = estimate_folder(&model(), &req, &one).unwrap();
    assert_eq!((one.vae_tiles, one.phases), (1, plain.phases));
    // Sizes the VAE cannot tile by are refused, as by the pipeline.
    let odd = EstimateOptions {
        vae_tiling: Some(VaeTiling {
            tile_sample_min_height: 60,
            ..tiling
        }),
        ..EstimateOptions::default()
    };
    assert!(matches!(
        estimate_folder(&model(), &req, &odd),
        Err(Error::InvalidRequest(_))
    ));
}

/// Wan's VAE decodes one latent frame at a time already: the LTX-2 frame
/// tiling option is refused by name rather than silently ignored.
#[test]
fn wan_refuses_vae_frame_tiling() {
    let e = Pipeline::builder()
        .model(model())
        .option("vae_frame_tiling", "true")
        .unwrap()
        .build()
        .err()
        .unwrap();
    assert!(matches!(e, sora_core::Error::InvalidRequest(_)), "{e}");
    assert!(
        e.to_string().contains("vae_frame_tiling is for LTX-2"),
        "{e}"
    );
}
