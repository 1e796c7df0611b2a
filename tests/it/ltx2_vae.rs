//! Parity of LTX-2's VAEs against diffusers 0.42.1 on tiny random configs
//! (fixture `ltx2_vae`): the audio VAE's decode with the pipeline's latent
//! handling, and the video VAE's decode and encode, max abs error ≤ 1e-4 of
//! the output's scale; plus typed errors for bad weights, configs and inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sora_core::models::ltx2::{DecodeConditioning, FrameTiling, Ltx2AudioVae, Ltx2VideoVae};
use sora_core::Error;
use sora_core::VaeTiling;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err, scratch};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;

fn case_dir(case: &str) -> PathBuf {
    fixture("ltx2_vae").join(case)
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
            let latent = vae
                .unpack(&vae.denormalize_packed(packed).unwrap())
                .unwrap();
            assert_close(
                &format!("{case} latent_{n}"),
                &latent,
                &io[&format!("latent_{n}")],
                1e-6,
            );
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

/// The audio VAE's encoder (`AutoencoderKLLTX2Audio.encode`): the
/// posterior's mean and log-variance, and the normalised packed latents an
/// extension holds; an encoder missing from the folder is `Unsupported`.
#[test]
fn ltx2_audio_vae_encoder_matches_diffusers() {
    for case in ["audio", "audio_attn", "audio_width"] {
        let dir = case_dir(case);
        let vae = Ltx2AudioVae::load(&dir, Device::Cpu, Kind::Float).unwrap();
        assert!(vae.has_encoder(), "{case}");
        let io = read_tensors(&dir.join("io.safetensors"));
        let mut n = 0;
        while let Some(mel) = io.get(&format!("enc_in_{n}")) {
            let (mean, logvar) = vae.encode(mel).unwrap();
            for (name, got) in [("mean", &mean), ("logvar", &logvar)] {
                let want = &io[&format!("enc_{name}_{n}")];
                assert_eq!(got.size(), want.size(), "{case} {name}_{n}: shape");
                eprintln!("{case} enc {name}_{n}: {:.2e}", rel_max_err(got, want));
                assert_close(&format!("{case} enc {name}_{n}"), got, want, TOL);
            }
            match io.get(&format!("enc_packed_{n}")) {
                Some(want) => {
                    let packed = vae.encode_mel_packed(mel).unwrap();
                    assert_close(&format!("{case} enc packed_{n}"), &packed, want, TOL);
                }
                // Fewer than three levels: the latent's mel bins do not fit
                // the statistics, a typed error.
                None => assert!(vae.encode_mel_packed(mel).is_err(), "{case}"),
            }
            n += 1;
        }
        assert!(n >= 1, "{case}: no encoder inputs");
        if case == "audio" {
            assert!(io.contains_key("enc_packed_0"));
        }
    }
    // Without `encoder.*` the decoder still loads; encoding says why not.
    let dst = scratch("ltx2_audio_vae_no_encoder");
    copy_with(&case_dir("audio"), &dst, |name, t| {
        (!name.starts_with("encoder.")).then_some(t)
    });
    let vae = Ltx2AudioVae::load(&dst, Device::Cpu, Kind::Float).unwrap();
    assert!(!vae.has_encoder());
    let mel = Tensor::zeros([1, 2, 9, 16], (Kind::Float, Device::Cpu));
    let e = vae.encode(&mel).unwrap_err();
    assert!(
        matches!(e, Error::Unsupported(_)) && e.to_string().contains("encoder"),
        "{e}"
    );
    // A wrong input shape is a typed error.
    let full = Ltx2AudioVae::load(&case_dir("audio"), Device::Cpu, Kind::Float).unwrap();
    let bad = Tensor::zeros([1, 3, 9, 16], (Kind::Float, Device::Cpu));
    assert!(matches!(full.encode(&bad), Err(Error::InvalidRequest(_))));
}

/// LTX-2's audio front end (a log-mel spectrogram as torchaudio's
/// `MelSpectrogram` makes it with LTX-2's settings) against the fixture's
/// torch.stft + Slaney filterbank.
#[test]
fn ltx2_log_mel_matches_the_reference_front_end() {
    let io = read_tensors(&fixture("ltx2_vae").join("logmel.safetensors"));
    let front = sora_core::nn::mel::LogMel::new(16000, 1024, 160, 64).unwrap();
    let got = front.forward(&io["wave"]).unwrap();
    let want = &io["logmel"];
    assert_eq!(got.size(), want.size());
    let err = f64::try_from((&got - want).abs().max()).unwrap();
    eprintln!("log-mel max abs error {err:.2e}");
    // Log magnitudes: an absolute bound (1e-4 of a natural log is 0.01 %).
    assert!(err < 1e-3, "log-mel differs by {err}");
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
        Err(Error::WeightMismatch {
            missing,
            mismatched,
            ..
        }) => {
            assert_eq!(
                missing,
                vec!["decoder.up.1.block.0.conv2.conv.bias".to_string()]
            );
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
            matches!(
                Ltx2AudioVae::load(&dst, Device::Cpu, Kind::Float),
                Err(Error::Config { .. })
            ),
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
        assert!(
            matches!(vae.decode(&bad), Err(Error::InvalidRequest(_))),
            "{:?}",
            bad.size()
        );
    }
    for bad in [
        Tensor::zeros([1, 5, 15], opts),
        Tensor::zeros([1, 0, 16], opts),
    ] {
        assert!(
            matches!(vae.decode_packed(&bad), Err(Error::InvalidRequest(_))),
            "{:?}",
            bad.size()
        );
    }
}

fn video(case: &str) -> (Ltx2VideoVae, HashMap<String, Tensor>) {
    let dir = case_dir(case);
    let vae = Ltx2VideoVae::load(&dir, Device::Cpu, Kind::Float).unwrap();
    (vae, read_tensors(&dir.join("io.safetensors")))
}

/// The pipeline's decode: noise mixed in at the decode timestep when the
/// decoder is timestep-conditioned, de-normalised, decoded.
#[test]
fn ltx2_video_vae_decode_matches_diffusers() {
    for (case, conditioned) in [("v20", false), ("v23", true)] {
        let (vae, io) = video(case);
        assert_eq!(vae.timestep_conditioning(), conditioned, "{case}");
        let mut n = 0;
        while let Some(z) = io.get(&format!("z_{n}")) {
            let want = &io[&format!("video_{n}")];
            let cond = io
                .get(&format!("noise_{n}"))
                .map(|noise| DecodeConditioning {
                    timestep: Vec::<f64>::try_from(
                        &io[&format!("timestep_{n}")].to_kind(Kind::Double),
                    )
                    .unwrap(),
                    noise_scale: Vec::<f64>::try_from(
                        &io[&format!("noise_scale_{n}")].to_kind(Kind::Double),
                    )
                    .unwrap(),
                    noise: noise.shallow_clone(),
                });
            assert_eq!(cond.is_some(), conditioned);
            let got = vae.decode_latents(z, cond.as_ref()).unwrap();
            assert_eq!(got.size(), want.size(), "{case} video_{n}: shape");
            assert_eq!(vae.video_frames(z.size()[2]), want.size()[2]);
            eprintln!("{case} video_{n}: {:.2e}", rel_max_err(&got, want));
            assert_close(&format!("{case} video_{n}"), &got, want, TOL);
            n += 1;
        }
        assert!(n >= 2, "{case}: {n} inputs");
    }
    let (vae, _) = video("v23");
    assert_eq!(
        (
            vae.spatial_compression_ratio(),
            vae.temporal_compression_ratio()
        ),
        (8, 4)
    );
}

/// Encode: the posterior's mean and log-variance, and the normalised image
/// latents of `LTX2ImageToVideoPipeline`.
#[test]
fn ltx2_video_vae_encode_matches_diffusers() {
    for case in ["v20", "v23"] {
        let (vae, io) = video(case);
        let mut n = 0;
        while let Some(clip) = io.get(&format!("clip_{n}")) {
            let (mean, logvar) = vae.encode(clip).unwrap();
            let want = &io[&format!("mean_{n}")];
            assert_eq!(mean.size(), want.size(), "{case} mean_{n}");
            assert_eq!(vae.latent_frames(clip.size()[2]), want.size()[2]);
            eprintln!("{case} mean_{n}: {:.2e}", rel_max_err(&mean, want));
            assert_close(&format!("{case} mean_{n}"), &mean, want, TOL);
            assert_close(
                &format!("{case} logvar_{n}"),
                &logvar,
                &io[&format!("logvar_{n}")],
                TOL,
            );
            let cond = vae.normalize_latents(&mean, 1.0).unwrap();
            assert_close(
                &format!("{case} cond_{n}"),
                &cond,
                &io[&format!("cond_{n}")],
                TOL,
            );
            n += 1;
        }
        assert!(n >= 2, "{case}: {n} clips");
    }
}

/// Each decoder path changes the output: the timestep matters (a wrong one
/// is visibly different), and normalisation round-trips.
#[test]
fn ltx2_video_vae_timestep_and_stats_matter() {
    let (vae, io) = video("v23");
    let z = &io["z_0"];
    let zd = vae.denormalize_latents(z).unwrap();
    let a = vae
        .decode(&zd, Some(&Tensor::from_slice(&[0.05f32])))
        .unwrap();
    let b = vae
        .decode(&zd, Some(&Tensor::from_slice(&[0.5f32])))
        .unwrap();
    let scale = a.abs().max().double_value(&[]);
    let diff = (&a - &b).abs().max().double_value(&[]);
    assert!(
        diff > 0.01 * scale,
        "timestep changes the output by {diff} of {scale}"
    );
    let back = vae
        .normalize_latents(&zd, vae.config().scaling_factor)
        .unwrap();
    assert_close("normalise round trip", &back, z, 1e-5);
}

#[test]
fn ltx2_video_vae_errors_are_typed() {
    let (vae, io) = video("v23");
    let opts = (Kind::Float, Device::Cpu);
    let z = &io["z_0"];
    // Wrong latent shapes, a missing timestep, a wrong-sized one.
    for bad in [
        Tensor::zeros([1, 5, 2, 2, 2], opts),
        Tensor::zeros([6, 2, 2, 2], opts),
        Tensor::zeros([1, 6, 0, 2, 2], opts),
    ] {
        assert!(
            matches!(
                vae.decode(&bad, Some(&Tensor::from_slice(&[0.0f32]))),
                Err(Error::InvalidRequest(_))
            ),
            "{:?}",
            bad.size()
        );
    }
    assert!(matches!(vae.decode(z, None), Err(Error::InvalidRequest(_))));
    assert!(matches!(
        vae.decode_latents(z, None),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        vae.decode(z, Some(&Tensor::from_slice(&[0.0f32, 0.1, 0.2]))),
        Err(Error::InvalidRequest(_))
    ));
    let wrong_noise = DecodeConditioning {
        timestep: vec![0.05],
        noise_scale: vec![0.025],
        noise: Tensor::zeros([1, 6, 1, 2, 2], opts),
    };
    assert!(matches!(
        vae.decode_latents(z, Some(&wrong_noise)),
        Err(Error::InvalidRequest(_))
    ));
    // Frame counts and sizes the encoder cannot take.
    for bad in [
        Tensor::zeros([1, 3, 4, 32, 32], opts),
        Tensor::zeros([1, 3, 5, 20, 32], opts),
        Tensor::zeros([1, 4, 5, 32, 32], opts),
    ] {
        assert!(
            matches!(vae.encode(&bad), Err(Error::InvalidRequest(_))),
            "{:?}",
            bad.size()
        );
    }

    // Damaged weights: every problem named at once.
    let dst = scratch("ltx2_video_vae_mismatch");
    copy_with(&case_dir("v23"), &dst, |name, t| {
        if name == "decoder.up_blocks.1.resnets.1.scale_shift_table" {
            None
        } else if name == "encoder.down_blocks.0.downsamplers.0.conv.conv.weight" {
            Some(Tensor::zeros([1, 1, 3, 3, 3], opts))
        } else {
            Some(t)
        }
    });
    match Ltx2VideoVae::load(&dst, Device::Cpu, Kind::Float) {
        Err(Error::WeightMismatch {
            missing,
            mismatched,
            ..
        }) => {
            assert_eq!(
                missing,
                vec!["decoder.up_blocks.1.resnets.1.scale_shift_table".to_string()]
            );
            assert_eq!(mismatched.len(), 1, "{mismatched:?}");
            assert!(
                mismatched[0].starts_with("encoder.down_blocks.0.downsamplers.0.conv.conv.weight")
            );
        }
        other => panic!("expected WeightMismatch, got {other:?}"),
    }
    // Configs this port (or diffusers) cannot build.
    let config = dst.join("config.json");
    let base: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(case_dir("v23").join("config.json")).unwrap(),
    )
    .unwrap();
    for (key, value) in [
        ("decoder_inject_noise", serde_json::json!(true)),
        (
            "decoder_spatial_padding_mode",
            serde_json::json!("circular"),
        ),
        (
            "upsample_type",
            serde_json::json!(["temporal", "diagonal", "spatiotemporal"]),
        ),
        ("decoder_layers_per_block", serde_json::json!([1, 1])),
    ] {
        let mut c = base.clone();
        c[key] = value;
        std::fs::write(&config, c.to_string()).unwrap();
        assert!(
            matches!(
                Ltx2VideoVae::load(&dst, Device::Cpu, Kind::Float),
                Err(Error::Config { .. })
            ),
            "{key}"
        );
    }
    let _ = std::fs::remove_dir_all(&dst);
}

