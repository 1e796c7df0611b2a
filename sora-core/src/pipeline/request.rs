//! What the user asks for: a typed [`Request`] built by chained setters, and
//! [`Resolved`], the same request with the family's defaults filled in.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::{Array2, Array3, Array4};

use super::extend::{largest_valid, ExtendPlan, MAX_OVERLAP};
use super::param_spec::GivenParam;
use super::param_spec::{ParamSpec, ParamValue};
use super::shape::{self, Aspect, Fit, Resolution, SizeGrid};
use crate::{Error, Result};

/// An image to start from (`[H, W, 3]` RGB, u8).
#[derive(Debug, Clone)]
pub struct ImageInput {
    /// RGB pixels `[H, W, 3]`.
    pub pixels: Array3<u8>,
}

/// A clip to transform or extend: frames `[T, H, W, 3]`, their rate and,
/// optionally, the clip's own audio track.
///
/// A family that makes no audio of its own (Wan) carries the track into its
/// output: an extension keeps it under the source's frames and adds silence
/// under the new ones, video-to-video keeps it trimmed or padded with
/// silence to the output's length (see [`SourceAudio::fitted`]).
///
/// ```
/// use sora_core::{SourceAudio, VideoInput};
/// let frames = ndarray::Array4::zeros((9, 32, 32, 3));
/// let clip = VideoInput::new(frames, 16.0)
///     .with_audio(SourceAudio::new(ndarray::Array2::zeros((1, 48_000)), 48_000));
/// assert!(clip.audio.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct VideoInput {
    /// RGB frames `[T, H, W, 3]`.
    pub frames: Array4<u8>,
    /// Frames per second of the source.
    pub fps: f32,
    /// The source's own audio, if it has any (and the caller wants it kept).
    pub audio: Option<SourceAudio>,
}

/// A source clip's audio track: samples `[channels, samples]` in \[-1, 1\]
/// at `sample_rate` Hz.
#[derive(Debug, Clone)]
pub struct SourceAudio {
    /// Samples `[channels, samples]`.
    pub samples: Array2<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl SourceAudio {
    /// A track of `samples` `[channels, samples]` at `sample_rate` Hz.
    pub fn new(samples: Array2<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
        }
    }

    /// Checks the track: at least one channel, a sample rate in
    /// 1..=384000 Hz, finite samples.
    pub fn check(&self) -> Result<()> {
        if self.samples.nrows() == 0 || self.samples.nrows() > 64 {
            return Err(Error::invalid(format!(
                "the source clip's audio has {} channels; it must have 1 to 64",
                self.samples.nrows()
            )));
        }
        if self.sample_rate == 0 || self.sample_rate > 384_000 {
            return Err(Error::invalid(format!(
                "the source clip's audio has a sample rate of {} Hz; it must be in 1..=384000",
                self.sample_rate
            )));
        }
        if self.samples.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "the source clip's audio holds NaN or infinite samples",
            ));
        }
        Ok(())
    }

    /// The track of an output of `total` frames at `fps` whose first `keep`
    /// frames are the source's: the source's samples for the duration of
    /// those `keep` frames (as far as the source has them), then silence,
    /// `round(total / fps · sample_rate)` samples in all, same channels and rate.
    pub fn fitted(&self, keep: usize, total: usize, fps: f64) -> Array2<f32> {
        let rate = f64::from(self.sample_rate);
        let samples_of = |frames: usize| {
            if fps > 0.0 {
                (frames as f64 * rate / fps).round() as usize
            } else {
                0
            }
        };
        let n = samples_of(total);
        let k = samples_of(keep.min(total)).min(n).min(self.samples.ncols());
        let mut out = Array2::zeros((self.samples.nrows(), n));
        out.slice_mut(ndarray::s![.., ..k])
            .assign(&self.samples.slice(ndarray::s![.., ..k]));
        out
    }
}

impl VideoInput {
    /// Frames `[T, H, W, 3]` at `fps`, without audio.
    pub fn new(frames: Array4<u8>, fps: f32) -> Self {
        Self {
            frames,
            fps,
            audio: None,
        }
    }

    /// The same clip with `audio` as its track.
    pub fn with_audio(mut self, audio: SourceAudio) -> Self {
        self.audio = Some(audio);
        self
    }
}

/// Video-to-video strength when a front door is given none (diffusers' default).
pub const DEFAULT_STRENGTH: f32 = 0.8;

/// A frame condition (diffusers' `LTX2VideoCondition`): an image or a short
/// clip that steers the generated video from a latent frame on, with a
/// strength. Families that take them (LTX-2) encode the frames with their
/// video VAE and hold the matching latent tokens at the condition's values
/// (strength 1) or pull them part way (strength in (0, 1)) at every step.
///
/// `index` is a *latent* frame index, as in diffusers: 0 conditions the first
/// frames (the condition's tokens replace the start of the video's); an index
/// `k ≥ 1` places the condition at pixel frame `(k − 1)·temporal + 1` (LTX-2:
/// `8k − 7`) as extra keyframe tokens; a negative index counts from the end
/// (−1: the last latent frame). A clip is trimmed to what fits from there, to
/// `8n + 1` frames. The frames are resized to cover the request's size and
/// centre-cropped (any aspect is taken). Built with [`FrameCondition::image`]
/// or [`FrameCondition::clip`] and given to [`Request::condition`]:
///
/// ```
/// use sora_core::{FrameCondition, ImageInput, Request};
/// let first = ImageInput { pixels: ndarray::Array3::zeros((64, 96, 3)) };
/// let r = Request::text("a fox").condition(FrameCondition::image(first, 0, 1.0));
/// assert_eq!(r.conditions.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct FrameCondition {
    /// RGB frames `[T, H, W, 3]`: one for an image, more for a clip.
    pub frames: Array4<u8>,
    /// The latent frame index it starts at (negative: from the end).
    pub index: i64,
    /// How strongly it holds, in \[0, 1\] (1: its tokens stay its own).
    pub strength: f32,
}

