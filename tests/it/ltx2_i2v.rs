//! LTX-2 image-to-video against diffusers 0.42.1 `LTX2ImageToVideoPipeline`
//! (fixture `ltx2_i2v`: tiny LTX-2.0 and LTX-2.3 folders saved as
//! `LTX2ImageToVideoPipeline`, the video VAE with random latent statistics and
//! `scaling_factor` 0.8, a 110×75 PNG resized to 96×64, `image_crf=0`).
//! Checked: the preprocessed image and the first frame's normalised latents;
//! the denoised video and audio latents within 1e-4 of their scale with all
//! guidance terms (CFG, STG, modality, rescale) and with none, the first
//! latent frame kept exactly at the image's latents; the image matters; the
//! decoded frames and waveform through [`Pipeline`] (marks off) as close as
//! T2V's; and the default `image_crf` re-compression runs and changes the result.

use sora_core::denoise::{denoise_latents, WalkOptions};
use sora_core::models::ltx2::image::preprocess_image;
use sora_core::models::ltx2::Ltx2Family;
use sora_core::pipeline::request::Request;
use sora_core::weights::ModelFolder;
use sora_core::{Device, Dtype, ImageInput, Mode, Pipeline, Progress, WatermarkPolicy};
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err};
use tch::Tensor;

use crate::ltx2_pipeline::{assert_decoded_close, request, unpacked};

const TOL: f64 = 1e-4;

fn image() -> ImageInput {
    let path = fixture("ltx2_i2v").join("image.png");
    ImageInput {
        pixels: sora_core::io::read_image(&path).unwrap(),
    }
}

fn runs(layout: &str) -> Vec<serde_json::Value> {
    let dir = fixture("ltx2_i2v").join(layout);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    v.as_array().unwrap().clone()
}

/// The fixture's run `r` as an image-to-video request (`image_crf` as run).
fn i2v_request(r: &serde_json::Value, img: ImageInput) -> Request {
    let mut req = request(r);
    req.mode = Mode::Image(img);
    req.set("image_crf", r["image_crf"].as_i64().unwrap())
        .unwrap();
    req
}

fn load(layout: &str) -> Ltx2Family {
    let f = ModelFolder::open(fixture("ltx2_i2v").join(layout)).unwrap();
    Ltx2Family::load(&f, Device::Cpu, Dtype::F32).unwrap()
}

/// Denoised (video de-normalised as `output_type="latent"` returns it,
/// normalised video, audio) of `req`.
fn denoise(fam: &mut Ltx2Family, req: &Request) -> (Tensor, Tensor, Tensor) {
    let x = denoise_latents(fam, req, &WalkOptions::default()).unwrap();
    let (video, audio) = unpacked(fam, req, x);
    let denorm = fam.video_vae().denormalize_latents(&video).unwrap();
    (denorm, video, audio)
}

fn latent_parity(layout: &str) {
    let dir = fixture("ltx2_i2v").join(layout);
    let want = read_tensors(&dir.join("latents.safetensors"));
    let mut fam = load(layout);
    // The image as the pipeline preprocesses it (Pillow's bilinear resize).
    let img = image();
    let pre = preprocess_image(img.pixels.view(), 96, 64, 0).unwrap();
    assert_close(&format!("{layout} image"), &pre, &want["image"], 1e-6);
    let init = fam.image_latents(img.pixels.view(), 96, 64, 0).unwrap();
    assert_close(&format!("{layout} first frame"), &init, &want["init"], TOL);
    for r in runs(layout) {
        let name = r["name"].as_str().unwrap();
        let what = format!("{layout} i2v {name}");
        let req = i2v_request(&r, image());
        let (video, normalised, audio) = denoise(&mut fam, &req);
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
        // The first latent frame is the image's, untouched by every step.
        let first = normalised.narrow(2, 0, 1);
        assert!(
            first.equal(&init),
            "{what}: the first latent frame moved from the image's latents"
        );
        if name == "none" {
            // The image matters: a flipped one moves the latents far.
            let mut flipped = image();
            flipped.pixels.invert_axis(ndarray::Axis(1));
            let (v, _, _) = denoise(&mut fam, &i2v_request(&r, flipped));
            let e = rel_max_err(&v, wv);
            eprintln!("{what} with the image flipped: video {e:.2e}");
            assert!(e > 100.0 * TOL, "{e}");
        }
    }
}

