//! Long-form generation's window plan, shared by every family that can chain
//! windows: a request longer than one window (or with timed prompts) is
//! generated as a chain of windows, each one a walk of at most
//! `window_frames` frames whose first `window_overlap` latent frames are held
//! to the previous window's last ones, *in latent space* (never decoded and
//! encoded again between windows), with a crossfade over the overlap.
//!
//! All arithmetic is in latent frames (one latent frame is the first video
//! frame, then `temporal` frames each). Window 1 starts at latent frame 0;
//! window `n + 1` starts `overlap` latent frames before window `n` ends, and
//! the last window is cut to end exactly at the request's length, so the
//! output has exactly the frames asked for, with no trimming.
//!
//! The overlap's latents of window `n + 1` replace window `n`'s tail: window
//! `n` hands to the decoder all its latent frames but the last `overlap`, and
//! window `n + 1` all of its own (but its own tail, unless it is the last).
//! The latents handed to the decoder thus form one unbroken sequence, decoded
//! by one causal decoder stream whose cache lives across windows: memory holds
//! one window's latents, the tail and the decoder's cache, whatever the length.
//!
//! (That is Wan's causal decoder; LTX-2's is not causal, so it decodes each
//! part with the latent frames before it as context and crossfades the seam:
//! [`crate::models::ltx2::longform`].) A family that walks sound with the
//! picture chains its audio latents the same way, by the windows' times
//! ([`LongformPlan::with_audio`], [`AudioSpan`]).
//!
//! Each window's prompt is the prompt active at its first new frame (the
//! base prompt, or the latest timed prompt at or before that time). A timed
//! prompt takes effect at the first latent frame at or after its time: the
//! window it falls in is cut short there, so the next window's new frames
//! start at the switch (unless the cut window would keep no frame of its own
//! besides the tail the next one holds; the switch then waits for the next
//! window's start).
//! Each window draws its own noise from a seed derived from the request's
//! ([`window_seed`]): same seed, same clip.

use super::extend::ExtendPlan;
use super::param_spec::ParamValue;
use super::request::{Mode, Resolved};
use crate::{Error, Result};

/// Latent frames held from the previous window's tail by default.
pub const DEFAULT_OVERLAP: u32 = 3;

/// One window of a [`LongformPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Index of the window's first latent frame in the whole clip.
    pub latent_start: u32,
    /// Latent frames the window generates (the held ones included).
    pub latent_len: u32,
    /// Leading latent frames held to the previous window's tail (0 for the first).
    pub held: u32,
    /// Latent frames handed to the decoder after the walk (from the window's
    /// first): all but the tail the next window holds.
    pub decoded: u32,
    /// The prompt of the window.
    pub prompt: String,
    /// The seed of the window's noise.
    pub seed: u64,
    /// The window's audio latents, for a family that walks sound with the
    /// picture ([`LongformPlan::with_audio`]); `None` otherwise.
    pub audio: Option<AudioSpan>,
}

/// The audio latents of one window of a joint audio-video family. Window
/// `i`'s local time `τ` is the clip's `τ + temporal · latent_start / fps`
/// (its first latent frame is decoded as one frame, the last of that latent
/// frame's group), so its audio starts at the clip's audio latent `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpan {
    /// Index of the window's first audio latent in the whole clip.
    pub start: u32,
    /// Audio latents the window walks (the held ones included).
    pub len: u32,
    /// Leading audio latents held to the previous window's (0 for the first).
    pub held: u32,
    /// Audio latents handed to the decoder (from the window's first): up to
    /// where the next window starts; all of them for the last window.
    pub decoded: u32,
}

/// The windows of one long-form request.
#[derive(Debug, Clone, PartialEq)]
pub struct LongformPlan {
    /// Frames the windows generate: the output clip's, or an extension's
    /// window (the clip's tail, then the frames added).
    pub frames: u32,
    /// Video frames per latent frame after the first.
    pub temporal: u32,
    /// Latent frames of a full window.
    pub window_latent: u32,
    /// Latent frames each window after the first holds.
    pub overlap: u32,
    /// The windows, in order.
    pub windows: Vec<Window>,
    /// An extension longer than one window: window 0 is the extension's
    /// (conditioned on the clip's tail, as one walk of it is), the later
    /// ones text-to-video holding the tail before them.
    pub extend: Option<ExtendPlan>,
}

