//! Parity of LTX-2's audio-video transformer (`LTX2VideoTransformer3DModel`)
//! against diffusers 0.42.1 on tiny random configs in the LTX-2.0, LTX-2.3
//! and a mixed layout (fixture `ltx2_transformer`): both streams within
//! 1e-4 of the output's scale, batch 2, with and without STG perturbation,
//! per-token and cross timesteps, isolated modalities, keyframes and masks;
//! plus typed errors for damaged weights and bad inputs, and sharded loading.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sora_core::models::ltx2::{Ltx2Inputs, Ltx2Transformer};
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err, scratch};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;
const CASES: [&str; 3] = ["v20", "v23", "mixed"];

fn case_dir(case: &str) -> PathBuf {
    fixture("ltx2_transformer").join(case)
}

struct Run {
    name: String,
    fps: f64,
    stg: Vec<usize>,
    isolate: bool,
    cross: bool,
}

struct Case {
    io: HashMap<String, Tensor>,
    grid: [i64; 3],
    audio_frames: i64,
    runs: Vec<Run>,
}

fn read_case(case: &str) -> Case {
    let dir = case_dir(case);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let g: Vec<i64> = meta["grid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let runs = meta["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Run {
            name: r["name"].as_str().unwrap().to_string(),
            fps: r["fps"].as_f64().unwrap(),
            stg: r
                .get("stg")
                .and_then(|s| s.as_array())
                .map(|s| s.iter().map(|v| v.as_u64().unwrap() as usize).collect())
                .unwrap_or_default(),
            isolate: r.get("isolate").and_then(|v| v.as_bool()).unwrap_or(false),
            cross: r
                .get("use_cross_timestep")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        })
        .collect();
    Case {
        io: read_tensors(&dir.join("io.safetensors")),
        grid: [g[0], g[1], g[2]],
        audio_frames: meta["audio_frames"].as_i64().unwrap(),
        runs,
    }
}

/// The inputs of `run` as the fixture stored them.
fn inputs<'a>(c: &'a Case, run: &Run) -> Ltx2Inputs<'a> {
    let get = |k: &str| c.io.get(&format!("{}.{k}", run.name));
    let mut i = Ltx2Inputs::new(
        get("video").unwrap(),
        get("audio").unwrap(),
        get("text").unwrap(),
        get("audio_text").unwrap(),
        get("timestep").unwrap(),
        c.grid,
        c.audio_frames,
    );
    i.text_mask = get("text_mask");
    i.audio_text_mask = get("audio_text_mask");
    i.audio_timestep = get("audio_timestep");
    i.sigma = get("sigma");
    i.audio_sigma = get("audio_sigma");
    i.audio_coords = get("audio_coords");
    i.perturbation_mask = get("perturbation_mask");
    i.video_keyframes_mask = get("video_keyframes_mask");
    i.video_self_attention_mask = get("video_self_attention_mask");
    i.fps = run.fps;
    i.spatio_temporal_guidance_blocks = run.stg.clone();
    i.isolate_modalities = run.isolate;
    i.use_cross_timestep = run.cross;
    i
}

fn load(dir: &Path, kind: Kind) -> Ltx2Transformer {
    Ltx2Transformer::load(dir, Device::Cpu, kind).unwrap()
}

#[test]
fn ltx2_transformer_matches_diffusers() {
    for case in CASES {
        let model = load(&case_dir(case), Kind::Float);
        let c = read_case(case);
        assert!(c.runs.len() >= 5, "{case}: {} runs", c.runs.len());
        for run in &c.runs {
            let (v, a) = model.forward(&inputs(&c, run)).unwrap();
            let want_v = &c.io[&format!("{}.video_out", run.name)];
            let want_a = &c.io[&format!("{}.audio_out", run.name)];
            eprintln!(
                "{case} {}: video {:.2e}, audio {:.2e}",
                run.name,
                rel_max_err(&v, want_v),
                rel_max_err(&a, want_a)
            );
            assert_close(&format!("{case} {} video", run.name), &v, want_v, TOL);
            assert_close(&format!("{case} {} audio", run.name), &a, want_a, TOL);
        }
    }
}

