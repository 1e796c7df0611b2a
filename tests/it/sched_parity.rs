//! Scheduler parity against diffusers (fixture `schedulers`, built by
//! `tests/fixtures/fx_schedulers.py`): every case's saved `scheduler_config.json`
//! is loaded with `sampler::from_config`, its schedule compared exactly, and the
//! same model outputs replayed through full walks and video-to-video partial walks.
//! Cases marked `begin` walk as WanPipeline does (`set_begin_index(0)`) at the
//! edges of the step counts a request may ask (1, 2, 999, 1000); `walkable.json`
//! says for which step counts diffusers' own walk stays finite, and
//! `sampler::check_steps` must refuse exactly the others.

use std::collections::HashMap;
use std::path::PathBuf;

use sora_core::sampler::{self, Scheduler};
use sora_core::Error;
use sora_tests::{assert_close, fixture, read_tensors, rel_max_err};
use tch::{Kind, Tensor};

/// Max error relative to scale allowed on step results (observed on the CPU: 0, bit-exact).
const TOL: f64 = 1e-6;

struct Case {
    name: String,
    dir: PathBuf,
    meta: serde_json::Value,
    t: HashMap<String, Tensor>,
}

impl Case {
    fn steps(&self) -> usize {
        self.meta["steps"].as_u64().unwrap() as usize
    }
    /// Walked from index 0 after `set_begin_index(0)`, as WanPipeline walks.
    fn begin(&self) -> bool {
        self.meta["begin"].as_bool().unwrap_or(false)
    }
    fn bf16(&self) -> bool {
        self.meta["bf16"].as_bool().unwrap_or(false)
    }
    fn get(&self, k: &str) -> &Tensor {
        self.t
            .get(k)
            .unwrap_or_else(|| panic!("{}: no tensor {k}", self.name))
    }
    /// A fresh scheduler from the saved config, with the case's timesteps set.
    fn scheduler(&self) -> Box<dyn Scheduler> {
        let mut s = sampler::from_config(&self.dir.join("scheduler_config.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let mu = self.meta.get("mu").and_then(|v| v.as_f64());
        let sigmas: Option<Vec<f32>> = self.meta.get("sigmas").map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        });
        match (&sigmas, mu) {
            (None, None) => s.set_timesteps(self.steps()).unwrap(),
            (Some(sig), _) => s.set_timesteps_with(None, Some(sig), mu).unwrap(),
            (None, Some(_)) => s.set_timesteps_with(Some(self.steps()), None, mu).unwrap(),
        }
        s
    }
    /// A model output as the walk feeds it (bf16 cases: cast to bf16).
    fn model_output(&self, key: &str) -> Tensor {
        let m = self.get(key);
        if self.bf16() {
            m.to_kind(Kind::BFloat16)
        } else {
            m.shallow_clone()
        }
    }
}

fn cases() -> Vec<Case> {
    let root = fixture("schedulers");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases.json")).unwrap()).unwrap();
    meta.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap().to_string();
            let dir = root.join(&name);
            let t = read_tensors(&dir.join("walk.safetensors"));
            Case {
                name,
                dir,
                meta: m.clone(),
                t,
            }
        })
        .collect()
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).reshape([-1])).unwrap()
}

/// Where diffusers itself gives NaN (bh1 onto a zero final sigma), ours must
/// too; returns both tensors with those places zeroed.
fn finite_part(what: &str, out: &Tensor, reference: &Tensor) -> (Tensor, Tensor) {
    let out = out.to_kind(Kind::Float);
    let nan = reference.isnan();
    assert!(
        out.isnan().equal(&nan),
        "{what}: NaN places differ from diffusers"
    );
    (out.masked_fill(&nan, 0.0), reference.masked_fill(&nan, 0.0))
}

/// Walks `timesteps` from `x`, feeding `prefix.{i}` model outputs; checks each
/// result against `expect.{i}`; returns the largest error seen.
fn walk(
    c: &Case,
    s: &mut dyn Scheduler,
    mut x: Tensor,
    ts: &[Tensor],
    mo: &str,
    expect: &str,
) -> f64 {
    let mut worst: f64 = 0.0;
    for (i, t) in ts.iter().enumerate() {
        let out = s
            .step(&c.model_output(&format!("{mo}.{i}")), t, &x)
            .unwrap_or_else(|e| panic!("{} step {i}: {e}", c.name));
        let want_kind = if c.bf16() && c.meta["class"] == "FlowMatchEulerDiscreteScheduler" {
            Kind::BFloat16
        } else {
            Kind::Float
        };
        assert_eq!(out.kind(), want_kind, "{} step {i}: dtype", c.name);
        let reference = c.get(&format!("{expect}.{i}"));
        let what = format!("{} {expect} step {i}", c.name);
        let (out_f, reference) = finite_part(&what, &out, reference);
        assert_close(&what, &out_f, &reference, TOL);
        worst = worst.max(rel_max_err(&out_f, &reference));
        x = out;
    }
    worst
}