/// What a long-form clip's metadata records of its windows
/// ([`super::ClipMeta::long_form`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LongformMeta {
    /// Windows walked.
    pub windows: u32,
    /// Frames of a full window.
    pub window_frames: u32,
    /// Latent frames each window after the first held from the previous one.
    pub window_overlap: u32,
    /// The prompt of each window, in order.
    pub prompts: Vec<String>,
    /// The request's timed prompts `(seconds, text)`, sorted by time.
    pub prompts_at: Vec<(f32, String)>,
}

/// The seed of window `i` of a request seeded `seed` (window 0 takes `seed`).
pub fn window_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The temporal factor a frame rule of the form `1 + k·t` implies: the
/// smallest count above 1 it keeps, minus 1.
fn temporal_factor(frame_rule: &impl Fn(u32) -> u32) -> Result<u32> {
    (2..=65)
        .find(|&v| frame_rule(v) == v)
        .map(|v| v - 1)
        .ok_or_else(|| {
            Error::Unsupported(
                "long-form generation needs frame counts of the form 1 + k·t (a temporal factor)"
                    .into(),
            )
        })
}

fn int_param(r: &Resolved, key: &str) -> Option<i64> {
    match r.params.get(key) {
        Some(ParamValue::Int(v)) => Some(*v),
        _ => None,
    }
}

/// Video frames of `latent` latent frames.
fn video_frames(latent: u32, temporal: u32) -> u32 {
    1 + temporal * latent.saturating_sub(1)
}

impl LongformPlan {
    /// The plan of `r` when it is long-form: more frames than one window
    /// (`window_frames`, else `default_window`), or timed prompts. `None`
    /// otherwise (one walk, as any request). `frame_rule` is the family's
    /// nearest frame count.
    pub fn of(
        r: &Resolved,
        default_window: u32,
        frame_rule: impl Fn(u32) -> u32,
    ) -> Result<Option<Self>> {
        Self::of_with_overlap(r, default_window, DEFAULT_OVERLAP, frame_rule)
    }

    /// [`LongformPlan::of`] with the family's own default overlap (latent
    /// frames) when the request sets none.
    pub fn of_with_overlap(
        r: &Resolved,
        default_window: u32,
        default_overlap: u32,
        frame_rule: impl Fn(u32) -> u32,
    ) -> Result<Option<Self>> {
        let asked = int_param(r, "window_frames");
        let window = match asked {
            Some(v) => u32::try_from(v)
                .map_err(|_| Error::invalid(format!("window_frames {v} is out of range")))?,
            None => default_window,
        };
        if r.frames <= frame_rule(window) && r.prompts_at.is_empty() {
            return Ok(None);
        }
        let overlap = match int_param(r, "window_overlap") {
            Some(v) => u32::try_from(v)
                .map_err(|_| Error::invalid(format!("window_overlap {v} is out of range")))?,
            None => default_overlap,
        };
        Self::new(r, window, overlap, frame_rule).map(Some)
    }

    /// The plan of an extension `r` whose generated frames (the clip's
    /// tail, then the frames added: [`ExtendPlan::window`]) are more than
    /// one window (`window_frames`, else `default_window`), or that has
    /// timed prompts; `None` for another mode or an extension one walk
    /// covers. Window 0 is the extension's own, conditioned on the clip's
    /// tail; the later windows hold the tail before them, so memory holds
    /// one window whatever the seconds added. Timed prompts are in the
    /// output clip's time (the clip's first frame at 0 s); one at or before
    /// the seam (the clip's end) is the prompt from the first added frame on.
    pub fn of_extension(
        r: &Resolved,
        default_window: u32,
        default_overlap: u32,
        frame_rule: impl Fn(u32) -> u32,
    ) -> Result<Option<Self>> {
        let Some(ext) = r.extend_plan(&frame_rule)? else {
            return Ok(None);
        };
        // The windows' time starts at the overlap's first frame; a prompt
        // at or before the seam starts with the window.
        let fps = f64::from(r.fps.max(1));
        let (start_s, seam_s) = (
            f64::from(ext.overlap_start()) / fps,
            f64::from(ext.source) / fps,
        );
        let generated = Resolved {
            frames: ext.window(),
            prompts_at: r
                .prompts_at
                .iter()
                .map(|(t, p)| {
                    let t = f64::from(*t);
                    let at = if t <= seam_s { 0.0 } else { t - start_s };
                    (at as f32, p.clone())
                })
                .collect(),
            ..r.clone()
        };
        let plan = Self::of_with_overlap(&generated, default_window, default_overlap, frame_rule)?;
        Ok(plan.map(|p| Self {
            extend: Some(ext),
            ..p
        }))
    }

