//! The LTX-2 family glue: loads an `LTX2Pipeline` folder's text encoder,
//! connectors and transformer and plugs them into the shared denoising walk
//! as the pipeline does for text-to-video: the same noise (video latents, then
//! audio latents), the same packed latents, one FlowMatchEuler scheduler per
//! modality with the token-count shift, and the pipeline's guidance (CFG,
//! STG, modality isolation, rescale; combined in x0 space per modality).
//!
//! Image-to-video is `LTX2ImageToVideoPipeline`'s: the image (optionally
//! re-compressed, `image_crf`) is resized bilinearly and encoded by the video
//! VAE (the posterior's mode: no noise drawn), normalised, and put in the first
//! latent frame, `latents = init·mask + noise·(1 − mask)`; the transformer sees
//! per-token video timesteps `t·(1 − mask)`, and the walk keeps the first frame
//! clean (its [`VideoCondition`]: the step leaves the masked tokens where they
//! are, as the pipeline steps only the later frames). The audio is unchanged.
//!
//! Decoding is the pipeline's too: the video latents are unpacked,
//! de-normalised (and, for a timestep-conditioned VAE, mixed with the
//! generator's next noise at `decode_noise_scale`) and decoded by the video
//! VAE into u8 frames, window by window into the sink; the audio latents are
//! de-normalised, unpacked, decoded by the audio VAE into a mel spectrogram and
//! turned into a waveform `[channels, samples]` by the vocoder, at its rate.
//!
//! Memory: the estimate is [`super::memory`]'s; `offload_text_encoder`
//! releases Gemma once the prompts are encoded, before the connectors run
//! (dropped on the CPU, parked in host memory on a GPU, brought back by the
//! next request); weight offload ([`Offload`]) keeps every component in host
//! memory, copied to the run device for its phase (model), the transformer's
//! and Gemma's blocks one at a time (sequential).

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;
use tch::{Device as TchDevice, Kind, Tensor};

use super::audio_tail::{encode_tail, stitch, SeamStitch};
use super::audio_vae::Ltx2AudioVae;
use super::conditions::{self, preprocess_frames, trimmed_frames, EncodedCondition, Layout};
use super::connectors::{Ltx2TextConnectors, PaddingSide};
use super::geometry::LatentGeometry;
use super::image::preprocess_image;
use super::latents::{
    audio_latent_frames, calculate_shift, default_sigmas, pack_audio, pack_video, unpack_video,
};
use super::longform::{Decoders, LongformDecode, Sound};
use super::memory::{Ltx2Spec, Residency};
use super::params::{decode_settings, image_crf, keep_audio, GuidanceSettings};
use super::rules::Ltx2Rules;
use super::text_encoder::Ltx2TextEncoder;
use super::transformer::{Ltx2Inputs, Ltx2Transformer, PreparedText};
use super::video_vae::{DecodeConditioning, Ltx2VideoVae};
use super::vocoder::Ltx2Vocoder;
use crate::denoise::condition::VideoCondition;
use crate::denoise::latents::{Latents, PerModality};
use crate::denoise::plan::{Form, GuidancePlan, Space, Term, COND, ISOLATED, PERTURBED, UNCOND};
use crate::denoise::walk::{Schedulers, Start, Step};
use crate::estimate::{EstimateOptions, MemoryEstimate};
use crate::family::{FrameSink, Generation, MemoryOptions, ModelFamily, Rules};
use crate::nn::step_cache::{BranchId, CachedStep};
use crate::nn::{Offload, Uploaded};
use crate::pipeline::extend::ExtendPlan;
use crate::pipeline::longform::LongformPlan;
use crate::pipeline::noise::Noise;
use crate::pipeline::request::{FrameCondition, Mode, Request, Resolved, VideoInput};
use crate::sampler::{self, Scheduler};
use crate::weights::{read_config, ModelFolder, WeightReport};
use crate::{Device, Dtype, Error, Result};

/// The connectors' `scale_factor` as the pipeline passes it.
pub const CONNECTOR_SCALE_FACTOR: f64 = 8.0;

/// A loaded LTX-2 model: text encoder, connectors, transformer, both VAEs and the vocoder.
pub struct Ltx2Family {
    folder: ModelFolder,
    /// The run device in tch's terms (under offload the weights wait in host
    /// memory and are copied here while used).
    device: TchDevice,
    run_device: Device,
    dtype: Dtype,
    /// `None` while released (`offload_text_encoder` on the CPU: reloaded
    /// from the folder by the next request). On a GPU that option parks it
    /// in host memory instead ([`Ltx2TextEncoder::park`]).
    text: Option<Ltx2TextEncoder>,
    connectors: Ltx2TextConnectors,
    transformer: Ltx2Transformer,
    vae: Ltx2VideoVae,
    audio_vae: Ltx2AudioVae,
    vocoder: Ltx2Vocoder,
    rules: Ltx2Rules,
    scheduler: Value,
    /// Configs and safetensors headers for the memory estimate.
    spec: Ltx2Spec,
    memory: MemoryOptions,
    /// Where the weights wait between uses (fixed at load).
    offload: Offload,
    /// Under model offload, the transformer's copy on the run device, kept
    /// for every step of a run and given back before decoding
    /// ([`Ltx2Family::release_resident`]).
    resident: Mutex<Option<Uploaded>>,
    /// `offload_text_encoder` parks the encoder on the CPU too, as on a GPU
    /// (tests of the parking; [`Ltx2Family::park_text_encoder_on_cpu`]).
    park_text_on_cpu: bool,
    /// Long-form generation's decode stream, across windows (dropped at the
    /// run's end: [`ModelFamily::end_decode_stream`]).
    long_decode: Option<LongformDecode>,
}

impl Ltx2Family {
    /// Loads the text encoder, connectors, transformer, video and audio VAEs
    /// and vocoder of an LTX-2 folder on `device` in `dtype`.
    pub fn load(folder: &ModelFolder, device: Device, dtype: Dtype) -> Result<Self> {
        Self::load_offloaded(folder, device, dtype, Offload::None)
    }

