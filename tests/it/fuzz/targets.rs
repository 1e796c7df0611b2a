//! The fuzz targets: one per reader of untrusted bytes. Each writes nothing
//! but its scratch folder and allocates no more than its input justifies.
//!
//! A new reader gets its target here: a [`Target`] in [`all`], a seed folder
//! under `tests/fuzz/corpus/<name>/`, and a line in `fuzz_tests!` in `mod.rs`.
//! (The safety registry has one; C2PA manifests are not read yet.)

use std::path::Path;

use sora_core::io;
use sora_core::text::tokenizer::Tokenizer;
use sora_core::weights::{read_config, ModelFolder, TensorStore};
use sora_core::{Pipeline, Request};

use super::Target;

/// Every target.
pub(crate) fn all() -> Vec<Target> {
    vec![
        Target {
            name: "safetensors",
            file: "w.safetensors",
            text: false,
            setup: |_| {},
            run: safetensors,
        },
        Target {
            name: "safetensors_index",
            file: "c/model.safetensors.index.json",
            text: true,
            setup: index_setup,
            run: safetensors_index,
        },
        Target {
            name: "model_index",
            file: "model/model_index.json",
            text: true,
            setup: model_copy,
            run: model_folder,
        },
        Target {
            name: "config_transformer",
            file: "model/transformer/config.json",
            text: true,
            setup: model_copy,
            run: model_folder,
        },
        Target {
            name: "config_vae",
            file: "model/vae/config.json",
            text: true,
            setup: model_copy,
            run: model_folder,
        },
        Target {
            name: "config_text_encoder",
            file: "model/text_encoder/config.json",
            text: true,
            setup: model_copy,
            run: model_folder,
        },
        Target {
            name: "config_scheduler",
            file: "model/scheduler/scheduler_config.json",
            text: true,
            setup: model_copy,
            run: scheduler,
        },
        Target {
            name: "tokenizer",
            file: "tok/tokenizer.json",
            text: true,
            setup: tokenizer_setup,
            run: tokenizer,
        },
        Target {
            name: "mp4",
            file: "in.mp4",
            text: false,
            setup: |_| {},
            run: |d| {
                let c = io::read_mp4(&d.join("in.mp4"))?;
                Ok(format!(
                    "{:?} audio {}",
                    c.frames.shape(),
                    c.audio.as_ref().map_or(0, |a| a.nrows())
                ))
            },
        },
        Target {
            name: "wav",
            file: "in.wav",
            text: false,
            setup: |_| {},
            run: |d| {
                let (a, _) = io::read_wav(&d.join("in.wav"))?;
                Ok(format!("{} channels", a.nrows()))
            },
        },
        Target {
            name: "registry",
            file: "registry.json",
            text: true,
            setup: |_| {},
            run: |d| {
                use sora_core::safety::gate::{check_prompt, Credentials};
                use sora_core::safety::registry::Registry;
                let r = Registry::load(d.join("registry.json"))?;
                let consents = vec!["c-1".to_string()];
                let cred = Credentials::new(Some("owner"), &consents);
                let decision = check_prompt(&r, "t0m h@nks and Mickey M0use on a beach", &cred);
                Ok(format!("allowed {}", decision.allowed()))
            },
        },
        Target {
            name: "image",
            file: "in.img",
            text: false,
            setup: |_| {},
            run: |d| {
                let a = io::read_image(&d.join("in.img"))?;
                Ok(format!("{:?}", a.shape()))
            },
        },
    ]
}

/// The tiny Wan fixture folder (built by `tests/fixtures/build_all.py`).
fn fixture_model() -> std::path::PathBuf {
    let m = super::root().join("target/fixtures/wan_pipeline/t2v_21/model");
    assert!(
        m.join("model_index.json").is_file(),
        "fixture {} missing: run `.venv/bin/python tests/fixtures/build_all.py wan_pipeline`",
        m.display()
    );
    m
}

/// Copies `from` into `to`: small files copied (the target rewrites one),
/// weights hard-linked (or copied where links fail).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else if e.path().extension().is_some_and(|x| x == "safetensors") {
            if std::fs::hard_link(e.path(), &dst).is_err() {
                std::fs::copy(e.path(), &dst).unwrap();
            }
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn model_copy(d: &Path) {
    copy_tree(&fixture_model(), &d.join("model"));
}

/// A safetensors file: every tensor's bytes read and converted.
fn safetensors(d: &Path) -> sora_core::Result<String> {
    let store = TensorStore::open_file(
        &d.join("w.safetensors"),
        "fuzz",
        tch::Device::Cpu,
        tch::Kind::Float,
    )?;
    let infos = store.tensor_infos();
    for (name, _, _) in infos.iter().take(16) {
        let _ = store.read_raw(name)?;
    }
    Ok(format!("{} tensors", infos.len()))
}

/// A component folder with two small shards, named by the fuzzed index.
fn index_setup(d: &Path) {
    let c = d.join("c");
    std::fs::create_dir_all(&c).unwrap();
    for (name, tensor) in [("a.safetensors", "x"), ("b.safetensors", "y")] {
        let header =
            format!("{{\"{tensor}\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}}}");
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0u8; 8]);
        std::fs::write(c.join(name), bytes).unwrap();
    }
}

fn safetensors_index(d: &Path) -> sora_core::Result<String> {
    let store = TensorStore::open(&d.join("c"), "fuzz", tch::Device::Cpu, tch::Kind::Float)?;
    Ok(format!("{} tensors", store.tensor_infos().len()))
}

/// The model folder read as the engine reads it before loading anything:
/// the manifest, and the memory estimate from every config and header.
fn model_folder(d: &Path) -> sora_core::Result<String> {
    let m = d.join("model");
    let folder = ModelFolder::open(&m)?;
    let req = Request::text("a red ball").size(32, 32).frames(5).steps(2);
    let est = Pipeline::builder().model(&m).estimate(&req)?;
    Ok(format!(
        "{} components, estimate {}",
        folder.components().len(),
        if est.total_mb > 0.0 {
            "positive"
        } else {
            "zero"
        }
    ))
}

fn scheduler(d: &Path) -> sora_core::Result<String> {
    let p = d.join("model/scheduler/scheduler_config.json");
    let s = sora_core::sampler::from_config(&p)?;
    sora_core::sampler::check_steps(s.as_ref(), 2, None)?;
    let _: serde_json::Value = read_config(&p)?;
    Ok("scheduler".into())
}

fn tokenizer_setup(d: &Path) {
    let tok = d.join("tok");
    std::fs::create_dir_all(&tok).unwrap();
    std::fs::copy(
        fixture_model().join("tokenizer/tokenizer_config.json"),
        tok.join("tokenizer_config.json"),
    )
    .unwrap();
}

fn tokenizer(d: &Path) -> sora_core::Result<String> {
    let t = Tokenizer::from_file(&d.join("tok/tokenizer.json"))?;
    let ids = t.encode_ids(&["a red ball bounces", ""], 16)?;
    let _ = ids;
    Ok("tokenizer".into())
}
