//! The Wan family glue: loads the folder's components and plugs them into the
//! shared denoising walk as diffusers' `WanPipeline`, `WanImageToVideoPipeline`
//! and `WanVideoToVideoPipeline` do (same noise order, same timesteps, same
//! guidance): [`WanFamily`] encodes a request into a [`WanGeneration`], whose
//! plan is classifier-free guidance on the step's expert.

use std::collections::BTreeMap;

use serde::Deserialize;
use tch::{Device as TchDevice, Kind, Tensor};

use super::image_encoder::WanImageEncoder;
use super::limits::PositionLimits;
use super::memory::{Residency, WanSpec};
use super::preprocess::{frames_to_tensor, image_to_tensor};
use super::rules::{SizeRule, WanRules, MAX_SEQUENCE_LENGTH};
use super::text_encoder::WanTextEncoder;
use super::transformer::{CrossAttnKv, WanTransformer};
use super::vae::{DecodeStream, WanVae};
use crate::denoise::held::{HeldFrames, Hold};
use crate::denoise::latents::Latents;
use crate::denoise::plan::{GuidancePlan, COND, UNCOND};
use crate::denoise::walk::{Schedulers, Start, Step};
use crate::estimate::{EstimateOptions, MemoryEstimate};
use crate::family::{FrameSink, Generation, MemoryOptions, ModelFamily, Rules};
use crate::nn::offload::{Offload, Uploaded};
use crate::nn::step_cache::{BranchId, BranchKey, CachedStep};
use crate::pipeline::longform::LongformPlan;
use crate::pipeline::noise::Noise;
use crate::pipeline::request::{Mode, Resolved};
use crate::sampler::{self, Scheduler};
use crate::text::cache::EmbeddingCache;
use crate::weights::{ModelFolder, WeightReport};
use crate::{Device, Dtype, Error, Result};

/// Pipeline-level fields of `model_index.json`.
#[derive(Debug, Deserialize, Default)]
struct WanIndex {
    #[serde(default)]
    boundary_ratio: Option<f64>,
    #[serde(default)]
    expand_timesteps: bool,
}

#[derive(Debug, Deserialize)]
struct SchedulerBasics {
    #[serde(default = "default_train_steps")]
    num_train_timesteps: f64,
}

fn default_train_steps() -> f64 {
    1000.0
}

/// A loaded Wan model.
pub struct WanFamily {
    folder: ModelFolder,
    /// The run device in tch's terms: noise, latents and every tensor made
    /// while generating live there (under offload the weights wait in host
    /// memory instead, and are copied here while used).
    device: TchDevice,
    run_device: Device,
    dtype: Dtype,
    /// `None` while released (`offload_text_encoder` on the CPU). On a GPU
    /// that option parks it in host memory instead ([`WanTextEncoder::park`]).
    text: Option<WanTextEncoder>,
    /// Prompt embeddings per (prompt, max length).
    text_cache: EmbeddingCache,
    /// Every text embedding of the last `encode` came from the cache.
    last_text_cached: bool,
    memory: MemoryOptions,
    spec: WanSpec,
    transformer: WanTransformer,
    transformer_2: Option<WanTransformer>,
    vae: WanVae,
    image_encoder: Option<WanImageEncoder>,
    index: WanIndex,
    num_train_timesteps: f64,
    rules: WanRules,
    /// Where the weights wait between uses (fixed at load).
    offload: Offload,
    /// The offloaded component whose weights are on the run device now.
    resident: Option<(Part, Uploaded)>,
    /// `offload_text_encoder` parks the encoder on the CPU too, as on a GPU
    /// (tests of the parking; [`WanFamily::park_text_encoder_on_cpu`]).
    park_text_on_cpu: bool,
    /// Long-form generation's decoder stream, across windows
    /// ([`ModelFamily::decode_continued`]).
    stream: Option<DecodeStream>,
}

/// A component copied to the run device as a whole under model offload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    TextEncoder,
    /// The transformer (0) or the low-noise expert (1).
    Transformer(usize),
    Vae,
    ImageEncoder,
}

/// One Wan generation: the request's conditioning and what the walk builds
/// along the way, borrowing the loaded family.
pub struct WanGeneration<'a> {
    fam: &'a mut WanFamily,
    req: Resolved,
    prompt: Tensor,
    negative: Option<Tensor>,
    image_embeds: Option<Tensor>,
    /// Wan 2.1 I2V: mask + first-frame latents concatenated to the input channels.
    concat: Option<Tensor>,
    /// Wan 2.2 TI2V: first-frame latents and the mask keeping them (also
    /// the held tail of an extended clip, for the per-token timesteps).
    first_frame: Option<(Tensor, Tensor)>,
    /// An extension: the clip's tail latents the walk holds.
    held: Option<HeldFrames>,
    /// Long-form generation: the previous window's latent tail to hold
    /// ([`Generation::hold_leading`]).
    lead: Option<Tensor>,
    guidance: f64,
    guidance_2: f64,
    /// The cross-attention keys and values of this generation.
    kv: GenerationKv,
}

