//! The prompt gate and the identity check inside the pipeline: a refused
//! prompt stops before any compute (no progress event, no file), a valid
//! consent lets it run, no registry lets everything through, a bad registry
//! fails the build, and a (fake) identity check refusing a face stops the
//! run on the input image or on the generated frames.

use std::sync::{Arc, Mutex};

use ndarray::{Array3, ArrayView4};
use sora_core::safety::identity::{FrameSource, IdentityCheck};
use sora_core::{Error, ErrorKind, ImageInput, Pipeline, Progress, Request};
use sora_tests::fixture;

use crate::safety_gate::registry_path;

fn model() -> std::path::PathBuf {
    fixture("wan_pipeline").join("t2v_21").join("model")
}

fn small(prompt: &str) -> Request {
    Request::text(prompt)
        .size(32, 32)
        .frames(5)
        .steps(2)
        .guidance(5.0)
        .seed(7)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = sora_tests::workspace()
        .join("target")
        .join("test-scratch")
        .join("safety");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

/// Generates `req`, counting progress events.
fn run(pipe: &Pipeline, req: &Request) -> (sora_core::Result<sora_core::Clip>, usize) {
    let mut calls = 0;
    let out = {
        let mut p = Progress::with_callback(|_| {
            calls += 1;
            true
        });
        pipe.generate(req, &mut p)
    };
    (out, calls)
}

#[test]
fn the_gate_runs_before_any_compute_and_a_consent_opens_it() {
    let pipe = Pipeline::builder()
        .model(model())
        .safety_registry(registry_path())
        .owner_key("studio-a")
        .build()
        .unwrap();
    let prompt = "a close-up of Т0m Н4n1ey smiling"; // Cyrillic T, H; leetspeak
    let (out, calls) = run(&pipe, &small(prompt));
    let Err(e) = out else {
        panic!("the prompt was not refused")
    };
    assert_eq!(calls, 0, "no phase may start");
    assert_eq!(e.kind(), ErrorKind::ConsentRequired);
    match &e {
        Error::ConsentRequired {
            who, normalized, ..
        } => {
            assert_eq!(who, "Tom Hanley");
            assert_eq!(normalized, "a close up of tom haniey smiling");
        }
        other => panic!("{other}"),
    }
    // Straight to a file: refused, nothing written.
    let out = scratch("refused.mp4");
    let e = pipe
        .generate_to_file(&small(prompt), &mut Progress::none(), &out)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConsentRequired);
    assert!(!out.exists());
    // Protected characters are refused whatever the consent.
    let e = run(
        &pipe,
        &small("Captain Starfall saves the day").consent("tom-studio"),
    )
    .0
    .err()
    .unwrap();
    assert_eq!(e.kind(), ErrorKind::ProtectedContent);
    // An expired consent is refused; a valid one generates.
    let e = run(&pipe, &small(prompt).consent("tom-old"))
        .0
        .err()
        .unwrap();
    assert!(e.to_string().contains("expired"), "{e}");
    let (clip, calls) = run(&pipe, &small(prompt).consent("tom-studio"));
    assert_eq!(clip.unwrap().frames.shape(), &[5, 32, 32, 3]);
    assert!(calls > 0);
    // The consent also goes through the request's parameter path.
    let mut req = small(prompt);
    req.set("consent", "tom-studio").unwrap();
    assert_eq!(req.consents, vec!["tom-studio".to_string()]);
}

#[test]
fn no_registry_lets_every_prompt_through_and_a_bad_one_fails_the_build() {
    let pipe = Pipeline::builder().model(model()).build().unwrap();
    let (clip, _) = run(&pipe, &small("Tom Hanley and Captain Starfall"));
    assert!(clip.is_ok());
    let bad = scratch("bad_registry.json");
    std::fs::write(&bad, r#"{"people": [{"names": ["Tom Hanley"], "consents": [{"id": "x", "grantee": "g", "expires": "2026-02-30T00:00:00Z"}]}]}"#).unwrap();
    let e = Pipeline::builder()
        .model(model())
        .safety_registry(bad.as_path())
        .build()
        .err()
        .unwrap();
    assert!(matches!(e, Error::Registry { .. }), "{e}");
    assert!(
        e.to_string().contains("people[0].consents[0].expires"),
        "{e}"
    );
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
}

/// A stand-in face recogniser: "sees" `who` in the sources listed, and
/// records every call.
struct FakeFaces {
    who: &'static str,
    on: fn(FrameSource) -> bool,
    calls: Mutex<Vec<(FrameSource, usize)>>,
}

impl IdentityCheck for FakeFaces {
    fn people_in(
        &self,
        frames: ArrayView4<'_, u8>,
        source: FrameSource,
    ) -> sora_core::Result<Vec<String>> {
        self.calls.lock().unwrap().push((source, frames.shape()[0]));
        Ok(if (self.on)(source) {
            vec![self.who.to_string()]
        } else {
            Vec::new()
        })
    }
}

#[test]
fn an_identity_check_refuses_faces_in_inputs_and_outputs() {
    let outputs = Arc::new(FakeFaces {
        who: "TOM HANLEY",
        on: |s| matches!(s, FrameSource::Output { .. }),
        calls: Mutex::new(Vec::new()),
    });
    let pipe = Pipeline::builder()
        .model(model())
        .safety_registry(registry_path())
        .owner_key("studio-a")
        .identity_check(outputs.clone())
        .build()
        .unwrap();
    // The prompt names nobody: the generated frames are refused.
    let (out, calls) = run(&pipe, &small("a man on a beach"));
    match out.err().unwrap() {
        Error::ConsentRequired {
            who, normalized, ..
        } => {
            assert_eq!(who, "Tom Hanley");
            assert!(
                normalized.contains("generated frames from 0"),
                "{normalized}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(
        calls > 0,
        "refused after denoising, on the first decoded chunk"
    );
    let seen = outputs.calls.lock().unwrap().clone();
    assert!(
        matches!(seen[0], (FrameSource::Output { first: 0 }, n) if n > 0),
        "{seen:?}"
    );
    // Streaming to a file: refused, nothing left behind.
    let path = scratch("face.mp4");
    let e = pipe
        .generate_to_file(&small("a man on a beach"), &mut Progress::none(), &path)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConsentRequired);
    assert!(!path.exists());
    // With the person's consent the same frames are allowed.
    let (clip, _) = run(&pipe, &small("a man on a beach").consent("tom-studio"));
    assert!(clip.is_ok());

    // Someone the registry does not know, seen in the input image: refused
    // before any compute.
    let inputs = Arc::new(FakeFaces {
        who: "Somebody Unregistered",
        on: |s| s == FrameSource::InputImage,
        calls: Mutex::new(Vec::new()),
    });
    let pipe = Pipeline::builder()
        .model(model())
        .identity_check(inputs.clone())
        .build()
        .unwrap();
    let img = ImageInput {
        pixels: Array3::from_elem((32, 32, 3), 100u8),
    };
    let req = Request::image(img, "waves")
        .size(32, 32)
        .frames(5)
        .steps(2)
        .seed(7);
    let (out, calls) = run(&pipe, &req);
    let e = out.err().unwrap();
    assert_eq!(calls, 0);
    assert!(e.to_string().contains("not in the consent registry"), "{e}");
    assert_eq!(
        inputs.calls.lock().unwrap()[0],
        (FrameSource::InputImage, 1)
    );
}
