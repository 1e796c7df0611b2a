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

use tch::Tensor;

use crate::{Error, Result};

/// A diffusion scheduler as diffusers defines one: a list of timesteps and a
/// step rule. Implementations are built from `scheduler/scheduler_config.json`
/// (see [`from_config`]).
///
/// The walk, as diffusers' pipelines drive it:
/// 1. [`set_timesteps`](Self::set_timesteps) (resets all state, including the begin index);
/// 2. for video-to-video, keep the timesteps from
///    [`strength_start`](Self::strength_start) on and noise the clean latents with
///    [`noise_to`](Self::noise_to) at the first kept timestep;
/// 3. for each walked timestep `t`: `sample = step(model_output, t, sample)`.
///
/// The step index is found on the first `step` from the timestep's value (as
/// diffusers' `index_for_timestep` does) unless [`set_begin_index`](Self::set_begin_index)
/// gave it; after that it advances by one per `step`.
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
    /// Starts the walk at timestep index `begin` (video-to-video); cleared by `set_timesteps`.
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