#[test]
fn schedules_equal_diffusers_exactly() {
    for c in cases() {
        let s = c.scheduler();
        assert_eq!(
            to_vec(s.timesteps()),
            to_vec(c.get("timesteps")),
            "{}: timesteps",
            c.name
        );
        assert_eq!(
            s.sigmas().unwrap().to_vec(),
            to_vec(c.get("sigmas")),
            "{}: sigmas",
            c.name
        );
    }
}

#[test]
fn full_walks_equal_diffusers() {
    let mut worst: f64 = 0.0;
    for c in cases() {
        let mut s = c.scheduler();
        if c.begin() {
            s.set_begin_index(0);
        }
        let n = s.timesteps().size()[0];
        let ts: Vec<Tensor> = (0..n).map(|i| s.timesteps().get(i)).collect();
        worst = worst.max(walk(
            &c,
            s.as_mut(),
            c.get("x0").shallow_clone(),
            &ts,
            "mo",
            "out",
        ));
        assert_eq!(
            s.step_index(),
            Some(n as usize),
            "{}: step index after the walk",
            c.name
        );
    }
    eprintln!("full walks: worst relative error {worst:.2e}");
}

#[test]
fn video_to_video_partial_walks_equal_diffusers() {
    let mut seen = 0;
    let mut worst: f64 = 0.0;
    for c in cases() {
        let Some(strength) = c.meta.get("strength").and_then(|v| v.as_f64()) else {
            continue;
        };
        seen += 1;
        let variants: Vec<&str> = match c.meta.get("v2v_variants") {
            Some(v) => v
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect(),
            None => vec!["v2v", "v2v_begin"],
        };
        for key in variants {
            let begin = key == "v2v_begin";
            let mut s = c.scheduler();
            let n = s.timesteps().size()[0];
            let start = s.strength_start(c.steps(), strength);
            assert_eq!(
                start as u64,
                c.meta["t_start"].as_u64().unwrap(),
                "{}: t_start",
                c.name
            );
            if begin {
                s.set_begin_index(start);
            }
            let ts: Vec<Tensor> = (start as i64..n).map(|i| s.timesteps().get(i)).collect();
            let batch = c.get("v2v.init").size()[0];
            let latent_t = ts[0].reshape([1]).repeat([batch]);
            let noised = s
                .noise_to(c.get("v2v.init"), c.get("v2v.noise"), &latent_t)
                .unwrap();
            assert_close(
                &format!("{} {key} noised", c.name),
                &noised,
                c.get(&format!("{key}.noised")),
                TOL,
            );
            worst = worst.max(walk(
                &c,
                s.as_mut(),
                noised,
                &ts,
                "v2v.mo",
                &format!("{key}.out"),
            ));
        }
    }
    assert!(seen >= 5, "the fixture should hold video-to-video cases");
    eprintln!("video-to-video walks: worst relative error {worst:.2e}");
}

#[test]
fn a_clone_mid_walk_continues_identically() {
    for c in cases()
        .into_iter()
        .filter(|c| c.name == "unipc_s3_n10" || c.name == "flow_s5_n10")
    {
        let mut s = c.scheduler();
        let ts: Vec<Tensor> = (0..10).map(|i| s.timesteps().get(i)).collect();
        let mut x = c.get("x0").shallow_clone();
        for (i, t) in ts.iter().take(4).enumerate() {
            x = s.step(&c.model_output(&format!("mo.{i}")), t, &x).unwrap();
        }
        let mut twin = s.box_clone();
        let (mut a, mut b) = (x.shallow_clone(), x);
        for (i, t) in ts.iter().enumerate().skip(4) {
            let mo = c.model_output(&format!("mo.{i}"));
            a = s.step(&mo, t, &a).unwrap();
            b = twin.step(&mo, t, &b).unwrap();
            assert!(a.equal(&b), "{}: clone diverged at step {i}", c.name);
        }
        assert_close(&c.name, &a, c.get("out.9"), TOL);
    }
}

#[test]
fn set_timesteps_resets_the_walk() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "unipc_s5_n10")
        .unwrap();
    let mut s = c.scheduler();
    let t0 = s.timesteps().get(0);
    let _ = s
        .step(&c.get("mo.0").shallow_clone(), &t0, c.get("x0"))
        .unwrap();
    s.set_begin_index(3);
    s.set_timesteps(10).unwrap();
    assert_eq!(s.step_index(), None);
    let mut x = c.get("x0").shallow_clone();
    for i in 0..10 {
        x = s
            .step(
                &c.get(&format!("mo.{i}")).shallow_clone(),
                &s.timesteps().get(i),
                &x,
            )
            .unwrap();
    }
    assert_close("walk after reset", &x, c.get("out.9"), TOL);
}

