//! The named trainable tensors of a loaded component.
//!
//! A component loaded over a store that keeps names
//! ([`TensorStore::keep_names`](crate::weights::TensorStore::keep_names))
//! hands back a shallow clone of every tensor its modules hold: same storage,
//! same autograd state. Marking those leaves `requires_grad` makes the
//! modules' forward passes record a graph to them, and updating them in place
//! (under `no_grad`) updates the modules.

use tch::Tensor;

use crate::{Error, Result};

/// The trainable tensors of one component, by checkpoint name.
#[derive(Debug)]
pub struct Params {
    entries: Vec<(String, Tensor)>,
}

impl Params {
    /// The floating tensors of `named` for which `frozen(name)` is false,
    /// marked `requires_grad`. A name handed out twice is
    /// [`Error::InvalidRequest`] (two tensors would be trained apart).
    pub fn new(named: &[(String, Tensor)], frozen: impl Fn(&str) -> bool) -> Result<Self> {
        let mut entries: Vec<(String, Tensor)> = Vec::new();
        for (name, t) in named {
            if entries.iter().any(|(n, _)| n == name) {
                return Err(Error::invalid(format!(
                    "tensor `{name}` was handed out twice: training needs one tensor per name"
                )));
            }
            if frozen(name) || !t.is_floating_point() {
                continue;
            }
            let _ = t.set_requires_grad(true);
            entries.push((name.clone(), t.shallow_clone()));
        }
        if entries.is_empty() {
            return Err(Error::invalid("no trainable tensors"));
        }
        Ok(Self { entries })
    }

    /// `(name, tensor)` pairs in load order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of scalar parameters.
    pub fn numel(&self) -> usize {
        self.entries.iter().map(|(_, t)| t.numel()).sum()
    }

    /// Clears every gradient (before a backward pass).
    pub fn zero_grad(&self) {
        for (_, t) in &self.entries {
            let mut t = t.shallow_clone();
            t.zero_grad();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shallow_clones_share_autograd_state() {
        let opts = (Kind::Float, Device::Cpu);
        let w = Tensor::ones([2, 2], opts);
        let named = vec![
            ("a.weight".to_string(), w.shallow_clone()),
            ("latents_mean".to_string(), Tensor::zeros([2], opts)),
        ];
        let p = Params::new(&named, |n| n == "latents_mean").unwrap();
        assert_eq!((p.len(), p.numel()), (1, 4));
        // The module's handle sees requires_grad and gets the gradient.
        assert!(w.requires_grad());
        let loss = w.f_mul_scalar(3.0).unwrap().sum(Kind::Float);
        loss.backward();
        let (_, t) = p.iter().next().unwrap();
        assert_eq!(t.grad().sum(Kind::Float).double_value(&[]), 12.0);
        p.zero_grad();
        assert_eq!(w.grad().sum(Kind::Float).double_value(&[]), 0.0);
        let dup = vec![named[0].clone_pair(), named[0].clone_pair()];
        assert!(Params::new(&dup, |_| false).is_err());
    }

    trait ClonePair {
        fn clone_pair(&self) -> (String, Tensor);
    }
    impl ClonePair for (String, Tensor) {
        fn clone_pair(&self) -> (String, Tensor) {
            (self.0.clone(), self.1.shallow_clone())
        }
    }
}
