//! Long-form generation with LTX-2 on the tiny fixture pipeline (`ltx2_cond`'s
//! LTX-2.0 folder, 96×64 at 24 fps): a request longer than one window is a
//! chain of windows, each holding the previous window's video *and audio*
//! latents (never decoded and encoded again), decoded part by part with
//! context and crossfaded seams. Checked: exact frame counts and one track
//! as long as the clip, determinism, one window equal to the plain
//! generation, timed prompts, no click at the seams, an estimate that does
//! not grow with the length, and colour drift over six windows against a
//! chain of decode → re-encode extensions.

use ndarray::s;
use sora_core::physics::colour::{colour_drift, static_colour_drift};
use sora_core::pipeline::longform::window_seed;
use sora_core::pipeline::request::SourceAudio;
use sora_core::{Clip, ImageInput, Pipeline, Progress, Request, VideoInput, WatermarkPolicy};
use sora_tests::{fixture, scratch};

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

/// A generated clip, with its sound, as the source of an extension.
fn source_of(c: &Clip) -> VideoInput {
    VideoInput {
        frames: c.frames.clone(),
        fps: c.fps,
        audio: c.audio.clone().map(|a| SourceAudio::new(a, c.sample_rate)),
    }
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

#[test]
fn ltx2_long_form_colour_drift_over_six_windows_is_below_re_encode_chaining() {
    let p = pipe();
    // Six windows of 33 frames (5 latent frames), 2 latent frames (9 frames)
    // held: 153 frames, windows 2..6 adding 24 new frames each. The decode →
    // re-encode chain has the same geometry: 33 frames, then five 1 s
    // extensions, each conditioned on the last 9 decoded frames (and their
    // sound) encoded again.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for seed in [5u64, 9] {
        let latent = run(&p, &long(153).seed(seed));
        assert_eq!(latent.frames.shape()[0], 153);
        assert_eq!(latent.meta.long_form.as_ref().map(|l| l.windows), Some(6));
        let mut chain = run(&p, &long(33).seed(seed));
        for k in 1..6usize {
            let src = source_of(&chain);
            let mut req = Request::extend(src, PROMPT, 1.0)
                .steps(3)
                .seed(window_seed(seed, k));
            req.set("max_sequence_length", 24).unwrap();
            chain = run(&p, &req);
        }
        assert_eq!(chain.frames.shape()[0], 153);
        let segments: Vec<(usize, usize)> =
            (1..6).map(|k| (33 + 24 * (k - 1), 33 + 24 * k)).collect();
        for block in [1, 8, 32] {
            let drift = |frames: &ndarray::Array4<u8>| -> Vec<f64> {
                segments
                    .iter()
                    .map(|&(a, b)| colour_drift(frames.view(), 0..33, a..b, block).unwrap())
                    .collect()
            };
            let (d_latent, d_chain) = (drift(&latent.frames), drift(&chain.frames));
            eprintln!(
                "LTX-2 seed {seed}: colour drift (mean ΔE76 of {block}×{block} regions' mean Lab \
                 against window 1), windows 2..6: long-form {d_latent:.2?} (mean {:.2}), \
                 decode/re-encode chain {d_chain:.2?} (mean {:.2})",
                mean(&d_latent),
                mean(&d_chain)
            );
            // Asserted on regions (8×8, 32×32); per pixel printed only.
            if block > 1 {
                assert!(
                    mean(&d_latent) < mean(&d_chain),
                    "seed {seed}, {block}×{block}: long-form drifts {d_latent:?}, \
                     re-encode chaining {d_chain:?}"
                );
            }
        }
    }
}

