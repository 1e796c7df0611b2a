//! UniPC multistep scheduler (diffusers' `UniPCMultistepScheduler`).
//!
//! The predictor (UniP) and corrector (UniC) in their B(h) form, with the
//! multistep history, warm-up and lower-order final steps, for flow-matching
//! models (`use_flow_sigmas`, `prediction_type = "flow_prediction"`, as the
//! released Wan checkpoints use) and for VP models (`epsilon`, `sample`,
//! `v_prediction`). The scalar coefficients are computed in float32 as diffusers'
//! 0-dim tensors are, and every tensor operation has diffusers' operand order and
//! scalar placement (CPU scalar or device scalar), so results agree bit for bit
//! on the CPU.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::flow_match::{
    index_of, np_linspace, scalar_on, shift_sigmas, sigma_column, single_timestep,
    stretch_to_terminal, time_shift, timestep_values, TimeShift,
};
use super::Scheduler;
use crate::{Error, Result};

/// The highest `solver_order` accepted (the history holds that many outputs).
pub const MAX_SOLVER_ORDER: usize = 16;

/// `scheduler_config.json` of a `UniPCMultistepScheduler` (field names as diffusers').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UniPcConfig {
    /// Training timesteps (1000).
    pub num_train_timesteps: usize,
    /// First beta of the VP schedule.
    pub beta_start: f64,
    /// Last beta of the VP schedule.
    pub beta_end: f64,
    /// `"linear"`, `"scaled_linear"` or `"squaredcos_cap_v2"`.
    pub beta_schedule: String,
    /// Explicit betas (override `beta_schedule`).
    pub trained_betas: Option<Vec<f64>>,
    /// Order of UniP (2 for guided sampling).
    pub solver_order: usize,
    /// `"epsilon"`, `"sample"`, `"v_prediction"` or `"flow_prediction"`.
    pub prediction_type: String,
    /// Dynamic thresholding (not supported).
    pub thresholding: bool,
    /// Percentile of dynamic thresholding (unused: thresholding is not supported).
    pub dynamic_thresholding_ratio: f64,
    /// Threshold cap of dynamic thresholding (unused: thresholding is not supported).
    pub sample_max_value: f64,
    /// Update on the predicted clean sample (`true`) or on the noise.
    pub predict_x0: bool,
    /// `"bh1"` or `"bh2"` (`"midpoint"`, `"heun"`, `"logrho"` mean `"bh2"`).
    pub solver_type: String,
    /// Lower orders on the final steps.
    pub lower_order_final: bool,
    /// Step indices whose corrector is skipped.
    pub disable_corrector: Vec<usize>,
    /// Another scheduler as predictor (not supported; must be null).
    pub solver_p: Option<serde_json::Value>,
    /// Karras sigmas (not supported).
    pub use_karras_sigmas: bool,
    /// Exponential sigmas (not supported).
    pub use_exponential_sigmas: bool,
    /// Beta sigmas (not supported).
    pub use_beta_sigmas: bool,
    /// Flow-matching sigmas `shift·s / (1 + (shift − 1)·s)` (Wan).
    pub use_flow_sigmas: bool,
    /// The flow shift (Wan: 3.0 at 480p, 5.0 at 720p).
    pub flow_shift: f64,
    /// `"linspace"`, `"leading"` or `"trailing"` (VP schedules).
    pub timestep_spacing: String,
    /// Offset of `"leading"` timesteps.
    pub steps_offset: i64,
    /// `"zero"` or `"sigma_min"`: the sigma after the last step.
    pub final_sigmas_type: String,
    /// Rescales the betas to zero terminal SNR.
    pub rescale_betas_zero_snr: bool,
    /// Resolution-dependent shift of flow sigmas (`set_timesteps_with` then needs `mu`).
    pub use_dynamic_shifting: bool,
    /// `"exponential"` (or `"linear"`) resolution-dependent shift.
    pub time_shift_type: String,
    /// Lower bound of respaced sigmas (unused: respacing is not supported).
    pub sigma_min: Option<f64>,
    /// Upper bound of respaced sigmas (unused: respacing is not supported).
    pub sigma_max: Option<f64>,
    /// Stretches flow sigmas so that they end at this value.
    pub shift_terminal: Option<f64>,
}

impl Default for UniPcConfig {
    fn default() -> Self {
        Self {
            num_train_timesteps: 1000,
            beta_start: 0.0001,
            beta_end: 0.02,
            beta_schedule: "linear".into(),
            trained_betas: None,
            solver_order: 2,
            prediction_type: "epsilon".into(),
            thresholding: false,
            dynamic_thresholding_ratio: 0.995,
            sample_max_value: 1.0,
            predict_x0: true,
            solver_type: "bh2".into(),
            lower_order_final: true,
            disable_corrector: Vec::new(),
            solver_p: None,
            use_karras_sigmas: false,
            use_exponential_sigmas: false,
            use_beta_sigmas: false,
            use_flow_sigmas: false,
            flow_shift: 1.0,
            timestep_spacing: "linspace".into(),
            steps_offset: 0,
            final_sigmas_type: "zero".into(),
            rescale_betas_zero_snr: false,
            use_dynamic_shifting: false,
            time_shift_type: "exponential".into(),
            sigma_min: None,
            sigma_max: None,
            shift_terminal: None,
        }
    }
}

