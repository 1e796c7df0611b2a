//! Long-form generation with LTX-2 on the tiny fixture pipeline (`ltx2_cond`'s
//! LTX-2.0 folder, 96×64 at 24 fps): a request longer than one window is a
//! chain of windows, each holding the previous window's video *and audio*
//! latents (never decoded and encoded again), decoded part by part with
//! context and crossfaded seams. Checked: exact frame counts and one track
//! as long as the clip, determinism, one window equal to the plain
//! generation, timed prompts, no click at the seams, and an estimate that
//! does not grow with the length.

use ndarray::s;
use sora_core::{Clip, Pipeline, Progress, Request, WatermarkPolicy};
use sora_tests::fixture;

use crate::wan_extend::{audio_steps, pair_metrics};

fn pipe() -> Pipeline {
    Pipeline::builder()
        .model(fixture("ltx2_cond").join("v20"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap()
}

const PROMPT: &str = "a red ball bounces on a wooden floor";

fn with(mut r: Request, key: &str, value: i64) -> Request {
    r.set(key, value).unwrap();
    r
}

/// `frames` at 24 fps in windows of 33 frames (5 latent frames), 2 held.
fn long(frames: u32) -> Request {
    let r = with(
        Request::text(PROMPT).size(96, 64).frames(frames).fps(24),
        "max_sequence_length",
        24,
    );
    with(with(r, "window_frames", 33), "window_overlap", 2)
        .steps(3)
        .seed(5)
}

fn run(p: &Pipeline, req: &Request) -> Clip {
    p.generate(req, &mut Progress::none()).unwrap()
}

#[test]
fn ltx2_long_form_makes_every_frame_with_one_track() {
    let p = pipe();
    // 73 frames = 10 latent frames: windows at latent 0, 3 and 6.
    let req = long(73);
    let clip = run(&p, &req);
    assert_eq!(clip.frames.shape(), &[73, 64, 96, 3]);
    let lf = clip.meta.long_form.as_ref().expect("a long-form clip");
    assert_eq!(
        (lf.windows, lf.window_frames, lf.window_overlap),
        (3, 33, 2)
    );
    // One track as long as the clip (the audio latents' rounding: within one
    // latent, 40 ms).
    let audio = clip
        .audio
        .as_ref()
        .expect("LTX-2 long-form keeps its sound");
    let rate = f64::from(clip.sample_rate);
    let secs = audio.shape()[1] as f64 / rate;
    assert!(
        (secs - 73.0 / 24.0).abs() <= 0.04,
        "{secs} s of sound for {} s of picture",
        73.0 / 24.0
    );
    assert!(audio.iter().all(|v| v.is_finite()));
    // Same request, same bytes.
    let again = run(&p, &req);
    assert_eq!(again.frames, clip.frames);
    assert_eq!(again.audio, clip.audio);

    // No click at the seams: where the sound of each decoded part meets the
    // next one's. The audio VAE runs at 16 kHz, hop 160: 25 audio latents per
    // second, 4 mel frames each, `rate / 100` samples per mel frame. Window
    // 1 hands its audio up to latent 25 (1 s; window 2 up to 50), the last 2
    // latents' samples held back and crossfaded into the next part's: the
    // fade runs from mel frame 4·o − 11 to 4·o − 3. At both of its ends, no
    // sample-to-sample step above the clip's 99.9th percentile.
    let per_mel = rate / 100.0;
    for o in [25.0, 50.0] {
        for mel in [4.0 * o - 11.0, 4.0 * o - 3.0] {
            let at = (mel * per_mel).round() as usize;
            let (step, p999) = audio_steps(audio, at - 1..at + 1);
            eprintln!(
                "LTX-2 long-form audio seam at sample {at}: step {step:.4}, 99.9th percentile {p999:.4}"
            );
            assert!(step <= p999, "audio step {step} at a seam above {p999}");
        }
    }
    // The picture's seams against every other pair: where the decoded parts
    // meet (frames 16 → 17 and 40 → 41, crossfaded over the 8 before) and
    // where windows 2 and 3 start their new frames (latent 5 → frame 33,
    // latent 8 → frame 57).
    let all = pair_metrics(&clip.frames, 0..72);
    let seams = [16usize, 32, 40, 56];
    let inside: Vec<(f64, f64)> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !seams.contains(i))
        .map(|(_, m)| *m)
        .collect();
    let max_f = inside.iter().map(|m| m.0).fold(0.0, f64::max);
    for i in seams {
        eprintln!(
            "LTX-2 long-form seam {i}: flicker {:.4} (inside up to {max_f:.4}), warp {:.5}",
            all[i].0, all[i].1
        );
        assert!(
            all[i].0 <= 1.05 * max_f,
            "seam flicker {} above {max_f}",
            all[i].0
        );
    }
}

#[test]
fn ltx2_one_long_form_window_is_the_plain_generation() {
    let p = pipe();
    // 25 frames fit one window: with a timed prompt of the same text at 0 s
    // the request is long-form (one window), and must equal the plain walk.
    let plain = with(
        Request::text(PROMPT).size(96, 64).frames(25).fps(24),
        "max_sequence_length",
        24,
    )
    .steps(3)
    .seed(5);
    let timed = plain.clone().prompt_at(0.0, PROMPT);
    let a = run(&p, &plain);
    let b = run(&p, &timed);
    assert!(a.meta.long_form.is_none());
    assert_eq!(b.meta.long_form.as_ref().map(|l| l.windows), Some(1));
    assert_eq!(a.frames, b.frames);
    assert_eq!(a.audio, b.audio);
}

#[test]
fn ltx2_timed_prompts_change_the_later_windows_only() {
    let p = pipe();
    let base = run(&p, &long(73));
    // 1.5 s: frame 36, latent frame 6 (frame 41): window 2 is cut there.
    let switched = run(
        &p,
        &long(73).prompt_at(1.5, "a blue box falls on a metal floor"),
    );
    assert_eq!(switched.frames.shape(), base.frames.shape());
    let lf = switched.meta.long_form.as_ref().unwrap();
    assert_eq!(lf.prompts.first().map(String::as_str), Some(PROMPT));
    assert_eq!(
        lf.prompts.last().map(String::as_str),
        Some("a blue box falls on a metal floor")
    );
    // The first window's frames written before its seam are the same.
    assert_eq!(
        switched.frames.slice(s![..9, .., .., ..]),
        base.frames.slice(s![..9, .., .., ..])
    );
    assert_ne!(
        switched.frames.slice(s![41.., .., .., ..]),
        base.frames.slice(s![41.., .., .., ..])
    );
}

#[test]
fn ltx2_long_form_estimate_is_one_window() {
    let p = pipe();
    let window = p.estimate(&long(33)).unwrap();
    // 60 s at 24 fps: 1441 frames in windows of 33.
    let minute = p.estimate(&long(1441)).unwrap();
    assert_eq!(minute.total_mb, window.total_mb);
    // Without long-form windows (one walk of everything) it would grow.
    let one_walk = p
        .estimate(&with(long(1441), "window_frames", 1441))
        .unwrap();
    assert!(one_walk.total_mb > window.total_mb);
}
