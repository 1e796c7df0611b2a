//! Parity of LTX-2's VAEs against diffusers 0.42.1 on tiny random configs
//! (fixture `ltx2_vae`): the audio VAE's decode with the pipeline's latent
//! handling, and the video VAE's decode and encode, max abs error ≤ 1e-4 of
//! the output's scale; plus typed errors for bad weights, configs and inputs.

use std::path::{Path, PathBuf};

use sora_core::models::ltx2::Ltx2AudioVae;
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err, workspace};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;

fn case_dir(case: &str) -> PathBuf {
    fixture("ltx2_vae").join(case)
}

fn scratch(name: &str) -> PathBuf {
    let dir = workspace()
        .join("target")
        .join("tmp")
        .join(format!("{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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

#[test]
fn ltx2_audio_vae_matches_diffusers() {
    for case in ["audio", "audio_attn", "audio_width"] {
        let dir = case_dir(case);
        let vae = Ltx2AudioVae::load(&dir, Device::Cpu, Kind::Float).unwrap();
        let io = read_tensors(&dir.join("io.safetensors"));
        let mut n = 0;
        while let Some(packed) = io.get(&format!("packed_{n}")) {
            let latent = vae.unpack(&vae.denormalize_packed(packed).unwrap()).unwrap();
            assert_close(&format!("{case} latent_{n}"), &latent, &io[&format!("latent_{n}")], 1e-6);
            let want = &io[&format!("mel_{n}")];
            let got = vae.decode_packed(packed).unwrap();
            assert_eq!(got.size(), want.size(), "{case} mel_{n}: shape");
            assert_eq!(vae.mel_frames(packed.size()[1]), want.size()[2]);
            eprintln!("{case} mel_{n}: {:.2e}", rel_max_err(&got, want));
            assert_close(&format!("{case} mel_{n}"), &got, want, TOL);
            let round = vae.normalize_packed(&vae.pack(&latent).unwrap()).unwrap();
            assert_close(&format!("{case} pack round trip"), &round, packed, 1e-5);
            n += 1;
        }
        assert!(n >= 1, "{case}: no inputs");
    }
}

#[test]
fn ltx2_audio_vae_errors_are_typed() {
    let src = case_dir("audio");
    let dst = scratch("ltx2_audio_vae_mismatch");
    copy_with(&src, &dst, |name, t| {
        if name == "decoder.up.1.block.0.conv2.conv.bias" {
            None
        } else if name == "latents_std" {
            Some(Tensor::ones([3], (Kind::Float, Device::Cpu)))
        } else {
            Some(t)
        }
    });
    match Ltx2AudioVae::load(&dst, Device::Cpu, Kind::Float) {
        Err(Error::WeightMismatch { missing, mismatched, .. }) => {
            assert_eq!(missing, vec!["decoder.up.1.block.0.conv2.conv.bias".to_string()]);
            assert_eq!(mismatched.len(), 1, "{mismatched:?}");
            assert!(mismatched[0].starts_with("latents_std"));
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }
    let config = dst.join("config.json");
    for bad in [
        r#"{"causality_axis": "depth"}"#,
        r#"{"norm_type": "batch"}"#,
        r#"{"norm_type": "group", "causality_axis": "height"}"#,
        r#"{"ch_mult": []}"#,
    ] {
        std::fs::write(&config, bad).unwrap();
        assert!(
            matches!(Ltx2AudioVae::load(&dst, Device::Cpu, Kind::Float), Err(Error::Config { .. })),
            "{bad}"
        );
    }
    let _ = std::fs::remove_dir_all(&dst);

    let vae = Ltx2AudioVae::load(&src, Device::Cpu, Kind::Float).unwrap();
    let opts = (Kind::Float, Device::Cpu);
    for bad in [
        Tensor::zeros([1, 3, 4, 4], opts),
        Tensor::zeros([4, 4, 4], opts),
        Tensor::zeros([1, 4, 0, 4], opts),
    ] {
        assert!(matches!(vae.decode(&bad), Err(Error::InvalidRequest(_))), "{:?}", bad.size());
    }
    for bad in [Tensor::zeros([1, 5, 15], opts), Tensor::zeros([1, 0, 16], opts)] {
        assert!(matches!(vae.decode_packed(&bad), Err(Error::InvalidRequest(_))), "{:?}", bad.size());
    }
}
