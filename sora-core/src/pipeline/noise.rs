//! Seeded initial noise equal to diffusers' `torch.Generator().manual_seed(seed)` draws on CPU.

use std::sync::Mutex;

use tch::{Device, Kind, Tensor};

use crate::Result;

/// LibTorch's CPU generator is global; draws from concurrent runs are serialised here.
static RNG_LOCK: Mutex<()> = Mutex::new(());

/// A stream of Gaussian noise from one seed. Draws happen in call order, as
/// successive `torch.randn(..., generator=g)` calls do in diffusers.
pub struct Noise {
    seed: u64,
    drawn: Vec<Vec<i64>>,
}

impl Noise {
    /// A stream seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            drawn: Vec::new(),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Draws standard normal f32 noise of `shape` on the CPU (the next draw of the stream).
    pub fn randn(&mut self, shape: &[i64]) -> Result<Tensor> {
        let _g = RNG_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        // Replay: seed, then skip the earlier draws by drawing them again.
        tch::manual_seed(self.seed as i64);
        for s in &self.drawn {
            let _ = Tensor::f_randn(s.as_slice(), (Kind::Float, Device::Cpu))?;
        }
        let t = Tensor::f_randn(shape, (Kind::Float, Device::Cpu))?;
        self.drawn.push(shape.to_vec());
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_noise_and_stream_advances() {
        let mut a = Noise::new(7);
        let mut b = Noise::new(7);
        let a1 = a.randn(&[4]).unwrap();
        let b1 = b.randn(&[4]).unwrap();
        assert!(a1.equal(&b1));
        let a2 = a.randn(&[4]).unwrap();
        assert!(!a1.equal(&a2));
    }
}
