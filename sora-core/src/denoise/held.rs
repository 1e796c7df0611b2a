//! Latent frames held fixed through the walk by replacing the latent state
//! (not the clean-sample estimate, as [`super::condition::VideoCondition`]
//! does): conditioning a generation on known frames (a clip's tail when
//! extending it; the previous window's tail in long-form generation). A per-frame mask says which latent frames are
//! generated and which are held; the walk ([`super::walk`](mod@super::walk)) sets the held ones
//! at the start and after every step, so the model sees them at every step
//! and the final latents carry them exactly.
//!
//! Two ways to hold, by what the model was trained on:
//! - [`Hold::Clean`]: the held frames are the clean latents at every step; for
//!   models that take a timestep per token and see the held tokens at
//!   timestep 0 (Wan 2.2 TI2V, LTX-2's conditioning).
//! - [`Hold::Renoised`]: the held frames are the clean latents noised to the
//!   walk's current noise level, `(1 − σ)·clean + σ·noise` with the noise
//!   drawn for them at the start (flow matching's forward process), for models
//!   with one timestep for the whole latent (Wan text-to-video): the
//!   "replacement" way of inpainting, here in time. After the last step
//!   (`σ = 0`) they are the clean latents.

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// How held frames are given to the model at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The clean latents (the model takes a per-token timestep, 0 there).
    Clean,
    /// The clean latents noised to the step's noise level.
    Renoised,
}

/// Latent frames held fixed, over latents `[B, C, F, ...]` (frames on axis 2).
#[derive(Debug)]
pub struct HeldFrames {
    /// The clean latents where held, zeros elsewhere: `[B, C, F, ...]`.
    clean: Tensor,
    /// 1 where generated, 0 where held: `[1, 1, F, 1, …]`, broadcast.
    free: Tensor,
    /// The noise of the held frames (the latents first given to
    /// [`HeldFrames::apply`]), for [`Hold::Renoised`].
    noise: Option<Tensor>,
    how: Hold,
    held: i64,
}

impl Clone for HeldFrames {
    fn clone(&self) -> Self {
        Self {
            clean: self.clean.shallow_clone(),
            free: self.free.shallow_clone(),
            noise: self.noise.as_ref().map(Tensor::shallow_clone),
            how: self.how,
            held: self.held,
        }
    }
}

impl HeldFrames {
    /// The first `m` latent frames held to `clean` (`[B, C, m, ...]`) in
    /// latents of `frames` latent frames (`m < frames`).
    pub fn leading(clean: &Tensor, frames: i64, how: Hold) -> Result<Self> {
        let s = clean.size();
        if s.len() < 3 {
            return Err(Error::invalid(format!(
                "held latents must be [batch, channels, frames, ...], got {s:?}"
            )));
        }
        let m = s[2];
        if m < 1 || m >= frames {
            return Err(Error::invalid(format!(
                "{m} held latent frames of {frames}: at least one must be held and one generated"
            )));
        }
        let mut rest = s.clone();
        rest[2] = frames - m;
        let zeros = Tensor::f_zeros(rest.as_slice(), (clean.kind(), clean.device()))?;
        let clean = Tensor::f_cat(&[clean.shallow_clone(), zeros], 2)?;
        let mut mask_shape = vec![1i64; s.len()];
        mask_shape[2] = frames;
        let free = Tensor::f_ones(mask_shape.as_slice(), (Kind::Float, clean.device()))?;
        let _ = free.f_narrow(2, 0, m)?.f_fill_(0.0)?;
        Ok(Self {
            clean,
            free,
            noise: None,
            how,
            held: m,
        })
    }

    /// [`HeldFrames::leading`] with a crossfade: held frame `j` of `m` is
    /// held with weight `1 − j/m` (the first fully, the later ones less and
    /// less), the model's own latents taking the rest, at every step. Long-form
    /// generation's overlap: the previous window's tail fades into the new
    /// window's own frames (see [`crate::pipeline::longform`]). With `m = 1`
    /// it is [`HeldFrames::leading`].
    pub fn leading_crossfaded(clean: &Tensor, frames: i64, how: Hold) -> Result<Self> {
        let h = Self::leading(clean, frames, how)?;
        let m = h.held;
        for j in 1..m {
            let _ = h.free.f_narrow(2, j, 1)?.f_fill_(j as f64 / m as f64)?;
        }
        Ok(h)
    }

