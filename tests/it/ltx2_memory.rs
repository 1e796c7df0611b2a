//! LTX-2's memory features on the tiny `ltx2_pipeline` fixture (both
//! layouts): the estimate from a folder and from a loaded pipeline (parts,
//! phases, guidance batching, offload, tiling), the text encoder released
//! after encoding (dropped and reloaded, or parked) with the same output, and
//! weight offload (model: per component, the transformer kept for a run;
//! sequential: the transformer's and Gemma's blocks one at a time) giving the
//! same frames and waveform bit for bit and every copy given back. On these
//! CPU machines the copies go from host memory to host memory
//! (`offload_on_cpu`; the waiting weights are held in a wider dtype, so a
//! weight used without its copy changes the output). The estimate against a
//! measured peak is in `sora-cli/tests/cli.rs` (its own process).

use sora_core::denoise::{denoise_latents, WalkOptions};
use sora_core::estimate::{estimate_folder, EstimateOptions};
use sora_core::family::{MemoryOptions, ModelFamily};
use sora_core::models::ltx2::Ltx2Family;
use sora_core::weights::{ModelFolder, TensorStore};
use sora_core::{
    Clip, Device, Dtype, Error, MemoryEstimate, Offload, Pipeline, Progress, Request, VaeTiling,
    WatermarkPolicy,
};
use sora_tests::fixture;

const LAYOUTS: [&str; 2] = ["v20", "v23"];

fn model(layout: &str) -> std::path::PathBuf {
    fixture("ltx2_pipeline").join(layout)
}

/// Text to video at the fixture's size with LTX-2's default guidance (CFG,
/// STG on the fixture's block 1, modality isolation), short prompts.
fn request(prompt: &str) -> Request {
    let mut r = Request::text(prompt)
        .size(96, 64)
        .frames(9)
        .steps(2)
        .seed(5);
    r.set("max_sequence_length", 24i64).unwrap();
    r.set_text("spatio_temporal_guidance_blocks", "1").unwrap();
    r
}

/// No guidance at all: one branch (how a distilled checkpoint runs).
fn unguided(prompt: &str) -> Request {
    let mut r = request(prompt).guidance(1.0);
    for (k, v) in [
        ("audio_guidance_scale", 1.0),
        ("stg_scale", 0.0),
        ("audio_stg_scale", 0.0),
        ("modality_scale", 1.0),
        ("audio_modality_scale", 1.0),
    ] {
        r.set(k, v).unwrap();
    }
    r
}

fn part(list: &[sora_core::estimate::Part], name: &str) -> f64 {
    list.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no part {name}"))
        .mb
}

fn phase<'a>(e: &'a MemoryEstimate, name: &str) -> &'a sora_core::estimate::PhaseMemory {
    e.phases
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no phase {name}"))
}