impl FrameCondition {
    /// An image condition at latent frame `index` with `strength`.
    pub fn image(image: ImageInput, index: i64, strength: f32) -> Self {
        Self {
            frames: image.pixels.insert_axis(ndarray::Axis(0)),
            index,
            strength,
        }
    }

    /// A clip condition (its frames; the source rate is not used: the
    /// frames are placed one per generated frame) at `index` with `strength`.
    pub fn clip(clip: VideoInput, index: i64, strength: f32) -> Self {
        Self {
            frames: clip.frames,
            index,
            strength,
        }
    }

    /// Parses the command line's `PATH[@INDEX][:STRENGTH]` (index 0 and
    /// strength 1 when left out; the suffixes are taken only when they
    /// parse, so a path may hold `@` or `:`) into (path, index, strength).
    pub fn parse_spec(spec: &str) -> Result<(PathBuf, i64, f32)> {
        let mut rest = spec;
        let mut strength = 1.0f32;
        if let Some((head, tail)) = rest.rsplit_once(':') {
            if let Ok(v) = tail.trim().parse::<f32>() {
                strength = v;
                rest = head;
            }
        }
        let mut index = 0i64;
        if let Some((head, tail)) = rest.rsplit_once('@') {
            if let Ok(v) = tail.trim().parse::<i64>() {
                index = v;
                rest = head;
            }
        }
        if rest.is_empty() {
            return Err(Error::invalid(format!(
                "a condition is PATH[@INDEX][:STRENGTH] (e.g. first.png@0:1.0, clip.mp4@2:0.6), got `{spec}`"
            )));
        }
        Ok((PathBuf::from(rest), index, strength))
    }

    /// Whether it is a single image (the image re-compression applies).
    pub fn is_image(&self) -> bool {
        self.frames.shape()[0] == 1
    }

    /// Checks its own values: strength in \[0, 1\], frames not empty.
    /// `i` is its position in the request (for the message).
    pub fn check(&self, i: usize) -> Result<()> {
        if !self.strength.is_finite() || !(0.0..=1.0).contains(&self.strength) {
            return Err(Error::invalid(format!(
                "condition {i}: strength must be in [0, 1], got {}",
                self.strength
            )));
        }
        let s = self.frames.shape();
        if s[0] == 0 || s[1] == 0 || s[2] == 0 || s[3] != 3 {
            return Err(Error::invalid(format!(
                "condition {i}: frames must be [T, H, W, 3] RGB and not empty, got {s:?}"
            )));
        }
        Ok(())
    }

    /// The latent index it starts at in a video of `latent_frames` latent
    /// frames (a negative index counted from the end), or a typed error
    /// naming the valid indices. `i` is its position in the request.
    pub fn latent_index(&self, i: usize, latent_frames: i64) -> Result<i64> {
        let n = latent_frames;
        if n <= 0 || self.index >= n || self.index < -n {
            return Err(Error::invalid(format!(
                "condition {i}: index {} is out of range; this request has {n} latent frames, \
                 so the index must be in {}..={} (a latent index: k ≥ 1 starts at pixel frame \
                 (k − 1)·temporal compression + 1; negative counts from the end)",
                self.index,
                -n,
                n - 1
            )));
        }
        Ok(self.index.rem_euclid(n))
    }
}

/// What the generation starts from.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Text only.
    Text,
    /// An image as the first frame.
    Image(ImageInput),
    /// A clip re-generated from `strength` (0 keeps it, 1 replaces it).
    Video {
        /// The source clip.
        clip: VideoInput,
        /// How much of the schedule is re-run, in (0, 1].
        strength: f32,
    },
    /// A clip continued by `seconds`.
    Extend {
        /// The clip to continue.
        clip: VideoInput,
        /// Seconds to add.
        seconds: f32,
    },
}

impl Mode {
    /// Checks the input's own values (strength, seconds to add, non-empty
    /// media); the rest of the request is checked by [`Request::resolve`].
    pub fn check(&self) -> Result<()> {
        match self {
            Mode::Video { strength, clip } => {
                if !strength.is_finite() || *strength <= 0.0 || *strength > 1.0 {
                    return Err(Error::invalid(format!(
                        "strength must be in (0, 1], got {strength}"
                    )));
                }
                if clip.frames.shape()[0] == 0 {
                    return Err(Error::invalid("the source video has no frames"));
                }
                if let Some(a) = &clip.audio {
                    a.check()?;
                }
            }
            Mode::Extend { seconds, clip } => {
                if let Some(a) = &clip.audio {
                    a.check()?;
                }
                if !seconds.is_finite() || *seconds <= 0.0 {
                    return Err(Error::invalid(format!(
                        "seconds to add must be positive, got {seconds}"
                    )));
                }
            }
            Mode::Image(img) => {
                let s = img.pixels.shape();
                if s[0] == 0 || s[1] == 0 {
                    return Err(Error::invalid("the input image is empty"));
                }
            }
            Mode::Text => {}
        }
        Ok(())
    }

