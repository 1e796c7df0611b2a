//! End-to-end parity with diffusers: every Wan mode, both Wan versions, both
//! schedulers, CFG on and off, one and two experts. The fixture
//! (`tests/fixtures/fx_wan_pipeline.py`) runs diffusers on tiny random pipelines;
//! here the same folders and requests run through `Pipeline::generate`.

use std::path::Path;

use sora_core::{
    io, CancelToken, Clip, Error, ImageInput, Pipeline, Progress, Request, VideoInput,
    WatermarkPolicy,
};
use sora_tests::{copy_dir, fixture, read_tensors};
use tch::{Kind, Tensor};

/// The request of a fixture case (`request.json`).
pub(crate) fn request_of(case: &Path) -> Request {
    let text = std::fs::read_to_string(case.join("request.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let prompt = v["prompt"].as_str().unwrap().to_string();
    let mut req = match v["mode"].as_str().unwrap() {
        "text" => Request::text(prompt),
        "image" => {
            let pixels = io::read_image(&case.join(v["image"].as_str().unwrap())).unwrap();
            Request::image(ImageInput { pixels }, prompt)
        }
        "video" => {
            let clip = io::read_video(&case.join(v["video"].as_str().unwrap())).unwrap();
            Request::video(
                VideoInput {
                    frames: clip.frames,
                    fps: clip.fps,
                    audio: None,
                },
                prompt,
                v["strength"].as_f64().unwrap() as f32,
            )
        }
        m => panic!("unknown mode {m}"),
    };
    req = req
        .negative_prompt(v["negative_prompt"].as_str().unwrap())
        .size(
            v["width"].as_u64().unwrap() as u32,
            v["height"].as_u64().unwrap() as u32,
        )
        .frames(v["frames"].as_u64().unwrap() as u32)
        .steps(v["steps"].as_u64().unwrap() as u32)
        .guidance(v["guidance"].as_f64().unwrap() as f32)
        .seed(v["seed"].as_u64().unwrap());
    if let Some(g2) = v["guidance_2"].as_f64() {
        req = req.guidance_2(g2 as f32);
    }
    req
}

fn generate(case: &Path) -> Clip {
    generate_with(case, true)
}

fn generate_with(case: &Path, batch: bool) -> Clip {
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .watermarks(WatermarkPolicy::Off)
        .batch_guidance(batch)
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    pipe.generate(&request_of(case), &mut Progress::none())
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
}

/// Frames within 2/255 of diffusers' on ≥ 99.5 % of values, mean difference ≤ 0.5/255.
fn assert_frames_match(name: &str, clip: &Clip) {
    let case = fixture("wan_pipeline").join(name);
    let reference = read_tensors(&case.join("ref.safetensors"));
    let want = reference["frames"]
        .f_mul_scalar(255.0)
        .unwrap()
        .round()
        .to_kind(Kind::Int);
    let s = clip.frames.shape();
    let ours = Tensor::from_slice(clip.frames.as_slice().unwrap())
        .view([s[0] as i64, s[1] as i64, s[2] as i64, s[3] as i64])
        .to_kind(Kind::Int);
    assert_eq!(ours.size(), want.size(), "{name}: frame shape");
    let diff = (&ours - &want).abs().to_kind(Kind::Double);
    let within = diff
        .le(2.0)
        .to_kind(Kind::Double)
        .mean(Kind::Double)
        .double_value(&[]);
    let mean = diff.mean(Kind::Double).double_value(&[]);
    let max = diff.max().double_value(&[]);
    eprintln!(
        "{name}: {:.4}% within 2/255, mean {mean:.4}/255, max {max}/255",
        within * 100.0
    );
    assert!(
        within >= 0.995,
        "{name}: only {:.3}% of values within 2/255",
        within * 100.0
    );
    assert!(mean <= 0.5, "{name}: mean difference {mean}/255 > 0.5/255");
}

fn check(name: &str) {
    let clip = generate(&fixture("wan_pipeline").join(name));
    assert_frames_match(name, &clip);
}

#[test]
fn t2v_wan21_unipc_cfg() {
    check("t2v_21");
}

#[test]
fn t2v_wan21_unipc_cfg_sequential_guidance() {
    let name = "t2v_21";
    let clip = generate_with(&fixture("wan_pipeline").join(name), false);
    assert_frames_match(name, &clip);
}

#[test]
fn t2v_wan21_euler_no_cfg() {
    check("t2v_21_euler_nocfg");
}

#[test]
fn t2v_wan21_euler_cfg_three_layers() {
    check("t2v_21_euler_cfg");
}

#[test]
fn t2v_wan22_ti2v_expand_timesteps() {
    check("t2v_22_ti2v");
}

#[test]
fn i2v_wan22_ti2v_first_frame() {
    check("i2v_22_ti2v");
}

#[test]
fn i2v_wan21_clip_image_tokens() {
    check("i2v_21");
}

#[test]
fn t2v_wan22_two_experts() {
    check("t2v_22_experts");
}

#[test]
fn v2v_wan21_euler() {
    check("v2v_21");
}

#[test]
fn v2v_wan21_unipc() {
    check("v2v_21_unipc");
}

/// Video-to-video keeps the source's own audio (Wan makes none): trimmed to
/// the output's length when longer, padded with silence when shorter; a
/// watermarked run marks the carried track like generated audio and says so.
#[test]
fn v2v_wan21_carries_the_source_audio() {
    use sora_core::safety::payload::{Payload, FLAG_AUDIO};
    use sora_core::{Mode, SourceAudio};
    let case = fixture("wan_pipeline").join("v2v_21");
    let with_audio = |samples: ndarray::Array2<f32>| {
        let mut req = request_of(&case).steps(2);
        if let Mode::Video { clip, .. } = &mut req.mode {
            clip.audio = Some(SourceAudio::new(samples, 48_000));
        }
        req
    };
    let plain = Pipeline::builder()
        .model(case.join("model"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    // 9 frames at 16 fps: 27 000 samples at 48 kHz.
    let long = crate::wan_extend::tone(20, 16.0, 48_000);
    let clip = plain
        .generate(&with_audio(long.clone()), &mut Progress::none())
        .unwrap();
    assert_eq!((clip.frames.shape()[0], clip.fps), (9, 16.0));
    let a = clip
        .audio
        .as_ref()
        .expect("video-to-video dropped the audio");
    assert_eq!((clip.sample_rate, a.dim()), (48_000, (2, 27_000)));
    assert_eq!(a, &long.slice(ndarray::s![.., ..27_000]));
    assert!(clip.meta.has_audio);
    // Shorter than the output: padded with silence.
    let short = long.slice(ndarray::s![.., ..10_000]).to_owned();
    let clip = plain
        .generate(&with_audio(short.clone()), &mut Progress::none())
        .unwrap();
    let a = clip.audio.as_ref().unwrap();
    assert_eq!(a.dim(), (2, 27_000));
    assert_eq!(a.slice(ndarray::s![.., ..10_000]), short);
    assert!(a.slice(ndarray::s![.., 10_000..]).iter().all(|&v| v == 0.0));
    // Bad source audio is refused before any work.
    let e = plain
        .generate(
            &with_audio(ndarray::Array2::from_elem((1, 100), f32::NAN)),
            &mut Progress::none(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    // Watermarked (the default): the carried track is marked, inaudibly,
    // and the payload records that the clip has audio.
    let marked = Pipeline::builder()
        .model(case.join("model"))
        .build()
        .unwrap()
        .generate(&with_audio(long.clone()), &mut Progress::none())
        .unwrap();
    let m = marked.audio.as_ref().unwrap();
    assert_eq!(m.dim(), (2, 27_000));
    let src = long.slice(ndarray::s![.., ..27_000]);
    let diff = (m - &src).mapv(|v| v * v).sum().sqrt();
    let norm = src.mapv(|v| v * v).sum().sqrt();
    assert!(diff > 0.0, "the carried audio was not watermarked");
    assert!(diff < 0.2 * norm, "the mark is loud: {diff} against {norm}");
    assert!(marked.meta.has_audio && marked.meta.watermark.invisible);
    let payload = Payload::from_hex(marked.meta.watermark.payload.as_deref().unwrap()).unwrap();
    assert_ne!(payload.flags & FLAG_AUDIO, 0, "{payload:?}");
}

/// 1000 steps, the most a request may ask: UniPC's first timestep (999) repeats,
/// and the walk must start at index 0 as WanPipeline's `set_begin_index(0)` makes it.
#[test]
fn t2v_wan21_unipc_1000_steps() {
    check("t2v_21_1000_steps");
}

/// Image-to-video and video-to-video on schedules whose timesteps repeat run
/// to the end (diffusers' own I2V and V2V pipelines set no begin index and stop
/// on their last step there, so there is no reference to compare with).
#[test]
fn i2v_and_v2v_run_long_schedules_to_the_end() {
    for (name, steps) in [("i2v_21", 400), ("v2v_21_unipc", 1000)] {
        let case = fixture("wan_pipeline").join(name);
        let pipe = Pipeline::builder()
            .model(case.join("model"))
            .build()
            .unwrap();
        let req = request_of(&case).steps(steps);
        let clip = pipe
            .generate(&req, &mut Progress::none())
            .unwrap_or_else(|e| panic!("{name} at {steps} steps: {e}"));
        assert_eq!(
            clip.frames.shape()[0],
            req.frames.unwrap() as usize,
            "{name}"
        );
    }
}

/// A step count the model's scheduler config cannot walk (diffusers' walk turns
/// NaN) is refused before any work, naming a count that works.
#[test]
fn unwalkable_step_counts_are_refused_up_front() {
    let src = fixture("wan_pipeline").join("t2v_21").join("model");
    let d = sora_tests::workspace()
        .join("target")
        .join("scratch")
        .join("wan-no-lower-order-final");
    let _ = std::fs::remove_dir_all(&d);
    copy_dir(&src, &d);
    let cfg = d.join("scheduler").join("scheduler_config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    v["lower_order_final"] = serde_json::Value::Bool(false);
    std::fs::write(&cfg, v.to_string()).unwrap();
    let pipe = Pipeline::builder().model(&d).build().unwrap();
    let req = Request::text("x").size(32, 32).frames(5).steps(3).seed(1);
    let mut phases = Vec::new();
    let e = {
        let mut p = Progress::with_callback(|s| {
            phases.push(s.phase);
            true
        });
        pipe.generate(&req, &mut p).unwrap_err()
    };
    assert!(
        matches!(&e, Error::InvalidRequest(m) if m.contains("3 steps") && m.ends_with("1 step works")),
        "{e}"
    );
    assert!(
        phases.is_empty(),
        "work was done before the refusal: {phases:?}"
    );
    assert!(pipe.resolve(&req).is_err(), "resolve must refuse it too");
    pipe.generate(&req.steps(1), &mut Progress::none()).unwrap();
}

#[test]
fn same_seed_same_bytes_and_other_seed_differs() {
    let case = fixture("wan_pipeline").join("t2v_21");
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .build()
        .unwrap();
    let req = Request::text("a fox")
        .size(32, 32)
        .frames(5)
        .steps(2)
        .seed(7);
    let a = pipe.generate(&req, &mut Progress::none()).unwrap();
    let b = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(a.frames, b.frames);
    let c = pipe
        .generate(&req.clone().seed(8), &mut Progress::none())
        .unwrap();
    assert_ne!(a.frames, c.frames);
    assert_eq!(a.meta.seed, 7);
    assert_eq!(a.meta.family, "wan");
}

#[test]
fn bad_sizes_name_the_nearest_valid_values() {
    let case = fixture("wan_pipeline").join("t2v_21");
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .build()
        .unwrap();
    let e = pipe
        .generate(
            &Request::text("x").size(30, 32).frames(6).steps(1),
            &mut Progress::none(),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::InvalidRequest(_)), "{msg}");
    assert!(
        msg.contains("width 30") && msg.contains("16 or 32"),
        "{msg}"
    );
    assert!(msg.contains("frames 6") && msg.contains("5 or 9"), "{msg}");
}

#[test]
fn text_model_refuses_image_and_audio() {
    let case = fixture("wan_pipeline").join("t2v_21");
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .build()
        .unwrap();
    let img = ImageInput {
        pixels: ndarray::Array3::zeros((32, 32, 3)),
    };
    let e = pipe
        .generate(
            &Request::image(img, "x").size(32, 32).frames(5).steps(1),
            &mut Progress::none(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    let e = pipe
        .generate(
            &Request::text("x")
                .size(32, 32)
                .frames(5)
                .steps(1)
                .audio(true),
            &mut Progress::none(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
}

#[test]
fn progress_is_reported_per_step_and_cancel_stops_the_run() {
    let case = fixture("wan_pipeline").join("t2v_21");
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .build()
        .unwrap();
    let req = Request::text("x").size(32, 32).frames(5).steps(3).seed(1);
    let mut steps = Vec::new();
    {
        let mut p = Progress::with_callback(|s| {
            if s.phase == sora_core::Phase::Denoise {
                steps.push((s.step, s.total));
            }
            true
        });
        pipe.generate(&req, &mut p).unwrap();
    }
    assert_eq!(steps, vec![(1, 3), (2, 3), (3, 3)]);
    // The callback cancels after the first step.
    let mut p = Progress::with_callback(|s| s.phase != sora_core::Phase::Denoise);
    assert!(matches!(pipe.generate(&req, &mut p), Err(Error::Cancelled)));
    // A token cancelled before the run stops it at once.
    let token = CancelToken::new();
    token.cancel();
    let mut p = Progress::none().token(token);
    assert!(matches!(pipe.generate(&req, &mut p), Err(Error::Cancelled)));
}

#[test]
fn missing_tensor_in_a_folder_is_a_typed_error() {
    let src = fixture("wan_pipeline").join("t2v_21").join("model");
    let d = sora_tests::workspace()
        .join("target")
        .join("scratch")
        .join("wan-missing-tensor");
    let _ = std::fs::remove_dir_all(&d);
    copy_dir(&src, &d);
    let file = d
        .join("transformer")
        .join("diffusion_pytorch_model.safetensors");
    let tensors: Vec<(String, Tensor)> = read_tensors(&file)
        .into_iter()
        .filter(|(n, _)| n != "proj_out.weight")
        .collect();
    Tensor::write_safetensors(&tensors, &file).unwrap();
    match Pipeline::builder().model(&d).build() {
        Err(Error::WeightMismatch {
            component, missing, ..
        }) => {
            assert_eq!(component, "transformer");
            assert_eq!(missing, vec!["proj_out.weight".to_string()]);
        }
        Err(e) => panic!("expected WeightMismatch, got {e}"),
        Ok(_) => panic!("a folder with a missing tensor loaded"),
    }
    let report = sora_core::inspect::inspect(&d).unwrap();
    assert!(!report.ok);
    let t = report
        .components
        .iter()
        .find(|c| c.name == "transformer")
        .unwrap();
    assert_eq!(t.missing, vec!["proj_out.weight".to_string()]);
}

#[test]
fn batched_and_sequential_guidance_agree() {
    let case = fixture("wan_pipeline").join("t2v_21");
    let req = Request::text("a fox")
        .size(32, 32)
        .frames(5)
        .steps(3)
        .seed(3);
    let batched = Pipeline::builder()
        .model(case.join("model"))
        .watermarks(WatermarkPolicy::Off)
        .batch_guidance(true)
        .build()
        .unwrap()
        .generate(&req, &mut Progress::none())
        .unwrap();
    let sequential = Pipeline::builder()
        .model(case.join("model"))
        .watermarks(WatermarkPolicy::Off)
        .batch_guidance(false)
        .build()
        .unwrap()
        .generate(&req, &mut Progress::none())
        .unwrap();
    let a = Tensor::from_slice(batched.frames.as_slice().unwrap()).to_kind(Kind::Int);
    let b = Tensor::from_slice(sequential.frames.as_slice().unwrap()).to_kind(Kind::Int);
    let max = (&a - &b).abs().max().int64_value(&[]);
    assert!(
        max <= 1,
        "batched vs sequential guidance differ by {max}/255"
    );
}

/// An image of another shape than the request (64×32 for 32×32): refused
/// without `fit`, naming both shapes; `fit=crop` gives the frames of the centre
/// cut out by hand, `fit=pad` those of the image put on black bars by hand
/// (so neither stretches), and the two differ.
#[test]
fn image_of_another_shape_is_cropped_or_padded_never_stretched() {
    use ndarray::{s, Array3};
    use sora_core::Fit;
    let case = fixture("wan_pipeline").join("i2v_21");
    let pipe = Pipeline::builder()
        .model(case.join("model"))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap();
    let wide = Array3::from_shape_fn((32, 64, 3), |(y, x, c)| {
        (x * 3 + y * 2 + c * 60).min(255) as u8
    });
    let run = |pixels: Array3<u8>, fit: Option<Fit>| {
        let mut req = Request::image(ImageInput { pixels }, "a kite")
            .size(32, 32)
            .frames(5)
            .steps(2)
            .seed(3);
        req.fit = fit;
        pipe.generate(&req, &mut Progress::none())
    };
    let e = run(wide.clone(), None).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::InvalidRequest(_)), "{msg}");
    assert!(
        msg.contains("64x32 (aspect 2.000)") && msg.contains("32x32 (aspect 1.000)"),
        "{msg}"
    );
    assert!(msg.contains("--fit crop"), "{msg}");

    let crop = run(wide.clone(), Some(Fit::Crop)).unwrap();
    let by_hand = run(wide.slice(s![.., 16..48, ..]).to_owned(), None).unwrap();
    assert_eq!(crop.frames.shape(), &[5, 32, 32, 3]);
    assert_eq!(crop.frames, by_hand.frames, "crop is the centre square");

    let pad = run(wide.clone(), Some(Fit::Pad)).unwrap();
    let mut canvas = Array3::<u8>::zeros((64, 64, 3));
    canvas.slice_mut(s![16..48, .., ..]).assign(&wide);
    let by_hand = run(canvas, None).unwrap();
    assert_eq!(pad.frames, by_hand.frames, "pad is the image on black bars");
    assert_ne!(crop.frames, pad.frames);
}