/// The cross-attention keys and values of one generation
/// ([`WanTransformer::cross_attn_kv`]), one per expert and guidance branch:
/// the batched `[cond; uncond]` prompts, or the conditional and the
/// unconditional prompt apart under sequential guidance, or the prompt alone
/// without guidance. Each is made at its first step and reused by the later
/// ones; they live in the generation (and are dropped before the VAE decodes).
///
/// Only the current expert's are kept: when a step moves to the other expert
/// of a Wan 2.2 model, the previous expert's are dropped (the experts take
/// turns once, high-noise first, so they are not needed again; were they, they
/// would be made again with the same result).
#[derive(Debug, Default)]
struct GenerationKv {
    entries: BTreeMap<BranchKey, CrossAttnKv>,
}

impl GenerationKv {
    /// Makes the keys and values of `key` with `model` from the embeddings
    /// `inputs` gives (text, image), unless they are made already.
    fn ensure(
        &mut self,
        key: BranchKey,
        model: &WanTransformer,
        inputs: impl FnOnce() -> Result<(Tensor, Option<Tensor>)>,
    ) -> Result<()> {
        if self.entries.contains_key(&key) {
            return Ok(());
        }
        self.entries.retain(|k, _| k.model == key.model);
        let (text, image) = inputs()?;
        let kv = model.cross_attn_kv(&text, image.as_ref())?;
        self.entries.insert(key, kv);
        Ok(())
    }

    /// The keys and values of `key` (made by [`GenerationKv::ensure`]).
    fn get(&self, key: &BranchKey) -> Result<&CrossAttnKv> {
        self.entries.get(key).ok_or_else(|| {
            Error::invalid(format!(
                "no cross-attention keys and values for {key:?} (made at each generation's first step)"
            ))
        })
    }
}

fn parse_index(folder: &ModelFolder) -> Result<WanIndex> {
    serde_json::from_value(folder.index().clone()).map_err(|e| Error::Config {
        path: folder.root().join("model_index.json"),
        reason: e.to_string(),
    })
}

impl WanFamily {
    /// Loads every component of a Wan folder on `device` in `dtype`.
    pub fn load(folder: &ModelFolder, device: Device, dtype: Dtype) -> Result<Self> {
        Self::load_offloaded(folder, device, dtype, Offload::None)
    }

    /// Loads a Wan folder to run on `device` in `dtype` with the weights
    /// waiting where `offload` says: on `device` ([`Offload::None`]), or in
    /// host memory, each component copied to `device` for its phase
    /// ([`Offload::Model`]), and the blocks of the transformer and the text
    /// encoder one at a time ([`Offload::Sequential`]). (On the CPU, offload
    /// only makes copies: the pipeline builder refuses it there; tests use it
    /// to check the copies, with the waiting weights held in a wider dtype so
    /// that a weight used without its copy shows: see
    /// [`ComponentWeights::place`](crate::nn::ComponentWeights::place).)
    pub fn load_offloaded(
        folder: &ModelFolder,
        device: Device,
        dtype: Dtype,
        offload: Offload,
    ) -> Result<Self> {
        let run = device.to_tch();
        // Where the weights are loaded: host memory when offloaded.
        let (load_dev, load_device) = if offload.is_on() {
            (TchDevice::Cpu, Device::Cpu)
        } else {
            (run, device)
        };
        let kind = dtype.to_kind();
        let index = parse_index(folder)?;
        let scheduler_config = folder
            .component_dir("scheduler")?
            .join("scheduler_config.json");
        let basics: SchedulerBasics = crate::weights::read_config(&scheduler_config)?;
        // Fail early on an unusable scheduler config, before loading weights.
        sampler::from_config(&scheduler_config)?;
        let mut text = WanTextEncoder::load(
            &folder.component_dir("tokenizer")?,
            &folder.component_dir("text_encoder")?,
            load_device,
            dtype,
        )?;
        let mut transformer = if folder.has("transformer") {
            WanTransformer::load(&folder.component_dir("transformer")?, load_dev, kind)?
        } else {
            return Err(Error::MissingComponent {
                path: folder.root().to_path_buf(),
                component: "transformer".into(),
            });
        };
        let mut transformer_2 = match (folder.has("transformer_2"), index.boundary_ratio) {
            (true, _) => Some(WanTransformer::load(
                &folder.component_dir("transformer_2")?,
                load_dev,
                kind,
            )?),
            (false, Some(_)) => {
                return Err(Error::MissingComponent {
                    path: folder.root().to_path_buf(),
                    component: "transformer_2 (boundary_ratio is set)".into(),
                })
            }
            (false, None) => None,
        };
        let mut vae = WanVae::load(&folder.component_dir("vae")?, load_dev, kind)?;
        let mut image_encoder = if folder.has("image_encoder") && folder.has("image_processor") {
            Some(WanImageEncoder::load(
                folder.component_dir("image_encoder")?,
                folder.component_dir("image_processor")?,
                load_device,
                dtype,
            )?)
        } else {
            None
        };
        if offload.is_on() {
            text.set_offload(offload, device)?;
            transformer.set_offload(offload, run)?;
            if let Some(t) = transformer_2.as_mut() {
                t.set_offload(offload, run)?;
            }
            vae.set_offload(true, run)?;
            if let Some(e) = image_encoder.as_mut() {
                e.model.set_offload(true, device)?;
            }
        }
        // Configs and safetensors headers for the memory estimate (no tensor
        // data; after the components so that their errors come first).
        let spec = WanSpec::from_folder(folder)?;
        let patch = transformer.config().patch_size;
        let rules = WanRules {
            size: SizeRule {
                spatial: vae.spatial_factor() as u32,
                temporal: vae.temporal_factor() as u32,
                patch_h: patch.get(1).copied().unwrap_or(2) as u32,
                patch_w: patch.get(2).copied().unwrap_or(2) as u32,
            },
            limits: PositionLimits::new(
                transformer.config().rope_max_seq_len,
                &transformer.config().patch_size,
            ),
            in_channels: transformer.config().in_channels,
            latent_channels: vae.config().z_dim,
            expand_timesteps: index.expand_timesteps,
            root: folder.root().to_path_buf(),
            scheduler_config,
        };
        Ok(Self {
            folder: folder.clone(),
            device: run,
            run_device: device,
            dtype,
            text: Some(text),
            text_cache: EmbeddingCache::default(),
            last_text_cached: false,
            memory: MemoryOptions::default(),
            spec,
            transformer,
            transformer_2,
            vae,
            image_encoder,
            index,
            num_train_timesteps: basics.num_train_timesteps,
            rules,
            offload,
            resident: None,
            park_text_on_cpu: false,
            stream: None,
        })
    }