impl UniPcConfig {
    /// The configuration of the released Wan 2.x Diffusers checkpoints with `flow_shift`.
    pub fn wan(flow_shift: f64) -> Self {
        Self {
            prediction_type: "flow_prediction".into(),
            use_flow_sigmas: true,
            flow_shift,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prediction {
    Epsilon,
    Sample,
    V,
    Flow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spacing {
    Linspace,
    Leading,
    Trailing,
}

/// UniPC multistep sampler, equal to diffusers' `UniPCMultistepScheduler`.
pub struct UniPcScheduler {
    config: UniPcConfig,
    prediction: Prediction,
    spacing: Spacing,
    bh1: bool,
    final_sigma_min: bool,
    time_shift: TimeShift,
    /// VP sigmas `sqrt((1 − ᾱ)/ᾱ)` of the training schedule.
    vp_sigmas: Vec<f32>,
    timesteps: Tensor,
    ts: Vec<f32>,
    sigmas: Vec<f32>,
    num_inference_steps: Option<usize>,
    model_outputs: Vec<Option<Tensor>>,
    lower_order_nums: usize,
    this_order: usize,
    last_sample: Option<Tensor>,
    step_index: Option<usize>,
    begin_index: Option<usize>,
}

fn unsupported(field: &str, value: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!("UniPCMultistepScheduler: {field} = {value}"))
}

impl UniPcScheduler {
    /// Builds the scheduler from a config. Options this build does not implement
    /// give [`Error::Unsupported`] naming the field; invalid values give
    /// [`Error::InvalidRequest`].
    pub fn new(config: UniPcConfig) -> Result<Self> {
        let c = &config;
        let respacings = [
            ("use_karras_sigmas", c.use_karras_sigmas),
            ("use_exponential_sigmas", c.use_exponential_sigmas),
            ("use_beta_sigmas", c.use_beta_sigmas),
        ];
        if respacings.iter().filter(|(_, on)| *on).count() > 1 {
            return Err(Error::invalid(
                "only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be used",
            ));
        }
        if let Some((name, _)) = respacings.iter().find(|(_, on)| *on) {
            return Err(unsupported(name, true));
        }
        if c.thresholding {
            return Err(unsupported("thresholding", true));
        }
        if let Some(p) = c.solver_p.as_ref().filter(|p| !p.is_null()) {
            return Err(unsupported("solver_p", p));
        }
        if c.shift_terminal.is_some() && !c.use_flow_sigmas {
            return Err(Error::invalid(
                "`shift_terminal` is only supported when `use_flow_sigmas=True`",
            ));
        }
        // The history holds `solver_order` outputs: an order beyond any
        // useful one (diffusers recommends 1–3) is refused before it is allocated.
        if !(1..=MAX_SOLVER_ORDER).contains(&c.solver_order) {
            return Err(Error::invalid(format!(
                "solver_order must be in 1..={MAX_SOLVER_ORDER} (2 or 3 are usual), got {}",
                c.solver_order
            )));
        }
        if c.num_train_timesteps < 2 {
            return Err(Error::invalid("num_train_timesteps must be at least 2"));
        }
        let bh1 = match c.solver_type.as_str() {
            "bh1" => true,
            "bh2" | "midpoint" | "heun" | "logrho" => false,
            other => return Err(unsupported("solver_type", format!("{other:?}"))),
        };
        let prediction = match c.prediction_type.as_str() {
            "epsilon" => Prediction::Epsilon,
            "sample" => Prediction::Sample,
            "v_prediction" => Prediction::V,
            "flow_prediction" if c.predict_x0 => Prediction::Flow,
            "flow_prediction" => {
                return Err(Error::invalid(
                    "prediction_type \"flow_prediction\" needs predict_x0 = true",
                ))
            }
            other => return Err(unsupported("prediction_type", format!("{other:?}"))),
        };
        let spacing = match c.timestep_spacing.as_str() {
            "linspace" => Spacing::Linspace,
            "leading" => Spacing::Leading,
            "trailing" => Spacing::Trailing,
            other => return Err(unsupported("timestep_spacing", format!("{other:?}"))),
        };
        let final_sigma_min = match c.final_sigmas_type.as_str() {
            "zero" => false,
            "sigma_min" => true,
            other => return Err(unsupported("final_sigmas_type", format!("{other:?}"))),
        };
        let time_shift = TimeShift::parse(&c.time_shift_type)?;
        let vp_sigmas = vp_sigmas(c)?;
        let n = c.num_train_timesteps;
        let ts: Vec<f32> = (0..n).rev().map(|i| i as f32).collect();
        Ok(Self {
            prediction,
            spacing,
            bh1,
            final_sigma_min,
            time_shift,
            timesteps: Tensor::f_from_slice(&ts)?,
            ts,
            sigmas: vp_sigmas.clone(),
            vp_sigmas,
            num_inference_steps: None,
            model_outputs: (0..c.solver_order).map(|_| None).collect(),
            lower_order_nums: 0,
            this_order: 1,
            last_sample: None,
            step_index: None,
            begin_index: None,
            config,
        })
    }

    /// The config the scheduler was built from.
    pub fn config(&self) -> &UniPcConfig {
        &self.config
    }

    /// Number of inference steps of the current schedule (`None` before `set_timesteps`).
    pub fn num_inference_steps(&self) -> Option<usize> {
        self.num_inference_steps
    }

    /// The begin index given by `set_begin_index`, if any.
    pub fn begin_index(&self) -> Option<usize> {
        self.begin_index
    }

    /// diffusers' `set_timesteps(num_inference_steps, mu=)`.
    pub fn set_timesteps_mu(&mut self, num_inference_steps: usize, mu: Option<f64>) -> Result<()> {
        let c = &self.config;
        if c.use_dynamic_shifting && mu.is_none() {
            return Err(Error::invalid(
                "`mu` must be passed when `use_dynamic_shifting` is set to be `True`",
            ));
        }
        let n = num_inference_steps;
        if n == 0 {
            return Err(Error::invalid("num_inference_steps must be at least 1"));
        }
        let train = c.num_train_timesteps;
        let (ts, mut sig): (Vec<i64>, Vec<f32>) = if c.use_flow_sigmas {
            let mut s = np_linspace(1.0, 1.0 / train as f64, n + 1);
            s.truncate(n);
            match (c.use_dynamic_shifting, mu) {
                (true, Some(mu)) => time_shift(&mut s, mu, self.time_shift),
                _ => shift_sigmas(&mut s, c.flow_shift),
            }
            if let Some(term) = c.shift_terminal.filter(|v| *v != 0.0) {
                stretch_to_terminal(&mut s, term);
            }
            if (s[0] - 1.0).abs() < 1e-6 {
                // Keeps log(alpha) finite in the first updates.
                s[0] -= 1e-6;
            }
            let ts = s.iter().map(|v| (v * train as f64) as i64).collect();
            let last = if self.final_sigma_min { s[n - 1] } else { 0.0 };
            s.push(last);
            (ts, s.iter().map(|v| *v as f32).collect())
        } else {
            let ts = vp_timesteps(self.spacing, train, n, c.steps_offset);
            let mut s: Vec<f32> = ts
                .iter()
                .map(|&t| self.vp_sigmas[t.clamp(0, train as i64 - 1) as usize])
                .collect();
            s.push(if self.final_sigma_min {
                self.vp_sigmas[0]
            } else {
                0.0
            });
            (ts, s)
        };
        sig.shrink_to_fit();
        let ts: Vec<f32> = ts.iter().map(|&t| t as f32).collect();
        self.timesteps = Tensor::f_from_slice(&ts)?;
        self.num_inference_steps = Some(ts.len());
        self.ts = ts;
        self.sigmas = sig;
        self.model_outputs = (0..c.solver_order).map(|_| None).collect();
        self.lower_order_nums = 0;
        self.last_sample = None;
        self.step_index = None;
        self.begin_index = None;
        Ok(())
    }

    /// diffusers' `index_for_timestep`: the position of `t` in the schedule (the
    /// second one when it occurs more than once; the last position when absent).
    pub fn index_for_timestep(&self, t: f64) -> usize {
        index_of(&self.ts, t).unwrap_or(self.ts.len().saturating_sub(1))
    }

    /// diffusers' `add_noise`: `alpha_t · original + sigma_t · noise` at the sigma
    /// of `timestep` (or of the begin / current step index once set), in the
    /// original's dtype.
    pub fn add_noise(
        &self,
        original: &Tensor,
        noise: &Tensor,
        timestep: &Tensor,
    ) -> Result<Tensor> {
        let values = timestep_values(timestep)?;
        let indices: Vec<usize> = match (self.begin_index, self.step_index) {
            (None, _) => values.iter().map(|t| self.index_for_timestep(*t)).collect(),
            (Some(_), Some(i)) => vec![i; values.len()],
            (Some(b), None) => vec![b; values.len()],
        };
        let sigma = sigma_column(&self.sigmas, &indices, original)?;
        let (alpha_t, sigma_t) = if self.config.use_flow_sigmas {
            (sigma.f_rsub_scalar(1.0)?, sigma)
        } else {
            let alpha = sigma
                .f_pow_tensor_scalar(2)?
                .f_add_scalar(1)?
                .f_pow_tensor_scalar(0.5)?
                .f_reciprocal()?;
            (alpha.shallow_clone(), sigma.f_mul(&alpha)?)
        };
        Ok(alpha_t.f_mul(original)?.f_add(&sigma_t.f_mul(noise)?)?)
    }

    /// `(alpha_t, sigma_t)` of a sigma, as diffusers' 0-dim float32 tensors on
    /// `dev` give them (torch's `x ** 0.5` is not always libm's `sqrt`).
    fn alpha_sigma(&self, sigma: f32, dev: Device) -> Result<(f32, f32)> {
        if self.config.use_flow_sigmas {
            return Ok((1.0 - sigma, sigma));
        }
        let alpha = torch_f32(sigma, dev, |t| {
            t.f_pow_tensor_scalar(2)?
                .f_add_scalar(1)?
                .f_pow_tensor_scalar(0.5)?
                .f_reciprocal()
        })?;
        Ok((alpha, sigma * alpha))
    }

    /// `log(alpha) − log(sigma)`, the logs taken by torch on `dev` as in diffusers.
    fn lambda(&self, sigma: f32, dev: Device) -> Result<f32> {
        let (a, s) = self.alpha_sigma(sigma, dev)?;
        Ok(torch_f32(a, dev, Tensor::f_log)? - torch_f32(s, dev, Tensor::f_log)?)
    }

    fn sigma_at(&self, i: usize) -> Result<f32> {
        self.sigmas.get(i).copied().ok_or_else(|| {
            Error::invalid(format!(
                "step {i} is past the end of the schedule ({} timesteps)",
                self.ts.len()
            ))
        })
    }

    /// The k-th most recent converted model output (k = 0: the newest).
    fn history(&self, k: usize) -> Result<&Tensor> {
        let n = self.model_outputs.len();
        k.checked_add(1)
            .and_then(|k1| n.checked_sub(k1))
            .and_then(|i| self.model_outputs[i].as_ref())
            .ok_or_else(|| Error::invalid("UniPC history is shorter than the solver order"))
    }

    /// diffusers' `convert_model_output`: the x0 (or epsilon) prediction. The
    /// schedule scalars are CPU 0-dim float32 tensors, as in diffusers.
    fn convert(&self, model_output: &Tensor, sample: &Tensor, i: usize) -> Result<Tensor> {
        let sigma = self.sigma_at(i)?;
        let (alpha_t, sigma_t) = self.alpha_sigma(sigma, Device::Cpu)?;
        let cpu = |v: f32| scalar_on(v, Device::Cpu);
        Ok(match (self.config.predict_x0, self.prediction) {
            (true, Prediction::Flow) => sample.f_sub(&cpu(sigma)?.f_mul(model_output)?)?,
            (true, Prediction::Epsilon) => sample
                .f_sub(&cpu(sigma_t)?.f_mul(model_output)?)?
                .f_div(&cpu(alpha_t)?)?,
            (true, Prediction::Sample) | (false, Prediction::Epsilon) => {
                model_output.shallow_clone()
            }
            (true, Prediction::V) => cpu(alpha_t)?
                .f_mul(sample)?
                .f_sub(&cpu(sigma_t)?.f_mul(model_output)?)?,
            (false, Prediction::Sample) => sample
                .f_sub(&cpu(alpha_t)?.f_mul(model_output)?)?
                .f_div(&cpu(sigma_t)?)?,
            (false, Prediction::V) => cpu(alpha_t)?
                .f_mul(model_output)?
                .f_add(&cpu(sigma_t)?.f_mul(sample)?)?,
            (false, Prediction::Flow) => {
                return Err(Error::invalid("flow_prediction needs predict_x0 = true"))
            }
        })
    }

    /// The B(h) coefficients shared by UniP and UniC: `h·phi_1`, `B(h)`, the
    /// matrix `R[i][j] = rks[j]^i` and the vector `b` (float32, diffusers' order of operations).
    fn bh(&self, h: f32, rks: &[f32], order: usize, dev: Device) -> Result<Bh> {
        let hh = if self.config.predict_x0 { -h } else { h };
        let h_phi_1 = torch_f32(hh, dev, Tensor::f_expm1)?;
        let mut h_phi_k = h_phi_1 / hh - 1.0;
        let b_h = if self.bh1 { hh } else { h_phi_1 };
        let mut factorial: u64 = 1;
        let mut r = Vec::with_capacity(order);
        let mut b = Vec::with_capacity(order);
        for i in 1..=order {
            r.push(pow_row(rks, i - 1, dev)?);
            b.push(h_phi_k * factorial as f32 / b_h);
            factorial *= (i + 1) as u64;
            h_phi_k = h_phi_k / hh - (1.0 / factorial as f64) as f32;
        }
        Ok(Bh { h_phi_1, b_h, r, b })
    }

    /// `Σ_k rhos[k] · D1s[k]` (diffusers' `einsum("k,bkc...->bc...")`), `rhos` in the sample's dtype.
    fn weighted(rhos: &Tensor, d1s: &[Tensor]) -> Result<Tensor> {
        if d1s.len() == 1 {
            return Ok(rhos.f_mul(&d1s[0])?);
        }
        let stacked = Tensor::f_stack(d1s, 1)?;
        Ok(Tensor::f_einsum(
            "k,bkc...->bc...",
            &[rhos, &stacked],
            None::<&[i64]>,
        )?)
    }

    /// `x_t_ = (s_t/s_0)·x − (a_t·h·phi_1)·m0` (x0) or `(a_t/a_0)·x − (s_t·h·phi_1)·m0`,
    /// and the factor of the residual term, as device scalars.
    fn base_update(
        &self,
        x: &Tensor,
        m0: &Tensor,
        t: (f32, f32),
        s0: (f32, f32),
        c: &Bh,
    ) -> Result<(Tensor, Tensor)> {
        let dev = x.device();
        let ((alpha_t, sigma_t), (alpha_s0, sigma_s0)) = (t, s0);
        let (ratio, lead) = if self.config.predict_x0 {
            (sigma_t / sigma_s0, alpha_t)
        } else {
            (alpha_t / alpha_s0, sigma_t)
        };
        let x_t_ = scalar_on(ratio, dev)?
            .f_mul(x)?
            .f_sub(&scalar_on(lead * c.h_phi_1, dev)?.f_mul(m0)?)?;
        Ok((x_t_, scalar_on(lead * c.b_h, dev)?))
    }

    /// The rks and D1s of the history `model_outputs[-(k+1)]` at sigma index `si(k)`.
    fn differences(
        &self,
        order: usize,
        m0: &Tensor,
        lambda_s0: f32,
        h: f32,
        si: impl Fn(usize) -> Option<usize>,
        dev: Device,
    ) -> Result<(Vec<f32>, Vec<Tensor>)> {
        let mut rks = Vec::with_capacity(order);
        let mut d1s = Vec::with_capacity(order);
        for k in 1..order {
            let idx = si(k).ok_or_else(|| Error::invalid("UniPC history before the schedule"))?;
            let mi = self.history(k)?;
            let rk = (self.lambda(self.sigma_at(idx)?, dev)? - lambda_s0) / h;
            rks.push(rk);
            d1s.push(mi.f_sub(m0)?.f_div(&scalar_on(rk, dev)?)?);
        }
        rks.push(1.0);
        Ok((rks, d1s))
    }

    /// UniP: the sample at the next sigma from the history (diffusers' `multistep_uni_p_bh_update`).
    fn predictor(&self, x: &Tensor, i: usize, order: usize) -> Result<Tensor> {
        let dev = x.device();
        let m0 = self.history(0)?;
        let (sig_t, sig_s0) = (self.sigma_at(i + 1)?, self.sigma_at(i)?);
        let (t, s0) = (
            self.alpha_sigma(sig_t, dev)?,
            self.alpha_sigma(sig_s0, dev)?,
        );
        let lambda_s0 = self.lambda(sig_s0, dev)?;
        let h = self.lambda(sig_t, dev)? - lambda_s0;
        let (rks, d1s) = self.differences(order, m0, lambda_s0, h, |k| i.checked_sub(k), dev)?;
        let c = self.bh(h, &rks, order, dev)?;
        let (x_t_, factor) = self.base_update(x, m0, t, s0, &c)?;
        let x_t = if d1s.is_empty() {
            // diffusers subtracts `factor * 0`: a no-op, except that it is NaN
            // when the factor is infinite (bh1 onto a zero final sigma).
            let zero = (if self.config.predict_x0 { t.0 } else { t.1 }) * c.b_h * 0.0;
            if zero == 0.0 {
                x_t_
            } else {
                x_t_.f_sub(&scalar_on(zero, dev)?)?
            }
        } else {
            let rhos = if order == 2 {
                Tensor::f_from_slice(&[0.5f32])?
            } else {
                solve(&c.r, &c.b, order - 1, dev)?
            };
            let rhos = rhos.f_to_device(dev)?.f_to_kind(x.kind())?;
            x_t_.f_sub(&factor.f_mul(&Self::weighted(&rhos, &d1s)?)?)?
        };
        Ok(x_t.f_to_kind(x.kind())?)
    }

    /// UniC: corrects `this_sample` with the new model output (diffusers' `multistep_uni_c_bh_update`).
    fn corrector(
        &self,
        model_t: &Tensor,
        last_sample: &Tensor,
        this_sample: &Tensor,
        i: usize,
        order: usize,
    ) -> Result<Tensor> {
        let dev = this_sample.device();
        let x = last_sample;
        let m0 = self.history(0)?;
        let prev = i
            .checked_sub(1)
            .ok_or_else(|| Error::invalid("UniC at the first step"))?;
        let (sig_t, sig_s0) = (self.sigma_at(i)?, self.sigma_at(prev)?);
        let (t, s0) = (
            self.alpha_sigma(sig_t, dev)?,
            self.alpha_sigma(sig_s0, dev)?,
        );
        let lambda_s0 = self.lambda(sig_s0, dev)?;
        let h = self.lambda(sig_t, dev)? - lambda_s0;
        let (rks, d1s) =
            self.differences(order, m0, lambda_s0, h, |k| i.checked_sub(k + 1), dev)?;
        let c = self.bh(h, &rks, order, dev)?;
        let rhos = if order == 1 {
            Tensor::f_from_slice(&[0.5f32])?
        } else {
            solve(&c.r, &c.b, order, dev)?
        };
        let rhos = rhos.f_to_device(dev)?.f_to_kind(x.kind())?;
        let (x_t_, factor) = self.base_update(x, m0, t, s0, &c)?;
        let d1_t = model_t.f_sub(m0)?;
        let last = rhos.f_select(0, order as i64 - 1)?.f_mul(&d1_t)?;
        let res = if d1s.is_empty() {
            last
        } else {
            let head = rhos.f_narrow(0, 0, order as i64 - 1)?;
            Self::weighted(&head, &d1s)?.f_add(&last)?
        };
        Ok(x_t_.f_sub(&factor.f_mul(&res)?)?.f_to_kind(x.kind())?)
    }

    fn init_step_index(&mut self, timestep: &Tensor) -> Result<usize> {
        let i = match self.begin_index {
            Some(b) => b,
            None => self.index_for_timestep(single_timestep(timestep)?),
        };
        self.step_index = Some(i);
        Ok(i)
    }
}

/// A float32 function of a scalar as torch computes it on `device` (its
/// vectorised log / expm1 may differ from libm's in the last bit).
fn torch_f32(
    v: f32,
    device: Device,
    f: impl Fn(&Tensor) -> std::result::Result<Tensor, tch::TchError>,
) -> Result<f32> {
    Ok(f(&scalar_on(v, device)?)?.f_double_value(&[])? as f32)
}

/// Coefficients of one B(h) update.
struct Bh {
    h_phi_1: f32,
    b_h: f32,
    r: Vec<Vec<f32>>,
    b: Vec<f32>,
}

/// `torch.pow(rks, e)` on `dev`, as diffusers builds the rows of `R`.
fn pow_row(rks: &[f32], e: usize, dev: Device) -> Result<Vec<f32>> {
    Ok(match e {
        // torch fills ones / copies for these exponents.
        0 => vec![1.0; rks.len()],
        1 => rks.to_vec(),
        _ => {
            let t = Tensor::f_from_slice(rks)?.f_to_device(dev)?;
            let p = t.f_pow_tensor_scalar(e as i64)?.f_to_device(Device::Cpu)?;
            Vec::<f32>::try_from(&p)?
        }
    })
}

/// `torch.linalg.solve(R[:k, :k], b[:k])` in float32 on `device`, as diffusers solves it.
fn solve(r: &[Vec<f32>], b: &[f32], k: usize, device: Device) -> Result<Tensor> {
    let flat: Vec<f32> = r
        .iter()
        .take(k)
        .flat_map(|row| row.iter().take(k).copied())
        .collect();
    let a = Tensor::f_from_slice(&flat)?
        .f_reshape([k as i64, k as i64])?
        .f_to_device(device)?;
    let rhs = Tensor::f_from_slice(&b[..k])?.f_to_device(device)?;
    Ok(Tensor::f_linalg_solve(&a, &rhs, true)?)
}

/// Timesteps of the VP schedules (`timestep_spacing`), as diffusers' int64 values.
fn vp_timesteps(spacing: Spacing, train: usize, n: usize, offset: i64) -> Vec<i64> {
    match spacing {
        Spacing::Linspace => {
            let mut v: Vec<i64> = np_linspace(0.0, (train - 1) as f64, n + 1)
                .into_iter()
                .map(|x| x.round_ties_even() as i64)
                .collect();
            v.reverse();
            v.truncate(n);
            v
        }
        Spacing::Leading => {
            let ratio = (train / (n + 1)) as i64;
            let mut v: Vec<i64> = (0..=n as i64).map(|i| i * ratio).collect();
            v.reverse();
            v.truncate(n);
            v.iter().map(|t| t + offset).collect()
        }
        Spacing::Trailing => {
            // np.arange(train, 0, -ratio): start + i·((start − ratio) − start).
            let ratio = train as f64 / n as f64;
            let start = train as f64;
            let len = ((0.0 - start) / -ratio).ceil().max(0.0) as usize;
            let delta = (start - ratio) - start;
            (0..len)
                .map(|i| {
                    let v = match i {
                        0 => start,
                        1 => start + delta,
                        _ => start + i as f64 * delta,
                    };
                    v.round_ties_even() as i64 - 1
                })
                .collect()
        }
    }
}

/// `sqrt((1 − ᾱ)/ᾱ)` of the VP training schedule, with torch's float32 ops.
fn vp_sigmas(c: &UniPcConfig) -> Result<Vec<f32>> {
    let n = c.num_train_timesteps;
    let opts = (Kind::Float, Device::Cpu);
    // Betas are probabilities; a value outside [0, 1] (or one float32
    // cannot hold) is a broken config, not a schedule.
    for (name, v) in [("beta_start", c.beta_start), ("beta_end", c.beta_end)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Error::invalid(format!(
                "UniPCMultistepScheduler: {name} must be in [0, 1], got {v}"
            )));
        }
    }
    let betas = match (&c.trained_betas, c.beta_schedule.as_str()) {
        (Some(b), _) => Tensor::f_from_slice(b)?.f_to_kind(Kind::Float)?,
        (None, "linear") => Tensor::f_linspace(c.beta_start, c.beta_end, n as i64, opts)?,
        (None, "scaled_linear") => {
            Tensor::f_linspace(c.beta_start.powf(0.5), c.beta_end.powf(0.5), n as i64, opts)?
                .f_pow_tensor_scalar(2)?
        }
        (None, "squaredcos_cap_v2") => {
            let abar = |t: f64| {
                ((t + 0.008) / 1.008 * std::f64::consts::PI / 2.0)
                    .cos()
                    .powf(2.0)
            };
            let b: Vec<f64> = (0..n)
                .map(|i| {
                    let (t1, t2) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
                    (1.0 - abar(t2) / abar(t1)).min(0.999)
                })
                .collect();
            Tensor::f_from_slice(&b)?.f_to_kind(Kind::Float)?
        }
        (None, other) => return Err(unsupported("beta_schedule", format!("{other:?}"))),
    };
    if betas.size() != [n as i64] {
        return Err(Error::invalid(format!(
            "trained_betas has {} values for num_train_timesteps = {n}",
            betas.numel()
        )));
    }
    let betas = if c.rescale_betas_zero_snr {
        rescale_zero_terminal_snr(&betas)?
    } else {
        betas
    };
    let alphas = betas.f_rsub_scalar(1.0)?;
    let cumprod = alphas.f_cumprod(0, None::<Kind>)?;
    if c.rescale_betas_zero_snr {
        // Close to 0 without being 0, so the first sigma is finite.
        let mut last = cumprod.f_narrow(0, n as i64 - 1, 1)?;
        let _ = last.f_fill_(2f64.powi(-24))?;
    }
    let sig = cumprod
        .f_rsub_scalar(1.0)?
        .f_div(&cumprod)?
        .f_pow_tensor_scalar(0.5)?;
    Ok(Vec::<f32>::try_from(&sig)?)
}

/// diffusers' `rescale_zero_terminal_snr` on float32 betas.
fn rescale_zero_terminal_snr(betas: &Tensor) -> Result<Tensor> {
    let alphas = betas.f_rsub_scalar(1.0)?;
    let sqrt_bar = alphas.f_cumprod(0, None::<Kind>)?.f_sqrt()?;
    let n = sqrt_bar.size()[0];
    let first = sqrt_bar.f_get(0)?;
    let last = sqrt_bar.f_get(n - 1)?;
    let shifted = sqrt_bar.f_sub(&last)?;
    let scaled = shifted.f_mul(&first.f_div(&first.f_sub(&last)?)?)?;
    let bar = scaled.f_pow_tensor_scalar(2)?;
    let ratio = bar
        .f_narrow(0, 1, n - 1)?
        .f_div(&bar.f_narrow(0, 0, n - 1)?)?;
    let alphas = Tensor::f_cat(&[bar.f_narrow(0, 0, 1)?, ratio], 0)?;
    Ok(alphas.f_rsub_scalar(1.0)?)
}

impl Clone for UniPcScheduler {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            prediction: self.prediction,
            spacing: self.spacing,
            bh1: self.bh1,
            final_sigma_min: self.final_sigma_min,
            time_shift: self.time_shift,
            vp_sigmas: self.vp_sigmas.clone(),
            timesteps: self.timesteps.shallow_clone(),
            ts: self.ts.clone(),
            sigmas: self.sigmas.clone(),
            num_inference_steps: self.num_inference_steps,
            model_outputs: self
                .model_outputs
                .iter()
                .map(|m| m.as_ref().map(Tensor::shallow_clone))
                .collect(),
            lower_order_nums: self.lower_order_nums,
            this_order: self.this_order,
            last_sample: self.last_sample.as_ref().map(Tensor::shallow_clone),
            step_index: self.step_index,
            begin_index: self.begin_index,
        }
    }
}

