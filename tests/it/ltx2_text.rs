//! Parity of LTX-2's text path against transformers 5 / diffusers 0.42.1 on the
//! tiny fixture `ltx2_text`: Gemma's tokenizer (rebuilt as transformers
//! rebuilds it, left padding, `<bos>`, truncation) gives the same ids and
//! masks; the Gemma 3 text model gives the same packed hidden states as the
//! pipeline's `_get_gemma_prompt_embeds`; `LTX2TextConnectors` in the 2.0 and
//! 2.3 layouts give the same video / audio embeddings and mask, both from the
//! reference hidden states and end to end. Plus typed errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sora_core::models::ltx2::text_encoder::py_strip;
use sora_core::models::ltx2::{Ltx2TextConnectors, Ltx2TextEncoder, PaddingSide};
use sora_core::text::gemma3::Gemma3TextModel;
use sora_core::text::tokenizer::Tokenizer;
use sora_core::{Device, Dtype, Error, Offload};
use sora_tests::{assert_close, copy_dir, fixture, read_tensors, rel_max_err, scratch};
use tch::{Kind, Tensor};

const TOL: f64 = 1e-4;
const MAX_LEN: usize = 24;

fn dir() -> PathBuf {
    fixture("ltx2_text")
}

fn io() -> HashMap<String, Tensor> {
    read_tensors(&dir().join("io.safetensors"))
}

fn prompts() -> Vec<String> {
    let text = std::fs::read_to_string(dir().join("prompts.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn encoder() -> Ltx2TextEncoder {
    Ltx2TextEncoder::load(
        &dir().join("tokenizer"),
        &dir().join("text_encoder"),
        Device::Cpu,
        Dtype::F32,
    )
    .unwrap()
}

fn assert_equal_i64(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.size(), want.size(), "{what}: shape");
    let got = got.to_kind(Kind::Int64);
    let want = want.to_kind(Kind::Int64);
    if !got.equal(&want) {
        let g: Vec<i64> = Vec::try_from(got.flatten(0, -1)).unwrap();
        let w: Vec<i64> = Vec::try_from(want.flatten(0, -1)).unwrap();
        panic!("{what}: ids differ\n got {g:?}\nwant {w:?}");
    }
}

#[test]
fn ltx2_gemma_tokenizer_matches_transformers() {
    let enc = encoder();
    let io = io();
    let prompts = prompts();
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    for len in [1024usize, MAX_LEN] {
        let (ids, mask) = enc.tokenize(&refs, len).unwrap();
        for (i, p) in refs.iter().enumerate() {
            assert_equal_i64(
                &format!("ids at {len} of {p:?}"),
                &ids.get(i as i64),
                &io[&format!("ids_{len}")].get(i as i64),
            );
        }
        assert_equal_i64(
            &format!("mask at {len}"),
            &mask,
            &io[&format!("mask_{len}")],
        );
    }
    assert!(enc.tokenizer().pads_left());
    // Python's str.strip() also strips the separators U+001C..U+001F.
    assert_eq!(py_strip("\u{1c} \t a b\u{3000}\u{1f}\n"), "a b");

    // The file's own normalizer and pre-tokenizer (NFKC + Metaspace), used as
    // is for a class that is not Gemma's, tokenize differently: the rebuild is
    // what makes the ids above equal.
    let as_is = scratch("ltx2_text_tokenizer_as_is");
    std::fs::copy(
        dir().join("tokenizer").join("tokenizer.json"),
        as_is.join("tokenizer.json"),
    )
    .unwrap();
    std::fs::write(
        as_is.join("tokenizer_config.json"),
        r#"{"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<pad>", "padding_side": "left"}"#,
    )
    .unwrap();
    let raw = Tokenizer::from_dir(&as_is).unwrap();
    let stripped: Vec<&str> = refs.iter().map(|p| p.trim()).collect();
    let (raw_ids, _) = raw.encode_padded(&stripped, MAX_LEN).unwrap();
    assert!(!raw_ids.equal(&io[&format!("ids_{MAX_LEN}")]));
    let _ = std::fs::remove_dir_all(as_is);
}

#[test]
fn ltx2_gemma_hidden_states_match_transformers() {
    let enc = encoder();
    let io = io();
    let prompts = prompts();
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let (embeds, mask) = enc.encode(&refs, MAX_LEN).unwrap();
    assert_eq!(enc.model().num_hidden_states(), 5);
    assert_eq!(embeds.size(), io["prompt_embeds"].size());
    assert_equal_i64("prompt mask", &mask, &io["prompt_mask"]);
    // Per hidden state (embedding, layers 1-3, final norm), over every position.
    let want = io["prompt_embeds"].unflatten(2, [48, 5]);
    let got = embeds.unflatten(2, [48, 5]);
    for l in 0..5 {
        let (g, w) = (got.select(3, l), want.select(3, l));
        eprintln!("hidden state {l}: {:.2e}", rel_max_err(&g, &w));
        assert_close(&format!("hidden state {l}"), &g, &w, TOL);
    }
}

#[test]
fn ltx2_connectors_match_diffusers() {
    let io = io();
    for case in ["v20", "v23"] {
        let conn = Ltx2TextConnectors::load(
            &dir().join(format!("connectors_{case}")),
            Device::Cpu,
            Dtype::F32,
        )
        .unwrap();
        let out = conn
            .forward(
                &io["prompt_embeds"],
                &io["prompt_mask"],
                PaddingSide::Left,
                8.0,
            )
            .unwrap();
        for (what, got) in [("video", &out.video), ("audio", &out.audio)] {
            let want = &io[&format!("{case}_{what}")];
            eprintln!("{case} {what}: {:.2e}", rel_max_err(got, want));
            assert_close(&format!("{case} {what}"), got, want, TOL);
        }
        assert_equal_i64(
            &format!("{case} mask"),
            &out.mask,
            &io[&format!("{case}_mask")],
        );
    }
}

/// A `config.json` in the transformers 4 form (as older checkpoints ship it:
/// `rope_theta`, `rope_local_base_freq`, `rope_scaling`, `sliding_window_pattern`)
/// gives the same model; an unported RoPE type is `Unsupported`.
#[test]
fn ltx2_gemma_reads_transformers4_configs() {
    let io = io();
    let (ids, mask) = (
        &io[&format!("ids_{MAX_LEN}")],
        &io[&format!("mask_{MAX_LEN}")],
    );
    let want = Tensor::stack(&encoder().model().forward(ids, mask).unwrap(), -1);
    let te = scratch("ltx2_text_v4_config");
    copy_dir(&dir().join("text_encoder"), &te);
    let text = std::fs::read_to_string(te.join("config.json")).unwrap();
    let mut cfg: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tc = cfg["text_config"].as_object_mut().unwrap();
    for key in ["rope_parameters", "layer_types", "_sliding_window_pattern"] {
        tc.remove(key);
    }
    tc.insert("rope_theta".into(), 1_000_000.0.into());
    tc.insert("rope_local_base_freq".into(), 10_000.0.into());
    tc.insert(
        "rope_scaling".into(),
        serde_json::json!({"factor": 8.0, "rope_type": "linear"}),
    );
    tc.insert("sliding_window_pattern".into(), 2.into());
    std::fs::write(te.join("config.json"), cfg.to_string()).unwrap();
    let old = Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32).unwrap();
    let got = Tensor::stack(&old.forward(ids, mask).unwrap(), -1);
    assert!(
        got.equal(&want),
        "transformers 4 config gives another model"
    );

    cfg["text_config"]["rope_scaling"] = serde_json::json!({"factor": 8.0, "rope_type": "yarn"});
    std::fs::write(te.join("config.json"), cfg.to_string()).unwrap();
    let e = Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32);
    assert!(matches!(e, Err(Error::Unsupported(_))), "{e:?}");
    let _ = std::fs::remove_dir_all(te);
}