    /// Makes `offload_text_encoder` park the text encoder in host memory on
    /// the CPU too, as it does on a GPU, instead of dropping it: a test of
    /// the parking on machines without a GPU (the copies go from host memory
    /// to host memory), not for users.
    #[doc(hidden)]
    pub fn park_text_encoder_on_cpu(&mut self) {
        self.park_text_on_cpu = true;
    }

    /// Whether the text encoder's weights wait in host memory between uses
    /// (offloaded, or parked by `offload_text_encoder` on a GPU).
    pub fn text_encoder_parked(&self) -> bool {
        self.text
            .as_ref()
            .is_some_and(|t| t.encoder().is_offloaded())
    }

    /// Where the weights wait between uses.
    pub fn offload(&self) -> Offload {
        self.offload
    }

    /// Makes `part`'s weights the ones on the run device when they wait in
    /// host memory (offload, or a parked text encoder), giving back the
    /// previous part's copies first. Nothing is copied for a part on the
    /// device already, or for a transformer streamed block by block.
    fn make_resident(&mut self, part: Part) -> Result<()> {
        if matches!(&self.resident, Some((p, _)) if *p == part) {
            return Ok(());
        }
        self.release_resident()?;
        let up = match part {
            Part::TextEncoder => match &self.text {
                Some(t) => t.upload()?,
                None => None,
            },
            Part::Transformer(0) => self.transformer.upload()?,
            Part::Transformer(_) => match &self.transformer_2 {
                Some(t) => t.upload()?,
                None => None,
            },
            Part::Vae => self.vae.upload()?,
            Part::ImageEncoder => match &self.image_encoder {
                Some(e) => e.model.upload()?,
                None => None,
            },
        };
        self.resident = up.map(|u| (part, u));
        Ok(())
    }

    /// Gives back the run device's copies of the resident part, if any.
    fn release_resident(&mut self) -> Result<()> {
        match self.resident.take() {
            Some((_, up)) => up.release(),
            None => Ok(()),
        }
    }

    /// Dry-loads each component (names and shapes only, no tensor data) and
    /// reports what does not match.
    pub fn audit(
        folder: &ModelFolder,
    ) -> Result<BTreeMap<String, std::result::Result<WeightReport, String>>> {
        let mut out = BTreeMap::new();
        for name in [
            "text_encoder",
            "transformer",
            "transformer_2",
            "vae",
            "image_encoder",
        ] {
            if !folder.has(name) {
                continue;
            }
            let r = folder
                .component_dir(name)
                .and_then(|dir| audit_component(name, &dir));
            out.insert(name.to_string(), r.map_err(|e| e.to_string()));
        }
        Ok(out)
    }

    fn latent_channels(&self) -> i64 {
        self.vae.config().z_dim
    }

    /// The folder this family was loaded from.
    pub fn folder(&self) -> &ModelFolder {
        &self.folder
    }

    /// The transformer (the high-noise expert of a two-expert Wan 2.2 model).
    pub fn transformer(&self) -> &WanTransformer {
        &self.transformer
    }

    /// The low-noise expert of a two-expert Wan 2.2 model.
    pub fn transformer_2(&self) -> Option<&WanTransformer> {
        self.transformer_2.as_ref()
    }

    /// VAE-encodes pixels `[1,3,T,H,W]` in [-1,1] to normalised latents (the distribution's mode).
    fn encode_pixels(&mut self, pixels: &Tensor) -> Result<Tensor> {
        self.make_resident(Part::Vae)?;
        let (mean, _logvar) = self.vae.encode(&pixels.f_to_kind(self.vae.kind())?)?;
        self.vae.normalize_latents(&mean.f_to_kind(Kind::Float)?)
    }

