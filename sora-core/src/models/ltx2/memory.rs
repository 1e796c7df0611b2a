//! The LTX-2 family's memory estimate: what its components weigh (from the
//! safetensors headers: the text encoder's language model only, not its
//! vision tower) and what is alive at the peak of each phase of a generation,
//! counted from the shapes the engine's code makes (configs + request):
//!
//! - text: Gemma 3 over each padded prompt (batch 1, `max_sequence_length`
//!   tokens), every hidden state kept and stacked as the pipeline does, the
//!   prompts' stacks joined, then the connectors over the batch of prompts
//!   (2 under classifier-free guidance; LTX-2.0's per-layer normalisation runs
//!   in f32 over `prompts × tokens × 3840 × 49` values, the largest tensor of
//!   the phase);
//! - denoise: one joint transformer forward on the batched guidance branches
//!   (video tokens and audio tokens; each stream's self-attention,
//!   text cross-attention, the audio↔video cross-attention and the
//!   feed-forward), the rotary tables and text of the call;
//! - decode: the video VAE decoder over the whole clip (or spatial tiles over
//!   the whole clip, with `vae_tiling`), walked layer by layer with the
//!   tensors each `let` keeps alive, the frames' conversion to u8; then the
//!   audio VAE and the vocoder.
//!
//! The shared arithmetic of [`crate::estimate`] (weight tallies, convolution
//! steps and their workspaces, allocator slack, phase assembly) does the rest.
//! Sizes are counted in `f64` (a fuzzed config cannot overflow them); the
//! decoder walk, in `u64`, is refused beyond 2^50 elements per tensor.

use serde_json::Value;

use super::audio_vae::Ltx2AudioVaeConfig;
use super::connectors::ConnectorsConfig;
use super::geometry::{LatentGeometry, AUDIO_COMPRESSION};
use super::latents::audio_latent_frames;
use super::params::GuidanceSettings;
use super::rules::Ltx2Rules;
use super::transformer::Ltx2TransformerConfig;
use super::video_vae::{FrameTiling, Ltx2VideoVaeConfig};
use crate::estimate::{
    assemble, check_config_ints, decoder_step_bytes, elem_bytes, output_bytes, Class, ConvStep,
    EstimateHeader, EstimateOptions, Keep, MemoryEstimate, PhasePlan, ResidentWeights, WeightTally,
    MAX_CONFIG_INT,
};
use crate::family::Rules;
use crate::nn::tiling::TileGrid;
use crate::nn::Offload;
use crate::pipeline::request::{Mode, Request, Resolved};
use crate::text::gemma3::model::language_model_prefix;
use crate::text::gemma3::Gemma3TextConfig;
use crate::weights::{read_config, ModelFolder, TensorStore};
use crate::{Device, Error, Result};

/// Components in the order [`super::Ltx2Family`] loads them.
pub(crate) const LOAD_ORDER: [&str; 6] = [
    "text_encoder",
    "connectors",
    "transformer",
    "vae",
    "audio_vae",
    "vocoder",
];

/// Elements of the largest tensor the decoder walk may count (far beyond any
/// machine; keeps its `u64` products of a few of them from overflowing).
const MAX_WALK_ELEMENTS: f64 = (1u64 << 50) as f64;

/// One HiFi-GAN-style generator of the vocoder: what its working set depends on.
#[derive(Debug, Clone)]
struct GeneratorShape {
    in_channels: i64,
    hidden: i64,
    factors: Vec<i64>,
    /// Parallel residual blocks per stage.
    blocks: i64,
    /// Anti-aliasing ratio around each activation (0: none).
    antialias: i64,
}

