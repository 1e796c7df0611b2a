//! Watermarks end to end: the invisible video mark against an independent
//! encoder and resizer (PyAV: libx264 at CRF 28, swscale), 50 % downscale,
//! 10 % crop and 2-second windows, with its PSNR and false positives on
//! unmarked clips; the audio mark against resampling, AAC and Opus; and a
//! pipeline clip (tiny Wan) that is marked by default, saved to MP4 and
//! verified, with the visible mark off or all marks off. Each test prints
//! its robustness table (run with `--nocapture`; numbers in docs/safety.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{s, Array2, Array4};
use sora_core::safety::payload::{self, Payload, FLAG_AUDIO, FLAG_VISIBLE};
use sora_core::safety::{audio_mark, verify, video_mark, visible};
use sora_core::{io, Pipeline, Progress, Request, WatermarkPolicy};
use sora_tests::{fixture, workspace};

fn python() -> PathBuf {
    workspace().join(".venv").join("bin").join("python")
}

fn scratch(name: &str) -> PathBuf {
    let d = workspace().join("target").join("scratch").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `tests/py/wm_attacks.py` with `args`; panics with its output on failure.
fn attacks(args: &[String]) {
    let out = Command::new(python())
        .arg(workspace().join("tests").join("py").join("wm_attacks.py"))
        .args(args)
        .output()
        .expect("cannot run .venv/bin/python");
    assert!(
        out.status.success(),
        "wm_attacks.py failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The video attacks on `frames`: (name, attacked frames).
fn video_attacks(dir: &Path, frames: &Array4<u8>, fps: f32) -> Vec<(String, Array4<u8>)> {
    let (t, h, w, _) = frames.dim();
    let src = dir.join("in.rgb");
    std::fs::write(&src, frames.as_slice().unwrap()).unwrap();
    let a = |v: &dyn ToString| v.to_string();
    attacks(&[
        a(&"video"),
        a(&src.display()),
        a(&t),
        a(&h),
        a(&w),
        a(&fps),
        a(&dir.display()),
    ]);
    ["crf28", "down50", "down50_crf28", "crop10", "crop10_crf28"]
        .iter()
        .map(|name| {
            let m = json(&dir.join(format!("{name}.json")));
            let dims = |k: &str| m[k].as_u64().unwrap() as usize;
            let data = std::fs::read(dir.join(format!("{name}.rgb"))).unwrap();
            let f = Array4::from_shape_vec((dims("t"), dims("h"), dims("w"), 3), data).unwrap();
            (name.to_string(), f)
        })
        .collect()
}

/// The audio attacks on `audio`: (name, attacked audio, its rate).
fn audio_attacks(dir: &Path, audio: &Array2<f32>, rate: u32) -> Vec<(String, Array2<f32>, u32)> {
    let (c, n) = audio.dim();
    let src = dir.join("in.f32");
    let bytes: Vec<u8> = audio.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&src, bytes).unwrap();
    let a = |v: &dyn ToString| v.to_string();
    attacks(&[
        a(&"audio"),
        a(&src.display()),
        a(&c),
        a(&n),
        a(&rate),
        a(&dir.display()),
    ]);
    ["resample44100", "resample24000", "aac128k", "opus64k"]
        .iter()
        .map(|name| {
            let m = json(&dir.join(format!("{name}.json")));
            let (c, n) = (
                m["c"].as_u64().unwrap() as usize,
                m["n"].as_u64().unwrap() as usize,
            );
            let data: Vec<f32> = std::fs::read(dir.join(format!("{name}.f32")))
                .unwrap()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let x = Array2::from_shape_vec((c, n), data).unwrap();
            (name.to_string(), x, m["rate"].as_u64().unwrap() as u32)
        })
        .collect()
}

/// A moving, textured synthetic clip `[t, h, w, 3]` (sinusoids, drifting, plus fixed-seed noise).
fn textured(t: usize, h: usize, w: usize, seed: u64) -> Array4<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut noise = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 24.0
    };
    let ph = seed as f32 * 0.7;
    Array4::from_shape_fn((t, h, w, 3), |(f, y, xx, c)| {
        let (fy, fx, ft) = (y as f32, xx as f32, f as f32);
        let v = 128.0
            + 50.0 * ((fx + 3.0 * ft) / 9.0 + ph).sin() * ((fy - 2.0 * ft) / 13.0).cos()
            + 30.0 * ((0.7 * fx + 0.3 * fy + 5.0 * ft) / 4.0 + ph).sin();
        let v = match c {
            0 => v,
            1 => 0.8 * v + 20.0,
            _ => 255.0 - v,
        };
        (v + noise()).round().clamp(0.0, 255.0) as u8
    })
}