    fn timesteps_of(sched: &dyn Scheduler) -> Result<Vec<Tensor>> {
        let ts = sched.timesteps();
        let n = ts.size().first().copied().unwrap_or(0);
        (0..n).map(|i| Ok(ts.f_get(i)?)).collect()
    }

    /// The text encoder on the run device: reloaded from the folder
    /// (weights memory-mapped) when it was dropped, copied there when its
    /// weights wait in host memory (offload, or parked).
    fn text_encoder(&mut self) -> Result<&WanTextEncoder> {
        if self.text.is_none() {
            self.text = Some(WanTextEncoder::from_folder(
                &self.folder,
                self.run_device,
                self.dtype,
            )?);
        }
        if self.text_encoder_parked() && !self.offload.is_on() && !self.memory.offload_text_encoder
        {
            // Parked earlier, and the option is off now: back for good (its
            // copy given back first, so that the move takes the host data).
            if matches!(&self.resident, Some((Part::TextEncoder, _))) {
                self.release_resident()?;
            }
            if let Some(t) = self.text.as_mut() {
                t.unpark()?;
            }
        }
        self.make_resident(Part::TextEncoder)?;
        self.text
            .as_ref()
            .ok_or_else(|| Error::Device("the text encoder could not be reloaded".into()))
    }

    /// Releases the text encoder: a copy of its weights on the run device
    /// (offload, or parked) is given back; with `offload_text_encoder`, not
    /// offloaded, it is dropped on the CPU and parked in host memory on a
    /// GPU (one copy back, the first time: later uses copy it to the GPU
    /// and give the copy back).
    fn release_text_encoder(&mut self) -> Result<()> {
        if matches!(&self.resident, Some((Part::TextEncoder, _))) {
            self.release_resident()?;
        }
        if self.offload.is_on() || !self.memory.offload_text_encoder {
            return Ok(());
        }
        match self.run_device {
            Device::Cpu if !self.park_text_on_cpu => self.text = None,
            _ => {
                if let Some(t) = self.text.as_mut() {
                    t.park()?;
                }
            }
        }
        Ok(())
    }

    /// Embeddings of one prompt (`[1, 512, d_model]`), from the cache when it
    /// has them (the second value says so).
    fn prompt_embeddings(&mut self, prompt: &str) -> Result<(Tensor, bool)> {
        if let Some(t) = self.text_cache.get(prompt, MAX_SEQUENCE_LENGTH) {
            return Ok((t, true));
        }
        let emb = self
            .text_encoder()?
            .encode(&[prompt], MAX_SEQUENCE_LENGTH)?;
        self.text_cache.insert(prompt, MAX_SEQUENCE_LENGTH, &emb);
        Ok((emb, false))
    }

    /// Whether the low-noise expert (`transformer_2`) takes timestep `t`.
    fn low_noise_expert(&self, t: &Tensor) -> bool {
        match (self.index.boundary_ratio, &self.transformer_2) {
            (Some(ratio), Some(_)) => t.double_value(&[]) < ratio * self.num_train_timesteps,
            _ => false,
        }
    }
}

/// One transformer forward with the keys and values `kv`, through the step
/// cache when caching is on.
fn run_model(
    model: &WanTransformer,
    cache: Option<CachedStep<'_>>,
    x: &Tensor,
    t: &Tensor,
    kv: &CrossAttnKv,
) -> Result<Tensor> {
    match cache {
        Some(c) => model.forward_cached(x, t, kv, c),
        None => model.forward_with(x, t, kv),
    }
}

/// Loads a Wan folder as a registry row does: on `device` in `dtype`, the
/// weights waiting where `memory.offload` says, with `memory` applied.
pub fn load_family(
    folder: &ModelFolder,
    device: Device,
    dtype: Dtype,
    memory: &MemoryOptions,
) -> Result<Box<dyn ModelFamily>> {
    let mut fam = WanFamily::load_offloaded(folder, device, dtype, memory.offload)?;
    fam.configure_memory(memory)?;
    Ok(Box::new(fam))
}

