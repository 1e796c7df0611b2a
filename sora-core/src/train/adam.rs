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
        }
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
        Ok(Self {
            config,
            step: 0,
            m: zeros()?,
            v: zeros()?,
        })
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
        let step_size = c.lr / bc1;
        for (i, ((_, p), g)) in params.iter().zip(grads).enumerate() {
            let Some(g) = g else { continue };
            let g = if clip < 1.0 { g.f_mul_scalar(clip)? } else { g };
            let mut p = p.shallow_clone();
            if c.weight_decay > 0.0 && p.dim() >= 2 {
                let _ = p.f_mul_scalar_(1.0 - c.lr * c.weight_decay)?;
            }
            let m = &mut self.m[i];
            let _ = m.f_mul_scalar_(c.beta1)?;
            let _ = m.f_add_(&g.f_mul_scalar(1.0 - c.beta1)?)?;
            let v = &mut self.v[i];
            let _ = v.f_mul_scalar_(c.beta2)?;
            let _ = v.f_add_(&g.f_square()?.f_mul_scalar(1.0 - c.beta2)?)?;
            let denom = v.f_sqrt()?.f_div_scalar(bc2.sqrt())?.f_add_scalar(c.eps)?;
            let _ = p.f_sub_(&m.f_div(&denom)?.f_mul_scalar(step_size)?)?;
        }
        Ok(norm)
    }

    /// The moments as named tensors (`exp_avg.<name>`, `exp_avg_sq.<name>`).
    pub fn state_tensors(&self, params: &Params) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * params.len());
        for (i, (name, _)) in params.iter().enumerate() {
            out.push((format!("exp_avg.{name}"), self.m[i].shallow_clone()));
            out.push((format!("exp_avg_sq.{name}"), self.v[i].shallow_clone()));
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
        for (name, p) in params.iter() {
            m.push(find(format!("exp_avg.{name}"), p)?);
            v.push(find(format!("exp_avg_sq.{name}"), p)?);
        }
        Ok(Self { config, step, m, v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// Two steps on a quadratic match a hand computation of AdamW.
    #[test]
    fn matches_the_formula_and_clips() {
        let opts = (Kind::Double, Device::Cpu);
        let w = Tensor::from_slice(&[1.0f64, -2.0])
            .f_reshape([1, 2])
            .unwrap();
        let named = vec![("w".to_string(), w.shallow_clone())];
        let params = Params::new(&named, |_| false).unwrap();
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
}
