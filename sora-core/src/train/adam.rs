//! AdamW (decoupled weight decay, Loshchilov & Hutter) over [`Params`], with
//! gradient-norm clipping, and its state as named tensors for checkpoints.
//!
//! One step, for each tensor `p` with gradient `g` (after clipping all
//! gradients together to a total L2 norm of at most `max_grad_norm`):
//! `p ← p·(1 − lr·wd)` (weights of rank ≥ 2 only: norm scales and biases are
//! not decayed), `m ← β1·m + (1 − β1)·g`, `v ← β2·v + (1 − β2)·g²`, then
//! `p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)`, the arrangement
//! of PyTorch's `AdamW` (`t` counts steps from 1). Tensors without a gradient
//! are skipped.
//!
//! `lr` may follow a schedule ([`AdamWConfig::lr_at`]): a linear warm-up over
//! `warmup_steps`, then a cosine decay to `min_lr_ratio · lr` at step
//! `decay_steps` (0: constant after the warm-up), the same `lr` scaling the
//! weight decay, as PyTorch's schedulers do. With `ema_decay` > 0 the
//! optimizer also keeps an exponential moving average of every tensor,
//! `a ← d·a + (1 − d)·p` after each step with `d = min(ema_decay,
//! (1 + t) / (10 + t))` (short runs are not dominated by the initial
//! weights); a run's final component is written from the average
//! ([`super::run::Run::use_average`]), its checkpoints keep both.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::params::Params;
use crate::{Error, Result};

/// AdamW's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the second moment's root.
    pub eps: f64,
    /// Decoupled weight decay (per unit of learning rate).
    pub weight_decay: f64,
    /// Gradients are scaled down to this total L2 norm (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Steps of linear warm-up from 0 to `lr` (0: none).
    pub warmup_steps: u64,
    /// The step at which the cosine decay reaches `min_lr_ratio · lr` and
    /// stays (0: no decay, `lr` throughout).
    pub decay_steps: u64,
    /// The decayed learning rate as a fraction of `lr`.
    pub min_lr_ratio: f64,
    /// Decay of the weights' moving average (0: none kept).
    pub ema_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            max_grad_norm: Some(1.0),
            warmup_steps: 0,
            decay_steps: 0,
            min_lr_ratio: 0.0,
            ema_decay: 0.0,
        }
    }
}

impl AdamWConfig {
    /// The learning rate of step `t` (counted from 1).
    pub fn lr_at(&self, t: u64) -> f64 {
        if t <= self.warmup_steps {
            return self.lr * t as f64 / self.warmup_steps.max(1) as f64;
        }
        if self.decay_steps <= self.warmup_steps {
            return self.lr;
        }
        let span = (self.decay_steps - self.warmup_steps) as f64;
        let done = ((t - self.warmup_steps) as f64 / span).min(1.0);
        let cos = 0.5 * (1.0 + (std::f64::consts::PI * done).cos());
        self.lr * (self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cos)
    }

    /// Checks the settings a run relies on.
    pub fn validate(&self) -> Result<()> {
        let ok = self.lr > 0.0
            && self.lr.is_finite()
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps > 0.0
            && self.weight_decay >= 0.0
            && (0.0..=1.0).contains(&self.min_lr_ratio)
            && (0.0..1.0).contains(&self.ema_decay)
            && (self.decay_steps == 0 || self.decay_steps > self.warmup_steps);
        if !ok {
            return Err(Error::invalid(
                "optimizer: lr > 0, betas in [0, 1), eps > 0, weight_decay ≥ 0, \
                 min_lr_ratio in [0, 1], ema_decay in [0, 1), decay_steps 0 or past warmup_steps",
            ));
        }
        Ok(())
    }
}

/// AdamW's state: the step count and two moments per tensor.
#[derive(Debug)]
pub struct AdamW {
    /// The settings.
    pub config: AdamWConfig,
    step: u64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// The weights' moving average (empty when `ema_decay` is 0).
    ema: Vec<Tensor>,
}