#[test]
fn bad_configs_are_typed_errors() {
    let dir = std::env::temp_dir().join(format!("sora-sched-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let p = write("broken.json", "{\"_class_name\": ");
    assert!(matches!(sampler::from_config(&p), Err(Error::Config { path, .. }) if path == p));
    let p = write("ddim.json", r#"{"_class_name": "DDIMScheduler"}"#);
    assert!(
        matches!(sampler::from_config(&p), Err(Error::Unsupported(m)) if m.contains("DDIMScheduler"))
    );
    let p = write(
        "karras.json",
        r#"{"_class_name": "UniPCMultistepScheduler", "use_karras_sigmas": true}"#,
    );
    assert!(
        matches!(sampler::from_config(&p), Err(Error::Unsupported(m)) if m.contains("use_karras_sigmas"))
    );
    let p = write(
        "stochastic.json",
        r#"{"_class_name": "FlowMatchEulerDiscreteScheduler", "stochastic_sampling": true}"#,
    );
    assert!(
        matches!(sampler::from_config(&p), Err(Error::Unsupported(m)) if m.contains("stochastic_sampling"))
    );
    let p = write(
        "two.json",
        r#"{"_class_name": "FlowMatchEulerDiscreteScheduler", "use_karras_sigmas": true, "use_exponential_sigmas": true}"#,
    );
    assert!(matches!(sampler::from_config(&p), Err(Error::Config { path, .. }) if path == p));
    let p = write(
        "typed.json",
        r#"{"_class_name": "UniPCMultistepScheduler", "flow_shift": "3"}"#,
    );
    assert!(matches!(
        sampler::from_config(&p),
        Err(Error::Config { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stepping_past_the_end_or_off_schedule_is_an_error() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "flow_s5_n4")
        .unwrap();
    let mut s = c.scheduler();
    // A timestep that is not in the schedule: diffusers raises for flow matching.
    let off = Tensor::from(123.5f32);
    assert!(s.step(c.get("mo.0"), &off, c.get("x0")).is_err());
    let mut x = c.get("x0").shallow_clone();
    for i in 0..4 {
        x = s
            .step(c.get(&format!("mo.{i}")), &s.timesteps().get(i), &x)
            .unwrap();
    }
    assert!(s.step(c.get("mo.0"), &s.timesteps().get(3), &x).is_err());
}

/// The root cause of `--steps 1000` failing after its last step: UniPC's integer
/// timesteps repeat at the start of long schedules, and a walk that finds its
/// first index from the timestep's value (diffusers' `index_for_timestep`: the
/// second occurrence) starts one index late and steps past the end. Walked from
/// `set_begin_index(0)`, as WanPipeline does, every step count finishes.
#[test]
fn repeated_first_timestep_needs_the_begin_index() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "unipc_s3_n1000_begin")
        .unwrap();
    let mut s = c.scheduler();
    let ts: Vec<Tensor> = (0..1000).map(|i| s.timesteps().get(i)).collect();
    assert_eq!(to_vec(&ts[0]), to_vec(&ts[1]), "999 repeats at 1000 steps");
    // Without a begin index the first step takes index 1 ...
    let mut x = c.get("x0").shallow_clone();
    x = s.step(&c.get("mo.0").shallow_clone(), &ts[0], &x).unwrap();
    assert_eq!(s.step_index(), Some(2));
    for (i, t) in ts.iter().enumerate().skip(1).take(998) {
        x = s
            .step(&c.get(&format!("mo.{i}")).shallow_clone(), t, &x)
            .unwrap();
    }
    // ... and the 1000th step is past the end of the schedule.
    let e = s
        .step(&c.get("mo.999").shallow_clone(), &ts[999], &x)
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest(m) if m.contains("past the end")),
        "{e}"
    );
    // The pipelines' check accepts the count: it walks from the begin index.
    sampler::check_steps(c.scheduler().as_ref(), 1000, None).unwrap();
}

/// `sampler::check_steps` refuses exactly the step counts whose walk diffusers
/// itself cannot finish with finite samples, and names one that works.
#[test]
fn step_counts_are_refused_exactly_where_diffusers_walk_is_not_finite() {
    let root = fixture("schedulers");
    let list: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("walkable.json")).unwrap())
            .unwrap();
    let entries = list.as_array().unwrap();
    assert!(entries.iter().any(|e| e["finite"] == false));
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let n = e["steps"].as_u64().unwrap() as usize;
        let finite = e["finite"].as_bool().unwrap();
        let path = root
            .join("walkable")
            .join(name)
            .join("scheduler_config.json");
        let s = sampler::from_config(&path).unwrap();
        match sampler::check_steps(s.as_ref(), n, None) {
            Ok(()) => assert!(finite, "{name} at {n} steps: diffusers' walk is not finite"),
            Err(Error::InvalidRequest(m)) => {
                assert!(
                    !finite,
                    "{name} at {n} steps refused, diffusers walks it: {m}"
                );
                assert!(m.contains(&format!("{n} steps")), "{name}: {m}");
                // The count the message offers is one the check accepts.
                if let Some(w) = m
                    .rsplit("; ")
                    .next()
                    .and_then(|h| h.split(' ').next())
                    .and_then(|w| w.parse::<usize>().ok())
                {
                    sampler::check_steps(s.as_ref(), w, None)
                        .unwrap_or_else(|e| panic!("{name}: offered {w} steps: {e}"));
                } else {
                    assert!(m.contains("no step count"), "{name}: {m}");
                }
            }
            Err(other) => panic!("{name} at {n} steps: {other}"),
        }
    }
}