#[test]
fn ltx2_estimate_has_every_part_phase_and_guidance_batch() {
    for layout in LAYOUTS {
        let opts = EstimateOptions::default();
        let req = request("a red fox");
        let folder = estimate_folder(&model(layout), &req, &opts).unwrap();
        let names: Vec<&str> = folder.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["load", "text", "denoise", "decode"], "{layout}");
        let comps: Vec<&str> = folder.weights.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            comps,
            [
                "text_encoder",
                "connectors",
                "transformer",
                "vae",
                "audio_vae",
                "vocoder"
            ]
        );
        assert!(folder.weights.iter().all(|p| p.mb > 0.0), "{layout}");
        assert_eq!(folder.family, "ltx2");
        // 96×64×9: latent 2 × 2 × 3 video tokens; 9 frames at 24 fps make 9
        // audio latent frames (16 kHz, hop 160, ×4).
        assert_eq!(folder.tokens, 12 + 9, "{layout}");
        // CFG, STG and modality isolation: four branches in one batch (the
        // isolated one masked per element); one forward each without
        // batching; one branch without guidance.
        assert_eq!(folder.batch, 4, "{layout}");
        let single = EstimateOptions {
            batch_guidance: false,
            ..opts
        };
        let one = estimate_folder(&model(layout), &req, &single).unwrap();
        assert_eq!(one.batch, 1);
        let act = |e: &MemoryEstimate| part(&e.activations, "transformer forward");
        assert!(act(&one) < act(&folder), "{layout}");
        let plain = estimate_folder(&model(layout), &unguided("a red fox"), &opts).unwrap();
        assert_eq!(plain.batch, 1);
        // One prompt (no negative one): less text and fewer prompt embeddings.
        assert!(
            part(&plain.activations, "text connectors")
                < part(&folder.activations, "text connectors"),
            "{layout}"
        );
        // Longer prompts: a larger Gemma working set (every hidden state kept).
        let mut long = request("a red fox");
        long.set("max_sequence_length", 120i64).unwrap();
        let long = estimate_folder(&model(layout), &long, &opts).unwrap();
        assert!(
            part(&long.activations, "text encoder forward")
                > 3.0 * part(&folder.activations, "text encoder forward"),
            "{layout}"
        );
        let max = folder.phases.iter().map(|p| p.total_mb).fold(0.0, f64::max);
        assert_eq!(folder.total_mb, max);
        assert_eq!(folder.held_mb, 0.0);
        assert_eq!(folder.output_mb, (9 * 96 * 64 * 3) as f64 / 1048576.0);

        // The text encoder counts its language model only: the fixture's
        // Gemma has a vision tower (and projector), which LTX-2 never reads.
        let dir = model(layout).join("text_encoder");
        let store =
            TensorStore::open(&dir, "text_encoder", tch::Device::Cpu, tch::Kind::Float).unwrap();
        let (mut lm, mut vision) = (0u64, 0u64);
        for t in store.tensor_sizes() {
            if t.name.contains("vision_tower") || t.name.contains("multi_modal_projector") {
                vision += t.numel;
            } else {
                lm += t.numel;
            }
        }
        assert!(vision > 0, "{layout}: the fixture has no vision tower");
        let text_mb = part(&folder.weights, "text_encoder");
        assert_eq!(text_mb, (lm * 4) as f64 / 1048576.0, "{layout}");

        // The loaded pipeline's estimate: the same generation phases, no
        // loading, its weights held.
        let pipe = Pipeline::builder().model(model(layout)).build().unwrap();
        let loaded = pipe.estimate(&req).unwrap();
        assert_eq!(loaded.phases.len(), 3);
        for p in &loaded.phases {
            assert_eq!(p, phase(&folder, &p.name), "{layout}: phase {}", p.name);
        }
        let weights: f64 = loaded.weights.iter().map(|p| p.mb).sum();
        assert!((loaded.held_mb - weights).abs() < 1e-9);

        // bfloat16 weights are half the size.
        let bf16 = EstimateOptions {
            dtype: Dtype::BF16,
            ..opts
        };
        let bf16 = estimate_folder(&model(layout), &req, &bf16).unwrap();
        let w = |e: &MemoryEstimate| e.weights.iter().map(|p| p.mb).sum::<f64>();
        assert!((w(&bf16) - w(&folder) / 2.0).abs() < 1e-6, "{layout}");

        // Bad sizes are refused as by generate, absurd ones without overflowing.
        assert!(matches!(
            pipe.estimate(&request("x").size(90, 64)),
            Err(Error::InvalidRequest(_))
        ));
        let huge = request("x")
            .size(4_000_000_000, 4_000_000_000)
            .frames(1_000_001);
        assert!(pipe.estimate(&huge).is_err());
    }
}

/// Image to video adds a `prepare` phase: the VAE encode of the image (one
/// frame at the request's size) with the prompt embeddings waiting; it grows
/// with the size, and text to video has none.
#[test]
fn ltx2_image_to_video_estimate_has_the_vae_encode() {
    let img = sora_core::ImageInput {
        pixels: sora_core::io::read_image(&fixture("ltx2_i2v").join("image.png")).unwrap(),
    };
    let opts = EstimateOptions::default();
    for layout in LAYOUTS {
        let encode = |w: u32, h: u32| {
            let mut req = request("a red fox").size(w, h);
            req.mode = sora_core::Mode::Image(img.clone());
            let e = estimate_folder(&model(layout), &req, &opts).unwrap();
            let names: Vec<&str> = e.phases.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(
                names,
                ["load", "text", "prepare", "denoise", "decode"],
                "{layout}"
            );
            let p = phase(&e, "prepare");
            assert!(p.weights_mb > 0.0 && p.carried_mb > 0.0, "{layout}: {p:?}");
            let act = part(&e.activations, "VAE encode");
            assert!(
                (p.activations_mb - act).abs() < 1e-3,
                "{layout}: {p:?} {act}"
            );
            act
        };
        let (small, large) = (encode(96, 64), encode(384, 256));
        eprintln!(
            "ltx2 {layout} VAE encode estimate: 96×64 {small:.2} MiB, 384×256 {large:.2} MiB"
        );
        // 16 times the pixels: the working set grows about as much.
        assert!(
            large > 8.0 * small && large < 32.0 * small,
            "{small} {large}"
        );
        let t2v = estimate_folder(&model(layout), &request("a red fox"), &opts).unwrap();
        assert!(t2v.phases.iter().all(|p| p.name != "prepare"));
    }
}

