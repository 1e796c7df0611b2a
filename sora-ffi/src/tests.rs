//! Unit tests of the boundary itself (the C program in `tests/c/` drives the
//! same functions through the header).

use std::ffi::{c_char, CStr};
use std::ptr;

use crate::status::{run, sora_status};
use crate::*;

fn last_error() -> String {
    unsafe { CStr::from_ptr(sora_last_error()) }
        .to_str()
        .unwrap()
        .to_string()
}

fn c(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap()
}

#[test]
fn panics_become_a_status_and_a_message() {
    let st = run("sora_test", || panic!("boom"));
    assert_eq!(st, sora_status::SORA_ERR_PANIC);
    assert!(last_error().contains("boom"), "{}", last_error());
    assert!(last_error().contains("sora_test"));
    let st = run("sora_test", || Ok(()));
    assert_eq!(st, sora_status::SORA_OK);
    assert_eq!(last_error(), "");
}

#[test]
fn every_core_error_kind_maps_to_its_own_status() {
    use sora_core::Error;
    let cases: Vec<(Error, sora_status)> = vec![
        (Error::invalid("x"), sora_status::SORA_ERR_INVALID_ARGUMENT),
        (
            Error::UnknownFamily {
                class: "X".into(),
                supported: "Y".into(),
            },
            sora_status::SORA_ERR_WEIGHTS,
        ),
        (
            Error::Unsupported("x".into()),
            sora_status::SORA_ERR_UNSUPPORTED,
        ),
        (Error::Cancelled, sora_status::SORA_ERR_CANCELLED),
        (Error::Device("x".into()), sora_status::SORA_ERR_DEVICE),
        (Error::media("a.mp4", "x"), sora_status::SORA_ERR_IO),
        (Error::Numeric("x".into()), sora_status::SORA_ERR_RUNTIME),
    ];
    for (e, want) in cases {
        let msg = e.to_string();
        let st = run("sora_test", move || Err(e.into()));
        assert_eq!(st, want);
        assert_eq!(last_error(), msg);
    }
}

