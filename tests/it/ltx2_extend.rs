//! Extending a clip with LTX-2 on the tiny fixture pipeline (`ltx2_cond`'s
//! LTX-2.0 folder, 96×64 at 24 fps): the clip's last 9 frames are a
//! full-strength frame condition at index 0 of the generated window and its
//! sound over those frames is held in the audio latents (the audio VAE's
//! encoder over LTX-2's log-mel front end); the output is the source's frames
//! unchanged, then the added ones, with one track as long as the new clip:
//! the source's samples up to the seam, then the generated ones, without a
//! click. The held sound matters, a folder without the audio encoder says
//! why it cannot extend with sound, and the estimate covers extension.

use ndarray::{s, Array2};
use sora_core::pipeline::request::SourceAudio;
use sora_core::{io, Clip, Error, Pipeline, Progress, Request, VideoInput, WatermarkPolicy};
use sora_tests::{fixture, read_tensors, scratch};

use crate::wan_extend::{audio_steps, pair_metrics, pyav_check_at};

fn pipe_at(dir: &std::path::Path) -> Pipeline {
    Pipeline::builder()
        .model(dir)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap()
}

fn edit(mut r: Request) -> Request {
    r.set("max_sequence_length", 24).unwrap();
    r.steps(3).seed(5)
}

fn source(p: &Pipeline) -> Clip {
    let req = edit(
        Request::text("a red ball bounces on a wooden floor")
            .size(96, 64)
            .frames(17)
            .fps(24),
    );
    p.generate(&req, &mut Progress::none()).unwrap()
}

fn as_input(c: &Clip, audio: Option<Array2<f32>>) -> VideoInput {
    VideoInput {
        frames: c.frames.clone(),
        fps: c.fps,
        audio: audio.map(|a| SourceAudio::new(a, c.sample_rate)),
    }
}

fn extend(p: &Pipeline, src: VideoInput, seconds: f32) -> Result<Clip, Error> {
    p.generate(
        &edit(Request::extend(src, "the ball keeps bouncing", seconds)),
        &mut Progress::none(),
    )
}

