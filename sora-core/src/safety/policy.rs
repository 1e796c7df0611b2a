//! Which marks a pipeline applies ([`WatermarkPolicy`], [`WatermarkSettings`]),
//! the generation id they carry, what a clip records of them
//! ([`WatermarkMeta`]), and the [`Marker`] that applies them to frames and
//! audio as they are decoded (so streaming output is marked chunk by chunk).

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::keyed::{hmac, DEFAULT_KEY};
use super::payload::{Payload, FLAG_AUDIO, FLAG_VISIBLE};
use super::{audio_mark, video_mark, visible};
use crate::pipeline::request::Resolved;
use crate::Result;

/// Whether a pipeline marks its clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatermarkPolicy {
    /// Invisible marks in frames and audio, and the visible mark unless
    /// turned off with `PipelineBuilder::no_visible_watermark` (the default).
    #[default]
    On,
    /// No marks at all: the raw model output. For tests that compare with a
    /// reference implementation and for research, not for publishing clips.
    Off,
}

/// A pipeline's watermark settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatermarkSettings {
    /// On or off.
    pub policy: WatermarkPolicy,
    /// The visible mark (when the policy is on).
    pub visible: bool,
    /// Creator handle shown after the logo (e.g. `@ada`).
    pub handle: Option<String>,
}

impl Default for WatermarkSettings {
    fn default() -> Self {
        Self {
            policy: WatermarkPolicy::On,
            visible: true,
            handle: None,
        }
    }
}

/// What a clip records of its marks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatermarkMeta {
    /// The visible mark was drawn.
    pub visible: bool,
    /// The invisible marks were embedded (frames, and audio when present).
    pub invisible: bool,
    /// The invisible payload as hex (generation id ‖ flags), `null` when off.
    pub payload: Option<String>,
    /// The generation id as hex (12 digits), `null` when off.
    pub generation_id: Option<String>,
}

/// The 48-bit generation id of a resolved request: a keyed hash of the
/// family and every setting, so that the same request gives the same id
/// (and, as before, the same bytes).
pub fn generation_id(family: &str, r: &Resolved) -> u64 {
    let desc = format!(
        "{family}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}x{}x{}@{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}{:?}",
        r.mode.name(),
        r.prompt,
        r.negative_prompt,
        r.width,
        r.height,
        r.frames,
        r.fps,
        r.steps,
        r.guidance,
        r.guidance_2,
        r.seed,
        r.audio,
        r.params,
    );
    // Frame conditions (none: the id is as before them).
    let mut desc = desc;
    for c in &r.conditions {
        let sum = c
            .frames
            .iter()
            .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        desc.push_str(&format!(
            "\u{1f}cond {:?}@{}:{}#{sum:x}",
            c.frames.shape(),
            c.index,
            c.strength
        ));
    }
    // Timed prompts of long-form generation (none: the id is as before them).
    for (at, text) in &r.prompts_at {
        desc.push_str(&format!("\u{1f}at {at}:{text}"));
    }
    let h = hmac(DEFAULT_KEY, &[b"generation-id", desc.as_bytes()]);
    h[..6].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))
}

/// Applies a clip's marks to its frames and audio as they arrive.
#[derive(Debug, Clone)]
pub struct Marker {
    payload: Payload,
    visible: Option<visible::MarkShape>,
    width: usize,
    height: usize,
    fps: f64,
    next_frame: usize,
    next_sample: usize,
}

impl Marker {
    /// The marker of a run under `settings` (`None` when marks are off).
    pub fn new(settings: &WatermarkSettings, family: &str, r: &Resolved) -> Option<Self> {
        if settings.policy == WatermarkPolicy::Off {
            return None;
        }
        let mut flags = 0;
        if settings.visible {
            flags |= FLAG_VISIBLE;
        }
        if r.has_audio_track() {
            flags |= FLAG_AUDIO;
        }
        Some(Self {
            payload: Payload::new(generation_id(family, r), flags),
            visible: settings
                .visible
                .then(|| visible::MarkShape::new(r.height as usize, settings.handle.as_deref())),
            width: r.width as usize,
            height: r.height as usize,
            fps: f64::from(r.fps),
            next_frame: 0,
            next_sample: 0,
        })
    }

    /// The payload embedded.
    pub fn payload(&self) -> Payload {
        self.payload
    }

    /// What the clip records.
    pub fn meta(&self) -> WatermarkMeta {
        WatermarkMeta {
            visible: self.visible.is_some(),
            invisible: true,
            payload: Some(self.payload.hex()),
            generation_id: Some(format!("{:012x}", self.payload.generation_id)),
        }
    }