    /// The windows of `r` with windows of `window_frames` frames (rounded by
    /// `frame_rule`) overlapping by `overlap` latent frames.
    pub fn new(
        r: &Resolved,
        window_frames: u32,
        overlap: u32,
        frame_rule: impl Fn(u32) -> u32,
    ) -> Result<Self> {
        let temporal = temporal_factor(&frame_rule)?;
        if frame_rule(r.frames) != r.frames {
            return Err(Error::invalid(format!(
                "long-form generation needs a frame count the model takes; {} is not",
                r.frames
            )));
        }
        let total = (r.frames - 1) / temporal + 1;
        let window_latent = (frame_rule(window_frames.max(1)) - 1) / temporal + 1;
        if overlap == 0 || window_latent <= overlap {
            return Err(Error::invalid(format!(
                "a long-form window of {} frames is {window_latent} latent frames; its overlap \
                 ({overlap} latent frames) must be at least 1 and below that (raise \
                 window_frames or lower window_overlap)",
                video_frames(window_latent, temporal)
            )));
        }
        // The latent frame each timed prompt starts at: the first whose
        // first video frame is at or after its time.
        let fps = f64::from(r.fps.max(1));
        let switches: Vec<u32> = r
            .prompts_at
            .iter()
            .filter_map(|(t, _)| {
                (0..total).find(|&g| {
                    let at = if g == 0 { 0 } else { video_frames(g, temporal) };
                    f64::from(at) / fps >= f64::from(*t) - 1e-6
                })
            })
            .collect();
        let mut windows: Vec<Window> = Vec::new();
        let mut start = 0u32;
        loop {
            let held = if windows.is_empty() { 0 } else { overlap };
            let mut len = window_latent.min(total - start);
            let first_new = start + held;
            // A prompt switch inside the window's new frames ends the window
            // there (the next one starts its new frames at the switch), when
            // the window keeps at least one frame of its own besides the
            // tail the next one holds.
            if let Some(g) = switches
                .iter()
                .copied()
                .filter(|&g| g > first_new && g < start + len && g - start > overlap)
                .min()
            {
                len = g - start;
            }
            let end = start + len;
            let at_frame = if first_new == 0 {
                0
            } else {
                video_frames(first_new, temporal)
            };
            let at_s = f64::from(at_frame) / fps;
            let prompt = r
                .prompts_at
                .iter()
                .rfind(|(t, _)| f64::from(*t) <= at_s + 1e-6)
                .map_or_else(|| r.prompt.clone(), |(_, p)| p.clone());
            let last = end >= total;
            let i = windows.len();
            windows.push(Window {
                latent_start: start,
                latent_len: len,
                held,
                decoded: if last { len } else { len - overlap },
                prompt,
                seed: window_seed(r.seed, i),
                audio: None,
            });
            if last {
                break;
            }
            start = end - overlap;
        }
        Ok(Self {
            frames: r.frames,
            temporal,
            window_latent,
            overlap,
            windows,
            extend: None,
        })
    }

    /// The plan with each window's [`AudioSpan`], for a family that walks
    /// audio latents with the picture: `latents_of(frames)` is the family's
    /// audio latent count for `frames` video frames at the request's rate
    /// (the same rule its walk uses for a window of that length).
    pub fn with_audio(mut self, latents_of: impl Fn(u32) -> Result<i64>) -> Result<Self> {
        let count = |frames: u32| -> Result<u32> {
            let v = latents_of(frames)?;
            u32::try_from(v)
                .map_err(|_| Error::invalid(format!("{v} audio latents for {frames} frames")))
        };
        let mut spans: Vec<AudioSpan> = Vec::with_capacity(self.windows.len());
        for w in &self.windows {
            let start = count(self.temporal * w.latent_start)?;
            let len = count(video_frames(w.latent_len, self.temporal))?;
            let held = match spans.last() {
                Some(prev) => {
                    let room = (prev.start + prev.len).saturating_sub(start);
                    count(video_frames(w.held, self.temporal))?
                        .min(room)
                        .min(len)
                }
                None => 0,
            };
            spans.push(AudioSpan {
                start,
                len,
                held,
                decoded: len,
            });
        }
        for i in 0..spans.len().saturating_sub(1) {
            let next = spans[i + 1].start;
            let here = spans[i];
            if next < here.start || next - here.start > here.len {
                return Err(Error::Numeric(format!(
                    "long-form audio: window {} starts at audio latent {next}, outside window {i} \
                     ({} + {})",
                    i + 1,
                    here.start,
                    here.len
                )));
            }
            spans[i].decoded = next - here.start;
        }
        for (w, a) in self.windows.iter_mut().zip(spans) {
            w.audio = Some(a);
        }
        Ok(self)
    }