impl Scheduler for UniPcScheduler {
    fn set_timesteps(&mut self, num_inference_steps: usize) -> Result<()> {
        self.set_timesteps_mu(num_inference_steps, None)
    }

    fn set_timesteps_with(
        &mut self,
        num_inference_steps: Option<usize>,
        sigmas: Option<&[f32]>,
        mu: Option<f64>,
    ) -> Result<()> {
        if sigmas.is_some() {
            return Err(Error::Unsupported(
                "UniPCMultistepScheduler: custom sigmas".into(),
            ));
        }
        let n = num_inference_steps
            .ok_or_else(|| Error::invalid("set_timesteps needs num_inference_steps"))?;
        self.set_timesteps_mu(n, mu)
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
        if self.num_inference_steps.is_none() {
            return Err(Error::invalid("UniPC: call set_timesteps before step"));
        }
        let i = match self.step_index {
            Some(i) => i,
            None => self.init_step_index(timestep)?,
        };
        let order = self.config.solver_order;
        let use_corrector = i > 0
            && !self.config.disable_corrector.contains(&(i - 1))
            && self.last_sample.is_some();
        let converted = self.convert(model_output, sample, i)?;
        let sample = match (&self.last_sample, use_corrector) {
            (Some(last), true) => self.corrector(&converted, last, sample, i, self.this_order)?,
            _ => sample.shallow_clone(),
        };
        self.model_outputs.remove(0);
        self.model_outputs.push(Some(converted));
        let this_order = if self.config.lower_order_final {
            order.min(self.ts.len().saturating_sub(i))
        } else {
            order
        };
        self.this_order = this_order.min(self.lower_order_nums + 1);
        if self.this_order == 0 {
            return Err(Error::invalid(format!(
                "step {i} is past the end of the schedule ({} timesteps)",
                self.ts.len()
            )));
        }
        let prev = self.predictor(&sample, i, self.this_order)?;
        self.last_sample = Some(sample);
        if self.lower_order_nums < order {
            self.lower_order_nums += 1;
        }
        self.step_index = Some(i + 1);
        Ok(prev)
    }