    /// Loads an LTX-2 folder to run on `device` in `dtype` with the weights
    /// waiting where `offload` says: on `device` ([`Offload::None`]), or in
    /// host memory, each component copied to `device` for its phase
    /// ([`Offload::Model`]; the transformer stays copied for every step of a
    /// run), and the transformer's and Gemma's blocks one at a time
    /// ([`Offload::Sequential`]; the connectors, VAEs and vocoder as under
    /// model offload). On the CPU offload only makes copies (the pipeline
    /// builder refuses it there; tests use it, the waiting weights held in a
    /// wider dtype so that a weight used without its copy shows).
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
        let scheduler_config = folder
            .component_dir("scheduler")?
            .join("scheduler_config.json");
        let scheduler: Value = read_config(&scheduler_config)?;
        // Fail early on an unusable scheduler config, before loading weights.
        sampler::from_value(&scheduler)?;
        let geometry = LatentGeometry::from_folder(folder)?;
        let mut text = Ltx2TextEncoder::from_folder(folder, load_device, dtype)?;
        let mut connectors =
            Ltx2TextConnectors::load(&folder.component_dir("connectors")?, load_device, dtype)?;
        let mut transformer = Ltx2Transformer::load(
            &folder.component_dir("transformer")?,
            load_dev,
            dtype.to_kind(),
        )?;
        let c = transformer.config();
        let audio_in = geometry.audio_channels * geometry.latent_mel_bins();
        if c.audio_in_channels != audio_in {
            return Err(Error::Config {
                path: folder.root().join("transformer").join("config.json"),
                reason: format!(
                    "audio_in_channels {} ≠ the audio VAE's latent channels × latent mel bins ({} × {})",
                    c.audio_in_channels,
                    geometry.audio_channels,
                    geometry.latent_mel_bins()
                ),
            });
        }
        let kind = dtype.to_kind();
        let mut vae = Ltx2VideoVae::load(&folder.component_dir("vae")?, load_dev, kind)?;
        let mut audio_vae =
            Ltx2AudioVae::load(&folder.component_dir("audio_vae")?, load_dev, kind)?;
        let mut vocoder = Ltx2Vocoder::load(&folder.component_dir("vocoder")?, load_dev, kind)?;
        if offload.is_on() {
            text.set_offload(offload, device)?;
            connectors.set_offload(offload, device)?;
            transformer.set_offload(offload, run)?;
            vae.set_offload(true, run)?;
            audio_vae.set_offload(true, run)?;
            vocoder.set_offload(true, run)?;
        }
        // Configs and safetensors headers for the memory estimate (no tensor
        // data; after the components so that their errors come first).
        let spec = Ltx2Spec::from_folder(folder)?;
        let c = transformer.config();
        let rules = Ltx2Rules {
            geometry,
            patch: (c.patch_size, c.patch_size_t),
            scheduler_config,
            defaults: crate::pipeline::folder_defaults::apply(
                folder.root(),
                super::rules::ltx2_defaults(),
            )?,
        };
        Ok(Self {
            folder: folder.clone(),
            device: run,
            run_device: device,
            dtype,
            text: Some(text),
            connectors,
            transformer,
            vae,
            audio_vae,
            vocoder,
            rules,
            scheduler,
            spec,
            memory: MemoryOptions::default(),
            offload,
            resident: Mutex::new(None),
            park_text_on_cpu: false,
            long_decode: None,
        })
    }

    /// Makes `offload_text_encoder` park the text encoder in host memory on
    /// the CPU too, as it does on a GPU, instead of dropping it: a test of
    /// the parking on machines without a GPU, not for users.
    #[doc(hidden)]
    pub fn park_text_encoder_on_cpu(&mut self) {
        self.park_text_on_cpu = true;
    }

    /// Whether the text encoder's weights wait in host memory between uses
    /// (offloaded, or parked by `offload_text_encoder` on a GPU).
    pub fn text_encoder_parked(&self) -> bool {
        self.text.as_ref().is_some_and(|t| t.model().is_offloaded())
    }

    /// Whether the text encoder is loaded (`offload_text_encoder` drops it
    /// on the CPU once the prompts are encoded).
    pub fn text_encoder_loaded(&self) -> bool {
        self.text.is_some()
    }

    /// Where the weights wait between uses.
    pub fn offload(&self) -> Offload {
        self.offload
    }

    /// The text encoder, ready to encode: reloaded from the folder when it
    /// was dropped; moved back to the run device for good when it was parked
    /// and `offload_text_encoder` is off now.
    fn text_encoder(&mut self) -> Result<&Ltx2TextEncoder> {
        if self.text.is_none() {
            self.text = Some(Ltx2TextEncoder::from_folder(
                &self.folder,
                self.run_device,
                self.dtype,
            )?);
        }
        if self.text_encoder_parked() && !self.offload.is_on() && !self.memory.offload_text_encoder
        {
            if let Some(t) = self.text.as_mut() {
                t.unpark()?;
            }
        }
        self.text
            .as_ref()
            .ok_or_else(|| Error::Device("the text encoder could not be reloaded".into()))
    }

    /// With `offload_text_encoder` (and no weight offload, which keeps it in
    /// host memory already): drops the text encoder on the CPU, parks it in
    /// host memory on a GPU (one copy back, the first time).
    fn release_text_encoder(&mut self) -> Result<()> {
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

    /// One transformer forward. Under model offload its weights are copied
    /// to the run device by the first forward of a run and stay there for
    /// the next steps, until [`Ltx2Family::release_resident`].
    fn transformer_forward(
        &self,
        inputs: &Ltx2Inputs<'_>,
        cache: Option<CachedStep<'_>>,
    ) -> Result<(Tensor, Tensor)> {
        self.make_resident()?;
        match cache {
            Some(cache) => self.transformer.forward_cached(inputs, cache),
            None => self.transformer.forward(inputs),
        }
    }

    /// Under model offload, copies the transformer's weights to the run
    /// device unless a copy is there already (see
    /// [`Ltx2Family::transformer_forward`]); nothing otherwise.
    fn make_resident(&self) -> Result<()> {
        if self.transformer.offload() == Offload::Model {
            let mut slot = self.resident.lock().map_err(|_| {
                Error::Device("the transformer's offload state was poisoned by a panic".into())
            })?;
            if slot.is_none() {
                *slot = self.transformer.upload()?;
            }
        }
        Ok(())
    }

    /// Gives back the run device's copy of the transformer's weights (model
    /// offload), if any.
    fn release_resident(&self) -> Result<()> {
        let copy = match self.resident.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        match copy {
            Some(up) => up.release(),
            None => Ok(()),
        }
    }

    /// The transformer.
    pub fn transformer(&self) -> &Ltx2Transformer {
        &self.transformer
    }

    /// The models that turn latents into frames and sound.
    fn decoders(&self) -> Decoders<'_> {
        Decoders {
            vae: &self.vae,
            audio_vae: &self.audio_vae,
            vocoder: &self.vocoder,
        }
    }

    /// The folder's latent geometry.
    pub fn geometry(&self) -> LatentGeometry {
        self.rules.geometry
    }

    /// The video VAE.
    pub fn video_vae(&self) -> &Ltx2VideoVae {
        &self.vae
    }

    /// The first-frame latents of image-to-video `[1, C, 1, h, w]` (f32, on
    /// the run device): the image re-compressed at `crf` (0: not), resized
    /// to `width`×`height`, encoded by the video VAE in its dtype, the
    /// posterior's mode normalised with scaling 1 (`prepare_latents`'
    /// `retrieve_latents(..., "argmax")` and `_normalize_latents`).
    pub fn image_latents(
        &self,
        pixels: ndarray::ArrayView3<u8>,
        width: u32,
        height: u32,
        crf: u32,
    ) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let image = preprocess_image(pixels, width, height, crf)?
            .f_to_device(self.device)?
            .f_to_kind(self.transformer.kind())?
            .f_unsqueeze(2)?;
        let (mean, _) = self.vae.encode(&image)?;
        let mean = mean.f_to_kind(Kind::Float)?;
        self.vae.normalize_latents(&mean, 1.0)
    }

    /// The request's frame conditions encoded as `LTX2ConditionPipeline`
    /// does ([`super::conditions`]): each index checked against the
    /// `latent_frames` of the video (typed error naming the valid ones),
    /// the frames trimmed to what fits, re-compressed when a single image
    /// (`image_crf`), resized and centre-cropped, encoded by the video VAE
    /// in its dtype, the mode normalised with scaling 1.
    fn encode_conditions(
        &self,
        req: &Resolved,
        conds: &[FrameCondition],
        latent_frames: i64,
    ) -> Result<Vec<EncodedCondition>> {
        let _guard = tch::no_grad_guard();
        let crf = image_crf(req)?;
        let temporal = self.rules.geometry.temporal;
        let mut out = Vec::with_capacity(conds.len());
        for (i, c) in conds.iter().enumerate() {
            c.check(i)?;
            let index = c.latent_index(i, latent_frames)?;
            let have = c.frames.shape()[0] as i64;
            let n = trimmed_frames(index, have, i64::from(req.frames), temporal);
            let frames = c.frames.slice(ndarray::s![..n as usize, .., .., ..]);
            let crf = if c.is_image() { crf } else { 0 };
            let pixels = preprocess_frames(frames, req.width, req.height, crf)?
                .f_to_device(self.device)?
                .f_to_kind(self.transformer.kind())?;
            let (mean, _) = self.vae.encode(&pixels)?;
            let latents = self
                .vae
                .normalize_latents(&mean.f_to_kind(Kind::Float)?, 1.0)?;
            out.push(EncodedCondition {
                latents,
                index,
                strength: f64::from(c.strength),
                pixel_frames: n,
            });
        }
        Ok(out)
    }

    /// The connectors' outputs (video text, audio text, mask) for the
    /// prompts: each through Gemma, their stacked states joined, then the
    /// connectors on the batch, as the pipeline does. The text encoder is
    /// released (`offload_text_encoder`) before the connectors run, and the
    /// per-prompt stacks are freed once joined.
    fn encode(&mut self, prompts: &[&str], max_len: usize) -> Result<(Tensor, Tensor, Tensor)> {
        let (hidden, mask) = {
            let text = self.text_encoder()?;
            // Offloaded or parked: its weights on the run device while it encodes.
            let _weights = text.upload()?;
            let mut hidden = Vec::with_capacity(prompts.len());
            let mut masks = Vec::with_capacity(prompts.len());
            for p in prompts {
                let (h, m) = text.encode(&[p], max_len)?;
                hidden.push(h);
                masks.push(m);
            }
            (Tensor::f_cat(&hidden, 0)?, Tensor::f_cat(&masks, 0)?)
        };
        self.release_text_encoder()?;
        let _weights = self.connectors.upload()?;
        let out =
            self.connectors
                .forward(&hidden, &mask, PaddingSide::Left, CONNECTOR_SCALE_FACTOR)?;
        Ok((out.video, out.audio, out.mask))
    }

    /// A FlowMatchEuler scheduler from the folder's config, set to the
    /// pipeline's sigmas with the shift of `video_tokens` tokens.
    fn scheduler(&self, steps: usize, video_tokens: i64) -> Result<Box<dyn Scheduler>> {
        let get = |k: &str, d: f64| self.scheduler.get(k).and_then(Value::as_f64).unwrap_or(d);
        let mu = calculate_shift(
            video_tokens,
            get("base_image_seq_len", 1024.0),
            get("max_image_seq_len", 4096.0),
            get("base_shift", 0.95),
            get("max_shift", 2.05),
        );
        let mut s = sampler::from_value(&self.scheduler)?;
        s.set_timesteps_with(Some(steps), Some(&default_sigmas(steps)), Some(mu))?;
        s.set_begin_index(0);
        Ok(s)
    }
}

