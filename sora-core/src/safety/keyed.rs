//! Keyed pseudo-random streams (HMAC-SHA256 in counter mode) from which the
//! watermarks derive everything secret-looking: the visible mark's path, the
//! invisible marks' sync bits, dithers and slot layouts. The same key and
//! label always give the same stream, so a detector re-derives it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key the engine marks with. It is public (this is open source): it
/// keeps the layout fixed and re-derivable, not secret.
pub const DEFAULT_KEY: &[u8] = b"sora-watermark-v1";

/// HMAC-SHA256 of `parts` (concatenated, each length-prefixed) under `key`.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(&(p.len() as u64).to_le_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A deterministic stream of bytes: HMAC(key, label ‖ counter) blocks.
#[derive(Debug, Clone)]
pub struct KeyStream {
    key: Vec<u8>,
    label: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl KeyStream {
    /// The stream named `label` under `key`.
    pub fn new(key: &[u8], label: &[u8]) -> Self {
        Self {
            key: key.to_vec(),
            label: label.to_vec(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        if self.used == 32 {
            self.block = hmac(&self.key, &[&self.label, &self.counter.to_le_bytes()]);
            self.counter += 1;
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }

    /// The next 64 bits.
    pub fn u64(&mut self) -> u64 {
        let mut v = 0u64;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.byte());
        }
        v
    }

    /// A uniform value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform index in `0..n` (`n` > 0; 0 gives 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.u64() % n as u64) as usize
    }

    /// The next bit.
    pub fn bit(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A keyed permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_keyed() {
        let a: Vec<u8> = {
            let mut s = KeyStream::new(b"k", b"x");
            (0..40).map(|_| s.byte()).collect()
        };
        let b: Vec<u8> = {
            let mut s = KeyStream::new(b"k", b"x");
            (0..40).map(|_| s.byte()).collect()
        };
        let c: Vec<u8> = {
            let mut s = KeyStream::new(b"k2", b"x");
            (0..40).map(|_| s.byte()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut s = KeyStream::new(b"k", b"p");
        let mut p = s.permutation(50);
        p.sort_unstable();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2 ("Jefe"), through the raw MAC (no length prefixes).
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(out[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    }
}
