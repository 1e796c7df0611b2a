//! LTX-2 frame conditions against diffusers 0.42.1 `LTX2ConditionPipeline`
//! (fixture `ltx2_cond`: the tiny LTX-2.0 and 2.3 folders of `ltx2_i2v` saved
//! as `LTX2ConditionPipeline`, 17 frames at 96×64; a 110×75 image and a 9-frame
//! 80×60 clip, resized and centre-cropped; `image_crf=0`). Checked per run
//! (an image at index 0 and a clip at index 1 with strength 0.6, all guidance;
//! a clip at index 0 with strength 0.7 and an image at index −1 with strength
//! 0.8, no guidance): the preprocessed condition pixels, the denoised video and
//! audio latents within 1e-4 of their scale, the decoded frames and waveform
//! through [`Pipeline`] as close as T2V's; the conditions matter; and a bad
//! index or strength is a typed error naming the valid values.

use sora_core::denoise::{denoise_latents, WalkOptions};
use sora_core::models::ltx2::conditions::{preprocess_frames, trimmed_frames};
use sora_core::models::ltx2::Ltx2Family;
use sora_core::pipeline::request::Request;
use sora_core::weights::ModelFolder;
use sora_core::{
    Device, Dtype, Error, FrameCondition, ImageInput, Pipeline, Progress, VideoInput,
    WatermarkPolicy,
};
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err};

use crate::ltx2_pipeline::{assert_decoded_close, request, unpacked};

const TOL: f64 = 1e-4;

fn input(name: &str) -> ndarray::Array4<u8> {
    let dir = fixture("ltx2_cond");
    match name {
        "image" => sora_core::io::read_image(&dir.join("image.png"))
            .unwrap()
            .insert_axis(ndarray::Axis(0)),
        _ => sora_core::io::read_png_sequence(&dir.join("clip")).unwrap(),
    }
}

fn runs(layout: &str) -> Vec<serde_json::Value> {
    let dir = fixture("ltx2_cond").join(layout);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    v.as_array().unwrap().clone()
}

/// The fixture's run `r` as a request with its conditions (`flip`: the
/// inputs mirrored, to show they matter).
fn cond_request(r: &serde_json::Value, flip: bool) -> Request {
    let mut req = request(r);
    req.set("image_crf", r["crf"].as_i64().unwrap()).unwrap();
    for c in r["conditions"].as_array().unwrap() {
        let mut frames = input(c["input"].as_str().unwrap());
        if flip {
            frames.invert_axis(ndarray::Axis(2));
        }
        let (index, strength) = (
            c["index"].as_i64().unwrap(),
            c["strength"].as_f64().unwrap() as f32,
        );
        req = req.condition(if frames.shape()[0] == 1 {
            FrameCondition::image(
                ImageInput {
                    pixels: frames.index_axis(ndarray::Axis(0), 0).to_owned(),
                },
                index,
                strength,
            )
        } else {
            FrameCondition::clip(VideoInput::new(frames, 24.0), index, strength)
        });
    }
    req
}

fn latent_parity(layout: &str) {
    let dir = fixture("ltx2_cond").join(layout);
    let want = read_tensors(&dir.join("latents.safetensors"));
    let f = ModelFolder::open(&dir).unwrap();
    let mut fam = Ltx2Family::load(&f, Device::Cpu, Dtype::F32).unwrap();
    for r in runs(layout) {
        let name = r["name"].as_str().unwrap();
        let what = format!("{layout} cond {name}");
        // The conditions' pixels as the pipeline prepares them.
        for (i, c) in r["conditions"].as_array().unwrap().iter().enumerate() {
            let frames = input(c["input"].as_str().unwrap());
            let latent_frames = 3;
            let index = c["index"].as_i64().unwrap().rem_euclid(latent_frames);
            let n = trimmed_frames(index, frames.shape()[0] as i64, 17, 8) as usize;
            let pre =
                preprocess_frames(frames.slice(ndarray::s![..n, .., .., ..]), 96, 64, 0).unwrap();
            assert_close(
                &format!("{what} condition {i}"),
                &pre,
                &want[&format!("{name}.cond{i}")],
                1e-5,
            );
        }
        let req = cond_request(&r, false);
        let x = denoise_latents(&mut fam, &req, &WalkOptions::default()).unwrap();
        // The walk carries the keyframe tokens; the video is the grid's.
        let base = 3 * 2 * 3;
        let mut x = x;
        x.video = x.video.narrow(1, 0, base);
        let (video, audio) = unpacked(&fam, &req, x);
        let video = fam.video_vae().denormalize_latents(&video).unwrap();
        let (wv, wa) = (
            &want[&format!("{name}.video")],
            &want[&format!("{name}.audio")],
        );
        eprintln!(
            "{what}: video {:.2e}, audio {:.2e}",
            rel_max_err(&video, wv),
            rel_max_err(&audio, wa)
        );
        assert_close(&format!("{what} video"), &video, wv, TOL);
        assert_close(&format!("{what} audio"), &audio, wa, TOL);
        if name == "none" {
            // The conditions matter: mirrored inputs move the latents far.
            let mut x = denoise_latents(&mut fam, &cond_request(&r, true), &WalkOptions::default())
                .unwrap();
            x.video = x.video.narrow(1, 0, base);
            let (v, _) = unpacked(&fam, &req, x);
            let v = fam.video_vae().denormalize_latents(&v).unwrap();
            let e = rel_max_err(&v, wv);
            eprintln!("{what} with the inputs mirrored: video {e:.2e}");
            assert!(e > 100.0 * TOL, "{e}");
        }
    }
}

