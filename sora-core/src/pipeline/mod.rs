//! The pipeline: loads a model folder through the family registry, checks a
//! request against the family's rules and the memory budget, and runs it:
//! the family's conditioning, the one denoising walk (`crate::denoise`), and
//! the decode into memory or straight into a file.

pub mod clip;
pub mod default_model;
pub mod extend;
pub mod folder_defaults;
mod heap;
mod inputs;
pub mod longform;
pub mod noise;
mod options;
pub mod param_spec;
pub mod params;
pub mod progress;
pub mod request;
pub mod shape;
pub(crate) mod sink;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use clip::{Clip, ClipMeta, Timings};
pub use noise::Noise;
pub use options::{parse_vae_frame_tiling, parse_vae_tiling, PIPELINE_OPTIONS};
pub use param_spec::GivenParam;
pub use param_spec::{ParamKind, ParamRange, ParamSpec, ParamValue};
pub use params::{common_param, describe_params, COMMON_PARAMS, GUIDANCE_SCALE_2};
pub use progress::{CancelToken, Phase, Progress, StepCallback, StepInfo};
pub use request::{
    Defaults, FrameCondition, ImageInput, InputSource, Mode, Request, Resolved, SourceAudio,
    VideoInput, DEFAULT_STRENGTH,
};
pub use shape::{Aspect, Fit, Resolution, SizeGrid};
pub use sink::FileSink;

pub use crate::io::WriteOptions;

pub use crate::denoise::Latents;

use crate::denoise::walk::{self, WalkOptions};
use crate::estimate::{self, MemoryEstimate};
use crate::family::{self, MemoryOptions, ModelFamily};
use crate::io::ClipSpec;
use crate::nn::offload::Offload;
use crate::nn::tiling::{FrameTiling, VaeTiling};
use crate::physics::{
    plausibility_penalty, PhysicsCandidate, PhysicsPolicy, PhysicsReport, ScoreInput,
};
use crate::safety::credentials::{GenerationAssertion, ManifestInputs};
use crate::safety::guard::{RegistrySource, SafetySettings};
use crate::safety::identity::IdentityCheck;
use crate::safety::policy::generation_id;
use crate::safety::{ClipCredentials, Marker, SigningIdentity, WatermarkPolicy, WatermarkSettings};
use crate::weights::ModelFolder;
use crate::{Device, Dtype, Error, Result};
use longform::LongformPlan;
use sink::{ArraySink, Marked, Output, Reporting, Skipping};

/// Builds a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineBuilder {
    model: Option<PathBuf>,
    device: Device,
    dtype: Dtype,
    threads: Option<usize>,
    speed: WalkOptions,
    memory: MemoryOptions,
    budget_mb: Option<u64>,
    physics: PhysicsPolicy,
    /// Lets offload run on the CPU (tests of the copies; see [`PipelineBuilder::offload_on_cpu`]).
    offload_on_cpu: bool,
    /// The prompt gate's registry (read at build), owner key and identity check.
    registry: Option<RegistrySource>,
    safety: SafetySettings,
    watermark: WatermarkSettings,
    credentials: CredentialOptions,
}

/// The builder's content-credential options (see `PipelineBuilder::credentials`).
#[derive(Debug, Clone)]
struct CredentialOptions {
    enabled: bool,
    identity: Option<Arc<SigningIdentity>>,
    sign_cert: Option<PathBuf>,
    sign_key: Option<PathBuf>,
    include_prompt: bool,
}

impl Default for CredentialOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            identity: None,
            sign_cert: None,
            sign_key: None,
            include_prompt: false,
        }
    }
}

impl CredentialOptions {
    /// The identity that signs this pipeline's clips (`None`: credentials
    /// off): the one given, the files given (read and checked now), else
    /// the process's local identity.
    fn load(&self) -> Result<Option<Arc<SigningIdentity>>> {
        if !self.enabled {
            if self.identity.is_some() || self.sign_cert.is_some() || self.sign_key.is_some() {
                return Err(Error::invalid(
                    "content credentials are off, so a signing certificate or key would not be \
                     used: leave out sign_cert/sign_key, or turn credentials on",
                ));
            }
            return Ok(None);
        }
        if let Some(id) = &self.identity {
            return Ok(Some(id.clone()));
        }
        match (&self.sign_cert, &self.sign_key) {
            (Some(c), Some(k)) => Ok(Some(Arc::new(SigningIdentity::from_files(c, k)?))),
            (Some(_), None) => Err(Error::invalid(
                "a signing certificate (sign_cert) was given without its private key (sign_key)",
            )),
            (None, Some(_)) => Err(Error::invalid(
                "a signing key (sign_key) was given without its certificate chain (sign_cert)",
            )),
            (None, None) => Ok(Some(SigningIdentity::local()?)),
        }
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            model: None,
            device: Device::Cpu,
            dtype: Dtype::F32,
            threads: None,
            speed: WalkOptions::default(),
            memory: MemoryOptions::default(),
            budget_mb: None,
            offload_on_cpu: false,
            physics: PhysicsPolicy::Off,
            registry: None,
            safety: SafetySettings::default(),
            watermark: WatermarkSettings::default(),
            credentials: CredentialOptions::default(),
        }
    }
}