#[test]
fn ltx2_estimate_follows_offload_and_tiling() {
    let layout = "v20";
    let req = request("a red fox").size(512, 256).frames(17);
    let est = |offload: Offload, text: bool, tiling: Option<VaeTiling>| {
        estimate_folder(
            &model(layout),
            &req,
            &EstimateOptions {
                device: Device::Cuda(0),
                offload,
                offload_text_encoder: text,
                vae_tiling: tiling,
                ..EstimateOptions::default()
            },
        )
        .unwrap()
    };
    let none = est(Offload::None, false, None);
    assert!(none.phases.iter().all(|p| p.name != "load"));
    let all: f64 = none.weights.iter().map(|p| p.mb).sum();
    let text = part(&none.weights, "text_encoder");
    assert!((phase(&none, "denoise").weights_mb - all).abs() < 1e-9);
    // The text encoder released after encoding: not resident while denoising
    // and decoding.
    let released = est(Offload::None, true, None);
    assert!((phase(&released, "denoise").weights_mb - (all - text)).abs() < 1e-9);
    assert!(released.total_mb <= none.total_mb);
    // Model offload: each phase holds its own component (the transformer
    // while denoising).
    let model_off = est(Offload::Model, false, None);
    assert_eq!(
        phase(&model_off, "denoise").weights_mb,
        part(&none.weights, "transformer")
    );
    assert_eq!(model_off.held_mb, 0.0);
    // Sequential: one transformer block and the layers around the blocks.
    let seq = est(Offload::Sequential, false, None);
    let streamed = phase(&seq, "denoise").weights_mb;
    assert!(
        streamed > 0.0 && streamed < part(&none.weights, "transformer"),
        "{streamed}"
    );
    assert!(seq.total_mb <= model_off.total_mb && model_off.total_mb < none.total_mb);
    assert_eq!(seq.offload, "sequential");
    // Spatial VAE tiles (128×128 pixels every 96 over an 8 × 16 latent):
    // tiles from every 3rd latent row and column (3 × 6, as diffusers
    // starts them), each decoded over the whole clip and all held until they
    // are joined. (This tiny VAE's decode peaks while the joined frames
    // become u8, which tiling does not change; the real VAE's decoder
    // dominates and tiles lower it: a unit test in `ltx2/memory.rs`.)
    let tiling = VaeTiling {
        tile_sample_min_height: 128,
        tile_sample_min_width: 128,
        tile_sample_stride_height: 96,
        tile_sample_stride_width: 96,
    };
    let tiled = est(Offload::None, false, Some(tiling));
    assert_eq!(tiled.vae_tiles, 18);
    assert_eq!(tiled.vae_tiling, Some([128, 128, 96, 96]));
    assert!(part(&tiled.activations, "VAE decode") >= part(&none.activations, "VAE decode"));
    // Tile sizes the VAE cannot tile by are refused, as by the pipeline.
    let odd = VaeTiling {
        tile_sample_min_height: 60,
        ..tiling
    };
    let e = estimate_folder(
        &model(layout),
        &req,
        &EstimateOptions {
            vae_tiling: Some(odd),
            ..EstimateOptions::default()
        },
    );
    assert!(matches!(e, Err(Error::InvalidRequest(_))), "{e:?}");
}

fn pipeline(layout: &str, offload: Offload, text: bool) -> Pipeline {
    Pipeline::builder()
        .model(model(layout))
        .watermarks(WatermarkPolicy::Off)
        .offload(offload)
        .offload_on_cpu()
        .offload_text_encoder(text)
        .build()
        .unwrap_or_else(|e| panic!("{layout} {offload}: {e}"))
}

fn same(a: &Clip, b: &Clip, what: &str) {
    assert_eq!(a.frames, b.frames, "{what}: frames differ");
    assert_eq!(a.audio, b.audio, "{what}: audio differs");
    assert!(a.audio.is_some(), "{what}: no audio");
}

#[test]
fn ltx2_offloaded_pipelines_make_the_same_frames_and_audio() {
    for layout in LAYOUTS {
        let want = pipeline(layout, Offload::None, false)
            .generate(&request("a red fox"), &mut Progress::none())
            .unwrap();
        for mode in [Offload::Model, Offload::Sequential] {
            let pipe = pipeline(layout, mode, false);
            for _ in 0..2 {
                let clip = pipe
                    .generate(&request("a red fox"), &mut Progress::none())
                    .unwrap();
                same(&clip, &want, &format!("{layout}, {mode} offload"));
                assert_eq!(clip.meta.offload, mode.name());
            }
        }
    }
}

