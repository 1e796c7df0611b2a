//! Flow-matching Euler scheduler (diffusers' `FlowMatchEulerDiscreteScheduler`).
//!
//! The schedule is computed in the same precision as diffusers at every stage
//! (numpy float64 for the default schedule, float32 for explicit sigmas, torch
//! float32 at the end), so timesteps and sigmas are bit-equal; the step
//! `prev = sample + (sigma_next - sigma) · model_output` runs in float32 and is
//! cast back to the model output's dtype, as diffusers does. This file also holds
//! the small numpy-exact helpers the UniPC scheduler shares.

use std::ops::{Add, Div, Mul, Sub};

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::Scheduler;
use crate::{Error, Result};

/// `scheduler_config.json` of a `FlowMatchEulerDiscreteScheduler` (field names as diffusers').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowMatchEulerConfig {
    /// Training timesteps (1000).
    pub num_train_timesteps: usize,
    /// Static timestep shift (1.0: none).
    pub shift: f64,
    /// Resolution-dependent shifting: `set_timesteps_with` then needs `mu`.
    pub use_dynamic_shifting: bool,
    /// Smallest `mu` of the resolution-dependent shift (used by pipelines to compute `mu`).
    pub base_shift: Option<f64>,
    /// Largest `mu` of the resolution-dependent shift (used by pipelines to compute `mu`).
    pub max_shift: Option<f64>,
    /// Sequence length at `base_shift` (used by pipelines to compute `mu`).
    pub base_image_seq_len: usize,
    /// Sequence length at `max_shift` (used by pipelines to compute `mu`).
    pub max_image_seq_len: usize,
    /// Walks `1 - sigma` (Mochi).
    pub invert_sigmas: bool,
    /// Stretches the shifted schedule so that it ends at this value.
    pub shift_terminal: Option<f64>,
    /// Karras spacing of the sigmas.
    pub use_karras_sigmas: bool,
    /// Exponential spacing of the sigmas.
    pub use_exponential_sigmas: bool,
    /// Beta-distribution spacing of the sigmas (not supported: needs scipy's beta ppf).
    pub use_beta_sigmas: bool,
    /// `"exponential"` or `"linear"` resolution-dependent shift.
    pub time_shift_type: String,
    /// Stochastic sampling (not supported: needs diffusers' random generator).
    pub stochastic_sampling: bool,
}

impl Default for FlowMatchEulerConfig {
    fn default() -> Self {
        Self {
            num_train_timesteps: 1000,
            shift: 1.0,
            use_dynamic_shifting: false,
            base_shift: Some(0.5),
            max_shift: Some(1.15),
            base_image_seq_len: 256,
            max_image_seq_len: 4096,
            invert_sigmas: false,
            shift_terminal: None,
            use_karras_sigmas: false,
            use_exponential_sigmas: false,
            use_beta_sigmas: false,
            time_shift_type: "exponential".into(),
            stochastic_sampling: false,
        }
    }
}

/// The resolution-dependent shift family (`time_shift_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeShift {
    /// `e^mu / (e^mu + (1/t - 1))`.
    Exponential,
    /// `mu / (mu + (1/t - 1))`.
    Linear,
}

impl TimeShift {
    pub(super) fn parse(s: &str) -> Result<Self> {
        match s {
            "exponential" => Ok(Self::Exponential),
            "linear" => Ok(Self::Linear),
            other => Err(Error::invalid(format!(
                "time_shift_type must be \"exponential\" or \"linear\", got {other:?}"
            ))),
        }
    }
}

/// Euler sampler on the flow-matching ODE, equal to diffusers' `FlowMatchEulerDiscreteScheduler`.
pub struct FlowMatchEulerScheduler {
    config: FlowMatchEulerConfig,
    time_shift: TimeShift,
    shift: f64,
    timesteps: Tensor,
    ts: Vec<f32>,
    sigmas: Vec<f32>,
    sigma_min: f64,
    sigma_max: f64,
    num_inference_steps: Option<usize>,
    step_index: Option<usize>,
    begin_index: Option<usize>,
}

