//! Parity of LTX-2's vocoders (`LTX2Vocoder`, `LTX2VocoderWithBWE`) against
//! diffusers 0.42.1 on tiny random configs (fixture `ltx2_vocoder`): same
//! waveform length, max abs error ≤ 1e-4 of the output's scale; plus typed
//! errors for damaged weights, bad configs and bad inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sora_core::models::ltx2::{Ltx2Vocoder, VocoderConfig};
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err, scratch};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;
/// Case, whether it has bandwidth extension, its sample rate.
const CASES: [(&str, bool, i64); 4] = [
    ("v20", false, 24000),
    ("snake", false, 16000),
    ("bwe", true, 48000),
    ("bwe2", true, 48000),
];

fn case_dir(case: &str) -> PathBuf {
    fixture("ltx2_vocoder").join(case)
}

fn load(case: &str) -> (Ltx2Vocoder, HashMap<String, Tensor>) {
    let dir = case_dir(case);
    let vocoder = Ltx2Vocoder::load(&dir, Device::Cpu, Kind::Float).unwrap();
    (vocoder, read_tensors(&dir.join("io.safetensors")))
}

#[test]
fn ltx2_vocoders_match_diffusers() {
    for (case, with_bwe, rate) in CASES {
        let (vocoder, io) = load(case);
        assert_eq!(vocoder.has_bandwidth_extension(), with_bwe, "{case}");
        assert_eq!(vocoder.sample_rate(), rate, "{case}");
        let mut n = 0;
        while let Some(mel) = io.get(&format!("mel_{n}")) {
            let want = &io[&format!("wave_{n}")];
            let got = vocoder.forward(mel).unwrap();
            assert_eq!(got.size(), want.size(), "{case} mel_{n}: shape");
            assert_eq!(
                vocoder.output_len(mel.size()[2]),
                want.size()[2],
                "{case} mel_{n}: predicted length"
            );
            eprintln!("{case} mel_{n}: {:.2e}", rel_max_err(&got, want));
            assert_close(&format!("{case} mel_{n}"), &got, want, TOL);
            n += 1;
        }
        assert!(n >= 2, "{case}: fixture has {n} inputs");
    }
}

/// Both classes load and run in bfloat16, close to the float32 reference.
#[test]
fn ltx2_vocoders_run_in_bf16() {
    for case in ["v20", "bwe"] {
        let dir = case_dir(case);
        let vocoder = Ltx2Vocoder::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
        let io = read_tensors(&dir.join("io.safetensors"));
        let got = vocoder.forward(&io["mel_0"]).unwrap();
        assert_eq!(got.kind(), Kind::BFloat16);
        let err = rel_max_err(&got, &io["wave_0"]);
        eprintln!("{case} bf16: {err:.2e}");
        assert!(err < 0.1, "{case}: bf16 differs by {err:.2e} of the scale");
    }
}

/// The bandwidth extension's generator matters: zeroing its output layer
/// changes the waveform (the fixture's residual is not negligible).
#[test]
fn ltx2_bwe_residual_is_not_negligible() {
    let src = case_dir("bwe");
    let dst = scratch("ltx2_vocoder_no_residual");
    copy_with(&src, &dst, |name, t| {
        Some(if name == "bwe_generator.conv_out.weight" {
            t.zeros_like()
        } else {
            t
        })
    });
    let (vocoder, io) = load("bwe");
    let damaged = Ltx2Vocoder::load(&dst, Device::Cpu, Kind::Float).unwrap();
    let mel = &io["mel_0"];
    let a = vocoder.forward(mel).unwrap();
    let b = damaged.forward(mel).unwrap();
    let scale = a.abs().max().double_value(&[]);
    let diff = (&a - &b).abs().max().double_value(&[]);
    assert!(
        diff > 0.05 * scale,
        "residual changes the output by {diff} of {scale}"
    );
    let _ = std::fs::remove_dir_all(&dst);
}