    /// The input's size `(width, height)`: the image's or the clip's frames'
    /// (`None` for text).
    pub fn input_size(&self) -> Option<(u32, u32)> {
        match self {
            Mode::Text => None,
            Mode::Image(img) => Some((img.pixels.shape()[1] as u32, img.pixels.shape()[0] as u32)),
            Mode::Video { clip, .. } | Mode::Extend { clip, .. } => {
                Some((clip.frames.shape()[2] as u32, clip.frames.shape()[1] as u32))
            }
        }
    }

    /// A short name: `text`, `image`, `video`, `extend`.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Image(_) => "image",
            Mode::Video { .. } => "video",
            Mode::Extend { .. } => "extend",
        }
    }
}

/// A generation request. `None` fields take the family's defaults.
///
/// ```
/// use sora_core::Request;
/// let r = Request::text("a basketball bounces").size(832, 480).frames(81).steps(30).seed(7);
/// assert_eq!(r.width, Some(832));
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    /// The prompt.
    pub prompt: String,
    /// What to steer away from (classifier-free guidance).
    pub negative_prompt: Option<String>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// A named aspect preset (instead of `width` and `height`; see
    /// [`shape`](mod@super::shape) for how it maps to a size).
    pub aspect: Option<Aspect>,
    /// A resolution tier: the short side (instead of `width` and `height`).
    pub resolution: Option<Resolution>,
    /// How an input image or clip of another aspect than the request's is
    /// made its shape (crop or pad); without it such an input is refused.
    pub fit: Option<Fit>,
    /// Number of frames (takes precedence over `seconds`).
    pub frames: Option<u32>,
    /// Duration in seconds (frames = seconds · fps, rounded to the family's rule).
    pub seconds: Option<f32>,
    /// Frames per second.
    pub fps: Option<u32>,
    /// Denoising steps.
    pub steps: Option<u32>,
    /// Guidance scale (1 disables classifier-free guidance).
    pub guidance: Option<f32>,
    /// Guidance scale of the second (low-noise) expert of two-expert models
    /// (Wan 2.2 A14B); defaults to `guidance`.
    pub guidance_2: Option<f32>,
    /// Seed of the initial noise (same seed, same bytes on CPU).
    pub seed: Option<u64>,
    /// Generate audio (families without audio reject `Some(true)`).
    pub audio: Option<bool>,
    /// What the generation starts from.
    pub mode: Mode,
    /// Consent ids (cameos) for the registered people the prompt names,
    /// checked by the pipeline's prompt gate (see `sora_core::safety`).
    pub consents: Vec<String>,
    /// Frame conditions ([`FrameCondition`]), in order; text mode only.
    pub conditions: Vec<FrameCondition>,
    /// Timed prompts for long-form generation: from `seconds` on, the prompt
    /// is `text` ([`Request::prompt_at`]). A request with any is generated as
    /// a chain of windows ([`super::longform`]); families without long-form
    /// generation refuse it with [`Error::Unsupported`].
    pub prompts_at: Vec<(f32, String)>,
    /// Parameters beyond the typed fields (set with [`Request::set`]), by the
    /// name they were given under; checked against the family at resolve.
    pub(crate) extra: BTreeMap<String, GivenParam>,
}