/// Loads an LTX-2 folder as a registry row does: on `device` in `dtype`, the
/// weights waiting where `memory.offload` says, with `memory` applied.
pub fn load_family(
    folder: &ModelFolder,
    device: Device,
    dtype: Dtype,
    memory: &MemoryOptions,
) -> Result<Box<dyn ModelFamily>> {
    let mut fam = Ltx2Family::load_offloaded(folder, device, dtype, memory.offload)?;
    fam.configure_memory(memory)?;
    Ok(Box::new(fam))
}

/// Memory options a loaded model cannot take: weight offload is fixed when
/// the model loads (the weights are loaded where they wait).
fn check_memory_options(memory: &MemoryOptions, loaded: Offload) -> Result<()> {
    if memory.offload != loaded {
        return Err(Error::invalid(format!(
            "offload `{}` is chosen when the model loads; this one was loaded with `{loaded}`",
            memory.offload
        )));
    }
    Ok(())
}

/// The registry's audit of an LTX-2 folder: per component, the weights that
/// are missing, unexpected or mis-shaped. The text encoder, connectors and
/// transformer are checked without reading their tensors; the VAEs and the
/// vocoder (small) are loaded on the CPU. The text encoder's vision tower,
/// which LTX-2 does not use, is not reported.
pub fn audit_folder(
    folder: &ModelFolder,
) -> Result<BTreeMap<String, std::result::Result<WeightReport, String>>> {
    let mut out = BTreeMap::new();
    for name in [
        "text_encoder",
        "connectors",
        "transformer",
        "vae",
        "audio_vae",
        "vocoder",
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

/// What a dry (or, for the small parts, real) load of one component finds wrong.
fn audit_component(name: &str, dir: &std::path::Path) -> Result<WeightReport> {
    use super::connectors::ConnectorsConfig;
    use super::transformer::Ltx2TransformerConfig;
    use crate::text::gemma3::{Gemma3TextConfig, Gemma3TextModel};
    use crate::weights::TensorStore;
    let open = || TensorStore::open(dir, name, TchDevice::Cpu, Kind::Float).map(TensorStore::dry);
    let keep = |r: Result<()>| match r {
        Ok(()) | Err(Error::WeightMismatch { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    let from_error = |r: Result<()>| match r {
        Ok(()) => Ok(WeightReport::default()),
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
    };
    match name {
        "text_encoder" => {
            let cfg = Gemma3TextConfig::load(&dir.join("config.json"))?;
            let store = open()?;
            keep(Gemma3TextModel::from_store(cfg, &store).map(|_| ()))?;
            let mut report = store.report();
            report
                .unexpected
                .retain(|k| !k.contains("vision_tower") && !k.contains("multi_modal_projector"));
            Ok(report)
        }
        "connectors" => {
            let cfg = ConnectorsConfig::load(&dir.join("config.json"))?;
            let store = open()?;
            keep(Ltx2TextConnectors::from_store(cfg, &store).map(|_| ()))?;
            Ok(store.report())
        }
        "transformer" => {
            let cfg: Ltx2TransformerConfig = read_config(&dir.join("config.json"))?;
            let store = open()?;
            keep(Ltx2Transformer::from_store(cfg, &store.root()).map(|_| ()))?;
            Ok(store.report())
        }
        "vae" => from_error(Ltx2VideoVae::load(dir, TchDevice::Cpu, Kind::Float).map(|_| ())),
        "audio_vae" => from_error(Ltx2AudioVae::load(dir, TchDevice::Cpu, Kind::Float).map(|_| ())),
        _ => from_error(Ltx2Vocoder::load(dir, TchDevice::Cpu, Kind::Float).map(|_| ())),
    }
}

/// The registry's memory estimate of an LTX-2 folder ([`super::memory`]).
pub fn estimate_folder(
    folder: &ModelFolder,
    req: &Request,
    opts: &EstimateOptions,
) -> Result<MemoryEstimate> {
    super::memory::estimate_folder(folder, req, opts)
}

impl ModelFamily for Ltx2Family {
    fn name(&self) -> &'static str {
        "ltx2"
    }

    fn rules(&self) -> &dyn Rules {
        &self.rules
    }

    /// Spatial VAE tiling applies to the video VAE's decode;
    /// `offload_text_encoder` to the next encoding; weight offload is the
    /// one the model was loaded with.
    fn configure_memory(&mut self, options: &MemoryOptions) -> Result<()> {
        check_memory_options(options, self.offload)?;
        self.vae.set_tiling(options.vae_tiling)?;
        self.vae.set_frame_tiling(options.vae_frame_tiling)?;
        self.memory = *options;
        Ok(())
    }

    fn release_offloaded(&mut self) -> Result<()> {
        self.release_resident()
    }

    fn estimate(&self, req: &Resolved, opts: &EstimateOptions) -> Result<MemoryEstimate> {
        // Long-form: one window is walked and decoded at a time.
        let window = self.rules.longform_window(req)?;
        let req = window.as_ref().unwrap_or(req);
        let state = Residency {
            loading: false,
            // Offloaded, the encoder is copied from host memory (no reload).
            text_resident: self.offload.is_on()
                || (self.text.is_some() && !self.text_encoder_parked()),
        };
        self.spec.estimate(
            req,
            opts,
            state,
            opts.vae_frame_tiling.or(self.vae.frame_tiling()),
        )
    }

    fn long_form(&self) -> bool {
        true
    }

    fn longform_plan(&self, req: &Resolved) -> Result<Option<LongformPlan>> {
        self.rules.longform_plan(req)
    }

    fn decode_continued(
        &mut self,
        req: &Resolved,
        latents: &Latents,
        last: bool,
        sink: &mut dyn FrameSink,
    ) -> Result<()> {
        // Model offload: the transformer's copy goes before the VAEs' come.
        self.release_resident()?;
        let mut stream = self.long_decode.take().unwrap_or_default();
        // A long extension's first window is the extension's: its sound
        // starts in the clip's overlap, and the output's track is the clip's
        // own up to the seam (as one walk's, [`stitch`]).
        if let (true, true, Mode::Extend { clip, .. }) = (stream.is_fresh(), req.audio, &req.mode) {
            let plan = req
                .extend_plan(|f| self.rules.nearest_frames(f))?
                .ok_or_else(|| Error::invalid("an extension without a plan"))?;
            let rate = self.vocoder.track_rate()?;
            let fps = f64::from(req.fps);
            stream.stitch_audio(SeamStitch::new(
                clip.audio.as_ref(),
                rate,
                f64::from(plan.overlap_start()) / fps,
                f64::from(plan.source) / fps,
            )?);
        }
        let out = stream.decode(&self.decoders(), req, latents, last, &video_to_frames, sink);
        self.long_decode = Some(stream);
        out
    }

    fn end_decode_stream(&mut self) {
        self.long_decode = None;
    }

    fn begin<'a>(&'a mut self, req: &Resolved) -> Result<Box<dyn Generation + 'a>> {
        let settings = GuidanceSettings::from_request(req)?;
        let max_len = settings.max_sequence_length;
        // The pipeline encodes [negative, positive] as one connector batch under CFG.
        let (text, negative) = if settings.do_cfg() {
            let (v, a, m) = self.encode(&[&req.negative_prompt, &req.prompt], max_len)?;
            let pick = |t: &Tensor, i: i64| t.f_narrow(0, i, 1);
            (
                BranchText::new(pick(&v, 1)?, pick(&a, 1)?, pick(&m, 1)?),
                Some(BranchText::new(pick(&v, 0)?, pick(&a, 0)?, pick(&m, 0)?)),
            )
        } else {
            let (video, audio, mask) = self.encode(&[&req.prompt], max_len)?;
            (BranchText::new(video, audio, mask), None)
        };
        let geo = self.rules.geometry;
        // An extension generates its window (the clip's tail, then the
        // frames added): the generation's request is the window's.
        let extend = req.extend_plan(|f| self.rules.nearest_frames(f))?;
        let mut owned = req.clone();
        if let Some(plan) = &extend {
            owned.frames = plan.window();
        }
        let req = &owned;
        let grid = [
            geo.latent_frames(req.frames),
            i64::from(req.height) / geo.spatial,
            i64::from(req.width) / geo.spatial,
        ];
        // Image-to-video is one condition (the image at index 0, strength
        // 1) with `LTX2ImageToVideoPipeline`'s image preparation and noise
        // layout; frame conditions are `LTX2ConditionPipeline`'s.
        let (conditions, packed_noise) = match &req.mode {
            Mode::Text if req.conditions.is_empty() => (Vec::new(), false),
            Mode::Text => (self.encode_conditions(req, &req.conditions, grid[0])?, true),
            // Video-to-video: the clip as one frame condition over the whole
            // length at strength `1 − strength` (the share of the clip held),
            // through `LTX2ConditionPipeline`'s path.
            Mode::Video { clip, strength } => {
                let c = FrameCondition::clip(clip.clone(), 0, 1.0 - strength);
                (
                    self.encode_conditions(req, std::slice::from_ref(&c), grid[0])?,
                    true,
                )
            }
            Mode::Image(img) => (
                vec![EncodedCondition {
                    latents: self.image_latents(
                        img.pixels.view(),
                        req.width,
                        req.height,
                        image_crf(req)?,
                    )?,
                    index: 0,
                    strength: 1.0,
                    pixel_frames: 1,
                }],
                false,
            ),
            // Extension: the clip's last `overlap` frames as one condition at
            // index 0, strength 1 (`LTX2ConditionPipeline`'s path), and its
            // sound over the same stretch as held audio latents (below).
            Mode::Extend { clip, .. } => {
                let plan = extend.ok_or_else(|| Error::invalid("an extension without a plan"))?;
                let tail = clip
                    .frames
                    .slice(ndarray::s![plan.overlap_start() as usize.., .., .., ..])
                    .to_owned();
                let c = FrameCondition::clip(VideoInput::new(tail, clip.fps), 0, 1.0);
                (
                    self.encode_conditions(req, std::slice::from_ref(&c), grid[0])?,
                    true,
                )
            }
        };
        // The clip's sound over the overlap, encoded (an extension with
        // audio, of a clip that has a track).
        // Video-to-video with `keep_audio`: the clip's sound over the whole
        // output, held the same way.
        let fps = f64::from(req.fps);
        let audio_tail = match (&req.mode, &extend) {
            (Mode::Extend { clip, .. }, Some(plan)) if req.audio => match &clip.audio {
                Some(track) => encode_tail(
                    &self.audio_vae,
                    track,
                    f64::from(plan.overlap_start()) / fps,
                    f64::from(plan.overlap) / fps,
                )?,
                None => None,
            },
            (Mode::Video { clip, .. }, None) if req.audio && keep_audio(req) => match &clip.audio {
                Some(track) => {
                    encode_tail(&self.audio_vae, track, 0.0, f64::from(req.frames) / fps)?
                }
                None => None,
            },
            _ => None,
        };
        let audio_frames = audio_latent_frames(
            req.frames,
            f64::from(req.fps),
            geo.sample_rate as f64,
            geo.hop_length as f64,
            super::geometry::AUDIO_COMPRESSION as f64,
        )?;
        Ok(Box::new(Ltx2Generation {
            fam: self,
            req: owned,
            settings,
            text,
            negative,
            grid,
            audio_frames,
            decode_noise: None,
            conditions,
            packed_noise,
            mask: None,
            video_coords: None,
            audio_tail,
            audio_mask: None,
            extend,
            lead: None,
        }))
    }
}

/// One branch's text conditioning (the connectors' outputs, batch 1) and,
/// from its first transformer call on, what the transformer makes of it once
/// for the whole walk (projections, text keys and values).
struct BranchText {
    video: Tensor,
    audio: Tensor,
    mask: Tensor,
    prepared: OnceCell<PreparedText>,
}

impl BranchText {
    fn new(video: Tensor, audio: Tensor, mask: Tensor) -> Self {
        Self {
            video,
            audio,
            mask,
            prepared: OnceCell::new(),
        }
    }

    /// The prepared text, made on first use.
    fn prepared(&self, transformer: &Ltx2Transformer) -> Result<&PreparedText> {
        if self.prepared.get().is_none() {
            let p = transformer.prepare_text(&self.video, &self.audio)?;
            let _ = self.prepared.set(p);
        }
        self.prepared
            .get()
            .ok_or_else(|| Error::invalid("LTX-2: the prompt's prepared text is missing"))
    }
}

/// One LTX-2 text- or image-to-video generation.
pub struct Ltx2Generation<'a> {
    fam: &'a Ltx2Family,
    req: Resolved,
    settings: GuidanceSettings,
    text: BranchText,
    /// The negative prompt's conditioning, under CFG.
    negative: Option<BranchText>,
    /// Latent (frames, height, width).
    grid: [i64; 3],
    audio_frames: i64,
    /// The noise a timestep-conditioned video VAE mixes into the latents
    /// (the generator's next draw after the audio noise, as in the pipeline).
    decode_noise: Option<Tensor>,
    /// The encoded frame conditions (image-to-video: its image at index 0).
    conditions: Vec<EncodedCondition>,
    /// Draw the noise in the packed shapes (`LTX2ConditionPipeline`), not
    /// in the latent shapes then packed (the T2V and I2V pipelines).
    packed_noise: bool,
    /// With conditions: the conditioning mask per video token `[1, S + K]`
    /// (strengths; 0 on free tokens), set by `start`.
    mask: Option<Tensor>,
    /// With keyframe conditions: every video token's position `[1, 3, S +
    /// K, 2]` (the grid's, then the keyframes'), set by `start`.
    video_coords: Option<Tensor>,
    /// An extension's held audio: the clip's sound over the overlap as
    /// normalised packed latents `[1, L, C·M]` (the window's first `L`).
    audio_tail: Option<Tensor>,
    /// With held audio: 1 on its tokens, 0 elsewhere, `[1, audio tokens]`, set by `start`.
    audio_mask: Option<Tensor>,
    /// An extension's frames (the window is the generation's request).
    extend: Option<ExtendPlan>,
    /// Long-form: the previous window's latent tail this window holds
    /// ([`Generation::hold_leading`]), crossfaded over the held frames.
    lead: Option<Latents>,
}

impl Ltx2Generation<'_> {
    /// One transformer call on `branches` (a batch element each, perturbed
    /// or isolated per element): one prediction each, in order. With step
    /// caching, one decision for every branch and both streams: picture and
    /// sound are computed or reused together.
    fn call(
        &self,
        x: &Latents,
        t: &Tensor,
        branches: &[BranchId],
        cache: Option<CachedStep<'_>>,
    ) -> Result<Vec<Latents>> {
        let fam = self.fam;
        let kind = fam.transformer.kind();
        let dev = fam.device;
        let b = branches.len() as i64;
        let audio = x
            .audio
            .as_ref()
            .ok_or_else(|| Error::invalid("LTX-2 walks an audio latent with the video"))?;
        let video_in = x
            .video
            .f_to_device(dev)?
            .f_to_kind(kind)?
            .f_repeat([b, 1, 1])?;
        let audio_in = audio
            .f_to_device(dev)?
            .f_to_kind(kind)?
            .f_repeat([b, 1, 1])?;
        let mut tv = Vec::with_capacity(branches.len());
        let mut ta = Vec::with_capacity(branches.len());
        let mut tm = Vec::with_capacity(branches.len());
        let mut prepared = Vec::with_capacity(branches.len());
        fam.make_resident()?;
        for br in branches {
            let text = if *br == UNCOND {
                self.negative.as_ref().ok_or_else(|| {
                    Error::invalid(
                        "the unconditional branch runs only under classifier-free guidance",
                    )
                })?
            } else {
                &self.text
            };
            tv.push(text.video.shallow_clone());
            ta.push(text.audio.shallow_clone());
            tm.push(text.mask.shallow_clone());
            prepared.push(text.prepared(&fam.transformer)?);
        }
        let text_v = Tensor::f_cat(&tv, 0)?;
        let text_a = Tensor::f_cat(&ta, 0)?;
        let mask = Tensor::f_cat(&tm, 0)?;
        let timestep = t
            .f_to_device(dev)?
            .f_to_kind(Kind::Float)?
            .f_reshape([1])?
            .f_repeat([b])?;
        // Conditioned tokens' timesteps `t·(1 − mask)`, per token.
        let per_token = |mask: &Option<Tensor>| -> Result<Option<Tensor>> {
            Ok(match mask {
                Some(m) => Some(
                    timestep
                        .f_unsqueeze(-1)?
                        .f_mul(&m.f_rsub_scalar(1.0)?.f_repeat([b, 1])?)?,
                ),
                None => None,
            })
        };
        // Conditions: the video's per-token timesteps; the audio (unless an
        // extension holds some), the prompt modulation and the cross
        // timestep keep `t`.
        let video_timestep = per_token(&self.mask)?;
        let perturbed: Vec<bool> = branches.iter().map(|br| *br == PERTURBED).collect();
        let any_perturbed = perturbed.iter().any(|p| *p);
        let perturbation_mask = if any_perturbed && !perturbed.iter().all(|p| *p) {
            let keep: Vec<f32> = perturbed
                .iter()
                .map(|p| if *p { 0.0 } else { 1.0 })
                .collect();
            Some(Tensor::f_from_slice(&keep)?.f_to_device(dev)?)
        } else {
            None
        };
        let coords = match &self.video_coords {
            Some(c) => Some(c.f_to_device(dev)?.f_repeat([b, 1, 1, 1])?),
            None => None,
        };
        let mut inputs = Ltx2Inputs::new(
            &video_in,
            &audio_in,
            &text_v,
            &text_a,
            video_timestep.as_ref().unwrap_or(&timestep),
            self.grid,
            self.audio_frames,
        );
        // Held audio tokens (an extension's overlap) are clean: timestep 0.
        let audio_timestep = per_token(&self.audio_mask)?;
        if let Some(at) = &audio_timestep {
            inputs.audio_timestep = Some(at);
        } else if video_timestep.is_some() {
            inputs.audio_timestep = Some(&timestep);
        }
        inputs.video_coords = coords.as_ref();
        inputs.text_mask = Some(&mask);
        inputs.audio_text_mask = Some(&mask);
        inputs.sigma = Some(&timestep);
        inputs.fps = f64::from(self.req.fps);
        let isolated: Vec<bool> = branches.iter().map(|br| *br == ISOLATED).collect();
        let isolation_mask = if isolated.iter().all(|i| *i) {
            inputs.isolate_modalities = true;
            None
        } else if isolated.iter().any(|i| *i) {
            let keep: Vec<f32> = isolated
                .iter()
                .map(|i| if *i { 0.0 } else { 1.0 })
                .collect();
            Some(Tensor::f_from_slice(&keep)?.f_to_device(dev)?)
        } else {
            None
        };
        inputs.isolation_mask = isolation_mask.as_ref();
        if any_perturbed {
            inputs.spatio_temporal_guidance_blocks = self.settings.stg_blocks.clone();
        }
        inputs.perturbation_mask = perturbation_mask.as_ref();
        inputs.use_cross_timestep = self.settings.use_cross_timestep;
        inputs.prepared_text = Some(&prepared);
        // STG's branch is the conditional one until its first perturbed
        // block: the transformer runs it once up to there.
        let cond_at = branches.iter().position(|br| *br == COND);
        let same_as: Vec<usize> = branches
            .iter()
            .enumerate()
            .map(|(k, br)| match (br, cond_at) {
                (&PERTURBED, Some(c)) => c,
                _ => k,
            })
            .collect();
        if any_perturbed {
            inputs.same_as = Some(&same_as);
        }
        let (v, a) = fam.transformer_forward(&inputs, cache)?;
        let (v, a) = (v.f_to_kind(Kind::Float)?, a.f_to_kind(Kind::Float)?);
        (0..b)
            .map(|i| Ok(Latents::joint(v.f_narrow(0, i, 1)?, a.f_narrow(0, i, 1)?)))
            .collect()
    }
}