/// The embedded default model (trained on the physics simulator's scenes:
/// a still floor and wall, objects that fall and bounce), 64×64 at 12 fps,
/// its VAE keeping every frame. Six windows of 25 frames holding 9: 105
/// frames; the decode → re-encode chain: 25 frames, then five extensions of
/// 16 frames (4/3 s) on the last 9. Drift measured on the regions that stay
/// still in both spans (the floor and wall; a region an object crosses is
/// left out). Seeds 1 and 4: on seeds 2 and 3 the model's first window is
/// not a still scene (no region stays still in it: nothing to compare).
/// A measurement for docs/models.md (54 s here), run on demand: the fixture
/// test above asserts the same property in every run.
#[test]
#[ignore = "measurement: cargo test -p sora-tests --test it -- --ignored default_model_long_form"]
fn default_model_long_form_drifts_less_on_the_still_scene_than_re_encode_chaining() {
    let folder =
        sora_core::pipeline::default_model::folder_under(&scratch("ltx2-drift-default")).unwrap();
    let p = Pipeline::builder()
        .model(&folder)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let steps = 10;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mut all_latent, mut all_chain) = (Vec::new(), Vec::new());
    for seed in [1u64, 4] {
        let latent = run(
            &p,
            &with(
                with(Request::text(PROMPT).frames(105), "window_frames", 25),
                "window_overlap",
                9,
            )
            .steps(steps)
            .seed(seed),
        );
        assert_eq!(latent.frames.shape()[0], 105);
        assert_eq!(latent.meta.long_form.as_ref().map(|l| l.windows), Some(6));
        let mut chain = run(
            &p,
            &Request::text(PROMPT).frames(25).steps(steps).seed(seed),
        );
        for k in 1..6usize {
            let src = source_of(&chain);
            chain = run(
                &p,
                &Request::extend(src, PROMPT, 16.0 / 12.0)
                    .steps(steps)
                    .seed(window_seed(seed, k)),
            );
        }
        assert_eq!(chain.frames.shape()[0], 105);
        let segments: Vec<(usize, usize)> =
            (1..6).map(|k| (25 + 16 * (k - 1), 25 + 16 * k)).collect();
        let drift = |frames: &ndarray::Array4<u8>| -> (Vec<f64>, Vec<usize>) {
            segments
                .iter()
                .map(|&(a, b)| {
                    let d = static_colour_drift(frames.view(), 0..25, a..b, 8, 6.0).unwrap();
                    (d.delta_e.unwrap_or(f64::NAN), d.still_regions)
                })
                .unzip()
        };
        let ((d_latent, n_latent), (d_chain, n_chain)) =
            (drift(&latent.frames), drift(&chain.frames));
        eprintln!(
            "default model, seed {seed}: colour drift of the still 8×8 regions (mean ΔE76 against \
             window 1), windows 2..6: long-form {d_latent:.2?} over {n_latent:?} of 64 regions \
             (mean {:.2}), decode/re-encode chain {d_chain:.2?} over {n_chain:?} (mean {:.2})",
            mean(&d_latent),
            mean(&d_chain)
        );
        all_latent.extend(d_latent);
        all_chain.extend(d_chain);
    }
    assert!(
        mean(&all_latent) < mean(&all_chain),
        "long-form drifts {all_latent:?}, re-encode chaining {all_chain:?}"
    );
}

/// The fixture's image as an image-to-video request of `frames` at 24 fps,
/// in windows of 33 frames holding 2 latent frames.
fn image_long(frames: u32) -> Request {
    let img = ImageInput {
        pixels: sora_core::io::read_image(&fixture("ltx2_cond").join("image.png")).unwrap(),
    };
    let r = with(
        Request::image(img, PROMPT)
            .size(96, 64)
            .frames(frames)
            .fps(24),
        "max_sequence_length",
        24,
    );
    with(with(r, "window_frames", 33), "window_overlap", 2)
        .steps(3)
        .seed(5)
}

#[test]
fn ltx2_image_to_video_long_form_starts_from_the_image() {
    let p = pipe();
    // One window: with a timed prompt of the same text at 0 s it is
    // long-form, and equals the plain image-to-video walk bit for bit.
    let plain = image_long(25);
    let a = run(&p, &plain);
    let b = run(&p, &plain.clone().prompt_at(0.0, PROMPT));
    assert!(a.meta.long_form.is_none());
    assert_eq!(b.meta.long_form.as_ref().map(|l| l.windows), Some(1));
    assert_eq!((a.frames.clone(), a.audio.clone()), (b.frames, b.audio));

    // 73 frames: three windows, the image in the first, the later ones
    // holding the tail; one track as long as the picture.
    let clip = run(&p, &image_long(73));
    assert_eq!(clip.frames.shape(), &[73, 64, 96, 3]);
    assert_eq!(clip.meta.mode, "image");
    assert_eq!(clip.meta.long_form.as_ref().map(|l| l.windows), Some(3));
    let audio = clip.audio.as_ref().expect("LTX-2 keeps its sound");
    let secs = audio.shape()[1] as f64 / f64::from(clip.sample_rate);
    assert!((secs - 73.0 / 24.0).abs() <= 0.04, "{secs} s of sound");
    // The first window is the plain 33-frame image-to-video walk (the same
    // seed): its first frames differ from that clip's by the decoder's
    // context (decoded in parts: the random decoder mixes widely in time,
    // as the text long-form against its own first window shows), and much
    // less than text-to-video's first frames do.
    let one = run(&p, &image_long(33));
    let text = run(&p, &long(73));
    let diff = |x: &ndarray::Array4<u8>, y: &ndarray::Array4<u8>| -> f64 {
        let (x, y) = (x.slice(s![..9, .., .., ..]), y.slice(s![..9, .., .., ..]));
        x.iter()
            .zip(y.iter())
            .map(|(p, q)| (f64::from(*p) - f64::from(*q)).abs())
            .sum::<f64>()
            / x.len() as f64
    };
    // The decoder's context alone: text-to-video long-form against its own
    // plain first window.
    let text_one = run(&p, &long(33));
    let (d_image, d_text, d_context) = (
        diff(&clip.frames, &one.frames),
        diff(&text.frames, &one.frames),
        diff(&text.frames, &text_one.frames),
    );
    eprintln!(
        "LTX-2 image long-form: first 9 frames against the plain image-to-video clip {d_image:.3} \
         (0-255; text-to-video long-form's {d_text:.3}; the decoder's context alone, text \
         long-form against its plain first window: {d_context:.3})"
    );
    assert!(d_image < 0.75 * d_text, "{d_image} vs {d_text}");
}
