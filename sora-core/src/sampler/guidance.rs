//! Guidance: combines the model's predictions for several conditionings into one.

use tch::Tensor;

use crate::pipeline::Latents;
use crate::Result;

/// How a family's predictions for one step are combined.
pub enum Guidance {
    /// A single (conditional) prediction; no guidance.
    None,
    /// Classifier-free guidance: `uncond + scale · (cond − uncond)`.
    Cfg {
        /// The prediction without the text (negative prompt).
        uncond: Latents,
        /// The guidance scale.
        scale: f64,
    },
    /// Several terms at once (LTX-2: CFG, STG, modality guidance):
    /// `cond + Σ wᵢ · (cond − otherᵢ)`.
    Terms(Vec<(Latents, f64)>),
}

/// The model's output for one step, before guidance.
pub struct Prediction {
    /// The prediction under the full conditioning.
    pub cond: Latents,
    /// The other branches and how to mix them.
    pub guidance: Guidance,
}

/// Classifier-free guidance on one tensor, in the same operation order as diffusers.
pub fn cfg(cond: &Tensor, uncond: &Tensor, scale: f64) -> Result<Tensor> {
    Ok(uncond.f_add(&cond.f_sub(uncond)?.f_mul_scalar(scale)?)?)
}

fn combine_tensor(cond: &Tensor, terms: &[(&Tensor, f64)]) -> Result<Tensor> {
    let mut out = cond.shallow_clone();
    for (other, w) in terms {
        out = out.f_add(&cond.f_sub(other)?.f_mul_scalar(*w)?)?;
    }
    Ok(out)
}

impl Prediction {
    /// Applies the guidance to video and (when present) audio latents alike.
    pub fn combine(self) -> Result<Latents> {
        match self.guidance {
            Guidance::None => Ok(self.cond),
            Guidance::Cfg { uncond, scale } => {
                let video = cfg(&self.cond.video, &uncond.video, scale)?;
                let audio = match (&self.cond.audio, &uncond.audio) {
                    (Some(c), Some(u)) => Some(cfg(c, u, scale)?),
                    (a, _) => a.as_ref().map(|t| t.shallow_clone()),
                };
                Ok(Latents { video, audio })
            }
            Guidance::Terms(terms) => {
                let vt: Vec<(&Tensor, f64)> = terms.iter().map(|(l, w)| (&l.video, *w)).collect();
                let video = combine_tensor(&self.cond.video, &vt)?;
                let audio = match &self.cond.audio {
                    Some(a) => {
                        let at: Vec<(&Tensor, f64)> = terms
                            .iter()
                            .filter_map(|(l, w)| l.audio.as_ref().map(|t| (t, *w)))
                            .collect();
                        Some(combine_tensor(a, &at)?)
                    }
                    None => None,
                };
                Ok(Latents { video, audio })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfg_matches_formula() {
        let c = Tensor::from_slice(&[1.0f32, 2.0]);
        let u = Tensor::from_slice(&[0.5f32, 1.0]);
        let g = cfg(&c, &u, 5.0).unwrap();
        let v: Vec<f32> = Vec::try_from(&g).unwrap();
        assert_eq!(v, vec![3.0, 6.0]);
    }

    #[test]
    fn terms_with_cfg_weight_equal_cfg() {
        let c = Tensor::from_slice(&[1.0f32, 2.0]);
        let u = Tensor::from_slice(&[0.5f32, 1.0]);
        let p = Prediction {
            cond: Latents {
                video: c.shallow_clone(),
                audio: None,
            },
            guidance: Guidance::Terms(vec![(
                Latents {
                    video: u.shallow_clone(),
                    audio: None,
                },
                4.0,
            )]),
        };
        let v: Vec<f32> = Vec::try_from(&p.combine().unwrap().video).unwrap();
        assert_eq!(v, vec![3.0, 6.0]);
    }
}