#[test]
fn ltx2_extends_a_clip_with_its_sound() {
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let src = source(&p);
    let track = src.audio.clone().expect("LTX-2 makes audio");
    let rate = src.sample_rate;
    // 17 frames + 0.5 s at 24 fps: overlap 9, window 25 (9 + 12 rounded to
    // 8k + 1), 16 frames added.
    let out = extend(&p, as_input(&src, Some(track.clone())), 0.5).unwrap();
    assert_eq!(out.frames.shape(), &[33, 64, 96, 3]);
    assert_eq!(out.fps, 24.0);
    assert_eq!(out.meta.mode, "extend");
    assert_eq!(
        out.frames.slice(s![..17, .., .., ..]),
        src.frames,
        "the source's frames are kept as they were"
    );
    // One track, as long as the new clip (to the sample), at the vocoder's rate.
    let audio = out.audio.as_ref().expect("an extension with sound");
    assert_eq!(out.sample_rate, rate);
    assert_eq!(audio.shape()[0], track.shape()[0]);
    let want = (33.0 / 24.0 * f64::from(rate)).round() as usize;
    assert_eq!(audio.shape()[1], want);
    // The source's samples up to the fade before the seam, untouched.
    let seam = (17.0 / 24.0 * f64::from(rate)).round() as usize;
    let fade = (0.02 * f64::from(rate)).round() as usize;
    let n = (seam - fade).min(track.shape()[1]);
    assert_eq!(audio.slice(s![.., ..n]), track.slice(s![.., ..n]));
    // No click: no step across the seam above the clip's 99.9th percentile.
    let (step, p999) = audio_steps(audio, seam - fade - 1..seam + 1);
    eprintln!("LTX-2 extend seam: audio step {step:.5}, 99.9th percentile {p999:.5}");
    assert!(step <= p999, "audio step {step} at the seam above {p999}");
    // The seam's picture, measured with the physics module: flicker and
    // warping error of the pair across it against every pair inside the
    // source and inside the continuation.
    let inside: Vec<(f64, f64)> = pair_metrics(&out.frames, 0..16)
        .into_iter()
        .chain(pair_metrics(&out.frames, 17..32))
        .collect();
    let at_seam = pair_metrics(&out.frames, 16..17)[0];
    let max_f = inside.iter().map(|m| m.0).fold(0.0, f64::max);
    let max_w = inside.iter().map(|m| m.1).fold(0.0, f64::max);
    eprintln!(
        "LTX-2 extend seam: flicker {:.4} (inside up to {max_f:.4}), warp error {:.5} (inside up to {max_w:.5})",
        at_seam.0, at_seam.1
    );
    // The tiny random model's frames are noise-like (flicker ≈ 0.28 between
    // any two): the seam measures within a few per cent of the inside's
    // largest, which is all this fixture can show (docs/models.md).
    assert!(
        at_seam.0 <= 1.05 * max_f,
        "seam flicker {} above 1.05 × the windows' {max_f}",
        at_seam.0
    );
    assert!(
        at_seam.1 <= 1.5 * max_w,
        "seam warp {} above 1.5 × {max_w}",
        at_seam.1
    );
    // The continuation is new sound, not silence.
    let after = audio.slice(s![.., seam..]);
    assert!(after.iter().map(|v| v.abs()).fold(0.0f32, f32::max) > 1e-4);

    // The held sound matters: the same clip with a silent track continues
    // with other sound (and the source part is that silence).
    let silent = Array2::zeros(track.raw_dim());
    let quiet = extend(&p, as_input(&src, Some(silent)), 0.5).unwrap();
    let qa = quiet.audio.as_ref().unwrap();
    assert_eq!(qa.shape(), audio.shape());
    let diff = (&qa.slice(s![.., seam..]) - &after)
        .iter()
        .map(|v| v.abs())
        .fold(0.0f32, f32::max);
    assert!(diff > 1e-4, "the clip's sound changed nothing ({diff})");
    assert!(qa.slice(s![.., ..seam - fade]).iter().all(|v| *v == 0.0));

    // A clip without a track extends too: silence under it, new sound after.
    let bare = extend(&p, as_input(&src, None), 0.5).unwrap();
    assert_eq!(bare.frames.shape()[0], 33);
    let ba = bare.audio.as_ref().unwrap();
    assert_eq!(ba.shape()[1], want);
    assert!(ba.slice(s![.., ..seam]).iter().all(|v| *v == 0.0));

    // The estimate covers extension (the window, the tail's encode).
    let req = edit(Request::extend(
        as_input(&src, Some(track)),
        "the ball keeps bouncing",
        0.5,
    ));
    let est = p.estimate(&req).unwrap();
    assert!(est.total_mb > 0.0);
    assert_eq!(est.frames, 25, "the estimate is the window's");
}