impl FlowMatchEulerScheduler {
    /// Builds the scheduler (its training schedule) from a config. Options this
    /// build does not implement give [`Error::Unsupported`] naming the field;
    /// contradictory values give [`Error::InvalidRequest`].
    pub fn new(config: FlowMatchEulerConfig) -> Result<Self> {
        let c = &config;
        if c.use_beta_sigmas {
            return Err(Error::Unsupported(
                "FlowMatchEulerDiscreteScheduler: use_beta_sigmas = true".into(),
            ));
        }
        if c.stochastic_sampling {
            return Err(Error::Unsupported(
                "FlowMatchEulerDiscreteScheduler: stochastic_sampling = true".into(),
            ));
        }
        if c.use_karras_sigmas && c.use_exponential_sigmas {
            return Err(Error::invalid(
                "only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be used",
            ));
        }
        if c.num_train_timesteps == 0 {
            return Err(Error::invalid("num_train_timesteps must be at least 1"));
        }
        let time_shift = TimeShift::parse(&c.time_shift_type)?;
        let n = c.num_train_timesteps;
        let nf = n as f32;
        // np.linspace(1, N, N, float32)[::-1] / N, shifted in torch float32.
        let mut sigmas: Vec<f32> = (0..n).map(|i| (n - i) as f32 / nf).collect();
        if !c.use_dynamic_shifting {
            shift_sigmas(&mut sigmas, c.shift);
        }
        let ts: Vec<f32> = sigmas.iter().map(|s| s * nf).collect();
        let sigma_min = f64::from(sigmas[n - 1]);
        let sigma_max = f64::from(sigmas[0]);
        Ok(Self {
            shift: c.shift,
            time_shift,
            timesteps: Tensor::f_from_slice(&ts)?,
            ts,
            sigmas,
            sigma_min,
            sigma_max,
            num_inference_steps: None,
            step_index: None,
            begin_index: None,
            config,
        })
    }

    /// The config the scheduler was built from.
    pub fn config(&self) -> &FlowMatchEulerConfig {
        &self.config
    }

    /// The shift used by the next `set_timesteps` (diffusers' `shift` property).
    pub fn shift(&self) -> f64 {
        self.shift
    }

    /// Changes the shift used by the next `set_timesteps` (diffusers' `set_shift`).
    pub fn set_shift(&mut self, shift: f64) {
        self.shift = shift;
    }

    /// Number of inference steps of the current schedule (`None` before `set_timesteps`).
    pub fn num_inference_steps(&self) -> Option<usize> {
        self.num_inference_steps
    }

    /// The begin index given by `set_begin_index`, if any.
    pub fn begin_index(&self) -> Option<usize> {
        self.begin_index
    }

