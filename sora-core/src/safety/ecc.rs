//! Error correction for the watermark payload: a CRC-8 to tell a good
//! decode from a wrong one, the rate-1/2 constraint-length-7 convolutional
//! code (generators 133/171 octal, the NASA/802.11 code) with a soft-input
//! Viterbi decoder, and the binomial tail used for p-values.

/// Constraint length of the convolutional code.
const K: usize = 7;
/// Generator polynomials (octal 133 and 171).
const G: [u32; 2] = [0o133, 0o171];
const STATES: usize = 1 << (K - 1);

/// CRC-8 (polynomial 0x07, initial 0) of a bit string, MSB first.
pub fn crc8(bits: &[bool]) -> u8 {
    let mut crc = 0u8;
    for &b in bits {
        let top = (crc >> 7) & 1 == 1;
        crc <<= 1;
        if top ^ b {
            crc ^= 0x07;
        }
    }
    crc
}

/// Encodes `bits` followed by `K − 1` zero tail bits: `2·(len + 6)` coded bits.
pub fn conv_encode(bits: &[bool]) -> Vec<bool> {
    let mut state = 0u32;
    let mut out = Vec::with_capacity(2 * (bits.len() + K - 1));
    for &b in bits.iter().chain(std::iter::repeat(&false).take(K - 1)) {
        state = ((state << 1) | u32::from(b)) & ((1 << K) - 1);
        for g in G {
            out.push((state & g).count_ones() % 2 == 1);
        }
    }
    out
}

/// Coded length for a message of `n` bits.
pub const fn coded_len(n: usize) -> usize {
    2 * (n + K - 1)
}

/// Soft-input Viterbi decoding of [`conv_encode`]'s output: `soft[i] > 0`
/// votes for coded bit 1 with weight `|soft[i]|` (0 is an erasure). Returns
/// the `n` message bits of the most likely path ending in state 0.
pub fn viterbi(soft: &[f32], n: usize) -> Vec<bool> {
    let steps = n + K - 1;
    let mut metric = vec![f32::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    // survivors[t][s] = (previous state, input bit)
    let mut survivors: Vec<[(u8, bool); STATES]> = Vec::with_capacity(steps);
    for t in 0..steps {
        let (s0, s1) = (
            soft.get(2 * t).copied().unwrap_or(0.0),
            soft.get(2 * t + 1).copied().unwrap_or(0.0),
        );
        let mut next = vec![f32::NEG_INFINITY; STATES];
        let mut surv = [(0u8, false); STATES];
        for (prev, &m) in metric.iter().enumerate() {
            if m == f32::NEG_INFINITY {
                continue;
            }
            for bit in [false, true] {
                if t >= n && bit {
                    continue; // the tail is zeros
                }
                let reg = (((prev as u32) << 1) | u32::from(bit)) & ((1 << K) - 1);
                let c0 = (reg & G[0]).count_ones() % 2 == 1;
                let c1 = (reg & G[1]).count_ones() % 2 == 1;
                let gain = if c0 { s0 } else { -s0 } + if c1 { s1 } else { -s1 };
                let ns = (reg as usize) & (STATES - 1);
                if m + gain > next[ns] {
                    next[ns] = m + gain;
                    surv[ns] = (prev as u8, bit);
                }
            }
        }
        metric = next;
        survivors.push(surv);
    }
    let mut state = 0usize;
    let mut bits = vec![false; steps];
    for t in (0..steps).rev() {
        let (prev, bit) = survivors[t][state];
        bits[t] = bit;
        state = prev as usize;
    }
    bits.truncate(n);
    bits
}

/// P(X ≥ k) for X ~ Binomial(n, 1/2).
pub fn binomial_tail(n: usize, k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    // log C(n, i) summed in f64 (n is small: tens to hundreds).
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_c = 0.0f64; // ln C(n, 0)
    let mut total = 0.0f64;
    for i in 0..=n {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        if i >= k {
            total += (ln_c + ln_half_n).exp();
        }
    }
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(seed: u64, n: usize) -> Vec<bool> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) & 1 == 1
            })
            .collect()
    }

    #[test]
    fn viterbi_corrects_errors_and_erasures() {
        let msg = bits(3, 64);
        let coded = conv_encode(&msg);
        assert_eq!(coded.len(), coded_len(64));
        let mut soft: Vec<f32> = coded.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        // Flip every 9th coded bit and erase every 7th.
        for i in (0..soft.len()).step_by(9) {
            soft[i] = -soft[i];
        }
        for i in (3..soft.len()).step_by(7) {
            soft[i] = 0.0;
        }
        assert_eq!(viterbi(&soft, 64), msg);
    }

    #[test]
    fn crc_detects_a_flip() {
        let msg = bits(5, 56);
        let mut other = msg.clone();
        other[10] = !other[10];
        assert_ne!(crc8(&msg), crc8(&other));
    }

    #[test]
    fn binomial_tail_values() {
        assert!((binomial_tail(1, 1) - 0.5).abs() < 1e-12);
        assert!((binomial_tail(64, 64) - 0.5f64.powi(64)).abs() < 1e-30);
        assert!((binomial_tail(10, 0) - 1.0).abs() < 1e-12);
        // P(X ≥ 6 | n = 10) = 386/1024
        assert!((binomial_tail(10, 6) - 386.0 / 1024.0).abs() < 1e-12);
    }
}