/// Data pointers of every transformer weight.
fn transformer_data(fam: &Ltx2Family) -> Vec<usize> {
    fam.transformer()
        .tensors()
        .iter()
        .map(|t| t.data_ptr() as usize)
        .collect()
}

fn load(layout: &str, offload: Offload) -> Ltx2Family {
    let folder = ModelFolder::open(model(layout)).unwrap();
    Ltx2Family::load_offloaded(&folder, Device::Cpu, Dtype::F32, offload).unwrap()
}

#[test]
fn ltx2_offloaded_denoising_gives_every_copy_back_and_streams_each_block_once() {
    let layout = "v23";
    let req = request("a red fox");
    let walk = |fam: &mut Ltx2Family, batch: bool| {
        let opts = WalkOptions {
            batch_guidance: batch,
            ..WalkOptions::default()
        };
        denoise_latents(fam, &req, &opts).unwrap()
    };
    let want = walk(&mut load(layout, Offload::None), true);
    for mode in [Offload::Model, Offload::Sequential] {
        let mut fam = load(layout, mode);
        assert_eq!(fam.offload(), mode);
        let host = transformer_data(&fam);
        let got = walk(&mut fam, true);
        assert!(got.video.equal(&want.video), "{mode}: video latents differ");
        let (a, b) = (
            got.audio.unwrap(),
            want.audio.as_ref().unwrap().shallow_clone(),
        );
        assert!(a.equal(&b), "{mode}: audio latents differ");
        match mode {
            // The transformer's copy stays on the run device for the run.
            Offload::Model => assert_ne!(transformer_data(&fam), host, "no copy made"),
            // Blocks are given back as soon as they ran.
            _ => assert_eq!(transformer_data(&fam), host, "a block copy kept"),
        }
        fam.release_offloaded().unwrap();
        assert_eq!(transformer_data(&fam), host, "{mode}: host data not back");
    }
    // Sequential: each block copied once per forward: one forward a step
    // (every branch batched, the isolated one included), or one per branch.
    for (batch, forwards) in [(true, 1), (false, 4)] {
        let mut fam = load(layout, Offload::Sequential);
        walk(&mut fam, batch);
        let t = fam.transformer();
        let layers = t.config().num_layers as u64;
        assert_eq!(
            t.block_uploads(),
            layers * forwards * 2,
            "batched {batch}: 2 steps"
        );
    }
}

#[test]
fn ltx2_text_encoder_is_released_after_encoding_and_comes_back() {
    for layout in LAYOUTS {
        let plain = pipeline(layout, Offload::None, false);
        let off = pipeline(layout, Offload::None, true);
        let held_before = off.estimate(&request("a red fox")).unwrap().held_mb;
        let a = plain
            .generate(&request("a red fox"), &mut Progress::none())
            .unwrap();
        let b = off
            .generate(&request("a red fox"), &mut Progress::none())
            .unwrap();
        same(&a, &b, &format!("{layout}, text encoder released"));
        // Dropped (on the CPU): the pipeline no longer holds its weights, and
        // the estimate of the next request counts its reload.
        let after = off.estimate(&request("a cat")).unwrap();
        let text_mb = part(&after.weights, "text_encoder");
        assert!(
            (held_before - after.held_mb - text_mb).abs() < 1e-9,
            "{layout}"
        );
        // The next request reloads it and matches the plain pipeline.
        let c = off
            .generate(&request("a cat"), &mut Progress::none())
            .unwrap();
        let d = plain
            .generate(&request("a cat"), &mut Progress::none())
            .unwrap();
        same(&c, &d, &format!("{layout}, reloaded text encoder"));
    }

    // Parked in host memory, as on a GPU (held wider there, so a use without
    // its copy would show), then back on the run device when the option goes.
    let layout = "v20";
    let walk = |fam: &mut Ltx2Family, prompt: &str| {
        denoise_latents(fam, &unguided(prompt), &WalkOptions::default()).unwrap()
    };
    let mut plain = load(layout, Offload::None);
    let want: Vec<_> = ["a fox", "a cat", "a dog"]
        .iter()
        .map(|p| walk(&mut plain, p).video)
        .collect();
    let mut fam = load(layout, Offload::None);
    fam.park_text_encoder_on_cpu();
    let parking = MemoryOptions {
        offload_text_encoder: true,
        ..MemoryOptions::default()
    };
    fam.configure_memory(&parking).unwrap();
    assert!(!fam.text_encoder_parked());
    assert!(walk(&mut fam, "a fox").video.equal(&want[0]));
    assert!(fam.text_encoder_parked() && fam.text_encoder_loaded());
    assert!(
        walk(&mut fam, "a cat").video.equal(&want[1]),
        "parked encoder differs"
    );
    fam.configure_memory(&MemoryOptions::default()).unwrap();
    assert!(
        walk(&mut fam, "a dog").video.equal(&want[2]),
        "unparked encoder differs"
    );
    assert!(!fam.text_encoder_parked());
    // Weight offload is chosen at load.
    let e = fam
        .configure_memory(&MemoryOptions {
            offload: Offload::Model,
            ..MemoryOptions::default()
        })
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}

