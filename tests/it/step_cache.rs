//! Step caching (first-block cache) through the whole pipeline, on the tiny
//! random Wan fixtures: threshold 0 changes no byte, a large threshold reuses
//! steps (with batched and with sequential guidance, one state per expert), the
//! counts reach the clip's JSON metadata, and bad thresholds are refused.

use std::path::PathBuf;

use sora_core::nn::step_cache::StepCacheStats;
use sora_core::{Clip, Error, Pipeline, Progress, Request, WatermarkPolicy};
use sora_tests::fixture;
use tch::{Kind, Tensor};

/// Steps of the test requests: enough for several reusable steps between the
/// always-computed first and last ones.
const STEPS: u32 = 8;

fn model(case: &str) -> PathBuf {
    fixture("wan_pipeline").join(case).join("model")
}

fn request() -> Request {
    Request::text("a red fox runs through fresh snow")
        .negative_prompt("blurry")
        .size(32, 32)
        .frames(5)
        .steps(STEPS)
        .guidance(5.0)
        .seed(7)
}

fn run(case: &str, batch: bool, cache: Option<f32>, req: &Request) -> Clip {
    Pipeline::builder()
        .model(model(case))
        .watermarks(WatermarkPolicy::Off)
        .batch_guidance(batch)
        .step_cache(cache)
        .build()
        .unwrap()
        .generate(req, &mut Progress::none())
        .unwrap()
}

/// Max |a − b| over the frames, in 1/255.
fn max_diff(a: &Clip, b: &Clip) -> i64 {
    assert_eq!(a.frames.shape(), b.frames.shape());
    let a = Tensor::from_slice(a.frames.as_slice().unwrap()).to_kind(Kind::Int);
    let b = Tensor::from_slice(b.frames.as_slice().unwrap()).to_kind(Kind::Int);
    (&a - &b).abs().max().int64_value(&[])
}

fn stats(c: &Clip) -> StepCacheStats {
    c.meta.step_cache.expect("step-cache stats in the metadata")
}

#[test]
fn threshold_zero_gives_the_uncached_bytes() {
    let req = request();
    for batch in [true, false] {
        let plain = run("t2v_21", batch, None, &req);
        let zero = run("t2v_21", batch, Some(0.0), &req);
        assert!(plain.meta.step_cache.is_none());
        assert_eq!(
            plain.frames, zero.frames,
            "threshold 0 changed the frames (batch_guidance {batch})"
        );
        let forwards = if batch { STEPS } else { 2 * STEPS };
        assert_eq!(
            stats(&zero),
            StepCacheStats {
                threshold: 0.0,
                computed: forwards,
                reused: 0
            }
        );
    }
}

#[test]
fn a_large_threshold_reuses_every_middle_step_batched() {
    let req = request();
    let plain = run("t2v_21", true, None, &req);
    let cached = run("t2v_21", true, Some(1e6), &req);
    // Only the first (warm-up) and the last step compute.
    assert_eq!(
        stats(&cached),
        StepCacheStats {
            threshold: 1e6,
            computed: 2,
            reused: STEPS - 2
        }
    );
    // The run got past the loop's NaN/infinity check and made other frames.
    assert_eq!(cached.frames.shape(), plain.frames.shape());
    assert!(
        max_diff(&cached, &plain) > 0,
        "reusing steps changed nothing"
    );
}

#[test]
fn a_large_threshold_reuses_steps_with_sequential_guidance() {
    let req = request();
    let plain = run("t2v_21", false, None, &req);
    let cached = run("t2v_21", false, Some(1e6), &req);
    // Two branches (cond, uncond), each computing its first and last step.
    assert_eq!(
        stats(&cached),
        StepCacheStats {
            threshold: 1e6,
            computed: 4,
            reused: 2 * (STEPS - 2)
        }
    );
    assert!(
        max_diff(&cached, &plain) > 0,
        "reusing steps changed nothing"
    );
    // The same steps reused as one batched forward: the same frames within
    // the batched/sequential tolerance of the uncached runs.
    let batched = run("t2v_21", true, Some(1e6), &req);
    let d = max_diff(&cached, &batched);
    assert!(d <= 2, "sequential and batched caching differ by {d}/255");
}

#[test]
fn a_moderate_threshold_computes_some_and_reuses_some() {
    let req = request();
    let plain = run("t2v_21", true, None, &req);
    let cached = run("t2v_21", true, Some(0.2), &req);
    let s = stats(&cached);
    assert_eq!(s.computed + s.reused, STEPS);
    assert!(s.computed >= 2, "{s:?}");
    if s.reused == 0 {
        assert_eq!(cached.frames, plain.frames);
    }
}

#[test]
fn each_expert_keeps_its_own_cache() {
    // t2v_22_experts: boundary 875 of 1000; with Euler, shift 3 and 6 steps the
    // high-noise expert takes steps 0–1 and the low-noise expert steps 2–5.
    let req = Request::text("a city street at night with neon signs")
        .size(32, 32)
        .frames(5)
        .steps(6)
        .guidance(4.0)
        .guidance_2(2.0)
        .seed(13);
    let cached = run("t2v_22_experts", true, Some(1e6), &req);
    // Expert 1 computes step 0 and reuses step 1; expert 2 has nothing cached
    // at step 2 (computes), reuses steps 3–4, computes the last step.
    assert_eq!(
        stats(&cached),
        StepCacheStats {
            threshold: 1e6,
            computed: 3,
            reused: 3
        }
    );
}

#[test]
fn stats_are_in_the_json_and_reset_per_generation() {
    let pipe = Pipeline::builder()
        .model(model("t2v_21"))
        .step_cache(1e6)
        .build()
        .unwrap();
    let req = request();
    let a = pipe.generate(&req, &mut Progress::none()).unwrap();
    let b = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(
        a.frames, b.frames,
        "a second run on the same pipeline differs"
    );
    for clip in [&a, &b] {
        let v: serde_json::Value = serde_json::from_str(&clip.meta_json()).unwrap();
        let sc = &v["step_cache"];
        assert_eq!(sc["threshold"].as_f64(), Some(1e6), "{v}");
        assert_eq!(sc["computed"].as_u64(), Some(2), "{v}");
        assert_eq!(sc["reused"].as_u64(), Some(u64::from(STEPS - 2)), "{v}");
        // Existing fields are still there.
        assert_eq!(v["steps"].as_u64(), Some(u64::from(STEPS)), "{v}");
    }
    let plain = run("t2v_21", true, None, &req);
    let v: serde_json::Value = serde_json::from_str(&plain.meta_json()).unwrap();
    assert!(v.get("step_cache").is_some_and(|s| s.is_null()), "{v}");
}

#[test]
fn bad_thresholds_are_invalid_requests() {
    for bad in [-0.1, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        match Pipeline::builder()
            .model(model("t2v_21"))
            .step_cache(bad)
            .build()
        {
            Err(Error::InvalidRequest(m)) => assert!(m.contains("step-cache"), "{m}"),
            Err(e) => panic!("threshold {bad}: expected InvalidRequest, got {e}"),
            Ok(_) => panic!("threshold {bad} was accepted"),
        }
    }
}
