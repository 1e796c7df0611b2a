//! The denoising walk shared by every family: from a [`Start`] (initial
//! latents, timesteps, one scheduler per modality), each step asks the
//! [`Generation`] for its [`GuidancePlan`], runs the plan's branches as model
//! forwards (all in one batch under `batch_guidance`, one each otherwise),
//! each through the step cache when caching is on, combines the predictions,
//! and steps each modality's scheduler. Cancellation is checked and progress
//! reported at every step; every latent is checked finite at the end.

use std::time::Instant;

use tch::Tensor;

use super::condition::VideoCondition;
use super::latents::{Latents, PerModality};
use super::motion::MotionGuidance;
use super::plan::GuidancePlan;
use crate::family::Generation;
use crate::nn::step_cache::{BranchKey, StepCache, StepCacheStats};
use crate::pipeline::progress::{Phase, Progress};
use crate::sampler::Scheduler;
use crate::{Device, Error, Result};

/// One scheduler per modality.
pub struct Schedulers {
    /// The video latent's scheduler.
    pub video: Box<dyn Scheduler>,
    /// The audio latent's scheduler (joint families).
    pub audio: Option<Box<dyn Scheduler>>,
}

/// Where a walk starts, as a family's [`Generation::start`] prepares it.
pub struct Start {
    /// The initial (noisy) latents.
    pub latents: Latents,
    /// Timesteps to walk, each a scalar f32 tensor, in order.
    pub timesteps: Vec<Tensor>,
    /// The schedulers, with their timesteps set and their begin index at the first walked one.
    pub schedulers: Schedulers,
    /// Index of the first walked timestep in the schedulers' schedules (0 for
    /// a full walk; the strength start for video-to-video).
    pub begin: usize,
    /// Per-token conditioning of the video latent, blended into every step's
    /// guided clean sample (image-to-video's first frame); `None` for none.
    pub condition: Option<VideoCondition>,
    /// The same for the audio latent (an extension's held sound); `None` for none.
    pub audio_condition: Option<VideoCondition>,
}

/// One step of the walk as a family sees it.
pub struct Step<'a> {
    /// Index into the walked timesteps.
    pub index: usize,
    /// Number of walked timesteps.
    pub total: usize,
    /// The timestep (scalar f32 tensor).
    pub t: &'a Tensor,
}

/// The loop's speed options (set by the pipeline builder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkOptions {
    /// Run a step's guidance branches as one batched forward (else one forward each).
    pub batch_guidance: bool,
    /// Step caching (first-block cache, [`crate::nn::step_cache`]): reuse the
    /// later blocks' residual while the first block's residual changes
    /// relatively less than this threshold. `None` (the default) is off.
    pub step_cache: Option<f32>,
    /// The experimental motion guidance of the late steps
    /// ([`crate::denoise::motion`]); `None` (the default) is off.
    pub motion_guidance: Option<MotionGuidance>,
}

impl Default for WalkOptions {
    /// Batched guidance on, step caching off.
    fn default() -> Self {
        Self {
            batch_guidance: true,
            step_cache: None,
            motion_guidance: None,
        }
    }
}

/// What a walk measured and decided.
#[derive(Debug, Clone, Default)]
pub struct WalkReport {
    /// Seconds of each step (synchronised with the device).
    pub steps_s: Vec<f64>,
    /// Step caching's decisions, when it was on.
    pub step_cache: Option<StepCacheStats>,
}

/// The noise level of `sched` at schedule index `i`, when it has sigmas.
fn sigma_at(sched: &dyn Scheduler, i: usize) -> Option<f64> {
    sched.sigmas().and_then(|s| s.get(i)).map(|v| f64::from(*v))
}

fn check_finite(t: &Tensor, what: &str) -> Result<()> {
    let bad = t.f_isfinite()?.f_logical_not()?.f_any()?;
    if bad.int64_value(&[]) != 0 {
        return Err(Error::Numeric(format!("{what} contain NaN or infinity")));
    }
    Ok(())
}