fn mark_frames(frames: &Array4<u8>, p: &Payload) -> Array4<u8> {
    let (_, h, w, _) = frames.dim();
    let mut out = frames.clone();
    for mut f in out.outer_iter_mut() {
        video_mark::embed_frame(f.as_slice_mut().unwrap(), h, w, p);
    }
    out
}

/// One row of a robustness table: detects, prints, returns (detected with the right payload, p-value).
fn video_row(clip: &str, attack: &str, frames: &Array4<u8>, p: &Payload) -> (bool, f64) {
    let started = std::time::Instant::now();
    let (soft, tried) = video_mark::soft_chips(frames.view());
    let d = payload::decide(&soft, tried);
    let ok = d.detected && d.decoded() == Some(*p);
    println!(
        "| {clip} | {attack} | {}x{}x{} | {:.3} | {:.1e} | {} | {:.2} s |",
        frames.dim().0,
        frames.dim().2,
        frames.dim().1,
        payload::true_bit_accuracy(&soft, p),
        d.p_value,
        if ok { "yes" } else { "no" },
        started.elapsed().as_secs_f64()
    );
    (ok, d.p_value)
}

#[test]
fn video_mark_survives_reencode_downscale_crop_and_two_second_windows() {
    let dir = scratch("wm-video");
    let fps = 16.0;
    let plain = textured(40, 240, 320, 1);
    let p = Payload::new(0x5eed_cafe_f00d, FLAG_VISIBLE);
    let marked = mark_frames(&plain, &p);
    let psnr = video_mark::psnr(plain.as_slice().unwrap(), marked.as_slice().unwrap());
    println!("textured 320x240: PSNR {psnr:.2} dB");
    assert!(psnr >= 40.0, "PSNR {psnr:.2} dB");
    assert!(video_row("textured", "none", &marked, &p).0);
    let attacked = video_attacks(&dir, &marked, fps);
    let mut failed = Vec::new();
    for (name, f) in &attacked {
        let (ok, _) = video_row("textured", name, f, &p);
        // down50 + CRF 28 at 160x120 is reported, not required.
        if !ok && name != "down50_crf28" {
            failed.push(name.clone());
        }
    }
    // Any 2-second window (32 frames at 16 fps) of the re-encoded clip, and a 1-second one.
    let crf = &attacked[0].1;
    for (a, b) in [(0, 32), (8, 40), (20, 36)] {
        let (ok, _) = video_row(
            "textured",
            &format!("crf28 frames {a}..{b}"),
            &crf.slice(s![a..b, .., .., ..]).to_owned(),
            &p,
        );
        if !ok {
            failed.push(format!("crf28 {a}..{b}"));
        }
    }
    assert!(failed.is_empty(), "payload lost after {failed:?}");

    // False positives: unmarked clips, raw and re-encoded, stay far above 1e-6.
    for seed in 2..5 {
        let clean = textured(32, 240, 320, seed);
        let d = video_mark::detect(clean.view());
        println!("unmarked textured seed {seed}: p {:.3}", d.p_value);
        assert!(!d.detected && d.p_value > 1e-6, "{d:?}");
    }
    let (_, crf_clean) = video_attacks(&dir, &plain, fps).swap_remove(0);
    let d = video_mark::detect(crf_clean.view());
    println!("unmarked textured crf28: p {:.3}", d.p_value);
    assert!(!d.detected && d.p_value > 1e-6, "{d:?}");
}

