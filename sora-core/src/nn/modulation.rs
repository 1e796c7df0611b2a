//! Adaptive-norm modulation of diffusion-transformer blocks (DiT / Wan):
//! `norm(x)·(1 + scale) + shift` before a sub-layer and `x + y·gate` after it,
//! computed in f32 and cast back to the activations' dtype, as diffusers does,
//! but in one kernel each instead of five: on a GPU these passes over the
//! `[B, S, dim]` activations are memory-bound, and at the Wan2.1-1.3B config
//! the unfused chain cost about a quarter of a forward (docs/performance.md, "GPU").

use tch::{Kind, Tensor};

use crate::Result;

/// `layer_norm(x.float()) · (1 + scale) + shift`, cast to `x`'s dtype.
///
/// `scale` and `shift` are f32 and broadcast to `x` `[B, S, dim]`. When they
/// are per sample (`[B, 1, dim]` or `[1, dim]`), the modulation becomes the
/// norm's own affine weight and bias: one fused f32 layer norm (one per sample
/// unless the whole batch shares its modulation), plus the casts of a
/// half-precision `x` to f32 and back (CUDA's layer norm does not take a
/// half input with f32 weights). Per-token modulations (`[B, S, dim]`) take
/// the unfused path.
pub fn modulated_layer_norm(
    x: &Tensor,
    scale: &Tensor,
    shift: &Tensor,
    dim: i64,
    eps: f64,
) -> Result<Tensor> {
    let kind = x.kind();
    let xs = x.size();
    let per_sample = |t: &Tensor| {
        let s = t.size();
        xs.len() == 3
            && t.kind() == Kind::Float
            && match s.len() {
                3 => s[1] == 1 && s[2] == dim && (s[0] == xs[0] || s[0] == 1),
                2 => s[0] == 1 && s[1] == dim,
                _ => false,
            }
    };
    if xs.len() == 3 && xs[2] == dim && per_sample(scale) && per_sample(shift) {
        let batch = xs[0];
        let weight = scale.f_add_scalar(1.0)?.f_reshape([-1, dim])?;
        let bias = shift.f_reshape([-1, dim])?;
        let xf = x.f_to_kind(Kind::Float)?;
        if weight.size()[0] == 1 && bias.size()[0] == 1 {
            // One modulation for the whole batch: a single fused norm.
            let (w, c) = (weight.f_select(0, 0)?, bias.f_select(0, 0)?);
            return Ok(xf
                .f_layer_norm([dim], Some(&w), Some(&c), eps, true)?
                .f_to_kind(kind)?);
        }
        let row = |t: &Tensor, b: i64| t.f_select(0, if t.size()[0] == 1 { 0 } else { b });
        let mut outs = Vec::with_capacity(batch as usize);
        for b in 0..batch {
            let w = row(&weight, b)?;
            let c = row(&bias, b)?;
            outs.push(
                xf.f_select(0, b)?
                    .f_layer_norm([dim], Some(&w), Some(&c), eps, true)?,
            );
        }
        return Ok(Tensor::f_stack(&outs, 0)?.f_to_kind(kind)?);
    }
    let n =
        x.f_to_kind(Kind::Float)?
            .f_layer_norm([dim], None::<Tensor>, None::<Tensor>, eps, true)?;
    Ok(n.f_mul(&scale.f_add_scalar(1.0)?)?
        .f_add(shift)?
        .f_to_kind(kind)?)
}

/// `temb` `[B, ...]` cut to its first sample when every sample holds the same
/// values (classifier-free guidance's two branches at one timestep), so that the
/// modulation broadcasts and [`modulated_layer_norm`] runs one fused norm over
/// the batch instead of one per sample. Costs one comparison (a device sync).
pub fn shared_across_batch(temb: &Tensor) -> Result<Tensor> {
    let s = temb.size();
    if s.first().copied().unwrap_or(0) < 2 {
        return Ok(temb.shallow_clone());
    }
    let first = temb.f_narrow(0, 0, 1)?;
    let same = temb.f_eq_tensor(&first)?.f_all()?.f_int64_value(&[])? != 0;
    Ok(if same { first } else { temb.shallow_clone() })
}