    /// Video frames of window `w` (what its walk generates).
    pub fn window_frames(&self, w: &Window) -> u32 {
        video_frames(w.latent_len, self.temporal)
    }

    /// Video frames of the longest window (what one walk at a time needs).
    pub fn max_window_frames(&self) -> u32 {
        video_frames(self.window_latent, self.temporal)
    }

    /// The request of window `i`: `r` with the window's frames, prompt and
    /// seed, no timed prompts; image-to-video only in the first window.
    pub fn window_request(&self, r: &Resolved, i: usize) -> Result<Resolved> {
        let w = self
            .windows
            .get(i)
            .ok_or_else(|| Error::invalid(format!("no long-form window {i}")))?;
        // An image-to-video request's image conditions its first window, an
        // extension's clip its first window; the later ones continue from
        // the held tail as text-to-video.
        let mode = match &r.mode {
            Mode::Image(_) | Mode::Extend { .. } if i > 0 => Mode::Text,
            m => m.clone(),
        };
        Ok(Resolved {
            prompt: w.prompt.clone(),
            frames: self.request_frames(self.window_frames(w), i),
            seed: w.seed,
            prompts_at: Vec::new(),
            mode,
            ..r.clone()
        })
    }

    /// The `frames` of the request of window `i` generating `generated`
    /// frames: an extension's first window asks for the clip's frames and
    /// those it adds after the overlap (its window is then `generated`).
    fn request_frames(&self, generated: u32, i: usize) -> u32 {
        match (&self.extend, i) {
            (Some(e), 0) => e.source + generated.saturating_sub(e.overlap),
            _ => generated,
        }
    }

    /// What the clip's metadata records of the plan of `r`.
    pub fn meta(&self, r: &Resolved) -> LongformMeta {
        LongformMeta {
            windows: self.windows.len() as u32,
            window_frames: self.max_window_frames(),
            window_overlap: self.overlap,
            prompts: self.windows.iter().map(|w| w.prompt.clone()).collect(),
            prompts_at: r.prompts_at.clone(),
        }
    }

