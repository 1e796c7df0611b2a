//! LTX-2's denoising against diffusers 0.42.1 `LTX2Pipeline` (text to video
//! and audio, fixture `ltx2_pipeline`): tiny LTX-2.0 and LTX-2.3 pipelines
//! run with `output_type="latent"`; the denoised video and audio latents of
//! `denoise_latents` on [`Ltx2Family`] are within 1e-4 of their scale, with
//! every guidance term alone, all of them and none, STG on an existing block,
//! the cross timestep on and off, batched and one forward per branch; STG and
//! the prompt each move the latents far. Also: the guidance parameters are set by
//! their diffusers names, and requests the rules refuse name the nearest valid
//! values. End to end through [`Pipeline`] (marks off): the decoded frames and
//! waveform of T2V in both layouts against the pipeline's `output_type="np"`
//! (the comparison [`assert_decoded_close`] is shared with `ltx2_i2v`).

use sora_core::denoise::{denoise_latents, Latents, WalkOptions};
use sora_core::family::params::set_known_text;
use sora_core::family::{load as load_registry, MemoryOptions};
use sora_core::models::ltx2::latents::{unpack_audio, unpack_video};
use sora_core::models::ltx2::Ltx2Family;
use sora_core::pipeline::request::Request;
use sora_core::weights::ModelFolder;
use sora_core::{Clip, Device, Dtype, Error, Pipeline, Progress, WatermarkPolicy};
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err};
use tch::{Kind, Tensor};

const TOL: f64 = 1e-4;

fn folder(layout: &str) -> ModelFolder {
    ModelFolder::open(fixture("ltx2_pipeline").join(layout)).unwrap()
}

/// The request of the fixture's run `r` (every guidance value by its diffusers name).
pub(crate) fn request(r: &serde_json::Value) -> Request {
    let mut req = Request::text(r["prompt"].as_str().unwrap())
        .size(
            r["width"].as_u64().unwrap() as u32,
            r["height"].as_u64().unwrap() as u32,
        )
        .frames(r["frames"].as_u64().unwrap() as u32)
        .fps(r["fps"].as_u64().unwrap() as u32)
        .steps(r["steps"].as_u64().unwrap() as u32)
        .seed(r["seed"].as_u64().unwrap());
    if let Some(n) = r["negative_prompt"].as_str() {
        req = req.negative_prompt(n);
    }
    req.set(
        "max_sequence_length",
        r["max_sequence_length"].as_i64().unwrap(),
    )
    .unwrap();
    req.set(
        "use_cross_timestep",
        r["use_cross_timestep"].as_bool().unwrap(),
    )
    .unwrap();
    for (k, v) in r["guidance"].as_object().unwrap() {
        match v {
            serde_json::Value::Array(a) => {
                let text: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                req.set_text(k, &text.join(",")).unwrap();
            }
            _ => req.set(k, v.as_f64().unwrap()).unwrap(),
        }
    }
    req
}

/// Denoised (video [B, C, F, H, W], audio [B, C, L, M]) of `req`.
fn denoise(fam: &mut Ltx2Family, req: &Request) -> (Tensor, Tensor) {
    let x = denoise_latents(fam, req, &WalkOptions::default()).unwrap();
    unpacked(fam, req, x)
}

/// The walked (packed) latents `x` of `req` unpacked as the pipeline does.
pub(crate) fn unpacked(fam: &Ltx2Family, req: &Request, x: Latents) -> (Tensor, Tensor) {
    let geo = fam.geometry();
    let c = fam.transformer().config();
    let (w, h, f) = (
        req.width.unwrap() as i64,
        req.height.unwrap() as i64,
        req.frames.unwrap(),
    );
    let grid = [geo.latent_frames(f), h / geo.spatial, w / geo.spatial];
    let video = unpack_video(&x.video, grid, c.patch_size, c.patch_size_t).unwrap();
    let audio = unpack_audio(&x.audio.unwrap(), geo.latent_mel_bins()).unwrap();
    (video, audio)
}