impl PipelineBuilder {
    /// The diffusers-format model folder (the family is detected from
    /// `model_index.json`). Without one, the pipeline loads the embedded
    /// default model ([`default_model`]).
    pub fn model(mut self, path: impl AsRef<Path>) -> Self {
        self.model = Some(path.as_ref().to_path_buf());
        self
    }
    /// The device to run on.
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }
    /// The dtype of the weights and activations.
    pub fn dtype(mut self, dtype: Dtype) -> Self {
        self.dtype = dtype;
        self
    }
    /// Intra-op CPU threads (LibTorch's `set_num_threads`; process-wide).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Runs classifier-free guidance's two branches as one batched forward (on
    /// by default; off runs them one after the other, as diffusers does, using
    /// less memory).
    pub fn batch_guidance(mut self, on: bool) -> Self {
        self.speed.batch_guidance = on;
        self
    }

    /// Step caching (first-block cache): from one denoising step to the next,
    /// skip all transformer blocks but the first and reuse their cached
    /// residual while the first block's residual changed relatively less than
    /// `threshold` (e.g. 0.05–0.2; 0 computes every step, `None` turns it off,
    /// the default). A finite threshold ≥ 0 is checked by [`PipelineBuilder::build`].
    pub fn step_cache(mut self, threshold: impl Into<Option<f32>>) -> Self {
        self.speed.step_cache = threshold.into();
        self
    }

    /// The experimental motion guidance of the late denoising steps
    /// ([`crate::denoise::motion`]), off (`None`) by default. Its settings are
    /// checked by [`PipelineBuilder::build`]; a family whose latents it cannot
    /// work on fails the run with [`Error::Unsupported`].
    pub fn motion_guidance(mut self, guidance: Option<crate::denoise::MotionGuidance>) -> Self {
        self.speed.motion_guidance = guidance;
        self
    }

    /// The memory a generation may use, in MiB, on the run's device: a request
    /// whose estimate exceeds it is refused with [`Error::OutOfMemory`] before
    /// anything is allocated. Without it: on the CPU the memory the OS reports
    /// available plus the pipeline's resident weights; on CUDA no check.
    pub fn memory_budget_mb(mut self, mb: u64) -> Self {
        self.budget_mb = Some(mb);
        self
    }

    /// Releases the text encoder after encoding (its weights dropped on the
    /// CPU, parked in host memory on a GPU and copied to it only while a
    /// prompt is encoded) and brings it back when a prompt
    /// not seen before needs encoding. Prompt embeddings are cached either way
    /// (the last few prompts), so a repeated prompt never runs the encoder.
    pub fn offload_text_encoder(mut self, on: bool) -> Self {
        self.memory.offload_text_encoder = on;
        self
    }

    /// Decodes the video in overlapping spatial tiles, each with its own
    /// causal cache, blended as diffusers' `enable_tiling` does (same values),
    /// so the decoder's activations are those of one tile. `None` (the
    /// default) decodes whole frames. Sizes are checked against the model's
    /// VAE by [`PipelineBuilder::build`] ([`Error::InvalidRequest`]).
    pub fn vae_tiling(mut self, tiling: Option<VaeTiling>) -> Self {
        self.memory.vae_tiling = tiling;
        self
    }

    /// Decodes the video in overlapping time windows (diffusers'
    /// `use_framewise_decoding`, default 16 frames every 8), each blended with
    /// the previous one and handed to the output as it is made, so the
    /// decoder's activations are those of one window whatever the clip's
    /// length. LTX-2 only: [`PipelineBuilder::build`] refuses it for a family
    /// whose VAE decodes frame by frame already (Wan). `None` (the default)
    /// decodes the clip's whole time at once.
    pub fn vae_frame_tiling(mut self, tiling: Option<FrameTiling>) -> Self {
        self.memory.vae_frame_tiling = tiling;
        self
    }

    /// Weight offload for GPUs too small for the whole model (diffusers'
    /// `enable_model_cpu_offload` / `enable_sequential_cpu_offload`): the
    /// weights are loaded into host memory and copied to the GPU only while
    /// used — per component and phase ([`Offload::Model`]: the GPU holds the
    /// largest component instead of all), or, for the transformer and the
    /// text encoder, block by block within each forward
    /// ([`Offload::Sequential`]: the GPU holds one block, and every step
    /// copies the whole transformer). Same frames as
    /// without. On the CPU the weights are in host memory already, so
    /// [`PipelineBuilder::build`] refuses it there ([`Error::Unsupported`]).
    pub fn offload(mut self, offload: Offload) -> Self {
        self.memory.offload = offload;
        self
    }

    /// What to do with each clip's physics report ([`PhysicsPolicy`]): nothing
    /// (the default), attach it to the clip's metadata (`Report`), or
    /// generate N seeds and keep the most plausible (`Rerank(N)`; see
    /// [`crate::physics::plausibility_penalty`]).
    pub fn physics(mut self, policy: PhysicsPolicy) -> Self {
        self.physics = policy;
        self
    }

    /// The consent registry and protected-character list of the prompt gate
    /// (a JSON file, read and checked by [`PipelineBuilder::build`], or a
    /// [`crate::safety::registry::Registry`]): every request's prompt is
    /// checked before any compute, and refused with [`Error::ConsentRequired`]
    /// or [`Error::ProtectedContent`]. Without one (the default) every
    /// prompt passes.
    pub fn safety_registry(mut self, registry: impl Into<RegistrySource>) -> Self {
        self.registry = Some(registry.into());
        self
    }

    /// This pipeline's owner key: consents in the registry are granted to an
    /// owner key, and only a pipeline with that key can use them.
    pub fn owner_key(mut self, key: impl Into<String>) -> Self {
        self.safety.owner = Some(key.into());
        self
    }

    /// A face (or other) recogniser run on input images and video and on
    /// every chunk of generated frames ([`IdentityCheck`]); none by default.
    pub fn identity_check(mut self, check: std::sync::Arc<dyn IdentityCheck>) -> Self {
        self.safety.identity = Some(check);
        self
    }

    /// Turns the clip watermarks on (the default: invisible marks in frames
    /// and audio plus the visible moving mark) or off
    /// ([`WatermarkPolicy::Off`]: the raw model output, for tests that
    /// compare with a reference implementation and for research — not for
    /// clips that are published). Recorded in [`ClipMeta::watermark`].
    pub fn watermarks(mut self, policy: WatermarkPolicy) -> Self {
        self.watermark.policy = policy;
        self
    }

    /// Leaves out the visible moving watermark; the invisible marks stay,
    /// and the clip's metadata and payload flags record that the visible
    /// one was turned off.
    pub fn no_visible_watermark(mut self) -> Self {
        self.watermark.visible = false;
        self
    }

    /// A creator handle shown after the visible mark's logo (letters,
    /// digits and `@ _ . -`; other characters are left out).
    pub fn watermark_handle(mut self, handle: impl Into<String>) -> Self {
        self.watermark.handle = Some(handle.into());
        self
    }

    /// Content credentials on (the default) or off. On, every MP4 and WAV
    /// output of the pipeline's clips (`generate_to_file`, `Clip::save`)
    /// carries a signed C2PA manifest: the creation as
    /// `trainedAlgorithmicMedia`, the model and settings, the watermarks and
    /// the hashes of the consents used (`crate::safety::credentials`).
    /// Signed by the identity given with [`PipelineBuilder::signing_identity`]
    /// or [`PipelineBuilder::sign_with_files`], else by the process's local,
    /// untrusted identity. Off is recorded in [`ClipMeta::credentials`].
    pub fn credentials(mut self, on: bool) -> Self {
        self.credentials.enabled = on;
        self
    }

    /// Turns content credentials off (see [`PipelineBuilder::credentials`]).
    pub fn no_credentials(self) -> Self {
        self.credentials(false)
    }

    /// Signs content credentials with `identity` instead of the local one.
    pub fn signing_identity(mut self, identity: Arc<SigningIdentity>) -> Self {
        self.credentials.identity = Some(identity);
        self
    }

    /// Signs content credentials with a PEM certificate chain and PKCS#8 PEM
    /// private key read from files by [`PipelineBuilder::build`] (which
    /// checks them: [`SigningIdentity::from_files`]).
    pub fn sign_with_files(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.credentials.sign_cert = Some(cert.as_ref().to_path_buf());
        self.credentials.sign_key = Some(key.as_ref().to_path_buf());
        self
    }

    /// Embeds the prompt and negative prompt in the content credentials
    /// (off by default: the manifest then says only that they were left
    /// out; anyone who gets the file can read a manifest).
    pub fn credentials_prompt(mut self, on: bool) -> Self {
        self.credentials.include_prompt = on;
        self
    }

    /// Runs offload on the CPU too, where it only makes copies: for tests
    /// of the offload paths on machines without a GPU, not for users.
    #[doc(hidden)]
    pub fn offload_on_cpu(mut self) -> Self {
        self.offload_on_cpu = true;
        self
    }

    /// The memory estimate of `req` for the pipeline this builder would load
    /// (its device, dtype, speed and memory options), from the folder's
    /// configs and safetensors headers alone: nothing is loaded, and the
    /// loading phase is included ([`estimate::estimate_folder`]).
    pub fn estimate(&self, req: &Request) -> Result<MemoryEstimate> {
        let path = match &self.model {
            Some(p) => p.clone(),
            None => default_model::folder()?,
        };
        estimate::estimate_folder(&path, req, &self.estimate_options())
    }

    /// The estimate's view of this builder's options.
    fn estimate_options(&self) -> estimate::EstimateOptions {
        estimate::EstimateOptions {
            device: self.device,
            dtype: self.dtype,
            batch_guidance: self.speed.batch_guidance,
            offload_text_encoder: self.memory.offload_text_encoder,
            step_cache: self.speed.step_cache.is_some(),
            offload: self.memory.offload,
            vae_tiling: self.memory.vae_tiling,
            vae_frame_tiling: self.memory.vae_frame_tiling,
        }
    }

    /// Loads the model.
    pub fn build(self) -> Result<Pipeline> {
        let started = Instant::now();
        let rss_before_load_mb = rss_mb();
        let estimate_options = self.estimate_options();
        let path = match self.model {
            Some(p) => p,
            None => default_model::folder()?,
        };
        if let Some(t) = self.speed.step_cache {
            crate::nn::step_cache::check_threshold(t)?;
        }
        if let Some(g) = &self.speed.motion_guidance {
            g.check()?;
        }
        if let Some(n) = self.threads {
            if n == 0 {
                return Err(Error::invalid("threads must be at least 1"));
            }
            tch::set_num_threads(n as i32);
        }
        self.device.check()?;
        if self.memory.offload.is_on() && self.device == Device::Cpu && !self.offload_on_cpu {
            return Err(Error::Unsupported(format!(
                "offload `{}` keeps the weights in host memory and copies them to a GPU while \
                 they are used; on the CPU they are in host memory already: use a CUDA device, \
                 or leave offload off (offload_text_encoder releases the text encoder on the CPU)",
                self.memory.offload
            )));
        }
        let mut safety = self.safety;
        if let Some(source) = &self.registry {
            safety.registry = Some(source.load()?);
        }
        let signer = self.credentials.load()?;
        let folder = ModelFolder::open(&path)?;
        let fam = family::load(&folder, self.device, self.dtype, &self.memory)?;
        Ok(Pipeline {
            path,
            device: self.device,
            dtype: self.dtype,
            speed: self.speed,
            estimate_options,
            memory: self.memory,
            budget_mb: self.budget_mb,
            physics: self.physics,
            safety,
            watermark: self.watermark,
            signer,
            credentials_prompt: self.credentials.include_prompt,
            rss_before_load_mb,
            family: Mutex::new(fam),
            load_s: started.elapsed().as_secs_f64(),
            load_reported: Mutex::new(false),
        })
    }
}

