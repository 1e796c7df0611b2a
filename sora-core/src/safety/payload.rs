//! The watermark payload (a 48-bit generation id and 8 flag bits), its
//! channel form (64 keyed sync chips followed by the convolutional code of
//! id ‖ flags ‖ CRC-8), and the decision a detector makes from soft chips:
//! payload, bit accuracy and a p-value.

use serde::Serialize;

use super::ecc::{binomial_tail, coded_len, conv_encode, crc8, viterbi};
use super::keyed::{KeyStream, DEFAULT_KEY};

/// Bits of the generation id.
pub const ID_BITS: usize = 48;
/// Bits of the message: id, flags, CRC-8.
pub const MESSAGE_BITS: usize = ID_BITS + 8 + 8;
/// Known sync chips at the start of every channel word.
pub const SYNC_CHIPS: usize = 64;
/// Chips of one channel word (sync + coded message).
pub const CHIPS: usize = SYNC_CHIPS + coded_len(MESSAGE_BITS);
/// A detection counts when its p-value is at most this.
pub const DETECTION_P: f64 = 1e-6;

/// Flag: the clip also carried the visible mark.
pub const FLAG_VISIBLE: u8 = 1;
/// Flag: the clip has an audio track (generated, or a source clip's carried).
pub const FLAG_AUDIO: u8 = 2;

/// What the invisible marks carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    /// The generation id (low 48 bits are used).
    pub generation_id: u64,
    /// Flag bits ([`FLAG_VISIBLE`], [`FLAG_AUDIO`]).
    pub flags: u8,
}

impl Payload {
    /// A payload; the id is cut to 48 bits.
    pub fn new(generation_id: u64, flags: u8) -> Self {
        Self {
            generation_id: generation_id & ((1 << ID_BITS) - 1),
            flags,
        }
    }

    /// Hex of id ‖ flags (14 digits).
    pub fn hex(&self) -> String {
        format!("{:012x}{:02x}", self.generation_id, self.flags)
    }

    /// Parses [`Payload::hex`].
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 14 || !s.is_ascii() {
            return None;
        }
        let id = u64::from_str_radix(&s[..12], 16).ok()?;
        let flags = u8::from_str_radix(&s[12..], 16).ok()?;
        Some(Self::new(id, flags))
    }

    fn data_bits(&self) -> Vec<bool> {
        let mut bits: Vec<bool> = (0..ID_BITS)
            .rev()
            .map(|i| (self.generation_id >> i) & 1 == 1)
            .collect();
        bits.extend((0..8).rev().map(|i| (self.flags >> i) & 1 == 1));
        bits
    }

    /// The message: data bits then their CRC-8.
    fn message(&self) -> Vec<bool> {
        let mut bits = self.data_bits();
        let crc = crc8(&bits);
        bits.extend((0..8).rev().map(|i| (crc >> i) & 1 == 1));
        bits
    }

    /// The [`CHIPS`] channel chips: sync then coded message.
    pub fn chips(&self) -> Vec<bool> {
        let mut c = sync_chips();
        c.extend(conv_encode(&self.message()));
        c
    }
}

/// The known sync chips (keyed).
pub fn sync_chips() -> Vec<bool> {
    let mut s = KeyStream::new(DEFAULT_KEY, b"sync");
    (0..SYNC_CHIPS).map(|_| s.bit()).collect()
}

/// What a detector reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detection {
    /// The mark is there: p-value ≤ [`DETECTION_P`].
    pub detected: bool,
    /// The payload as hex when it decoded with a valid CRC, else `null`.
    pub payload: Option<String>,
    /// Fraction of channel chips whose hard decision agrees with the
    /// re-encoded decoded payload (sync chips against the known ones).
    pub bit_accuracy: f64,
    /// Chance of matching at least as many sync chips by luck, over every
    /// alignment searched (Bonferroni), for unmarked content.
    pub p_value: f64,
}