/// Runs one step's branches, batched or one by one, through the step cache.
fn predict(
    gen: &mut dyn Generation,
    x: &Latents,
    step: &Step,
    plan: &GuidancePlan,
    opts: &WalkOptions,
    cache: &mut Option<StepCache>,
) -> Result<Vec<Latents>> {
    let groups: Vec<&[crate::nn::step_cache::BranchId]> = if opts.batch_guidance {
        vec![plan.branches.as_slice()]
    } else {
        plan.branches.chunks(1).collect()
    };
    let mut preds = Vec::with_capacity(plan.branches.len());
    for group in groups {
        let entry = cache
            .as_mut()
            .map(|c| c.entry(BranchKey::new(plan.model, group), step.index, step.total));
        let out = gen.forward(x, step, plan.model, group, entry)?;
        if out.len() != group.len() {
            return Err(Error::invalid(format!(
                "the model returned {} predictions for {} branches",
                out.len(),
                group.len()
            )));
        }
        preds.extend(out);
    }
    Ok(preds)
}

/// Walks `start` to the denoised latents with `gen`'s model (see the module docs).
pub fn walk(
    gen: &mut dyn Generation,
    start: Start,
    opts: &WalkOptions,
    device: Device,
    progress: &mut Progress,
) -> Result<(Latents, WalkReport)> {
    let Start {
        latents,
        timesteps,
        mut schedulers,
        begin,
        condition,
        audio_condition,
    } = start;
    let mut cache = match opts.step_cache {
        Some(t) => Some(StepCache::new(t)?),
        None => None,
    };
    if latents.audio.is_some() != schedulers.audio.is_some() {
        return Err(Error::invalid(
            "an audio latent needs an audio scheduler, and one only",
        ));
    }
    if let Some(g) = &opts.motion_guidance {
        g.check()?;
        if !gen.video_latent_is_frames_major() {
            return Err(Error::Unsupported(
                "motion guidance: this family's video latents are not laid out [batch, channels, frames, ...]".into(),
            ));
        }
    }
    // Frames the generation holds fixed (a clip's tail being extended): set
    // at the start and after every step.
    let mut held = gen.held_frames();
    let mut x = latents;
    if let Some(h) = held.as_mut() {
        x.video = h.apply(&x.video, sigma_at(schedulers.video.as_ref(), begin))?;
    }
    let total = timesteps.len();
    let t_den = Instant::now();
    let mut steps_s = Vec::with_capacity(total);
    for (index, t) in timesteps.iter().enumerate() {
        progress.check()?;
        let t_step = Instant::now();
        let step = Step { index, total, t };
        let plan = gen.plan(&step)?;
        plan.check()?;
        let preds = predict(gen, &x, &step, &plan, opts, &mut cache)?;
        let sigma = PerModality {
            video: sigma_at(schedulers.video.as_ref(), begin + index),
            audio: schedulers
                .audio
                .as_ref()
                .and_then(|s| sigma_at(s.as_ref(), begin + index)),
        };
        let mut guided = plan.combine_conditioned(
            &x,
            &preds,
            sigma,
            condition.as_ref(),
            audio_condition.as_ref(),
        )?;
        drop(preds);
        if let Some(g) = opts.motion_guidance.filter(|g| g.acts_on(index, total)) {
            let s = sigma.video.ok_or_else(|| {
                Error::Unsupported(
                    "motion guidance needs a video scheduler with noise levels (sigmas)".into(),
                )
            })?;
            guided.video = g.apply(&x.video, &guided.video, s)?;
        }
        let mut video = schedulers.video.step(&guided.video, t, &x.video)?;
        if let Some(h) = held.as_mut() {
            video = h.apply(
                &video,
                sigma_at(schedulers.video.as_ref(), begin + index + 1),
            )?;
        }
        let audio = match (&x.audio, guided.audio, schedulers.audio.as_mut()) {
            (Some(a), Some(g), Some(s)) => Some(s.step(&g, t, a)?),
            _ => None,
        };
        x = Latents { video, audio };
        device.synchronize();
        steps_s.push(t_step.elapsed().as_secs_f64());
        progress.report(Phase::Denoise, index + 1, total, t_den)?;
    }
    check_finite(&x.video, "the denoised latents")?;
    if let Some(a) = &x.audio {
        check_finite(a, "the denoised audio latents")?;
    }
    Ok((
        x,
        WalkReport {
            steps_s,
            step_cache: cache.as_ref().map(StepCache::stats),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::denoise::plan::{Form, Space, Term, COND, ISOLATED, PERTURBED, UNCOND};
    use crate::family::FrameSink;
    use crate::nn::step_cache::{BranchId, CachedStep};
    use crate::pipeline::noise::Noise;
    use crate::pipeline::progress::CancelToken;
    use crate::sampler::{FlowMatchEulerConfig, FlowMatchEulerScheduler};

    const BRANCHES: [BranchId; 4] = [COND, UNCOND, PERTURBED, ISOLATED];

    /// Per branch, the fake model's velocity `a·x + b` (video, audio).
    fn coeffs(b: BranchId) -> [(f64, f64); 2] {
        match b.name() {
            "cond" => [(0.5, 0.1), (-0.25, 0.3)],
            "uncond" => [(0.25, -0.2), (0.75, 0.0)],
            "perturbed" => [(0.4, 0.05), (-0.5, 0.2)],
            _ => [(0.6, -0.1), (0.1, 0.4)],
        }
    }

    /// A two-modality family whose model is `coeffs`, counting its forwards.
    struct Fake {
        forwards: Vec<usize>,
        plan: GuidancePlan,
        x0: [Vec<f32>; 2],
    }

    fn scheduler(steps: usize) -> Box<dyn Scheduler> {
        let mut s = FlowMatchEulerScheduler::new(FlowMatchEulerConfig::default()).unwrap();
        s.set_timesteps(steps).unwrap();
        s.set_begin_index(0);
        Box::new(s)
    }

    impl Generation for Fake {
        fn start(&mut self, _noise: &mut Noise) -> Result<Start> {
            let sched = scheduler(3);
            let ts = sched.timesteps().shallow_clone();
            let timesteps = (0..3).map(|i| ts.get(i)).collect();
            let audio = scheduler(3);
            Ok(Start {
                // [1, n]: a batch of one, as the models' latents are.
                latents: Latents::joint(
                    Tensor::from_slice(&self.x0[0]).view([1, -1]),
                    Tensor::from_slice(&self.x0[1]).view([1, -1]),
                ),
                timesteps,
                schedulers: Schedulers {
                    video: sched,
                    audio: Some(audio),
                },
                begin: 0,
                condition: None,
                audio_condition: None,
            })
        }
        fn plan(&mut self, _step: &Step) -> Result<GuidancePlan> {
            Ok(self.plan.clone())
        }
        fn forward(
            &mut self,
            x: &Latents,
            _step: &Step,
            _model: usize,
            branches: &[BranchId],
            _cache: Option<CachedStep<'_>>,
        ) -> Result<Vec<Latents>> {
            self.forwards.push(branches.len());
            branches
                .iter()
                .map(|b| {
                    let [(av, bv), (aa, ba)] = coeffs(*b);
                    let audio = x.audio.as_ref().expect("audio latents");
                    Ok(Latents::joint(
                        x.video.f_mul_scalar(av)?.f_add_scalar(bv)?,
                        audio.f_mul_scalar(aa)?.f_add_scalar(ba)?,
                    ))
                })
                .collect()
        }
        fn decode(self: Box<Self>, _x: Latents, _sink: &mut dyn FrameSink) -> Result<()> {
            Ok(())
        }
    }

    fn four_branch_plan(rescale: f64) -> GuidancePlan {
        GuidancePlan {
            model: 0,
            branches: BRANCHES.to_vec(),
            terms: vec![
                Term {
                    branch: UNCOND,
                    scale: PerModality {
                        video: 2.0,
                        audio: 6.0,
                    },
                },
                Term {
                    branch: PERTURBED,
                    scale: PerModality {
                        video: 1.0,
                        audio: 0.5,
                    },
                },
                Term {
                    branch: ISOLATED,
                    scale: PerModality {
                        video: 2.0,
                        audio: 2.0,
                    },
                },
            ],
            form: Form::Deltas,
            space: Space::X0,
            rescale: PerModality {
                video: rescale,
                audio: 0.0,
            },
        }
    }

    /// The walk computed by hand in f64: x0 = x − σ·v per branch, guided
    /// x0 = x0_c + Σ w·(x0_c − x0_b), optional rescale, v = (x − x0)/σ, Euler.
    fn by_hand(x0: &[f32], m: usize, plan: &GuidancePlan, sigmas: &[f32]) -> Vec<f64> {
        let mut x: Vec<f64> = x0.iter().map(|v| f64::from(*v)).collect();
        let w = |t: &Term| {
            if m == 0 {
                t.scale.video
            } else {
                t.scale.audio
            }
        };
        let phi = if m == 0 {
            plan.rescale.video
        } else {
            plan.rescale.audio
        };
        for i in 0..sigmas.len() - 1 {
            let s = f64::from(sigmas[i]);
            let x0_of = |b: BranchId, x: &[f64]| -> Vec<f64> {
                let (a, c) = coeffs(b)[m];
                x.iter().map(|xi| xi - (a * xi + c) * s).collect()
            };
            let cond = x0_of(COND, &x);
            let mut g = cond.clone();
            for t in &plan.terms {
                let other = x0_of(t.branch, &x);
                for k in 0..g.len() {
                    g[k] += w(t) * (cond[k] - other[k]);
                }
            }
            if phi > 0.0 {
                let sd = |v: &[f64]| {
                    let n = v.len() as f64;
                    let mean = v.iter().sum::<f64>() / n;
                    (v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / (n - 1.0)).sqrt()
                };
                let k = sd(&cond) / sd(&g);
                g = g.iter().map(|gi| phi * gi * k + (1.0 - phi) * gi).collect();
            }
            let dt = f64::from(sigmas[i + 1]) - s;
            x = x
                .iter()
                .zip(&g)
                .map(|(xi, gi)| xi + dt * (xi - gi) / s)
                .collect();
        }
        x
    }

    fn run(plan: GuidancePlan, batch: bool) -> (Latents, Vec<usize>) {
        let mut fake = Fake {
            forwards: Vec::new(),
            plan,
            x0: [vec![1.0, -0.5, 0.25, 2.0], vec![0.5, 1.5, -1.0]],
        };
        let start = fake.start(&mut Noise::new(0)).unwrap();
        let opts = WalkOptions {
            batch_guidance: batch,
            ..WalkOptions::default()
        };
        let (x, report) =
            walk(&mut fake, start, &opts, Device::Cpu, &mut Progress::none()).unwrap();
        assert_eq!(report.steps_s.len(), 3);
        (x, fake.forwards)
    }

    fn values(t: &Tensor) -> Vec<f64> {
        Vec::<f32>::try_from(t.flatten(0, -1))
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect()
    }

    #[test]
    fn four_branches_in_x0_space_equal_the_hand_computation() {
        let sigmas: Vec<f32> = scheduler(3).sigmas().unwrap().to_vec();
        for rescale in [0.0, 0.7] {
            let plan = four_branch_plan(rescale);
            for batch in [true, false] {
                let (x, forwards) = run(plan.clone(), batch);
                let want = if batch { vec![4; 3] } else { vec![1; 12] };
                assert_eq!(forwards, want, "batch_guidance {batch}");
                let inputs = [vec![1.0f32, -0.5, 0.25, 2.0], vec![0.5, 1.5, -1.0]];
                let got = [values(&x.video), values(x.audio.as_ref().unwrap())];
                for m in 0..2 {
                    let hand = by_hand(&inputs[m], m, &plan, &sigmas);
                    for (g, h) in got[m].iter().zip(&hand) {
                        assert!(
                            (g - h).abs() < 1e-4 * h.abs().max(1.0),
                            "modality {m}, rescale {rescale}: {g} vs {h}"
                        );
                    }
                }
            }
        }
    }

    /// A video-only model `v = 0.5·x + 0.1` on latents `[1, 1, F, 1]`,
    /// holding `held` (if any).
    struct Elementwise {
        held: Option<crate::denoise::HeldFrames>,
    }

    impl Generation for Elementwise {
        fn start(&mut self, _noise: &mut Noise) -> Result<Start> {
            let sched = scheduler(4);
            let ts = sched.timesteps().shallow_clone();
            Ok(Start {
                latents: Latents::video(
                    Tensor::from_slice(&[0.3f32, -1.2, 0.8, 1.5, -0.4]).view([1, 1, 5, 1]),
                ),
                timesteps: (0..4).map(|i| ts.get(i)).collect(),
                schedulers: Schedulers {
                    video: sched,
                    audio: None,
                },
                begin: 0,
                condition: None,
                audio_condition: None,
            })
        }
        fn plan(&mut self, _step: &Step) -> Result<GuidancePlan> {
            Ok(GuidancePlan::unguided(0))
        }
        fn forward(
            &mut self,
            x: &Latents,
            _step: &Step,
            _model: usize,
            branches: &[BranchId],
            _cache: Option<CachedStep<'_>>,
        ) -> Result<Vec<Latents>> {
            branches
                .iter()
                .map(|_| {
                    Ok(Latents::video(
                        x.video.f_mul_scalar(0.5)?.f_add_scalar(0.1)?,
                    ))
                })
                .collect()
        }
        fn decode(self: Box<Self>, _x: Latents, _sink: &mut dyn FrameSink) -> Result<()> {
            Ok(())
        }
        fn held_frames(&self) -> Option<crate::denoise::HeldFrames> {
            self.held.clone()
        }
    }

    #[test]
    fn held_frames_end_exact_and_leave_the_others_alone() {
        use crate::denoise::{HeldFrames, Hold};
        let run = |held: Option<HeldFrames>| {
            let mut g = Elementwise { held };
            let start = g.start(&mut Noise::new(0)).unwrap();
            let (x, _) = walk(
                &mut g,
                start,
                &WalkOptions::default(),
                Device::Cpu,
                &mut Progress::none(),
            )
            .unwrap();
            values(&x.video)
        };
        let free = run(None);
        let clean = Tensor::from_slice(&[2.0f32, -3.0]).view([1, 1, 2, 1]);
        for how in [Hold::Clean, Hold::Renoised] {
            let got = run(Some(HeldFrames::leading(&clean, 5, how).unwrap()));
            assert_eq!(&got[..2], &[2.0, -3.0], "{how:?}");
            // The model and the scheduler act per element: the generated frames are the free walk's.
            assert_eq!(&got[2..], &free[2..], "{how:?}");
        }
    }

    #[test]
    fn the_modalities_take_their_own_scales() {
        // Same plan with the audio scales swapped in: the video is unchanged,
        // the audio differs.
        let a = run(four_branch_plan(0.0), true).0;
        let mut swapped = four_branch_plan(0.0);
        for t in &mut swapped.terms {
            t.scale.audio = t.scale.video;
        }
        let b = run(swapped, true).0;
        assert!(a.video.equal(&b.video));
        assert!(!a.audio.unwrap().equal(&b.audio.unwrap()));
    }

    #[test]
    fn a_bad_plan_cancellation_and_nan_audio_are_typed_errors() {
        let mut bad = four_branch_plan(0.0);
        bad.branches = vec![UNCOND, COND];
        let mut fake = Fake {
            forwards: Vec::new(),
            plan: bad,
            x0: [vec![1.0], vec![1.0]],
        };
        let start = fake.start(&mut Noise::new(0)).unwrap();
        let opts = WalkOptions {
            batch_guidance: true,
            ..WalkOptions::default()
        };
        assert!(matches!(
            walk(&mut fake, start, &opts, Device::Cpu, &mut Progress::none()),
            Err(Error::InvalidRequest(_))
        ));

        // Motion guidance on latents not laid out [batch, channels, frames, ...].
        let mut fake = Fake {
            forwards: Vec::new(),
            plan: four_branch_plan(0.0),
            x0: [vec![1.0], vec![1.0]],
        };
        let start = fake.start(&mut Noise::new(0)).unwrap();
        let motion = WalkOptions {
            motion_guidance: Some(crate::denoise::MotionGuidance {
                strength: 0.5,
                from: 0.5,
            }),
            ..WalkOptions::default()
        };
        assert!(matches!(
            walk(
                &mut fake,
                start,
                &motion,
                Device::Cpu,
                &mut Progress::none()
            ),
            Err(Error::Unsupported(_))
        ));

        let token = CancelToken::new();
        token.cancel();
        let mut fake = Fake {
            forwards: Vec::new(),
            plan: four_branch_plan(0.0),
            x0: [vec![1.0], vec![1.0]],
        };
        let start = fake.start(&mut Noise::new(0)).unwrap();
        let mut progress = Progress::none().token(token);
        assert!(matches!(
            walk(&mut fake, start, &opts, Device::Cpu, &mut progress),
            Err(Error::Cancelled)
        ));
        assert!(fake.forwards.is_empty());

        let mut fake = Fake {
            forwards: Vec::new(),
            plan: four_branch_plan(0.0),
            x0: [vec![1.0], vec![f32::NAN]],
        };
        let start = fake.start(&mut Noise::new(0)).unwrap();
        match walk(&mut fake, start, &opts, Device::Cpu, &mut Progress::none()) {
            Err(Error::Numeric(m)) => assert!(m.contains("audio"), "{m}"),
            Err(e) => panic!("expected a numeric error, got {e}"),
            Ok(_) => panic!("expected a numeric error"),
        }
    }
}