impl Generation for Ltx2Generation<'_> {
    fn start(&mut self, noise: &mut Noise) -> Result<Start> {
        let fam = self.fam;
        let geo = fam.rules.geometry;
        let c = fam.transformer.config();
        let [f, h, w] = self.grid;
        // Long-form: the previous window's tail is a full-strength frame
        // condition at index 0 (its latents as the walk left them, never
        // decoded), faded out over the held frames below; its audio is held
        // as an extension's sound is.
        let mut lead_frames = 0;
        let mut lead_audio = false;
        if let Some(lead) = self.lead.take() {
            lead_frames = lead.video.size().get(2).copied().unwrap_or(0);
            self.conditions.push(EncodedCondition {
                latents: lead.video,
                index: 0,
                strength: 1.0,
                pixel_frames: 1 + geo.temporal * (lead_frames - 1).max(0),
            });
            self.packed_noise = true;
            if let Some(a) = lead.audio {
                self.audio_tail = Some(a);
                lead_audio = true;
            }
        }
        // prepare_latents, then prepare_audio_latents: the generator's order
        // (the conditions' encoding draws nothing: it takes the posterior's mode).
        let mut condition = None;
        let video = if self.conditions.is_empty() {
            let video = noise.randn(&[1, c.in_channels, f, h, w])?;
            pack_video(&video, c.patch_size, c.patch_size_t)?.f_to_device(fam.device)?
        } else {
            let placed = conditions::place(
                &self.conditions,
                &Layout {
                    grid: self.grid,
                    channels: c.in_channels,
                    patch: c.patch_size,
                    patch_t: c.patch_size_t,
                    scale: [geo.temporal, geo.spatial, geo.spatial],
                    fps: f64::from(self.req.fps),
                },
            )?;
            // Long-form: held latent frame `j` of `m` holds with strength
            // `1 − j/m` (the first fully), the window's own frames taking the rest.
            fade_out_held(
                &placed.mask,
                lead_frames,
                (h / c.patch_size) * (w / c.patch_size),
            )?;
            let drawn = if self.packed_noise {
                noise.randn(&placed.latents.size())?
            } else {
                let n = noise.randn(&[1, c.in_channels, f, h, w])?;
                pack_video(&n, c.patch_size, c.patch_size_t)?
            };
            let video = conditions::noised(&placed, &drawn, 1.0)?.f_to_device(fam.device)?;
            if let Some(kf) = &placed.keyframe_coords {
                let grid_coords =
                    fam.transformer
                        .video_coords(1, self.grid, f64::from(self.req.fps))?;
                self.video_coords = Some(Tensor::f_cat(
                    &[grid_coords, kf.f_to_device(fam.device)?],
                    2,
                )?);
            }
            self.mask = Some(placed.mask.f_squeeze_dim(-1)?.f_to_device(fam.device)?);
            condition = Some(VideoCondition::new(placed.mask, placed.clean, &video)?);
            video
        };
        let audio = if self.packed_noise {
            noise.randn(&[
                1,
                self.audio_frames,
                geo.audio_channels * geo.latent_mel_bins(),
            ])?
        } else {
            let audio = noise.randn(&[
                1,
                geo.audio_channels,
                self.audio_frames,
                geo.latent_mel_bins(),
            ])?;
            pack_audio(&audio)?
        };
        let mut audio = audio.f_to_device(fam.device)?;
        // An extension's held sound: its tokens start at (and keep) the
        // clip's encoded audio, as a full-strength condition does.
        let mut audio_condition = None;
        if let Some(tail) = &self.audio_tail {
            let (la, d) = (audio.size()[1], audio.size()[2]);
            let keep = tail.size()[1].min(la);
            let mask = Tensor::f_zeros([1, la, 1], (Kind::Float, fam.device))?;
            let _ = mask.f_narrow(1, 0, keep)?.f_fill_(1.0)?;
            if lead_audio {
                // Long-form: faded out over the held latents, as the picture.
                fade_out_held(&mask, keep, 1)?;
            }
            let clean = Tensor::f_zeros([1, la, d], (Kind::Float, fam.device))?;
            clean
                .f_narrow(1, 0, keep)?
                .f_copy_(&tail.f_narrow(1, 0, keep)?.f_to_device(fam.device)?)?;
            audio = audio
                .f_mul(&mask.f_rsub_scalar(1.0)?)?
                .f_add(&clean.f_mul(&mask)?)?;
            self.audio_mask = Some(mask.f_squeeze_dim(-1)?);
            audio_condition = Some(VideoCondition::new(mask, clean, &audio)?);
        }
        // The walk draws nothing more, so the pipeline's decode noise is the
        // generator's next draw: take it now.
        if fam.vae.timestep_conditioning() {
            self.decode_noise = Some(noise.randn(&[1, c.in_channels, f, h, w])?);
        }
        let steps = self.req.steps as usize;
        let tokens = video.size()[1];
        let video_sched = fam.scheduler(steps, tokens)?;
        let audio_sched = fam.scheduler(steps, tokens)?;
        let ts = video_sched.timesteps();
        let n = ts.size().first().copied().unwrap_or(0);
        let timesteps = (0..n)
            .map(|i| Ok(ts.f_get(i)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Start {
            latents: Latents::joint(video, audio),
            timesteps,
            schedulers: Schedulers {
                video: video_sched,
                audio: Some(audio_sched),
            },
            begin: 0,
            condition,
            audio_condition,
        })
    }

    fn plan(&mut self, _step: &Step) -> Result<GuidancePlan> {
        let s = &self.settings;
        let mut branches = vec![COND];
        let mut terms = Vec::new();
        let mut term = |branch: BranchId, video: f64, audio: f64| {
            branches.push(branch);
            terms.push(Term {
                branch,
                scale: PerModality { video, audio },
            });
        };
        // The pipeline's delta forms: (s − 1)·(cond − uncond), s·(cond − perturbed),
        // (s − 1)·(cond − isolated), added in this order.
        if s.do_cfg() {
            term(UNCOND, s.cfg.0 - 1.0, s.cfg.1 - 1.0);
        }
        if s.do_stg() {
            term(PERTURBED, s.stg.0, s.stg.1);
        }
        if s.do_modality() {
            term(ISOLATED, s.modality.0 - 1.0, s.modality.1 - 1.0);
        }
        Ok(GuidancePlan {
            model: 0,
            branches,
            terms,
            form: Form::Deltas,
            space: Space::X0,
            rescale: PerModality {
                video: s.rescale.0,
                audio: s.rescale.1,
            },
        })
    }

    fn forward(
        &mut self,
        x: &Latents,
        step: &Step,
        _model: usize,
        branches: &[BranchId],
        cache: Option<CachedStep<'_>>,
    ) -> Result<Vec<Latents>> {
        // One call for every branch: STG and modality isolation are per
        // batch element (diffusers runs them as separate calls; the
        // predictions are the same).
        self.call(x, step.t, branches, cache)
    }

    fn hold_leading(&mut self, tail: Latents) -> Result<()> {
        if !matches!(self.req.mode, Mode::Text) || !self.req.conditions.is_empty() {
            return Err(Error::Unsupported(
                "LTX-2 long-form windows hold latents in text-to-video without frame conditions"
                    .into(),
            ));
        }
        self.lead = Some(tail);
        Ok(())
    }

    fn window_latents(&self, x: Latents) -> Result<Latents> {
        // The grid's tokens (no keyframe tokens in text-to-video), unpacked
        // to [1, C, F, h, w]; the audio stays packed [1, L, C·M].
        Ok(Latents {
            video: grid_video(self.fam, &x.video, self.grid)?,
            audio: x.audio,
        })
    }

    fn decode(self: Box<Self>, x: Latents, sink: &mut dyn FrameSink) -> Result<()> {
        let Ltx2Generation {
            fam,
            req,
            text,
            negative,
            grid,
            decode_noise,
            extend,
            ..
        } = *self;
        drop((text, negative));
        // Model offload: the transformer's copy goes before the VAEs' come.
        fam.release_resident()?;
        let video = grid_video(fam, &x.video, grid)?;
        let cond = match decode_noise {
            Some(noise) => {
                let (timestep, scale) = decode_settings(&req);
                Some(DecodeConditioning {
                    timestep: vec![timestep],
                    noise_scale: vec![scale],
                    noise,
                })
            }
            None => None,
        };
        fam.vae
            .decode_latents_streaming(&video, cond.as_ref(), &mut |v: Tensor| {
                sink.frames(video_to_frames(&v)?)
            })?;
        drop(video);
        // `audio=false`: the audio latent was walked with the video (the
        // picture attends to it, so the frames are those of the joint run)
        // but is neither decoded nor vocoded.
        if !req.audio {
            return Ok(());
        }
        let audio = x
            .audio
            .ok_or_else(|| Error::invalid("LTX-2 decodes an audio latent with the video"))?;
        let Sound { wave, rate, .. } = fam.decoders().sound(&audio)?;
        // An extension's track: the clip's own sound up to the seam, then
        // the window's after its overlap (faded across the seam).
        if let (Some(plan), Mode::Extend { clip, .. }) = (extend, &req.mode) {
            let fps = f64::from(req.fps);
            let wave = stitch(
                clip.audio.as_ref(),
                &wave,
                rate,
                f64::from(plan.overlap_start()) / fps,
                f64::from(plan.source) / fps,
                f64::from(plan.total()) / fps,
            )?;
            return sink.audio(wave, rate);
        }
        // Video-to-video keeping the clip's sound: its own samples, as long as the output.
        if let Mode::Video { clip, .. } = &req.mode {
            if keep_audio(&req) {
                let total = f64::from(req.frames) / f64::from(req.fps);
                let wave = stitch(clip.audio.as_ref(), &wave, rate, 0.0, total, total)?;
                return sink.audio(wave, rate);
            }
        }
        sink.audio(wave, rate)
    }
}