#[test]
fn ltx2_20_i2v_latents_match_diffusers() {
    latent_parity("v20");
}

#[test]
fn ltx2_23_i2v_latents_match_diffusers() {
    latent_parity("v23");
}

fn pipeline(layout: &str) -> Pipeline {
    Pipeline::builder()
        .model(fixture("ltx2_i2v").join(layout))
        .watermarks(WatermarkPolicy::Off)
        .build()
        .unwrap_or_else(|e| panic!("{layout}: {e}"))
}

fn decoded_parity(layout: &str) {
    let dir = fixture("ltx2_i2v").join(layout);
    let want = read_tensors(&dir.join("decoded.safetensors"));
    let pipe = pipeline(layout);
    for r in runs(layout) {
        let name = r["name"].as_str().unwrap();
        let what = format!("{layout} i2v {name}");
        let clip = pipe
            .generate(&i2v_request(&r, image()), &mut Progress::none())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_decoded_close(
            &what,
            &clip,
            &want[&format!("{name}.frames")],
            &want[&format!("{name}.waveform")],
        );
        if name == "none" && layout == "v20" {
            // The default `image_crf` (33) re-compresses the image first: it
            // runs and moves the first frame, by a little.
            let mut req = request(&r);
            req.mode = Mode::Image(image());
            let other = pipe
                .generate(&req, &mut Progress::none())
                .unwrap_or_else(|e| panic!("{what} default image_crf: {e}"));
            let first =
                |c: &sora_core::Clip| c.frames.index_axis(ndarray::Axis(0), 0).mapv(f64::from);
            let moved = (&first(&other) - &first(&clip))
                .mapv(f64::abs)
                .mean()
                .unwrap();
            eprintln!("{what} with image_crf 33: the first frame moves {moved:.2}/255 on average");
            assert!(moved > 0.05 && moved < 40.0, "{what}: {moved}/255");
        }
    }
}

#[test]
fn ltx2_20_i2v_frames_and_waveform_match_diffusers() {
    decoded_parity("v20");
}

#[test]
fn ltx2_23_i2v_frames_and_waveform_match_diffusers() {
    decoded_parity("v23");
}

/// PSNR of `b` against `a` (over `b`'s size), in dB.
fn psnr(a: &ndarray::Array3<u8>, b: &ndarray::Array3<u8>) -> f64 {
    let (h, w, _) = b.dim();
    let a = a.slice(ndarray::s![..h, ..w, ..]).mapv(f64::from);
    let mse = (&a - &b.mapv(f64::from)).mapv(|d| d * d).mean().unwrap();
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// The default `image_crf` (33) stands in for diffusers' libx264 round trip:
/// the same even crop, and a loss of about the same size on the fixture's
/// image (PSNR within 2 dB of x264's), though not the same pixels.
#[test]
fn ltx2_image_crf_stands_in_for_x264() {
    use sora_core::models::ltx2::image::crf_to_qp;
    let dir = fixture("ltx2_i2v");
    let src = sora_core::io::read_image(&dir.join("image.png")).unwrap();
    let x264 = sora_core::io::read_image(&dir.join("image_crf33.png")).unwrap();
    let ours = sora_core::io::recompress_image(src.view(), crf_to_qp(33)).unwrap();
    assert_eq!(ours.dim(), x264.dim(), "the even crop");
    let (p_x264, p_ours, p_between) = (psnr(&src, &x264), psnr(&src, &ours), psnr(&x264, &ours));
    eprintln!(
        "image_crf 33 on the fixture image: x264 {p_x264:.2} dB, sora {p_ours:.2} dB from the source; \
         {p_between:.2} dB between the two"
    );
    assert!((p_x264 - p_ours).abs() <= 2.0, "{p_x264} vs {p_ours}");
    assert!(p_between > 25.0, "{p_between}");
}