/// `x.float() + y.float() · gate`, cast to `x`'s dtype, in one pass
/// (`addcmul` computes in the promoted f32 and writes `x`'s dtype); the
/// unfused chain where a backend refuses the mixed dtypes.
pub fn gated_residual(x: &Tensor, y: &Tensor, gate: &Tensor) -> Result<Tensor> {
    let out = x.f_empty_like()?;
    if let Ok(r) = x.f_addcmul_out(&out, y, gate) {
        return Ok(r);
    }
    Ok(x.f_to_kind(Kind::Float)?
        .f_add(&y.f_to_kind(Kind::Float)?.f_mul(gate)?)?
        .f_to_kind(x.kind())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// The unfused reference, written out as diffusers does it.
    fn reference(x: &Tensor, scale: &Tensor, shift: &Tensor, dim: i64) -> Tensor {
        x.to_kind(Kind::Float)
            .layer_norm([dim], None::<Tensor>, None::<Tensor>, 1e-6, true)
            .f_mul(&(scale + 1.0))
            .unwrap()
            .f_add(shift)
            .unwrap()
            .to_kind(x.kind())
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a.to_kind(Kind::Float) - b.to_kind(Kind::Float))
            .abs()
            .max()
            .double_value(&[])
    }

    #[test]
    fn fused_modulation_matches_the_unfused_chain() {
        tch::manual_seed(5);
        let dim = 64;
        for kind in [Kind::Float, Kind::BFloat16] {
            let x =
                (Tensor::randn([2, 7, dim], (Kind::Float, Device::Cpu)) * 3.0 + 1.0).to_kind(kind);
            for shape in [vec![2, 1, dim], vec![1, 1, dim], vec![2, 7, dim]] {
                let scale = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu)) * 0.1;
                let shift = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu));
                let got = modulated_layer_norm(&x, &scale, &shift, dim, 1e-6).unwrap();
                let want = reference(&x, &scale, &shift, dim);
                assert_eq!(got.size(), want.size());
                assert_eq!(got.kind(), kind);
                // f32: rounding order only; bf16: at most one unit in the last place.
                let tol = if kind == Kind::Float { 1e-5 } else { 0.05 };
                let d = max_diff(&got, &want);
                assert!(d <= tol, "{kind:?} {shape:?}: max diff {d}");
            }
        }
    }

    #[test]
    fn a_batch_with_one_modulation_shares_it() {
        let a = Tensor::randn([1, 6, 8], (Kind::Float, Device::Cpu));
        let same = Tensor::cat(&[&a, &a], 0);
        assert_eq!(shared_across_batch(&same).unwrap().size(), vec![1, 6, 8]);
        let other = Tensor::cat(&[&a, &(&a + 1e-3)], 0);
        assert_eq!(shared_across_batch(&other).unwrap().size(), vec![2, 6, 8]);
        assert_eq!(shared_across_batch(&a).unwrap().size(), vec![1, 6, 8]);
    }

    #[test]
    fn gated_residual_matches_the_unfused_chain() {
        tch::manual_seed(6);
        for kind in [Kind::Float, Kind::BFloat16] {
            let x = Tensor::randn([2, 5, 16], (Kind::Float, Device::Cpu)).to_kind(kind);
            let y = Tensor::randn([2, 5, 16], (Kind::Float, Device::Cpu)).to_kind(kind);
            let gate = Tensor::randn([2, 1, 16], (Kind::Float, Device::Cpu));
            let got = gated_residual(&x, &y, &gate).unwrap();
            let want = (x.to_kind(Kind::Float) + y.to_kind(Kind::Float) * &gate).to_kind(kind);
            assert_eq!(got.kind(), kind);
            let tol = if kind == Kind::Float { 1e-6 } else { 0.05 };
            assert!(max_diff(&got, &want) <= tol);
        }
    }
}