impl ModelFamily for WanFamily {
    fn name(&self) -> &'static str {
        "wan"
    }

    fn rules(&self) -> &dyn Rules {
        &self.rules
    }

    fn configure_memory(&mut self, options: &MemoryOptions) -> Result<()> {
        if options.vae_frame_tiling.is_some() {
            return Err(Error::invalid(
                "vae_frame_tiling is for LTX-2: Wan's VAE already decodes one latent frame at a \
                 time (its causal cache), so its memory does not grow with the clip's length; \
                 use vae_tiling for spatial tiles",
            ));
        }
        self.vae.set_tiling(options.vae_tiling)?;
        self.memory = *options;
        Ok(())
    }

    fn estimate(&self, req: &Resolved, opts: &EstimateOptions) -> Result<MemoryEstimate> {
        // A long-form request is estimated as its longest window (one is
        // walked and decoded at a time); an extension as its generated
        // window (the source's frames copied into the output are not counted).
        let rule = |f| self.rules.size.nearest_frames(f);
        let req = match self.rules.longform_plan(req)? {
            Some(plan) => plan.one_window(req),
            None => req.clone(),
        };
        let req = &match req.extend_plan(rule)? {
            Some(plan) => Resolved {
                frames: plan.window(),
                ..req
            },
            None => req,
        };
        let cfg = req.guidance > 1.0;
        let cached = self.text_cache.contains(&req.prompt, MAX_SEQUENCE_LENGTH)
            && (!cfg
                || self
                    .text_cache
                    .contains(&req.negative_prompt, MAX_SEQUENCE_LENGTH));
        let state = Residency {
            loading: false,
            // Offloaded, the encoder is copied from host memory (no reload).
            text_resident: self.offload.is_on()
                || (self.text.is_some() && !self.text_encoder_parked()),
            prompts_cached: cached,
            cache_entries: self.text_cache.capacity(),
        };
        self.spec.estimate(req, opts, state)
    }

    fn text_from_cache(&self) -> bool {
        self.last_text_cached
    }

    /// Text-to-video and TI2V checkpoints (not Wan 2.1 I2V, whose mask and
    /// image channels need an image).
    fn long_form(&self) -> bool {
        self.rules.long_form()
    }

    fn longform_plan(&self, req: &Resolved) -> Result<Option<LongformPlan>> {
        self.rules.longform_plan(req)
    }

    fn decode_continued(
        &mut self,
        _req: &Resolved,
        latents: &Latents,
        _last: bool,
        sink: &mut dyn FrameSink,
    ) -> Result<()> {
        let z = self
            .vae
            .denormalize_latents(&latents.video.f_to_kind(Kind::Float)?)?
            .f_to_kind(self.vae.kind())?;
        self.make_resident(Part::Vae)?;
        let mut stream = self.stream.take().unwrap_or_default();
        let out = self
            .vae
            .decode_continue(&mut stream, &z, &mut |video: Tensor| {
                sink.frames(video_to_frames(&video)?)
            });
        self.stream = Some(stream);
        out?;
        self.release_resident()
    }

    fn end_decode_stream(&mut self) {
        self.stream = None;
    }

    fn begin<'a>(&'a mut self, req: &Resolved) -> Result<Box<dyn Generation + 'a>> {
        let guidance = req.guidance as f64;
        let guidance_2 = req.guidance_2.map(|g| g as f64).unwrap_or(guidance);
        let kind = self.transformer.kind();
        let (prompt, prompt_hit) = self.prompt_embeddings(&req.prompt)?;
        let prompt = prompt.f_to_kind(kind)?;
        let (negative, negative_hit) = if guidance > 1.0 {
            let (n, hit) = self.prompt_embeddings(&req.negative_prompt)?;
            (Some(n.f_to_kind(kind)?), hit)
        } else {
            (None, true)
        };
        self.last_text_cached = prompt_hit && negative_hit;
        self.release_text_encoder()?;
        let mut image_embeds = None;
        if let Mode::Image(img) = &req.mode {
            if self.index.boundary_ratio.is_none() && !self.index.expand_timesteps {
                self.make_resident(Part::ImageEncoder)?;
                let enc = self
                    .image_encoder
                    .as_ref()
                    .ok_or_else(|| Error::MissingComponent {
                        path: self.folder.root().to_path_buf(),
                        component: "image_encoder".into(),
                    })?;
                image_embeds = Some(enc.encode(img.pixels.view())?.f_to_kind(kind)?);
                self.release_resident()?;
            }
        }
        Ok(Box::new(WanGeneration {
            fam: self,
            req: req.clone(),
            prompt,
            negative,
            image_embeds,
            concat: None,
            first_frame: None,
            held: None,
            lead: None,
            guidance,
            guidance_2,
            kv: GenerationKv::default(),
        }))
    }

    fn release_offloaded(&mut self) -> Result<()> {
        self.release_resident()
    }

    fn describe(&self) -> Vec<(String, String, u64)> {
        let mut v = vec![
            (
                "text_encoder".into(),
                "UMT5EncoderModel".into(),
                self.text
                    .as_ref()
                    .map(|t| t.encoder().num_parameters().max(0) as u64)
                    .unwrap_or_else(|| self.spec.text_params()),
            ),
            (
                "transformer".into(),
                "WanTransformer3DModel".into(),
                self.transformer.num_parameters(),
            ),
            (
                "vae".into(),
                "AutoencoderKLWan".into(),
                self.vae.num_parameters().max(0) as u64,
            ),
        ];
        if let Some(t2) = &self.transformer_2 {
            v.push((
                "transformer_2".into(),
                "WanTransformer3DModel".into(),
                t2.num_parameters(),
            ));
        }
        v
    }
}

impl WanGeneration<'_> {
    /// The text embeddings of one guidance branch.
    fn text_of(&self, branch: BranchId) -> Result<&Tensor> {
        match branch {
            COND => Ok(&self.prompt),
            UNCOND => self
                .negative
                .as_ref()
                .ok_or_else(|| Error::invalid("no negative prompt was encoded (guidance ≤ 1)")),
            other => Err(Error::Unsupported(format!(
                "Wan has no `{}` guidance branch",
                other.name()
            ))),
        }
    }
}