    /// Marks `n` RGB frames `[n, H, W, 3]` (the clip's next ones) in place:
    /// the visible mark first, the invisible one over it.
    pub fn mark_frames(&mut self, data: &mut [u8], n: usize) {
        let (h, w) = (self.height, self.width);
        let size = h * w * 3;
        for (i, frame) in data.chunks_exact_mut(size).take(n).enumerate() {
            if let Some(shape) = &self.visible {
                let (x, y) = visible::position(
                    self.payload.generation_id,
                    self.next_frame + i,
                    self.fps,
                    w,
                    h,
                    shape,
                );
                visible::draw(frame, h, w, shape, x, y);
            }
            video_mark::embed_frame(frame, h, w, &self.payload);
        }
        self.next_frame += n;
    }

    /// The next piece of the clip's audio `[C, S]`, marked.
    pub fn mark_audio(&mut self, audio: ArrayView2<f32>, sample_rate: u32) -> Result<Array2<f32>> {
        let out = audio_mark::embed(audio, sample_rate, &self.payload, self.next_sample)?;
        self.next_sample += audio.ncols();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ndarray::{s, Array2};

    use super::*;
    use crate::pipeline::request::Mode;

    fn resolved(audio: bool) -> Resolved {
        Resolved {
            prompt: "a fox".into(),
            negative_prompt: String::new(),
            width: 160,
            height: 96,
            frames: 6,
            fps: 16,
            steps: 2,
            guidance: 5.0,
            guidance_2: None,
            seed: 7,
            audio,
            mode: Mode::Text,
            conditions: Vec::new(),
            params: BTreeMap::new(),
            prompts_at: Vec::new(),
        }
    }

    #[test]
    fn ids_follow_the_request_and_off_marks_nothing() {
        let a = generation_id("wan", &resolved(false));
        assert_eq!(a, generation_id("wan", &resolved(false)));
        let mut other = resolved(false);
        other.seed = 8;
        assert_ne!(a, generation_id("wan", &other));
        let mut timed = resolved(false);
        timed.prompts_at.push((2.0, "an owl".into()));
        assert_ne!(a, generation_id("wan", &timed));
        assert!(a < 1 << 48);
        let off = WatermarkSettings {
            policy: WatermarkPolicy::Off,
            ..Default::default()
        };
        assert!(Marker::new(&off, "wan", &resolved(false)).is_none());
    }

    #[test]
    fn marker_marks_chunks_as_a_whole_clip() {
        let r = resolved(true);
        let mut m = Marker::new(&WatermarkSettings::default(), "wan", &r).unwrap();
        let meta = m.meta();
        assert!(meta.visible && meta.invisible);
        let p = m.payload();
        assert_eq!(meta.payload, Some(p.hex()));
        assert_eq!(
            p.flags,
            crate::safety::payload::FLAG_VISIBLE | crate::safety::payload::FLAG_AUDIO
        );
        // Frames in two chunks.
        let (h, w) = (96usize, 160usize);
        let mut frames: Vec<u8> = (0..6 * h * w * 3)
            .map(|i| ((i * 31) % 151 + 50) as u8)
            .collect();
        let plain = frames.clone();
        let (a, b) = frames.split_at_mut(2 * h * w * 3);
        m.mark_frames(a, 2);
        m.mark_frames(b, 4);
        let arr = ndarray::Array4::from_shape_vec((6, h, w, 3), frames.clone()).unwrap();
        let d = video_mark::detect(arr.view());
        assert!(d.detected && d.decoded() == Some(p), "{d:?}");
        let seen = visible::check(&frames, 6, h, w, 16.0, p.generation_id, None);
        assert_eq!(seen, 1.0);
        assert!(visible::check(&plain, 6, h, w, 16.0, p.generation_id, None) < 0.5);
        // Audio in pieces of odd lengths, marked one by one.
        let rate = 24_000;
        let n = 3 * rate as usize;
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let audio = Array2::from_shape_fn((1, n), |(_, _)| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.3
        });
        let mut marked = Array2::<f32>::zeros((1, n));
        for (lo, hi) in [(0, 20_001), (20_001, 47_777), (47_777, n)] {
            let piece = m.mark_audio(audio.slice(s![.., lo..hi]), rate).unwrap();
            marked.slice_mut(s![.., lo..hi]).assign(&piece);
        }
        let d = audio_mark::detect(marked.view(), rate).unwrap();
        assert!(d.detected && d.decoded() == Some(p), "{d:?}");
        assert!(!audio_mark::detect(audio.view(), rate).unwrap().detected);
    }
}
