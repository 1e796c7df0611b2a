//! Parity of the CLIP image encoder (Wan 2.1 I2V's `encode_image`) against
//! transformers' `CLIPImageProcessor` (PIL backend) + `CLIPVisionModel`
//! (fixture `tests/fixtures/fx_clip_vision.py`).

use std::collections::HashMap;

use ndarray::{Array3, ArrayView3};
use sora_core::models::clip::{ClipImagePreprocessor, ClipVisionModel};
use sora_core::models::wan::image_encoder::WanImageEncoder;
use sora_core::{Device, Dtype, Error};
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err};
use tch::{Kind, Tensor};

const CASES: [&str; 3] = ["gelu3", "quick2_legacy", "tanh1_pad"];
const N_IMAGES: usize = 6;

fn images() -> Vec<Array3<u8>> {
    let t = read_tensors(&fixture("clip_vision").join("images.safetensors"));
    (0..N_IMAGES)
        .map(|i| {
            let img = &t[&format!("img{i}")];
            let s: Vec<usize> = img.size().iter().map(|&d| d as usize).collect();
            let data = Vec::<u8>::try_from(img.flatten(0, -1)).unwrap();
            Array3::from_shape_vec((s[0], s[1], s[2]), data).unwrap()
        })
        .collect()
}

fn data(case: &str) -> HashMap<String, Tensor> {
    read_tensors(&fixture("clip_vision").join(case).join("data.safetensors"))
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

#[test]
fn clip_preprocess_matches_pil_processor() {
    let imgs = images();
    for case in CASES {
        let dir = fixture("clip_vision").join(case);
        let p = ClipImagePreprocessor::load(dir.join("image_processor")).unwrap();
        let d = data(case);
        let mut worst = 0f64;
        for (i, img) in imgs.iter().enumerate() {
            let ours = p.preprocess(img.view()).unwrap();
            let want = &d[&format!("pix{i}")];
            assert_eq!(ours.size(), want.size(), "{case} img{i}");
            let e = max_abs(&ours, want);
            worst = worst.max(e);
            // One u8 level after normalisation is 1/255/std ≈ 0.0196 at std 0.2;
            // we expect bit equality (PIL's integer arithmetic is ported exactly).
            assert!(
                e <= 1e-6,
                "{case} img{i}: pixel_values max abs diff {e:.3e}"
            );
        }
        let batch = p
            .preprocess_batch(&[imgs[0].view(), imgs[1].view()])
            .unwrap();
        assert!(max_abs(&batch, &d["pix_batch"]) <= 1e-6, "{case} batch");
        println!("{case}: pixel_values max abs diff {worst:.3e}");
    }
}

#[test]
fn clip_vision_hidden_states_match() {
    for case in CASES {
        let dir = fixture("clip_vision").join(case);
        let m = ClipVisionModel::load(dir.join("image_encoder"), Device::Cpu, Dtype::F32).unwrap();
        let d = data(case);
        let x = &d["rand_pix"];
        let hs = m.forward_hidden_states(x).unwrap();
        let n = m.config().num_hidden_layers as usize + 1;
        assert_eq!(hs.len(), n);
        for (k, h) in hs.iter().enumerate() {
            assert_close(
                &format!("{case} hidden_states[{k}]"),
                h,
                &d[&format!("hs{k}")],
                1e-4,
            );
        }
        let pen = m.penultimate(x).unwrap();
        assert_close(
            &format!("{case} penultimate"),
            &pen,
            &d[&format!("hs{}", n - 2)],
            1e-4,
        );
        let out = m.forward(x).unwrap();
        assert_close(
            &format!("{case} pooled"),
            &out.pooler_output,
            &d["pooled"],
            1e-4,
        );
        assert_close(
            &format!("{case} last"),
            &out.last_hidden_state,
            &d[&format!("hs{}", n - 1)],
            1e-4,
        );
        // From the reference pixel values, as `encode_image` does after its processor.
        for i in 0..N_IMAGES {
            let e = m.penultimate(&d[&format!("pix{i}")]).unwrap();
            assert_close(
                &format!("{case} emb{i} from pix"),
                &e,
                &d[&format!("emb{i}")],
                1e-4,
            );
        }
    }
}

#[test]
fn wan_image_encoder_end_to_end() {
    let imgs = images();
    for case in CASES {
        let dir = fixture("clip_vision").join(case);
        let enc = WanImageEncoder::load(
            dir.join("image_encoder"),
            dir.join("image_processor"),
            Device::Cpu,
            Dtype::F32,
        )
        .unwrap();
        let d = data(case);
        let mut worst = 0f64;
        for (i, img) in imgs.iter().enumerate() {
            let e = enc.encode(img.view()).unwrap();
            let want = &d[&format!("emb{i}")];
            worst = worst.max(rel_max_err(&e, want));
            assert_close(&format!("{case} encode(img{i})"), &e, want, 1e-4);
        }
        let views: Vec<ArrayView3<u8>> = vec![imgs[0].view(), imgs[1].view()];
        let b = enc.encode_batch(&views).unwrap();
        assert_close(&format!("{case} encode_batch"), &b, &d["emb_batch"], 1e-4);
        println!("{case}: end-to-end max rel err {worst:.3e}");
    }
}

#[test]
fn clip_rejects_bad_inputs() {
    let dir = fixture("clip_vision").join("gelu3");
    let enc = WanImageEncoder::load(
        dir.join("image_encoder"),
        dir.join("image_processor"),
        Device::Cpu,
        Dtype::F32,
    )
    .unwrap();
    // Wrong channel count, empty image, wrong pixel_values size.
    let rgba = Array3::<u8>::zeros((8, 8, 4));
    assert!(matches!(
        enc.encode(rgba.view()),
        Err(Error::InvalidRequest(_))
    ));
    let empty = Array3::<u8>::zeros((0, 8, 3));
    assert!(matches!(
        enc.encode(empty.view()),
        Err(Error::InvalidRequest(_))
    ));
    let px = Tensor::zeros([1, 3, 16, 16], (Kind::Float, tch::Device::Cpu));
    assert!(matches!(
        enc.encode_pixels(&px),
        Err(Error::InvalidRequest(_))
    ));
    // A missing tensor is reported by name.
    let tmp = std::env::temp_dir().join(format!("sora_clip_missing_{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::copy(
        dir.join("image_encoder/config.json"),
        tmp.join("config.json"),
    )
    .unwrap();
    let t = read_tensors(&dir.join("image_encoder/model.safetensors"));
    let kept: Vec<(String, Tensor)> = t
        .into_iter()
        .filter(|(k, _)| k != "pre_layrnorm.weight")
        .collect();
    Tensor::write_safetensors(&kept, tmp.join("model.safetensors")).unwrap();
    match ClipVisionModel::load(&tmp, Device::Cpu, Dtype::F32) {
        Err(Error::WeightMismatch { missing, .. }) => {
            assert_eq!(missing, vec!["pre_layrnorm.weight".to_string()])
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&tmp);
    // An unknown activation is a typed error.
    let cfg = std::fs::read_to_string(dir.join("image_encoder/config.json")).unwrap();
    let tmp2 = std::env::temp_dir().join(format!("sora_clip_act_{}", std::process::id()));
    std::fs::create_dir_all(&tmp2).unwrap();
    std::fs::write(
        tmp2.join("config.json"),
        cfg.replace("\"gelu\"", "\"swish\""),
    )
    .unwrap();
    std::fs::copy(
        dir.join("image_encoder/model.safetensors"),
        tmp2.join("model.safetensors"),
    )
    .unwrap();
    assert!(matches!(
        ClipVisionModel::load(&tmp2, Device::Cpu, Dtype::F32),
        Err(Error::Unsupported(_))
    ));
    let _ = std::fs::remove_dir_all(&tmp2);
}

#[test]
fn clip_other_dtypes_and_devices() {
    let imgs = images();
    let dir = fixture("clip_vision").join("gelu3");
    let d = data("gelu3");
    let mut runs = vec![(Device::Cpu, Dtype::BF16, 5e-2)];
    if tch::Cuda::is_available() {
        // cuDNN may run the patch convolution in TF32.
        runs.push((Device::Cuda(0), Dtype::F32, 5e-3));
        runs.push((Device::Cuda(0), Dtype::BF16, 5e-2));
    }
    for (device, dtype, tol) in runs {
        let enc = WanImageEncoder::load(
            dir.join("image_encoder"),
            dir.join("image_processor"),
            device,
            dtype,
        )
        .unwrap();
        let e = enc.encode(imgs[0].view()).unwrap();
        assert_eq!(e.kind(), dtype.to_kind());
        assert_eq!(e.device(), device.to_tch());
        assert_close(
            &format!("{device} {dtype} encode(img0)"),
            &e,
            &d["emb0"],
            tol,
        );
    }
}