    /// diffusers' `set_timesteps(num_inference_steps, sigmas=, mu=)`: the default
    /// schedule is `linspace(sigma_max, sigma_min, n)` in float64; explicit `sigmas`
    /// are taken in float32; then the static or dynamic shift, the terminal stretch,
    /// the Karras / exponential respacing and the inversion apply as configured.
    pub fn set_timesteps_full(
        &mut self,
        num_inference_steps: Option<usize>,
        sigmas: Option<&[f32]>,
        mu: Option<f64>,
    ) -> Result<()> {
        let c = &self.config;
        if c.use_dynamic_shifting && mu.is_none() {
            return Err(Error::invalid(
                "`mu` must be passed when `use_dynamic_shifting` is set to be `True`",
            ));
        }
        let n = match (num_inference_steps, sigmas) {
            (Some(n), Some(s)) if s.len() != n => {
                return Err(Error::invalid(format!(
                    "{} sigmas given for {n} inference steps",
                    s.len()
                )))
            }
            (Some(n), _) => n,
            (None, Some(s)) => s.len(),
            (None, None) => {
                return Err(Error::invalid(
                    "set_timesteps needs num_inference_steps or sigmas",
                ))
            }
        };
        if n == 0 {
            return Err(Error::invalid("num_inference_steps must be at least 1"));
        }
        let train = c.num_train_timesteps as f64;
        let shaping = Shaping {
            dynamic: if c.use_dynamic_shifting {
                mu.map(|m| (m, self.time_shift))
            } else {
                None
            },
            shift: self.shift,
            shift_terminal: c.shift_terminal.filter(|v| *v != 0.0),
            karras: c.use_karras_sigmas,
            exponential: c.use_exponential_sigmas,
        };
        let sig: Vec<f32> = match sigmas {
            // np.array(sigmas).astype(np.float32): numpy then works in float32.
            Some(s) => shaping.apply(s.to_vec(), n),
            None => {
                let ts = np_linspace(self.sigma_max * train, self.sigma_min * train, n);
                shaping.apply(ts.into_iter().map(|t| t / train).collect(), n)
            }
        };
        if sig.iter().any(|v| !v.is_finite()) {
            // `stretch_shift_to_terminal` divides by 1 − the last sigma: 0/0
            // when the schedule ends at 1 (one step from pure noise). diffusers
            // 0.42.1 runs on with NaN noise levels; refuse instead.
            return Err(Error::invalid(match shaping.shift_terminal {
                Some(t) => format!(
                    "{n} inference step(s) make no schedule with this scheduler's shift_terminal \
                     {t}: its stretch divides by 1 − the last noise level, which is 0 here \
                     (use at least 2 steps)"
                ),
                None => format!(
                    "{n} inference step(s) give a schedule with NaN or infinite noise levels"
                ),
            }));
        }
        let nf = c.num_train_timesteps as f32;
        let (mut sig, last) = if c.invert_sigmas {
            (sig.into_iter().map(|s| 1.0 - s).collect::<Vec<f32>>(), 1.0)
        } else {
            (sig, 0.0)
        };
        let ts: Vec<f32> = sig.iter().map(|s| s * nf).collect();
        sig.push(last);
        self.timesteps = Tensor::f_from_slice(&ts)?;
        self.ts = ts;
        self.sigmas = sig;
        self.num_inference_steps = Some(n);
        self.step_index = None;
        self.begin_index = None;
        Ok(())
    }

    /// diffusers' `index_for_timestep`: the position of `t` in the schedule (the
    /// second one when it occurs more than once); an error when it is absent.
    pub fn index_for_timestep(&self, t: f64) -> Result<usize> {
        index_of(&self.ts, t).ok_or_else(|| {
            Error::invalid(format!("timestep {t} is not in the scheduler's timesteps"))
        })
    }

    /// diffusers' `scale_noise`: `sigma · noise + (1 − sigma) · sample` with the
    /// sigma of `timestep` (or of the begin / current step index once set), in the
    /// sample's dtype.
    pub fn scale_noise(
        &self,
        sample: &Tensor,
        timestep: &Tensor,
        noise: &Tensor,
    ) -> Result<Tensor> {
        let values = timestep_values(timestep)?;
        let indices = match (self.begin_index, self.step_index) {
            (None, _) => values
                .iter()
                .map(|t| self.index_for_timestep(*t))
                .collect::<Result<Vec<_>>>()?,
            (Some(_), Some(i)) => vec![i; values.len()],
            (Some(b), None) => vec![b; values.len()],
        };
        let sigma = sigma_column(&self.sigmas, &indices, sample)?;
        let a = sigma.f_mul(noise)?;
        let b = sigma.f_rsub_scalar(1.0)?.f_mul(sample)?;
        Ok(a.f_add(&b)?)
    }

    fn init_step_index(&mut self, timestep: &Tensor) -> Result<usize> {
        let i = match self.begin_index {
            Some(b) => b,
            None => self.index_for_timestep(single_timestep(timestep)?)?,
        };
        self.step_index = Some(i);
        Ok(i)
    }
}

impl Clone for FlowMatchEulerScheduler {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            time_shift: self.time_shift,
            shift: self.shift,
            timesteps: self.timesteps.shallow_clone(),
            ts: self.ts.clone(),
            sigmas: self.sigmas.clone(),
            sigma_min: self.sigma_min,
            sigma_max: self.sigma_max,
            num_inference_steps: self.num_inference_steps,
            step_index: self.step_index,
            begin_index: self.begin_index,
        }
    }
}

