//! Schedulers (the timestep walk and the update rule) and guidance, shared by every family.
//!
//! The schedulers equal diffusers 0.42.1 value for value: [`flow_match`]
//! (`FlowMatchEulerDiscreteScheduler`) and [`unipc`] (`UniPCMultistepScheduler`),
//! built from a `scheduler_config.json` by [`from_config`].

pub mod flow_match;
pub mod guidance;
pub mod load;
pub mod unipc;

pub use flow_match::{FlowMatchEulerConfig, FlowMatchEulerScheduler};
pub use load::{from_config, from_value};
pub use unipc::{UniPcConfig, UniPcScheduler};

use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// A diffusion scheduler as diffusers defines one: a list of timesteps and a
/// step rule. Implementations are built from `scheduler/scheduler_config.json`
/// (see [`from_config`]).
///
/// The walk, as diffusers' pipelines drive it:
/// 1. [`set_timesteps`](Self::set_timesteps) (resets all state, including the begin index);
/// 2. [`set_begin_index(0)`](Self::set_begin_index); for video-to-video, keep the
///    timesteps from [`strength_start`](Self::strength_start) on, set the begin
///    index to it, and noise the clean latents with [`noise_to`](Self::noise_to)
///    at the first kept timestep;
/// 3. for each walked timestep `t`: `sample = step(model_output, t, sample)`.
///
/// The step index is found on the first `step` from the timestep's value (as
/// diffusers' `index_for_timestep` does) unless [`set_begin_index`](Self::set_begin_index)
/// gave it; after that it advances by one per `step`. Pipelines set the begin
/// index (0 for a full walk, as diffusers' WanPipeline does): the lookup takes
/// the *second* occurrence of a repeated value, and long UniPC schedules repeat
/// their first timestep, so a walk without it starts one index late and steps
/// past the end. [`check_steps`] refuses up front the step counts a config cannot walk.
pub trait Scheduler: Send {
    /// Prepares `num_inference_steps` timesteps (resets any multistep state and the begin index).
    fn set_timesteps(&mut self, num_inference_steps: usize) -> Result<()>;
    /// The timesteps, a 1-D f32 tensor on the CPU, in the order they are walked.
    /// (UniPC's are integers, as diffusers' int64 timesteps; they are exact in f32.)
    fn timesteps(&self) -> &Tensor;
    /// One update: the sample at the next timestep from the model output at `timestep`
    /// (a scalar or one-element tensor holding one of [`timesteps`](Self::timesteps)).
    /// The output's dtype follows diffusers (flow-match Euler: the model output's;
    /// UniPC: the sample's).
    fn step(&mut self, model_output: &Tensor, timestep: &Tensor, sample: &Tensor)
        -> Result<Tensor>;
    /// Noises a clean sample to `timestep` (video-to-video): flow-matching
    /// schedulers use `scale_noise`, others `add_noise`, as diffusers' pipelines do.
    /// `timestep` is a scalar, or a 1-D tensor with one value per batch item.
    fn noise_to(&self, original: &Tensor, noise: &Tensor, timestep: &Tensor) -> Result<Tensor>;
    /// The scheduler's order (how many timesteps per inference step).
    fn order(&self) -> usize {
        1
    }
    /// Starts the walk at timestep index `begin` (0 for a full walk, the
    /// [`strength_start`](Self::strength_start) for video-to-video); cleared by `set_timesteps`.
    fn set_begin_index(&mut self, begin: usize);
    /// Clones the scheduler in its current state.
    fn box_clone(&self) -> Box<dyn Scheduler>;

    /// Like [`set_timesteps`](Self::set_timesteps) with the extra arguments some
    /// pipelines pass to diffusers' `set_timesteps`: explicit `sigmas` (then
    /// `num_inference_steps` may be `None`) and `mu`, the resolution-dependent shift
    /// of configs with `use_dynamic_shifting`. Schedulers that take neither
    /// return [`Error::Unsupported`] when one is given.
    fn set_timesteps_with(
        &mut self,
        num_inference_steps: Option<usize>,
        sigmas: Option<&[f32]>,
        mu: Option<f64>,
    ) -> Result<()> {
        match (num_inference_steps, sigmas, mu) {
            (Some(n), None, None) => self.set_timesteps(n),
            (_, Some(_), _) => Err(Error::Unsupported(
                "custom `sigmas` for this scheduler".into(),
            )),
            (_, _, Some(_)) => Err(Error::Unsupported("`mu` for this scheduler".into())),
            (None, None, None) => Err(Error::invalid(
                "set_timesteps needs num_inference_steps or sigmas",
            )),
        }
    }
    /// The noise levels of the current schedule (one more than the timesteps: the
    /// final level is appended), when the scheduler has them.
    fn sigmas(&self) -> Option<&[f32]> {
        None
    }
    /// The index of the next step into the timesteps, once the walk has started.
    fn step_index(&self) -> Option<usize> {
        None
    }
    /// Video-to-video (diffusers' `get_timesteps`): the index of the first walked
    /// timestep when only `strength` (in [0, 1]) of `num_inference_steps` is re-run;
    /// the walk is `timesteps[start..]` and the clean latents are noised to `timesteps[start]`.
    fn strength_start(&self, num_inference_steps: usize, strength: f64) -> usize {
        // `int(n * strength)`: truncation toward zero (negative values become 0).
        let init = ((num_inference_steps as f64 * strength) as usize).min(num_inference_steps);
        num_inference_steps.saturating_sub(init) * self.order()
    }
}