impl Request {
    fn new(prompt: impl Into<String>, mode: Mode) -> Self {
        Self {
            prompt: prompt.into(),
            negative_prompt: None,
            width: None,
            height: None,
            aspect: None,
            resolution: None,
            fit: None,
            frames: None,
            seconds: None,
            fps: None,
            steps: None,
            guidance: None,
            guidance_2: None,
            seed: None,
            audio: None,
            mode,
            consents: Vec::new(),
            conditions: Vec::new(),
            prompts_at: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Text-to-video.
    pub fn text(prompt: impl Into<String>) -> Self {
        Self::new(prompt, Mode::Text)
    }

    /// Image-to-video: `image` becomes the first frame.
    pub fn image(image: ImageInput, prompt: impl Into<String>) -> Self {
        Self::new(prompt, Mode::Image(image))
    }

    /// Video-to-video from `clip`, re-running `strength` of the schedule.
    pub fn video(clip: VideoInput, prompt: impl Into<String>, strength: f32) -> Self {
        Self::new(prompt, Mode::Video { clip, strength })
    }

    /// Extends `clip` by `seconds`.
    pub fn extend(clip: VideoInput, prompt: impl Into<String>, seconds: f32) -> Self {
        Self::new(prompt, Mode::Extend { clip, seconds })
    }

    /// Sets the negative prompt.
    pub fn negative_prompt(mut self, p: impl Into<String>) -> Self {
        self.negative_prompt = Some(p.into());
        self
    }
    /// Sets width and height.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = Some(width);
        self.height = Some(height);
        self
    }
    /// Sets a named aspect preset (the size comes from it and the
    /// resolution tier, on the family's grid).
    pub fn aspect(mut self, aspect: Aspect) -> Self {
        self.aspect = Some(aspect);
        self
    }
    /// Sets a resolution tier (the short side of the frame).
    pub fn resolution(mut self, tier: Resolution) -> Self {
        self.resolution = Some(tier);
        self
    }
    /// Sets how an input of another shape is made the request's (crop or pad).
    pub fn fit(mut self, fit: Fit) -> Self {
        self.fit = Some(fit);
        self
    }
    /// Sets the frame count.
    pub fn frames(mut self, n: u32) -> Self {
        self.frames = Some(n);
        self
    }
    /// Sets the duration in seconds.
    pub fn seconds(mut self, s: f32) -> Self {
        self.seconds = Some(s);
        self
    }
    /// Sets frames per second.
    pub fn fps(mut self, fps: u32) -> Self {
        self.fps = Some(fps);
        self
    }
    /// Sets the number of denoising steps.
    pub fn steps(mut self, n: u32) -> Self {
        self.steps = Some(n);
        self
    }
    /// Sets the guidance scale.
    pub fn guidance(mut self, g: f32) -> Self {
        self.guidance = Some(g);
        self
    }
    /// Sets the guidance scale of the low-noise expert (two-expert models).
    pub fn guidance_2(mut self, g: f32) -> Self {
        self.guidance_2 = Some(g);
        self
    }
    /// From `seconds` into the clip on, the prompt is `text` (long-form
    /// generation: each window takes the prompt active at its first new
    /// frame; see [`super::longform`]).
    pub fn prompt_at(mut self, seconds: f32, text: impl Into<String>) -> Self {
        self.prompts_at.push((seconds, text.into()));
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }
    /// Turns audio generation on or off.
    pub fn audio(mut self, on: bool) -> Self {
        self.audio = Some(on);
        self
    }
    /// Adds a consent id (a cameo) for a registered person the prompt
    /// names; the pipeline's gate checks it against its registry and owner key.
    pub fn consent(mut self, id: impl Into<String>) -> Self {
        self.consents.push(id.into());
        self
    }
    /// Adds a frame condition (an image or clip at a latent frame index with
    /// a strength; see [`FrameCondition`]). Conditions go with a text
    /// request (the image of image-to-video is the condition
    /// `FrameCondition::image(image, 0, 1.0)` there); families without them
    /// refuse them.
    pub fn condition(mut self, c: FrameCondition) -> Self {
        self.conditions.push(c);
        self
    }
}

/// A family's defaults (equal to the diffusers pipeline's `__call__` defaults).
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Default width.
    pub width: u32,
    /// Default height.
    pub height: u32,
    /// Default frame count.
    pub frames: u32,
    /// Default fps.
    pub fps: u32,
    /// Default steps.
    pub steps: u32,
    /// Default guidance scale.
    pub guidance: f32,
    /// Default negative prompt.
    pub negative_prompt: String,
    /// Whether the family generates audio by default.
    pub audio: bool,
    /// The request parameters the family accepts beyond the common ones
    /// ([`super::params::COMMON_PARAMS`]), e.g. `guidance_scale_2`.
    pub params: &'static [ParamSpec],
    /// Parameter values a model folder sets for its requests
    /// ([`super::folder_defaults`]); the request's own values win.
    pub preset: BTreeMap<String, ParamValue>,
}

/// A request with every value decided.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The prompt.
    pub prompt: String,
    /// The negative prompt.
    pub negative_prompt: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame count.
    pub frames: u32,
    /// Frames per second.
    pub fps: u32,
    /// Denoising steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance: f32,
    /// Guidance scale of the low-noise expert, when set.
    pub guidance_2: Option<f32>,
    /// Seed.
    pub seed: u64,
    /// Whether audio is generated.
    pub audio: bool,
    /// The mode.
    pub mode: Mode,
    /// The frame conditions, each checked on its own ([`FrameCondition::check`]).
    pub conditions: Vec<FrameCondition>,
    /// The family's own parameters given with [`Request::set`], checked
    /// against [`Defaults::params`] and keyed by their canonical names.
    pub params: BTreeMap<String, ParamValue>,
    /// Timed prompts `(seconds, text)`, checked and sorted by time (a stable
    /// sort: of two at the same time the later given wins).
    pub prompts_at: Vec<(f32, String)>,
}

impl Resolved {
    /// The source clip's own track that this run carries into its output: a
    /// video-to-video or extension request whose clip has audio, run without
    /// generating audio of its own (a family without audio, such as Wan).
    pub fn carried_audio(&self) -> Option<&SourceAudio> {
        if self.audio {
            return None;
        }
        match &self.mode {
            Mode::Video { clip, .. } | Mode::Extend { clip, .. } => clip.audio.as_ref(),
            _ => None,
        }
    }

    /// Whether the output has an audio track: generated or carried.
    pub fn has_audio_track(&self) -> bool {
        self.audio || self.carried_audio().is_some()
    }

    /// The plan of an extension (`frames` = source + added), or `None` for
    /// another mode; `frame_rule` is the family's nearest frame count.
    pub fn extend_plan(&self, frame_rule: impl Fn(u32) -> u32) -> Result<Option<ExtendPlan>> {
        let Mode::Extend { clip, .. } = &self.mode else {
            return Ok(None);
        };
        let source = clip.frames.shape()[0] as u32;
        if source == 0 {
            return Err(Error::invalid("the clip to extend has no frames"));
        }
        let added = self
            .frames
            .checked_sub(source)
            .filter(|a| *a > 0)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "an extension of {source} frames must make more than {source}, got {}",
                    self.frames
                ))
            })?;
        Ok(Some(ExtendPlan {
            source,
            overlap: largest_valid(source.min(MAX_OVERLAP), &frame_rule),
            added,
        }))
    }

    /// The frames the model generates: an extension's window, else `frames`.
    pub fn generated_frames(&self, frame_rule: impl Fn(u32) -> u32) -> Result<u32> {
        Ok(match self.extend_plan(frame_rule)? {
            Some(p) => p.window(),
            None => self.frames,
        })
    }
}