/// A loaded model ready to generate clips. Runs on one pipeline are serialised.
pub struct Pipeline {
    path: PathBuf,
    physics: PhysicsPolicy,
    safety: SafetySettings,
    watermark: WatermarkSettings,
    /// Who signs the clips' content credentials (`None`: off).
    signer: Option<Arc<SigningIdentity>>,
    credentials_prompt: bool,
    device: Device,
    dtype: Dtype,
    speed: WalkOptions,
    estimate_options: estimate::EstimateOptions,
    memory: MemoryOptions,
    budget_mb: Option<u64>,
    rss_before_load_mb: f64,
    family: Mutex<Box<dyn ModelFamily>>,
    load_s: f64,
    load_reported: Mutex<bool>,
}

/// The family's estimate of `req` (`None` when the family has none), refused
/// with [`Error::OutOfMemory`] when it exceeds the budget: `explicit` when
/// given, else [`estimate::default_budget_mb`].
fn check_budget(
    fam: &dyn ModelFamily,
    req: &Resolved,
    opts: &estimate::EstimateOptions,
    explicit: Option<u64>,
    device: Device,
) -> Result<Option<MemoryEstimate>> {
    let est = match fam.estimate(req, opts) {
        Ok(e) => e,
        Err(Error::Unsupported(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(budget) = explicit.or_else(|| estimate::default_budget_mb(device, est.held_mb)) {
        est.check(budget)?;
    }
    Ok(Some(est))
}

/// The physics report of a clip in memory.
fn score_clip(clip: &Clip) -> Result<PhysicsReport> {
    crate::physics::score(&ScoreInput {
        frames: clip.frames.view(),
        fps: clip.fps,
        audio: clip.audio.as_ref().map(|a| a.view()),
        sample_rate: clip.sample_rate,
        reference: None,
    })
}

/// An extension's start: the clip's own frames, unchanged and unmarked
/// (they are not generated), written straight to the output; returns how
/// many decoded frames to drop then (the overlap, which those frames
/// already are). Nothing for another mode.
fn write_source<S: Output>(
    sink: &mut Marked<S>,
    plan: Option<&extend::ExtendPlan>,
    mode: &Mode,
) -> Result<usize> {
    let (Some(plan), Mode::Extend { clip, .. }) = (plan, mode) else {
        return Ok(0);
    };
    let s = clip.frames.shape();
    let data = clip.frames.as_standard_layout();
    let source = tch::Tensor::f_from_slice(data.as_slice().unwrap_or(&[]))?.f_view([
        s[0] as i64,
        s[1] as i64,
        s[2] as i64,
        s[3] as i64,
    ])?;
    sink.inner.frames(source)?;
    Ok(plan.overlap as usize)
}

/// Writes a clip in memory through a file sink (frames, then audio).
fn write_clip(sink: &mut FileSink, clip: &Clip) -> Result<()> {
    use crate::family::FrameSink;
    let s = clip.frames.shape();
    let data = clip
        .frames
        .as_slice()
        .ok_or_else(|| Error::Numeric("the clip's frames are not contiguous".into()))?;
    let frames =
        tch::Tensor::f_from_slice(data)?.f_view([s[0] as i64, s[1] as i64, s[2] as i64, 3])?;
    sink.frames(frames)?;
    if let Some(a) = &clip.audio {
        let sa = a.shape();
        let samples = a
            .as_slice()
            .ok_or_else(|| Error::Numeric("the clip's audio is not contiguous".into()))?;
        let audio = tch::Tensor::f_from_slice(samples)?.f_view([sa[0] as i64, sa[1] as i64])?;
        sink.audio(audio, clip.sample_rate)?;
    }
    Ok(())
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

/// Resident memory of this process now in MiB (Linux `VmRSS`; 0 elsewhere).
pub fn rss_mb() -> f64 {
    status_kb("VmRSS:") / 1024.0
}

fn status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

impl Pipeline {
    /// The `org.sora.generation` assertion of a run.
    fn generation_assertion(
        &self,
        family: &str,
        r: &Resolved,
        meta: &ClipMeta,
    ) -> GenerationAssertion {
        let include = self.credentials_prompt;
        GenerationAssertion {
            generator: format!("sora {}", crate::version()),
            family: family.to_string(),
            model: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            mode: r.mode.name().to_string(),
            prompt: include.then(|| r.prompt.clone()),
            negative_prompt: include.then(|| r.negative_prompt.clone()),
            prompt_included: include,
            seed: r.seed,
            steps: r.steps,
            guidance: r.guidance,
            guidance_2: r.guidance_2,
            width: r.width,
            height: r.height,
            frames: r.frames,
            fps: r.fps,
            audio: r.audio,
            params: r
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
            generation_id: format!("{:012x}", generation_id(family, r)),
            watermark: meta.watermark.clone(),
        }
    }

    /// Starts building a pipeline.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The model folder.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The family's name (e.g. `wan`).
    pub fn family(&self) -> String {
        self.lock()
            .map(|f| f.name().to_string())
            .unwrap_or_default()
    }

    /// The family's defaults for unset request fields.
    pub fn defaults(&self) -> Result<Defaults> {
        Ok(self.lock()?.rules().defaults())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Box<dyn ModelFamily>>> {
        self.family
            .lock()
            .map_err(|_| Error::Device("a previous run panicked; rebuild the pipeline".into()))
    }

    /// Resolves `req` against the family's defaults and rules without running
    /// it, including the limits on what the model can compute
    /// ([`crate::family::Rules::check_run`]).
    pub fn resolve(&self, req: &Request) -> Result<Resolved> {
        let fam = self.lock()?;
        let r = fam.rules().resolve(req)?;
        fam.rules().check_run(&r)?;
        Ok(r)
    }

    /// The memory `req` needs from here on, on the run's device, computed
    /// without allocating (the weights already loaded count as resident).
    pub fn estimate(&self, req: &Request) -> Result<MemoryEstimate> {
        let fam = self.lock()?;
        let r = fam.rules().resolve(req)?;
        fam.estimate(&r, &self.estimate_options)
    }

    /// The budget `estimate` is checked against by [`Pipeline::generate`]:
    /// the one given to the builder, else on the CPU the available memory
    /// plus what the pipeline holds of the estimate, else (CUDA) none.
    pub fn memory_budget_mb(&self, estimate: &MemoryEstimate) -> Option<u64> {
        self.budget_mb
            .or_else(|| estimate::default_budget_mb(self.device, estimate.held_mb))
    }

    /// Generates a clip in memory. Same request and seed give the same bytes
    /// on CPU. The frames are decoded chunk by chunk into one buffer sized for
    /// the clip (held once); for long clips prefer
    /// [`Pipeline::generate_to_file`], which never holds them at all. A
    /// request whose memory estimate exceeds the budget is refused with
    /// [`Error::OutOfMemory`] before anything is encoded.
    ///
    /// The prompt gate runs first: with a safety registry, a prompt naming a
    /// registered person without a valid consent is refused with
    /// [`Error::ConsentRequired`], a protected character with
    /// [`Error::ProtectedContent`] (and an identity check, if any, looks at
    /// the input media and at every decoded chunk).
    pub fn generate(&self, req: &Request, progress: &mut Progress) -> Result<Clip> {
        self.safety.check_request(req)?;
        match self.physics {
            PhysicsPolicy::Off => self.generate_plain(req, progress),
            PhysicsPolicy::Report => {
                let mut clip = self.generate_plain(req, progress)?;
                clip.meta.physics = Some(score_clip(&clip)?);
                Ok(clip)
            }
            PhysicsPolicy::Rerank(n) => self.rerank(req, progress, n),
        }
    }

    /// [`PhysicsPolicy::Rerank`]: `n` clips from the request's seed and the
    /// next ones, the lowest [`plausibility_penalty`] kept (ties keep the
    /// earlier seed); every candidate in `meta.physics_candidates`.
    fn rerank(&self, req: &Request, progress: &mut Progress, n: u32) -> Result<Clip> {
        let base = self.resolve(req)?.seed;
        let mut best: Option<(f64, Clip)> = None;
        let mut candidates = Vec::with_capacity(n as usize);
        for k in 0..u64::from(n) {
            let seed = base.wrapping_add(k);
            let mut clip = self.generate_plain(&req.clone().seed(seed), progress)?;
            let report = score_clip(&clip)?;
            let penalty = plausibility_penalty(&report);
            candidates.push(PhysicsCandidate {
                seed,
                penalty,
                report: report.clone(),
            });
            if best.as_ref().map_or(true, |(b, _)| penalty < *b) {
                clip.meta.physics = Some(report);
                best = Some((penalty, clip));
            }
        }
        let (_, mut clip) =
            best.ok_or_else(|| Error::invalid("physics rerank needs at least one candidate"))?;
        clip.meta.physics_candidates = candidates;
        Ok(clip)
    }

    /// One generation in memory, with no physics policy.
    fn generate_plain(&self, req: &Request, progress: &mut Progress) -> Result<Clip> {
        let (sink, meta) = self.run(req, progress, |r| {
            ArraySink::new(r.width, r.height, r.frames)
        })?;
        let (frames, audio, sample_rate) = sink.into_parts()?;
        Ok(Clip {
            frames,
            audio,
            fps: meta.fps as f32,
            sample_rate,
            meta,
        })
    }

    /// Generates a clip straight into a file or folder, decoding and writing
    /// chunk by chunk so that memory does not grow with the clip's length
    /// (beyond its latents, which the decoder reads from). The format is
    /// chosen by the extension of `path` with the rules of [`Clip::save`]:
    /// `.mp4` (H.264 encoded frame by frame as decoded into a temporary spool
    /// file beside `path`, AAC audio or filler silence, muxed at the end),
    /// `.wav` (audio only), a folder path for
    /// `0000.png, 0001.png, …` written one by one, or `.png`/`.jpg` for a
    /// one-frame clip. The files are byte-identical to [`Pipeline::generate`]
    /// followed by [`Clip::save`].
    ///
    /// A path that cannot take the clip (unknown extension, missing folder,
    /// odd size for H.264, `.wav` without audio, an existing folder that is not
    /// a frame folder, …) is an error before any work. The output is staged
    /// under a temporary name and renamed into place only when complete: a
    /// failed or cancelled run ([`Error::Cancelled`], also from the progress
    /// callback during decoding, which reports [`Phase::Decode`] after every
    /// decoded chunk) leaves nothing behind.
    ///
    /// The prompt gate runs first, as for [`Pipeline::generate`]; an identity
    /// check refusing a decoded chunk stops the run and leaves nothing behind.
    ///
    /// Returns the clip's metadata (`peak_rss_mb` measured after writing).
    /// `timings.decode_s` and `total_s` exclude the time spent encoding and
    /// writing, as for [`Pipeline::generate`], whose timings do not include
    /// [`Clip::save`].
    ///
    /// An existing `path` is replaced only when it holds a previous sora
    /// output ([`crate::io::provenance`]); otherwise the run is refused with
    /// [`Error::InvalidRequest`] before any work (see
    /// [`Pipeline::generate_to_file_with`] to overwrite). A second run writing
    /// the same path at once is refused, naming the first's process.
    pub fn generate_to_file(
        &self,
        req: &Request,
        progress: &mut Progress,
        path: impl AsRef<Path>,
    ) -> Result<ClipMeta> {
        self.generate_to_file_with(req, progress, path, WriteOptions::default())
    }

    /// [`Pipeline::generate_to_file`] with [`WriteOptions`]: `overwrite`
    /// replaces an existing output that sora did not write (a folder still
    /// only when it holds nothing but PNG frames). Before any work the output
    /// path is locked, the temporaries of killed runs beside it are removed
    /// and its provenance is checked ([`crate::io::prepare_output`]).
    pub fn generate_to_file_with(
        &self,
        req: &Request,
        progress: &mut Progress,
        path: impl AsRef<Path>,
        options: WriteOptions,
    ) -> Result<ClipMeta> {
        let path = path.as_ref();
        self.safety.check_request(req)?;
        let _guard = crate::io::prepare_output(path, &options)?;
        let spec_of = |r: &Resolved| ClipSpec {
            width: r.width,
            height: r.height,
            frames: r.frames,
            fps: r.fps as f32,
            audio: r.has_audio_track(),
        };
        if self.physics.is_on() && crate::io::is_audio_only(path) {
            return Err(Error::invalid(format!(
                "{}: the physics report needs frames, and a .wav output has none \
                 (use physics off, or write .mp4 or a frame folder)",
                path.display()
            )));
        }
        if let PhysicsPolicy::Rerank(n) = self.physics {
            // The output is opened (and checked) before any work; the
            // candidates are made in memory and the best one is written.
            let mut sink = FileSink::create(path, &spec_of(&self.resolve(req)?))?;
            let clip = self.rerank(req, progress, n)?;
            progress.check()?;
            write_clip(&mut sink, &clip)?;
            sink.set_credentials(clip.meta.signing.clone());
            sink.finish()?;
            let mut meta = clip.meta;
            meta.peak_rss_mb = peak_rss_mb();
            return Ok(meta);
        }
        let (mut sink, mut meta) =
            self.run(req, progress, |r| FileSink::create(path, &spec_of(r)))?;
        // A cancel that arrives after the last decoded chunk still wins.
        progress.check()?;
        // MP4 and WAV outputs are signed before they are renamed into place.
        sink.set_credentials(meta.signing.clone());
        sink.finish()?;
        if self.physics == PhysicsPolicy::Report {
            // Scored from what was written (the frames are not kept while streaming).
            let media = crate::io::read_video(path)?;
            meta.physics = Some(crate::physics::score(&ScoreInput {
                frames: media.frames.view(),
                fps: meta.fps as f32,
                audio: media.audio.as_ref().map(|a| a.view()),
                sample_rate: media.sample_rate,
                reference: None,
            })?);
        }
        meta.peak_rss_mb = peak_rss_mb();
        Ok(meta)
    }

    /// The one generation loop: resolves and checks `req`, opens the output
    /// with `open` (before any work, so a bad output fails early), encodes,
    /// denoises and decodes into it.
    fn run<S: Output>(
        &self,
        req: &Request,
        progress: &mut Progress,
        open: impl FnOnce(&Resolved) -> Result<S>,
    ) -> Result<(S, ClipMeta)> {
        let mut fam = self.lock()?;
        let out = self.run_locked(&mut **fam, req, progress, open);
        // Offloaded weights go back to host memory whether the run finished or not.
        let released = fam.release_offloaded();
        let out = out?;
        released?;
        Ok(out)
    }

    fn run_locked<S: Output>(
        &self,
        fam: &mut dyn ModelFamily,
        req: &Request,
        progress: &mut Progress,
        open: impl FnOnce(&Resolved) -> Result<S>,
    ) -> Result<(S, ClipMeta)> {
        let _guard = tch::no_grad_guard();
        let r = fam.rules().resolve(req)?;
        // Limits on what the model can compute come before the budget: such a
        // request is invalid whatever the memory estimate says.
        fam.rules().check_run(&r)?;
        let extend_plan = r.extend_plan(|f| fam.rules().nearest_frames(f))?;
        let longform = fam.longform_plan(&r)?;
        if let (None, Some((first, _))) = (&longform, r.prompts_at.first()) {
            return Err(Error::Unsupported(format!(
                "timed prompts ({} given, the first at {first} s) need long-form generation, \
                 which the `{}` family does not have for this request (it is built for \
                 text-to-video and extension: Wan T2V and TI2V, LTX-2; and LTX-2 \
                 image-to-video); generate one window with one prompt, and continue it with \
                 extend (--extend CLIP --seconds N) under the next prompt",
                r.prompts_at.len(),
                fam.name()
            )));
        }
        let estimate = check_budget(fam, &r, &self.estimate_options, self.budget_mb, self.device)?;
        progress.check()?;
        let marker = Marker::new(&self.watermark, fam.name(), &r);
        let watermark = marker.as_ref().map(Marker::meta).unwrap_or_default();
        let mut sink = Marked {
            inner: open(&r)?,
            marker,
        };

        let expected = r.frames as usize;
        let t_start = Instant::now();
        let t_dec;
        let (text_s, denoise_s, walked, seen_consents) = if let Some(plan) = &longform {
            t_dec = Instant::now();
            // A long extension: the clip's frames first, as one walk's.
            let skip = write_source(&mut sink, extend_plan.as_ref(), &r.mode)?;
            let mut skipping = Skipping {
                inner: &mut sink,
                skip,
            };
            let out = self.run_windows(fam, &r, plan, &mut skipping, progress, req);
            // The decoder stream's caches go whether the run finished or not.
            fam.end_decode_stream();
            out?
        } else {
            let mut gen = fam.begin(&r)?;
            let text_s = t_start.elapsed().as_secs_f64();
            progress.report(Phase::Encode, 1, 1, t_start)?;

            let t_den = Instant::now();
            let mut noise = Noise::new(r.seed);
            let start = gen.start(&mut noise)?;
            let (x, walked) = walk::walk(gen.as_mut(), start, &self.speed, self.device, progress)?;
            let denoise_s = t_den.elapsed().as_secs_f64();

            t_dec = Instant::now();
            let skip = write_source(&mut sink, extend_plan.as_ref(), &r.mode)?;
            let mut skipping = Skipping {
                inner: &mut sink,
                skip,
            };
            let mut reporting = Reporting {
                sink: &mut skipping,
                progress: &mut *progress,
                total: expected,
                started: t_dec,
                identity: self
                    .safety
                    .checks_frames()
                    .then_some((&self.safety, req.consents.as_slice())),
                consents_used: Vec::new(),
            };
            gen.decode(x, &mut reporting)?;
            let seen = std::mem::take(&mut reporting.consents_used);
            (text_s, denoise_s, walked, seen)
        };
        let frames = sink.frames_received();
        if frames == 0 {
            return Err(Error::Numeric("the decoder produced no frames".into()));
        }
        // A family without audio of its own carries the source clip's track
        // (through the marker, so it is watermarked like generated audio):
        // under the source's frames of an extension, then silence; under the
        // whole of a video-to-video output, trimmed or padded with silence.
        if let Some(src) = r.carried_audio() {
            use crate::family::FrameSink as _;
            if !sink.has_audio() {
                let keep = match &r.mode {
                    Mode::Extend { clip, .. } => clip.frames.shape()[0],
                    _ => frames,
                };
                let track = src.fitted(keep, frames, f64::from(r.fps));
                if track.ncols() > 0 {
                    let (c, n) = track.dim();
                    let data = track.as_standard_layout();
                    let audio = tch::Tensor::f_from_slice(data.as_slice().unwrap_or(&[]))?
                        .f_view([c as i64, n as i64])?;
                    sink.audio(audio, src.sample_rate)?;
                }
            }
        }
        if frames < expected {
            // Fewer frames than expected: still end with a complete decode event.
            progress.report(Phase::Decode, frames, frames, t_dec)?;
        }
        let write_s = sink.write_s();
        let decode_s = t_dec.elapsed().as_secs_f64() - write_s;
        let total_s = t_start.elapsed().as_secs_f64() - write_s;
        let load_s = {
            let mut reported = self.load_reported.lock().unwrap_or_else(|p| p.into_inner());
            let v = if *reported { 0.0 } else { self.load_s };
            *reported = true;
            v
        };
        let meta = ClipMeta {
            model: self.path.display().to_string(),
            family: fam.name().to_string(),
            mode: r.mode.name().to_string(),
            prompt: r.prompt.clone(),
            negative_prompt: r.negative_prompt.clone(),
            seed: r.seed,
            steps: r.steps,
            guidance: r.guidance,
            guidance_2: r.guidance_2,
            width: r.width,
            height: r.height,
            frames: frames as u32,
            fps: r.fps,
            device: self.device.to_string(),
            dtype: self.dtype.to_string(),
            has_audio: sink.has_audio(),
            sora_version: crate::version().to_string(),
            timings: Timings {
                load_s,
                text_s,
                denoise_s,
                decode_s,
                total_s,
                steps_s: walked.steps_s,
            },
            peak_rss_mb: peak_rss_mb(),
            step_cache: walked.step_cache,
            rss_before_load_mb: self.rss_before_load_mb,
            estimated_peak_mb: estimate.map(|e| e.total_mb),
            text_embeddings_cached: fam.text_from_cache(),
            offload: self.memory.offload.to_string(),
            vae_tiling: self.memory.vae_tiling.map(|t| t.to_array()),
            vae_frame_tiling: self.memory.vae_frame_tiling.map(|t| t.to_array()),
            motion_guidance: self.speed.motion_guidance.map(|g| g.to_text()),
            long_form: longform.as_ref().map(|p| p.meta(&r)),
            physics: None,
            physics_candidates: Vec::new(),
            watermark,
            credentials: Default::default(),
            signing: None,
        };
        let mut meta = meta;
        if let Some(identity) = &self.signer {
            let manifest = ManifestInputs {
                generation: self.generation_assertion(fam.name(), &r, &meta),
                consents: self.safety.consent_hashes(req, &seen_consents),
            };
            let signing = ClipCredentials {
                manifest,
                identity: identity.clone(),
            };
            meta.credentials = signing.meta();
            meta.signing = Some(signing);
        }
        Ok((sink.inner, meta))
    }

    /// Long-form generation ([`longform`]): the windows of `plan` one by one,
    /// each a walk holding the previous window's latent tail (crossfaded over
    /// the overlap), each decoded into `sink` as it finishes by one decoder
    /// stream that lives across windows. Returns the seconds spent encoding
    /// text and walking, the walks' steps, and the consents the identity
    /// check relied on.
    fn run_windows<S: Output>(
        &self,
        fam: &mut dyn ModelFamily,
        r: &Resolved,
        plan: &LongformPlan,
        sink: &mut S,
        progress: &mut Progress,
        req: &Request,
    ) -> Result<(f64, f64, walk::WalkReport, Vec<String>)> {
        // Window after window of the same buffers: keep the heap from
        // fragmenting, so that the peak does not creep up with the length.
        heap::fix_mmap_threshold();
        let (mut text_s, mut denoise_s) = (0.0, 0.0);
        let mut steps_s = Vec::new();
        let mut step_cache = None;
        let mut consents = Vec::new();
        let mut tail: Option<Latents> = None;
        let started = Instant::now();
        let count = plan.windows.len();
        for (i, w) in plan.windows.iter().enumerate() {
            let rw = plan.window_request(r, i)?;
            let t_text = Instant::now();
            let mut gen = fam.begin(&rw)?;
            text_s += t_text.elapsed().as_secs_f64();
            progress.report(Phase::Encode, i + 1, count, started)?;
            if let Some(t) = tail.take() {
                gen.hold_leading(t)?;
            }
            let t_den = Instant::now();
            let mut noise = Noise::new(rw.seed);
            let start = gen.start(&mut noise)?;
            let (x, walked) = walk::walk(gen.as_mut(), start, &self.speed, self.device, progress)?;
            let x = gen.window_latents(x)?;
            drop(gen);
            denoise_s += t_den.elapsed().as_secs_f64();
            steps_s.extend(walked.steps_s);
            if walked.step_cache.is_some() {
                step_cache = walked.step_cache;
            }
            let lat = x.video;
            let (len, keep) = (i64::from(w.latent_len), i64::from(w.decoded));
            if lat.size().get(2) != Some(&len) {
                return Err(Error::Numeric(format!(
                    "long-form window {i} made {:?} latents, {len} latent frames expected",
                    lat.size()
                )));
            }
            // A joint family's audio latents, cut by the window's audio span.
            let audio = match (x.audio, w.audio) {
                (Some(a), Some(span)) => {
                    if a.size().get(1) != Some(&i64::from(span.len)) {
                        return Err(Error::Numeric(format!(
                            "long-form window {i} made {:?} audio latents, {} expected",
                            a.size(),
                            span.len
                        )));
                    }
                    Some((a, span))
                }
                _ => None,
            };
            if let Some(next) = plan.windows.get(i + 1) {
                // The next window holds this one's tail (copies: the window's
                // latents are dropped once decoded).
                let k = i64::from(plan.overlap);
                let video = lat.f_narrow(2, len - k, k)?.f_detach_copy()?;
                let held_audio = match (&audio, next.audio) {
                    (Some((a, span)), Some(n)) if n.held > 0 => Some(
                        a.f_narrow(1, i64::from(span.decoded), i64::from(n.held))?
                            .f_detach_copy()?,
                    ),
                    _ => None,
                };
                tail = Some(Latents {
                    video,
                    audio: held_audio,
                });
            }
            let part = Latents {
                video: lat.f_narrow(2, 0, keep)?,
                audio: match &audio {
                    Some((a, span)) if r.audio => {
                        Some(a.f_narrow(1, 0, i64::from(span.decoded))?)
                    }
                    _ => None,
                },
            };
            let mut reporting = Reporting {
                sink: &mut *sink,
                progress: &mut *progress,
                total: r.frames as usize,
                started,
                identity: self
                    .safety
                    .checks_frames()
                    .then_some((&self.safety, req.consents.as_slice())),
                consents_used: std::mem::take(&mut consents),
            };
            fam.decode_continued(&rw, &part, i + 1 == count, &mut reporting)?;
            consents = std::mem::take(&mut reporting.consents_used);
        }
        let walked = walk::WalkReport {
            steps_s,
            step_cache,
        };
        Ok((text_s, denoise_s, walked, consents))
    }
}