impl Scheduler for FlowMatchEulerScheduler {
    fn set_timesteps(&mut self, num_inference_steps: usize) -> Result<()> {
        self.set_timesteps_full(Some(num_inference_steps), None, None)
    }

    fn set_timesteps_with(
        &mut self,
        num_inference_steps: Option<usize>,
        sigmas: Option<&[f32]>,
        mu: Option<f64>,
    ) -> Result<()> {
        self.set_timesteps_full(num_inference_steps, sigmas, mu)
    }

    fn timesteps(&self) -> &Tensor {
        &self.timesteps
    }

    fn step(
        &mut self,
        model_output: &Tensor,
        timestep: &Tensor,
        sample: &Tensor,
    ) -> Result<Tensor> {
        let i = match self.step_index {
            Some(i) => i,
            None => self.init_step_index(timestep)?,
        };
        let (Some(&sigma), Some(&sigma_next)) = (self.sigmas.get(i), self.sigmas.get(i + 1)) else {
            return Err(Error::invalid(format!(
                "step {i} is past the end of the schedule ({} timesteps)",
                self.ts.len()
            )));
        };
        // The sigmas live on the sample's device as 0-dim float32 tensors in diffusers.
        let dt = scalar_on(sigma_next - sigma, sample.device())?;
        let sample = sample.f_to_kind(Kind::Float)?;
        let prev = sample.f_add(&dt.f_mul(model_output)?)?;
        self.step_index = Some(i + 1);
        Ok(prev.f_to_kind(model_output.kind())?)
    }

    fn noise_to(&self, original: &Tensor, noise: &Tensor, timestep: &Tensor) -> Result<Tensor> {
        self.scale_noise(original, timestep, noise)
    }

    fn set_begin_index(&mut self, begin: usize) {
        self.begin_index = Some(begin);
    }

    fn box_clone(&self) -> Box<dyn Scheduler> {
        Box::new(self.clone())
    }

    fn sigmas(&self) -> Option<&[f32]> {
        Some(&self.sigmas)
    }

    fn step_index(&self) -> Option<usize> {
        self.step_index
    }
}

/// The sigma shaping steps of `set_timesteps` after the initial sigmas.
struct Shaping {
    dynamic: Option<(f64, TimeShift)>,
    shift: f64,
    shift_terminal: Option<f64>,
    karras: bool,
    exponential: bool,
}

impl Shaping {
    /// Shift (static or dynamic), terminal stretch, respacing, in `T`'s precision
    /// (numpy keeps float32 arrays in float32), then the cast to float32.
    fn apply<T: Real>(&self, mut s: Vec<T>, n: usize) -> Vec<f32> {
        match self.dynamic {
            Some((mu, kind)) => time_shift(&mut s, mu, kind),
            None => shift_sigmas(&mut s, self.shift),
        }
        if let Some(term) = self.shift_terminal {
            stretch_to_terminal(&mut s, term);
        }
        if self.karras {
            return to_f32(&karras(&s, n));
        }
        if self.exponential {
            return to_f32(&exponential(&s, n));
        }
        s.iter().map(|v| v.to_f32()).collect()
    }
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|x| *x as f32).collect()
}

/// Karras respacing (rho = 7) between the first and last input sigma, in float64.
fn karras<T: Real>(s: &[T], n: usize) -> Vec<f64> {
    let (Some(first), Some(last)) = (s.first(), s.last()) else {
        return Vec::new();
    };
    let rho = 7.0f64;
    let min_inv = last.to_f64().powf(1.0 / rho);
    let max_inv = first.to_f64().powf(1.0 / rho);
    np_linspace(0.0, 1.0, n)
        .into_iter()
        .map(|r| (max_inv + r * (min_inv - max_inv)).powf(rho))
        .collect()
}

/// Exponential respacing between the first and last input sigma, in float64.
fn exponential<T: Real>(s: &[T], n: usize) -> Vec<f64> {
    let (Some(first), Some(last)) = (s.first(), s.last()) else {
        return Vec::new();
    };
    np_linspace(first.to_f64().ln(), last.to_f64().ln(), n)
        .into_iter()
        .map(f64::exp)
        .collect()
}