/// Picks the seed used when a request gives none (from the clock; recorded in the clip's meta).
fn fresh_seed() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 & 0x7fff_ffff_ffff)
        .unwrap_or(0)
}

impl Request {
    /// Fills unset fields from `d` and checks values that no family accepts.
    /// `frame_rule` maps a wanted frame count to the nearest the family takes.
    /// An aspect preset or resolution tier maps to a size on a grid of one
    /// pixel; [`Request::resolve_on`] takes the family's grid.
    pub fn resolve(&self, d: &Defaults, frame_rule: impl Fn(u32) -> u32) -> Result<Resolved> {
        self.resolve_on(d, frame_rule, SizeGrid::PIXEL)
    }

    /// [`Request::resolve`] for a family whose sizes lie on `grid`: the size
    /// comes from `width`/`height`, or from `aspect`/`resolution` mapped to
    /// the nearest size on the grid ([`shape::size_for`]); an image or clip
    /// input is then made that shape by `fit` or refused when its aspect
    /// differs ([`fit_mode`]).
    pub fn resolve_on(
        &self,
        d: &Defaults,
        frame_rule: impl Fn(u32) -> u32,
        grid: SizeGrid,
    ) -> Result<Resolved> {
        if self.prompt.contains('\0') {
            return Err(Error::invalid("the prompt contains a NUL character"));
        }
        self.check_prompts_at()?;
        let fps = match &self.mode {
            Mode::Extend { clip, .. } => self.extend_fps(clip)?,
            // A restyled clip keeps its frame rate unless told otherwise: its
            // frames map one to one, and its carried sound stays in sync.
            Mode::Video { clip, .. }
                if clip.fps.is_finite() && (0.5..=240.0).contains(&clip.fps) =>
            {
                self.fps.unwrap_or(clip.fps.round() as u32)
            }
            _ => self.fps.unwrap_or(d.fps),
        };
        if fps == 0 || fps > 240 {
            return Err(Error::invalid(format!("fps must be in 1..=240, got {fps}")));
        }
        let frames = match (&self.mode, self.frames, self.seconds) {
            (Mode::Extend { clip, seconds }, frames, secs) => {
                if frames.is_some() || secs.is_some() {
                    return Err(Error::invalid(
                        "an extension's length is the seconds given with the clip to extend; \
                         leave frames and seconds unset",
                    ));
                }
                ExtendPlan::new(clip.frames.shape()[0] as u32, *seconds, fps, &frame_rule)?.total()
            }
            (_, Some(0), _) => return Err(Error::invalid("frames must be at least 1")),
            (_, Some(f), _) => f,
            (_, None, Some(s)) => {
                if !s.is_finite() || s <= 0.0 {
                    return Err(Error::invalid(format!(
                        "seconds must be a positive number, got {s}"
                    )));
                }
                if s > 600.0 {
                    return Err(Error::invalid(format!(
                        "seconds must be at most 600, got {s}"
                    )));
                }
                frame_rule(((s * fps as f32).round() as u32).max(1))
            }
            (mode, None, None) => match mode {
                // Video-to-video keeps the source's length unless told otherwise.
                Mode::Video { clip, .. } => clip.frames.shape()[0] as u32,
                _ => d.frames,
            },
        };
        let steps = self.steps.unwrap_or(d.steps);
        if steps == 0 || steps > 1000 {
            return Err(Error::invalid(format!(
                "steps must be in 1..=1000, got {steps}"
            )));
        }
        let guidance = self.guidance.unwrap_or(d.guidance);
        if !guidance.is_finite() || guidance < 0.0 {
            return Err(Error::invalid(format!(
                "guidance must be a finite number ≥ 0, got {guidance}"
            )));
        }
        if let Some(g2) = self.guidance_2 {
            if !g2.is_finite() || g2 < 0.0 {
                return Err(Error::invalid(format!(
                    "guidance_2 must be a finite number ≥ 0, got {g2}"
                )));
            }
        }
        let (width, height) = self.resolve_size(d, grid)?;
        if let Mode::Extend { .. } = &self.mode {
            let src = self.mode.input_size().unwrap_or((0, 0));
            if (width, height) != src {
                return Err(Error::invalid(format!(
                    "an extension keeps the clip's size ({}x{}); {width}x{height} was asked \
                     (leave width, height, aspect and resolution unset)",
                    src.0, src.1
                )));
            }
        }
        if width == 0 || height == 0 {
            return Err(Error::invalid(format!(
                "size must be positive, got {width}x{height}"
            )));
        }
        self.mode.check()?;
        for (i, c) in self.conditions.iter().enumerate() {
            c.check(i)?;
        }
        if !self.conditions.is_empty() && !matches!(self.mode, Mode::Text) {
            return Err(Error::invalid(format!(
                "frame conditions go with a text request, not with {} mode (give the image or \
                 clip as a condition instead: an image at index 0 is image-to-video)",
                self.mode.name()
            )));
        }
        let mut mode = fit_mode(&self.mode, width, height, self.fit)?;
        if self.audio == Some(false) {
            // Audio asked off: the source's track is not carried either.
            if let Mode::Video { clip, .. } | Mode::Extend { clip, .. } = &mut mode {
                clip.audio = None;
            }
        }
        let mut params = self.resolve_params(d.params)?;
        for (k, v) in &d.preset {
            params.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Ok(Resolved {
            prompt: self.prompt.clone(),
            negative_prompt: self
                .negative_prompt
                .clone()
                .unwrap_or_else(|| d.negative_prompt.clone()),
            width,
            height,
            frames,
            fps,
            steps,
            guidance,
            guidance_2: self.guidance_2,
            seed: self.seed.unwrap_or_else(fresh_seed),
            audio: self.audio.unwrap_or(d.audio),
            mode,
            conditions: self.conditions.clone(),
            params,
            prompts_at: self.sorted_prompts_at(),
        })
    }
}

impl Request {
    /// Timed prompts: each checked (a finite time ≥ 0, a text without NUL).
    /// Whether the family can generate them is its own check (the pipeline's).
    fn check_prompts_at(&self) -> Result<()> {
        for (secs, text) in &self.prompts_at {
            if !secs.is_finite() || *secs < 0.0 {
                return Err(Error::invalid(format!(
                    "a timed prompt's time must be a finite number of seconds ≥ 0, got {secs}"
                )));
            }
            if text.contains('\0') {
                return Err(Error::invalid("a timed prompt contains a NUL character"));
            }
        }
        if !self.prompts_at.is_empty() && matches!(self.mode, Mode::Video { .. }) {
            return Err(Error::invalid(format!(
                "timed prompts go with a text, image or extension request (long-form \
                 generation), not with {} mode",
                self.mode.name()
            )));
        }
        Ok(())
    }