/// Weight offload of the 12B-class encoder: streamed layer by layer, copied
/// as a whole, or parked after encoding, the same hidden states.
#[test]
fn ltx2_gemma_offload_gives_the_same_states() {
    let enc = encoder();
    let io = io();
    let (ids, mask) = (
        &io[&format!("ids_{MAX_LEN}")],
        &io[&format!("mask_{MAX_LEN}")],
    );
    let want = Tensor::stack(&enc.model().forward(ids, mask).unwrap(), -1);
    let te = dir().join("text_encoder");

    let mut streamed = Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32).unwrap();
    streamed
        .set_offload(Offload::Sequential, Device::Cpu)
        .unwrap();
    assert!(
        streamed.upload().unwrap().is_none(),
        "streamed: no whole copy"
    );
    let got = Tensor::stack(&streamed.forward(ids, mask).unwrap(), -1);
    assert!(got.equal(&want), "streamed differs");
    assert_eq!(streamed.block_uploads(), 4);

    let mut whole = Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32).unwrap();
    whole.set_offload(Offload::Model, Device::Cpu).unwrap();
    let up = whole.upload().unwrap().expect("a copy");
    assert!(Tensor::stack(&whole.forward(ids, mask).unwrap(), -1).equal(&want));
    up.release().unwrap();

    let mut parked = Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32).unwrap();
    parked.park().unwrap();
    assert!(parked.is_offloaded());
    let unused = parked.forward(ids, mask);
    assert!(
        !matches!(&unused, Ok(x) if Tensor::stack(x, -1).equal(&want)),
        "a parked encoder ran without its copy"
    );
    let up = parked.upload().unwrap().expect("a copy");
    assert!(Tensor::stack(&parked.forward(ids, mask).unwrap(), -1).equal(&want));
    up.release().unwrap();
    parked.unpark().unwrap();
    assert!(!parked.is_offloaded());
    assert!(Tensor::stack(&parked.forward(ids, mask).unwrap(), -1).equal(&want));
}