fn parity(layout: &str) {
    let dir = fixture("ltx2_pipeline").join(layout);
    let runs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    let want = read_tensors(&dir.join("latents.safetensors"));
    let mut fam = Ltx2Family::load(&folder(layout), Device::Cpu, Dtype::F32).unwrap();
    for r in runs.as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let (video, audio) = denoise(&mut fam, &request(r));
        let what = format!("{layout} {name}");
        eprintln!(
            "{what}: video {:.2e}, audio {:.2e}",
            rel_max_err(&video, &want[&format!("{name}.video")]),
            rel_max_err(&audio, &want[&format!("{name}.audio")])
        );
        assert_close(
            &format!("{what} video"),
            &video,
            &want[&format!("{name}.video")],
            TOL,
        );
        assert_close(
            &format!("{what} audio"),
            &audio,
            &want[&format!("{name}.audio")],
            TOL,
        );
        if name == "none" {
            // The prompt matters: another one moves the latents far.
            let mut req = request(r);
            req.prompt = "Waves crash against the rocky shore at sunset".into();
            let (v, a) = denoise(&mut fam, &req);
            let (ev, ea) = (
                rel_max_err(&v, &want["none.video"]),
                rel_max_err(&a, &want["none.audio"]),
            );
            eprintln!("{what} with another prompt: video {ev:.2e}, audio {ea:.2e}");
            assert!(ev > 100.0 * TOL && ea > 100.0 * TOL, "{ev} {ea}");
        }
        if name == "all" {
            // One forward per branch (perturbed alone: STG on the whole batch) gives the same.
            let opts = WalkOptions {
                batch_guidance: false,
                ..WalkOptions::default()
            };
            let x = denoise_latents(&mut fam, &request(r), &opts).unwrap();
            let (v, a) = unpacked(&fam, &request(r), x);
            assert_close(
                &format!("{what} sequential video"),
                &v,
                &want["all.video"],
                TOL,
            );
            assert_close(
                &format!("{what} sequential audio"),
                &a,
                &want["all.audio"],
                TOL,
            );
            // Each term matters: without STG the latents move far from diffusers'.
            let mut req = request(r);
            req.set("stg_scale", 0.0).unwrap();
            req.set("audio_stg_scale", 0.0).unwrap();
            let (v, a) = denoise(&mut fam, &req);
            let (ev, ea) = (
                rel_max_err(&v, &want["all.video"]),
                rel_max_err(&a, &want["all.audio"]),
            );
            eprintln!("{what} without STG: video {ev:.2e}, audio {ea:.2e}");
            assert!(ev > 100.0 * TOL && ea > 100.0 * TOL, "{ev} {ea}");
        }
    }
}

#[test]
fn ltx2_20_denoised_latents_match_diffusers() {
    parity("v20");
}

#[test]
fn ltx2_23_denoised_latents_match_diffusers() {
    parity("v23");
}

