//! The seam's guidance plan expresses diffusers' LTX-2 guidance exactly: on
//! fixed random branch predictions (`tests/fixtures/fx_ltx2_guidance.py`),
//! a `GuidancePlan` with the pipeline's terms — CFG (weight s − 1), STG
//! (weight s), modality isolation (weight s − 1), each with its own audio
//! scale, combined in x0 space, then guidance rescale per modality — gives
//! the pipeline's guided velocity for video and audio.

use sora_core::denoise::{
    Form, GuidancePlan, Latents, PerModality, Space, Term, COND, ISOLATED, PERTURBED, UNCOND,
};
use sora_tests::{fixture, read_tensors};

/// The plan the LTX-2 pipeline's scales make (only the terms diffusers computes).
fn plan_of(case: &serde_json::Value) -> GuidancePlan {
    let s = |m: &str, k: usize| case[m][k].as_f64().unwrap();
    let per = |k: usize, minus_one: bool| PerModality {
        video: s("video", k) - f64::from(u8::from(minus_one)),
        audio: s("audio", k) - f64::from(u8::from(minus_one)),
    };
    let mut branches = vec![COND];
    let mut terms = Vec::new();
    let on = |k: &str| case[k].as_bool().unwrap();
    if on("do_cfg") {
        branches.push(UNCOND);
        terms.push(Term {
            branch: UNCOND,
            scale: per(0, true),
        });
    }
    if on("do_stg") {
        branches.push(PERTURBED);
        terms.push(Term {
            branch: PERTURBED,
            scale: per(1, false),
        });
    }
    if on("do_mod") {
        branches.push(ISOLATED);
        terms.push(Term {
            branch: ISOLATED,
            scale: per(2, true),
        });
    }
    GuidancePlan {
        model: 0,
        branches,
        terms,
        form: Form::Deltas,
        space: Space::X0,
        rescale: PerModality {
            video: s("video", 3),
            audio: s("audio", 3),
        },
    }
}

#[test]
fn ltx2_guidance_is_a_plan_equal_to_diffusers() {
    let dir = fixture("ltx2_guidance");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let cases = cases.as_object().unwrap();
    assert!(cases.len() >= 8);
    for (name, case) in cases {
        let t = read_tensors(&dir.join(format!("{name}.safetensors")));
        let plan = plan_of(case);
        plan.check().unwrap();
        let pred = |b: &str| {
            Latents::joint(
                t[&format!("v_{b}_video")].shallow_clone(),
                t[&format!("v_{b}_audio")].shallow_clone(),
            )
        };
        let preds: Vec<Latents> = plan
            .branches
            .iter()
            .map(|b| match b.name() {
                "cond" => pred("cond"),
                "uncond" => pred("uncond"),
                "perturbed" => pred("stg"),
                _ => pred("mod"),
            })
            .collect();
        let x = Latents::joint(t["x_video"].shallow_clone(), t["x_audio"].shallow_clone());
        let sigma = f64::from(t["sigma"].double_value(&[0]) as f32);
        let got = plan
            .combine(&x, &preds, PerModality::both(Some(sigma)))
            .unwrap();
        for (m, g, w) in [
            ("video", &got.video, &t["want_video"]),
            ("audio", got.audio.as_ref().unwrap(), &t["want_audio"]),
        ] {
            let diff = (g - w).abs().max().double_value(&[]);
            let scale = w.abs().max().double_value(&[]).max(1.0);
            assert!(
                diff <= 1e-6 * scale,
                "{name} {m}: max difference {diff:e} from diffusers"
            );
        }
    }
}