/// Float types numpy computes a schedule in: float64 arrays, or float32 arrays
/// (with Python scalars cast to float32, numpy 2 rules).
pub(super) trait Real:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// A Python float as numpy uses it against an array of this type.
    fn of(v: f64) -> Self;
    /// Widened to float64.
    fn to_f64(self) -> f64;
    /// Rounded to float32.
    fn to_f32(self) -> f32;
}

impl Real for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl Real for f64 {
    fn of(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// Static shift `shift·s / (1 + (shift − 1)·s)`, in `T`'s precision.
pub(super) fn shift_sigmas<T: Real>(s: &mut [T], shift: f64) {
    let a = T::of(shift);
    let b = T::of(shift - 1.0);
    let one = T::of(1.0);
    for v in s.iter_mut() {
        *v = a * *v / (one + b * *v);
    }
}

/// Resolution-dependent shift with exponent 1 (`time_shift(mu, 1.0, s)`), in `T`'s precision.
pub(super) fn time_shift<T: Real>(s: &mut [T], mu: f64, kind: TimeShift) {
    let one = T::of(1.0);
    let m = match kind {
        TimeShift::Exponential => T::of(mu.exp()),
        TimeShift::Linear => T::of(mu),
    };
    for v in s.iter_mut() {
        // `(1/t - 1) ** 1.0` is the identity in numpy.
        *v = m / (m + (one / *v - one));
    }
}

/// Stretches the schedule so that it ends at `terminal` (`stretch_shift_to_terminal`).
pub(super) fn stretch_to_terminal<T: Real>(s: &mut [T], terminal: f64) {
    let one = T::of(1.0);
    let Some(&last) = s.last() else { return };
    let scale = (one - last) / T::of(1.0 - terminal);
    for v in s.iter_mut() {
        *v = one - (one - *v) / scale;
    }
}

/// `np.linspace(start, stop, num)` in float64, value for value.
pub(super) fn np_linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    let div = (num - 1) as f64;
    let delta = stop - start;
    let mut y: Vec<f64> = (0..num).map(|i| i as f64).collect();
    if num > 1 {
        let step = delta / div;
        if step == 0.0 {
            y.iter_mut().for_each(|v| *v = *v / div * delta);
        } else {
            y.iter_mut().for_each(|v| *v *= step);
        }
    } else {
        y.iter_mut().for_each(|v| *v *= delta);
    }
    y.iter_mut().for_each(|v| *v += start);
    if num > 1 {
        y[num - 1] = stop;
    }
    y
}

/// diffusers' `index_for_timestep` search: the second match when there are
/// several (so an image-to-image start does not skip a sigma), else the first.
pub(super) fn index_of(schedule: &[f32], t: f64) -> Option<usize> {
    let mut hits = schedule
        .iter()
        .enumerate()
        .filter(|(_, v)| f64::from(**v) == t)
        .map(|(i, _)| i);
    let first = hits.next()?;
    Some(hits.next().unwrap_or(first))
}

/// The values of a scalar or 1-D timestep tensor, as float64.
pub(super) fn timestep_values(t: &Tensor) -> Result<Vec<f64>> {
    let flat = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Double)?
        .f_reshape([-1])?;
    let v = Vec::<f64>::try_from(&flat)?;
    if v.is_empty() || t.dim() > 1 {
        return Err(Error::invalid(format!(
            "a timestep must be a scalar or a 1-D tensor, got shape {:?}",
            t.size()
        )));
    }
    Ok(v)
}

/// The value of a one-element timestep tensor.
pub(super) fn single_timestep(t: &Tensor) -> Result<f64> {
    match timestep_values(t)?.as_slice() {
        [v] => Ok(*v),
        _ => Err(Error::invalid(format!(
            "step takes one timestep, got shape {:?}",
            t.size()
        ))),
    }
}

/// A 0-dim float32 tensor on `device` (diffusers' schedule scalars).
pub(super) fn scalar_on(v: f32, device: Device) -> Result<Tensor> {
    let t = Tensor::f_from_slice(&[v])?.f_reshape([0i64; 0])?;
    if device == Device::Cpu {
        Ok(t)
    } else {
        Ok(t.f_to_device(device)?)
    }
}

