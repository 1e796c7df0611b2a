//! Long-form generation with Wan on the tiny text-to-video fixture
//! (`sora_core::pipeline::longform`): a request longer than one window is a
//! chain of overlapping windows, each holding the previous window's latent
//! tail (never decoded and encoded again), crossfaded over the overlap, the
//! prompt allowed to change per window, decoded by one decoder stream as the
//! windows finish. Checked: exact frame counts, determinism, timed prompts,
//! the decoder stream against a decode at once, the seams against the
//! windows' own frame-to-frame metrics, peak memory of a 60 s request
//! against a 10 s one (each in a process of its own), and colour drift over
//! six windows against a chain of decode → re-encode extensions.

use ndarray::{s, Array4};
use sora_core::models::wan::vae::{DecodeStream, WanVae};
use sora_core::physics::colour::colour_drift;
use sora_core::physics::metrics::{flicker, frames_tensor};
use sora_core::pipeline::longform::LongformPlan;
use sora_core::{Clip, Error, Pipeline, Progress, Request, VideoInput, WatermarkPolicy};
use sora_tests::{fixture, scratch};
use tch::{Device, Kind, Tensor};

fn pipe() -> Pipeline {
    Pipeline::builder()
        .model(fixture("wan_pipeline/t2v_21/model"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap()
}

const PROMPT: &str = "a red fox runs through fresh snow";

/// 61 frames (16 latent frames) in windows of 17 frames (5 latent), 2 held:
/// five windows starting at latent frames 0, 3, 6, 9, 12.
fn five_windows() -> Request {
    let r = Request::text(PROMPT)
        .size(32, 32)
        .frames(61)
        .steps(2)
        .seed(7);
    with(with(r, "window_frames", 17), "window_overlap", 2)
}

fn with(mut r: Request, key: &str, value: i64) -> Request {
    r.set(key, value).unwrap();
    r
}

/// Wan's frame rule: `1 + 4k`, nearest.
fn wan_rule(f: u32) -> u32 {
    1 + 4 * ((f64::from(f.max(1) - 1) / 4.0).round() as u32)
}

fn run(p: &Pipeline, req: &Request) -> Clip {
    p.generate(req, &mut Progress::none()).unwrap()
}

/// Video frame where global latent frame `g` starts (Wan: 1 + 4(g − 1)).
fn frame_of_latent(g: u32) -> usize {
    if g == 0 {
        0
    } else {
        1 + 4 * (g as usize - 1)
    }
}

#[test]
fn wan_vae_decode_continued_in_parts_equals_decode_at_once() {
    let vae = WanVae::load(
        &fixture("wan_pipeline/t2v_21/model/vae"),
        Device::Cpu,
        Kind::Float,
    )
    .unwrap();
    let z_dim = vae.latent_channels();
    tch::manual_seed(3);
    let z = Tensor::randn([1, z_dim, 7, 4, 4], (Kind::Float, Device::Cpu));
    let whole = vae.decode(&z).unwrap();
    let mut stream = DecodeStream::default();
    let mut parts = Vec::new();
    for (at, len) in [(0, 3), (3, 1), (4, 3)] {
        vae.decode_continue(&mut stream, &z.narrow(2, at, len), &mut |c| {
            parts.push(c);
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(stream.latent_frames(), 7);
    let joined = Tensor::cat(&parts, 2);
    assert_eq!(joined.size(), whole.size());
    let diff = (&joined - &whole).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "continued decode differs by {diff}");
    // Latents of another size do not continue the stream.
    let other = Tensor::randn([1, z_dim, 1, 2, 2], (Kind::Float, Device::Cpu));
    let e = vae
        .decode_continue(&mut stream, &other, &mut |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}

#[test]
fn wan_longform_makes_exact_frames_deterministically_with_timed_prompts() {
    let p = pipe();
    let req = five_windows();
    let clip = run(&p, &req);
    assert_eq!(clip.frames.shape(), &[61, 32, 32, 3]);
    assert_eq!(clip.meta.frames, 61);
    let lf = clip.meta.long_form.as_ref().expect("no long-form metadata");
    assert_eq!(
        (lf.windows, lf.window_frames, lf.window_overlap),
        (5, 17, 2)
    );
    assert_eq!(lf.prompts, vec![PROMPT; 5]);
    let json: serde_json::Value = serde_json::from_str(&clip.meta_json()).unwrap();
    assert_eq!(json["long_form"]["windows"], 5, "{json}");
    assert!(clip.frames.iter().any(|&v| v != 0), "black clip");
    // Same seed, same bytes; another seed, another clip.
    assert_eq!(run(&p, &req).frames, clip.frames, "not deterministic");
    assert_ne!(run(&p, &req.clone().seed(8)).frames, clip.frames);
    // Lengths that are not a whole number of strides: the last window is cut.
    for frames in [25, 29, 45] {
        let c = run(&p, &five_windows().frames(frames));
        assert_eq!(c.frames.shape()[0], frames as usize, "{frames} frames");
    }

    // A timed prompt from 1 s on: window 2 starts its new frames at latent
    // frame 5 (frame 17, 1.06 s), so windows 2.. take it. The first window's
    // decoded frames (latent frames 0..3: frames 0..9) are the same bytes;
    // the frames after differ.
    let timed = run(
        &p,
        &req.clone().prompt_at(1.0, "a white owl sleeps on a branch"),
    );
    assert_eq!(timed.frames.shape(), clip.frames.shape());
    let lf = timed.meta.long_form.as_ref().unwrap();
    assert_eq!(lf.prompts[0], PROMPT);
    assert!(lf.prompts[1..]
        .iter()
        .all(|p| p == "a white owl sleeps on a branch"));
    assert_eq!(lf.prompts_at.len(), 1);
    let first = frame_of_latent(3);
    assert_eq!(
        timed.frames.slice(s![..first, .., .., ..]),
        clip.frames.slice(s![..first, .., .., ..]),
        "the first window changed with a prompt that starts after it"
    );
    assert_ne!(
        timed.frames.slice(s![first.., .., .., ..]),
        clip.frames.slice(s![first.., .., .., ..]),
        "the timed prompt did not reach the later windows"
    );
    // A switch inside a window (1.5 s: latent frame 7, frame 25) cuts that
    // window there: windows 3.. take the new prompt from frame 25 on.
    let cut = run(
        &p,
        &req.clone().prompt_at(1.5, "a white owl sleeps on a branch"),
    );
    assert_eq!(cut.frames.shape(), clip.frames.shape());
    let lf = cut.meta.long_form.as_ref().unwrap();
    assert_eq!(lf.windows, 5);
    assert_eq!(&lf.prompts[..2], &[PROMPT, PROMPT]);
    assert!(lf.prompts[2..]
        .iter()
        .all(|p| p == "a white owl sleeps on a branch"));
    assert_eq!(
        cut.frames.slice(s![..first, .., .., ..]),
        clip.frames.slice(s![..first, .., .., ..])
    );
    // A timed prompt at 0 s is the first window's prompt: one window of the
    // long-form path is the plain generation of that prompt.
    let short = Request::text("ignored")
        .size(32, 32)
        .frames(17)
        .steps(2)
        .seed(7)
        .prompt_at(0.0, PROMPT);
    let plain = Request::text(PROMPT)
        .size(32, 32)
        .frames(17)
        .steps(2)
        .seed(7);
    assert_eq!(run(&p, &short).frames, run(&p, &plain).frames);
    // A one-walk clip records no windows.
    let plain_clip = run(&p, &plain);
    assert!(plain_clip.meta.long_form.is_none());
    let json: serde_json::Value = serde_json::from_str(&plain_clip.meta_json()).unwrap();
    assert!(json.get("long_form").is_none(), "{json}");
}

#[test]
fn wan22_ti2v_longform_holds_the_tail_clean() {
    // TI2V takes a timestep per token: the tail is held clean at timestep 0
    // (no crossfade), as an extension's is.
    let p = Pipeline::builder()
        .model(fixture("wan_pipeline/t2v_22_ti2v/model"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let req = with(
        with(
            Request::text(PROMPT)
                .size(64, 64)
                .frames(33)
                .steps(2)
                .seed(3),
            "window_frames",
            17,
        ),
        "window_overlap",
        2,
    );
    let clip = run(&p, &req);
    assert_eq!(clip.frames.shape(), &[33, 64, 64, 3]);
    assert!(clip.frames.iter().any(|&v| v != 0), "black clip");
    assert_eq!(run(&p, &req).frames, clip.frames, "not deterministic");
    let timed = run(&p, &req.clone().prompt_at(1.0, "a white owl"));
    let first = frame_of_latent(3);
    assert_eq!(
        timed.frames.slice(s![..first, .., .., ..]),
        clip.frames.slice(s![..first, .., .., ..])
    );
    assert_ne!(timed.frames, clip.frames);
}

#[test]
fn wan_longform_is_refused_where_it_cannot_run() {
    let p = pipe();
    let bad = [
        // An overlap as long as the window.
        with(five_windows(), "window_overlap", 5),
        // Timed prompts go with text requests only.
        Request::video(
            VideoInput::new(Array4::from_elem((5, 32, 32, 3), 90u8), 16.0),
            PROMPT,
            0.5,
        )
        .prompt_at(1.0, "x"),
        Request::text(PROMPT).prompt_at(f32::NAN, "x"),
    ];
    for req in bad {
        let e = p.generate(&req, &mut Progress::none()).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    }
    // Wan 2.1 I2V (mask and image channels) has no long-form generation.
    let i2v = Pipeline::builder()
        .model(fixture("wan_pipeline/i2v_21/model"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let img = sora_core::ImageInput {
        pixels: ndarray::Array3::from_elem((32, 48, 3), 90u8),
    };
    let req = Request::image(img, PROMPT)
        .frames(5)
        .steps(1)
        .prompt_at(1.0, "x");
    let e = i2v.generate(&req, &mut Progress::none()).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}

#[test]
fn wan_longform_timed_prompts_pass_the_safety_gate() {
    // A timed prompt naming a registered person without consent is refused
    // before any work, as the main prompt would be; a protected character too.
    let p = Pipeline::builder()
        .model(fixture("wan_pipeline/t2v_21/model"))
        .safety_registry(crate::safety_gate::registry_path())
        .owner_key("studio-a")
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let base = Request::text("a quiet beach at dawn")
        .size(32, 32)
        .frames(17)
        .steps(1)
        .seed(3);
    let mut calls = 0;
    let e = {
        let mut progress = Progress::with_callback(|_| {
            calls += 1;
            true
        });
        p.generate(
            &base
                .clone()
                .prompt_at(0.5, "a close-up of Tom Hanley smiling"),
            &mut progress,
        )
        .unwrap_err()
    };
    assert_eq!(e.kind(), sora_core::ErrorKind::ConsentRequired, "{e}");
    assert_eq!(calls, 0, "no phase may start");
    let e = p
        .generate(
            &base
                .clone()
                .prompt_at(0.5, "Captain Starfall saves the day"),
            &mut Progress::none(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), sora_core::ErrorKind::ProtectedContent, "{e}");
    // With the person's consent it runs.
    let clip = p
        .generate(
            &base
                .clone()
                .prompt_at(0.5, "a close-up of Tom Hanley smiling")
                .consent("tom-studio"),
            &mut Progress::none(),
        )
        .unwrap();
    assert_eq!(clip.frames.shape()[0], 17);
}

/// Per-pair flicker and warping error of frames `(i, i + 1)`, each pair
/// measured alone as a two-frame clip (as `wan_extend`'s seam test does).
fn pair_metrics(frames: &Array4<u8>, i: usize) -> (f64, f64) {
    use sora_core::physics::flow::FlowParams;
    use sora_core::physics::metrics::{warping_error, ClipFlows};
    let t = frames_tensor(frames.slice(s![i..i + 2, .., .., ..]), tch::Device::Cpu).unwrap();
    let fl = flicker(&t).unwrap().unwrap();
    let flows = ClipFlows::compute(&t, &FlowParams::default()).unwrap();
    let we = warping_error(&flows).unwrap().unwrap_or(0.0);
    (fl, we)
}

#[test]
fn wan_longform_seams_are_within_the_windows_own_range() {
    let p = pipe();
    let req = five_windows().steps(3);
    let clip = run(&p, &req);
    let r = p.resolve(&req).unwrap();
    let plan = LongformPlan::of(&r, 81, wan_rule).unwrap().unwrap();
    assert_eq!(plan.windows.len(), 5);
    // Where each later window's latents start being its own: its first held
    // latent frame is the previous window's exactly (weight 1), so the decode
    // boundary continues the previous window's frames unchanged; the seams
    // are the step into each crossfaded latent frame (weight 1 − j/k) and
    // into its first new one.
    let mut seams = Vec::new();
    for w in &plan.windows[1..] {
        for g in w.latent_start + 1..=w.latent_start + w.held {
            seams.push(frame_of_latent(g) - 1);
        }
    }
    // The decode boundary: window 1's frames up to its held tail's first
    // latent frame are those of window 1 generated alone.
    let alone = run(
        &p,
        &Request::text(PROMPT)
            .size(32, 32)
            .frames(17)
            .steps(3)
            .seed(7),
    );
    let upto = frame_of_latent(plan.windows[1].latent_start + 1);
    assert_eq!(
        clip.frames.slice(s![..upto, .., .., ..]),
        alone.frames.slice(s![..upto, .., .., ..]),
        "the first window's frames changed across the decode boundary"
    );
    let t = clip.frames.shape()[0];
    // Inside the windows: every pair but the seams' and the decoder's
    // start-up (frames 0..5, the first two latent frames: the causal VAE
    // decodes the first latent frame alone, and the steps right after it are
    // the largest of any Wan clip, long-form or not).
    let inside: Vec<(f64, f64)> = (frame_of_latent(2)..t - 1)
        .filter(|i| !seams.contains(i))
        .map(|i| pair_metrics(&clip.frames, i))
        .collect();
    let max_f = inside.iter().map(|m| m.0).fold(0.0, f64::max);
    let max_w = inside.iter().map(|m| m.1).fold(0.0, f64::max);
    let mean_f = inside.iter().map(|m| m.0).sum::<f64>() / inside.len() as f64;
    let mean_w = inside.iter().map(|m| m.1).sum::<f64>() / inside.len() as f64;
    // The measure sees a cut: two windows generated apart (no held tail),
    // joined, step further than any pair inside the windows.
    let a = run(
        &p,
        &Request::text(PROMPT)
            .size(32, 32)
            .frames(17)
            .steps(3)
            .seed(7),
    );
    let b = run(
        &p,
        &Request::text(PROMPT)
            .size(32, 32)
            .frames(17)
            .steps(3)
            .seed(8),
    );
    let cut = ndarray::concatenate(
        ndarray::Axis(0),
        &[
            a.frames.slice(s![16.., .., .., ..]),
            b.frames.slice(s![..1, .., .., ..]),
        ],
    )
    .unwrap();
    let (cut_f, cut_w) = pair_metrics(&cut, 0);
    eprintln!(
        "a hard cut between two windows: flicker {cut_f:.4}, warp error {cut_w:.5} \
         (inside: max {max_f:.4}, {max_w:.5})"
    );
    assert!(
        cut_f > max_f && cut_w > max_w,
        "the seam measure does not see a cut"
    );
    for &i in &seams {
        let (f, w) = pair_metrics(&clip.frames, i);
        eprintln!(
            "long-form seam ({i}, {}): flicker {f:.4} (inside: mean {mean_f:.4}, max {max_f:.4}), \
             warp error {w:.5} (inside: mean {mean_w:.5}, max {max_w:.5})",
            i + 1
        );
        assert!(
            f <= max_f,
            "seam ({i}) flicker {f} above the windows' {max_f}"
        );
        assert!(
            w <= max_w,
            "seam ({i}) warp error {w} above the windows' {max_w}"
        );
    }
}

/// Side of the frames of the memory probe: large enough that a clip kept in
/// memory shows (961 frames at 128×128 are 45 MiB of RGB).
const PROBE_SIZE: u32 = 128;

/// Runs `seconds` of long-form generation at [`PROBE_SIZE`] in a process of
/// its own (this test binary, filtered to the ignored test below), to an MP4
/// or, with `in_memory`, into a clip in memory, and returns its `(peak RSS
/// MiB, estimated peak MiB, frames)`.
fn peak_of(seconds: u32, in_memory: bool) -> (f64, f64, u32) {
    let mut env = vec![
        ("SORA_LONGFORM_PROBE_SECONDS", seconds.to_string()),
        ("SORA_LONGFORM_PROBE_SIZE", PROBE_SIZE.to_string()),
    ];
    if in_memory {
        env.push(("SORA_LONGFORM_PROBE_IN_MEMORY", "1".into()));
    }
    run_probe("wan_longform::longform_memory_probe", &env)
}

/// Runs the ignored test `probe` of this binary in a process of its own with
/// `env` set, and returns the numbers of the `LONGFORM_PROBE` line it prints:
/// `(peak RSS MiB, estimated peak MiB, frames)`.
pub(crate) fn run_probe(probe: &str, env: &[(&str, String)]) -> (f64, f64, u32) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        probe,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads",
        "1",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = stderr
        .lines()
        .chain(stdout.lines())
        .find_map(|l| l.strip_prefix("LONGFORM_PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{stdout}\n{stderr}"));
    let v: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1], v[2] as u32)
}

#[test]
fn wan_longform_peak_memory_does_not_grow_with_length() {
    let (p10, e10, f10) = peak_of(10, false);
    let (p60, e60, f60) = peak_of(60, false);
    // The control: the same 60 s kept in memory (every frame held) is
    // measured above the band, so the check sees memory that grows.
    let (m60, _, _) = peak_of(60, true);
    eprintln!(
        "long-form peak RSS at {PROBE_SIZE}×{PROBE_SIZE}, to MP4: 10 s ({f10} frames) \
         {p10:.1} MiB, 60 s ({f60} frames) {p60:.1} MiB ({:+.1} %); 60 s in memory {m60:.1} MiB \
         ({:+.1} %); estimates {e10:.1} / {e60:.1} MiB",
        100.0 * (p60 / p10 - 1.0),
        100.0 * (m60 / p10 - 1.0)
    );
    assert_eq!((f10, f60), (161, 961));
    assert_flat_peak((p10, e10), (p60, e60), m60);
}

/// The band a long run's memory keeps: 60 s peak (`p60`) within 10 % of
/// 10 s's (`p10`); the same 60 s held in memory (`m60`, the control) above
/// that band, so the check can see memory that grows; one estimate for both
/// (`e10`, `e60`: one window's).
pub(crate) fn assert_flat_peak((p10, e10): (f64, f64), (p60, e60): (f64, f64), m60: f64) {
    assert!(
        p60 <= 1.10 * p10,
        "60 s peaks at {p60} MiB, more than 10 % above 10 s's {p10} MiB"
    );
    assert!(
        m60 > 1.10 * p10,
        "the control (60 s in memory, {m60} MiB) is within 10 % of {p10} MiB: the check \
         cannot see memory that grows"
    );
    assert_eq!(e10, e60, "the estimate counts more than one window");
}

#[test]
#[ignore = "run in its own process by wan_longform_peak_memory_does_not_grow_with_length"]
fn longform_memory_probe() {
    let seconds: f32 = std::env::var("SORA_LONGFORM_PROBE_SECONDS")
        .unwrap()
        .parse()
        .unwrap();
    let size: u32 = std::env::var("SORA_LONGFORM_PROBE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let in_memory = std::env::var("SORA_LONGFORM_PROBE_IN_MEMORY").is_ok();
    let p = pipe();
    let req = Request::text(PROMPT)
        .size(size, size)
        .seconds(seconds)
        .steps(2)
        .seed(5)
        .prompt_at(seconds / 2.0, "a white owl sleeps on a branch");
    probe_report(
        &p,
        &req,
        in_memory,
        &format!("wan_longform_probe_{seconds}_{size}"),
    );
}

/// What a memory probe prints for [`run_probe`]: `req` generated into memory
/// (`in_memory`, the control) or to an MP4 in a scratch folder `name`, its
/// peak RSS, the estimate and the frames, on a `LONGFORM_PROBE` line.
pub(crate) fn probe_report(p: &Pipeline, req: &Request, in_memory: bool, name: &str) {
    let est = p.estimate(req).unwrap();
    let meta = if in_memory {
        // The control: the whole clip kept in memory (`generate`).
        let mut meta = run(p, req).meta;
        meta.peak_rss_mb = sora_core::pipeline::peak_rss_mb();
        meta
    } else {
        let dir = scratch(name);
        let meta = p
            .generate_to_file(req, &mut Progress::none(), dir.join("long.mp4"))
            .unwrap();
        let _ = std::fs::remove_dir_all(dir);
        meta
    };
    eprintln!(
        "LONGFORM_PROBE {} {} {}",
        meta.peak_rss_mb, est.total_mb, meta.frames
    );
}

#[test]
fn wan_longform_colour_drift_over_six_windows_is_below_re_encode_chaining() {
    let p = pipe();
    for seed in [7u64, 11] {
        // Six windows of 21 frames (6 latent frames), 3 held: 81 frames, the new
        // frames of windows 2..6 twelve each. The decode → re-encode chain has the
        // same geometry: 21 frames, then five extensions conditioned on the last
        // 9 frames (3 latent frames), adding 12 each.
        let long = with(
            with(
                Request::text(PROMPT)
                    .size(32, 32)
                    .frames(81)
                    .steps(3)
                    .seed(seed),
                "window_frames",
                21,
            ),
            "window_overlap",
            3,
        );
        let latent = run(&p, &long);
        assert_eq!(latent.frames.shape()[0], 81);
        let mut chain = run(
            &p,
            &Request::text(PROMPT)
                .size(32, 32)
                .frames(21)
                .steps(3)
                .seed(seed),
        );
        for k in 1..6u64 {
            let src = VideoInput {
                frames: chain.frames.clone(),
                fps: 16.0,
                audio: None,
            };
            chain = run(
                &p,
                &Request::extend(src, PROMPT, 0.75)
                    .steps(3)
                    .seed(sora_core::pipeline::longform::window_seed(seed, k as usize)),
            );
        }
        assert_eq!(chain.frames.shape()[0], 81);
        // The first windows are the same generation: the same frames.
        assert_eq!(
            latent.frames.slice(s![..9, .., .., ..]),
            chain.frames.slice(s![..9, .., .., ..])
        );
        let segments: Vec<(usize, usize)> =
            (1..6).map(|k| (21 + 12 * (k - 1), 21 + 12 * k)).collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        for block in [1, 8, 32] {
            let d_latent: Vec<f64> = segments
                .iter()
                .map(|&(a, b)| colour_drift(latent.frames.view(), 0..21, a..b, block).unwrap())
                .collect();
            let d_chain: Vec<f64> = segments
                .iter()
                .map(|&(a, b)| colour_drift(chain.frames.view(), 0..21, a..b, block).unwrap())
                .collect();
            eprintln!(
                "seed {seed}: colour drift (mean ΔE76 of {block}×{block} regions' mean Lab against window 1), \
                 windows 2..6: long-form {d_latent:.2?} (mean {:.2}), decode/re-encode chain \
                 {d_chain:.2?} (mean {:.2})",
                mean(&d_latent),
                mean(&d_chain)
            );
            // Asserted on regions (8×8 and the whole frame); per pixel the two
            // are close on this fixture (printed only).
            if block > 1 {
                assert!(
                    d_latent[4] < d_chain[4] && mean(&d_latent) < mean(&d_chain),
                    "seed {seed}, {block}×{block}: long-form drifts {d_latent:?}, re-encode chaining {d_chain:?}"
                );
            }
        }
    }
}
