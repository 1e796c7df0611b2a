//! Parity of the Wan VAE (`AutoencoderKLWan`, Wan 2.1 and 2.2 forms) against
//! diffusers: encode (mean, logvar), decode, streaming decode, latent
//! (de)normalisation; plus typed errors for bad weights and bad inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sora_core::models::wan::vae::{VaeTiling, WanVae, WanVaeConfig};
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, scratch};
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;
const CASES: [&str; 4] = ["v21", "v21b", "v22", "v22b"];

fn case_dir(case: &str) -> PathBuf {
    fixture("wan_vae").join(case)
}

fn load(case: &str) -> (WanVae, HashMap<String, Tensor>) {
    let dir = case_dir(case);
    let vae = WanVae::load(&dir, Device::Cpu, Kind::Float).unwrap();
    let io = read_tensors(&dir.join("io.safetensors"));
    (vae, io)
}

fn numbered<'a>(io: &'a HashMap<String, Tensor>, prefix: &str) -> Vec<(i64, &'a Tensor)> {
    let mut v: Vec<(i64, &Tensor)> = io
        .iter()
        .filter_map(|(k, t)| {
            k.strip_prefix(prefix)
                .and_then(|n| n.parse().ok())
                .map(|n| (n, t))
        })
        .collect();
    v.sort_by_key(|(n, _)| *n);
    assert!(!v.is_empty(), "fixture has no `{prefix}*` tensors");
    v
}

#[test]
fn wan_vae_encode_matches_diffusers() {
    for case in CASES {
        let (vae, io) = load(case);
        for (t, video) in numbered(&io, "video_") {
            let (mean, logvar) = vae.encode(video).unwrap();
            assert_close(
                &format!("{case} mean T={t}"),
                &mean,
                &io[&format!("mean_{t}")],
                TOL,
            );
            assert_close(
                &format!("{case} logvar T={t}"),
                &logvar,
                &io[&format!("logvar_{t}")],
                TOL,
            );
        }
    }
}

#[test]
fn wan_vae_decode_matches_diffusers() {
    for case in CASES {
        let (vae, io) = load(case);
        for (f, z) in numbered(&io, "z_") {
            let want = &io[&format!("decoded_{f}")];
            let got = vae.decode(z).unwrap();
            assert_eq!(
                got.size()[2],
                vae.video_frames(f),
                "{case}: frames for F={f}"
            );
            assert_close(&format!("{case} decode F={f}"), &got, want, TOL);

            // The streaming form hands 1 frame, then temporal_factor frames per latent frame.
            let (sizes, joined) = streamed(&vae, z);
            assert_eq!(sizes.len() as i64, f, "{case}: one chunk per latent frame");
            assert_eq!(sizes[0], 1);
            assert!(sizes[1..].iter().all(|&n| n == vae.temporal_factor()));
            assert_close(&format!("{case} streamed F={f}"), &joined, want, TOL);
        }
    }
}

/// Decodes `z` through `decode_streaming`: the frame count of each chunk, and
/// the chunks joined along time.
fn streamed(vae: &WanVae, z: &Tensor) -> (Vec<i64>, Tensor) {
    let mut sizes = Vec::new();
    let mut parts = Vec::new();
    vae.decode_streaming(z, &mut |c| {
        sizes.push(c.size()[2]);
        parts.push(c);
        Ok(())
    })
    .unwrap();
    (sizes, Tensor::cat(&parts, 2))
}

fn tiling_of(io: &HashMap<String, Tensor>) -> VaeTiling {
    let v: Vec<i64> = Vec::try_from(&io["tiling"]).unwrap();
    VaeTiling {
        tile_sample_min_height: v[0],
        tile_sample_min_width: v[1],
        tile_sample_stride_height: v[2],
        tile_sample_stride_width: v[3],
    }
}

