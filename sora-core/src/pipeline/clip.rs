//! The result of a generation: frames, optional audio, and metadata.

use std::path::Path;

use ndarray::{Array2, Array4, ArrayView2, ArrayView4};
use serde::Serialize;

use crate::nn::step_cache::StepCacheStats;
use crate::physics::{PhysicsCandidate, PhysicsReport};
use crate::safety::{ClipCredentials, CredentialsMeta, WatermarkMeta};
use crate::{io, Result};

/// Seconds spent in each phase of one generation.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Timings {
    /// Loading the model (building the pipeline; 0 when it was already loaded).
    pub load_s: f64,
    /// Encoding the prompt (and image/video conditioning).
    pub text_s: f64,
    /// The denoising loop.
    pub denoise_s: f64,
    /// Decoding latents to frames and audio.
    pub decode_s: f64,
    /// Generation after loading: text + prepare + denoise + decode.
    pub total_s: f64,
    /// Seconds of each denoising step (model evaluation + scheduler step), in
    /// order; `denoise_s` also counts preparing the latents.
    pub steps_s: Vec<f64>,
}

/// What produced a clip (recorded with it, and in the MP4's provenance).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClipMeta {
    /// The model folder.
    pub model: String,
    /// The family (e.g. `wan`).
    pub family: String,
    /// The mode: `text`, `image`, `video` or `extend`.
    pub mode: String,
    /// The prompt.
    pub prompt: String,
    /// The negative prompt used.
    pub negative_prompt: String,
    /// The seed of the initial noise.
    pub seed: u64,
    /// Denoising steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance: f32,
    /// Guidance scale of the low-noise expert (two-expert models), when set.
    pub guidance_2: Option<f32>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame count.
    pub frames: u32,
    /// Frames per second.
    pub fps: u32,
    /// Device the run used (`cpu`, `cuda:0`).
    pub device: String,
    /// Dtype of the weights (`float32`, `float16`, `bfloat16`).
    pub dtype: String,
    /// Whether the clip has audio: generated, or the source clip's track
    /// carried by a family without audio of its own.
    pub has_audio: bool,
    /// Engine version.
    pub sora_version: String,
    /// Time per phase.
    pub timings: Timings,
    /// Peak resident memory of the process at the end of the run, MiB.
    pub peak_rss_mb: f64,
    /// What step caching did (`null` in JSON when it was off).
    pub step_cache: Option<StepCacheStats>,
    /// Resident memory of the process when the pipeline started loading, MiB
    /// (`peak_rss_mb` minus this is what the model and the runs added).
    pub rss_before_load_mb: f64,
    /// The memory estimate of the run (generation phases, MiB), checked
    /// against the budget before encoding; `None` for a family without one.
    pub estimated_peak_mb: Option<f64>,
    /// Every text embedding came from the pipeline's cache (the text encoder
    /// did not run).
    pub text_embeddings_cached: bool,
    /// Where the weights waited between uses: `none`, `model` or `sequential`.
    pub offload: String,
    /// The spatial tiles of the VAE decode `[height, width, stride_height,
    /// stride_width]` in pixels when tiling was on (`null` otherwise; a
    /// latent within one tile still decodes whole).
    pub vae_tiling: Option<[i64; 4]>,
    /// The time windows of the video decode `[window, stride]` in frames
    /// when frame tiling was on (`null` otherwise).
    pub vae_frame_tiling: Option<[i64; 2]>,
    /// The experimental motion guidance as `STRENGTH@FROM` when it was on
    /// (`null` otherwise).
    pub motion_guidance: Option<String>,
    /// Long-form generation's windows, when the clip was made as a chain of
    /// them (absent from the JSON otherwise, so that a one-walk clip's
    /// metadata reads as before; see [`super::longform`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_form: Option<super::longform::LongformMeta>,
    /// The clip's physics report, when the pipeline's `physics` policy makes
    /// one (`null` otherwise).
    pub physics: Option<PhysicsReport>,
    /// Under `physics = rerank:N`, every seed tried with its penalty and
    /// report (empty otherwise); the clip is the lowest penalty's.
    pub physics_candidates: Vec<PhysicsCandidate>,
    /// The marks applied: `visible`, `invisible`, the invisible `payload`
    /// (hex) and the `generation_id` it carries (both `null` when off).
    pub watermark: WatermarkMeta,
    /// The content credentials MP4 and WAV outputs carry: `enabled`, the
    /// `signer`'s subject, whether it is the `local` identity, and whether
    /// the prompt is included (`enabled: false` when the pipeline turned
    /// them off, and for clips not made by a pipeline).
    pub credentials: CredentialsMeta,
    /// The manifest and signing identity behind `credentials`, used when the
    /// clip is saved (not part of the JSON; `None` when off).
    #[serde(skip)]
    pub signing: Option<ClipCredentials>,
}

impl ClipMeta {
    /// The metadata as one JSON object (what `sora generate --json` prints).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// A generated clip.
#[derive(Debug, Clone)]
pub struct Clip {
    /// RGB frames `[T, H, W, 3]`.
    pub frames: Array4<u8>,
    /// Audio `[channels, samples]` in [-1, 1], if the family generated any
    /// (or carried the source clip's, see [`super::VideoInput`]).
    pub audio: Option<Array2<f32>>,
    /// Frames per second.
    pub fps: f32,
    /// Audio sample rate in Hz (0 when there is no audio).
    pub sample_rate: u32,
    /// How the clip was made.
    pub meta: ClipMeta,
}

impl Clip {
    /// Writes the clip by the extension of `path`: `.mp4` (video + audio track),
    /// `.wav` (audio only), `.png` … or a folder path (no extension) for a PNG
    /// sequence `0000.png, 0001.png, …`. Nothing partial is left on failure.
    /// MP4 and WAV files carry the clip's content credentials (a signed C2PA
    /// manifest) when its pipeline made them (`meta.signing`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        io::save_clip(self, path.as_ref())
    }

    /// The clip's metadata as one JSON object.
    pub fn meta_json(&self) -> String {
        self.meta.to_json()
    }
}

impl io::ClipData for Clip {
    fn frame_data(&self) -> ArrayView4<'_, u8> {
        self.frames.view()
    }
    fn frame_rate(&self) -> f32 {
        self.fps
    }
    fn audio_data(&self) -> Option<(ArrayView2<'_, f32>, u32)> {
        self.audio.as_ref().map(|a| (a.view(), self.sample_rate))
    }
    fn credentials(&self) -> Option<&ClipCredentials> {
        self.meta.signing.as_ref()
    }
}
