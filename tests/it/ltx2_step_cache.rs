//! Step caching on LTX-2 (tiny LTX-2.3 pipeline of the `ltx2_pipeline`
//! fixture, every guidance term on: every branch, the modality-isolated one
//! too, is one transformer call a step): threshold 0
//! walks to the uncached latents bit for bit, batched and one forward per
//! branch; a large threshold runs the later blocks only on the computed
//! steps (counted as block copies under sequential offload) with one
//! decision for video and audio, and stays finite and close.

use sora_core::denoise::{walk, Latents, WalkOptions, WalkReport};
use sora_core::family::ModelFamily;
use sora_core::models::ltx2::Ltx2Family;
use sora_core::nn::step_cache::StepCacheStats;
use sora_core::nn::Offload;
use sora_core::pipeline::request::Request;
use sora_core::pipeline::Noise;
use sora_core::weights::ModelFolder;
use sora_core::{Device, Dtype, Progress};
use sora_tests::{fixture, rel_max_err};

use crate::ltx2_pipeline::request as fixture_request;

/// Steps of the test walks: several reusable steps between the always
/// computed first and last ones.
const STEPS: u32 = 8;

/// Steps of the reuse test: on random weights the first block's residual
/// moves 30 % or more a step even at 40 steps (a trained model's moves far
/// less), so reuse needs a large threshold and many steps.
const LONG: u32 = 40;

fn load(offload: Offload) -> Ltx2Family {
    let folder = ModelFolder::open(fixture("ltx2_pipeline").join("v23")).unwrap();
    Ltx2Family::load_offloaded(&folder, Device::Cpu, Dtype::F32, offload).unwrap()
}

/// The fixture's run with every guidance term (CFG, STG, modality), at `steps`.
fn request(steps: u32) -> Request {
    let dir = fixture("ltx2_pipeline").join("v23");
    let runs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "all")
        .unwrap();
    fixture_request(run).steps(steps)
}

/// `denoise_latents` with the walk's report.
fn walk_with(fam: &mut Ltx2Family, req: &Request, opts: &WalkOptions) -> (Latents, WalkReport) {
    let _guard = tch::no_grad_guard();
    let r = fam.rules().resolve(req).unwrap();
    let mut gen = fam.begin(&r).unwrap();
    let start = gen.start(&mut Noise::new(r.seed)).unwrap();
    walk(
        gen.as_mut(),
        start,
        opts,
        Device::Cpu,
        &mut Progress::none(),
    )
    .unwrap()
}

fn opts(batch: bool, cache: Option<f32>) -> WalkOptions {
    WalkOptions {
        batch_guidance: batch,
        step_cache: cache,
        ..WalkOptions::default()
    }
}

fn same(a: &Latents, b: &Latents) -> bool {
    a.video.equal(&b.video) && a.audio.as_ref().unwrap().equal(b.audio.as_ref().unwrap())
}

#[test]
fn ltx2_threshold_zero_gives_the_uncached_latents() {
    let mut fam = load(Offload::None);
    let req = request(STEPS);
    for batch in [true, false] {
        let (plain, report) = walk_with(&mut fam, &req, &opts(batch, None));
        assert!(report.step_cache.is_none());
        let (zero, report) = walk_with(&mut fam, &req, &opts(batch, Some(0.0)));
        assert!(
            same(&plain, &zero),
            "threshold 0 changed the latents (batch_guidance {batch})"
        );
        // Batched: one forward a step (every branch decided together);
        // sequential: one for each of the four branches.
        let forwards = if batch { STEPS } else { 4 * STEPS };
        assert_eq!(
            report.step_cache,
            Some(StepCacheStats {
                threshold: 0.0,
                computed: forwards,
                reused: 0
            })
        );
    }
}

#[test]
fn ltx2_a_large_threshold_skips_the_later_blocks_of_both_streams() {
    // Sequential offload copies each block before it runs: the copies count
    // the blocks that ran.
    let mut fam = load(Offload::Sequential);
    let layers = fam.transformer().config().num_layers as u64;
    let req = request(LONG);
    let (plain, _) = walk_with(&mut fam, &req, &opts(true, None));
    let mut run = |cache: f32| {
        let before = fam.transformer().block_uploads();
        let (x, report) = walk_with(&mut fam, &req, &opts(true, Some(cache)));
        let blocks = fam.transformer().block_uploads() - before;
        (x, report.step_cache.unwrap(), blocks)
    };
    let (zero, zero_stats, zero_blocks) = run(0.0);
    assert!(
        same(&plain, &zero),
        "streamed, threshold 0 changed the latents"
    );
    assert_eq!(zero_stats.reused, 0);
    assert_eq!(zero_blocks, u64::from(LONG) * layers);

    let err = |x: &Latents| {
        let audio = x.audio.as_ref().unwrap();
        for t in [&x.video, audio] {
            assert!(t.isfinite().all().int64_value(&[]) != 0);
        }
        (
            rel_max_err(&x.video, &plain.video),
            rel_max_err(audio, plain.audio.as_ref().unwrap()),
        )
    };
    let (all, stats, blocks) = run(1e6);
    // Every step but the first and the last reuses; a reused step runs only
    // the first block (for every branch, both streams).
    assert_eq!(stats.computed + stats.reused, LONG);
    assert_eq!(stats.reused, LONG - 2, "{stats:?}");
    assert_eq!(
        blocks,
        u64::from(stats.computed) * layers + u64::from(stats.reused),
        "{stats:?}"
    );
    let (ev_all, ea_all) = err(&all);

    // A threshold the random weights cross now and then: some steps reuse,
    // and the latents move less than when (almost) every step reuses.
    let (some, stats, blocks) = run(0.5);
    assert!(stats.reused > 0 && stats.computed > 2, "{stats:?}");
    assert_eq!(
        blocks,
        u64::from(stats.computed) * layers + u64::from(stats.reused)
    );
    let (ev, ea) = err(&some);
    eprintln!(
        "LTX-2.3, {LONG} steps: threshold 0.5 {stats:?}: video {ev:.3e}, audio {ea:.3e}; \
         threshold 1e6: video {ev_all:.3e}, audio {ea_all:.3e} (max error relative to the uncached latents' scale)"
    );
    assert!(ev > 0.0 && ea > 0.0, "{ev} {ea}");
    assert!(ev < 0.5 && ea < 0.5, "{ev} {ea}");
    assert!(ev < ev_all && ea < ea_all, "{ev} {ea} vs {ev_all} {ea_all}");
}