impl Generation for WanGeneration<'_> {
    fn start(&mut self, noise: &mut Noise) -> Result<Start> {
        let req = self.req.clone();
        let fam = &mut *self.fam;
        let mut scheduler = sampler::from_config(&fam.rules.scheduler_config)?;
        let device = fam.device;
        let (h, w) = (req.height as i64, req.width as i64);
        let sf = fam.rules.size.spatial as i64;
        let tf = fam.rules.size.temporal as i64;
        // An extension generates its window: the clip's tail, then the new frames.
        let extend = req.extend_plan(|f| fam.rules.size.nearest_frames(f))?;
        let gen_frames = extend.map_or(req.frames, |p| p.window()) as i64;
        let lat_f = (gen_frames - 1) / tf + 1;
        let shape = [1, fam.latent_channels(), lat_f, h / sf, w / sf];
        scheduler.set_timesteps(req.steps as usize)?;
        // The walk starts at index 0, as diffusers' WanPipeline sets it
        // (`set_begin_index(0)`). Without it the first step would look its index
        // up from the timestep's value, which takes the *second* occurrence of a
        // repeated value: UniPC's integer timesteps repeat 999 from 334 steps on
        // (flow_shift 3), so the walk would start one index late and step past
        // the end of the schedule on its last step.
        scheduler.set_begin_index(0);
        let mut begin = 0;
        let mut timesteps = WanFamily::timesteps_of(scheduler.as_ref())?;
        let latents = match &req.mode {
            Mode::Text => {
                let x = noise.randn(&shape)?.f_to_device(device)?;
                if let Some(lead) = self.lead.take() {
                    // Long-form: the previous window's latent tail, held as an
                    // extension's is (clean for TI2V; re-noised for
                    // text-to-video, crossfaded into the new frames).
                    let lead = lead.f_to_device(device)?.f_to_kind(Kind::Float)?;
                    let m = lead.size().get(2).copied().unwrap_or(0);
                    let held = if fam.index.expand_timesteps {
                        let held = HeldFrames::leading(&lead, lat_f, Hold::Clean)?;
                        let mask =
                            Tensor::f_ones([1, 1, lat_f, h / sf, w / sf], (Kind::Float, device))?;
                        let _ = mask.f_narrow(2, 0, m)?.f_fill_(0.0)?;
                        self.first_frame = Some((held.clean().shallow_clone(), mask));
                        held
                    } else {
                        HeldFrames::leading_crossfaded(&lead, lat_f, Hold::Renoised)?
                    };
                    self.held = Some(held);
                }
                x
            }
            Mode::Image(img) => {
                let x = noise.randn(&shape)?.f_to_device(device)?;
                let image = image_to_tensor(img.pixels.view(), req.width, req.height)?
                    .f_to_device(device)?
                    .f_unsqueeze(2)?; // [1,3,1,H,W]
                if fam.index.expand_timesteps {
                    let lc = fam.encode_pixels(&image)?;
                    let mask =
                        Tensor::f_ones([1, 1, lat_f, h / sf, w / sf], (Kind::Float, device))?;
                    let _ = mask.f_narrow(2, 0, 1)?.f_fill_(0.0)?;
                    self.first_frame = Some((lc, mask));
                } else {
                    let zeros = Tensor::f_zeros(
                        [1, 3, req.frames as i64 - 1, h, w],
                        (Kind::Float, device),
                    )?;
                    let video = Tensor::f_cat(&[image, zeros], 2)?;
                    let lc = fam.encode_pixels(&video)?;
                    // Mask: 1 on the first frame (repeated over the temporal factor), 0 after.
                    let mut m = Tensor::f_zeros(
                        [1, 1, req.frames as i64, h / sf, w / sf],
                        (Kind::Float, device),
                    )?;
                    let _ = m.f_narrow(2, 0, 1)?.f_fill_(1.0)?;
                    let first =
                        m.f_narrow(2, 0, 1)?
                            .f_repeat_interleave_self_int(tf, Some(2), None)?;
                    m = Tensor::f_cat(&[first, m.f_narrow(2, 1, req.frames as i64 - 1)?], 2)?;
                    let m = m.f_view([1, -1, tf, h / sf, w / sf])?.f_transpose(1, 2)?;
                    self.concat = Some(Tensor::f_cat(&[m, lc], 1)?);
                }
                x
            }
            Mode::Video { clip, strength } => {
                let steps = req.steps as usize;
                let start = scheduler.strength_start(steps, *strength as f64);
                if start >= timesteps.len() {
                    return Err(Error::invalid(format!(
                        "strength {strength} re-runs no step of {steps}; use strength ≥ {:.3}",
                        1.0 / steps as f64
                    )));
                }
                timesteps = timesteps.split_off(start);
                let frames = clip
                    .frames
                    .slice(ndarray::s![..req.frames as usize, .., .., ..]);
                let video = frames_to_tensor(frames, req.width, req.height)?.f_to_device(device)?;
                let init_latents = fam.encode_pixels(&video)?;
                let n = noise.randn(&shape)?.f_to_device(device)?;
                // Begin index first, so that the noise level is the sigma the walk
                // starts from even where the first kept timestep value repeats.
                scheduler.set_begin_index(start);
                begin = start;
                scheduler.noise_to(&init_latents, &n, &timesteps[0])?
            }
            Mode::Extend { clip, .. } => {
                let plan = extend.ok_or_else(|| Error::invalid("an extension without a plan"))?;
                let x = noise.randn(&shape)?.f_to_device(device)?;
                // The clip's last `overlap` frames, encoded alone: the causal
                // VAE makes of them the window's first latent frames.
                let tail =
                    clip.frames
                        .slice(ndarray::s![plan.overlap_start() as usize.., .., .., ..]);
                let video = frames_to_tensor(tail, req.width, req.height)?.f_to_device(device)?;
                let lc = fam.encode_pixels(&video)?;
                let m = lc.size()[2];
                // TI2V takes a timestep per token: the tail is held clean at
                // timestep 0, as its first frame is in image-to-video. A
                // text-to-video model sees one timestep: the tail is held
                // re-noised to each step's noise level.
                let how = if fam.index.expand_timesteps {
                    Hold::Clean
                } else {
                    Hold::Renoised
                };
                let held = HeldFrames::leading(&lc, lat_f, how)?;
                if fam.index.expand_timesteps {
                    let mask =
                        Tensor::f_ones([1, 1, lat_f, h / sf, w / sf], (Kind::Float, device))?;
                    let _ = mask.f_narrow(2, 0, m)?.f_fill_(0.0)?;
                    self.first_frame = Some((held.clean().shallow_clone(), mask));
                }
                self.held = Some(held);
                x
            }
        };
        Ok(Start {
            latents: Latents::video(latents),
            timesteps,
            schedulers: Schedulers {
                video: scheduler,
                audio: None,
            },
            begin,
            condition: None,
            audio_condition: None,
        })
    }

    fn plan(&mut self, step: &Step) -> Result<GuidancePlan> {
        let low_noise = self.fam.low_noise_expert(step.t);
        let expert = usize::from(low_noise);
        let scale = if low_noise {
            self.guidance_2
        } else {
            self.guidance
        };
        // The negative prompt is encoded when guidance > 1 (diffusers'
        // `do_classifier_free_guidance`); the low-noise expert then guides
        // with its own scale, even 1.
        Ok(match &self.negative {
            Some(_) => GuidancePlan::cfg(expert, scale),
            None => GuidancePlan::unguided(expert),
        })
    }

    fn forward(
        &mut self,
        x: &Latents,
        step: &Step,
        expert: usize,
        branches: &[BranchId],
        cache: Option<CachedStep<'_>>,
    ) -> Result<Vec<Latents>> {
        self.fam.make_resident(Part::Transformer(expert))?;
        let device = self.fam.device;
        let lat = &x.video;
        let b = lat.size()[0];
        let t = step.t.f_to_kind(Kind::Float)?.f_to_device(device)?;
        let (input, timestep) = if let Some((lc, mask)) = &self.first_frame {
            let inp = mask
                .f_rsub_scalar(1.0)?
                .f_mul(lc)?
                .f_add(&mask.f_mul(lat)?)?;
            let ts = per_token_timesteps(mask, &t, b)?;
            (inp, ts)
        } else if self.fam.index.expand_timesteps {
            let ones = Tensor::f_ones(lat.size().as_slice(), (Kind::Float, device))?;
            let m = ones.f_narrow(1, 0, 1)?;
            (lat.shallow_clone(), per_token_timesteps(&m, &t, b)?)
        } else if let Some(concat) = &self.concat {
            (
                Tensor::f_cat(&[lat.shallow_clone(), concat.f_to_kind(lat.kind())?], 1)?,
                t.f_expand([b], false)?,
            )
        } else {
            (lat.shallow_clone(), t.f_expand([b], false)?)
        };
        let model = match (&self.fam.transformer_2, expert) {
            (Some(t2), 1) => t2,
            _ => &self.fam.transformer,
        };
        let input = input.f_to_kind(model.kind())?;
        let n = branches.len();
        // The branches in one batch: the same latents, each branch's text.
        let (x_in, t_in) = if n == 1 {
            (input, timestep)
        } else {
            let xs = vec![&input; n];
            let t_in = if timestep.size().first() == Some(&b) {
                Tensor::f_cat(&vec![&timestep; n], 0)?
            } else {
                timestep.shallow_clone()
            };
            (Tensor::f_cat(&xs, 0)?, t_in)
        };
        let key = BranchKey::new(expert, branches);
        let texts = branches
            .iter()
            .map(|br| self.text_of(*br).map(Tensor::shallow_clone))
            .collect::<Result<Vec<_>>>()?;
        let img = self.image_embeds.as_ref();
        self.kv.ensure(key.clone(), model, || {
            if n == 1 {
                return Ok((texts[0].shallow_clone(), img.map(Tensor::shallow_clone)));
            }
            let text = Tensor::f_cat(&texts, 0)?;
            let image = match img {
                Some(i) => Some(Tensor::f_cat(&vec![i; n], 0)?),
                None => None,
            };
            Ok((text, image))
        })?;
        let out = run_model(model, cache, &x_in, &t_in, self.kv.get(&key)?)?;
        if n == 1 {
            return Ok(vec![Latents::video(out)]);
        }
        Ok(out.f_split(b, 0)?.into_iter().map(Latents::video).collect())
    }

    /// Wan's latents are `[batch, channels, frames, height, width]`.
    fn video_latent_is_frames_major(&self) -> bool {
        true
    }

    fn held_frames(&self) -> Option<HeldFrames> {
        self.held.clone()
    }

    fn hold_leading(&mut self, tail: Latents) -> Result<()> {
        let tail = tail.video;
        if !matches!(self.req.mode, Mode::Text) || !self.fam.rules.long_form() {
            return Err(Error::Unsupported(
                "long-form windows hold latents in text-to-video (T2V or TI2V checkpoints)".into(),
            ));
        }
        self.lead = Some(tail);
        Ok(())
    }

    fn decode(self: Box<Self>, x: Latents, sink: &mut dyn FrameSink) -> Result<()> {
        let WanGeneration {
            fam,
            first_frame,
            kv,
            held,
            ..
        } = *self;
        drop(held);
        // The cross-attention keys and values are not needed any more.
        drop(kv);
        // Only the VAE's input stays alive while decoding: the denoised
        // latents are dropped as soon as it is made (a long clip's latents
        // are the one thing here that grows with its length).
        let z = {
            let mut lat = x.video;
            if let Some((lc, mask)) = &first_frame {
                lat = mask
                    .f_rsub_scalar(1.0)?
                    .f_mul(lc)?
                    .f_add(&mask.f_mul(&lat)?)?;
            }
            fam.vae
                .denormalize_latents(&lat.f_to_kind(Kind::Float)?)?
                .f_to_kind(fam.vae.kind())?
        };
        drop(first_frame);
        fam.make_resident(Part::Vae)?;
        fam.vae.decode_streaming(&z, &mut |video: Tensor| {
            sink.frames(video_to_frames(&video)?)
        })?;
        fam.release_resident()
    }
}

