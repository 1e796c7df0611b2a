//! Training examples from the physics simulator ([`crate::physics::scenes`]):
//! each seed gives one clip (frames, mono audio, caption), deterministic.
//!
//! Frames are f32 `[3, F, H, W]` in `[-1, 1]` (`x / 127.5 − 1`, the range the
//! VAEs take); audio is mono f32 at the config's rate; the caption is the
//! scene's template caption. The default size is what the first stage trains
//! on: 64×64, 25 frames (`1 + 8·3`, a length every LTX-2 temporal factor
//! divides) at 12 fps, 16 kHz audio.
//!
//! **Held-out split, by caption**: a clip is held out when the FNV-1a hash of
//! its caption is divisible by [`HELD_OUT_EVERY`]. Training clips are drawn
//! from seeds `0, 1, 2, …`, evaluation clips from seeds
//! [`EVAL_SEED_BASE`]`, +1, …`, each set keeping only its side of the split,
//! so no evaluation clip, and no caption of one, is ever trained on (the
//! later stages are judged on held-out captions).

use ndarray::Array4;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::physics::scenes::{generate, SceneConfig};
use crate::{Error, Result};

/// One caption in this many (by hash) is held out for evaluation.
pub const HELD_OUT_EVERY: u64 = 8;

/// Evaluation clips are drawn from seeds from here on.
pub const EVAL_SEED_BASE: u64 = 1 << 40;

/// The size and timing of training clips.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataConfig {
    /// Frame width (px).
    pub width: usize,
    /// Frame height (px).
    pub height: usize,
    /// Frames per clip.
    pub frames: usize,
    /// Frames per second.
    pub fps: f32,
    /// Audio sample rate (Hz).
    pub sample_rate: u32,
    /// At most this many objects per scene (1–3).
    pub max_objects: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            width: 64,
            height: 64,
            frames: 25,
            fps: 12.0,
            sample_rate: 16000,
            max_objects: 3,
        }
    }
}

impl DataConfig {
    /// The simulator's settings for these clips.
    pub fn scene(&self) -> SceneConfig {
        SceneConfig {
            width: self.width,
            height: self.height,
            fps: self.fps,
            frames: self.frames,
            sample_rate: self.sample_rate,
            max_objects: self.max_objects,
        }
    }
}

/// One training clip.
#[derive(Debug)]
pub struct Example {
    /// The seed it was generated from.
    pub seed: u64,
    /// Frames `[3, F, H, W]` as u8 (see [`Example::frames_f32`]).
    pub frames_u8: Tensor,
    /// Mono audio.
    pub audio: Vec<f32>,
    /// The template caption.
    pub caption: String,
}

impl Example {
    /// Frames as f32 `[3, F, H, W]` in `[-1, 1]`.
    pub fn frames_f32(&self) -> Result<Tensor> {
        Ok(self
            .frames_u8
            .f_to_kind(Kind::Float)?
            .f_div_scalar(127.5)?
            .f_sub_scalar(1.0)?)
    }
}

/// FNV-1a, 64 bits (stable across platforms and Rust versions).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether clips with this caption belong to the held-out (evaluation) side.
pub fn is_held_out(caption: &str) -> bool {
    fnv1a(caption.as_bytes()) % HELD_OUT_EVERY == 0
}

fn to_chw(frames: &Array4<u8>) -> Result<Tensor> {
    let s = frames.shape();
    if s.len() != 4 || s[3] != 3 {
        return Err(Error::invalid(format!(
            "scene frames must be [T, H, W, 3], got {s:?}"
        )));
    }
    let data: Vec<u8> = frames.iter().copied().collect();
    let dims = [s[0] as i64, s[1] as i64, s[2] as i64, 3];
    Ok(Tensor::f_from_slice(&data)?
        .f_reshape(dims)?
        .f_permute([3, 0, 1, 2])?
        .f_contiguous()?)
}

/// The clip of `seed` at `cfg` (deterministic).
pub fn example(seed: u64, cfg: &DataConfig) -> Result<Example> {
    let clip = generate(seed, &cfg.scene(), None)?;
    Ok(Example {
        seed,
        frames_u8: to_chw(&clip.frames)?,
        audio: clip.audio,
        caption: clip.caption,
    })
}

