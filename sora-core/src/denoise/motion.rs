//! Motion guidance: an experimental hook that, in the late denoising steps,
//! reduces the temporal variance of the predicted clean video where it is
//! highest — a gradient-free variant of FlowMo (Shaulov et al. 2025,
//! "FlowMo: variance-based flow guidance for coherent motion"). Off by default.
//!
//! FlowMo differentiates the mean temporal variance of the most variable
//! patches of the predicted clean video `x̂0 = x − σ·v` through the model and
//! moves `x` against that gradient. That needs a backward pass through the
//! transformer at each guided step; this hook instead edits `x̂0` directly:
//!
//! - `w(p)`: the temporal variance of `x̂0` at each spatial position `p`
//!   (averaged over channels), divided by its largest value in the sample, so
//!   the most variable positions get weight 1;
//! - `h = x̂0 − L(x̂0)`, the temporal high-frequency part, where `L` is the
//!   `[1, 2, 1] / 4` filter over latent frames (edges replicated);
//! - `x̂0' = x̂0 − s · w · h`, and the velocity handed to the scheduler is
//!   `(x − x̂0') / σ`.
//!
//! The first latent frame is left alone (it carries an image condition in
//! image-to-video, and a causal VAE encodes it by itself). Measured cost and
//! effect: `docs/physics.md`, "Motion guidance".

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::sampler::guidance::{velocity_to_x0, x0_to_velocity};

/// The hook's settings: strength `s` and the share of the steps after which it
/// acts (`from = 0.5`: the second half of the steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionGuidance {
    /// `s` in (0, 1]: the share of the temporal high-frequency part removed
    /// where the variance is highest.
    pub strength: f64,
    /// In [0, 1): the hook acts on step `i` of `n` when `i ≥ from · n`.
    pub from: f64,
}

impl MotionGuidance {
    /// The default start: the last half of the steps.
    pub const DEFAULT_FROM: f64 = 0.5;

    /// Checks the settings.
    pub fn check(&self) -> Result<()> {
        if !(self.strength.is_finite() && self.strength > 0.0 && self.strength <= 1.0) {
            return Err(Error::invalid(format!(
                "motion guidance: strength must be in (0, 1], got {}",
                self.strength
            )));
        }
        if !(self.from.is_finite() && (0.0..1.0).contains(&self.from)) {
            return Err(Error::invalid(format!(
                "motion guidance: the start must be a share of the steps in [0, 1), got {}",
                self.from
            )));
        }
        Ok(())
    }

    /// Parses the option's text: `off`, `STRENGTH` or `STRENGTH@FROM`
    /// (e.g. `0.5@0.6`). `None` for `off`.
    pub fn parse(text: &str) -> Result<Option<Self>> {
        let t = text.trim().to_ascii_lowercase();
        if matches!(t.as_str(), "off" | "none" | "") {
            return Ok(None);
        }
        let bad = || {
            Error::invalid(format!(
                "motion guidance: expected off, STRENGTH or STRENGTH@FROM (e.g. 0.5@0.6), got {text:?}"
            ))
        };
        let (s, f) = match t.split_once('@') {
            Some((s, f)) => (s, Some(f)),
            None => (t.as_str(), None),
        };
        let strength: f64 = s.trim().parse().map_err(|_| bad())?;
        let from: f64 = match f {
            Some(f) => f.trim().parse().map_err(|_| bad())?,
            None => Self::DEFAULT_FROM,
        };
        let g = Self { strength, from };
        g.check()?;
        Ok(Some(g))
    }

    /// The option's text for this setting (what [`MotionGuidance::parse`] reads).
    pub fn to_text(&self) -> String {
        format!("{}@{}", self.strength, self.from)
    }

    /// Whether the hook acts on step `index` of `total`.
    pub fn acts_on(&self, index: usize, total: usize) -> bool {
        index as f64 >= self.from * total as f64
    }

