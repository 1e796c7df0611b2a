//! The weights reader on bad input: each problem its own typed error, with the path.

use sora_core::weights::{ModelFolder, TensorStore};
use sora_core::Error;
use sora_tests::{copy_dir, fixture};
use tch::{Device, Kind};

fn tiny_model() -> std::path::PathBuf {
    fixture("wan_pipeline").join("t2v_21").join("model")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = sora_tests::workspace()
        .join("target")
        .join("scratch")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn folder_errors_are_typed() {
    let missing = scratch("no-such-model");
    assert!(matches!(
        ModelFolder::open(&missing),
        Err(Error::ModelFolder { .. })
    ));
    let empty = scratch("empty-model");
    std::fs::create_dir_all(&empty).unwrap();
    let e = ModelFolder::open(&empty).unwrap_err();
    assert!(e.to_string().contains("model_index.json"), "{e}");
    std::fs::write(empty.join("model_index.json"), "{ not json").unwrap();
    assert!(matches!(
        ModelFolder::open(&empty),
        Err(Error::Config { .. })
    ));
}

#[test]
fn missing_component_is_named() {
    let d = scratch("missing-component");
    copy_dir(&tiny_model(), &d);
    std::fs::remove_dir_all(d.join("vae")).unwrap();
    let f = ModelFolder::open(&d).unwrap();
    match f.component_dir("vae") {
        Err(Error::MissingComponent { component, .. }) => assert_eq!(component, "vae"),
        other => panic!("expected MissingComponent, got {other:?}"),
    }
}

#[test]
fn truncated_and_corrupt_safetensors_are_typed() {
    let d = scratch("corrupt-weights");
    copy_dir(&tiny_model().join("vae"), &d);
    let file = d.join("diffusion_pytorch_model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    match TensorStore::open(&d, "vae", Device::Cpu, Kind::Float) {
        Err(Error::CorruptWeights { path, .. }) => assert_eq!(path, file),
        Err(e) => panic!("expected CorruptWeights, got {e}"),
        Ok(_) => panic!("a truncated file was accepted"),
    }
    std::fs::write(&file, b"\xff\xff\xff\xff\xff\xff\xff\x7fgarbage").unwrap();
    assert!(matches!(
        TensorStore::open(&d, "vae", Device::Cpu, Kind::Float),
        Err(Error::CorruptWeights { .. })
    ));
}

#[test]
fn missing_and_mismatched_tensors_are_all_reported() {
    let d = tiny_model().join("transformer");
    let store = TensorStore::open(&d, "transformer", Device::Cpu, Kind::Float).unwrap();
    let root = store.root();
    let ok = root.get("proj_out.bias", &[4 * 4]).unwrap();
    assert_eq!(ok.size(), vec![16]);
    let _ = root.get("no.such.tensor", &[3, 3]).unwrap();
    let _ = root.get("proj_out.weight", &[1, 2]).unwrap();
    match store.finish() {
        Err(Error::WeightMismatch {
            missing,
            mismatched,
            ..
        }) => {
            assert_eq!(missing, vec!["no.such.tensor".to_string()]);
            assert_eq!(mismatched.len(), 1);
            assert!(
                mismatched[0].starts_with("proj_out.weight"),
                "{mismatched:?}"
            );
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }
}

#[test]
fn dry_store_reads_nothing_but_checks_shapes() {
    let d = tiny_model().join("transformer");
    let store = TensorStore::open(&d, "transformer", Device::Cpu, Kind::Float)
        .unwrap()
        .dry();
    let t = store.root().get("proj_out.bias", &[16]).unwrap();
    assert_eq!(t.size(), vec![16]);
    assert!(store.finish().is_ok());
}

#[test]
fn sharded_checkpoints_load() {
    let src = tiny_model().join("transformer");
    let d = scratch("sharded");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(src.join("config.json"), d.join("config.json")).unwrap();
    let all = TensorStore::open(&src, "t", Device::Cpu, Kind::Float).unwrap();
    let names: Vec<String> = all.tensor_infos().into_iter().map(|(n, _, _)| n).collect();
    let (a, b) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (i, part) in [a, b].iter().enumerate() {
        let file = format!("model-0000{}-of-00002.safetensors", i + 1);
        let tensors: Vec<(String, tch::Tensor)> = part
            .iter()
            .map(|n| (n.clone(), all.read_raw(n).unwrap()))
            .collect();
        tch::Tensor::write_safetensors(&tensors, d.join(&file)).unwrap();
        for n in part.iter() {
            map.insert(n.clone(), serde_json::Value::String(file.clone()));
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(
        d.join("diffusion_pytorch_model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    let sharded = TensorStore::open(&d, "t", Device::Cpu, Kind::Float).unwrap();
    assert_eq!(sharded.tensor_infos(), all.tensor_infos());
    let x = sharded.read_raw(&names[0]).unwrap();
    assert!(x.equal(&all.read_raw(&names[0]).unwrap()));
}

#[test]
fn unknown_pipeline_class_is_named() {
    let d = scratch("unknown-family");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("model_index.json"),
        r#"{"_class_name": "FancyVideoPipeline"}"#,
    )
    .unwrap();
    let e = sora_core::Pipeline::builder()
        .model(&d)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(e, Error::UnknownFamily { ref class, .. } if class == "FancyVideoPipeline"),
        "{e}"
    );
}