/// STG on a block the model does not have changes nothing (diffusers
/// ignores it; its pipeline's default block is 28).
#[test]
fn ltx2_transformer_ignores_stg_past_the_last_block() {
    let model = load(&case_dir("v20"), Kind::Float);
    let c = read_case("v20");
    let run = c.runs.iter().find(|r| r.name == "plain").unwrap();
    let mut i = inputs(&c, run);
    i.spatio_temporal_guidance_blocks = vec![28];
    let (v, a) = model.forward(&i).unwrap();
    assert_close("stg past the end, video", &v, &c.io["plain.video_out"], 0.0);
    assert_close("stg past the end, audio", &a, &c.io["plain.audio_out"], 0.0);
}

/// The same model in bfloat16 stays near the float32 reference.
#[test]
fn ltx2_transformer_runs_in_bf16() {
    let model = load(&case_dir("v23"), Kind::BFloat16);
    let c = read_case("v23");
    let run = c.runs.iter().find(|r| r.name == "plain").unwrap();
    let (v, a) = model.forward(&inputs(&c, run)).unwrap();
    assert_eq!(v.kind(), Kind::BFloat16);
    for (what, got, want) in [
        ("video", &v, &c.io["plain.video_out"]),
        ("audio", &a, &c.io["plain.audio_out"]),
    ] {
        let err = rel_max_err(got, want);
        eprintln!("bf16 {what}: {err:.2e}");
        assert!(err < 0.1, "bf16 {what} differs by {err:.2e} of the scale");
    }
}

