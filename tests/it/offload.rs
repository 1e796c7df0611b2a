//! Weight offload (`nn::offload`, `PipelineBuilder::offload`): with the
//! weights waiting in host memory and copied to the run device per component
//! (model offload) or per transformer block (sequential offload), a
//! generation gives the same values bit for bit; every copy is given back
//! afterwards; sequential offload copies each block once per forward and per
//! key/value build. On these CPU machines the copies go from host memory to
//! host memory (`offload_on_cpu`, a test-only switch): what is checked is the
//! bookkeeping, which is the same on a GPU.

use sora_core::family::{MemoryOptions, ModelFamily};
use sora_core::models::wan::WanFamily;
use sora_core::weights::ModelFolder;
use sora_core::{Device, Dtype, Error, Offload, Pipeline, Progress, Request};
use sora_tests::fixture;

use crate::cross_attn_kv::{denoise, denoise_request, Loaded};

fn family(case: &str, offload: Offload, batch_guidance: bool) -> Loaded {
    family_in(case, offload, batch_guidance, Dtype::F32)
}

fn family_in(case: &str, offload: Offload, batch_guidance: bool, dtype: Dtype) -> Loaded {
    let folder = ModelFolder::open(fixture("wan_pipeline").join(case).join("model")).unwrap();
    Loaded {
        fam: WanFamily::load_offloaded(&folder, Device::Cpu, dtype, offload).unwrap(),
        batch_guidance,
    }
}

/// Data pointers of every transformer weight (both experts).
fn transformer_data(fam: &WanFamily) -> Vec<usize> {
    let mut out: Vec<usize> = fam
        .transformer()
        .tensors()
        .iter()
        .map(|t| t.data_ptr() as usize)
        .collect();
    if let Some(t) = fam.transformer_2() {
        out.extend(t.tensors().iter().map(|t| t.data_ptr() as usize));
    }
    out
}

#[test]
fn offloaded_denoising_gives_the_same_latents_and_gives_every_copy_back() {
    // bf16: the modules kept in f32 make components of mixed dtypes.
    for (case, batch, dtype) in [
        ("t2v_21", true, Dtype::F32),
        ("t2v_21", false, Dtype::F32),
        ("t2v_21", true, Dtype::BF16),
        ("i2v_21", true, Dtype::F32),
        ("t2v_22_experts", true, Dtype::F32),
    ] {
        let dir = fixture("wan_pipeline").join(case);
        let want = denoise(&mut family_in(case, Offload::None, batch, dtype), &dir);
        for mode in [Offload::Model, Offload::Sequential] {
            let mut fam = family_in(case, mode, batch, dtype);
            assert_eq!(fam.offload(), mode);
            let host = transformer_data(&fam);
            let got = denoise(&mut fam, &dir);
            assert!(
                got.equal(&want),
                "{case} (batched guidance {batch}, {dtype:?}), {mode} offload: latents differ"
            );
            match mode {
                // The expert of the last step is still on the run device (a
                // copy of its weights) until the run ends.
                Offload::Model => assert_ne!(transformer_data(&fam), host, "{case}: no copy made"),
                // Blocks are given back as soon as they ran.
                _ => assert_eq!(transformer_data(&fam), host, "{case}: a block copy kept"),
            }
            fam.release_offloaded().unwrap();
            assert_eq!(
                transformer_data(&fam),
                host,
                "{case}, {mode}: the weights did not get their host data back"
            );
        }
    }
}

#[test]
fn sequential_offload_copies_each_block_once_per_use() {
    for (batch, forwards_per_step) in [(true, 1), (false, 2)] {
        let dir = fixture("wan_pipeline").join("t2v_21");
        let mut fam = family("t2v_21", Offload::Sequential, batch);
        let req = crate::wan_pipeline::request_of(&dir);
        let steps = u64::from(req.steps.unwrap_or(2));
        let _ = denoise(&mut fam, &dir);
        let t = fam.transformer();
        let layers = t.config().num_layers as u64;
        let builds = t.cross_attn_kv_builds();
        assert_eq!(
            t.block_uploads(),
            layers * (builds + forwards_per_step * steps),
            "batched guidance {batch}: {builds} key/value builds, {steps} steps"
        );
        // A model not offloaded copies nothing.
        let mut plain = family("t2v_21", Offload::None, batch);
        let _ = denoise(&mut plain, &dir);
        assert_eq!(plain.transformer().block_uploads(), 0);
    }
}

fn pipeline(offload: Offload) -> sora_core::Result<Pipeline> {
    Pipeline::builder()
        .model(fixture("wan_pipeline").join("t2v_21").join("model"))
        .offload(offload)
        .offload_on_cpu()
        .build()
}

fn request() -> Request {
    Request::text("a red fox in the snow")
        .size(32, 32)
        .frames(5)
        .steps(2)
        .guidance(5.0)
        .seed(3)
}

#[test]
fn offloaded_pipelines_make_the_same_frames_and_survive_a_cancelled_run() {
    let want = pipeline(Offload::None)
        .unwrap()
        .generate(&request(), &mut Progress::none())
        .unwrap();
    for mode in [Offload::Model, Offload::Sequential] {
        let pipe = pipeline(mode).unwrap();
        // Cancelled while denoising: the copies are given back, the next run works.
        let mut cancel = Progress::with_callback(|e| e.phase != sora_core::Phase::Denoise);
        let e = pipe.generate(&request(), &mut cancel).unwrap_err();
        assert!(matches!(e, Error::Cancelled), "{mode}: {e}");
        for _ in 0..2 {
            let clip = pipe.generate(&request(), &mut Progress::none()).unwrap();
            assert_eq!(clip.frames, want.frames, "{mode} offload: frames differ");
            assert_eq!(clip.meta.offload, mode.name());
        }
    }
    // Step caching runs the first block, then the rest or the cached residual:
    // streamed block by block, the same frames and the same cache decisions.
    let cached = |offload| {
        Pipeline::builder()
            .model(fixture("wan_pipeline").join("t2v_21").join("model"))
            .offload(offload)
            .offload_on_cpu()
            .step_cache(0.5)
            .build()
            .unwrap()
            .generate(&request().steps(6), &mut Progress::none())
            .unwrap()
    };
    let (plain, streamed) = (cached(Offload::None), cached(Offload::Sequential));
    assert_eq!(plain.frames, streamed.frames);
    let stats = streamed.meta.step_cache.expect("step cache stats");
    assert!(stats.reused > 0, "the cache reused no step: {stats:?}");
    assert_eq!(plain.meta.step_cache, Some(stats));
}