/// Long-form's crossfade on a per-token condition mask `[1, tokens, 1]`:
/// held item `j` of `m` (each `per` tokens, from the first) holds with
/// strength `1 − j/m`, the first fully, the window's own latents taking the
/// rest (the weights of Wan's
/// [`crate::denoise::held::HeldFrames::leading_crossfaded`]).
fn fade_out_held(mask: &Tensor, m: i64, per: i64) -> Result<()> {
    for j in 1..m {
        let _ = mask
            .f_narrow(1, j * per, per)?
            .f_fill_(1.0 - j as f64 / m as f64)?;
    }
    Ok(())
}

/// The grid's video tokens of packed latents `[1, S (+ K), C]` (keyframe
/// tokens, appended after the grid's, are dropped) unpacked to f32
/// `[1, C, F, h, w]`.
fn grid_video(fam: &Ltx2Family, packed: &Tensor, grid: [i64; 3]) -> Result<Tensor> {
    let c = fam.transformer.config();
    let base = grid[0] / c.patch_size_t * (grid[1] / c.patch_size) * (grid[2] / c.patch_size);
    unpack_video(
        &packed.f_narrow(1, 0, base)?.f_to_kind(Kind::Float)?,
        grid,
        c.patch_size,
        c.patch_size_t,
    )
}

/// Decoded video `[1, 3, t, H, W]` in about [-1, 1] → RGB frames `[t, H, W, 3]`
/// u8, as the pipeline's `postprocess_video` maps and a u8 conversion rounds them.
/// One f32 copy changed in place (the same values as a chain of new tensors,
/// which held six f32 copies of the clip at once: 3 GiB more at 768×512×121).
pub(crate) fn video_to_frames(video: &Tensor) -> Result<Tensor> {
    let mut x = video.f_to_dtype(Kind::Float, false, true)?;
    // In-place ops return another handle on `x`: not needed.
    let _ = x.f_mul_scalar_(0.5)?;
    let _ = x.f_add_scalar_(0.5)?;
    let _ = x.f_clamp_(0.0, 1.0)?;
    let _ = x.f_mul_scalar_(255.0)?;
    let _ = x.f_round_()?;
    Ok(x.f_squeeze_dim(0)?
        .f_permute([1, 2, 3, 0])?
        .f_to_kind(Kind::Uint8)?)
}