/// A copy of the `ltx2_pipeline` v20 folder (links to its components) whose
/// `transformer/` is the `fp8_weights` fixture's `which` folder.
fn pipeline_with_transformer(which: &str) -> std::path::PathBuf {
    let src = model("v20");
    let dst = std::env::temp_dir().join(format!("sora-ltx2-fp8-{which}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let target = if name == "transformer" {
            fixture("fp8_weights").join(which)
        } else {
            entry.path()
        };
        std::os::unix::fs::symlink(target, dst.join(&name)).unwrap();
    }
    dst
}

#[test]
fn fp8_weights_are_read_exactly_and_kept_in_fp8_per_layer() {
    use sora_core::models::ltx2::Ltx2Transformer;
    use tch::Kind;
    let dir = fixture("fp8_weights");
    // Every float8_e4m3fn and float8_e5m2 code reads as torch upcasts it.
    let store = TensorStore::open_file(
        &dir.join("values.safetensors"),
        "values",
        tch::Device::Cpu,
        Kind::Float,
    )
    .unwrap();
    let want = sora_tests::read_tensors(&dir.join("expected.safetensors"));
    for name in ["e4m3", "e5m2"] {
        let got = store.root().get(name, &[256]).unwrap();
        assert_eq!(got.kind(), Kind::Float);
        let w = &want[name];
        assert!(got.isnan().equal(&w.isnan()), "{name}: NaN codes differ");
        let keep = w.isnan().logical_not();
        assert!(
            got.masked_select(&keep).equal(&w.masked_select(&keep)),
            "{name}: values differ from torch's"
        );
    }
    // The LTX-2 transformer keeps its dense layers' float8 weights as
    // stored (one byte each) and casts them per call: the same outputs as
    // the model whose weights were upcast in the file, bit for bit.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let fp8 = Ltx2Transformer::load(&dir.join("fp8"), tch::Device::Cpu, Kind::Float).unwrap();
    let up = Ltx2Transformer::load(&dir.join("upcast"), tch::Device::Cpu, Kind::Float).unwrap();
    let kept = fp8
        .tensors()
        .iter()
        .filter(|t| t.kind() == Kind::Float8e4m3fn)
        .count();
    assert_eq!(kept as u64, meta["fp8_tensors"].as_u64().unwrap());
    let pipe = |path: std::path::PathBuf| {
        Pipeline::builder()
            .model(path)
            .watermarks(WatermarkPolicy::Off)
            .build()
            .unwrap()
    };
    let (p8, pu) = (
        pipeline_with_transformer("fp8"),
        pipeline_with_transformer("upcast"),
    );
    let a = pipe(p8.clone())
        .generate(&request("a red fox"), &mut Progress::none())
        .unwrap();
    let b = pipe(pu.clone())
        .generate(&request("a red fox"), &mut Progress::none())
        .unwrap();
    same(&a, &b, "float8 transformer");
    // The estimate counts what the loaded model holds.
    let bytes = |t: &Ltx2Transformer| -> u64 {
        t.tensors()
            .iter()
            .map(|x| x.numel() as u64 * x.kind().elt_size_in_bytes() as u64)
            .sum()
    };
    for (path, model) in [(&p8, &fp8), (&pu, &up)] {
        let est = estimate_folder(path, &request("x"), &EstimateOptions::default()).unwrap();
        let mb = part(&est.weights, "transformer");
        assert_eq!(mb, bytes(model) as f64 / 1048576.0, "{}", path.display());
    }
    assert!(bytes(&fp8) < bytes(&up));
    // A scaled float8 checkpoint is refused, naming its scales.
    let e = Ltx2Transformer::load(&dir.join("scaled"), tch::Device::Cpu, Kind::Float).unwrap_err();
    match e {
        Error::Unsupported(m) => assert!(m.contains("weight_scale") && m.contains("float8"), "{m}"),
        other => panic!("expected Unsupported, got {other}"),
    }
    for d in [p8, pu] {
        let _ = std::fs::remove_dir_all(d);
    }
}