/// Our own MP4 (H.264 + AAC) extended through `generate_to_file`: its frames
/// within codec tolerance, then the new ones; one audio track as long as the
/// video, the source's sound under its frames; other tools (PyAV) agree.
#[test]
fn ltx2_extending_our_own_mp4_keeps_its_frames_and_sound() {
    let dir = scratch("ltx2_extend_mp4");
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let src = source(&p);
    let first = dir.join("first.mp4");
    src.save(&first).unwrap();
    let read = io::read_video(&first).unwrap();
    let src_audio = read.audio.clone().expect("the source MP4 has audio");
    let req = edit(Request::extend(
        VideoInput::from_media(read.clone()),
        "the ball keeps bouncing",
        0.5,
    ));
    let out = dir.join("longer.mp4");
    let meta = p
        .generate_to_file(&req, &mut Progress::none(), &out)
        .unwrap();
    assert_eq!(meta.frames, 33);
    assert!(meta.has_audio);
    let back = io::read_video(&out).unwrap();
    assert_eq!(back.frames.shape(), &[33, 64, 96, 3]);
    let diff: f64 = back
        .frames
        .slice(s![..17, .., .., ..])
        .iter()
        .zip(read.frames.iter())
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .sum::<f64>()
        / read.frames.len() as f64;
    // The codec's own tolerance: what one encode did to the generated frames
    // (the tiny random model's frames are noise-like, hard on H.264).
    let once: f64 = read
        .frames
        .iter()
        .zip(src.frames.iter())
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .sum::<f64>()
        / read.frames.len() as f64;
    eprintln!(
        "LTX-2 extended MP4: mean |Δ| of the source's frames {diff:.3}/255 \
         (one encode of the generated frames: {once:.3}/255)"
    );
    assert!(
        diff <= once + 1.0,
        "source frames changed by {diff}/255 on average, one encode {once}/255"
    );
    let a = back.audio.as_ref().expect("the extension has sound");
    let sr = f64::from(back.sample_rate);
    let secs = a.ncols() as f64 / sr;
    assert!(
        (secs - 33.0 / 24.0).abs() <= 1.0 / 24.0,
        "audio {secs} s for 33 frames at 24 fps"
    );
    // Under the source's frames, its own sound (through AAC twice): the
    // waveforms correlate strongly.
    let n = ((16.0 / 24.0) * sr) as usize;
    let n = n.min(src_audio.ncols()).min(a.ncols());
    let (x, y) = (src_audio.slice(s![0, ..n]), a.slice(s![0, ..n]));
    let dot: f64 = x.iter().zip(y.iter()).map(|(p, q)| f64::from(p * q)).sum();
    let nx: f64 = x.iter().map(|v| f64::from(v * v)).sum::<f64>().sqrt();
    let ny: f64 = y.iter().map(|v| f64::from(v * v)).sum::<f64>().sqrt();
    let corr = dot / (nx * ny).max(1e-12);
    eprintln!("LTX-2 extended MP4: the source's sound kept, correlation {corr:.4}");
    assert!(
        corr > 0.9,
        "the source's sound is not under its frames ({corr})"
    );
    let (ok, log) = pyav_check_at(&out, 33, 24.0, 33.0 / 24.0, src.sample_rate);
    assert!(ok, "PyAV check failed:\n{log}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A folder whose audio VAE stores no encoder cannot hold the clip's sound:
/// a typed error saying so and how to go on (`audio=false`), which works.
#[test]
fn ltx2_extension_without_an_audio_encoder_says_why() {
    let src_dir = fixture("ltx2_cond").join("v20");
    let dir = scratch("ltx2_extend_no_encoder");
    copy_dir(&src_dir, &dir);
    let vae = dir
        .join("audio_vae")
        .join("diffusion_pytorch_model.safetensors");
    let tensors = read_tensors(&vae);
    let mut kept: Vec<(String, tch::Tensor)> = tensors
        .into_iter()
        .filter(|(k, _)| !k.starts_with("encoder."))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    tch::Tensor::write_safetensors(&kept, &vae).unwrap();
    let p = pipe_at(&dir);
    let src = source(&p);
    let e = extend(&p, as_input(&src, src.audio.clone()), 0.5).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    assert!(
        e.to_string().contains("encoder") && e.to_string().contains("audio=false"),
        "{e}"
    );
    let mut req = edit(Request::extend(
        as_input(&src, src.audio.clone()),
        "the ball keeps bouncing",
        0.5,
    ));
    req.set("audio", false).unwrap();
    let out = p.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(out.frames.shape()[0], 33);
    assert_eq!(out.frames.slice(s![..17, .., .., ..]), src.frames);
    let _ = std::fs::remove_dir_all(dir);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Video-to-video keeping the clip's sound (`keep_audio`): the clip's audio
/// held in the audio latents over the whole walk, so the restyled picture is
/// made against it; the output track is the clip's own samples. Without it
/// the sound is generated anew; a clip without a track is refused.
#[test]
fn ltx2_video_to_video_keeps_the_clip_sound_when_asked() {
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let src = source(&p);
    let track = src.audio.clone().unwrap();
    let v2v = |keep: bool, audio: Option<Array2<f32>>| {
        let mut r = edit(Request::video(
            as_input(&src, audio),
            "a blue ball bounces",
            0.7,
        ));
        if keep {
            r.set("keep_audio", true).unwrap();
        }
        p.generate(&r, &mut Progress::none())
    };
    let kept = v2v(true, Some(track.clone())).unwrap();
    let new = v2v(false, Some(track.clone())).unwrap();
    assert_eq!(kept.frames.shape(), &[17, 64, 96, 3]);
    let n = (17.0 / 24.0 * f64::from(src.sample_rate)).round() as usize;
    let ka = kept.audio.as_ref().unwrap();
    assert_eq!(ka.shape()[1], n);
    // (The clip's track is a little shorter than its frames, as diffusers'
    // is: 4·L − 3 mel frames; the rest is silence.)
    let m = n.min(track.ncols());
    assert_eq!(
        ka.slice(s![.., ..m]),
        track.slice(s![.., ..m]),
        "the clip's own sound"
    );
    assert!(ka.slice(s![.., m..]).iter().all(|v| *v == 0.0));
    assert_ne!(
        new.audio.as_ref().unwrap().slice(s![.., ..m]),
        track.slice(s![.., ..m])
    );
    // The held sound steers the picture (the streams attend to each other).
    assert_ne!(kept.frames, new.frames);
    let e = v2v(true, None).unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(_)) && e.to_string().contains("no audio track"),
        "{e}"
    );
    let mut r = edit(Request::text("x").size(96, 64).frames(17));
    r.set("keep_audio", true).unwrap();
    let e = p.generate(&r, &mut Progress::none()).unwrap_err();
    assert!(e.to_string().contains("video-to-video"), "{e}");
}

/// An extension adding more than one window holds is a chain of windows
/// (`sora_core::pipeline::longform`): the first is the extension's own
/// (conditioned on the clip's tail and its sound), the later ones hold the
/// tail before them in latent space; the output is still the source's
/// frames, unchanged, then the added ones, with one track: the source's
/// sound up to the seam, then the generated, without a click. The estimate
/// is one window's, whatever the seconds added.
#[test]
fn ltx2_long_extension_is_a_chain_of_windows() {
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let src = source(&p);
    let track = src.audio.clone().expect("LTX-2 makes audio");
    let rate = src.sample_rate;
    let long = |seconds: f32| {
        let mut r = edit(Request::extend(
            as_input(&src, Some(track.clone())),
            "the ball keeps bouncing",
            seconds,
        ));
        r.set("window_frames", 25).unwrap();
        r
    };
    // 17 frames + 2 s at 24 fps: overlap 9, window 57 (7 latent frames
    // after the first), 48 added; windows of 25 frames (4 latent frames)
    // holding 2: latent frames 0..4, 2..6, 4..8.
    let out = p.generate(&long(2.0), &mut Progress::none()).unwrap();
    assert_eq!(out.frames.shape(), &[65, 64, 96, 3]);
    assert_eq!(out.meta.mode, "extend");
    let lf = out.meta.long_form.as_ref().expect("a chain of windows");
    assert_eq!(
        (lf.windows, lf.window_frames, lf.window_overlap),
        (3, 25, 2)
    );
    assert_eq!(
        out.frames.slice(s![..17, .., .., ..]),
        src.frames,
        "the source's frames are kept as they were"
    );
    assert!(out
        .frames
        .slice(s![17.., .., .., ..])
        .iter()
        .any(|v| *v != 0));
    // One track as long as the clip; the source's samples up to the fade.
    let audio = out.audio.as_ref().expect("an extension with sound");
    assert_eq!(out.sample_rate, rate);
    let want = (65.0 / 24.0 * f64::from(rate)).round() as usize;
    assert_eq!(audio.ncols(), want, "the track is as long as the picture");
    let seam = (17.0 / 24.0 * f64::from(rate)).round() as usize;
    let fade = (0.02 * f64::from(rate)).round() as usize;
    let n = (seam - fade).min(track.ncols());
    assert_eq!(audio.slice(s![.., ..n]), track.slice(s![.., ..n]));
    let (step, p999) = audio_steps(audio, seam - fade - 1..seam + 1);
    eprintln!("LTX-2 long extension seam: audio step {step:.5}, 99.9th percentile {p999:.5}");
    assert!(step <= p999, "audio step {step} at the seam above {p999}");
    // New sound after the seam, in every window's stretch.
    for (a, b) in [(17, 33), (33, 49), (49, 65)] {
        let (a, b) = (
            a * rate as usize / 24,
            (b * rate as usize / 24).min(audio.ncols()),
        );
        let peak = audio
            .slice(s![.., a..b])
            .iter()
            .map(|v| v.abs())
            .fold(0.0f32, f32::max);
        assert!(peak > 1e-4, "silence over samples {a}..{b}");
    }
    // The seam between the clip and the continuation, against the pairs
    // inside the continuation's windows.
    let inside: Vec<(f64, f64)> = pair_metrics(&out.frames, 17..64);
    let at_seam = pair_metrics(&out.frames, 16..17)[0];
    let max_f = inside.iter().map(|m| m.0).fold(0.0, f64::max);
    eprintln!(
        "LTX-2 long extension seam: flicker {:.4} (inside up to {max_f:.4})",
        at_seam.0
    );
    assert!(
        at_seam.0 <= 1.05 * max_f,
        "seam flicker {} above {max_f}",
        at_seam.0
    );
    // Same request, same clip.
    let again = p.generate(&long(2.0), &mut Progress::none()).unwrap();
    assert_eq!(again.frames, out.frames);
    assert_eq!(again.audio, out.audio);
    // The estimate is one window's, whatever the seconds added.
    let e2 = p.estimate(&long(2.0)).unwrap();
    let e60 = p.estimate(&long(60.0)).unwrap();
    assert_eq!(e2.frames, 25);
    assert_eq!(
        e2.total_mb, e60.total_mb,
        "the estimate grows with the seconds added"
    );
}

/// Side of the memory probe's frames (16:9 at 24 fps): a minute of them kept
/// in memory is 159 MiB of RGB, which the control below must show.
const PROBE_SIZE: (u32, u32) = (256, 160);

/// Extending a clip by 10 s and by 60 s to an MP4, each in a process of its
/// own: the minute's peak memory is within 10 % of the ten seconds', and the
/// same minute kept in memory (`generate`) is above that band, so the check
/// can see memory that grows. (Each length's peak is the lower of two runs:
/// from run to run the same request peaks up to ±25 MiB apart here, the
/// threads' and the allocator's noise, which only ever adds.) On demand
/// (about 50 s): even so the minute measured +1 % to +11 % over runs on 2
/// cores, too close to the bar for CI; Wan's long-form probe
/// (`wan_longform_peak_memory_does_not_grow_with_length`) runs the same
/// window loop in CI.
#[test]
#[ignore = "on demand (~50 s): peaks vary by ±25 MiB between runs at this size"]
fn ltx2_long_extension_peak_memory_does_not_grow_with_length() {
    let peak = |seconds: u32, in_memory: bool| {
        let mut env = vec![("SORA_EXTEND_PROBE_SECONDS", seconds.to_string())];
        if in_memory {
            env.push(("SORA_EXTEND_PROBE_IN_MEMORY", "1".into()));
        }
        crate::wan_longform::run_probe("ltx2_extend::extend_memory_probe", &env)
    };
    let lower = |seconds: u32| {
        let (a, b) = (peak(seconds, false), peak(seconds, false));
        (a.0.min(b.0), a.1, a.2)
    };
    let (p10, e10, f10) = lower(10);
    let (p60, e60, f60) = lower(60);
    let (m60, _, _) = peak(60, true);
    eprintln!(
        "LTX-2 long extension peak RSS at {}×{}, to MP4: +10 s ({f10} frames) {p10:.1} MiB, \
         +60 s ({f60} frames) {p60:.1} MiB ({:+.1} %); +60 s in memory {m60:.1} MiB ({:+.1} %); \
         estimates {e10:.1} / {e60:.1} MiB",
        PROBE_SIZE.0,
        PROBE_SIZE.1,
        100.0 * (p60 / p10 - 1.0),
        100.0 * (m60 / p10 - 1.0)
    );
    assert_eq!((f10, f60), (257, 1457));
    crate::wan_longform::assert_flat_peak((p10, e10), (p60, e60), m60);
}

#[test]
#[ignore = "run in its own process by ltx2_long_extension_peak_memory_does_not_grow_with_length"]
fn extend_memory_probe() {
    let seconds: f32 = std::env::var("SORA_EXTEND_PROBE_SECONDS")
        .unwrap()
        .parse()
        .unwrap();
    let in_memory = std::env::var("SORA_EXTEND_PROBE_IN_MEMORY").is_ok();
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let (w, h) = PROBE_SIZE;
    let mut first = edit(
        Request::text("a red ball bounces on a wooden floor")
            .size(w, h)
            .frames(17)
            .fps(24),
    );
    first.set("window_frames", 97).unwrap();
    let src = p.generate(&first, &mut Progress::none()).unwrap();
    let mut req = edit(Request::extend(
        as_input(&src, src.audio.clone()),
        "the ball keeps bouncing",
        seconds,
    ));
    req.set("window_frames", 97).unwrap();
    crate::wan_longform::probe_report(&p, &req, in_memory, &format!("ltx2_extend_probe_{seconds}"));
}

/// Timed prompts with an extension, in the output clip's time: one after the
/// seam switches the windows from its latent frame on (the chain is cut
/// there, as text long-form's); one at or before the seam is the
/// continuation's prompt from its first added frame; a short extension with
/// a timed prompt is one long-form window.
#[test]
fn ltx2_extension_takes_timed_prompts_in_the_output_time() {
    let p = pipe_at(&fixture("ltx2_cond").join("v20"));
    let src = source(&p);
    let req = |seconds: f32, at: f32| {
        let mut r = edit(Request::extend(
            as_input(&src, src.audio.clone()),
            "the ball keeps bouncing",
            seconds,
        ))
        .prompt_at(at, "a blue box falls");
        r.set("window_frames", 25).unwrap();
        r
    };
    // 17 frames + 2 s: the windows' time starts at the overlap (frame 8,
    // 0.33 s); 1.5 s is 1.17 s into it, latent frame 5 (frame 33): window 2
    // ends there, windows 3 and 4 are the new prompt's.
    let out = p.generate(&req(2.0, 1.5), &mut Progress::none()).unwrap();
    assert_eq!(out.frames.shape()[0], 65);
    assert_eq!(out.frames.slice(s![..17, .., .., ..]), src.frames);
    let lf = out.meta.long_form.as_ref().unwrap();
    let prompts: Vec<&str> = lf.prompts.iter().map(String::as_str).collect();
    assert_eq!(
        prompts,
        [
            "the ball keeps bouncing",
            "the ball keeps bouncing",
            "a blue box falls",
            "a blue box falls"
        ]
    );
    assert_eq!(lf.prompts_at, vec![(1.5, "a blue box falls".to_string())]);
    // Before the seam (0.71 s): the continuation's prompt from the start.
    let early = p.generate(&req(2.0, 0.5), &mut Progress::none()).unwrap();
    let lf = early.meta.long_form.as_ref().unwrap();
    assert!(
        lf.prompts.iter().all(|p| p == "a blue box falls"),
        "{:?}",
        lf.prompts
    );
    assert_eq!(early.frames.slice(s![..17, .., .., ..]), src.frames);
    // A short extension with a timed prompt: one window, its prompt.
    let short = p.generate(&req(0.5, 0.0), &mut Progress::none()).unwrap();
    assert_eq!(short.frames.shape()[0], 33);
    let lf = short.meta.long_form.as_ref().unwrap();
    assert_eq!(
        (lf.windows, lf.prompts[0].as_str()),
        (1, "a blue box falls")
    );
    assert_eq!(
        short.audio.as_ref().unwrap().ncols(),
        (33.0 / 24.0 * f64::from(src.sample_rate)).round() as usize
    );
}