#[test]
fn status_names() {
    let name = |v: i32| {
        unsafe { CStr::from_ptr(sora_status_name(v)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "SORA_OK");
    assert_eq!(name(sora_status::SORA_ERR_IO as i32), "SORA_ERR_IO");
    assert_eq!(name(-1), "SORA_ERR_UNKNOWN");
}

#[test]
fn a_failed_set_leaves_the_request_unchanged() {
    let mut r: *mut sora_request = ptr::null_mut();
    unsafe {
        assert_eq!(
            sora_request_new_text(c("a cat").as_ptr(), &mut r),
            sora_status::SORA_OK
        );
        assert_eq!(
            sora_request_set_int(r, c("steps").as_ptr(), 4),
            sora_status::SORA_OK
        );
        assert_eq!(
            sora_request_set_int(r, c("steps").as_ptr(), 0),
            sora_status::SORA_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("steps"), "{}", last_error());
        assert_eq!((*r).inner.steps, Some(4));

        let px = [7u8; 2 * 2 * 3];
        assert_eq!(
            sora_request_set_image_rgb(r, px.as_ptr(), 2, 2),
            sora_status::SORA_OK
        );
        assert_eq!(
            sora_request_set_float(r, c("guidance").as_ptr(), 3.0),
            sora_status::SORA_OK
        );
        assert_eq!((*r).inner.guidance, Some(3.0));
        assert_eq!(
            (*r).inner.mode.name(),
            "image",
            "setting an option keeps the input"
        );
        assert_eq!(
            sora_request_set_video_rgb(r, px.as_ptr(), 1, 2, 2, 16.0, 2.0),
            sora_status::SORA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            (*r).inner.mode.name(),
            "image",
            "a refused input keeps the old one"
        );
        assert_eq!(
            sora_request_set_string(r, c("negative_prompt").as_ptr(), c("blur").as_ptr()),
            sora_status::SORA_OK
        );
        assert_eq!((*r).inner.negative_prompt.as_deref(), Some("blur"));
        assert_eq!(
            sora_request_set_int(r, c("colour").as_ptr(), 1),
            sora_status::SORA_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("`colour`"), "{}", last_error());
        sora_request_free(r);
    }
}

#[test]
fn request_set_parses_text_in_the_core() {
    let mut r: *mut sora_request = ptr::null_mut();
    unsafe {
        assert_eq!(
            sora_request_new_text(c("a cat").as_ptr(), &mut r),
            sora_status::SORA_OK
        );
        for (k, v) in [
            ("guidance_scale", "3.5"),
            ("num_inference_steps", "6"),
            ("guidance_scale_2", "2"),
        ] {
            assert_eq!(
                sora_request_set(r, c(k).as_ptr(), c(v).as_ptr()),
                sora_status::SORA_OK,
                "{k}={v}: {}",
                last_error()
            );
        }
        assert_eq!((*r).inner.guidance, Some(3.5));
        assert_eq!((*r).inner.steps, Some(6));
        assert_eq!((*r).inner.guidance_2, Some(2.0));
        for (k, v) in [("no_such_key", "1"), ("guidance", "lots"), ("steps", "2.5")] {
            assert_eq!(
                sora_request_set(r, c(k).as_ptr(), c(v).as_ptr()),
                sora_status::SORA_ERR_INVALID_ARGUMENT
            );
            assert!(last_error().contains(k), "{k}: {}", last_error());
        }
        assert_eq!(
            ((*r).inner.guidance, (*r).inner.steps),
            (Some(3.5), Some(6))
        );
        assert_eq!(
            sora_request_set(r, c("steps").as_ptr(), ptr::null()),
            sora_status::SORA_ERR_INVALID_ARGUMENT
        );
        sora_request_free(r);
    }
}

#[test]
fn path_inputs_are_unsupported_until_io_reads_them() {
    let mut r: *mut sora_request = ptr::null_mut();
    unsafe {
        assert_eq!(
            sora_request_new_text(c("a cat").as_ptr(), &mut r),
            sora_status::SORA_OK
        );
        let st = sora_request_set_image_path(r, c("/tmp/none.png").as_ptr());
        assert!(
            matches!(
                st,
                sora_status::SORA_ERR_UNSUPPORTED | sora_status::SORA_ERR_IO
            ),
            "{st:?}"
        );
        sora_request_free(r);
    }
}

#[test]
fn model_folder_errors_name_the_path() {
    let mut p: *mut sora_pipeline = ptr::null_mut();
    let dir = c("/nonexistent/sora-ffi-unit");
    let st = unsafe { sora_pipeline_new(dir.as_ptr(), ptr::null(), ptr::null(), 0, &mut p) };
    assert_eq!(st, sora_status::SORA_ERR_WEIGHTS);
    assert!(p.is_null());
    assert!(
        last_error().contains("/nonexistent/sora-ffi-unit"),
        "{}",
        last_error()
    );
}

#[test]
fn the_last_error_is_per_thread() {
    let st = unsafe { sora_request_new_text(ptr::null::<c_char>(), ptr::null_mut()) };
    assert_eq!(st, sora_status::SORA_ERR_INVALID_ARGUMENT);
    let here = last_error();
    assert!(!here.is_empty());
    let there = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(there, "");
    assert_eq!(last_error(), here);
}

#[test]
fn a_cancel_token_is_shared_across_threads() {
    let mut t: *mut sora_cancel = ptr::null_mut();
    unsafe {
        assert_eq!(sora_cancel_new(&mut t), sora_status::SORA_OK);
        let addr = t as usize;
        std::thread::spawn(move || {
            assert_eq!(
                sora_cancel_trigger(addr as *const sora_cancel),
                sora_status::SORA_OK
            );
        })
        .join()
        .unwrap();
        assert!((*t).token.is_cancelled());
        sora_cancel_free(t);
    }
}

#[test]
fn verify_json_reads_a_marked_clip_and_refuses_bad_paths() {
    use sora_core::safety::{video_mark, Payload};
    let dir = std::env::temp_dir().join(format!("sora-ffi-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (t, h, w) = (4usize, 96usize, 128usize);
    let mut frames = ndarray::Array4::<u8>::from_shape_fn((t, h, w, 3), |(f, y, x, c)| {
        ((x * 3 + y * 5 + f * 7 + c * 40) % 200 + 20) as u8
    });
    let p = Payload::new(0xabc_def0_1234, 1);
    for mut fr in frames.outer_iter_mut() {
        video_mark::embed_frame(fr.as_slice_mut().unwrap(), h, w, &p);
    }
    sora_core::io::write_png_sequence(&dir, frames.view()).unwrap();
    let path = c(dir.to_str().unwrap());
    let mut json: *mut c_char = ptr::null_mut();
    let st = unsafe { sora_verify_json(path.as_ptr(), &mut json) };
    assert_eq!(st, sora_status::SORA_OK, "{}", last_error());
    let text = unsafe { CStr::from_ptr(json) }
        .to_str()
        .unwrap()
        .to_string();
    unsafe { sora_string_free(json) };
    assert!(
        text.starts_with(&format!(
            "{{\"watermark\":{{\"detected\":true,\"payload\":\"{}\"",
            p.hex()
        )),
        "{text}"
    );
    assert!(
        text.contains("\"audio_watermark\":{\"detected\":false"),
        "{text}"
    );
    assert!(
        text.contains("\"credentials\":{\"present\":false,\"valid\":false,\"claims\":[],"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A signed MP4: the credentials are there and valid (not trusted).
    let mp4 = std::env::temp_dir().join(format!("sora-ffi-verify-{}.mp4", std::process::id()));
    sora_core::io::write_mp4(&mp4, frames.view(), 16.0, None).unwrap();
    let id =
        sora_core::safety::SigningIdentity::generate("ffi test", "ffi test CA", "sora", 1).unwrap();
    let manifest = sora_core::safety::credentials::ManifestInputs {
        generation: sora_core::safety::credentials::GenerationAssertion {
            generator: "sora".into(),
            family: "wan".into(),
            model: "m".into(),
            mode: "text".into(),
            prompt: None,
            negative_prompt: None,
            prompt_included: false,
            seed: 1,
            steps: 1,
            guidance: 1.0,
            guidance_2: None,
            width: w as u32,
            height: h as u32,
            frames: t as u32,
            fps: 16,
            audio: false,
            params: Default::default(),
            generation_id: "abcdef012345".into(),
            watermark: Default::default(),
        },
        consents: Vec::new(),
    };
    sora_core::safety::credentials::sign_file(
        &mp4,
        sora_core::safety::credentials::MediaFormat::Mp4,
        &manifest,
        &id,
    )
    .unwrap();
    let path = c(mp4.to_str().unwrap());
    let st = unsafe { sora_verify_json(path.as_ptr(), &mut json) };
    assert_eq!(st, sora_status::SORA_OK, "{}", last_error());
    let text = unsafe { CStr::from_ptr(json) }
        .to_str()
        .unwrap()
        .to_string();
    unsafe { sora_string_free(json) };
    assert!(
        text.contains("\"credentials\":{\"present\":true,\"valid\":true,"),
        "{text}"
    );
    assert!(text.contains("\"trusted\":false"), "{text}");
    let _ = std::fs::remove_file(&mp4);

    let missing = c("/nonexistent/clip.mp4");
    let st = unsafe { sora_verify_json(missing.as_ptr(), &mut json) };
    assert_eq!(st, sora_status::SORA_ERR_IO, "{}", last_error());
    assert!(json.is_null());
    let st = unsafe { sora_verify_json(ptr::null(), &mut json) };
    assert_eq!(st, sora_status::SORA_ERR_INVALID_ARGUMENT);
}

#[test]
fn conditions_are_added_from_files_and_bad_ones_refused() {
    let dir = std::env::temp_dir().join(format!("sora_ffi_cond_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("first.png");
    sora_core::io::write_image(&png, ndarray::Array3::<u8>::from_elem((4, 6, 3), 9).view())
        .unwrap();
    let path = c(png.to_str().unwrap());
    let mut r: *mut sora_request = ptr::null_mut();
    unsafe {
        assert_eq!(
            sora_request_new_text(c("a cat").as_ptr(), &mut r),
            sora_status::SORA_OK
        );
        assert_eq!(
            sora_request_add_condition(r, path.as_ptr(), -1, 0.5),
            sora_status::SORA_OK
        );
        assert_eq!(
            sora_request_add_condition(r, path.as_ptr(), 0, 1.5),
            sora_status::SORA_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("[0, 1]"), "{}", last_error());
        let missing = c(dir.join("none.png").to_str().unwrap());
        assert_ne!(
            sora_request_add_condition(r, missing.as_ptr(), 0, 1.0),
            sora_status::SORA_OK
        );
        let req: &sora_request = &*r;
        let conds = &req.inner.conditions;
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].index, -1);
        assert_eq!(conds[0].frames.shape(), &[1, 4, 6, 3]);
        sora_request_free(r);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