/// `sigmas.to(like.dtype)[indices]` shaped `[k, 1, …]` to broadcast over `like`.
pub(super) fn sigma_column(sigmas: &[f32], indices: &[usize], like: &Tensor) -> Result<Tensor> {
    let picked = indices
        .iter()
        .map(|&i| {
            sigmas.get(i).copied().ok_or_else(|| {
                Error::invalid(format!(
                    "timestep index {i} is past the end of the schedule"
                ))
            })
        })
        .collect::<Result<Vec<f32>>>()?;
    let mut shape = vec![picked.len() as i64];
    shape.resize(like.dim().max(1), 1);
    Ok(Tensor::f_from_slice(&picked)?
        .f_to_kind(like.kind())?
        .f_to_device(like.device())?
        .f_reshape(shape)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy_endpoints() {
        let v = np_linspace(1.0, 0.001, 5);
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], 1.0);
        assert_eq!(v[4], 0.001);
        assert_eq!(np_linspace(3.0, 7.0, 1), vec![3.0]);
    }

    #[test]
    fn one_step_with_a_terminal_stretch_is_refused_not_nan() {
        // LTX-2's scheduler: dynamic shift, shift_terminal 0.1. One step from
        // sigma 1 makes the stretch 0/0 (diffusers 0.42.1 walks NaN latents).
        let c = FlowMatchEulerConfig {
            use_dynamic_shifting: true,
            shift_terminal: Some(0.1),
            ..Default::default()
        };
        let mut s = FlowMatchEulerScheduler::new(c).unwrap();
        let e = s
            .set_timesteps_full(Some(1), Some(&[1.0]), Some(0.95))
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(m) if m.contains("shift_terminal") && m.contains("at least 2 steps")),
            "{e}"
        );
        s.set_timesteps_full(Some(2), Some(&[1.0, 0.5]), Some(0.95))
            .unwrap();
        let sig = s.sigmas().unwrap();
        assert!(sig.iter().all(|v| v.is_finite()), "{sig:?}");
        assert!((sig[1] - 0.1).abs() < 1e-6, "{sig:?}");
    }

    #[test]
    fn index_of_takes_the_second_duplicate() {
        assert_eq!(index_of(&[3.0, 2.0, 2.0, 1.0], 2.0), Some(2));
        assert_eq!(index_of(&[3.0, 2.0, 1.0], 2.0), Some(1));
        assert_eq!(index_of(&[3.0, 2.0, 1.0], 5.0), None);
    }

    #[test]
    fn euler_step_is_sample_plus_dt_velocity() {
        let mut s = FlowMatchEulerScheduler::new(FlowMatchEulerConfig::default()).unwrap();
        s.set_timesteps(4).unwrap();
        let sig = s.sigmas().unwrap().to_vec();
        assert_eq!(sig.len(), 5);
        assert_eq!(sig[4], 0.0);
        let x = Tensor::from_slice(&[1.0f32, -2.0]);
        let v = Tensor::from_slice(&[0.5f32, 0.25]);
        let t = s.timesteps().get(0);
        let y: Vec<f32> = Vec::try_from(&s.step(&v, &t, &x).unwrap()).unwrap();
        let dt = sig[1] - sig[0];
        assert_eq!(y, vec![1.0 + dt * 0.5, -2.0 + dt * 0.25]);
        assert_eq!(Scheduler::step_index(&s), Some(1));
    }

    #[test]
    fn unsupported_fields_are_named() {
        let c = FlowMatchEulerConfig {
            stochastic_sampling: true,
            ..Default::default()
        };
        let e = FlowMatchEulerScheduler::new(c).err().unwrap();
        assert!(matches!(&e, Error::Unsupported(m) if m.contains("stochastic_sampling")));
        let c = FlowMatchEulerConfig {
            use_dynamic_shifting: true,
            ..Default::default()
        };
        let mut s = FlowMatchEulerScheduler::new(c).unwrap();
        assert!(s.set_timesteps(10).is_err());
        assert!(s.set_timesteps_with(Some(10), None, Some(0.5)).is_ok());
    }
}