/// A music-like test signal: harmonic notes with vibrato over a noise floor 20 dB down.
fn music(channels: usize, n: usize, rate: u32) -> Array2<f32> {
    let mut x = 0x1234_5678_u64;
    Array2::from_shape_fn((channels, n), |(c, i)| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = i as f32 / rate as f32;
        let note = [220.0f32, 277.2, 329.6, 440.0][(t * 2.0) as usize % 4];
        let f = note * (1.0 + 0.004 * (t * 5.0 * std::f32::consts::TAU).sin());
        let mut v = 0.0;
        for k in 1..8 {
            v += (f * k as f32 * t * std::f32::consts::TAU + c as f32).sin() / k as f32;
        }
        0.25 * v + 0.1 * ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
    })
}

fn audio_row(attack: &str, audio: &Array2<f32>, rate: u32, p: &Payload) -> bool {
    let (soft, tried) = audio_mark::soft_chips(audio.view(), rate).unwrap();
    let d = payload::decide(&soft, tried);
    let ok = d.detected && d.decoded() == Some(*p);
    println!(
        "| music | {attack} | {rate} Hz | {:.3} | {:.1e} | {} |",
        payload::true_bit_accuracy(&soft, p),
        d.p_value,
        if ok { "yes" } else { "no" }
    );
    ok
}

#[test]
fn audio_mark_survives_resampling_aac_and_opus() {
    let dir = scratch("wm-audio");
    let rate = 48_000;
    let plain = music(2, 4 * rate as usize, rate);
    let p = Payload::new(0x0123_4567_89ab, FLAG_AUDIO);
    let marked = audio_mark::embed(plain.view(), rate, &p, 0).unwrap();
    let noise: f64 = (&marked - &plain)
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum();
    let signal: f64 = plain.iter().map(|v| f64::from(*v).powi(2)).sum();
    println!(
        "music: mark at {:.1} dB below the signal",
        10.0 * (signal / noise).log10()
    );
    let mut failed = Vec::new();
    if !audio_row("none", &marked, rate, &p) {
        failed.push("none".to_string());
    }
    for (name, a, r) in audio_attacks(&dir, &marked, rate) {
        if !audio_row(&name, &a, r, &p) {
            failed.push(name);
        }
    }
    // Our own MP4 writer (fdk-aac) and reader.
    let mp4 = dir.join("ours.mp4");
    let frames = Array4::<u8>::zeros((48, 32, 32, 3));
    io::write_mp4(&mp4, frames.view(), 16.0, Some((marked.view(), rate))).unwrap();
    let back = io::read_mp4(&mp4).unwrap();
    if !audio_row(
        "sora mp4 (fdk-aac)",
        back.audio.as_ref().unwrap(),
        back.sample_rate,
        &p,
    ) {
        failed.push("sora mp4".into());
    }
    // A 2-second excerpt from the middle.
    let part = marked.slice(s![.., 30_000..126_000]).to_owned();
    if !audio_row("2 s excerpt", &part, rate, &p) {
        failed.push("excerpt".into());
    }
    assert!(failed.is_empty(), "payload lost after {failed:?}");
    let d = audio_mark::detect(plain.view(), rate).unwrap();
    println!("unmarked music: p {:.3}", d.p_value);
    assert!(!d.detected && d.p_value > 1e-6, "{d:?}");
}