    fn noise_to(&self, original: &Tensor, noise: &Tensor, timestep: &Tensor) -> Result<Tensor> {
        self.add_noise(original, noise, timestep)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A solver order a config may write but no history can hold (found by
    /// the fuzzer: 2^53 + 1 aborted the process allocating it).
    #[test]
    fn absurd_solver_orders_are_refused_before_allocating() {
        for order in [0, MAX_SOLVER_ORDER + 1, (1usize << 53) + 1] {
            let mut c = UniPcConfig::wan(3.0);
            c.solver_order = order;
            assert!(
                matches!(UniPcScheduler::new(c), Err(Error::InvalidRequest(_))),
                "{order}"
            );
        }
    }

    #[test]
    fn wan_schedule_starts_below_one_and_ends_at_zero() {
        let mut s = UniPcScheduler::new(UniPcConfig::wan(3.0)).unwrap();
        s.set_timesteps(10).unwrap();
        let sig = Scheduler::sigmas(&s).unwrap();
        assert_eq!(sig.len(), 11);
        assert!(sig[0] < 1.0 && sig[0] > 0.999);
        assert_eq!(sig[10], 0.0);
        let ts: Vec<f32> = Vec::try_from(s.timesteps()).unwrap();
        assert_eq!(ts[0], 999.0);
    }

    #[test]
    fn unsupported_fields_are_named() {
        let c = UniPcConfig {
            use_karras_sigmas: true,
            ..UniPcConfig::wan(3.0)
        };
        let e = UniPcScheduler::new(c).err().unwrap();
        assert!(matches!(&e, Error::Unsupported(m) if m.contains("use_karras_sigmas")));
        let c = UniPcConfig {
            thresholding: true,
            ..Default::default()
        };
        assert!(matches!(UniPcScheduler::new(c), Err(Error::Unsupported(_))));
    }

    #[test]
    fn step_before_set_timesteps_is_an_error() {
        let mut s = UniPcScheduler::new(UniPcConfig::wan(3.0)).unwrap();
        let x = Tensor::zeros([1, 2, 2], (Kind::Float, Device::Cpu));
        let t = Tensor::from(999.0f32);
        assert!(s.step(&x, &t, &x).is_err());
    }
}
