//! A step's guidance plan: which branches the model runs (conditional,
//! unconditional, perturbed, isolated-modality, …), how their predictions
//! combine per modality, in which space (velocity, or the clean sample
//! x0 = x − σ·v), and an optional rescale per modality. Wan's classifier-free
//! guidance, its two-expert guidance and LTX-2's four-term guidance are all
//! plans; [`GuidancePlan::combine`] computes them in diffusers' operation order.

use tch::Tensor;

use super::condition::VideoCondition;
use super::latents::{Latents, PerModality};
use crate::nn::step_cache::BranchId;
use crate::sampler::guidance;
use crate::{Error, Result};

/// The prediction under the full conditioning (always the first branch).
pub const COND: BranchId = BranchId("cond");
/// The prediction without the text (the negative prompt).
pub const UNCOND: BranchId = BranchId("uncond");
/// The prediction with perturbed attention (spatio-temporal guidance).
pub const PERTURBED: BranchId = BranchId("perturbed");
/// The prediction with the cross-modal attention turned off (modality guidance).
pub const ISOLATED: BranchId = BranchId("isolated");

/// Where the terms are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// On the model's outputs (velocities) as they are.
    Velocity,
    /// On the clean samples they point to, `x0 = x − σ·v` per modality (σ the
    /// modality scheduler's noise level at the step), converted back after.
    X0,
}

/// How the terms combine with the conditional prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Classifier-free guidance as Wan writes it, one term at most:
    /// `other + s · (cond − other)`.
    Cfg,
    /// A sum of deltas (LTX-2): `cond + Σ wᵢ · (cond − otherᵢ)`, added in the
    /// terms' order. (CFG as a delta has the weight `s − 1`.)
    Deltas,
}

/// One guidance term: the branch it contrasts with, and its scale per modality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    /// The branch whose prediction the conditional one is contrasted with.
    pub branch: BranchId,
    /// The term's scale (the meaning depends on [`Form`]).
    pub scale: PerModality<f64>,
}

/// What one step runs and how it combines.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidancePlan {
    /// The model (expert) that runs this step: 0 for single-model families.
    /// Step-cache states are kept per model.
    pub model: usize,
    /// The branches to run; the first is [`COND`].
    pub branches: Vec<BranchId>,
    /// The guidance terms.
    pub terms: Vec<Term>,
    /// How the terms combine.
    pub form: Form,
    /// Where they combine.
    pub space: Space,
    /// Guidance rescale φ per modality (0 turns it off).
    pub rescale: PerModality<f64>,
}

impl GuidancePlan {
    /// No guidance: the conditional prediction alone.
    pub fn unguided(model: usize) -> Self {
        Self {
            model,
            branches: vec![COND],
            terms: Vec::new(),
            form: Form::Cfg,
            space: Space::Velocity,
            rescale: PerModality::both(0.0),
        }
    }

    /// Classifier-free guidance with the unconditional branch at `scale`
    /// (both modalities), in velocity space, as Wan does.
    pub fn cfg(model: usize, scale: f64) -> Self {
        Self {
            model,
            branches: vec![COND, UNCOND],
            terms: vec![Term {
                branch: UNCOND,
                scale: PerModality::both(scale),
            }],
            form: Form::Cfg,
            space: Space::Velocity,
            rescale: PerModality::both(0.0),
        }
    }