impl Detection {
    /// The report of a clip with nothing to look at (no frames, no audio).
    pub fn absent() -> Self {
        Self {
            detected: false,
            payload: None,
            bit_accuracy: 0.0,
            p_value: 1.0,
        }
    }

    /// The decoded payload, when there is one.
    pub fn decoded(&self) -> Option<Payload> {
        self.payload.as_deref().and_then(Payload::from_hex)
    }
}

/// Soft sync score of `soft` (positive: agrees with the sync chips).
pub fn sync_score(soft: &[f32], sync: &[bool]) -> f32 {
    soft.iter()
        .zip(sync)
        .map(|(&s, &b)| if b { s } else { -s })
        .sum()
}

/// Decides from the soft chips of the best of `hypotheses` alignments
/// (`soft[i] > 0` votes for chip 1).
pub fn decide(soft: &[f32], hypotheses: usize) -> Detection {
    if soft.len() < CHIPS {
        return Detection::absent();
    }
    let sync = sync_chips();
    let matches = soft[..SYNC_CHIPS]
        .iter()
        .zip(&sync)
        .filter(|(&s, &b)| s != 0.0 && (s > 0.0) == b)
        .count();
    let p_value = (binomial_tail(SYNC_CHIPS, matches) * hypotheses.max(1) as f64).min(1.0);
    let msg = viterbi(&soft[SYNC_CHIPS..CHIPS], MESSAGE_BITS);
    let data = &msg[..MESSAGE_BITS - 8];
    let crc = msg[MESSAGE_BITS - 8..]
        .iter()
        .fold(0u8, |a, &b| (a << 1) | u8::from(b));
    let payload = (crc8(data) == crc).then(|| {
        let v = data.iter().fold(0u64, |a, &b| (a << 1) | u64::from(b));
        Payload::new(v >> 8, (v & 0xff) as u8)
    });
    let expected: Vec<bool> = sync.iter().copied().chain(conv_encode(&msg)).collect();
    let agree = soft[..CHIPS]
        .iter()
        .zip(&expected)
        .filter(|(&s, &b)| s != 0.0 && (s > 0.0) == b)
        .count();
    Detection {
        detected: p_value <= DETECTION_P,
        payload: payload.map(|p| p.hex()),
        bit_accuracy: agree as f64 / CHIPS as f64,
        p_value,
    }
}

/// Fraction of `soft`'s hard decisions equal to `payload`'s chips (for
/// robustness tables, where the true payload is known).
pub fn true_bit_accuracy(soft: &[f32], payload: &Payload) -> f64 {
    let chips = payload.chips();
    let n = soft.len().min(chips.len());
    if n == 0 {
        return 0.0;
    }
    let ok = soft[..n]
        .iter()
        .zip(&chips)
        .filter(|(&s, &b)| s != 0.0 && (s > 0.0) == b)
        .count();
    ok as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_through_chips() {
        let p = Payload::new(0x1234_5678_9abc, FLAG_VISIBLE | FLAG_AUDIO);
        assert_eq!(Payload::from_hex(&p.hex()), Some(p));
        assert_eq!(Payload::from_hex("ééééééé"), None);
        assert_eq!(Payload::from_hex("zz"), None);
        let chips = p.chips();
        assert_eq!(chips.len(), CHIPS);
        let mut soft: Vec<f32> = chips.iter().map(|&b| if b { 0.3 } else { -0.3 }).collect();
        for i in (SYNC_CHIPS..CHIPS).step_by(11) {
            soft[i] = -soft[i];
        }
        let d = decide(&soft, 100);
        assert!(d.detected, "{d:?}");
        assert_eq!(d.decoded(), Some(p));
        assert!(d.p_value < 1e-15);
    }

    #[test]
    fn noise_is_not_detected() {
        let mut s = KeyStream::new(b"noise", b"");
        let soft: Vec<f32> = (0..CHIPS).map(|_| s.unit() as f32 - 0.5).collect();
        let d = decide(&soft, 1000);
        assert!(!d.detected, "{d:?}");
        assert!(d.p_value > 1e-3);
    }
}