#[test]
fn ltx2_transformer_weight_mismatch_is_typed() {
    let missing_name = "transformer_blocks.1.audio_to_video_attn.to_k.weight";
    let bad_name = "transformer_blocks.0.prompt_scale_shift_table";
    let dst = scratch("ltx2_transformer_mismatch");
    copy_with(&case_dir("v23"), &dst, |name, t| {
        if name == missing_name {
            None
        } else if name == bad_name {
            let mut shape = t.size();
            shape[1] += 1;
            Some(Tensor::zeros(shape.as_slice(), (Kind::Float, Device::Cpu)))
        } else {
            Some(t)
        }
    });
    match Ltx2Transformer::load(&dst, Device::Cpu, Kind::Float) {
        Err(Error::WeightMismatch {
            missing,
            mismatched,
            ..
        }) => {
            assert_eq!(missing, vec![missing_name.to_string()]);
            assert_eq!(mismatched.len(), 1, "{mismatched:?}");
            assert!(mismatched[0].starts_with(bad_name), "{mismatched:?}");
        }
        Err(e) => panic!("expected WeightMismatch, got {e}"),
        Ok(_) => panic!("a damaged checkpoint loaded"),
    }
    // A config naming a layout the weights do not have is caught the same way.
    copy_with(&case_dir("v20"), &dst, |_, t| Some(t));
    let cfg = std::fs::read_to_string(dst.join("config.json")).unwrap();
    std::fs::write(
        dst.join("config.json"),
        cfg.replace("\"gated_attn\": false", "\"gated_attn\": true"),
    )
    .unwrap();
    match Ltx2Transformer::load(&dst, Device::Cpu, Kind::Float) {
        Err(Error::WeightMismatch { missing, .. }) => {
            assert!(missing.iter().all(
                |m| m.ends_with("to_gate_logits.weight") || m.ends_with("to_gate_logits.bias")
            ));
            // attn1, attn2 and audio_to_video_attn of 2 blocks, weight and bias.
            assert_eq!(missing.len(), 2 * 3 * 2, "{missing:?}");
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dst);
}

#[test]
fn ltx2_transformer_bad_config_is_typed() {
    let dst = scratch("ltx2_transformer_bad_config");
    copy_with(&case_dir("v20"), &dst, |_, t| Some(t));
    for (bad, unsupported) in [
        (r#"{"num_attention_heads": 0}"#, false),
        (
            r#"{"rope_type": "split", "num_attention_heads": 3, "attention_head_dim": 4}"#,
            false,
        ),
        (r#"{"rope_type": "spiral"}"#, false),
        (r#"{"qk_norm": "layer_norm"}"#, true),
        (r#"{"activation_fn": "geglu", "num_layers": 1}"#, true),
    ] {
        std::fs::write(dst.join("config.json"), bad).unwrap();
        match Ltx2Transformer::load(&dst, Device::Cpu, Kind::Float) {
            Err(Error::Config { .. }) if !unsupported => {}
            Err(Error::Unsupported(_)) if unsupported => {}
            other => panic!("{bad}: got {other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dst);
}

/// Weights split over shards named by an index load and give the same output.
#[test]
fn ltx2_transformer_loads_sharded_weights() {
    let src = case_dir("v20");
    let dst = scratch("ltx2_transformer_sharded");
    std::fs::copy(src.join("config.json"), dst.join("config.json")).unwrap();
    let mut named: Vec<(String, Tensor)> =
        read_tensors(&src.join("diffusion_pytorch_model.safetensors"))
            .into_iter()
            .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let half = named.len() / 2;
    let files = [
        "diffusion_pytorch_model-00001-of-00002.safetensors",
        "diffusion_pytorch_model-00002-of-00002.safetensors",
    ];
    let mut map = serde_json::Map::new();
    for (k, part) in [&named[..half], &named[half..]].iter().enumerate() {
        Tensor::write_safetensors(part, dst.join(files[k])).unwrap();
        for (n, _) in part.iter() {
            map.insert(n.clone(), serde_json::Value::from(files[k]));
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(
        dst.join("diffusion_pytorch_model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    let model = load(&dst, Kind::Float);
    let c = read_case("v20");
    let run = &c.runs[0];
    let (v, _) = model.forward(&inputs(&c, run)).unwrap();
    assert_close(
        "sharded",
        &v,
        &c.io[&format!("{}.video_out", run.name)],
        TOL,
    );
    let _ = std::fs::remove_dir_all(&dst);
}

#[test]
fn ltx2_transformer_bad_inputs_are_typed() {
    let model = load(&case_dir("v23"), Kind::Float);
    let c = read_case("v23");
    let run = c.runs.iter().find(|r| r.name == "plain").unwrap();
    let invalid = |i: &Ltx2Inputs<'_>, what: &str| match model.forward(i) {
        Err(Error::InvalidRequest(m)) => eprintln!("{what}: {m}"),
        Err(e) => panic!("{what}: expected InvalidRequest, got {e}"),
        Ok(_) => panic!("{what}: accepted"),
    };
    let narrow_video = c.io["plain.video"].narrow(2, 0, 5);
    let short_video = c.io["plain.video"].narrow(1, 0, 10);
    let bad_mask = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
    let bad_t = Tensor::ones([3], (Kind::Float, Device::Cpu));

    let mut i = inputs(&c, run);
    i.video = &narrow_video;
    invalid(&i, "video channels");
    let mut i = inputs(&c, run);
    i.video = &short_video;
    invalid(&i, "tokens vs grid");
    let mut i = inputs(&c, run);
    i.text_mask = Some(&bad_mask);
    invalid(&i, "text mask");
    let mut i = inputs(&c, run);
    i.timestep = &bad_t;
    invalid(&i, "timestep");
    let mut i = inputs(&c, run);
    i.sigma = None;
    invalid(&i, "sigma for prompt modulation");
    let mut i = inputs(&c, run);
    i.fps = 0.0;
    invalid(&i, "fps");
    let mut i = inputs(&c, run);
    i.video_keyframes_mask = Some(&bad_mask);
    invalid(&i, "keyframes mask");
}

fn copy_with(src: &Path, dst: &Path, edit: impl Fn(&str, Tensor) -> Option<Tensor>) {
    std::fs::copy(src.join("config.json"), dst.join("config.json")).unwrap();
    let tensors = read_tensors(&src.join("diffusion_pytorch_model.safetensors"));
    let mut named: Vec<(String, Tensor)> = tensors
        .into_iter()
        .filter_map(|(k, t)| edit(&k, t).map(|t| (k, t)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, dst.join("diffusion_pytorch_model.safetensors")).unwrap();
}

/// Model offload (weights copied for a while by the caller) and sequential
/// offload (block by block inside the forward) give the same output; on the
/// CPU the waiting weights are held in f64, so a weight the forward did not
/// copy would change the result or fail.
#[test]
fn ltx2_transformer_offloaded_gives_the_same_output() {
    use sora_core::nn::Offload;
    let c = read_case("v23");
    let run = c.runs.iter().find(|r| r.name == "stg_mixed").unwrap();
    let mut model = load(&case_dir("v23"), Kind::Float);
    let (want_v, want_a) = model.forward(&inputs(&c, run)).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case_dir("v23").join("meta.json")).unwrap())
            .unwrap();
    assert_eq!(
        Some(model.num_parameters()),
        meta["num_parameters"].as_u64(),
        "parameters counted by the model vs diffusers"
    );

    model.set_offload(Offload::Model, Device::Cpu).unwrap();
    let up = model.upload().unwrap();
    assert!(up.is_some());
    let (v, a) = model.forward(&inputs(&c, run)).unwrap();
    drop(up);
    assert_close("model offload video", &v, &want_v, 0.0);
    assert_close("model offload audio", &a, &want_a, 0.0);

    // A fresh model: the sets record the dtypes the weights have when made.
    let mut model = load(&case_dir("v23"), Kind::Float);
    model.set_offload(Offload::Sequential, Device::Cpu).unwrap();
    assert!(model.upload().unwrap().is_none());
    let (v, a) = model.forward(&inputs(&c, run)).unwrap();
    assert_close("sequential offload video", &v, &want_v, 0.0);
    assert_close("sequential offload audio", &a, &want_a, 0.0);
    assert_eq!(model.block_uploads(), 2);
}

/// Text prepared once for a walk (`Ltx2Transformer::prepare_text`: caption
/// projections and, where the text does not change per step, each block's
/// text keys and values) gives the output the plain forward gives, in every
/// layout and run of the fixture (LTX-2.0 caches the keys and values; 2.3's
/// prompt modulation leaves them to each step).
#[test]
fn ltx2_transformer_prepared_text_gives_the_same_output() {
    use sora_core::models::ltx2::PreparedText;
    for case in CASES {
        let model = load(&case_dir(case), Kind::Float);
        let c = read_case(case);
        for run in &c.runs {
            let plain = inputs(&c, run);
            let (want_v, want_a) = model.forward(&plain).unwrap();
            let b = plain.video.size()[0];
            let prepared: Vec<PreparedText> = (0..b)
                .map(|k| {
                    model
                        .prepare_text(
                            &plain.text.narrow(0, k, 1),
                            &plain.audio_text.narrow(0, k, 1),
                        )
                        .unwrap()
                })
                .collect();
            let refs: Vec<&PreparedText> = prepared.iter().collect();
            let mut with = inputs(&c, run);
            with.prepared_text = Some(&refs);
            let (v, a) = model.forward(&with).unwrap();
            let name = format!("{case} {} prepared", run.name);
            assert_close(&format!("{name} video"), &v, &want_v, 1e-5);
            assert_close(&format!("{name} audio"), &a, &want_a, 1e-5);
        }
        // The wrong count of prompts is refused.
        let run = &c.runs[0];
        let one = model
            .prepare_text(
                &inputs(&c, run).text.narrow(0, 0, 1),
                &inputs(&c, run).audio_text.narrow(0, 0, 1),
            )
            .unwrap();
        let b = inputs(&c, run).video.size()[0];
        let refs: Vec<&PreparedText> = (0..=b).map(|_| &one).collect();
        let mut bad = inputs(&c, run);
        bad.prepared_text = Some(&refs);
        assert!(
            matches!(model.forward(&bad), Err(Error::InvalidRequest(_))),
            "{case}"
        );
    }
    assert!(model_kv_bytes("v20") > model_kv_bytes("v23"));
}

/// Bytes of one prepared prompt of the case (the keys and values make
/// LTX-2.0's larger than 2.3's, which holds only the projected text).
fn model_kv_bytes(case: &str) -> u64 {
    let model = load(&case_dir(case), Kind::Float);
    let c = read_case(case);
    let i = inputs(&c, &c.runs[0]);
    model
        .prepare_text(&i.text.narrow(0, 0, 1), &i.audio_text.narrow(0, 0, 1))
        .unwrap()
        .bytes()
}

/// Modality isolation per batch element (`isolation_mask`, the isolated
/// branch sharing a call with the others) gives each element what a call
/// isolated as a whole (`isolate_modalities`) or not at all gives it.
#[test]
fn ltx2_transformer_isolation_mask_matches_whole_call_isolation() {
    for case in CASES {
        let model = load(&case_dir(case), Kind::Float);
        let c = read_case(case);
        let run = c.runs.iter().find(|r| !r.isolate).unwrap();
        let (pv, pa) = model.forward(&inputs(&c, run)).unwrap();
        let mut iso = inputs(&c, run);
        iso.isolate_modalities = true;
        let (iv, ia) = model.forward(&iso).unwrap();
        let b = pv.size()[0];
        let keep: Vec<f32> = (0..b).map(|k| (k % 2) as f32).collect();
        let mask = Tensor::from_slice(&keep);
        let mut mixed = inputs(&c, run);
        mixed.isolation_mask = Some(&mask);
        let (mv, ma) = model.forward(&mixed).unwrap();
        for k in 0..b {
            let (wv, wa) = if k % 2 == 0 { (&iv, &ia) } else { (&pv, &pa) };
            let name = format!("{case} {} element {k}", run.name);
            assert_close(
                &format!("{name} video"),
                &mv.narrow(0, k, 1),
                &wv.narrow(0, k, 1),
                1e-5,
            );
            assert_close(
                &format!("{name} audio"),
                &ma.narrow(0, k, 1),
                &wa.narrow(0, k, 1),
                1e-5,
            );
        }
        let bad = Tensor::from_slice(&vec![1.0f32; b as usize + 1]);
        let mut wrong = inputs(&c, run);
        wrong.isolation_mask = Some(&bad);
        assert!(
            matches!(model.forward(&wrong), Err(Error::InvalidRequest(_))),
            "{case}"
        );
    }
}

/// An element marked as repeating another's inputs (`same_as`: STG's
/// branch and the conditional one) runs once up to the first perturbed
/// block and gives what the full batch gives; a malformed `same_as` is
/// refused.
#[test]
fn ltx2_transformer_same_as_runs_the_shared_prefix_once() {
    for case in CASES {
        let model = load(&case_dir(case), Kind::Float);
        let c = read_case(case);
        let run = c.runs.iter().find(|r| r.name == "stg_mixed").unwrap();
        let base = inputs(&c, run);
        let b = base.video.size()[0];
        // Every per-element input: element 0 twice.
        let twice = |t: &Tensor| {
            if t.size()[0] == b {
                let one = t.narrow(0, 0, 1);
                Tensor::cat(&[&one, &one], 0)
            } else {
                t.shallow_clone()
            }
        };
        let get = |k: &str| c.io.get(&format!("{}.{k}", run.name)).map(twice);
        let (video, audio, text, audio_text, timestep) = (
            get("video").unwrap(),
            get("audio").unwrap(),
            get("text").unwrap(),
            get("audio_text").unwrap(),
            get("timestep").unwrap(),
        );
        let opt = [
            "text_mask",
            "audio_text_mask",
            "audio_timestep",
            "sigma",
            "audio_sigma",
            "audio_coords",
            "video_keyframes_mask",
            "video_self_attention_mask",
        ]
        .map(get);
        let keep = Tensor::from_slice(&[1.0f32, 0.0]);
        let build = || {
            let mut i = Ltx2Inputs::new(
                &video,
                &audio,
                &text,
                &audio_text,
                &timestep,
                c.grid,
                c.audio_frames,
            );
            i.text_mask = opt[0].as_ref();
            i.audio_text_mask = opt[1].as_ref();
            i.audio_timestep = opt[2].as_ref();
            i.sigma = opt[3].as_ref();
            i.audio_sigma = opt[4].as_ref();
            i.audio_coords = opt[5].as_ref();
            i.video_keyframes_mask = opt[6].as_ref();
            i.video_self_attention_mask = opt[7].as_ref();
            i.fps = run.fps;
            i.spatio_temporal_guidance_blocks = run.stg.clone();
            i.perturbation_mask = Some(&keep);
            i.use_cross_timestep = run.cross;
            i
        };
        assert!(
            run.stg.iter().any(|k| *k > 0),
            "{case}: STG on a later block"
        );
        let (want_v, want_a) = model.forward(&build()).unwrap();
        let same = [0usize, 0];
        let mut shared = build();
        shared.same_as = Some(&same);
        let (v, a) = model.forward(&shared).unwrap();
        assert_close(&format!("{case} same_as video"), &v, &want_v, 1e-5);
        assert_close(&format!("{case} same_as audio"), &a, &want_a, 1e-5);
        // The perturbed element differs from the plain one (the test sees STG).
        assert!(
            rel_max_err(&v.narrow(0, 1, 1), &v.narrow(0, 0, 1)) > 1e-3,
            "{case}"
        );
        for bad in [vec![1usize, 0], vec![0], vec![0, 2]] {
            let mut wrong = build();
            wrong.same_as = Some(&bad);
            assert!(
                matches!(model.forward(&wrong), Err(Error::InvalidRequest(_))),
                "{case} {bad:?}"
            );
        }
    }
}