    /// The guided velocity `v` of the sample `x` at noise level `sigma`, with
    /// the temporal variance of its clean prediction reduced (module docs).
    /// `x` and `v` are `[batch, channels, frames, ...space]`. Returns `v`
    /// unchanged when there are fewer than three frames after the first, or
    /// `sigma` is (numerically) zero.
    pub fn apply(&self, x: &Tensor, v: &Tensor, sigma: f64) -> Result<Tensor> {
        let dims = x.size();
        if dims.len() < 4 || v.size() != dims {
            return Err(Error::invalid(format!(
                "motion guidance: needs [batch, channels, frames, ...space] latents, got {dims:?} and {:?}",
                v.size()
            )));
        }
        let frames = dims[2];
        if frames < 4 || sigma.abs() < 1e-6 {
            return Ok(v.shallow_clone());
        }
        let kind = v.kind();
        let x0 = velocity_to_x0(x, v, sigma)?.f_to_kind(Kind::Float)?;
        let head = x0.f_narrow(2, 0, 1)?;
        let rest = x0.f_narrow(2, 1, frames - 1)?;
        let n = frames - 1;
        // [1, 2, 1] / 4 over frames, edges replicated.
        let prev = Tensor::f_cat(&[rest.f_narrow(2, 0, 1)?, rest.f_narrow(2, 0, n - 1)?], 2)?;
        let next = Tensor::f_cat(
            &[rest.f_narrow(2, 1, n - 1)?, rest.f_narrow(2, n - 1, 1)?],
            2,
        )?;
        let low = prev
            .f_add(&rest.f_mul_scalar(2.0)?)?
            .f_add(&next)?
            .f_mul_scalar(0.25)?;
        let high = rest.f_sub(&low)?;
        // Temporal variance per position, averaged over channels: [B, 1, 1, ...space].
        let var =
            rest.f_var_dim(&[2i64][..], false, true)?
                .f_mean_dim(&[1i64][..], true, Kind::Float)?;
        let space: Vec<i64> = (3..dims.len() as i64).collect();
        let peak = var
            .f_amax(space.as_slice(), true)?
            .f_clamp_min(f64::from(f32::MIN_POSITIVE))?;
        let weight = var.f_div(&peak)?;
        let rest = rest.f_sub(&high.f_mul(&weight)?.f_mul_scalar(self.strength)?)?;
        let x0 = Tensor::f_cat(&[head, rest], 2)?;
        Ok(x0_to_velocity(&x.f_to_kind(Kind::Float)?, &x0, sigma)?.f_to_kind(kind)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn temporal_var(x0: &Tensor) -> f64 {
        let n = x0.size()[2];
        x0.narrow(2, 1, n - 1)
            .var_dim(&[2i64][..], false, false)
            .mean(Kind::Float)
            .double_value(&[])
    }

    #[test]
    fn parses_and_checks() {
        assert_eq!(MotionGuidance::parse("off").unwrap(), None);
        let g = MotionGuidance::parse("0.5").unwrap().unwrap();
        assert_eq!((g.strength, g.from), (0.5, 0.5));
        let g = MotionGuidance::parse(" 0.3@0.75 ").unwrap().unwrap();
        assert_eq!((g.strength, g.from), (0.3, 0.75));
        assert_eq!(
            MotionGuidance::parse(&g.to_text()).unwrap(),
            Some(g),
            "to_text round-trips"
        );
        for bad in [
            "0", "1.5", "-1", "nan", "0.5@1", "0.5@-0.1", "fast", "0.5@x",
        ] {
            assert!(
                matches!(MotionGuidance::parse(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        let g = MotionGuidance {
            strength: 1.0,
            from: 0.5,
        };
        assert!(!g.acts_on(4, 10) && g.acts_on(5, 10) && g.acts_on(9, 10));
    }

    /// The clean prediction's temporal variance drops where it is highest, the
    /// first frame and smooth (linear-in-time) motion are untouched.
    #[test]
    fn reduces_variance_and_keeps_smooth_motion() {
        tch::manual_seed(3);
        let opts = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([1, 4, 9, 6, 5], opts);
        let v = Tensor::randn([1, 4, 9, 6, 5], opts);
        let sigma = 0.4;
        let g = MotionGuidance {
            strength: 1.0,
            from: 0.0,
        };
        let v2 = g.apply(&x, &v, sigma).unwrap();
        let x0 = velocity_to_x0(&x, &v, sigma).unwrap();
        let x02 = velocity_to_x0(&x, &v2, sigma).unwrap();
        assert!(temporal_var(&x02) < 0.8 * temporal_var(&x0));
        let first = (x0.narrow(2, 0, 1) - x02.narrow(2, 0, 1)).abs().max();
        assert!(first.double_value(&[]) < 1e-5);

        // A clean prediction linear in time has no high-frequency part.
        let t = Tensor::arange(9, opts).view([1, 1, 9, 1, 1]);
        let ramp = Tensor::randn([1, 4, 1, 6, 5], opts) + t * Tensor::randn([1, 4, 1, 6, 5], opts);
        let v_lin = x0_to_velocity(&x, &ramp, sigma).unwrap();
        let out = g.apply(&x, &v_lin, sigma).unwrap();
        let moved = velocity_to_x0(&x, &out, sigma).unwrap() - &ramp;
        // Inner frames unchanged; the replicated edges move the ends only.
        let inner = moved.narrow(2, 2, 6).abs().max().double_value(&[]);
        assert!(inner < 1e-4, "inner frames moved by {inner}");
    }

    #[test]
    fn short_or_clean_inputs_pass_through_and_bad_shapes_are_refused() {
        let opts = (Kind::Float, Device::Cpu);
        let g = MotionGuidance {
            strength: 0.5,
            from: 0.0,
        };
        let x = Tensor::randn([1, 2, 3, 4, 4], opts);
        let v = Tensor::randn([1, 2, 3, 4, 4], opts);
        assert!(g.apply(&x, &v, 0.5).unwrap().equal(&v));
        let x = Tensor::randn([1, 2, 6, 4, 4], opts);
        let v = Tensor::randn([1, 2, 6, 4, 4], opts);
        assert!(g.apply(&x, &v, 0.0).unwrap().equal(&v));
        let bad = Tensor::randn([1, 2, 6], opts);
        assert!(g.apply(&bad, &bad, 0.5).is_err());
        assert!(g.apply(&x, &bad, 0.5).is_err());
    }
}
