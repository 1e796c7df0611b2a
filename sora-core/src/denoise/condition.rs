//! Per-token conditioning of the video latent, applied by the walk at every
//! step: a mask of strengths in \[0, 1\] and the clean latents the masked
//! tokens are pulled to. After guidance, the step's clean-sample estimate
//! becomes `x0 · (1 − m) + clean · m` (diffusers' LTX-2 conditioning), then
//! goes back to a velocity for the scheduler. A token with `m = 1` that starts
//! at its clean value stays there exactly (its velocity is 0): the first frame
//! of image-to-video; fractional strengths pull a token partly (keyframes,
//! clip extension). What the model sees (per-token timesteps, the conditioned
//! input) is the family's business.

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// The video latent's per-token conditioning (see the module docs).
#[derive(Debug)]
pub struct VideoCondition {
    /// Strength per element, broadcastable to the video latent (e.g.
    /// `[B, tokens, 1]` for packed latents `[B, tokens, channels]`), in \[0, 1\].
    pub mask: Tensor,
    /// The clean latents, the video latent's shape (values where `mask` is 0
    /// are ignored).
    pub clean: Tensor,
}

impl VideoCondition {
    /// A condition, checked: `clean` has `like`'s shape, `mask` broadcasts to
    /// it, and every strength is finite and in \[0, 1\].
    pub fn new(mask: Tensor, clean: Tensor, like: &Tensor) -> Result<Self> {
        let want = like.size();
        if clean.size() != want {
            return Err(Error::invalid(format!(
                "conditioning latents {:?} do not have the latents' shape {want:?}",
                clean.size()
            )));
        }
        let m = mask.size();
        let broadcasts =
            m.len() == want.len() && m.iter().zip(&want).all(|(a, b)| *a == *b || *a == 1);
        if !broadcasts {
            return Err(Error::invalid(format!(
                "conditioning mask {m:?} does not broadcast to the latents' shape {want:?}"
            )));
        }
        let lo = mask.f_min()?.f_double_value(&[])?;
        let hi = mask.f_max()?.f_double_value(&[])?;
        if !(lo >= 0.0 && hi <= 1.0) {
            return Err(Error::invalid(format!(
                "conditioning strengths must be in [0, 1], got [{lo}, {hi}]"
            )));
        }
        Ok(Self {
            mask: mask.f_to_kind(Kind::Float)?,
            clean: clean.f_to_kind(Kind::Float)?,
        })
    }

    /// `x0 · (1 − m) + clean · m`, in that operation order (diffusers').
    pub fn blend(&self, x0: &Tensor) -> Result<Tensor> {
        let dev = x0.device();
        let m = self.mask.f_to_device(dev)?;
        let clean = self.clean.f_to_device(dev)?;
        Ok(x0
            .f_mul(&m.f_rsub_scalar(1.0)?)?
            .f_add(&clean.f_mul(&m)?)?
            .f_to_kind(x0.kind())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_strength_keeps_the_clean_value_and_zero_changes_nothing() {
        let like = Tensor::zeros([1, 3, 2], (Kind::Float, tch::Device::Cpu));
        let mask = Tensor::from_slice(&[1.0f32, 0.0, 0.25]).view([1, 3, 1]);
        let clean = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).view([1, 3, 2]);
        let c = VideoCondition::new(mask, clean, &like).unwrap();
        let x0 = Tensor::from_slice(&[-1.0f32, 7.5, 0.1, 0.3, 9.0, 1.0]).view([1, 3, 2]);
        let got = Vec::<f32>::try_from(c.blend(&x0).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(&got[..4], &[1.0, 2.0, 0.1, 0.3]);
        assert!((got[4] - (9.0 * 0.75 + 5.0 * 0.25)).abs() < 1e-6);
        assert!((got[5] - (0.75 + 6.0 * 0.25)).abs() < 1e-6);
    }

    #[test]
    fn bad_shapes_and_strengths_are_refused() {
        let like = Tensor::zeros([1, 3, 2], (Kind::Float, tch::Device::Cpu));
        let ok_clean = || Tensor::zeros([1, 3, 2], (Kind::Float, tch::Device::Cpu));
        let mask = |v: &[f32]| Tensor::from_slice(v).view([1, 3, 1]);
        assert!(VideoCondition::new(mask(&[0.0, 1.5, 0.0]), ok_clean(), &like).is_err());
        assert!(VideoCondition::new(mask(&[0.0, f32::NAN, 0.0]), ok_clean(), &like).is_err());
        let wrong = Tensor::zeros([1, 2, 2], (Kind::Float, tch::Device::Cpu));
        assert!(VideoCondition::new(mask(&[0.0, 1.0, 0.0]), wrong, &like).is_err());
        let bad_mask = Tensor::zeros([1, 2, 1], (Kind::Float, tch::Device::Cpu));
        assert!(VideoCondition::new(bad_mask, ok_clean(), &like).is_err());
    }
}