    /// `r` as one window long (what the memory estimate and the model's
    /// limits see: the longest window, the first prompt).
    pub fn one_window(&self, r: &Resolved) -> Resolved {
        Resolved {
            frames: self.request_frames(self.max_window_frames().min(self.frames), 0),
            prompts_at: Vec::new(),
            ..r.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn wan(f: u32) -> u32 {
        let k = ((f.max(1) - 1) as f64 / 4.0).round() as u32;
        1 + 4 * k
    }

    fn req(frames: u32, prompts_at: Vec<(f32, String)>) -> Resolved {
        Resolved {
            prompt: "base".into(),
            negative_prompt: String::new(),
            width: 32,
            height: 32,
            frames,
            fps: 16,
            steps: 2,
            guidance: 1.0,
            guidance_2: None,
            seed: 7,
            audio: false,
            mode: Mode::Text,
            conditions: Vec::new(),
            params: BTreeMap::new(),
            prompts_at,
        }
    }

    #[test]
    fn windows_cover_the_clip_exactly_and_overlap() {
        // 61 frames = 16 latent frames; windows of 17 frames (5 latent), 2 held.
        let p = LongformPlan::new(&req(61, Vec::new()), 17, 2, wan).unwrap();
        assert_eq!((p.temporal, p.window_latent), (4, 5));
        let spans: Vec<(u32, u32, u32, u32)> = p
            .windows
            .iter()
            .map(|w| (w.latent_start, w.latent_len, w.held, w.decoded))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0, 5, 0, 3),
                (3, 5, 2, 3),
                (6, 5, 2, 3),
                (9, 5, 2, 3),
                (12, 4, 2, 4)
            ]
        );
        // Every latent frame decoded once: 16 latent frames, 61 video frames.
        let decoded: u32 = p.windows.iter().map(|w| w.decoded).sum();
        assert_eq!(decoded, 16);
        assert_eq!(video_frames(decoded, 4), 61);
        assert_eq!(p.max_window_frames(), 17);
        // Seeds differ per window and repeat per request.
        assert_eq!(p.windows[0].seed, 7);
        assert_ne!(p.windows[1].seed, p.windows[0].seed);
        assert_eq!(
            p,
            LongformPlan::new(&req(61, Vec::new()), 17, 2, wan).unwrap()
        );
    }

    #[test]
    fn timed_prompts_switch_at_their_latent_frame() {
        let r = req(61, vec![(1.0, "second".into()), (2.5, "third".into())]);
        let p = LongformPlan::new(&r, 17, 2, wan).unwrap();
        // Window starts (first new frame): 0, 5/16·… : latent 5 → frame 17 (1.06 s),
        // latent 8 → 29 (1.81 s), latent 11 → 41 (2.56 s), latent 14 → 53.
        let prompts: Vec<&str> = p.windows.iter().map(|w| w.prompt.as_str()).collect();
        assert_eq!(prompts, vec!["base", "second", "second", "third", "third"]);
        // A switch inside a window's new frames cuts it: 1.5 s is frame 24,
        // latent frame 7 (frame 25); window 2 ends there.
        let r = req(61, vec![(1.5, "switch".into())]);
        let p = LongformPlan::new(&r, 17, 2, wan).unwrap();
        let spans: Vec<(u32, u32, &str)> = p
            .windows
            .iter()
            .map(|w| (w.latent_start, w.latent_len, w.prompt.as_str()))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0, 5, "base"),
                (3, 4, "base"),
                (5, 5, "switch"),
                (8, 5, "switch"),
                (11, 5, "switch")
            ]
        );
        let decoded: u32 = p.windows.iter().map(|w| w.decoded).sum();
        assert_eq!(decoded, 16);
        // Too early in a window to cut (it would keep only the tail): the
        // switch waits for the next window. 0.1 s is latent frame 2 (frame 5).
        let r = req(61, vec![(0.1, "early".into())]);
        let p = LongformPlan::new(&r, 17, 2, wan).unwrap();
        assert_eq!(p.windows[0].latent_len, 5);
        assert_eq!(p.windows[1].prompt, "early");
        // A short request with timed prompts is long-form (one window).
        let one = LongformPlan::of(&req(9, vec![(0.0, "zero".into())]), 81, wan)
            .unwrap()
            .unwrap();
        assert_eq!(one.windows.len(), 1);
        assert_eq!(one.windows[0].prompt, "zero");
        // Without them, a request within a window is not.
        assert!(LongformPlan::of(&req(81, Vec::new()), 81, wan)
            .unwrap()
            .is_none());
        assert!(LongformPlan::of(&req(85, Vec::new()), 81, wan)
            .unwrap()
            .is_some());
    }

    #[test]
    fn audio_spans_follow_the_windows_in_time() {
        // LTX-2's default model: 12 fps, temporal 8, 25 audio latents per
        // second (rounded as the pipeline rounds); 97 frames (13 latent
        // frames) in windows of 25 frames (4 latent frames), 2 held.
        let ltx = |f: u32| 1 + 8 * ((f64::from(f.max(1) - 1) / 8.0).round() as u32);
        let mut r = req(97, Vec::new());
        r.fps = 12;
        let per = |frames: u32| Ok((f64::from(frames) / 12.0 * 25.0).round() as i64);
        let p = LongformPlan::new(&r, 25, 2, ltx)
            .unwrap()
            .with_audio(per)
            .unwrap();
        let spans: Vec<AudioSpan> = p.windows.iter().map(|w| w.audio.unwrap()).collect();
        assert_eq!(
            spans[0],
            AudioSpan {
                start: 0,
                len: 52,
                held: 0,
                decoded: 33
            }
        );
        // Window 2 starts at latent frame 2: 16 frames, 1.33 s, latent 33.
        assert_eq!(
            spans[1],
            AudioSpan {
                start: 33,
                len: 52,
                held: 19,
                decoded: 34
            }
        );
        // One unbroken sequence: each window hands up to the next's start,
        // and holds what the previous one walked there.
        for pair in spans.windows(2) {
            assert_eq!(pair[0].start + pair[0].decoded, pair[1].start);
            assert!(pair[1].held <= pair[0].start + pair[0].len - pair[1].start);
        }
        let last = spans.last().unwrap();
        assert_eq!(last.decoded, last.len);
        // The whole clip's audio: 97 frames at 12 fps, about 202 latents.
        let total = last.start + last.len;
        assert!((i64::from(total) - per(97).unwrap()).abs() <= 1, "{total}");
    }

    #[test]
    fn bad_overlaps_are_refused() {
        for (window, overlap) in [(17, 5), (17, 0), (1, 1)] {
            let e = LongformPlan::new(&req(61, Vec::new()), window, overlap, wan).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        }
    }
}