#[test]
fn wan_vae_tiled_decode_matches_diffusers() {
    for case in ["v21", "v22"] {
        let (mut vae, io) = load(case);
        let z = &io["tiled_z"];
        let want = &io["tiled_decoded"];
        // The tiles really change the values (else this test could not fail).
        let untiled = vae.decode(z).unwrap();
        assert!(
            sora_tests::rel_max_err(&untiled, want) > 1e-3,
            "{case}: tiled and untiled decodes should differ"
        );
        vae.set_tiling(Some(tiling_of(&io))).unwrap();
        let got = vae.decode(z).unwrap();
        assert_close(&format!("{case} tiled decode"), &got, want, TOL);

        let f = z.size()[2];
        let (sizes, joined) = streamed(&vae, z);
        assert_eq!(sizes.len() as i64, f, "{case}: one chunk per latent frame");
        assert_eq!(sizes[0], 1);
        assert_close(&format!("{case} tiled streamed"), &joined, want, TOL);
    }
}

#[test]
fn wan_vae_tiling_small_latent_and_bad_tilings() {
    let (mut vae, io) = load("v21");
    let z = &io["z_3"]; // latent 2×3: smaller than one 32×40 tile
    let untiled = vae.decode(z).unwrap();
    vae.set_tiling(Some(tiling_of(&io))).unwrap();
    let tiled = vae.decode(z).unwrap();
    assert!(
        tiled.equal(&untiled),
        "a latent within one tile decodes untiled"
    );
    // Off by default; `None` turns it off again.
    vae.set_tiling(None).unwrap();
    assert_eq!(vae.tiling(), None);

    let good = tiling_of(&io);
    let bads = [
        VaeTiling {
            tile_sample_stride_height: 40,
            ..good
        },
        VaeTiling {
            tile_sample_min_width: 0,
            ..good
        },
        VaeTiling {
            tile_sample_stride_width: 20, // not a multiple of 8
            ..good
        },
    ];
    for bad in bads {
        assert!(
            matches!(vae.set_tiling(Some(bad)), Err(Error::InvalidRequest(_))),
            "{bad:?}"
        );
        assert_eq!(
            vae.tiling(),
            None,
            "a refused tiling leaves the setting unchanged"
        );
    }
    // Wan 2.2: multiples of the spatial factor 16.
    let (mut v22, _) = load("v22");
    assert!(matches!(
        v22.set_tiling(Some(good)),
        Err(Error::InvalidRequest(_))
    ));
    assert!(v22.set_tiling(Some(VaeTiling::default())).is_ok());
}

#[test]
fn wan_vae_latent_normalisation_matches_pipeline() {
    for case in CASES {
        let (vae, io) = load(case);
        for (f, z) in numbered(&io, "z_") {
            let d = vae.denormalize_latents(z).unwrap();
            assert_close(
                &format!("{case} denorm"),
                &d,
                &io[&format!("denorm_{f}")],
                1e-6,
            );
            let n = vae.normalize_latents(z).unwrap();
            assert_close(&format!("{case} norm"), &n, &io[&format!("norm_{f}")], 1e-6);
            let back = vae.normalize_latents(&d).unwrap();
            assert_close(&format!("{case} round trip"), &back, z, 1e-5);
        }
    }
}