impl GeneratorShape {
    fn from_value(v: &Value, prefix: &str) -> Self {
        let int = |k: &str, d: i64| {
            v.get(format!("{prefix}{k}"))
                .and_then(Value::as_i64)
                .unwrap_or(d)
        };
        let list = |k: &str| -> Vec<i64> {
            v.get(format!("{prefix}{k}"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default()
        };
        let antialias = v
            .get(format!("{prefix}antialias"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let act_is_snake = v
            .get(format!("{prefix}act_fn"))
            .and_then(Value::as_str)
            .is_some_and(|a| a != "leaky_relu");
        Self {
            in_channels: int("in_channels", 128),
            hidden: int("hidden_channels", 1024),
            factors: list("upsample_factors"),
            blocks: list("resnet_kernel_sizes").len().max(1) as i64,
            antialias: if antialias || act_is_snake {
                int("antialias_ratio", 2).max(1)
            } else {
                0
            },
        }
    }

    /// Waveform samples from `frames` input frames.
    fn samples(&self, frames: f64) -> f64 {
        self.factors
            .iter()
            .fold(frames, |t, &f| t * f.max(1) as f64)
    }

    /// Peak elements of one forward on `frames` input frames (batch 1): per
    /// stage, the stage's input, the finished residual blocks' outputs, their
    /// stack and mean, and one block's layer (its running sum, the
    /// activation's up-sampled temporaries, the convolution's output).
    fn peak_elements(&self, frames: f64) -> f64 {
        let (mut c, mut t) = (self.hidden.max(1) as f64, frames);
        let mut peak = (self.in_channels.max(1) as f64 + 2.0 * c) * t;
        let act = 3.0 * self.antialias.max(1) as f64 + 1.0;
        let blocks = self.blocks.max(1) as f64;
        for &f in &self.factors {
            let (c_out, t_out) = ((c / 2.0).max(1.0), t * f.max(1) as f64);
            let up = 3.0 * c * t + c_out * t_out;
            let x = c_out * t_out;
            let layer = (blocks + 3.0 + act) * x;
            let join = (2.0 * blocks + 2.0) * x;
            peak = peak.max(up).max(layer).max(join);
            (c, t) = (c_out, t_out);
        }
        // The final (anti-aliased) activation and the output convolution.
        peak.max((act + 2.0) * c * t)
    }
}

/// The vocoder: one generator, or (LTX-2.3) a generator at the input rate
/// and a bandwidth-extension generator on the mel spectrogram of its output.
#[derive(Debug, Clone)]
struct VocoderShape {
    main: GeneratorShape,
    /// The bandwidth extension and its hop length (input samples per frame).
    bwe: Option<(GeneratorShape, i64)>,
    out_channels: i64,
}

impl VocoderShape {
    fn from_value(v: &Value) -> Self {
        let bwe = v.get("bwe_in_channels").map(|_| {
            let hop = v.get("hop_length").and_then(Value::as_i64).unwrap_or(80);
            (GeneratorShape::from_value(v, "bwe_"), hop.max(1))
        });
        Self {
            main: GeneratorShape::from_value(v, ""),
            bwe,
            out_channels: v.get("out_channels").and_then(Value::as_i64).unwrap_or(2),
        }
    }

    /// Peak bytes of turning `mel_frames` mel frames into the waveform, the
    /// waveform (f32, on the CPU) and the sink's copies of it included.
    fn bytes(&self, mel_frames: f64, e: f64) -> f64 {
        let main = self.main.peak_elements(mel_frames) * e;
        let samples = self.main.samples(mel_frames);
        let out = self.out_channels.max(1) as f64;
        let (peak, samples) = match &self.bwe {
            Some((g, hop)) => {
                let frames = samples / *hop as f64 + 1.0;
                let wide = g.samples(frames);
                // The first waveform, its spectrogram, the resampled waveform.
                let around = out * (samples + 2.0 * wide) * e + frames * 1024.0 * 4.0;
                (main.max(g.peak_elements(frames) * e + around), wide)
            }
            None => (main, samples),
        };
        // The waveform in f32 on the CPU and the sink's three copies of it.
        peak + 4.0 * out * samples * 4.0
    }
}

/// What the estimate needs to know of an LTX-2 folder: configs and tensor counts.
#[derive(Debug, Clone)]
pub(crate) struct Ltx2Spec {
    text: Gemma3TextConfig,
    connectors: ConnectorsConfig,
    transformer: Ltx2TransformerConfig,
    vae: Ltx2VideoVaeConfig,
    audio_vae: Ltx2AudioVaeConfig,
    vocoder: VocoderShape,
    geometry: LatentGeometry,
    /// Per component, in load order.
    tallies: Vec<(String, WeightTally)>,
    /// The transformer's weights outside the blocks and those of one block
    /// (what sequential offload keeps on the run device).
    transformer_parts: (WeightTally, WeightTally),
    /// The same for Gemma: its final norm and one layer (the token embedding
    /// stays in host memory).
    text_parts: (WeightTally, WeightTally),
}

/// The state of a loaded pipeline the estimate depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Residency {
    /// Count the loading of the weights as a phase (an estimate from a folder).
    pub loading: bool,
    /// The text encoder's weights are where a run uses them (on the run
    /// device, or in host memory under weight offload): not to be reloaded.
    pub text_resident: bool,
}

impl Residency {
    /// A pipeline about to be loaded from its folder.
    pub fn fresh() -> Self {
        Self {
            loading: true,
            text_resident: true,
        }
    }
}

/// Refuses the Gemma sizes the estimate uses when negative or above
/// [`MAX_CONFIG_INT`] (its other fields, e.g. `rope_theta`, may be larger).
fn check_gemma(c: &Gemma3TextConfig, path: &std::path::Path) -> Result<()> {
    for (key, v) in [
        ("vocab_size", c.vocab_size),
        ("hidden_size", c.hidden_size),
        ("intermediate_size", c.intermediate_size),
        ("num_hidden_layers", c.num_hidden_layers),
        ("num_attention_heads", c.num_attention_heads),
        ("num_key_value_heads", c.num_key_value_heads),
        ("head_dim", c.head_dim),
    ] {
        if !(0..=MAX_CONFIG_INT).contains(&v) {
            return Err(Error::Config {
                path: path.to_path_buf(),
                reason: format!("`{key}` is {v}; sizes and counts must be in 0..={MAX_CONFIG_INT}"),
            });
        }
    }
    Ok(())
}

/// The tally of component `name`'s tensors that its loader reads and that
/// pass `only`.
fn tally_where(
    folder: &ModelFolder,
    name: &str,
    only: impl Fn(&str) -> bool,
) -> Result<WeightTally> {
    let dir = folder.component_dir(name)?;
    let store = TensorStore::open(&dir, name, tch::Device::Cpu, tch::Kind::Float)?;
    let lm = language_model_prefix(&store);
    let keep = |n: &str| -> Keep {
        // The transformer keeps its dense layers' float8 weights as stored
        // (the time embedders' MLPs are read in the run's dtype).
        if name == "transformer"
            && only(n)
            && store.is_stored_fp8(n)
            && n.ends_with(".weight")
            && !n.contains("timestep_embedder")
            && store.root().shape_of(n).is_some_and(|s| s.len() == 2)
        {
            return Keep::AsStored;
        }
        let read = match name {
            // The language model only: the vision tower, the projector and a
            // saved lm_head are not read.
            "text_encoder" => n.starts_with(lm) && !is_vision(n),
            // The audio VAE's encoder is not ported (not read).
            "audio_vae" => !n.starts_with("encoder."),
            _ => true,
        };
        if read && only(n) {
            Keep::Cast
        } else {
            Keep::Skip
        }
    };
    Ok(WeightTally::from_store(&store, keep))
}

fn is_vision(name: &str) -> bool {
    name.contains("vision_tower")
        || name.contains("multi_modal_projector")
        || name.contains("lm_head")
}

impl Ltx2Spec {
    /// Reads the configs and the safetensors headers of an LTX-2 folder (no tensor data).
    pub fn from_folder(folder: &ModelFolder) -> Result<Self> {
        for c in ["connectors", "transformer", "vae", "audio_vae", "vocoder"] {
            check_config_ints(&folder.component_dir(c)?.join("config.json"))?;
        }
        let text_path = folder.component_dir("text_encoder")?.join("config.json");
        let text = Gemma3TextConfig::load(&text_path)?;
        check_gemma(&text, &text_path)?;
        let connectors =
            ConnectorsConfig::load(&folder.component_dir("connectors")?.join("config.json"))?;
        let tr_path = folder.component_dir("transformer")?.join("config.json");
        let transformer: Ltx2TransformerConfig = read_config(&tr_path)?;
        transformer.validate().map_err(|e| match e {
            Error::InvalidRequest(reason) => Error::Config {
                path: tr_path.clone(),
                reason,
            },
            other => other,
        })?;
        let vae: Ltx2VideoVaeConfig =
            read_config(&folder.component_dir("vae")?.join("config.json"))?;
        let audio_vae: Ltx2AudioVaeConfig =
            read_config(&folder.component_dir("audio_vae")?.join("config.json"))?;
        let vocoder_raw: Value =
            read_config(&folder.component_dir("vocoder")?.join("config.json"))?;
        let vocoder = VocoderShape::from_value(&vocoder_raw);
        let geometry = LatentGeometry::from_folder(folder)?;
        let mut tallies = Vec::new();
        for name in LOAD_ORDER {
            tallies.push((name.to_string(), tally_where(folder, name, |_| true)?));
        }
        let transformer_parts = (
            tally_where(folder, "transformer", |n| {
                !n.starts_with("transformer_blocks.")
            })?,
            tally_where(folder, "transformer", |n| {
                n.starts_with("transformer_blocks.0.")
            })?,
        );
        let text_parts = {
            let dir = folder.component_dir("text_encoder")?;
            let store =
                TensorStore::open(&dir, "text_encoder", tch::Device::Cpu, tch::Kind::Float)?;
            let lm = language_model_prefix(&store).to_string();
            let (norm, layer) = (format!("{lm}norm."), format!("{lm}layers.0."));
            (
                tally_where(folder, "text_encoder", |n| n.starts_with(&norm))?,
                tally_where(folder, "text_encoder", |n| n.starts_with(&layer))?,
            )
        };
        Ok(Self {
            text,
            connectors,
            transformer,
            vae,
            audio_vae,
            vocoder,
            geometry,
            tallies,
            transformer_parts,
            text_parts,
        })
    }

    /// The request rules of the folder (as the loaded family builds them).
    pub fn rules(&self, folder: &ModelFolder) -> Result<Ltx2Rules> {
        Ok(Ltx2Rules {
            geometry: self.geometry,
            patch: (self.transformer.patch_size, self.transformer.patch_size_t),
            scheduler_config: folder
                .root()
                .join("scheduler")
                .join("scheduler_config.json"),
            defaults: crate::pipeline::folder_defaults::apply(
                folder.root(),
                super::rules::ltx2_defaults(),
            )?,
        })
    }

    fn weight_tally(&self, name: &str) -> Option<&WeightTally> {
        self.tallies.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The estimate of `req` (already resolved and checked), the video VAE
    /// decoding in time windows when `frame_tiling` is set.
    pub fn estimate(
        &self,
        req: &Resolved,
        opts: &EstimateOptions,
        state: Residency,
        frame_tiling: Option<FrameTiling>,
    ) -> Result<MemoryEstimate> {
        let dtype = opts.dtype;
        let e = elem_bytes(dtype) as f64;
        let geo = self.geometry;
        let c = &self.transformer;
        // An extension generates its window: the clip's tail, then the frames added.
        let step = (geo.temporal * c.patch_size_t).max(1) as u32;
        let rule = |f: u32| 1 + step * ((f.max(1) - 1) as f64 / f64::from(step)).round() as u32;
        let walked_frames = req.generated_frames(rule)?;
        let (width, height, frames) = (req.width as u64, req.height as u64, walked_frames as u64);
        // Far beyond any machine; bounds every product below.
        if (width as u128) * (height as u128) * (frames as u128) > 1 << 40 {
            return Err(Error::invalid(format!(
                "{width}x{height} with {frames} frames is too large to generate \
                 (more than 2^40 pixels)"
            )));
        }
        let spatial = geo.spatial.max(1) as u64;
        let lat = [
            geo.latent_frames(walked_frames).max(1) as u64,
            (height / spatial).max(1),
            (width / spatial).max(1),
        ];
        let (pt, p) = (c.patch_size_t.max(1) as u64, c.patch_size.max(1) as u64);
        let sv = (lat[0] / pt).max(1) * (lat[1] / p).max(1) * (lat[2] / p).max(1);
        let la = audio_latent_frames(
            walked_frames,
            f64::from(req.fps),
            geo.sample_rate as f64,
            geo.hop_length as f64,
            AUDIO_COMPRESSION as f64,
        )?
        .max(1) as u64;
        let sa = (la / c.audio_patch_size_t.max(1) as u64).max(1);

        // Guidance: the branches of one step, batched as the walk batches them.
        let g = GuidanceSettings::from_request(req)?;
        let plain = 1 + u64::from(g.do_cfg()) + u64::from(g.do_stg());
        let isolated = u64::from(g.do_modality());
        let branches = plain + isolated;
        // One call takes every branch (the isolated one too) when batched.
        let batch = if opts.batch_guidance { branches } else { 1 };
        let prompts = if g.do_cfg() { 2.0 } else { 1.0 };
        let tokens = g.max_sequence_length.max(1) as f64;

        // Text.
        let gemma_act = self.gemma_bytes(prompts, tokens, e);
        let (connector_act, text_out) = self.connector_bytes(prompts, tokens, e);
        // Between the two: the prompts' stacked states (the connectors' input).
        let stacked = prompts * tokens * self.stacked_width() * e;

        // Denoise.
        let transformer_act = self.transformer_bytes(batch as f64, sv as f64, sa as f64, tokens, e);
        let latent_bytes = (sv * c.in_channels.max(1) as u64
            + sa * c.audio_in_channels.max(1) as u64) as f64
            * 4.0;
        let loop_state = latent_bytes * (8.0 + 3.0 * branches as f64);
        // Step caching keeps two residuals (first block, the rest) of both
        // streams for every guidance branch (batched or not, the same
        // elements), and a step makes the first block's new one beside them.
        let hidden =
            (sv * c.inner_dim().max(1) as u64 + sa * c.audio_inner_dim().max(1) as u64) as f64 * e;
        let step_cache = if opts.step_cache {
            3.0 * branches as f64 * hidden
        } else {
            0.0
        };

        // Decode.
        let (vae_act, vae_tiles) = self.video_decode_bytes(
            lat,
            latent_bytes,
            opts,
            frame_tiling,
            frames * height * width,
        )?;
        let mel_frames = (la * AUDIO_COMPRESSION as u64) as f64;
        // `audio=false`: the audio latent is walked with the video (the
        // picture attends to it) but never decoded.
        let audio_act = if req.audio {
            self.audio_decode_bytes(la as f64, e) + self.vocoder.bytes(mel_frames, e) + latent_bytes
        } else {
            0.0
        };
        let output = output_bytes(frames, height, width);

        // Weights.
        let weights = ResidentWeights::of(&self.tallies, dtype);
        let weight_of = |name: &str| weights.get(name);
        let offloaded = opts.offload.is_on();
        let sequential = opts.offload == Offload::Sequential;
        let text_after = !opts.offload_text_encoder;
        let add_resident = |p: &mut PhasePlan, with_text: bool| {
            for (n, b) in weights.iter() {
                if n != "text_encoder" || with_text {
                    p.add(format!("weights: {n}"), *b, Class::Weights);
                }
            }
        };
        let streamed = |parts: &(WeightTally, WeightTally)| {
            parts.0.resident_bytes(dtype) + parts.1.resident_bytes(dtype)
        };
        // Under weight offload a stage holds its own component's weights only.
        let stage_weights = |p: &mut PhasePlan, stage: &str, with_text: bool| {
            if !offloaded {
                add_resident(p, with_text);
                return;
            }
            match stage {
                "gemma" if sequential => p.add(
                    "weights: text_encoder layer and final norm (sequential offload)",
                    streamed(&self.text_parts),
                    Class::Weights,
                ),
                "gemma" => p.add(
                    "weights: text_encoder (offloaded)",
                    weight_of("text_encoder"),
                    Class::Weights,
                ),
                "connectors" => p.add(
                    "weights: connectors (offloaded)",
                    weight_of("connectors"),
                    Class::Weights,
                ),
                "transformer" if sequential => p.add(
                    "weights: transformer block and outer layers (sequential offload)",
                    streamed(&self.transformer_parts),
                    Class::Weights,
                ),
                "transformer" => p.add(
                    "weights: transformer (offloaded)",
                    weight_of("transformer"),
                    Class::Weights,
                ),
                "vae" => p.add("weights: vae (offloaded)", weight_of("vae"), Class::Weights),
                _ => p.add(
                    "weights: audio_vae or vocoder (offloaded)",
                    weight_of("audio_vae").max(weight_of("vocoder")),
                    Class::Weights,
                ),
            };
        };

        let mut phases = Vec::new();
        if state.loading && opts.device == Device::Cpu {
            // The peak of loading: every component before, this one, and its
            // mapped file pages (released once the component is built).
            let mut before = 0u64;
            let mut worst: Option<(u64, PhasePlan)> = None;
            for (n, t) in &self.tallies {
                let res = t.resident_bytes(dtype);
                let transient = t.load_transient_bytes(opts.device);
                let total = before + res + transient;
                if worst.as_ref().map_or(true, |(w, _)| total > *w) {
                    let mut p = PhasePlan::new("load");
                    p.add("weights loaded before", before, Class::Weights)
                        .add(format!("weights: {n}"), res, Class::Weights)
                        .add(
                            format!("mapped files of {n} while loading"),
                            transient,
                            Class::Weights,
                        );
                    worst = Some((total, p));
                }
                before += res;
            }
            phases.extend(worst.map(|(_, p)| p));
        }

        let total_of = |p: &PhasePlan| -> u64 { p.parts.iter().map(|(_, b, _)| *b).sum() };
        let worse = |a: PhasePlan, b: PhasePlan| if total_of(&b) > total_of(&a) { b } else { a };

        // Text: Gemma (reloaded or copied back first when released), then the
        // connectors (the text encoder released before them under
        // `offload_text_encoder`).
        let mut gemma = PhasePlan::new("text");
        stage_weights(&mut gemma, "gemma", true);
        let reload = match (state.text_resident, self.weight_tally("text_encoder")) {
            (false, Some(t)) => t.load_transient_bytes(opts.device),
            _ => 0,
        };
        gemma.add(
            "text encoder forward",
            bytes(gemma_act).max(reload),
            Class::Activations,
        );
        let mut connectors = PhasePlan::new("text");
        stage_weights(&mut connectors, "connectors", text_after);
        connectors
            .add("stacked text hidden states", bytes(stacked), Class::Carried)
            .add("text connectors", bytes(connector_act), Class::Activations);
        phases.push(worse(gemma, connectors));

        // The prompts' text as the transformer uses it, made once for the
        // walk: the caption projections (LTX-2.0) and, with the blocks'
        // weights resident and no prompt modulation, each block's text keys
        // and values (joined over the call's branches block by block).
        let (d, da) = (
            c.inner_dim().max(0) as f64,
            c.audio_inner_dim().max(0) as f64,
        );
        let projected = if c.use_prompt_embeddings {
            prompts * tokens * (d + da) * e
        } else {
            0.0
        };
        let kv_cached = !offloaded && !c.prompt_modulation();
        let (kv_held, kv_joined) = if kv_cached {
            let per_prompt_block = 2.0 * tokens * (d + da) * e;
            (
                prompts * c.num_layers.max(0) as f64 * per_prompt_block,
                batch as f64 * per_prompt_block,
            )
        } else {
            (0.0, 0.0)
        };
        // Image to video: the VAE encodes the (resized) image as one frame
        // while the prompt embeddings wait; the estimate's "VAE encode".
        // Video to video: the whole clip in one encoder call, its working set
        // counted as that of one frame times the frames (the encoder is not
        // streamed over time); an extension, the clip's tail likewise (its
        // sound's encode, a fraction of a second of mel, is small beside it).
        let mut encode_act = 0;
        let encoded_frames: u64 = match &req.mode {
            Mode::Image(_) => 1,
            Mode::Video { clip, .. } => (clip.frames.shape()[0] as u64).clamp(1, frames.max(1)),
            // The clip's tail (the overlap), encoded as a frame condition.
            Mode::Extend { clip, .. } => (clip.frames.shape()[0] as u64)
                .min(u64::from(crate::pipeline::extend::MAX_OVERLAP))
                .clamp(1, frames.max(1)),
            _ => 0,
        };
        if encoded_frames > 0 {
            let walk = video_encoder_walk(&self.vae, height, width, elem_bytes(dtype))?;
            let step = decoder_step_bytes(&walk.steps, &walk.other, opts.device, dtype);
            // The image's f32 copies (pixels, resized, scaled) and the
            // normalised first-frame latents in f32.
            encode_act = (step + 4 * 3 * height * width * 4 + 3 * walk.out * 4) * encoded_frames;
            let mut prepare = PhasePlan::new("prepare");
            stage_weights(&mut prepare, "vae", text_after);
            prepare
                .add("prompt embeddings", bytes(text_out), Class::Carried)
                .add("VAE encode", encode_act, Class::Activations);
            phases.push(prepare);
        }

        let mut denoise = PhasePlan::new("denoise");
        stage_weights(&mut denoise, "transformer", text_after);
        denoise
            .add("prompt embeddings", bytes(text_out), Class::Carried)
            .add(
                "prepared text (projections, keys and values)",
                bytes(projected + kv_held),
                Class::Carried,
            )
            .add(
                "text keys and values of one block's call",
                bytes(kv_joined),
                Class::Activations,
            )
            .add("latents", bytes(loop_state), Class::Carried)
            .add("step cache", bytes(step_cache), Class::Carried)
            .add(
                "transformer forward",
                bytes(transformer_act),
                Class::Activations,
            );
        phases.push(denoise);

        let mut video = PhasePlan::new("decode");
        stage_weights(&mut video, "vae", text_after);
        video.add("output clip", output, Class::Carried).add(
            "VAE decode",
            vae_act,
            Class::Activations,
        );
        if req.audio {
            let mut audio = PhasePlan::new("decode");
            stage_weights(&mut audio, "audio", text_after);
            audio.add("output clip", output, Class::Carried).add(
                "audio decode",
                bytes(audio_act),
                Class::Activations,
            );
            phases.push(worse(video, audio));
        } else {
            phases.push(video);
        }

        let mut activations = vec![
            ("text encoder forward".to_string(), bytes(gemma_act)),
            ("text connectors".to_string(), bytes(connector_act)),
            ("transformer forward".to_string(), bytes(transformer_act)),
            ("VAE decode".to_string(), vae_act),
        ];
        if req.audio {
            activations.push(("audio decode".to_string(), bytes(audio_act)));
        }
        if encode_act > 0 {
            activations.push(("VAE encode".to_string(), encode_act));
        }
        let held = if state.loading || offloaded {
            // Offloaded weights are in host memory between runs.
            0
        } else {
            weights
                .iter()
                .filter(|(n, _)| n != "text_encoder" || state.text_resident)
                .map(|(_, b)| *b)
                .sum()
        };
        Ok(assemble(
            EstimateHeader {
                family: "ltx2".into(),
                width: req.width,
                height: req.height,
                frames: walked_frames,
                batch: batch as u32,
                tokens: sv + sa,
                vae_tiles,
            },
            opts,
            weights.to_vec(),
            activations,
            output,
            phases,
            held,
        ))
    }

    /// Width of one token's stacked Gemma states: `hidden × (layers + 1)`.
    fn stacked_width(&self) -> f64 {
        let t = &self.text;
        (t.hidden_size.max(0) * (t.num_hidden_layers.max(0) + 1)) as f64
    }

    /// Peak bytes of encoding `prompts` prompts of `tokens` tokens with Gemma 3
    /// one at a time (`Ltx2TextEncoder::encode`) and joining their stacks: the
    /// stacks of the prompts before, every hidden state of this one with a
    /// layer's attention (an unfused SDPA's logits as the bound) or MLP, then
    /// the states and their stack, and at the end every stack and their join.
    fn gemma_bytes(&self, prompts: f64, tokens: f64, e: f64) -> f64 {
        let t = &self.text;
        let s = tokens;
        let d = t.hidden_size.max(0) as f64;
        let (h, kv, hd) = (
            t.num_attention_heads.max(0) as f64,
            t.num_key_value_heads.max(0) as f64,
            t.head_dim.max(0) as f64,
        );
        let ff = t.intermediate_size.max(0) as f64;
        let stack = s * self.stacked_width() * e;
        // Boolean masks [S, S] (causal, full, window, sliding and their
        // temporaries) and the rotary tables.
        let masks = 8.0 * s * s + 8.0 * s * hd * 4.0;
        let q = s * h * hd;
        let k = s * kv * hd;
        // normed, q and k (projected, normed, rotated with their temporaries),
        // v, keys and values repeated to every head, the attention's output
        // and its reshaped copy; the logits and softmax in f32.
        let attention =
            (s * d + 6.0 * q + 3.0 * k + 2.0 * q + 2.0 * q + s * d) * e + 2.0 * h * s * s * 4.0;
        // normed, gate, its activation, up and their product; the down projection.
        let mlp = (s * d + 4.0 * s * ff + s * d) * e;
        let layer = attention.max(mlp) + 2.0 * s * d * e;
        let one = (stack + layer).max(2.0 * stack) + masks;
        ((prompts - 1.0) * stack + one).max(2.0 * prompts * stack)
    }

    /// Peak bytes of the connectors over `prompts` stacked prompts (their
    /// input counted by the caller), and the bytes of their outputs (the
    /// prompt embeddings every step attends to).
    fn connector_bytes(&self, prompts: f64, tokens: f64, e: f64) -> (f64, f64) {
        let c = &self.connectors;
        let n = prompts * tokens;
        let x = n * (c.caption_channels.max(0) * c.text_proj_in_factor.max(0)) as f64;
        let norm = if c.per_modality_projections {
            // The per-token RMS norm, the padding zeroed, a scaled copy per stream.
            4.0 * x * e
        } else {
            // The masked copy, then the normalisation: its mean is taken over
            // an f32 count, so x − mean, ÷ range and × scale are f32 tensors.
            x * e + 3.0 * x * 4.0
        };
        let (dv, da) = (
            c.video_inner_dim().max(0) as f64,
            c.audio_inner_dim().max(0) as f64,
        );
        // Each stream's 1-D transformer: a block's attention and its 4×
        // feed-forward, the other stream's output alive.
        let blocks = 12.0 * n * (dv + da) * e;
        let out = n * (dv + da) * e;
        (norm.max(blocks) + out, out)
    }

    /// Peak bytes of one joint transformer forward on a batch of `b` branches
    /// with `sv` video and `sa` audio tokens and `l` text tokens, and the
    /// family's call around it (inputs repeated per branch, text joined).
    fn transformer_bytes(&self, b: f64, sv: f64, sa: f64, l: f64, e: f64) -> f64 {
        let c = &self.transformer;
        let d = c.inner_dim().max(0) as f64;
        let da = c.audio_inner_dim().max(0) as f64;
        let dca = c.audio_cross_attention_dim.max(0) as f64;
        let inner_a =
            (c.audio_num_attention_heads.max(0) * c.audio_attention_head_dim.max(0)) as f64;
        let (v, a) = (b * sv * d, b * sa * da);
        let (vc, ac) = (b * sv * dca, b * sa * dca);
        // Rotary tables, cos and sin in f32 (half the width each): self
        // attention per stream, and time-only tables of each stream's tokens
        // for the audio↔video attention. Building one: its angles (twice) and
        // a padded copy.
        let ropes = 4.0 * (v + a + vc + ac);
        let rope_build = 6.0 * v.max(a).max(vc).max(ac);
        // The text the call gets (joined over the branches) and, with
        // caption projections (LTX-2.0), its projection per stream.
        let (tv, ta) = if c.use_prompt_embeddings {
            (c.caption_channels as f64, c.caption_channels as f64)
        } else {
            (
                c.cross_attention_dim as f64,
                c.audio_cross_attention_dim as f64,
            )
        };
        let text_in = b * l * (tv + ta) * e;
        let text_proj = if c.use_prompt_embeddings {
            b * l * (d + da) * e
        } else {
            0.0
        };
        let projecting = if c.use_prompt_embeddings {
            2.0 * b * l * d.max(da) * e
        } else {
            0.0
        };
        // LTX-2.3's modulated text, made in each block.
        let text_mod = if c.prompt_modulation() {
            2.0 * b * l * (d + da) * e
        } else {
            0.0
        };
        let inputs = b * (sv * c.in_channels as f64 + sa * c.audio_in_channels as f64) * e;
        let outputs =
            b * (sv * c.video_out_channels() as f64 + sa * c.audio_out_dim() as f64) * (e + 8.0);
        // One block (every `let` in `Ltx2Block::forward` lives to its end):
        // the video feed-forward with the block's earlier states of both
        // streams alive, the audio one, a self-attention, and the
        // audio→video attention.
        let ff_video = (15.0 * v + 6.0 * a) * e;
        let ff_audio = (8.0 * v + 15.0 * a) * e;
        let attn_video = (2.0 * v + a) * e + (9.0 * v * e).max(4.0 * v * e + 12.0 * v);
        let (vq, aq) = (b * sv * inner_a, b * sa * inner_a);
        let a2v = (8.0 * v + 7.0 * a) * e + (4.0 * vq + 3.0 * aq + v) * e + 12.0 * vq;
        let block = ff_video.max(ff_audio).max(attn_video).max(a2v) + text_mod;
        // The output layers: a plain layer norm in f32 and the modulation.
        let head = (v + a) * e + 12.0 * v + 2.0 * v * e;
        ropes
            + text_in
            + text_proj
            + inputs
            + outputs
            + block.max(rope_build + projecting).max(head)
    }

    /// Peak bytes of the video decode (the decoder over the whole clip, or
    /// spatial tiles of it, or time windows), the decoded frames' conversion
    /// to u8 included; and the spatial tiles per window (1: whole frames).
    fn video_decode_bytes(
        &self,
        lat: [u64; 3],
        latent_bytes: f64,
        opts: &EstimateOptions,
        frame_tiling: Option<FrameTiling>,
        pixels: u64,
    ) -> Result<(u64, u64)> {
        let dtype = opts.dtype;
        let e = elem_bytes(dtype);
        let vae = &self.vae;
        let spatial = self.geometry.spatial.max(1);
        let temporal = self.geometry.temporal.max(1) as u64;
        // Latents in f32 (the loop's, unpacked, de-normalised) and the
        // decoder's copy: counted in the decoder's elements.
        let c_lat = vae.latent_channels.max(1) as u64;
        let around = |frames: u64| -> u64 {
            let z = c_lat * frames * lat[1] * lat[2];
            z * (12 / e + 1) + (latent_bytes as u64).div_ceil(e)
        };
        let grid = match &opts.vae_tiling {
            Some(t) => {
                t.validate(spatial, 1)?;
                Some(TileGrid::new(t, spatial, 1))
                    .filter(|g| g.needs_tiling(lat[1] as i64, lat[2] as i64))
            }
            None => None,
        };
        // Time windows (`FrameTiling`): `min/t + 1` latent frames at a time,
        // the previous window kept for the blend.
        let window = frame_tiling
            .map(|f| (f.tile_sample_min_num_frames.max(1) as u64 / temporal + 1).min(lat[0]))
            .filter(|&w| lat[0] > w.saturating_sub(1))
            .unwrap_or(lat[0]);
        let whole = video_decode_chunk(vae, window, lat, around(lat[0]), grid.as_ref(), opts)?;
        let prev = if window < lat[0] {
            // The previous window's decoded frames.
            (pixels / lat[0].max(1)) * window * e
        } else {
            0
        };
        let tiles = grid
            .map(|g| {
                let (rows, cols) = g.tile_extents(lat[1] as i64, lat[2] as i64);
                let count = |v: Vec<(i64, u64)>| v.iter().map(|(_, n)| n).sum::<u64>();
                count(rows).saturating_mul(count(cols))
            })
            .unwrap_or(1);
        Ok((whole.saturating_add(prev), tiles))
    }

    /// Peak bytes of the audio VAE's decoder over `la` latent frames (a 2-D
    /// network over time × mel bins): per resolution its widest residual
    /// block (input, norm, SiLU, padded copy, output, convolution scratch),
    /// attention where configured, the up-sampling (nearest, then a padded
    /// convolution), and the output; the latents' copies in f32.
    fn audio_decode_bytes(&self, la: f64, e: f64) -> f64 {
        let c = &self.audio_vae;
        let n = c.ch_mult.len().max(1);
        let base = c.base_channels.max(1) as f64;
        let mult = |i: usize| c.ch_mult.get(i).copied().unwrap_or(1).max(1) as f64;
        let mel = (self.geometry.latent_mel_bins().max(1)) as f64;
        let latent = la * mel * c.latent_channels.max(1) as f64;
        let (mut t, mut m) = (la, mel);
        let mut block_in = base * mult(n - 1);
        let mut peak = 3.0 * latent * 4.0 + 9.0 * block_in * t * m * e;
        let attention =
            !c.attn_resolutions.as_ref().map_or(true, Vec::is_empty) || c.mid_block_add_attention;
        for level in (0..n).rev() {
            let out = base * mult(level);
            let x = block_in.max(out) * t * m;
            peak = peak.max(9.0 * x * e);
            if attention {
                peak = peak.max(6.0 * x * e + 2.0 * (t * m) * (t * m) * 4.0);
            }
            block_in = out;
            if level != 0 {
                (t, m) = (2.0 * t, 2.0 * m);
                // The input, its nearest up-sampling, the padded copy, the output.
                peak = peak.max((out * t * m / 4.0 + 3.0 * out * t * m) * e);
            }
        }
        let out = c.output_channels.max(1) as f64 * t * m;
        peak.max((4.0 * block_in * t * m + 2.0 * out) * e) + latent * 12.0
    }
}

/// Bytes as an integer (saturating; a NaN is 0).
fn bytes(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        x.min(u64::MAX as f64) as u64
    }
}

/// The LTX-2 video decoder walked over one latent chunk: its convolutions
/// (no feature cache: it runs over the whole chunk), the bytes of its other
/// steps, and the decoded elements (`3 × T × H × W`).
struct VideoWalk {
    steps: Vec<ConvStep>,
    other: Vec<u64>,
    out: u64,
}

/// A 3×3×3 convolution of `FramePadConv3d` on `t × h × w`: time padded by a
/// copy (edge frames, 2 more), space by a copy with `reflect` (else by the
/// convolution), `alive` elements around it.
fn conv3(c_in: u64, c_out: u64, [t, h, w]: [u64; 3], reflect: bool, alive: u64) -> ConvStep {
    let pad = u64::from(reflect) * 2;
    let time_padded = c_in * (t + 2) * h * w;
    ConvStep {
        batch: 1,
        c_in,
        c_out,
        t_in: t + 2,
        t_out: t,
        h_in: h + pad,
        w_in: w + pad,
        h_out: h,
        w_out: w,
        kernel: [3, 3, 3],
        two_d: false,
        cached_frames: 0,
        alive: alive + if reflect { time_padded } else { 0 },
    }
}

/// `LTX2VideoResnetBlock3d` (`video_vae/blocks.rs`) from `c_in` to `c_out`
/// channels on `size`, with `outer` elements alive around it: the input, its
/// norm and SiLU around the first convolution; the second norm and SiLU
/// around the second; the shortcut's layer norm and 1×1 convolution when the
/// width changes. `other` gets the norms' bytes (`e` bytes an element).
#[allow(clippy::too_many_arguments)]
fn resnet(
    steps: &mut Vec<ConvStep>,
    other: &mut Vec<u64>,
    c_in: u64,
    c_out: u64,
    size: [u64; 3],
    reflect: bool,
    outer: u64,
    e: u64,
) {
    let thw = size[0] * size[1] * size[2];
    let (x, y) = (c_in * thw, c_out * thw);
    steps.push(conv3(c_in, c_out, size, reflect, outer + 3 * x));
    steps.push(conv3(c_out, c_out, size, reflect, outer + x + 2 * y));
    // The second norm: the input, the first convolution's output, its
    // square and the normed copy (and a modulation's two temporaries).
    other.push((outer + x + 5 * y) * e);
    if c_in != c_out {
        steps.push(ConvStep {
            batch: 1,
            c_in,
            c_out,
            t_in: size[0],
            t_out: size[0],
            h_in: size[1],
            w_in: size[2],
            h_out: size[1],
            w_out: size[2],
            kernel: [1, 1, 1],
            two_d: false,
            cached_frames: 0,
            alive: outer + 2 * x + y,
        });
    }
}

/// Walks `video_vae/decoder.rs` as it runs on a latent chunk `frames × h × w`
/// (whole frames or one tile), `outer` elements alive around it, `e` bytes an
/// element: the input convolution, the middle block, each up block (a width
/// change, the up-sampler's convolution, its depth-to-space copy and
/// parameter-free residual, the residual blocks, with the block's input held
/// throughout), the final norm, the output convolution and the un-patchify copy.
fn video_decoder_walk(
    vae: &Ltx2VideoVaeConfig,
    lat: [u64; 3],
    outer: u64,
    e: u64,
) -> Result<VideoWalk> {
    let reflect = vae.decoder_spatial_padding_mode != "zeros";
    let n_layers = vae.decoder_layers_per_block.len();
    let n = vae.decoder_block_out_channels.len();
    let rev = |v: &[i64]| -> Vec<u64> { v.iter().rev().map(|&x| x.max(0) as u64).collect() };
    let rev_flags = |f: &super::video_vae::Flags| -> Vec<bool> {
        f.expand(n_layers.saturating_sub(1))
            .into_iter()
            .rev()
            .collect()
    };
    let widths = rev(&vae.decoder_block_out_channels);
    let layers = rev(&vae.decoder_layers_per_block);
    let factor = rev(&vae.upsample_factor);
    let scaling = rev_flags(&vae.decoder_spatio_temporal_scaling);
    let residual = rev_flags(&vae.upsample_residual);
    let bad = |reason: String| Error::Config {
        path: "vae/config.json".into(),
        reason,
    };
    if n == 0
        || n_layers != n + 1
        || scaling.len() < n
        || residual.len() < n
        || factor.len() < n
        || vae.upsample_type.len() < n
    {
        return Err(bad(
            "the decoder's lists (widths, layers, scaling, residual, factors, types) disagree"
                .into(),
        ));
    }
    let thw = |s: [u64; 3]| s[0] * s[1] * s[2];
    // Refuses sizes whose largest tensor (8 times the widest one at twice
    // the size) would make the walk's products overflow.
    let check = |c: u64, s: [u64; 3]| -> Result<()> {
        let n = c as f64 * 64.0 * s[0] as f64 * s[1] as f64 * s[2] as f64;
        if n > MAX_WALK_ELEMENTS {
            return Err(Error::invalid(
                "the video VAE's tensors for this request exceed 2^50 elements: too large to estimate",
            ));
        }
        Ok(())
    };
    let mut steps = Vec::new();
    let mut other = Vec::new();
    let mut size = lat;
    let mut c = widths[0].max(1);
    check(c, size)?;
    steps.push(conv3(
        vae.latent_channels.max(1) as u64,
        c,
        size,
        reflect,
        outer,
    ));
    // The middle block: its input (the input convolution's output) is held
    // by the decoder while its residual blocks run.
    let mid_in = c * thw(size);
    for j in 0..layers[0] {
        let around = outer + if j > 0 { mid_in } else { 0 };
        resnet(&mut steps, &mut other, c, c, size, reflect, around, e);
    }
    for i in 0..n {
        let f = factor[i].max(1);
        let input = c / f;
        let out = (widths[i] / f).max(1);
        // The block's input stays alive (the decoder's `h`) until it returns.
        let block_in = c * thw(size);
        let mut around = outer;
        if input != out {
            resnet(&mut steps, &mut other, c, out, size, reflect, outer, e);
            around += block_in;
        }
        if scaling[i] {
            let kind = vae.upsample_type[i].as_str();
            let s = super::video_vae::stride_of(kind)
                .ok_or_else(|| bad(format!("up-sample type `{kind}`")))?
                .map(|x| x.max(1) as u64);
            let prod: u64 = s.iter().product();
            let c_in = out * f;
            let conv_c = c_in * prod / f;
            check(conv_c, size)?;
            let x_in = c_in * thw(size);
            let co = conv_c * thw(size);
            steps.push(conv3(c_in, conv_c, size, reflect, around + x_in));
            let new = [s[0] * size[0] - (s[0] - 1), s[1] * size[1], s[2] * size[2]];
            // The convolution's output and its depth-to-space copy; with the
            // residual, the input's depth-to-space copy, its repetition and the sum.
            other.push((around + x_in + 2 * co) * e);
            if residual[i] {
                other.push((around + 2 * x_in + 2 * co + out * thw(new)) * e);
            }
            size = new;
        }
        c = out;
        for _ in 0..layers[i + 1] {
            resnet(
                &mut steps,
                &mut other,
                c,
                c,
                size,
                reflect,
                outer + block_in,
                e,
            );
        }
    }
    let x_last = c * thw(size);
    let pix_c = (vae.out_channels.max(1)
        * vae.patch_size.max(1).saturating_mul(vae.patch_size.max(1))
        * vae.patch_size_t.max(1)) as u64;
    check(pix_c, size)?;
    // The final norm (and modulation), the SiLU, the output convolution and
    // the un-patchify copy (the normed input still alive).
    other.push((outer + 5 * x_last) * e);
    steps.push(conv3(c, pix_c, size, reflect, outer + 2 * x_last));
    let out = pix_c * thw(size);
    other.push((outer + x_last + 2 * out) * e);
    Ok(VideoWalk { steps, other, out })
}

/// Walks `video_vae/encoder.rs` as image-to-video runs it on one frame of
/// `height × width` pixels, `e` bytes an element: the patchified input, the
/// input convolution, each down block's residual blocks and down-sampler (the
/// causal time padding's extra frames, the convolution, its space-to-depth
/// copy and the averaged residual), the middle block, the final norm and the
/// output convolution (mean and log-variance).
// Parallel per-block lists of the config are read by block index.
#[allow(clippy::needless_range_loop)]
fn video_encoder_walk(
    vae: &Ltx2VideoVaeConfig,
    height: u64,
    width: u64,
    e: u64,
) -> Result<VideoWalk> {
    let reflect = vae.encoder_spatial_padding_mode != "zeros";
    let n = vae.block_out_channels.len();
    let scaling = vae
        .spatio_temporal_scaling
        .expand(vae.layers_per_block.len().saturating_sub(1));
    if n == 0
        || vae.layers_per_block.len() != n + 1
        || scaling.len() < n
        || vae.downsample_type.len() < n
    {
        return Err(Error::Config {
            path: "vae/config.json".into(),
            reason: "the encoder's lists (widths, layers, scaling, down-sample types) disagree"
                .into(),
        });
    }
    let (p, pt) = (vae.patch_size.max(1) as u64, vae.patch_size_t.max(1) as u64);
    let thw = |s: [u64; 3]| s[0] * s[1] * s[2];
    let mut size = [1, (height / p).max(1), (width / p).max(1)];
    let in_c = vae.in_channels.max(1) as u64 * p * p * pt;
    if (in_c as f64) * 64.0 * thw(size) as f64 > MAX_WALK_ELEMENTS {
        return Err(Error::invalid(
            "the video VAE's tensors for this image exceed 2^50 elements: too large to estimate",
        ));
    }
    let mut steps = Vec::new();
    // The pixels and their patchified copy.
    let mut other = vec![2 * in_c * thw(size) * e];
    let mut c = vae.latent_channels.max(1) as u64;
    steps.push(conv3(in_c, c, size, reflect, in_c * thw(size)));
    for i in 0..n {
        for _ in 0..vae.layers_per_block[i].max(0) {
            resnet(&mut steps, &mut other, c, c, size, reflect, 0, e);
        }
        if !scaling[i] {
            continue;
        }
        let kind = vae.downsample_type[i].as_str();
        let stride = if kind == "conv" {
            [2, 2, 2]
        } else {
            super::video_vae::stride_of(kind).ok_or_else(|| Error::Config {
                path: "vae/config.json".into(),
                reason: format!("down-sample type `{kind}`"),
            })?
        }
        .map(|x| x.max(1) as u64);
        // Causal time padding: the first `stride − 1` frames repeated.
        let padded = [size[0] + stride[0] - 1, size[1], size[2]];
        let new = [
            (padded[0] / stride[0]).max(1),
            (size[1] / stride[1]).max(1),
            (size[2] / stride[2]).max(1),
        ];
        let out = if kind == "conv" {
            c
        } else {
            vae.block_out_channels[i].max(1) as u64
        };
        let prod: u64 = stride.iter().product();
        let conv_c = if kind == "conv" {
            c
        } else {
            (out / prod).max(1)
        };
        let x_in = c * thw(padded);
        steps.push(conv3(c, conv_c, padded, reflect, x_in));
        // The padded input, its space-to-depth copy and mean, the
        // convolution's output and its space-to-depth copy, the sum.
        other.push((3 * x_in + 2 * conv_c * thw(padded) + 2 * out * thw(new)) * e);
        size = new;
        c = out;
    }
    for _ in 0..vae.layers_per_block[n].max(0) {
        resnet(&mut steps, &mut other, c, c, size, reflect, 0, e);
    }
    let x_last = c * thw(size);
    other.push(5 * x_last * e);
    let out_c = vae.latent_channels.max(1) as u64 + 1;
    steps.push(conv3(c, out_c, size, reflect, 2 * x_last));
    Ok(VideoWalk {
        steps,
        other,
        out: out_c * thw(size),
    })
}

/// Peak bytes of decoding `frames` latent frames of the `lat` latent (its
/// height and width), with `outer` decoder elements alive around it:
/// whole frames, or `grid`'s tiles each over the same frames (every
/// decoded tile held until they are joined), then the conversion to u8.
fn video_decode_chunk(
    vae: &Ltx2VideoVaeConfig,
    frames: u64,
    lat: [u64; 3],
    outer: u64,
    grid: Option<&TileGrid>,
    opts: &EstimateOptions,
) -> Result<u64> {
    let (device, dtype) = (opts.device, opts.dtype);
    let e = elem_bytes(dtype);
    let Some(grid) = grid else {
        let walk = video_decoder_walk(vae, [frames, lat[1], lat[2]], outer, e)?;
        let step = decoder_step_bytes(&walk.steps, &walk.other, device, dtype);
        return Ok(step.max(frames_out_bytes(walk.out, outer, e)));
    };
    let (rows, cols) = grid.tile_extents(lat[1] as i64, lat[2] as i64);
    let mut tiles = Vec::new();
    for &(th, nh) in &rows {
        for &(tw, nw) in &cols {
            let walk = video_decoder_walk(vae, [frames, th.max(1) as u64, tw.max(1) as u64], 0, e)?;
            tiles.push((nh.saturating_mul(nw), walk));
        }
    }
    let decoded = tiles.iter().fold(0u64, |acc, (n, w)| {
        acc.saturating_add(n.saturating_mul(w.out))
    });
    let decode = tiles
        .iter()
        .map(|(_, w)| {
            let held = outer.saturating_add(decoded.saturating_sub(w.out));
            decoder_step_bytes(&w.steps, &w.other, opts.device, dtype)
                .saturating_add(held.saturating_mul(e))
        })
        .max()
        .unwrap_or(0);
    // The joined clip (its rows, then the rows joined), and one blend in
    // f32 (two weighted copies and their sum).
    let whole = video_decoder_walk(vae, [frames, lat[1], lat[2]], 0, e)?.out;
    let band = tiles.iter().map(|(_, w)| w.out / 2).max().unwrap_or(0);
    let join = outer
        .saturating_add(decoded)
        .saturating_add(2 * whole)
        .saturating_mul(e)
        .saturating_add(band * (3 * e + if e < 4 { 8 } else { 0 }));
    Ok(decode.max(join).max(frames_out_bytes(whole, outer, e)))
}

/// Bytes alive while a decoded chunk of `out` elements becomes u8 frames,
/// `outer` elements alive around it: the chunk, its f32 copy changed in place
/// (`video_to_frames`), and the u8 frames with the sink's copies.
fn frames_out_bytes(out: u64, outer: u64, e: u64) -> u64 {
    (outer + out) * e + out * 4 + 4 * out
}

/// The memory `req` needs with the LTX-2 model of `folder`, nothing loaded.
pub fn estimate_folder(
    folder: &ModelFolder,
    req: &Request,
    opts: &EstimateOptions,
) -> Result<MemoryEstimate> {
    let spec = Ltx2Spec::from_folder(folder)?;
    let rules = spec.rules(folder)?;
    let r = (&rules as &dyn Rules).resolve(req)?;
    if let Some(f) = &opts.vae_frame_tiling {
        f.validate(spec.geometry.temporal)?;
    }
    // Long-form: one window is walked and decoded at a time.
    let r = rules.longform_window(&r)?.unwrap_or(r);
    spec.estimate(&r, opts, Residency::fresh(), opts.vae_frame_tiling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::tiling::VaeTiling;
    use crate::Dtype;

    fn cuda_bf16() -> EstimateOptions {
        EstimateOptions {
            device: Device::Cuda(0),
            dtype: Dtype::BF16,
            ..EstimateOptions::default()
        }
    }

    /// The LTX-2.0 video VAE (its config's defaults are the released
    /// `Lightricks/LTX-2` decoder): 121 frames of 768×512 come out of a
    /// 16 × 16 × 24 latent, the widest tensor is 128 channels at full time
    /// and a quarter of the pixels; spatial tiles lower the decode.
    #[test]
    fn ltx2_video_decode_at_the_released_config() {
        let vae = Ltx2VideoVaeConfig::default();
        let walk = video_decoder_walk(&vae, [16, 16, 24], 0, 2).unwrap();
        assert_eq!(walk.out, 3 * 121 * 512 * 768);
        let opts = cuda_bf16();
        let untiled = video_decode_chunk(&vae, 16, [16, 16, 24], 0, None, &opts).unwrap();
        // 128 × 121 × 128 × 192 in bf16 is 0.74 GiB; a residual block's
        // convolution holds several of those: 4–8 GiB.
        let gib = untiled as f64 / (1u64 << 30) as f64;
        assert!((4.0..8.0).contains(&gib), "{gib} GiB");
        let grid = TileGrid::new(
            &VaeTiling {
                tile_sample_min_height: 256,
                tile_sample_min_width: 256,
                tile_sample_stride_height: 192,
                tile_sample_stride_width: 192,
            },
            32,
            1,
        );
        let tiled = video_decode_chunk(&vae, 16, [16, 16, 24], 0, Some(&grid), &opts).unwrap();
        assert!(tiled < untiled / 2, "{tiled} vs {untiled}");
        // A config whose tensors would overflow the walk is refused.
        assert!(video_decoder_walk(&vae, [1 << 20, 1 << 12, 1 << 12], 0, 2).is_err());
    }

    /// The vocoders' working sets at five seconds of audio (504 mel frames):
    /// LTX-2.0's generator and LTX-2.3's with bandwidth extension stay under
    /// a GiB in bf16; more frames, more memory.
    #[test]
    fn vocoder_working_sets() {
        let plain = VocoderShape::from_value(&serde_json::json!({
            "in_channels": 128, "hidden_channels": 1024, "out_channels": 2,
            "upsample_factors": [6, 5, 2, 2, 2], "resnet_kernel_sizes": [3, 7, 11],
            "act_fn": "leaky_relu", "antialias": false
        }));
        let bwe = VocoderShape::from_value(&serde_json::json!({
            "in_channels": 128, "hidden_channels": 1536, "out_channels": 2,
            "upsample_factors": [5, 2, 2, 2, 2, 2], "resnet_kernel_sizes": [3, 7, 11],
            "act_fn": "snakebeta", "antialias": true, "antialias_ratio": 2,
            "bwe_in_channels": 128, "bwe_hidden_channels": 512, "bwe_upsample_factors": [6, 5, 2, 2, 2],
            "bwe_resnet_kernel_sizes": [3, 7, 11], "bwe_act_fn": "snakebeta", "bwe_antialias": true,
            "hop_length": 80
        }));
        assert!(bwe.bwe.is_some() && plain.bwe.is_none());
        for v in [&plain, &bwe] {
            let b = v.bytes(504.0, 2.0);
            assert!(b > 10e6 && b < 1.0 * (1u64 << 30) as f64, "{b}");
            assert!(v.bytes(1008.0, 2.0) > 1.9 * b);
        }
    }
}