#[test]
fn pipeline_marks_by_default_and_verify_reads_it_back() {
    let model = fixture("wan_pipeline").join("t2v_21").join("model");
    let dir = scratch("wm-pipeline");
    let req = Request::text("a red fox runs through fresh snow")
        .size(256, 192)
        .frames(33)
        .steps(1)
        .seed(3);

    // Default: visible + invisible; the MP4 verifies with the payload in the metadata.
    let pipe = Pipeline::builder().model(&model).build().unwrap();
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    let wm = &clip.meta.watermark;
    assert!(wm.visible && wm.invisible, "{wm:?}");
    let p = Payload::from_hex(wm.payload.as_deref().unwrap()).unwrap();
    assert_eq!(p.flags & FLAG_VISIBLE, FLAG_VISIBLE);
    assert_eq!(
        wm.generation_id.as_deref(),
        Some(format!("{:012x}", p.generation_id).as_str())
    );
    let (t, h, w, _) = clip.frames.dim();
    let seen = visible::check(
        clip.frames.as_slice().unwrap(),
        t,
        h,
        w,
        16.0,
        p.generation_id,
        None,
    );
    println!("visible mark found on {:.0} % of frames", seen * 100.0);
    assert!(seen > 0.9);
    let mp4 = dir.join("marked.mp4");
    clip.save(&mp4).unwrap();
    let r = verify(&mp4).unwrap();
    println!("{}", r.to_json());
    assert!(
        r.watermark.detected && r.watermark.payload == wm.payload,
        "{r:?}"
    );
    // Signed by the local identity: valid, not trusted.
    assert!(r.credentials.present && r.credentials.valid && !r.credentials.trusted);
    // The robustness table on the model's own output.
    assert!(video_row("tiny Wan", "none", &clip.frames, &p).0);
    let mut failed = Vec::new();
    for (name, f) in video_attacks(&dir, &clip.frames, 16.0) {
        // down50 + CRF 28 (128x96 at CRF 28) is reported, not required.
        if !video_row("tiny Wan", &name, &f, &p).0 && name != "down50_crf28" {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "payload lost after {failed:?}");

    // Smaller clips for the rest: streaming to a file marks the same way.
    let req = Request::text("a red fox runs through fresh snow")
        .size(128, 96)
        .frames(9)
        .steps(1)
        .seed(3);
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    let wm = &clip.meta.watermark;
    let p = Payload::from_hex(wm.payload.as_deref().unwrap()).unwrap();
    let saved = dir.join("saved.mp4");
    clip.save(&saved).unwrap();
    let streamed = dir.join("streamed.mp4");
    let meta = pipe
        .generate_to_file(&req, &mut Progress::none(), &streamed)
        .unwrap();
    assert_eq!(meta.watermark, *wm);
    assert!(sora_tests::same_outside_manifest(&streamed, &saved));

    // Visible mark off: recorded, and the invisible mark says so too.
    let pipe = Pipeline::builder()
        .model(&model)
        .no_visible_watermark()
        .build()
        .unwrap();
    let clip2 = pipe.generate(&req, &mut Progress::none()).unwrap();
    let wm2 = &clip2.meta.watermark;
    assert!(!wm2.visible && wm2.invisible, "{wm2:?}");
    let p2 = Payload::from_hex(wm2.payload.as_deref().unwrap()).unwrap();
    assert_eq!(p2.flags & FLAG_VISIBLE, 0);
    assert_eq!(p2.generation_id, p.generation_id);
    let d = video_mark::detect(clip2.frames.view());
    assert!(d.detected && d.decoded() == Some(p2), "{d:?}");

    // Off (tests, research): the raw output, nothing detected.
    let pipe = Pipeline::builder()
        .model(&model)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let raw = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(raw.meta.watermark, Default::default());
    let d = video_mark::detect(raw.frames.view());
    assert!(!d.detected, "{d:?}");
    let psnr = video_mark::psnr(
        raw.frames.as_slice().unwrap(),
        clip2.frames.as_slice().unwrap(),
    );
    println!("tiny Wan: PSNR of the invisible mark {psnr:.2} dB");
    assert!(psnr >= 40.0);
}