/// Detached copies of `params`' tensors: a moving average's start.
fn copies(params: &Params) -> Result<Vec<Tensor>> {
    params.iter().map(|(_, p)| Ok(p.f_detach_copy()?)).collect()
}

impl AdamW {
    /// Zero state for `params`.
    pub fn new(config: AdamWConfig, params: &Params) -> Result<Self> {
        let zeros = || -> Result<Vec<Tensor>> {
            params
                .iter()
                .map(|(_, p)| Ok(p.f_zeros_like()?.f_detach()?))
                .collect()
        };
        let ema = if config.ema_decay > 0.0 {
            copies(params)?
        } else {
            Vec::new()
        };
        Ok(Self {
            config,
            step: 0,
            m: zeros()?,
            v: zeros()?,
            ema,
        })
    }

    /// Starts keeping the weights' moving average from `params`' current
    /// values with `ema_decay` (a resumed run that turns the average on: the
    /// average begins where the run stands).
    pub fn begin_average(&mut self, ema_decay: f64, params: &Params) -> Result<()> {
        let config = AdamWConfig {
            ema_decay,
            ..self.config
        };
        config.validate()?;
        self.ema = if ema_decay > 0.0 {
            copies(params)?
        } else {
            Vec::new()
        };
        self.config = config;
        Ok(())
    }

    /// The weights' moving average, one tensor per parameter in order
    /// (`None` when the config keeps none).
    pub fn average(&self) -> Option<&[Tensor]> {
        (!self.ema.is_empty()).then_some(self.ema.as_slice())
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Clips the gradients, then updates every tensor of `params` in place.
    /// Returns the gradients' total L2 norm before clipping.
    pub fn step(&mut self, params: &Params) -> Result<f64> {
        if params.len() != self.m.len() {
            return Err(Error::invalid(format!(
                "optimizer state for {} tensors, {} given",
                self.m.len(),
                params.len()
            )));
        }
        let _guard = tch::no_grad_guard();
        let grads: Vec<Option<Tensor>> = params
            .iter()
            .map(|(_, p)| {
                let g = p.grad();
                g.defined().then_some(g)
            })
            .collect();
        let mut sq = 0.0f64;
        for g in grads.iter().flatten() {
            sq += g
                .f_to_kind(Kind::Double)?
                .f_square()?
                .f_sum(Kind::Double)?
                .f_double_value(&[])?;
        }
        let norm = sq.sqrt();
        if !norm.is_finite() {
            return Err(Error::Numeric(format!(
                "gradient norm is {norm} at step {}",
                self.step + 1
            )));
        }
        let clip = match self.config.max_grad_norm {
            Some(max) if norm > max => max / (norm + 1e-6),
            _ => 1.0,
        };
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        let lr = c.lr_at(self.step);
        let step_size = lr / bc1;
        let d = c
            .ema_decay
            .min((1.0 + self.step as f64) / (10.0 + self.step as f64));
        for (i, ((_, p), g)) in params.iter().zip(grads).enumerate() {
            let Some(g) = g else { continue };
            let g = if clip < 1.0 { g.f_mul_scalar(clip)? } else { g };
            let mut p = p.shallow_clone();
            if c.weight_decay > 0.0 && p.dim() >= 2 {
                let _ = p.f_mul_scalar_(1.0 - lr * c.weight_decay)?;
            }
            let m = &mut self.m[i];
            let _ = m.f_mul_scalar_(c.beta1)?;
            let _ = m.f_add_(&g.f_mul_scalar(1.0 - c.beta1)?)?;
            let v = &mut self.v[i];
            let _ = v.f_mul_scalar_(c.beta2)?;
            let _ = v.f_add_(&g.f_square()?.f_mul_scalar(1.0 - c.beta2)?)?;
            let denom = v.f_sqrt()?.f_div_scalar(bc2.sqrt())?.f_add_scalar(c.eps)?;
            let _ = p.f_sub_(&m.f_div(&denom)?.f_mul_scalar(step_size)?)?;
            if let Some(a) = self.ema.get_mut(i) {
                let _ = a.f_mul_scalar_(d)?;
                let _ = a.f_add_(&p.f_mul_scalar(1.0 - d)?)?;
            }
        }
        Ok(norm)
    }

    /// The moments as named tensors (`exp_avg.<name>`, `exp_avg_sq.<name>`),
    /// and the moving average (`ema.<name>`) when one is kept.
    pub fn state_tensors(&self, params: &Params) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(3 * params.len());
        for (i, (name, _)) in params.iter().enumerate() {
            out.push((format!("exp_avg.{name}"), self.m[i].shallow_clone()));
            out.push((format!("exp_avg_sq.{name}"), self.v[i].shallow_clone()));
            if let Some(a) = self.ema.get(i) {
                out.push((format!("ema.{name}"), a.shallow_clone()));
            }
        }
        out
    }