/// Which side of the split a [`Dataset`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Seeds from 0 whose caption is not held out.
    Train,
    /// Seeds from [`EVAL_SEED_BASE`] whose caption is held out.
    HeldOut,
}

/// A set of clips generated once and kept in memory (frames as u8).
#[derive(Debug)]
pub struct Dataset {
    /// The clips' size and timing.
    pub config: DataConfig,
    /// The clips, in seed order.
    pub examples: Vec<Example>,
}

impl Dataset {
    /// The first `n` clips of `split` at `cfg`.
    pub fn new(cfg: &DataConfig, split: Split, n: usize) -> Result<Self> {
        let (mut seed, held) = match split {
            Split::Train => (0u64, false),
            Split::HeldOut => (EVAL_SEED_BASE, true),
        };
        let mut examples = Vec::with_capacity(n);
        // Every caption hash lands on one side; this bound only stops a
        // config whose captions all fall on the other side.
        let limit = seed + 64 * (n as u64 + 16) * HELD_OUT_EVERY;
        while examples.len() < n {
            if seed >= limit {
                return Err(Error::invalid(format!(
                    "found only {} of {n} {split:?} clips in the seeds tried",
                    examples.len()
                )));
            }
            let ex = example(seed, cfg)?;
            if is_held_out(&ex.caption) == held {
                examples.push(ex);
            }
            seed += 1;
        }
        Ok(Self {
            config: *cfg,
            examples,
        })
    }

    /// Number of clips.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The clips `idx` stacked as f32 `[B, 3, F, H, W]` in `[-1, 1]`.
    pub fn batch(&self, idx: &[usize]) -> Result<Tensor> {
        let parts = idx
            .iter()
            .map(|&i| {
                self.examples
                    .get(i)
                    .ok_or_else(|| {
                        Error::invalid(format!("no clip {i} in a set of {}", self.len()))
                    })
                    .and_then(|e| e.frames_f32())
            })
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Err(Error::invalid("an empty batch"));
        }
        Ok(Tensor::f_stack(&parts, 0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DataConfig {
        DataConfig {
            width: 32,
            height: 32,
            frames: 17,
            ..DataConfig::default()
        }
    }

    #[test]
    fn examples_are_deterministic_and_in_range() {
        let cfg = small();
        let a = example(3, &cfg).unwrap();
        let b = example(3, &cfg).unwrap();
        let c = example(4, &cfg).unwrap();
        assert_eq!(a.frames_u8.size(), vec![3, 17, 32, 32]);
        assert!(a.frames_u8.equal(&b.frames_u8));
        assert_eq!(a.audio, b.audio);
        assert_eq!(a.caption, b.caption);
        assert!(!a.frames_u8.equal(&c.frames_u8));
        let f = a.frames_f32().unwrap();
        assert!(f.min().double_value(&[]) >= -1.0 && f.max().double_value(&[]) <= 1.0);
        let secs = a.audio.len() as f64 / 16000.0;
        assert!((secs - 17.0 / 12.0).abs() < 0.01, "{secs} s of audio");
        let d = DataConfig::default();
        assert_eq!((d.width, d.height, d.frames, d.fps), (64, 64, 25, 12.0));
    }

    #[test]
    fn held_out_split_is_disjoint_by_caption() {
        let cfg = small();
        let train = Dataset::new(&cfg, Split::Train, 24).unwrap();
        let eval = Dataset::new(&cfg, Split::HeldOut, 4).unwrap();
        assert_eq!((train.len(), eval.len()), (24, 4));
        for e in &eval.examples {
            assert!(is_held_out(&e.caption));
            assert!(e.seed >= EVAL_SEED_BASE);
            assert!(train.examples.iter().all(|t| t.caption != e.caption));
        }
        assert!(train.examples.iter().all(|t| !is_held_out(&t.caption)));
        let b = train.batch(&[0, 5]).unwrap();
        assert_eq!(b.size(), vec![2, 3, 17, 32, 32]);
        assert!(train.batch(&[99]).is_err());
    }
}