/// diffusers' tiled decode (spatial tiles + frame-wise windows) reproduced;
/// the untiled decode of the same latents too, and how far tiling moves the
/// output from it on these random weights is printed.
#[test]
fn ltx2_video_vae_tiled_decode_matches_diffusers() {
    for (case, tiles, frames) in [
        ("v20", [48, 48, 32, 32], [16, 8]),
        ("v23", [16, 24, 8, 16], [8, 4]),
    ] {
        let (mut vae, io) = video(case);
        let t = vae
            .timestep_conditioning()
            .then(|| Tensor::from_slice(&[0.05f32]));
        let mut n = 0;
        while let Some(z) = io.get(&format!("tz_{n}")) {
            vae.set_tiling(None).unwrap();
            vae.set_frame_tiling(None).unwrap();
            let full = vae.decode(z, t.as_ref()).unwrap();
            assert_close(
                &format!("{case} full_{n}"),
                &full,
                &io[&format!("full_{n}")],
                TOL,
            );
            vae.set_tiling(Some(VaeTiling {
                tile_sample_min_height: tiles[0],
                tile_sample_min_width: tiles[1],
                tile_sample_stride_height: tiles[2],
                tile_sample_stride_width: tiles[3],
            }))
            .unwrap();
            vae.set_frame_tiling(Some(FrameTiling {
                tile_sample_min_num_frames: frames[0],
                tile_sample_stride_num_frames: frames[1],
            }))
            .unwrap();
            let want = &io[&format!("tiled_{n}")];
            let mut windows = Vec::new();
            vae.decode_streaming(z, t.as_ref(), &mut |w| {
                windows.push(w);
                Ok(())
            })
            .unwrap();
            let got = Tensor::cat(&windows, 2);
            assert_eq!(got.size(), want.size(), "{case} tiled_{n}: shape");
            eprintln!(
                "{case} tiled_{n}: {} windows, {:.2e} from diffusers, tiling moves the output by {:.2e} of its scale",
                windows.len(),
                rel_max_err(&got, want),
                rel_max_err(&got, &full)
            );
            assert_close(&format!("{case} tiled_{n}"), &got, want, TOL);
            if z.size()[2] > frames[0] / vae.temporal_compression_ratio() {
                assert!(windows.len() > 1, "{case} tiled_{n}: not streamed");
            }
            n += 1;
        }
        assert!(n >= 2, "{case}: {n} tiled inputs");
        let bad = VaeTiling {
            tile_sample_min_height: 12,
            ..VaeTiling::default()
        };
        assert!(matches!(
            vae.set_tiling(Some(bad)),
            Err(Error::InvalidRequest(_))
        ));
        for (m, s) in [(8, 12), (6, 2), (0, 0)] {
            let f = FrameTiling {
                tile_sample_min_num_frames: m,
                tile_sample_stride_num_frames: s,
            };
            assert!(
                matches!(vae.set_frame_tiling(Some(f)), Err(Error::InvalidRequest(_))),
                "{m} {s}"
            );
        }
    }
}