/// Refuses, before any work, a step count whose walk diffusers itself cannot
/// finish with finite samples, with an [`Error::InvalidRequest`] that names a
/// step count that works.
///
/// Some scheduler configs make diffusers' update divide by a zero step, or
/// multiply by an infinite one, at some step counts, and the samples turn NaN
/// (UniPC: two equal sigmas, as the VP `"linspace"` and `"leading"` spacings
/// give at 1000 steps, and `"leading"` with `steps_offset = 1` at 999; a
/// second-order step onto a zero final sigma with `lower_order_final = false`;
/// `"bh1"` onto a zero final sigma, at any count). The Wan configs
/// (flow sigmas, `"bh2"`, `lower_order_final`) walk every count.
/// This dry-runs the walk as the pipelines run it (from index 0, or from the
/// video-to-video start of `strength`) on a one-value sample: the port computes
/// what diffusers computes, so a walk that stays finite here stays finite there.
/// The scheduler itself is left untouched (the walk runs on a clone).
pub fn check_steps(
    scheduler: &dyn Scheduler,
    num_inference_steps: usize,
    strength: Option<f64>,
) -> Result<()> {
    let Some(bad) = first_failing_step(scheduler, num_inference_steps, strength)? else {
        return Ok(());
    };
    // A count that works, for the message: by bisection between 1 (works) and
    // the asked count (fails), one that works while the next one does not.
    let works =
        |n: usize| -> Result<bool> { Ok(first_failing_step(scheduler, n, None)?.is_none()) };
    let hint = if num_inference_steps > 1 && works(1)? {
        let (mut lo, mut hi) = (1, num_inference_steps);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if works(mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let unit = if lo == 1 { "step works" } else { "steps work" };
        format!("{lo} {unit}")
    } else {
        "no step count does with this scheduler config (see its solver_type, \
         final_sigmas_type and lower_order_final)"
            .to_string()
    };
    Err(Error::invalid(format!(
        "{num_inference_steps} steps cannot be run with this scheduler config: its update \
         (as diffusers computes it) gives non-finite samples at step {} of {num_inference_steps}; {hint}",
        bad + 1
    )))
}

/// The first step of a dry-run walk of `n` steps whose sample is not finite
/// (or whose update fails), `None` when the whole walk is finite.
fn first_failing_step(
    scheduler: &dyn Scheduler,
    n: usize,
    strength: Option<f64>,
) -> Result<Option<usize>> {
    let mut s = scheduler.box_clone();
    s.set_timesteps(n)?;
    let begin = strength.map_or(0, |st| s.strength_start(n, st));
    s.set_begin_index(begin);
    let ts = s.timesteps().shallow_clone();
    let len = usize::try_from(ts.size().first().copied().unwrap_or(0)).unwrap_or(0);
    let opts = (Kind::Float, Device::Cpu);
    let mut x = Tensor::f_ones([1, 1], opts)?;
    for i in begin..len {
        // Model outputs that differ from step to step, as real ones do.
        let out = Tensor::f_full([1, 1], 0.5 + 0.25 * (i % 7) as f64, opts)?;
        let finite = match s.step(&out, &ts.f_get(i as i64)?, &x) {
            Ok(next) => {
                x = next;
                x.f_isfinite()?.f_all()?.f_int64_value(&[])? != 0
            }
            Err(_) => false,
        };
        if !finite {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unipc(c: UniPcConfig) -> UniPcScheduler {
        UniPcScheduler::new(c).unwrap()
    }

    fn refusal(s: &dyn Scheduler, n: usize) -> String {
        match check_steps(s, n, None) {
            Err(Error::InvalidRequest(m)) => m,
            other => panic!("{n} steps: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn wan_and_euler_schedules_walk_every_step_count_at_the_edges() {
        let wan = unipc(UniPcConfig::wan(3.0));
        let euler = FlowMatchEulerScheduler::new(FlowMatchEulerConfig {
            shift: 5.0,
            ..Default::default()
        })
        .unwrap();
        for n in [1, 2, 333, 334, 999, 1000] {
            check_steps(&wan, n, None).unwrap();
            check_steps(&wan, n, Some(0.6)).unwrap();
            check_steps(&euler, n, None).unwrap();
        }
        // The checked scheduler is left as it was.
        assert_eq!(wan.num_inference_steps(), None);
    }

    #[test]
    fn counts_diffusers_cannot_walk_are_refused_with_one_that_works() {
        // VP linspace: 1000 steps repeat a timestep (two equal sigmas, h = 0).
        let vp = unipc(UniPcConfig::default());
        let m = refusal(&vp, 1000);
        assert!(
            m.contains("1000 steps") && m.ends_with("999 steps work"),
            "{m}"
        );
        check_steps(&vp, 999, None).unwrap();
        // A second-order step onto the zero final sigma: only 1 step is finite.
        let nolof = unipc(UniPcConfig {
            lower_order_final: false,
            ..UniPcConfig::wan(3.0)
        });
        check_steps(&nolof, 1, None).unwrap();
        let m = refusal(&nolof, 2);
        assert!(
            m.contains("at step 2 of 2") && m.ends_with("1 step works"),
            "{m}"
        );
        // The same with sigma_min as the final sigma is finite.
        let sigma_min = unipc(UniPcConfig {
            lower_order_final: false,
            final_sigmas_type: "sigma_min".into(),
            ..UniPcConfig::wan(3.0)
        });
        check_steps(&sigma_min, 1000, None).unwrap();
        // bh1 onto a zero final sigma: no count works.
        let bh1 = unipc(UniPcConfig {
            solver_type: "bh1".into(),
            ..UniPcConfig::wan(3.0)
        });
        assert!(refusal(&bh1, 1).contains("no step count"));
        assert!(refusal(&bh1, 50).contains("no step count"));
    }
}