#[test]
fn offload_is_refused_on_the_cpu_and_named_by_the_option() {
    let e = Pipeline::builder()
        .model(fixture("wan_pipeline").join("t2v_21").join("model"))
        .offload(Offload::Model)
        .build()
        .err()
        .expect("offload on the CPU must be refused");
    match e {
        Error::Unsupported(m) => assert!(m.contains("host memory") && m.contains("CUDA"), "{m}"),
        other => panic!("expected Unsupported, got {other}"),
    }
    let b = Pipeline::builder().option("offload", "sequential").unwrap();
    assert!(format!("{b:?}").contains("Sequential"));
    match Pipeline::builder().option("offload", "disk") {
        Err(Error::InvalidRequest(m)) => assert!(m.contains("none, model or sequential"), "{m}"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn the_estimate_counts_only_the_weights_a_phase_copies_to_the_device() {
    use sora_core::estimate::{estimate_folder, EstimateOptions};
    let m = fixture("wan_pipeline").join("t2v_22_experts").join("model");
    let req = request().size(64, 64).frames(9);
    let est = |offload| {
        estimate_folder(
            &m,
            &req,
            &EstimateOptions {
                device: Device::Cuda(0),
                offload,
                ..EstimateOptions::default()
            },
        )
        .unwrap()
    };
    let phase_weights = |e: &sora_core::MemoryEstimate, name: &str| {
        e.phases
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no phase {name}"))
            .weights_mb
    };
    let part = |e: &sora_core::MemoryEstimate, name: &str| {
        e.weights
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no weights {name}"))
            .mb
    };
    let (none, model, seq) = (
        est(Offload::None),
        est(Offload::Model),
        est(Offload::Sequential),
    );
    let all: f64 = none.weights.iter().map(|p| p.mb).sum();
    assert!((phase_weights(&none, "denoise") - all).abs() < 1e-9);
    // Model offload: each phase holds its own component.
    assert_eq!(phase_weights(&model, "text"), part(&none, "text_encoder"));
    assert_eq!(phase_weights(&model, "decode"), part(&none, "vae"));
    let expert = part(&none, "transformer").max(part(&none, "transformer_2"));
    assert_eq!(phase_weights(&model, "denoise"), expert);
    // Sequential offload: one block and the layers around the blocks, less
    // than the whole transformer.
    let streamed = phase_weights(&seq, "denoise");
    assert!(
        streamed < expert && streamed > 0.0,
        "{streamed} vs {expert}"
    );
    // The text encoder too, its embedding table left in host memory.
    let text = phase_weights(&seq, "text");
    assert!(text < part(&none, "text_encoder") && text > 0.0, "{text}");
    assert!(seq.total_mb <= model.total_mb && model.total_mb < none.total_mb);
    // A builder estimates with its own options, the same numbers.
    let b = Pipeline::builder()
        .model(&m)
        .device(Device::Cuda(0))
        .offload(Offload::Sequential);
    assert_eq!(b.estimate(&req).unwrap(), seq);
    // Without a folder, the embedded default model's estimate.
    let default = Pipeline::builder().estimate(&req).unwrap();
    assert!(default.weights.iter().any(|p| p.name == "vocoder"));
}

#[test]
fn a_parked_text_encoder_runs_through_its_copy_and_is_unparked_when_the_option_goes() {
    let case = "t2v_21";
    let dir = fixture("wan_pipeline").join(case);
    let req = |prompt: &str| {
        let mut r = crate::wan_pipeline::request_of(&dir);
        r.prompt = prompt.into();
        r
    };
    let mut plain = family(case, Offload::None, true);
    let want: Vec<_> = ["a fox", "a cat", "a dog"]
        .iter()
        .map(|p| denoise_request(&mut plain, &req(p)))
        .collect();
    // `offload_text_encoder` as on a GPU: parked in host memory after the
    // first encoding (held wider here, so a use without its copy would show).
    let mut fam = family(case, Offload::None, true);
    fam.park_text_encoder_on_cpu();
    let parking = MemoryOptions {
        offload_text_encoder: true,
        ..MemoryOptions::default()
    };
    fam.configure_memory(&parking).unwrap();
    assert!(!fam.text_encoder_parked());
    assert!(denoise_request(&mut fam, &req("a fox")).equal(&want[0]));
    assert!(fam.text_encoder_parked());
    // A new prompt copies the parked encoder for its encoding.
    assert!(
        denoise_request(&mut fam, &req("a cat")).equal(&want[1]),
        "parked encoder differs"
    );
    fam.release_offloaded().unwrap();
    assert!(fam.text_encoder_parked());
    // The option turned off: the encoder goes back to the run device for good.
    fam.configure_memory(&MemoryOptions::default()).unwrap();
    assert!(
        denoise_request(&mut fam, &req("a dog")).equal(&want[2]),
        "unparked encoder differs"
    );
    assert!(!fam.text_encoder_parked());
}
