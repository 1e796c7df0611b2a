//! The pipeline's physics policy (`PipelineBuilder::physics`, option
//! `physics`): `report` attaches the clip's report without changing a byte of
//! it; `rerank:N` tries N seeds and keeps the lowest plausibility penalty,
//! listing every candidate; the same through `generate_to_file`.

use sora_core::physics::{plausibility_penalty, PhysicsPolicy};
use sora_core::{io, Error, Pipeline, Progress, Request};
use sora_tests::fixture;

fn pipe(policy: PhysicsPolicy) -> Pipeline {
    Pipeline::builder()
        .model(fixture("wan_pipeline").join("t2v_21").join("model"))
        .physics(policy)
        .build()
        .unwrap()
}

fn request() -> Request {
    Request::text("a red ball bounces on a wooden floor")
        .size(32, 32)
        .frames(5)
        .steps(2)
        .seed(11)
}

#[test]
fn report_attaches_the_report_and_changes_no_frame() {
    let plain = pipe(PhysicsPolicy::Off)
        .generate(&request(), &mut Progress::none())
        .unwrap();
    assert!(plain.meta.physics.is_none());
    let clip = pipe(PhysicsPolicy::Report)
        .generate(&request(), &mut Progress::none())
        .unwrap();
    assert_eq!(clip.frames, plain.frames);
    let report = clip.meta.physics.as_ref().expect("a report");
    for m in [
        "flicker",
        "warping_error",
        "motion_smoothness",
        "dynamic_degree",
    ] {
        assert!(report.metrics.contains_key(m), "{m} missing");
    }
    let json: serde_json::Value = serde_json::from_str(&clip.meta.to_json()).unwrap();
    assert!(json["physics"]["metrics"].is_object());
    assert!(json["physics_candidates"].as_array().unwrap().is_empty());
}

#[test]
fn rerank_keeps_the_lowest_penalty_of_n_seeds() {
    let clip = pipe(PhysicsPolicy::Rerank(3))
        .generate(&request(), &mut Progress::none())
        .unwrap();
    let c = &clip.meta.physics_candidates;
    assert_eq!(
        c.iter().map(|c| c.seed).collect::<Vec<_>>(),
        vec![11, 12, 13]
    );
    for cand in c {
        assert_eq!(cand.penalty, plausibility_penalty(&cand.report));
    }
    let best = c
        .iter()
        .fold(
            None::<&sora_core::physics::PhysicsCandidate>,
            |b, x| match b {
                Some(b) if b.penalty <= x.penalty => Some(b),
                _ => Some(x),
            },
        )
        .unwrap();
    assert_eq!(clip.meta.seed, best.seed);
    // The kept clip is the plain run of that seed.
    let again = pipe(PhysicsPolicy::Off)
        .generate(&request().seed(best.seed), &mut Progress::none())
        .unwrap();
    assert_eq!(clip.frames, again.frames);
}

#[test]
fn to_file_reports_and_reranks_and_refuses_audio_only_outputs() {
    let dir = sora_tests::workspace().join("target/scratch/physics_policy");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = pipe(PhysicsPolicy::Report)
        .generate_to_file(&request(), &mut Progress::none(), dir.join("report"))
        .unwrap();
    assert!(meta.physics.is_some());

    let ranked = pipe(PhysicsPolicy::Rerank(2));
    let meta = ranked
        .generate_to_file(&request(), &mut Progress::none(), dir.join("rerank"))
        .unwrap();
    assert_eq!(meta.physics_candidates.len(), 2);
    let in_memory = ranked.generate(&request(), &mut Progress::none()).unwrap();
    assert_eq!(
        io::read_png_sequence(&dir.join("rerank")).unwrap(),
        in_memory.frames
    );
    assert_eq!(meta.seed, in_memory.meta.seed);

    let err = pipe(PhysicsPolicy::Report)
        .generate_to_file(&request(), &mut Progress::none(), dir.join("a.wav"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(!dir.join("a.wav").exists());
}

#[test]
fn the_option_parses_by_name() {
    let b = Pipeline::builder().option("physics", "rerank:2").unwrap();
    let _ = b;
    assert!(matches!(
        Pipeline::builder().option("physics", "sometimes"),
        Err(Error::InvalidRequest(_))
    ));
}

/// The experimental motion guidance (option `motion_guidance`): off changes
/// nothing, on acts only from its start step, is recorded in the metadata, and
/// its settings are checked when the pipeline is built.
#[test]
fn motion_guidance_acts_from_its_start_and_is_recorded() {
    let model = fixture("wan_pipeline").join("t2v_21").join("model");
    let with = |g: &str| {
        Pipeline::builder()
            .model(&model)
            .option("motion_guidance", g)
            .unwrap()
            .build()
            .unwrap()
    };
    // 17 frames: 5 latent frames, enough for the hook (3 or more after the first).
    let req = request().frames(17).steps(4);
    let plain = with("off").generate(&req, &mut Progress::none()).unwrap();
    assert!(plain.meta.motion_guidance.is_none());
    let late = with("0.8@0.5")
        .generate(&req, &mut Progress::none())
        .unwrap();
    assert_eq!(late.meta.motion_guidance.as_deref(), Some("0.8@0.5"));
    assert_ne!(late.frames, plain.frames, "the hook changed nothing");
    let json: serde_json::Value = serde_json::from_str(&late.meta.to_json()).unwrap();
    assert_eq!(json["motion_guidance"], "0.8@0.5");
    // Acting on the last step only differs from acting on the last two.
    let last = with("0.8@0.75")
        .generate(&req, &mut Progress::none())
        .unwrap();
    assert_ne!(last.frames, late.frames);
    assert_ne!(last.frames, plain.frames);
    for bad in ["2", "0.5@1.0", "smooth"] {
        let r = Pipeline::builder()
            .model(&model)
            .option("motion_guidance", bad);
        assert!(matches!(r, Err(Error::InvalidRequest(_))), "{bad}");
    }
}
