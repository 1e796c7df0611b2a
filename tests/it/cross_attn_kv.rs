//! The Wan transformer's cross-attention keys and values, made once per
//! generation (`WanTransformer::cross_attn_kv`): reused over steps they give
//! the bytes of the per-step path (`forward`, which makes them at every call),
//! they are only accepted by the model and batch they were made for, and a
//! generation makes them once per expert and guidance branch.

use std::path::Path;

use sora_core::denoise::{denoise_latents, WalkOptions};
use sora_core::models::wan::transformer::WanTransformer;
use sora_core::models::wan::WanFamily;
use sora_core::weights::ModelFolder;
use sora_core::{Device, Dtype, Error};
use sora_tests::{fixture, read_tensors};
use tch::{Kind, Tensor};

fn load(case: &str) -> (WanTransformer, std::collections::HashMap<String, Tensor>) {
    let dir = fixture("wan_transformer").join(case);
    let model = WanTransformer::load(&dir, tch::Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {case}: {e}"));
    (model, read_tensors(&dir.join("io.safetensors")))
}

/// Max |a − b|.
fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

/// The stored text followed by `pad` zero tokens, as the pipeline pads prompts.
fn padded(text: &Tensor, pad: i64) -> Tensor {
    let s = text.size();
    Tensor::cat(
        &[
            text,
            &Tensor::zeros([s[0], pad, s[2]], (Kind::Float, text.device())),
        ],
        1,
    )
}

/// Walks four "steps" (other latents, other timesteps, the output fed back)
/// with one set of keys and values, and compares every step with `forward`.
fn same_as_per_step(case: &str, pad: i64) {
    let (model, io) = load(case);
    let text = padded(&io["encoder_hidden_states"], pad);
    let img = io.get("encoder_hidden_states_image");
    let kv = model.cross_attn_kv(&text, img).unwrap();
    assert_eq!(model.cross_attn_kv_builds(), 1);
    let real = io["encoder_hidden_states"].size()[1];
    if pad >= 2 {
        // The padding was compacted to one key weighted ln(pad) (no trailing
        // zeros in the stored random text).
        assert_eq!(kv.text_padding(), Some(pad), "{case}");
        let image_keys = match (img, model.config().added_kv_proj_dim) {
            (Some(i), None) => i.size()[1],
            _ => 0,
        };
        assert_eq!(kv.keys(), real + 1 + image_keys, "{case}");
    } else {
        assert_eq!(kv.text_padding(), None, "{case}");
    }
    assert!(kv.bytes() > 0);
    let mut x = io["hidden_states"].shallow_clone();
    let t0 = &io["timestep"];
    for step in 0..4 {
        let t = t0 - 150.0 * step as f64;
        let builds = model.cross_attn_kv_builds();
        let cached = model.forward_with(&x, &t, &kv).unwrap();
        assert_eq!(
            model.cross_attn_kv_builds(),
            builds,
            "{case}: forward_with made keys and values"
        );
        let per_step = model.forward(&x, &t, &text, img).unwrap();
        assert_eq!(model.cross_attn_kv_builds(), builds + 1);
        let d = max_abs(&cached, &per_step);
        assert!(
            d == 0.0,
            "{case} step {step}: reused keys and values differ by {d}"
        );
        // Next step's latents: this step's output folded back into the input shape.
        x = (&x + cached.narrow(1, 0, 1) * 0.1).detach();
    }
}

#[test]
fn reused_keys_and_values_give_the_per_step_bytes() {
    // T2V with and without compacted padding, batch 2 without the cross-attention
    // norm, I2V (added image projections), FLF2V (two images), TI2V (per-token timesteps).
    same_as_per_step("t2v", 0);
    same_as_per_step("t2v", 40);
    same_as_per_step("t2v_b2", 9);
    same_as_per_step("i2v", 17);
    same_as_per_step("flf2v", 5);
    same_as_per_step("ti2v", 30);
}

#[test]
fn keys_and_values_only_serve_their_model_and_batch() {
    let (model, io) = load("t2v");
    let (x, t, text) = (
        &io["hidden_states"],
        &io["timestep"],
        &io["encoder_hidden_states"],
    );
    let kv = model.cross_attn_kv(text, None).unwrap();
    // Another model (here the same weights loaded again, as an expert would be).
    let (other, _) = load("t2v");
    match other.forward_with(x, t, &kv) {
        Err(Error::InvalidRequest(m)) => assert!(m.contains("another transformer"), "{m}"),
        r => panic!("expected InvalidRequest, got {r:?}"),
    }
    // A batch of two prompts for a batch of one latent.
    let kv2 = model
        .cross_attn_kv(&Tensor::cat(&[text, text], 0), None)
        .unwrap();
    assert_eq!(kv2.batch(), 2);
    assert!(matches!(
        model.forward_with(x, t, &kv2),
        Err(Error::InvalidRequest(_))
    ));
    // Bad text is refused when the keys and values are made.
    assert!(matches!(
        model.cross_attn_kv(
            &Tensor::zeros([1, 7, 15], (Kind::Float, tch::Device::Cpu)),
            None
        ),
        Err(Error::InvalidRequest(_))
    ));
}

/// A loaded Wan family and the walk's guidance batching for it (the
/// batching is the walk's option since the seam change, not the family's).
pub(crate) struct Loaded {
    pub fam: WanFamily,
    pub batch_guidance: bool,
}

impl std::ops::Deref for Loaded {
    type Target = WanFamily;
    fn deref(&self) -> &WanFamily {
        &self.fam
    }
}

impl std::ops::DerefMut for Loaded {
    fn deref_mut(&mut self) -> &mut WanFamily {
        &mut self.fam
    }
}

/// Runs one generation through the family as `Pipeline::generate` does (the
/// denoising loop only) and returns the final latents.
pub(crate) fn denoise(fam: &mut Loaded, case: &Path) -> Tensor {
    denoise_request(fam, &crate::wan_pipeline::request_of(case))
}

/// The latents after the denoising loop of `req`.
pub(crate) fn denoise_request(fam: &mut Loaded, req: &sora_core::Request) -> Tensor {
    let opts = WalkOptions {
        batch_guidance: fam.batch_guidance,
        ..WalkOptions::default()
    };
    denoise_latents(&mut fam.fam, req, &opts).unwrap().video
}

/// Builds of each expert after one and after two generations of `case`.
fn builds(case: &str, batch_guidance: bool) -> [(u64, u64); 2] {
    let dir = fixture("wan_pipeline").join(case);
    let folder = ModelFolder::open(dir.join("model")).unwrap();
    let mut fam = Loaded {
        fam: WanFamily::load(&folder, Device::Cpu, Dtype::F32).unwrap(),
        batch_guidance,
    };
    let count = |fam: &WanFamily| {
        (
            fam.transformer().cross_attn_kv_builds(),
            fam.transformer_2().map_or(0, |t| t.cross_attn_kv_builds()),
        )
    };
    let first = denoise(&mut fam, &dir);
    let one = count(&fam);
    let second = denoise(&mut fam, &dir);
    // Made again for the second generation, with the same result.
    assert!(first.equal(&second), "{case}: two generations differ");
    [one, count(&fam)]
}

#[test]
fn a_generation_makes_them_once_per_expert_and_guidance_branch() {
    // Batched guidance: one forward of [cond; uncond] per step, one set.
    assert_eq!(builds("t2v_21", true), [(1, 0), (2, 0)]);
    // Sequential guidance: the conditional and the unconditional prompt apart.
    assert_eq!(builds("t2v_21", false), [(2, 0), (4, 0)]);
    // No guidance: the prompt alone.
    assert_eq!(builds("t2v_21_euler_nocfg", true), [(1, 0), (2, 0)]);
    // Image tokens through the added projections.
    assert_eq!(builds("i2v_21", true), [(1, 0), (2, 0)]);
    // Two experts, each with its own weights: one set each.
    assert_eq!(builds("t2v_22_experts", true), [(1, 1), (2, 2)]);
    assert_eq!(builds("t2v_22_experts", false), [(2, 2), (4, 4)]);
}
