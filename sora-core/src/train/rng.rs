//! The random generator of training: SplitMix64 with its whole state one
//! `u64`, so that a checkpoint saves it and a resumed run draws the same
//! numbers. Pure Rust (not LibTorch's global generator), so that parallel
//! tests and runs cannot disturb each other's streams.

use tch::{Kind, Tensor};

use crate::Result;

/// A SplitMix64 generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainRng {
    state: u64,
}

impl TrainRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x243F_6A88_85A3_08D3,
        }
    }

    /// A generator continuing from a saved [`Self::state`].
    pub fn from_state(state: u64) -> Self {
        Self { state }
    }

    /// The whole state (what a checkpoint saves).
    pub fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// An index in `0..n` (`n > 0`; 0 for `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An f32 CPU tensor of `shape` filled with standard normal samples.
    pub fn normal_tensor(&mut self, shape: &[i64]) -> Result<Tensor> {
        let n: i64 = shape.iter().product();
        let v: Vec<f32> = (0..n.max(0)).map(|_| self.normal() as f32).collect();
        Ok(Tensor::f_from_slice(&v)?
            .f_reshape(shape)?
            .f_to_kind(Kind::Float)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_continues_the_stream() {
        let mut a = TrainRng::new(5);
        for _ in 0..3 {
            a.next_u64();
        }
        let mut b = TrainRng::from_state(a.state());
        assert_eq!(a.next_u64(), b.next_u64());
        let xs: Vec<f64> = (0..4000).map(|_| a.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.06 && (var - 1.0).abs() < 0.08,
            "{mean} {var}"
        );
        assert_ne!(TrainRng::new(1).next_u64(), TrainRng::new(2).next_u64());
    }
}
