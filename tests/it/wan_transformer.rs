//! Parity of `WanTransformer` with diffusers' `WanTransformer3DModel` (fixture
//! `fx_wan_transformer.py`: T2V, batch 2, patch (2,2,2), I2V, FLF2V, TI2V
//! per-token timesteps), typed errors for broken weight folders and bad inputs.

use std::path::{Path, PathBuf};

use sora_core::models::wan::transformer::{WanTransformer, WanTransformerConfig};
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err, workspace};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;

fn case_dir(case: &str) -> PathBuf {
    fixture("wan_transformer").join(case)
}

fn load(case: &str) -> WanTransformer {
    WanTransformer::load(&case_dir(case), Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {case}: {e}"))
}

/// Loads `case`, runs the stored inputs and compares with diffusers' output.
fn parity(case: &str) {
    let model = load(case);
    let io = read_tensors(&case_dir(case).join("io.safetensors"));
    let out = model
        .forward(
            &io["hidden_states"],
            &io["timestep"],
            &io["encoder_hidden_states"],
            io.get("encoder_hidden_states_image"),
        )
        .unwrap_or_else(|e| panic!("forward {case}: {e}"));
    assert_eq!(out.kind(), Kind::Float);
    eprintln!("{case}: rel err {:.2e}", rel_max_err(&out, &io["output"]));
    assert_close(case, &out, &io["output"], TOL);
    let want = io["num_parameters"].int64_value(&[0]) as u64;
    assert_eq!(model.num_parameters(), want, "{case}: parameter count");
}

#[test]
fn t2v_matches_diffusers() {
    parity("t2v");
}

#[test]
fn batch2_three_heads_no_cross_norm_matches_diffusers() {
    parity("t2v_b2");
}

#[test]
fn patch_222_matches_diffusers() {
    parity("patch222");
}

#[test]
fn i2v_added_kv_matches_diffusers() {
    parity("i2v");
}

#[test]
fn flf2v_image_pos_embed_matches_diffusers() {
    parity("flf2v");
}

#[test]
fn ti2v_per_token_timesteps_match_diffusers() {
    parity("ti2v");
}

/// Loads `case` in bf16 (f32-kept modules as diffusers keeps them) and compares
/// with diffusers' bf16 run.
fn parity_bf16(case: &str) {
    let model = WanTransformer::load(&case_dir(case), Device::Cpu, Kind::BFloat16).unwrap();
    let io = read_tensors(&case_dir(case).join("io.safetensors"));
    let out = model
        .forward(
            &io["hidden_states"],
            &io["timestep"],
            &io["encoder_hidden_states"],
            io.get("encoder_hidden_states_image"),
        )
        .unwrap_or_else(|e| panic!("forward {case} bf16: {e}"));
    assert_eq!(out.kind(), Kind::BFloat16);
    let want = &io["output_bf16"];
    eprintln!(
        "{case} bf16: rel err {:.2e} (vs f32 {:.2e})",
        rel_max_err(&out, want),
        rel_max_err(&out, &io["output"])
    );
    assert_close(&format!("{case} bf16"), &out, want, 1e-2);
}

#[test]
fn bf16_matches_diffusers_bf16() {
    for case in ["t2v", "i2v", "ti2v"] {
        parity_bf16(case);
    }
}

#[test]
fn config_is_read_with_nulls_resolved() {
    let m = load("t2v_b2");
    let c: &WanTransformerConfig = m.config();
    assert_eq!(c.out_channels, None);
    assert_eq!(c.out_channels(), 6);
    assert_eq!(c.num_attention_heads, 3);
    assert_eq!(c.rope_max_seq_len, 16);
}

#[test]
fn output_depends_on_every_input() {
    let model = load("i2v");
    let io = read_tensors(&case_dir("i2v").join("io.safetensors"));
    let (x, t, text, img) = (
        &io["hidden_states"],
        &io["timestep"],
        &io["encoder_hidden_states"],
        &io["encoder_hidden_states_image"],
    );
    let base = model.forward(x, t, text, Some(img)).unwrap();
    // Same call twice: identical (rope tables come from the cache the second time).
    let again = model.forward(x, t, text, Some(img)).unwrap();
    assert_eq!(rel_max_err(&again, &base), 0.0);
    let changed = [
        model.forward(&(x * 1.5), t, text, Some(img)).unwrap(),
        model.forward(x, &(t - 400.0), text, Some(img)).unwrap(),
        model.forward(x, t, &(text * -1.0), Some(img)).unwrap(),
        model.forward(x, t, text, Some(&(img * -1.0))).unwrap(),
        model.forward(x, t, text, None).unwrap(),
    ];
    for (i, c) in changed.iter().enumerate() {
        assert!(
            rel_max_err(c, &base) > 1e-3,
            "input {i} has no effect on the output"
        );
    }
}

#[test]
fn bad_inputs_are_invalid_requests() {
    let model = load("t2v");
    let io = read_tensors(&case_dir("t2v").join("io.safetensors"));
    let (x, t, text) = (
        &io["hidden_states"],
        &io["timestep"],
        &io["encoder_hidden_states"],
    );
    let opts = (Kind::Float, Device::Cpu);
    let bad = |r: sora_core::Result<Tensor>, what: &str| match r {
        Err(Error::InvalidRequest(msg)) => msg,
        Err(e) => panic!("{what}: expected InvalidRequest, got {e}"),
        Ok(_) => panic!("{what}: expected an error"),
    };
    // Height not divisible by the patch size 2.
    let odd = Tensor::zeros([1, 4, 3, 7, 8], opts);
    let msg = bad(model.forward(&odd, t, text, None), "odd height");
    assert!(msg.contains("height"), "{msg}");
    bad(
        model.forward(&Tensor::zeros([1, 5, 3, 8, 8], opts), t, text, None),
        "channels",
    );
    bad(
        model.forward(&x.squeeze_dim(0), t, text, None),
        "4-D latent",
    );
    bad(
        model.forward(x, &Tensor::zeros([3], opts), text, None),
        "timestep batch",
    );
    bad(
        model.forward(x, &Tensor::zeros([1, 5], opts), text, None),
        "per-token length",
    );
    bad(
        model.forward(x, t, &Tensor::zeros([1, 7, 15], opts), None),
        "text width",
    );
    let img = Tensor::zeros([1, 4, 12], opts);
    let msg = bad(
        model.forward(x, t, text, Some(&img)),
        "image to a T2V model",
    );
    assert!(msg.contains("image_dim"), "{msg}");
    // Wrong number of images for FLF2V (needs two per sample).
    let flf = load("flf2v");
    let fio = read_tensors(&case_dir("flf2v").join("io.safetensors"));
    let one_each = fio["encoder_hidden_states_image"].narrow(0, 0, 2);
    bad(
        flf.forward(
            &fio["hidden_states"],
            &fio["timestep"],
            &fio["encoder_hidden_states"],
            Some(&one_each),
        ),
        "one image per sample for FLF2V",
    );
}

#[test]
fn latent_longer_than_rope_tables_is_rejected() {
    // rope_max_seq_len is 16 in this case: 18 frames cannot be embedded.
    let model = load("t2v_b2");
    let opts = (Kind::Float, Device::Cpu);
    let x = Tensor::zeros([1, 6, 18, 2, 2], opts);
    let r = model.forward(
        &x,
        &Tensor::zeros([1], opts),
        &Tensor::zeros([1, 3, 16], opts),
        None,
    );
    assert!(
        matches!(r, Err(Error::InvalidRequest(ref m)) if m.contains("rope_max_seq_len")),
        "{r:?}"
    );
}

/// Copies `case` into a scratch folder with its weights rewritten by `edit`.
fn broken_copy(case: &str, tag: &str, edit: impl FnOnce(&mut Vec<(String, Tensor)>)) -> PathBuf {
    let src = case_dir(case);
    let dst = workspace()
        .join("target")
        .join("tmp")
        .join(format!("wan_transformer_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::copy(src.join("config.json"), dst.join("config.json")).unwrap();
    let mut tensors =
        Tensor::read_safetensors(src.join("diffusion_pytorch_model.safetensors")).unwrap();
    edit(&mut tensors);
    Tensor::write_safetensors(&tensors, dst.join("diffusion_pytorch_model.safetensors")).unwrap();
    dst
}

fn expect_mismatch(dir: &Path) -> (Vec<String>, Vec<String>, String) {
    let r = WanTransformer::load(dir, Device::Cpu, Kind::Float);
    let _ = std::fs::remove_dir_all(dir);
    match r {
        Err(Error::WeightMismatch {
            component,
            missing,
            mismatched,
            summary,
            ..
        }) => {
            assert_eq!(component, "transformer");
            (missing, mismatched, summary)
        }
        Err(e) => panic!("expected WeightMismatch, got {e}"),
        Ok(_) => panic!("expected WeightMismatch, the model loaded"),
    }
}

#[test]
fn deleted_tensor_is_named() {
    let name = "blocks.1.attn2.add_k_proj.weight";
    let dir = broken_copy("i2v", "deleted", |t| t.retain(|(n, _)| n != name));
    let (missing, mismatched, summary) = expect_mismatch(&dir);
    assert_eq!(missing, vec![name.to_string()]);
    assert!(mismatched.is_empty());
    assert!(summary.contains(name), "{summary}");
}

#[test]
fn wrong_shape_is_named() {
    let name = "blocks.0.scale_shift_table";
    let dir = broken_copy("t2v", "shape", |t| {
        for (n, v) in t.iter_mut() {
            if n == name {
                *v = v.narrow(1, 0, 5).contiguous();
            }
        }
    });
    let (missing, mismatched, summary) = expect_mismatch(&dir);
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(mismatched.len(), 1);
    assert!(mismatched[0].starts_with(name), "{mismatched:?}");
    assert!(mismatched[0].contains("[1, 6, 32]") && mismatched[0].contains("[1, 5, 32]"));
    assert!(summary.contains(name), "{summary}");
}