#[test]
fn wan_vae_factors_and_config() {
    let (v21, _) = load("v21");
    assert_eq!(v21.spatial_factor(), 8);
    assert_eq!(v21.temporal_factor(), 4);
    assert_eq!(v21.latent_frames(81), 21);
    assert_eq!(v21.video_frames(21), 81);
    assert!(v21.valid_num_frames(9) && !v21.valid_num_frames(8));
    assert!(v21.num_parameters() > 0);
    let (v22, _) = load("v22");
    assert_eq!(v22.spatial_factor(), 16);
    assert_eq!(v22.config().patch(), 2);
    assert!(v22.config().is_residual);

    // diffusers' defaults are the Wan 2.1 VAE.
    let d = WanVaeConfig::default();
    assert_eq!(d.base_dim, 96);
    assert_eq!(d.z_dim, 16);
    assert_eq!(d.dim_mult, vec![1, 2, 4, 4]);
    assert_eq!(d.temperal_downsample, vec![false, true, true]);
    assert_eq!(d.latents_mean.len(), 16);
    assert_eq!(d.latents_std.len(), 16);
    assert_eq!(d.scale_factor_spatial, Some(8));
    assert_eq!(d.arch_spatial_factor(), 8);
    assert_eq!(d.arch_temporal_factor(), 4);
    assert!(d.clip_output);
    // The Wan 2.2 VAE's config.json fields.
    let c = WanVaeConfig::from_json(
        r#"{"_class_name":"AutoencoderKLWan","base_dim":160,"decoder_base_dim":256,
            "z_dim":48,"is_residual":true,"in_channels":12,"out_channels":12,
            "patch_size":2,"scale_factor_spatial":16,"scale_factor_temporal":4}"#,
    )
    .unwrap();
    assert_eq!(c.decoder_dim(), 256);
    assert_eq!(c.arch_spatial_factor(), 16);
}

#[test]
fn wan_vae_rejects_bad_inputs() {
    let (vae, io) = load("v21");
    let video = &io["video_5"];
    // 4 frames break the 1 + 4k rule.
    let four = video.narrow(2, 0, 4);
    assert!(matches!(vae.encode(&four), Err(Error::InvalidRequest(_))));
    // Wrong channel count.
    let two = video.narrow(1, 0, 2);
    assert!(matches!(vae.encode(&two), Err(Error::InvalidRequest(_))));
    let z = &io["z_2"];
    assert!(matches!(
        vae.decode(&z.narrow(1, 0, 3)),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        vae.decode(&z.squeeze_dim(0)),
        Err(Error::InvalidRequest(_))
    ));
    // Wan 2.2: height not divisible by the patch size.
    let (v22, io22) = load("v22");
    let odd = io22["video_1"].narrow(3, 0, 31);
    assert!(matches!(v22.encode(&odd), Err(Error::InvalidRequest(_))));
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
fn wan_vae_weight_mismatch_is_typed() {
    for case in ["v21", "v22"] {
        let src = case_dir(case);
        let dst = scratch(&format!("wan_vae_mismatch_{case}"));
        copy_with(&src, &dst, |name, t| match name {
            "decoder.conv_in.bias" => {
                Some(Tensor::zeros([t.size()[0] + 1], (Kind::Float, Device::Cpu)))
            }
            "encoder.norm_out.gamma" => None,
            _ => Some(t),
        });
        match WanVae::load(&dst, Device::Cpu, Kind::Float) {
            Err(Error::WeightMismatch {
                missing,
                mismatched,
                ..
            }) => {
                assert_eq!(
                    missing,
                    vec!["encoder.norm_out.gamma".to_string()],
                    "{case}"
                );
                assert_eq!(mismatched.len(), 1, "{case}: {mismatched:?}");
                assert!(mismatched[0].starts_with("decoder.conv_in.bias"), "{case}");
            }
            Err(e) => panic!("{case}: expected WeightMismatch, got {e}"),
            Ok(_) => panic!("{case}: a mis-shaped checkpoint loaded"),
        }
        let _ = std::fs::remove_dir_all(&dst);
    }
}

#[test]
fn wan_vae_bad_config_is_typed() {
    let src = case_dir("v21");
    let dst = scratch("wan_vae_bad_config");
    copy_with(&src, &dst, |_, t| Some(t));
    std::fs::write(dst.join("config.json"), r#"{"dim_mult": [], "z_dim": 4}"#).unwrap();
    assert!(matches!(
        WanVae::load(&dst, Device::Cpu, Kind::Float),
        Err(Error::Config { .. })
    ));
    let _ = std::fs::remove_dir_all(&dst);
}