#[test]
fn ltx2_vocoder_weight_mismatch_is_typed() {
    for (case, missing_name, bad_name) in [
        ("v20", "resnets.1.convs1.0.bias", "upsamplers.0.weight"),
        (
            "bwe",
            "mel_stft.mel_basis",
            "bwe_generator.resnets.0.acts1.0.act.alpha",
        ),
    ] {
        let dst = scratch(&format!("ltx2_vocoder_mismatch_{case}"));
        copy_with(&case_dir(case), &dst, |name, t| {
            if name == missing_name {
                None
            } else if name == bad_name {
                let mut shape = t.size();
                shape[0] += 1;
                Some(Tensor::zeros(shape.as_slice(), (Kind::Float, Device::Cpu)))
            } else {
                Some(t)
            }
        });
        match Ltx2Vocoder::load(&dst, Device::Cpu, Kind::Float) {
            Err(Error::WeightMismatch {
                missing,
                mismatched,
                ..
            }) => {
                assert_eq!(missing, vec![missing_name.to_string()], "{case}");
                assert_eq!(mismatched.len(), 1, "{case}: {mismatched:?}");
                assert!(
                    mismatched[0].starts_with(bad_name),
                    "{case}: {mismatched:?}"
                );
            }
            Err(e) => panic!("{case}: expected WeightMismatch, got {e}"),
            Ok(_) => panic!("{case}: a damaged checkpoint loaded"),
        }
        let _ = std::fs::remove_dir_all(&dst);
    }
}

/// Anti-aliasing filters are optional buffers: without them the built ones
/// give the same waveform as the stored ones.
#[test]
fn ltx2_vocoder_builds_missing_filters() {
    let dst = scratch("ltx2_vocoder_no_filters");
    copy_with(&case_dir("snake"), &dst, |name, t| {
        (!name.ends_with(".filter")).then_some(t)
    });
    let (stored, io) = load("snake");
    let built = Ltx2Vocoder::load(&dst, Device::Cpu, Kind::Float).unwrap();
    let mel = &io["mel_0"];
    assert_close(
        "built filters",
        &built.forward(mel).unwrap(),
        &stored.forward(mel).unwrap(),
        1e-6,
    );
    let _ = std::fs::remove_dir_all(&dst);
}

#[test]
fn ltx2_vocoder_bad_config_and_input_are_typed() {
    let dst = scratch("ltx2_vocoder_bad_config");
    copy_with(&case_dir("v20"), &dst, |_, t| Some(t));
    let config = dst.join("config.json");
    for bad in [
        r#"{"_class_name": "LTX2Vocoder", "upsample_factors": [4], "upsample_kernel_sizes": [8, 7]}"#,
        r#"{"_class_name": "LTX2Vocoder", "act_fn": "gelu"}"#,
        r#"{"_class_name": "AutoencoderKLLTX2Audio"}"#,
        r#"{"_class_name": "LTX2VocoderWithBWE", "bwe_in_channels": 7}"#,
    ] {
        std::fs::write(&config, bad).unwrap();
        match Ltx2Vocoder::load(&dst, Device::Cpu, Kind::Float) {
            Err(Error::Config { .. }) => {}
            other => panic!("{bad}: expected a config error, got {other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dst);

    let (vocoder, io) = load("v20");
    assert!(matches!(vocoder.config(), VocoderConfig::Plain(_)));
    let mel = &io["mel_0"];
    for wrong in [mel.narrow(3, 0, 5), mel.select(0, 0), mel.narrow(2, 0, 0)] {
        assert!(
            matches!(vocoder.forward(&wrong), Err(Error::InvalidRequest(_))),
            "{:?}",
            wrong.size()
        );
    }
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

/// Model offload: the weights wait in host memory (held wider on the CPU, so
/// a weight the forward did not copy would change the result or fail) and
/// the waveform is the same.
#[test]
fn ltx2_vocoder_offloaded_gives_the_same_waveform() {
    for case in ["snake", "bwe"] {
        let (mut vocoder, io) = load(case);
        let mel = &io["mel_1"];
        let want = vocoder.forward(mel).unwrap();
        vocoder.set_offload(true, Device::Cpu).unwrap();
        assert!(vocoder.is_offloaded());
        let got = vocoder.forward(mel).unwrap();
        assert_eq!(got.kind(), Kind::Float, "{case}");
        assert_close(&format!("{case} offloaded"), &got, &want, 0.0);
    }
}