    /// The timed prompts sorted by time (stable).
    fn sorted_prompts_at(&self) -> Vec<(f32, String)> {
        let mut v = self.prompts_at.clone();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }

    /// An extension's frame rate: the clip's, rounded to a whole number
    /// (a request `fps` must equal it).
    fn extend_fps(&self, clip: &VideoInput) -> Result<u32> {
        if !clip.fps.is_finite() || clip.fps < 0.5 || clip.fps > 240.0 {
            return Err(Error::invalid(format!(
                "the clip to extend has a frame rate of {} fps; it must be in 1..=240",
                clip.fps
            )));
        }
        let src = clip.fps.round() as u32;
        match self.fps {
            Some(f) if f != src => Err(Error::invalid(format!(
                "an extension keeps the clip's frame rate ({src} fps); {f} fps was asked"
            ))),
            _ => Ok(src),
        }
    }

    /// The frame size: `width`/`height` (each defaulting to the source's for
    /// video-to-video, else to the family's), or `aspect`/`resolution` on
    /// `grid`: the aspect defaults to the input's (image or clip), else to the
    /// default size's; the tier to the default size's short side. Giving both
    /// kinds is [`Error::InvalidRequest`].
    fn resolve_size(&self, d: &Defaults, grid: SizeGrid) -> Result<(u32, u32)> {
        // Video-to-video keeps the source's size unless told otherwise; an
        // extension keeps it always (checked by the caller).
        let (dw, dh) = match &self.mode {
            Mode::Video { .. } | Mode::Extend { .. } => {
                self.mode.input_size().unwrap_or((d.width, d.height))
            }
            _ => (d.width, d.height),
        };
        if self.aspect.is_none() && self.resolution.is_none() {
            return Ok((self.width.unwrap_or(dw), self.height.unwrap_or(dh)));
        }
        if self.width.is_some() || self.height.is_some() {
            let named: Vec<String> = [
                self.width.map(|w| format!("width {w}")),
                self.height.map(|h| format!("height {h}")),
                self.aspect.map(|a| format!("aspect {a}")),
                self.resolution.map(|r| format!("resolution {r}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            return Err(Error::invalid(format!(
                "give the size either as width and height or as aspect and/or resolution, not both (got {})",
                named.join(", ")
            )));
        }
        let ratio = match self.aspect {
            Some(a) => (a.width(), a.height()),
            None => self.mode.input_size().unwrap_or((dw, dh)),
        };
        let short = match self.resolution {
            Some(r) => r.short_side(),
            None => dw.min(dh),
        };
        Ok(shape::size_for(ratio, short, grid))
    }
}

/// Where a request's media input came from (kept for the clip's metadata).
#[derive(Debug, Clone, Default)]
pub struct InputSource {
    /// Path of an image or video input, if one was read from disk.
    pub path: Option<PathBuf>,
}

/// The request's input made the shape of `width × height`: an input of the
/// same aspect (within [`shape::ASPECT_TOLERANCE`]) and no `fit` is kept as it is (the
/// family resizes it, as diffusers does); with `fit` the input is cropped or
/// padded to the exact aspect (at its own scale); an input of another aspect
/// without `fit` is [`Error::InvalidRequest`] naming both aspects and the
/// option. A `fit` without an image or clip input is refused too.
pub fn fit_mode(mode: &Mode, width: u32, height: u32, fit: Option<Fit>) -> Result<Mode> {
    let (iw, ih, what) = match mode {
        Mode::Text => {
            if let Some(f) = fit {
                return Err(Error::invalid(format!(
                    "fit={f} applies to an image or video input; this request is text-to-video"
                )));
            }
            return Ok(Mode::Text);
        }
        Mode::Image(img) => (img.pixels.shape()[1], img.pixels.shape()[0], "image"),
        Mode::Video { clip, .. } | Mode::Extend { clip, .. } => {
            (clip.frames.shape()[2], clip.frames.shape()[1], "video")
        }
    };
    let (w, h) = (width as usize, height as usize);
    if iw == 0 || ih == 0 {
        return Err(Error::invalid(format!(
            "the input {what} is empty ({iw}x{ih})"
        )));
    }
    let exact = iw * h == ih * w;
    let fit = match fit {
        None if shape::aspect_difference((iw, ih), (w, h)) <= shape::ASPECT_TOLERANCE => return Ok(mode.clone()),
        None => {
            return Err(Error::invalid(format!(
                "the input {what} is {} but the request is {}: its shape differs by more than {:.0} %, \
                 and sora does not stretch it. Set fit to `crop` (centre-crop the input to the request's \
                 aspect; `--fit crop`, Python fit=\"crop\", C key \"fit\") or `pad` (black bars), or ask \
                 for a size of the input's aspect (e.g. only a resolution tier, which keeps it)",
                shape::shown(iw, ih),
                shape::shown(w, h),
                shape::ASPECT_TOLERANCE * 100.0
            )))
        }
        Some(_) if exact => return Ok(mode.clone()),
        Some(f) => f,
    };
    Ok(match mode {
        Mode::Image(img) => Mode::Image(ImageInput {
            pixels: shape::fit_image(img.pixels.view(), width, height, fit)?,
        }),
        Mode::Video { clip, strength } => Mode::Video {
            clip: VideoInput {
                frames: shape::fit_frames(&clip.frames, width, height, fit)?,
                fps: clip.fps,
                audio: clip.audio.clone(),
            },
            strength: *strength,
        },
        Mode::Extend { clip, seconds } => Mode::Extend {
            clip: VideoInput {
                frames: shape::fit_frames(&clip.frames, width, height, fit)?,
                fps: clip.fps,
                audio: clip.audio.clone(),
            },
            seconds: *seconds,
        },
        Mode::Text => Mode::Text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Defaults {
        Defaults {
            width: 832,
            height: 480,
            frames: 81,
            fps: 16,
            steps: 50,
            guidance: 5.0,
            negative_prompt: String::new(),
            audio: false,
            params: &[],
            preset: BTreeMap::new(),
        }
    }

    #[test]
    fn source_audio_is_fitted_to_the_output() {
        let a = SourceAudio::new(Array2::from_elem((2, 100), 0.5), 1600);
        // 3 of 5 frames at 16 fps kept: 300 samples of 500; the source has 100.
        let f = a.fitted(3, 5, 16.0);
        assert_eq!(f.dim(), (2, 500));
        assert!(f.slice(ndarray::s![.., ..100]).iter().all(|&v| v == 0.5));
        assert!(f.slice(ndarray::s![.., 100..]).iter().all(|&v| v == 0.0));
        // Longer than the output: trimmed.
        let f = a.fitted(1, 1, 32.0);
        assert_eq!(f.dim(), (2, 50));
        assert!(f.iter().all(|&v| v == 0.5));
        assert!(SourceAudio::new(Array2::zeros((1, 4)), 0).check().is_err());
        assert!(SourceAudio::new(Array2::zeros((0, 4)), 8000)
            .check()
            .is_err());
        assert!(SourceAudio::new(Array2::zeros((1, 4)), 8000)
            .check()
            .is_ok());
    }

    #[test]
    fn condition_specs_parse_with_defaults() {
        let p = |s: &str| FrameCondition::parse_spec(s).unwrap();
        assert_eq!(p("a.png"), (PathBuf::from("a.png"), 0, 1.0));
        assert_eq!(p("a.png@2"), (PathBuf::from("a.png"), 2, 1.0));
        assert_eq!(p("a.png@-1:0.5"), (PathBuf::from("a.png"), -1, 0.5));
        assert_eq!(
            p("dir:x/clip.mp4:0.25"),
            (PathBuf::from("dir:x/clip.mp4"), 0, 0.25)
        );
        assert!(FrameCondition::parse_spec("@1:0.5").is_err());
        let c = FrameCondition::image(
            ImageInput {
                pixels: Array3::zeros((4, 4, 3)),
            },
            5,
            1.2,
        );
        assert!(matches!(c.check(0), Err(Error::InvalidRequest(_))));
        let e = c.latent_index(0, 3).unwrap_err().to_string();
        assert!(e.contains("-3..=2"), "{e}");
        assert_eq!(
            FrameCondition { index: -1, ..c }
                .latent_index(0, 3)
                .unwrap(),
            2
        );
    }

    #[test]
    fn defaults_fill_unset_fields() {
        let r = Request::text("x").seed(3).resolve(&d(), |f| f).unwrap();
        assert_eq!(
            (r.width, r.height, r.frames, r.fps, r.steps),
            (832, 480, 81, 16, 50)
        );
        assert_eq!(r.seed, 3);
    }

    #[test]
    fn seconds_go_through_the_frame_rule() {
        let r = Request::text("x")
            .seconds(2.0)
            .resolve(&d(), |f| (f - 1) / 4 * 4 + 1)
            .unwrap();
        assert_eq!(r.frames, 29);
    }

    const GRID16: SizeGrid = SizeGrid {
        width: 16,
        height: 16,
    };

    #[test]
    fn aspect_and_resolution_give_the_size_on_the_grid() {
        let size = |r: Request| {
            let r = r.resolve_on(&d(), |f| f, GRID16).unwrap();
            (r.width, r.height)
        };
        let t = || Request::text("x");
        assert_eq!(
            size(
                t().aspect("9:16".parse().unwrap())
                    .resolution(Resolution::P480)
            ),
            (480, 848)
        );
        // Only the aspect: the default size's short side (480).
        assert_eq!(size(t().aspect("1:1".parse().unwrap())), (480, 480));
        // Only the tier: the default size's aspect (832:480).
        assert_eq!(size(t().resolution(Resolution::P720)), (1248, 720));
        // Only the tier with an image: the image's aspect.
        let img = ImageInput {
            pixels: ndarray::Array3::zeros((300, 400, 3)),
        };
        assert_eq!(
            size(Request::image(img, "x").resolution(Resolution::P480)),
            (640, 480)
        );
        // Video-to-video, only the aspect: the source's short side.
        let clip = VideoInput {
            frames: Array4::zeros((2, 64, 64, 3)),
            fps: 16.0,
            audio: None,
        };
        assert_eq!(
            size(
                Request::video(clip, "x", 0.5)
                    .aspect("16:9".parse().unwrap())
                    .fit(Fit::Crop)
            ),
            (112, 64)
        );
        // Without a preset or tier, the plain size is untouched by the grid.
        assert_eq!(size(t().size(40, 24)), (40, 24));
    }

    #[test]
    fn a_size_given_both_ways_is_refused() {
        for req in [
            Request::text("x")
                .size(64, 64)
                .aspect("1:1".parse().unwrap()),
            Request::text("x").resolution(Resolution::P480).frames(5),
        ] {
            let mut req = req;
            req.width = req.width.or(Some(32));
            let e = req.resolve_on(&d(), |f| f, GRID16).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
            assert!(e.to_string().contains("not both"), "{e}");
        }
    }

    #[test]
    fn an_input_of_another_shape_needs_fit() {
        let img = || ImageInput {
            pixels: ndarray::Array3::from_elem((32, 64, 3), 9),
        };
        let e = Request::image(img(), "x")
            .size(32, 32)
            .resolve(&d(), |f| f)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)));
        assert!(e.to_string().contains("fit"), "{e}");
        let r = Request::image(img(), "x")
            .size(32, 32)
            .fit(Fit::Crop)
            .resolve(&d(), |f| f)
            .unwrap();
        assert!(matches!(&r.mode, Mode::Image(i) if i.pixels.shape() == [32, 32, 3]));
        // The same aspect: the pixels reach the family unchanged.
        let same = Request::image(img(), "x")
            .size(128, 64)
            .resolve(&d(), |f| f)
            .unwrap();
        assert!(matches!(&same.mode, Mode::Image(i) if i.pixels == img().pixels));
    }