#[test]
fn ltx2_registry_loads_and_rules_name_nearest_values() {
    let f = folder("v20");
    let fam = load_registry(&f, Device::Cpu, Dtype::F32, &MemoryOptions::default()).unwrap();
    assert_eq!(fam.name(), "ltx2");
    drop(fam);
    let mut fam = Ltx2Family::load(&f, Device::Cpu, Dtype::F32).unwrap();
    let bad = Request::text("x").size(100, 64).frames(10).steps(1).seed(0);
    let e = denoise_latents(&mut fam, &bad, &WalkOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("96 or 128") && e.contains("9 or 17"), "{e}");
    // STG without blocks is refused, as diffusers refuses it.
    let mut req = Request::text("x").size(96, 64).frames(9).steps(1).seed(0);
    req.set("spatio_temporal_guidance_blocks", Vec::<f64>::new())
        .unwrap();
    let e = denoise_latents(&mut fam, &req, &WalkOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(e, Error::InvalidRequest(ref m) if m.contains("spatio_temporal_guidance_blocks")),
        "{e}"
    );
    // The front doors' path (`--set`, Python keywords, C) knows every LTX-2 key.
    let mut req = Request::text("x");
    for (k, v) in [
        ("spatio_temporal_guidance_blocks", "28"),
        ("stg_blocks", "1,2"),
        ("audio_guidance_scale", "5"),
        ("use_cross_timestep", "false"),
        ("max_sequence_length", "64"),
    ] {
        set_known_text(&mut req, k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    // An unknown key is refused when resolved.
    let mut req = Request::text("x").size(96, 64).frames(9).steps(1).seed(0);
    req.set("stg_scalez", 1.0).unwrap();
    assert!(denoise_latents(&mut fam, &req, &WalkOptions::default()).is_err());
}

/// The fixture's run `name` of `layout` generated through [`Pipeline`], marks
/// off, its request changed by `edit`.
fn generate(layout: &str, name: &str, edit: impl FnOnce(&mut Request)) -> Clip {
    let dir = fixture("ltx2_pipeline").join(layout);
    let runs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap();
    let pipe = Pipeline::builder()
        .model(&dir)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap_or_else(|e| panic!("{layout}: {e}"));
    let mut req = request(run);
    edit(&mut req);
    pipe.generate(&req, &mut Progress::none())
        .unwrap_or_else(|e| panic!("{layout} {name}: {e}"))
}

/// Frames within 2/255 of diffusers' (`frames` `[F, H, W, 3]` in [0, 1]) on
/// ≥ 99.5 % of values with mean ≤ 0.5/255 and a reference far from flat; the
/// waveform of `wave_want`'s shape with mean abs difference ≤ 1e-3 and a
/// reference far from silent.
pub(crate) fn assert_decoded_close(what: &str, clip: &Clip, frames: &Tensor, wave_want: &Tensor) {
    let want_u8 = frames
        .f_mul_scalar(255.0)
        .unwrap()
        .round()
        .to_kind(Kind::Int);
    let s = clip.frames.shape();
    let ours = Tensor::from_slice(clip.frames.as_slice().unwrap())
        .view([s[0] as i64, s[1] as i64, s[2] as i64, s[3] as i64])
        .to_kind(Kind::Int);
    assert_eq!(ours.size(), want_u8.size(), "{what}: frame shape");
    let diff = (&ours - &want_u8).abs().to_kind(Kind::Double);
    let within = diff
        .le(2.0)
        .to_kind(Kind::Double)
        .mean(Kind::Double)
        .double_value(&[]);
    let mean = diff.mean(Kind::Double).double_value(&[]);
    let max = diff.max().double_value(&[]);
    // Diffusers' frames are far from flat: a broken decoder would show.
    let spread = frames.std(true).double_value(&[]);
    let audio = clip.audio.as_ref().expect("LTX-2 makes audio");
    let a = audio.shape();
    let wave = Tensor::from_slice(audio.as_standard_layout().as_slice().unwrap())
        .view([a[0] as i64, a[1] as i64]);
    assert_eq!(wave.size(), wave_want.size(), "{what}: waveform shape");
    let wave_err = (&wave - wave_want)
        .abs()
        .mean(Kind::Double)
        .double_value(&[]);
    let wave_scale = wave_want.abs().mean(Kind::Double).double_value(&[]);
    eprintln!(
        "{what}: frames {:.4}% within 2/255, mean {mean:.4}/255, max {max}/255 (spread {spread:.3}); \
         waveform {:?} at {} Hz, mean abs diff {wave_err:.2e} (mean abs {wave_scale:.3})",
        within * 100.0,
        wave.size(),
        clip.sample_rate
    );
    assert!(spread > 0.1, "{what}: reference frames nearly flat");
    assert!(
        within >= 0.995,
        "{what}: only {:.3}% within 2/255",
        within * 100.0
    );
    assert!(mean <= 0.5, "{what}: mean frame difference {mean}/255");
    assert!(
        wave_scale > 0.05,
        "{what}: reference waveform nearly silent"
    );
    assert!(
        wave_err <= 1e-3,
        "{what}: waveform mean abs difference {wave_err}"
    );
}

/// Frames within 2/255 of diffusers' on ≥ 99.5 % of values with mean ≤ 0.5/255;
/// waveform of the same shape with mean abs difference ≤ 1e-3.
fn decoded_parity(layout: &str) {
    let dir = fixture("ltx2_pipeline").join(layout);
    let want = read_tensors(&dir.join("decoded.safetensors"));
    for name in ["all", "none"] {
        let what = format!("{layout} {name}");
        let clip = generate(layout, name, |_| ());
        assert_decoded_close(
            &what,
            &clip,
            &want[&format!("{name}.frames")],
            &want[&format!("{name}.waveform")],
        );
        assert_eq!(clip.sample_rate, 24_000, "{what}: the vocoder's rate");
        if layout == "v23" && name == "all" {
            // The timestep-conditioned VAE's decode noise matters: without it
            // the frames move far from diffusers'.
            let other = generate(layout, name, |r| r.set("decode_noise_scale", 0.0).unwrap());
            let a = other.frames.mapv(f64::from);
            let moved = (&a - &clip.frames.mapv(f64::from))
                .mapv(f64::abs)
                .mean()
                .unwrap();
            eprintln!("{what} without decode noise: frames move {moved:.2}/255 on average");
            assert!(
                moved > 2.0,
                "{what}: decode noise changed nothing ({moved}/255)"
            );
        }
    }
}

#[test]
fn ltx2_20_t2v_frames_and_waveform_match_diffusers() {
    decoded_parity("v20");
}

#[test]
fn ltx2_23_t2v_frames_and_waveform_match_diffusers() {
    decoded_parity("v23");
}

/// The LTX-2.3 pipeline with a `LTX2VocoderWithBWE` (16 kHz stage 1,
/// bandwidth extension to 48 kHz; fixture folder `v23_bwe`) end to end: frames
/// and waveform as diffusers' (the waveform of the same length, mean abs
/// difference ≤ 1e-3), and the MP4 and WAV written from the clip carry 48 kHz.
#[test]
fn ltx2_23_bwe_vocoder_end_to_end_matches_diffusers() {
    let dir = fixture("ltx2_pipeline").join("v23_bwe");
    let want = read_tensors(&dir.join("decoded.safetensors"));
    let clip = generate("v23_bwe", "none", |_| ());
    assert_decoded_close(
        "v23_bwe none",
        &clip,
        &want["none.frames"],
        &want["none.waveform"],
    );
    assert_eq!(clip.sample_rate, 48_000, "the BWE vocoder's output rate");
    let out = sora_tests::workspace()
        .join("target")
        .join("scratch")
        .join("ltx2-bwe");
    std::fs::create_dir_all(&out).unwrap();
    let audio = clip.audio.as_ref().unwrap();
    let wav = out.join("clip.wav");
    clip.save(&wav).unwrap();
    let (wave, rate) = sora_core::io::read_wav(&wav).unwrap();
    assert_eq!(rate, 48_000);
    assert_eq!(wave.shape(), audio.shape());
    let mp4 = out.join("clip.mp4");
    clip.save(&mp4).unwrap();
    let back = sora_core::io::read_mp4(&mp4).unwrap();
    assert_eq!(back.sample_rate, 48_000);
    assert_eq!(back.frames.shape(), clip.frames.shape());
    let got = back.audio.expect("an audio stream");
    assert_eq!(got.shape()[0], audio.shape()[0]);
    // AAC frames may pad the end: about the same length (within 1/20 s).
    let (n, m) = (got.shape()[1] as i64, audio.shape()[1] as i64);
    assert!((n - m).abs() <= 2400, "{n} samples read back, {m} written");
}

/// `sora inspect`'s audit of an LTX-2 folder: clean on the fixture; a
/// transformer or vocoder whose config does not fit its weights is reported
/// per component.
#[test]
fn ltx2_audit_reports_per_component() {
    let report = sora_core::family::audit(&folder("v20")).unwrap();
    let names: Vec<&str> = report.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "audio_vae",
            "connectors",
            "text_encoder",
            "transformer",
            "vae",
            "vocoder"
        ]
    );
    for (name, r) in &report {
        let r = r.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            r.missing.is_empty() && r.unexpected.is_empty() && r.mismatched.is_empty(),
            "{name}: {r:?}"
        );
    }
    let d = sora_tests::workspace()
        .join("target")
        .join("scratch")
        .join("ltx2-audit");
    let _ = std::fs::remove_dir_all(&d);
    sora_tests::copy_dir(&fixture("ltx2_pipeline").join("v20"), &d);
    for (component, key, value) in [
        ("transformer", "num_layers", 3),
        ("vocoder", "hidden_channels", 32),
    ] {
        let cfg = d.join(component).join("config.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
        v[key] = serde_json::json!(value);
        std::fs::write(&cfg, v.to_string()).unwrap();
    }
    let report = sora_core::family::audit(&ModelFolder::open(&d).unwrap()).unwrap();
    let t = report["transformer"].as_ref().unwrap();
    assert!(
        t.missing.iter().any(|k| k.contains("transformer_blocks.2")),
        "{t:?}"
    );
    let v = report["vocoder"].as_ref().unwrap();
    assert!(!v.mismatched.is_empty(), "{v:?}");
    assert!(report["vae"].as_ref().unwrap().mismatched.is_empty());
}