    /// Checks that the plan can be computed: the first branch is [`COND`],
    /// no branch twice, each term's branch is run, [`Form::Cfg`] has one term
    /// at most, and every scale is finite.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("guidance plan: {m}")));
        if self.branches.first() != Some(&COND) {
            return bad(format!(
                "the first branch must be `cond`, got {:?}",
                self.branches
            ));
        }
        for (i, b) in self.branches.iter().enumerate() {
            if self.branches[..i].contains(b) {
                return bad(format!("branch `{}` is listed twice", b.name()));
            }
        }
        for t in &self.terms {
            if t.branch == COND || !self.branches.contains(&t.branch) {
                return bad(format!(
                    "the term on `{}` needs that branch run (branches {:?})",
                    t.branch.name(),
                    self.branches
                ));
            }
            if !t.scale.video.is_finite() || !t.scale.audio.is_finite() {
                return bad(format!("the scale of `{}` is not finite", t.branch.name()));
            }
        }
        if self.form == Form::Cfg && self.terms.len() > 1 {
            return bad("the CFG form takes one term at most".into());
        }
        if !(self.rescale.video.is_finite() && self.rescale.audio.is_finite()) {
            return bad("the rescale factor is not finite".into());
        }
        Ok(())
    }

    /// The guided prediction (a velocity) from each branch's prediction
    /// (`preds[i]` is `self.branches[i]`'s), for the latents `x` at noise
    /// levels `sigma` (read only in [`Space::X0`]).
    pub fn combine(
        &self,
        x: &Latents,
        preds: &[Latents],
        sigma: PerModality<Option<f64>>,
    ) -> Result<Latents> {
        self.combine_conditioned(x, preds, sigma, None, None)
    }

    /// [`Self::combine`] with the video latent's per-token `condition` (and
    /// the audio latent's `audio_condition`) blended into the guided clean sample (after the rescale, before the
    /// conversion back to a velocity; see [`VideoCondition`]). In
    /// [`Space::Velocity`] the guided velocity is taken to x0 and back for it,
    /// which needs the noise level.
    pub fn combine_conditioned(
        &self,
        x: &Latents,
        preds: &[Latents],
        sigma: PerModality<Option<f64>>,
        condition: Option<&VideoCondition>,
        audio_condition: Option<&VideoCondition>,
    ) -> Result<Latents> {
        if preds.len() != self.branches.len() {
            return Err(Error::invalid(format!(
                "guidance plan: {} predictions for {} branches",
                preds.len(),
                self.branches.len()
            )));
        }
        let video: Vec<&Tensor> = preds.iter().map(|p| &p.video).collect();
        let out_video = self.combine_one(&x.video, &video, |s| s.video, sigma.video, condition)?;
        let out_audio = match &x.audio {
            Some(xa) => {
                let audio = preds
                    .iter()
                    .map(|p| {
                        p.audio.as_ref().ok_or_else(|| {
                            Error::invalid("guidance plan: a branch predicted no audio")
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Some(self.combine_one(xa, &audio, |s| s.audio, sigma.audio, audio_condition)?)
            }
            None => None,
        };
        Ok(Latents {
            video: out_video,
            audio: out_audio,
        })
    }

    /// One modality of [`GuidancePlan::combine`].
    fn combine_one(
        &self,
        x: &Tensor,
        preds: &[&Tensor],
        pick: impl Fn(&PerModality<f64>) -> f64,
        sigma: Option<f64>,
        condition: Option<&VideoCondition>,
    ) -> Result<Tensor> {
        let by_branch = |b: BranchId| -> Result<Tensor> {
            let i = self
                .branches
                .iter()
                .position(|x| *x == b)
                .ok_or_else(|| Error::invalid(format!("no branch `{}`", b.name())))?;
            Ok(preds[i].shallow_clone())
        };
        let raw_sigma = sigma;
        // The space the terms are combined in.
        let sigma = match (self.space, sigma) {
            (Space::Velocity, _) => None,
            (Space::X0, Some(s)) => Some(s),
            (Space::X0, None) => {
                return Err(Error::Unsupported(
                    "guidance in x0 space needs a scheduler with noise levels (sigmas)".into(),
                ))
            }
        };
        let to_space = |p: Tensor| -> Result<Tensor> {
            match sigma {
                Some(s) => guidance::velocity_to_x0(x, &p, s),
                None => Ok(p),
            }
        };
        let cond = to_space(by_branch(COND)?)?;
        let mut guided = match self.form {
            Form::Cfg => match self.terms.first() {
                Some(t) => guidance::cfg(&cond, &to_space(by_branch(t.branch)?)?, pick(&t.scale))?,
                None => cond.shallow_clone(),
            },
            Form::Deltas => {
                let mut deltas = Vec::with_capacity(self.terms.len());
                for t in &self.terms {
                    let other = to_space(by_branch(t.branch)?)?;
                    deltas.push(guidance::delta(&cond, &other, pick(&t.scale))?);
                }
                let mut g = cond.shallow_clone();
                for d in &deltas {
                    g = g.f_add(d)?;
                }
                g
            }
        };
        let phi = pick(&self.rescale);
        if phi > 0.0 {
            guided = guidance::rescale(&guided, &cond, phi)?;
        }
        match (sigma, condition) {
            (Some(s), Some(c)) => guidance::x0_to_velocity(x, &c.blend(&guided)?, s),
            (Some(s), None) => guidance::x0_to_velocity(x, &guided, s),
            (None, None) => Ok(guided),
            (None, Some(c)) => {
                let s = raw_sigma.ok_or_else(|| {
                    Error::Unsupported(
                        "per-token conditioning needs a scheduler with noise levels (sigmas)"
                            .into(),
                    )
                })?;
                let x0 = guidance::velocity_to_x0(x, &guided, s)?;
                guidance::x0_to_velocity(x, &c.blend(&x0)?, s)
            }
        }
    }
}