    #[test]
    fn bad_values_are_invalid_requests() {
        for req in [
            Request::text("x").steps(0),
            Request::text("x").guidance(f32::NAN),
            Request::text("x").seconds(-1.0),
            Request::text("x").frames(0),
            Request::text("x").fps(0),
            Request::text("a\0b"),
        ] {
            assert!(matches!(
                req.resolve(&d(), |f| f),
                Err(Error::InvalidRequest(_))
            ));
        }
    }

    #[test]
    fn fit_mode_refuses_other_shapes_and_keeps_same_ones() {
        let img = |w: usize, h: usize| {
            Mode::Image(ImageInput {
                pixels: Array3::from_elem((h, w, 3), 7),
            })
        };
        // Same aspect: kept as is (the family resizes it).
        let m = fit_mode(&img(64, 36), 848, 480, None).unwrap();
        assert!(matches!(m, Mode::Image(i) if i.pixels.shape() == [36, 64, 3]));
        // 16:9 into Wan 2.2's 1280×704 (2.3 % off): no fit needed.
        assert!(fit_mode(&img(1920, 1080), 1280, 704, None).is_ok());
        // 4:3 into 16:9: refused, naming both shapes and the option.
        let e = fit_mode(&img(640, 480), 848, 480, None).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)));
        let e = e.to_string();
        assert!(
            e.contains("640x480 (aspect 1.333)") && e.contains("848x480 (aspect 1.767)"),
            "{e}"
        );
        assert!(e.contains("--fit crop") && e.contains("pad"), "{e}");
        // With fit: the input takes the request's aspect at its own scale.
        let Mode::Image(c) = fit_mode(&img(640, 480), 848, 480, Some(Fit::Crop)).unwrap() else {
            panic!()
        };
        assert_eq!(c.pixels.shape(), &[362, 640, 3]);
        let Mode::Image(p) = fit_mode(&img(640, 480), 848, 480, Some(Fit::Pad)).unwrap() else {
            panic!()
        };
        assert_eq!(p.pixels.shape(), &[480, 848, 3]);
        // Exactly the same aspect with a fit: untouched.
        let Mode::Image(same) = fit_mode(&img(32, 32), 64, 64, Some(Fit::Pad)).unwrap() else {
            panic!()
        };
        assert_eq!(same.pixels.shape(), &[32, 32, 3]);
        // A clip: every frame the same way.
        let clip = Mode::Video {
            clip: VideoInput {
                frames: Array4::from_elem((3, 48, 64, 3), 9),
                fps: 16.0,
                audio: None,
            },
            strength: 0.5,
        };
        assert!(fit_mode(&clip, 32, 32, None).is_err());
        let Mode::Video { clip, strength } = fit_mode(&clip, 32, 32, Some(Fit::Crop)).unwrap()
        else {
            panic!()
        };
        assert_eq!(clip.frames.shape(), &[3, 48, 48, 3]);
        assert_eq!(strength, 0.5);
        // Text with a fit: refused.
        let e = fit_mode(&Mode::Text, 32, 32, Some(Fit::Crop)).unwrap_err();
        assert!(e.to_string().contains("image or video input"), "{e}");
    }
}
