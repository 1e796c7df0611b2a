//! Schedulers (the timestep walk and the update rule) and guidance, shared by every family.

pub mod flow_match;
pub mod guidance;
pub mod load;
pub mod unipc;

pub use load::from_config;

use tch::Tensor;

use crate::Result;

/// A diffusion scheduler as diffusers defines one: a list of timesteps and a
/// step rule. Implementations are built from `scheduler/scheduler_config.json`.
pub trait Scheduler: Send {
    /// Prepares `num_inference_steps` timesteps (resets any multistep state).
    fn set_timesteps(&mut self, num_inference_steps: usize) -> Result<()>;
    /// The timesteps, a 1-D f32 tensor on the CPU, in the order they are walked.
    fn timesteps(&self) -> &Tensor;
    /// One update: the sample at the next timestep from the model output at `timestep`.
    fn step(&mut self, model_output: &Tensor, timestep: &Tensor, sample: &Tensor)
        -> Result<Tensor>;
    /// Noises a clean sample to `timestep` (video-to-video): flow-matching
    /// schedulers use `scale_noise`, others `add_noise`, as diffusers' pipelines do.
    fn noise_to(&self, original: &Tensor, noise: &Tensor, timestep: &Tensor) -> Result<Tensor>;
    /// The scheduler's order (how many timesteps per inference step).
    fn order(&self) -> usize {
        1
    }
    /// Starts the walk at timestep index `begin` (video-to-video).
    fn set_begin_index(&mut self, begin: usize);
    /// Clones the scheduler in its current state.
    fn box_clone(&self) -> Box<dyn Scheduler>;
}
