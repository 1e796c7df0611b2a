//! Guidance formulas on single tensors, in the same operation order as
//! diffusers (so that results match bit for bit): classifier-free guidance,
//! guidance terms as deltas, guidance rescale, and the velocity ↔ clean-sample
//! (x0) conversions of flow-matching models. The denoising walk combines them
//! per modality by a [`GuidancePlan`](crate::denoise::GuidancePlan).

use tch::{Kind, Tensor};

use crate::Result;

/// Classifier-free guidance as diffusers' Wan (and SD) pipelines write it:
/// `uncond + scale · (cond − uncond)`.
pub fn cfg(cond: &Tensor, uncond: &Tensor, scale: f64) -> Result<Tensor> {
    Ok(uncond.f_add(&cond.f_sub(uncond)?.f_mul_scalar(scale)?)?)
}

/// One guidance term as a delta (LTX-2's form): `weight · (cond − other)`.
pub fn delta(cond: &Tensor, other: &Tensor, weight: f64) -> Result<Tensor> {
    Ok(cond.f_sub(other)?.f_mul_scalar(weight)?)
}

/// Guidance rescale (Lin et al. 2023, diffusers' `rescale_noise_cfg`): the
/// guided prediction scaled to the conditional one's standard deviation over
/// all but the batch dimension, mixed by `phi`:
/// `phi · guided · (std(cond) / std(guided)) + (1 − phi) · guided`.
pub fn rescale(guided: &Tensor, cond: &Tensor, phi: f64) -> Result<Tensor> {
    let dims: Vec<i64> = (1..guided.dim() as i64).collect();
    let std_text = cond.f_std_dim(dims.as_slice(), true, true)?;
    let std_cfg = guided.f_std_dim(dims.as_slice(), true, true)?;
    let rescaled = guided.f_mul(&std_text.f_div(&std_cfg)?)?;
    Ok(rescaled
        .f_mul_scalar(phi)?
        .f_add(&guided.f_mul_scalar(1.0 - phi)?)?)
}

/// The clean sample a flow-matching velocity points to: `x − v · σ` (in f32, as
/// diffusers' LTX-2 pipeline converts after `.float()`).
pub fn velocity_to_x0(sample: &Tensor, velocity: &Tensor, sigma: f64) -> Result<Tensor> {
    let v = velocity.f_to_kind(Kind::Float)?;
    Ok(sample.f_sub(&v.f_mul(&sigma_tensor(sigma, &v)?)?)?)
}

/// The velocity that leads to the clean sample `x0`: `(x − x0) / σ`.
pub fn x0_to_velocity(sample: &Tensor, x0: &Tensor, sigma: f64) -> Result<Tensor> {
    Ok(sample.f_sub(x0)?.f_div(&sigma_tensor(sigma, x0)?)?)
}

/// `σ` as a 0-dim f32 tensor on `like`'s device (diffusers indexes the
/// scheduler's f32 sigmas, a tensor, not a Python float).
fn sigma_tensor(sigma: f64, like: &Tensor) -> Result<Tensor> {
    Ok(Tensor::f_from_slice(&[sigma as f32])?
        .f_reshape([] as [i64; 0])?
        .f_to_device(like.device())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &Tensor) -> Vec<f32> {
        Vec::try_from(t.flatten(0, -1)).unwrap()
    }

    #[test]
    fn cfg_matches_formula() {
        let c = Tensor::from_slice(&[1.0f32, 2.0]);
        let u = Tensor::from_slice(&[0.5f32, 1.0]);
        assert_eq!(v(&cfg(&c, &u, 5.0).unwrap()), vec![3.0, 6.0]);
        assert_eq!(v(&delta(&c, &u, 4.0).unwrap()), vec![2.0, 4.0]);
    }

    #[test]
    fn rescale_matches_its_definition() {
        let g = Tensor::from_slice(&[1.0f32, 3.0, 0.0, 4.0]).view([1, 4]);
        let c = Tensor::from_slice(&[0.0f32, 1.0, 0.0, 1.0]).view([1, 4]);
        let out = v(&rescale(&g, &c, 0.5).unwrap());
        let sd = |x: [f32; 4]| {
            let m = x.iter().sum::<f32>() / 4.0;
            (x.iter().map(|a| (a - m) * (a - m)).sum::<f32>() / 3.0).sqrt()
        };
        let k = sd([0.0, 1.0, 0.0, 1.0]) / sd([1.0, 3.0, 0.0, 4.0]);
        for (o, gi) in out.iter().zip([1.0f32, 3.0, 0.0, 4.0]) {
            let want = 0.5 * gi * k + 0.5 * gi;
            assert!((o - want).abs() < 1e-6, "{o} vs {want}");
        }
    }

    #[test]
    fn x0_and_velocity_round_trip() {
        let x = Tensor::from_slice(&[1.0f32, -2.0]);
        let vel = Tensor::from_slice(&[0.5f32, 0.25]);
        let x0 = velocity_to_x0(&x, &vel, 0.5).unwrap();
        assert_eq!(v(&x0), vec![0.75, -2.125]);
        assert_eq!(v(&x0_to_velocity(&x, &x0, 0.5).unwrap()), vec![0.5, 0.25]);
    }
}