/// `audio=false`: the same frames as the joint run (the audio latent is still
/// walked, the picture attends to it), no waveform, no audio decode in the
/// estimate; the MP4 written from it still has a (silent) audio track.
#[test]
fn ltx2_without_audio_keeps_the_frames_and_skips_the_audio_decode() {
    let with = generate("v20", "none", |_| ());
    let without = generate("v20", "none", |r| {
        r.set("audio", false).unwrap();
    });
    assert!(with.audio.is_some());
    assert!(without.audio.is_none(), "audio=false made audio");
    assert_eq!(
        without.frames, with.frames,
        "audio=false changed the frames"
    );

    let dir = fixture("ltx2_pipeline").join("v20");
    let pipe = Pipeline::builder()
        .model(&dir)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let req = Request::text("x").size(96, 64).frames(9).steps(2);
    let audio_parts = |req: &Request| {
        let e = pipe.estimate(req).unwrap();
        let n = e
            .activations
            .iter()
            .filter(|p| p.name == "audio decode" && p.mb > 0.0)
            .count();
        (n, e.total_mb)
    };
    let (n_with, _) = audio_parts(&req);
    let (n_without, _) = audio_parts(&req.clone().audio(false));
    assert_eq!((n_with, n_without), (1, 0));
}

/// `vae_frame_tiling` reaches the LTX-2 VAE from the builder's text option
/// (what the CLI, Python and C pass): the clip has every frame, the metadata
/// and the estimate say the windows, the decode's estimated working set is
/// smaller than the whole-clip decode's, and bad windows are refused naming
/// the VAE's temporal factor. (The windows' values against diffusers'
/// `use_framewise_decoding`: `ltx2_vae`.)
#[test]
fn ltx2_frame_tiling_option_decodes_in_windows() {
    let dir = fixture("ltx2_pipeline").join("v20");
    let build = |tiling: Option<&str>| {
        let mut b = Pipeline::builder()
            .model(&dir)
            .watermarks(WatermarkPolicy::Off);
        if let Some(t) = tiling {
            b = b.option("vae_frame_tiling", t).unwrap();
        }
        b.build()
    };
    let mut req = Request::text("a fox")
        .size(96, 64)
        .frames(33)
        .steps(2)
        .seed(3);
    req.set("max_sequence_length", 24).unwrap();
    let whole = build(None).unwrap();
    let tiled = build(Some("16,8")).unwrap();
    let clip = tiled.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(clip.frames.shape()[0], 33);
    assert_eq!(clip.meta.vae_frame_tiling, Some([16, 8]));
    assert!(clip.audio.is_some());
    let plain = whole.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(plain.meta.vae_frame_tiling, None);
    // A long clip: the windows bound the decode's working set.
    let long = Request::text("x").size(384, 256).frames(121).steps(2);
    let decode = |p: &Pipeline| {
        let e = p.estimate(&long).unwrap();
        e.activations
            .iter()
            .find(|a| a.name == "VAE decode")
            .map(|a| a.mb)
            .unwrap()
    };
    let (w, t) = (decode(&whole), decode(&tiled));
    eprintln!(
        "LTX-2 tiny VAE decode at 384x256x121: whole {w:.1} MiB, 16/8-frame windows {t:.1} MiB"
    );
    assert!(t < 0.6 * w, "{t} vs {w}");
    // Windows that are not multiples of the temporal factor (8).
    let e = build(Some("12,4")).err().unwrap();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    assert!(e.to_string().contains("temporal factor (8)"), "{e}");
    let e = Pipeline::builder()
        .option("vae_frame_tiling", "16")
        .err()
        .unwrap();
    assert!(e.to_string().contains("WINDOW,STRIDE"), "{e}");
}