/// Both VAEs load and run in bfloat16 (close to the float32 reference) and
/// give the same output with their weights offloaded to host memory.
#[test]
fn ltx2_vaes_bf16_and_offload() {
    let dir = case_dir("audio");
    let io = read_tensors(&dir.join("io.safetensors"));
    let mut audio = Ltx2AudioVae::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
    let got = audio.decode(&io["latent_0"]).unwrap();
    assert_eq!(got.kind(), Kind::BFloat16);
    let err = rel_max_err(&got, &io["mel_0"]);
    eprintln!("audio bf16: {err:.2e}");
    assert!(err < 0.1, "audio bf16 differs by {err:.2e}");
    audio.set_offload(true, Device::Cpu).unwrap();
    assert!(audio.is_offloaded());
    assert_close(
        "audio offloaded",
        &audio.decode(&io["latent_0"]).unwrap(),
        &got,
        0.0,
    );

    let (_, io) = video("v20");
    let mut vae = Ltx2VideoVae::load(&case_dir("v20"), Device::Cpu, Kind::BFloat16).unwrap();
    let z = vae
        .denormalize_latents(&io["z_0"].to_kind(Kind::BFloat16))
        .unwrap();
    let got = vae.decode(&z, None).unwrap();
    assert_eq!(got.kind(), Kind::BFloat16);
    let err = rel_max_err(&got, &io["video_0"]);
    eprintln!("video bf16: {err:.2e}");
    assert!(err < 0.1, "video bf16 differs by {err:.2e}");
    vae.set_offload(true, Device::Cpu).unwrap();
    assert_close("video offloaded", &vae.decode(&z, None).unwrap(), &got, 0.0);
}