/// bfloat16 weights and activations: close to the float32 reference.
#[test]
fn ltx2_text_path_runs_in_bf16() {
    let enc = Ltx2TextEncoder::load(
        &dir().join("tokenizer"),
        &dir().join("text_encoder"),
        Device::Cpu,
        Dtype::BF16,
    )
    .unwrap();
    let io = io();
    let prompts = prompts();
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let (embeds, mask) = enc.encode(&refs, MAX_LEN).unwrap();
    assert_eq!(embeds.kind(), Kind::BFloat16);
    // Compared on the prompts' tokens (padded rows carry no information).
    let keep = io["prompt_mask"].unsqueeze(-1).to_kind(Kind::Float);
    let err = rel_max_err(
        &(embeds.to_kind(Kind::Float) * &keep),
        &(&io["prompt_embeds"] * &keep),
    );
    eprintln!("bf16 hidden states: {err:.2e}");
    assert!(
        err < 0.05,
        "bf16 hidden states differ by {err:.2e} of the scale"
    );
    for case in ["v20", "v23"] {
        let conn = Ltx2TextConnectors::load(
            &dir().join(format!("connectors_{case}")),
            Device::Cpu,
            Dtype::BF16,
        )
        .unwrap();
        let out = conn
            .forward(&embeds, &mask, PaddingSide::Left, 8.0)
            .unwrap();
        assert_eq!(out.video.kind(), Kind::BFloat16);
        for (what, got) in [("video", &out.video), ("audio", &out.audio)] {
            let err = rel_max_err(got, &io[&format!("{case}_{what}")]);
            eprintln!("{case} {what} bf16: {err:.2e}");
            assert!(
                err < 0.1,
                "{case} {what}: bf16 differs by {err:.2e} of the scale"
            );
        }
    }
}

/// The connectors offloaded: the same outputs through a whole copy.
#[test]
fn ltx2_connectors_offload() {
    let io = io();
    let path = dir().join("connectors_v23");
    let conn = Ltx2TextConnectors::load(&path, Device::Cpu, Dtype::F32).unwrap();
    let want = conn
        .forward(
            &io["prompt_embeds"],
            &io["prompt_mask"],
            PaddingSide::Left,
            8.0,
        )
        .unwrap();
    let mut off = Ltx2TextConnectors::load(&path, Device::Cpu, Dtype::F32).unwrap();
    off.set_offload(Offload::Model, Device::Cpu).unwrap();
    assert!(off.is_offloaded());
    let up = off.upload().unwrap().expect("a copy");
    let got = off
        .forward(
            &io["prompt_embeds"],
            &io["prompt_mask"],
            PaddingSide::Left,
            8.0,
        )
        .unwrap();
    up.release().unwrap();
    assert!(got.video.equal(&want.video) && got.audio.equal(&want.audio));
}

/// Tokenizer, Gemma and connectors chained from the prompts, as the pipeline runs them.
#[test]
fn ltx2_text_path_end_to_end() {
    let enc = encoder();
    let io = io();
    let prompts = prompts();
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let (embeds, mask) = enc.encode(&refs, MAX_LEN).unwrap();
    for case in ["v20", "v23"] {
        let conn = Ltx2TextConnectors::load(
            &dir().join(format!("connectors_{case}")),
            Device::Cpu,
            Dtype::F32,
        )
        .unwrap();
        let out = conn
            .forward(&embeds, &mask, PaddingSide::Left, 8.0)
            .unwrap();
        for (what, got) in [("video", &out.video), ("audio", &out.audio)] {
            let want = &io[&format!("{case}_{what}")];
            eprintln!("{case} {what} end to end: {:.2e}", rel_max_err(got, want));
            assert_close(&format!("{case} {what} end to end"), got, want, TOL);
        }
    }
}

/// The prompt matters: embeddings of two different prompts differ well beyond
/// the tolerance, and so do the connectors' outputs (the fixture's weights
/// are not in the regime where everything collapses to a constant).
#[test]
fn ltx2_text_outputs_depend_on_the_prompt() {
    let io = io();
    for key in [
        "prompt_embeds",
        "v20_video",
        "v23_video",
        "v20_audio",
        "v23_audio",
    ] {
        let t = &io[key];
        let (a, b) = (t.get(0), t.get(3));
        let scale = a.abs().max().double_value(&[]);
        let diff = (&a - &b).abs().max().double_value(&[]);
        assert!(
            diff > 0.1 * scale,
            "{key}: prompts 0 and 3 differ by {diff} of {scale}"
        );
    }
}