    /// How the frames are held.
    pub fn how(&self) -> Hold {
        self.how
    }

    /// Latent frames held.
    pub fn held(&self) -> i64 {
        self.held
    }

    /// The clean latents where held, zeros elsewhere.
    pub fn clean(&self) -> &Tensor {
        &self.clean
    }

    /// The per-frame mask: 1 where generated, 0 where held (`[1, 1, F, 1, …]`).
    pub fn free(&self) -> &Tensor {
        &self.free
    }

    /// `x` with the held frames set for noise level `sigma` (ignored by
    /// [`Hold::Clean`]). The first call keeps `x`'s held frames as their noise.
    pub fn apply(&mut self, x: &Tensor, sigma: Option<f64>) -> Result<Tensor> {
        if x.size() != self.clean.size() {
            return Err(Error::invalid(format!(
                "held frames for latents {:?} given latents {:?}",
                self.clean.size(),
                x.size()
            )));
        }
        let held = match self.how {
            Hold::Clean => self.clean.f_to_kind(x.kind())?,
            Hold::Renoised => {
                let sigma = sigma.ok_or_else(|| {
                    Error::Unsupported(
                        "holding frames re-noised needs a scheduler with noise levels (sigmas)"
                            .into(),
                    )
                })?;
                if self.noise.is_none() {
                    self.noise = Some(x.f_detach_copy()?);
                }
                let noise = self
                    .noise
                    .as_ref()
                    .map(Tensor::shallow_clone)
                    .ok_or_else(|| Error::invalid("held frames have no noise"))?;
                self.clean
                    .f_mul_scalar(1.0 - sigma)?
                    .f_add(&noise.f_mul_scalar(sigma)?)?
                    .f_to_kind(x.kind())?
            }
        };
        // (1 − free)·held + free·x, written so held frames are exact.
        let free = self.free.f_to_kind(x.kind())?;
        Ok(x.f_mul(&free)?
            .f_add(&held.f_mul(&free.f_rsub_scalar(1.0)?)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_frames_are_exact_and_free_ones_untouched() {
        let clean = Tensor::from_slice(&[1.0f32, 2.0]).view([1, 1, 2, 1]);
        let mut h = HeldFrames::leading(&clean, 4, Hold::Clean).unwrap();
        let x = Tensor::from_slice(&[9.0f32, 8.0, 7.0, 6.0]).view([1, 1, 4, 1]);
        let y = Vec::<f32>::try_from(h.apply(&x, None).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(y, vec![1.0, 2.0, 7.0, 6.0]);

        let mut r = HeldFrames::leading(&clean, 4, Hold::Renoised).unwrap();
        // First call: the held frames' values are their noise (σ = 1 keeps them).
        let y = Vec::<f32>::try_from(r.apply(&x, Some(1.0)).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(y, vec![9.0, 8.0, 7.0, 6.0]);
        let x2 = Tensor::from_slice(&[0.0f32, 0.0, 5.0, 4.0]).view([1, 1, 4, 1]);
        let y = Vec::<f32>::try_from(r.apply(&x2, Some(0.25)).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(y, vec![0.75 + 2.25, 1.5 + 2.0, 5.0, 4.0]);
        let y = Vec::<f32>::try_from(r.apply(&x2, Some(0.0)).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(y, vec![1.0, 2.0, 5.0, 4.0]);
        assert!(matches!(r.apply(&x2, None), Err(Error::Unsupported(_))));
        assert!(HeldFrames::leading(&clean, 2, Hold::Clean).is_err());
        // Crossfaded: the first held frame exact, the second half held.
        let mut c = HeldFrames::leading_crossfaded(&clean, 4, Hold::Clean).unwrap();
        let y = Vec::<f32>::try_from(c.apply(&x, None).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(y, vec![1.0, 5.0, 7.0, 6.0]);
        assert!(h.apply(&clean, None).is_err());
    }
}