#[test]
fn ltx2_20_cond_latents_match_diffusers() {
    latent_parity("v20");
}

#[test]
fn ltx2_23_cond_latents_match_diffusers() {
    latent_parity("v23");
}

fn decoded_parity(layout: &str) {
    let dir = fixture("ltx2_cond").join(layout);
    let want = read_tensors(&dir.join("decoded.safetensors"));
    let pipe = Pipeline::builder()
        .model(&dir)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap_or_else(|e| panic!("{layout}: {e}"));
    for r in runs(layout) {
        let name = r["name"].as_str().unwrap();
        let what = format!("{layout} cond {name}");
        let clip = pipe
            .generate(&cond_request(&r, false), &mut Progress::none())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_decoded_close(
            &what,
            &clip,
            &want[&format!("{name}.frames")],
            &want[&format!("{name}.waveform")],
        );
    }
    if layout == "v20" {
        // Typed errors naming the valid values.
        let r = &runs(layout)[1];
        let bad_index = request(r).condition(FrameCondition::image(
            ImageInput {
                pixels: ndarray::Array3::zeros((64, 96, 3)),
            },
            3,
            1.0,
        ));
        let e = pipe
            .generate(&bad_index, &mut Progress::none())
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains("-3..=2"), "{e}");
        let bad_strength = request(r).condition(FrameCondition::image(
            ImageInput {
                pixels: ndarray::Array3::zeros((64, 96, 3)),
            },
            0,
            1.5,
        ));
        let e = pipe
            .generate(&bad_strength, &mut Progress::none())
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains("[0, 1]"), "{e}");
    }
}

#[test]
fn ltx2_20_cond_frames_and_waveform_match_diffusers() {
    decoded_parity("v20");
}

#[test]
fn ltx2_23_cond_frames_and_waveform_match_diffusers() {
    decoded_parity("v23");
}

/// LTX-2 video-to-video is the clip as one frame condition over the whole
/// length at strength `1 − strength` (`LTX2ConditionPipeline`'s path, parity
/// above): the same frames and waveform as that text request, bit for bit; the
/// sound is generated with the new picture; the clip matters.
#[test]
fn ltx2_video_to_video_is_the_clip_as_a_condition() {
    let dir = fixture("ltx2_cond").join("v20");
    let pipe = Pipeline::builder()
        .model(&dir)
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let clip = input("clip");
    let n = clip.shape()[0] as u32;
    // The request fits the 4:3 clip to 3:2 by cropping; the condition gets
    // the same cropped frames.
    let fitted =
        sora_core::pipeline::shape::fit_frames(&clip, 96, 64, sora_core::Fit::Crop).unwrap();
    let edit = |mut r: Request| {
        r.set("max_sequence_length", 24).unwrap();
        r.set("image_crf", 0).unwrap();
        r.steps(3).seed(5)
    };
    let v2v = edit(
        Request::video(VideoInput::new(clip.clone(), 24.0), "a fox in snow", 0.7)
            .size(96, 64)
            .fit(sora_core::Fit::Crop),
    );
    let cond = edit(
        Request::text("a fox in snow")
            .size(96, 64)
            .frames(n)
            .fps(24)
            .condition(FrameCondition::clip(VideoInput::new(fitted, 24.0), 0, 0.3)),
    );
    let a = pipe.generate(&v2v, &mut Progress::none()).unwrap();
    let b = pipe.generate(&cond, &mut Progress::none()).unwrap();
    assert_eq!(a.frames.shape(), &[n as usize, 64, 96, 3]);
    assert_eq!(a.fps, 24.0);
    assert_eq!(
        a.frames, b.frames,
        "video-to-video differs from its condition"
    );
    assert_eq!(a.audio, b.audio);
    assert!(a.audio.is_some());
    // Another clip (mirrored) gives other frames.
    let mut flipped = clip.clone();
    flipped.invert_axis(ndarray::Axis(2));
    let c = pipe
        .generate(
            &edit(
                Request::video(VideoInput::new(flipped, 24.0), "a fox in snow", 0.7)
                    .size(96, 64)
                    .fit(sora_core::Fit::Crop),
            ),
            &mut Progress::none(),
        )
        .unwrap();
    assert_ne!(a.frames, c.frames);
    // A length the model cannot take names the valid ones.
    let short = clip.slice(ndarray::s![..5, .., .., ..]).to_owned();
    let e = pipe
        .generate(
            &edit(
                Request::video(VideoInput::new(short, 24.0), "x", 0.7)
                    .size(96, 64)
                    .fit(sora_core::Fit::Crop),
            ),
            &mut Progress::none(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}