#[test]
fn ltx2_text_errors_are_typed() {
    // Bad tokenizer files.
    let bad = scratch("ltx2_text_bad_tokenizer");
    std::fs::copy(
        dir().join("tokenizer").join("tokenizer_config.json"),
        bad.join("tokenizer_config.json"),
    )
    .unwrap();
    std::fs::write(bad.join("tokenizer.json"), "{ not json").unwrap();
    assert!(matches!(
        Tokenizer::from_dir(&bad),
        Err(Error::Config { .. })
    ));
    std::fs::write(
        bad.join("tokenizer.json"),
        r#"{"version":"1.0","model":{"type":"Unigram","vocab":[["<pad>",0.0]],"unk_id":0}}"#,
    )
    .unwrap();
    match Tokenizer::from_dir(&bad) {
        Err(Error::Config { reason, .. }) => assert!(reason.contains("BPE"), "{reason}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    std::fs::remove_file(bad.join("tokenizer.json")).unwrap();
    assert!(matches!(
        Tokenizer::from_dir(&bad),
        Err(Error::Config { .. })
    ));

    // A missing and a mis-shaped tensor in the text encoder.
    let te = scratch("ltx2_text_bad_encoder");
    copy_dir(&dir().join("text_encoder"), &te);
    rewrite(&te.join("model.safetensors"), |name, t| {
        if name == "language_model.model.layers.2.self_attn.k_norm.weight" {
            None
        } else if name == "language_model.model.layers.1.mlp.up_proj.weight" {
            Some(Tensor::zeros([3, 3], (Kind::Float, tch::Device::Cpu)))
        } else {
            Some(t)
        }
    });
    match Gemma3TextModel::load(&te, Device::Cpu, Dtype::F32) {
        Err(Error::WeightMismatch {
            missing,
            mismatched,
            ..
        }) => {
            assert_eq!(
                missing,
                vec!["language_model.model.layers.2.self_attn.k_norm.weight".to_string()]
            );
            assert_eq!(mismatched.len(), 1, "{mismatched:?}");
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }

    // A connector without its registers.
    let cd = scratch("ltx2_text_bad_connectors");
    copy_dir(&dir().join("connectors_v20"), &cd);
    rewrite(
        &cd.join("diffusion_pytorch_model.safetensors"),
        |name, t| (name != "video_connector.learnable_registers").then_some(t),
    );
    match Ltx2TextConnectors::load(&cd, Device::Cpu, Dtype::F32) {
        Err(Error::WeightMismatch { missing, .. }) => {
            assert_eq!(
                missing,
                vec!["video_connector.learnable_registers".to_string()]
            )
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }

    // Inputs the connectors cannot take: a length not divisible by the
    // registers, the wrong width, a mask of another shape.
    let conn =
        Ltx2TextConnectors::load(&dir().join("connectors_v20"), Device::Cpu, Dtype::F32).unwrap();
    let io = io();
    let e = &io["prompt_embeds"];
    let m = &io["prompt_mask"];
    let short = conn.forward(
        &e.narrow(1, 0, 20),
        &m.narrow(1, 0, 20),
        PaddingSide::Left,
        8.0,
    );
    assert!(matches!(short, Err(Error::InvalidRequest(_))), "{short:?}");
    let narrow = conn.forward(&e.narrow(2, 0, 200), m, PaddingSide::Left, 8.0);
    assert!(
        matches!(narrow, Err(Error::InvalidRequest(_))),
        "{narrow:?}"
    );
    let bad_mask = conn.forward(e, &m.narrow(0, 0, 2), PaddingSide::Left, 8.0);
    assert!(
        matches!(bad_mask, Err(Error::InvalidRequest(_))),
        "{bad_mask:?}"
    );

    // Out-of-vocabulary ids.
    let enc = encoder();
    let ids = Tensor::from_slice(&[2i64, 9999]).view([1, 2]);
    let mask = Tensor::ones([1, 2], (Kind::Int64, tch::Device::Cpu));
    assert!(matches!(
        enc.model().forward(&ids, &mask),
        Err(Error::InvalidRequest(_))
    ));
    for d in [bad, te, cd] {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn rewrite(file: &Path, edit: impl Fn(&str, Tensor) -> Option<Tensor>) {
    let tensors = read_tensors(file);
    let mut named: Vec<(String, Tensor)> = tensors
        .into_iter()
        .filter_map(|(k, t)| edit(&k, t).map(|t| (k, t)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, file).unwrap();
}