/// What a dry load of one component finds wrong.
fn audit_component(name: &str, dir: &std::path::Path) -> Result<WeightReport> {
    use super::text_encoder::{Umt5Config, Umt5Encoder};
    use super::transformer::WanTransformerConfig;
    use crate::models::clip::{ClipVisionConfig, ClipVisionModel};
    use crate::weights::{read_config, TensorStore};
    let open = || TensorStore::open(dir, name, TchDevice::Cpu, Kind::Float).map(TensorStore::dry);
    let keep = |r: Result<()>| match r {
        Ok(()) | Err(Error::WeightMismatch { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    match name {
        "text_encoder" => {
            let cfg = Umt5Config::load(&dir.join("config.json"))?;
            let store = open()?;
            keep(Umt5Encoder::from_store(cfg, &store).map(|_| ()))?;
            Ok(store.report())
        }
        "transformer" | "transformer_2" => {
            let cfg: WanTransformerConfig = read_config(&dir.join("config.json"))?;
            let store = open()?;
            keep(WanTransformer::from_store(cfg, &store.root()).map(|_| ()))?;
            Ok(store.report())
        }
        "image_encoder" => {
            let cfg = ClipVisionConfig::load(&dir.join("config.json"))?;
            let store = open()?;
            keep(ClipVisionModel::from_store(&store, cfg).map(|_| ()))?;
            Ok(store.report())
        }
        _ => {
            // The VAE is small: load it for real on the CPU and read its verdict.
            match WanVae::load(dir, TchDevice::Cpu, Kind::Float) {
                Ok(_) => Ok(WeightReport::default()),
                Err(Error::WeightMismatch {
                    missing,
                    unexpected,
                    mismatched,
                    ..
                }) => Ok(WeightReport {
                    missing,
                    unexpected,
                    mismatched,
                }),
                Err(e) => Err(e),
            }
        }
    }
}

/// Decoded video `[1, 3, t, H, W]` in [-1, 1] → RGB frames `[t, H, W, 3]` u8,
/// as diffusers' `postprocess_video` + `numpy_to_pil` round them.
pub fn video_to_frames(video: &Tensor) -> Result<Tensor> {
    Ok(video
        .f_to_kind(Kind::Float)?
        .f_mul_scalar(0.5)?
        .f_add_scalar(0.5)?
        .f_clamp(0.0, 1.0)?
        .f_squeeze_dim(0)?
        .f_permute([1, 2, 3, 0])?
        .f_mul_scalar(255.0)?
        .f_round()?
        .f_to_kind(Kind::Uint8)?)
}

/// Per-token timesteps of Wan 2.2 TI2V: `(mask[0][0][:, ::2, ::2] * t).flatten()` per batch row.
fn per_token_timesteps(mask: &Tensor, t: &Tensor, batch: i64) -> Result<Tensor> {
    let m = mask
        .f_get(0)?
        .f_get(0)?
        .f_slice(1, 0, None, 2)?
        .f_slice(2, 0, None, 2)?;
    Ok(m.f_mul(t)?
        .f_flatten(0, -1)?
        .f_unsqueeze(0)?
        .f_expand([batch, -1], false)?)
}