    /// State saved by [`Self::state_tensors`] after `step` steps, matched to
    /// `params` by name; a missing or mis-shaped moment is [`Error::InvalidRequest`].
    pub fn from_state(
        config: AdamWConfig,
        params: &Params,
        step: u64,
        state: &[(String, Tensor)],
    ) -> Result<Self> {
        let find = |key: String, like: &Tensor| -> Result<Tensor> {
            let t = state
                .iter()
                .find(|(n, _)| *n == key)
                .map(|(_, t)| t)
                .ok_or_else(|| Error::invalid(format!("optimizer state lacks `{key}`")))?;
            if t.size() != like.size() {
                return Err(Error::invalid(format!(
                    "optimizer state `{key}` is {:?}, the tensor {:?}",
                    t.size(),
                    like.size()
                )));
            }
            Ok(t.f_to_kind(like.kind())?
                .f_to_device(like.device())?
                .f_detach()?
                .f_contiguous()?)
        };
        let mut m = Vec::with_capacity(params.len());
        let mut v = Vec::with_capacity(params.len());
        let mut ema = Vec::new();
        for (name, p) in params.iter() {
            m.push(find(format!("exp_avg.{name}"), p)?);
            v.push(find(format!("exp_avg_sq.{name}"), p)?);
            if config.ema_decay > 0.0 {
                ema.push(find(format!("ema.{name}"), p)?);
            }
        }
        Ok(Self {
            config,
            step,
            m,
            v,
            ema,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// A `[1, 2]` weight `[1, −2]` (f64) and its parameter set.
    fn one_weight() -> (Tensor, Params) {
        let w = Tensor::from_slice(&[1.0f64, -2.0])
            .f_reshape([1, 2])
            .unwrap();
        let named = vec![("w".to_string(), w.shallow_clone())];
        let params = Params::new(&named, |_| false).unwrap();
        (w, params)
    }

    /// Two steps on a quadratic match a hand computation of AdamW.
    #[test]
    fn matches_the_formula_and_clips() {
        let opts = (Kind::Double, Device::Cpu);
        let (w, params) = one_weight();
        let cfg = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.5,
            max_grad_norm: Some(1.0),
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(cfg, &params).unwrap();
        // loss = sum(w²): g = 2w = [2, -4], norm √20 > 1: clipped.
        let (mut ew, mut m, mut v) = ([1.0f64, -2.0], [0.0f64; 2], [0.0f64; 2]);
        for t in 1..=2 {
            params.zero_grad();
            w.square().sum(Kind::Double).backward();
            let norm = opt.step(&params).unwrap();
            let g: Vec<f64> = ew.iter().map(|x| 2.0 * x).collect();
            let n = (g[0] * g[0] + g[1] * g[1]).sqrt();
            assert!((norm - n).abs() < 1e-9);
            let s = if n > 1.0 { 1.0 / (n + 1e-6) } else { 1.0 };
            for k in 0..2 {
                let gk = g[k] * s;
                ew[k] *= 1.0 - 0.1 * 0.5;
                m[k] = 0.9 * m[k] + 0.1 * gk;
                v[k] = 0.999 * v[k] + 0.001 * gk * gk;
                let bc1 = 1.0 - 0.9f64.powi(t);
                let bc2 = 1.0 - 0.999f64.powi(t);
                ew[k] -= 0.1 / bc1 * m[k] / (v[k].sqrt() / bc2.sqrt() + 1e-8);
            }
        }
        let got: Vec<f64> = Vec::try_from(w.detach().flatten(0, -1)).unwrap();
        for k in 0..2 {
            assert!((got[k] - ew[k]).abs() < 1e-12, "{got:?} vs {ew:?}");
        }
        let _ = opts;
        // State round trip.
        let st = opt.state_tensors(&params);
        let back = AdamW::from_state(cfg, &params, opt.steps(), &st).unwrap();
        assert_eq!(back.steps(), 2);
        assert!(AdamW::from_state(cfg, &params, 2, &st[..1]).is_err());
    }

    #[test]
    fn the_schedule_warms_up_then_decays_by_a_cosine() {
        let c = AdamWConfig {
            lr: 2.0,
            warmup_steps: 10,
            decay_steps: 110,
            min_lr_ratio: 0.1,
            ..AdamWConfig::default()
        };
        let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(near(c.lr_at(5), 1.0));
        assert!(near(c.lr_at(10), 2.0));
        assert!(near(c.lr_at(60), 2.0 * (0.1 + 0.9 * 0.5)));
        assert!(near(c.lr_at(110), 0.2));
        assert!(near(c.lr_at(1000), 0.2));
        assert!(c.lr_at(30) > c.lr_at(31));
        let constant = AdamWConfig::default();
        assert!(near(constant.lr_at(1), constant.lr) && near(constant.lr_at(9999), constant.lr));
        assert!(c.validate().is_ok() && constant.validate().is_ok());
        for bad in [
            AdamWConfig {
                decay_steps: 5,
                ..c
            },
            AdamWConfig {
                ema_decay: 1.0,
                ..c
            },
            AdamWConfig {
                min_lr_ratio: 1.5,
                ..c
            },
            AdamWConfig { lr: f64::NAN, ..c },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    /// The moving average follows `a ← d·a + (1 − d)·p` with the warm-up
    /// decay, starts at the initial weights, and is saved and restored.
    #[test]
    fn the_moving_average_follows_the_weights_and_is_saved() {
        let (w, params) = one_weight();
        let cfg = AdamWConfig {
            lr: 0.1,
            ema_decay: 0.5,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(cfg, &params).unwrap();
        let mut expect: Vec<f64> = vec![1.0, -2.0];
        for t in 1..=3u64 {
            params.zero_grad();
            w.square().sum(Kind::Double).backward();
            opt.step(&params).unwrap();
            let d = 0.5f64.min((1.0 + t as f64) / (10.0 + t as f64));
            let now: Vec<f64> = Vec::try_from(w.detach().flatten(0, -1)).unwrap();
            for k in 0..2 {
                expect[k] = d * expect[k] + (1.0 - d) * now[k];
            }
        }
        let got: Vec<f64> = Vec::try_from(opt.average().unwrap()[0].flatten(0, -1)).unwrap();
        for k in 0..2 {
            assert!((got[k] - expect[k]).abs() < 1e-12, "{got:?} vs {expect:?}");
        }
        let st = opt.state_tensors(&params);
        assert!(st.iter().any(|(n, _)| n == "ema.w"));
        let back = AdamW::from_state(cfg, &params, 3, &st).unwrap();
        assert!(back.average().unwrap()[0].equal(&opt.average().unwrap()[0]));
        let without: Vec<_> = st.into_iter().filter(|(n, _)| n != "ema.w").collect();
        assert!(AdamW::from_state(cfg, &params, 3, &without).is_err());
        let mut plain = AdamW::new(AdamWConfig::default(), &params).unwrap();
        assert!(plain.average().is_none());
        plain.begin_average(0.9, &params).unwrap();
        assert!(plain.average().unwrap()[0].equal(&w.detach()));
        assert!(plain.begin_average(1.5, &params).is_err());
    }
}
