//! Training the LTX-2 audio-video transformer (`LTX2VideoTransformer3DModel`,
//! our port in [`crate::models::ltx2::transformer`]) by flow matching on the
//! simulator's clips, the stage that makes the embedded default model
//! generate (issue #15).
//!
//! **Inputs** (frozen, copied into the run's `inputs/` at start so that the
//! run is self-contained and resumable): a trained video VAE and audio VAE
//! folder (`sora train vae`, `sora train audio-vae`), and the prompt side
//! written here from the seed ([`super::text`]: word-level tokenizer, tiny
//! random Gemma 3, LTX-2 connectors).
//!
//! **Targets**, exactly what the pipeline's walk sees: each clip's video
//! latent is the VAE posterior's mean, normalised as the pipeline
//! denormalises it (`latents_mean` / `latents_std`, `scaling_factor`) and
//! packed into tokens; its sound the audio VAE's normalised packed latents of
//! LTX-2's log-mel front end ([`super::audio_vae::MelSet`]), cut to the
//! pipeline's audio length for the clip (`audio_latent_frames`); its caption
//! the connectors' output for the prompt, left-padded to
//! `max_sequence_length`. All are computed once.
//!
//! **Loss** per step (rectified flow, as `FlowMatchEulerDiscreteScheduler`
//! walks it): per clip one noise level `σ = sigmoid(n)`, `n ~ N(m, s²)`
//! (logit-normal), noise `ε` for both streams from the run's generator,
//! `x_σ = (1 − σ)·x₀ + σ·ε`; the transformer is called as the walk calls it
//! (timestep `1000·σ`, the clip's fps for the positions, text masks) and
//! `loss = mean‖v̂ − (ε − x₀)‖² (video) + audio_loss_weight · (audio)`.
//! With probability `caption_dropout` a clip's caption is replaced by the
//! empty prompt's, so classifier-free guidance has an unconditional model.
//!
//! [`TransformerTrainer::finish`] writes the transformer folder, the loss
//! curve and the held-out evaluation ([`TransformerEvalReport`]: the
//! flow-matching loss on held-out clips at fixed noise levels with fixed
//! noise, beside the loss of predicting zero, and how far apart the frozen
//! prompt features keep captions), and, given a vocoder folder, assembles
//! the whole pipeline folder ([`super::pipeline`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::adam::AdamWConfig;
use super::audio_vae::MelSet;
use super::checkpoint::write_safetensors;
use super::data::{DataConfig, Dataset, Split};
use super::init::{init_component, WEIGHTS_FILE};
use super::rng::TrainRng;
use super::run::{
    config_from_preset_or_file, foreground_mask, write_component, write_json, LoopChanges,
    LoopConfig, Presets, Run, StepReport, FOREGROUND_THRESHOLD,
};
use super::text::{TextConfig, TextEncoders};
use crate::models::ltx2::audio_vae::Ltx2AudioVae;
use crate::models::ltx2::latents::{audio_latent_frames, pack_video};
use crate::models::ltx2::transformer::{Ltx2Inputs, Ltx2Transformer, Ltx2TransformerConfig};
use crate::models::ltx2::video_vae::Ltx2VideoVae;
use crate::weights::TensorStore;
use crate::{Error, Result};

/// The final transformer folder in a run's output folder.
pub const FINAL_DIR: &str = "transformer";

/// The run's frozen inputs (VAEs and prompt side), in a run's output folder.
pub const INPUTS_DIR: &str = "inputs";

/// Fixed noise levels of the held-out evaluation.
pub const EVAL_SIGMAS: [f64; 3] = [0.25, 0.5, 0.75];

/// The `tiny-av` transformer: LTX-2.0's layout (interleaved RoPE, caption
/// projections, 6-parameter AdaLN) at two blocks of width 64 (video, 4 heads
/// of 16) and 32 (audio, 2 heads of 16). The channel counts, the VAE scale
/// factors and `caption_channels` are set from the run's inputs
/// ([`TransformerTrainConfig::fit_inputs`]).
pub fn tiny_transformer_config() -> Ltx2TransformerConfig {
    Ltx2TransformerConfig {
        in_channels: 16,
        out_channels: Some(16),
        num_attention_heads: 4,
        attention_head_dim: 16,
        cross_attention_dim: 64,
        vae_scale_factors: [1, 8, 8],
        base_height: 64,
        base_width: 64,
        audio_in_channels: 32,
        audio_out_channels: Some(32),
        audio_num_attention_heads: 2,
        audio_attention_head_dim: 16,
        audio_cross_attention_dim: 32,
        num_layers: 2,
        caption_channels: 32,
        ..Ltx2TransformerConfig::default()
    }
}

/// Everything a transformer training run is configured by (`--config` JSON;
/// every field optional, defaults are the `tiny-av` preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransformerTrainConfig {
    /// The transformer's `config.json`.
    pub transformer: Ltx2TransformerConfig,
    /// The prompt side.
    pub text: TextConfig,
    /// The clips (as the VAEs were trained on).
    pub data: DataConfig,
    /// The loop (optimizer, clip counts, batch, checkpoints), at the top
    /// level of the JSON.
    #[serde(flatten)]
    pub train: LoopConfig,
    /// Probability of training a clip with the empty prompt.
    pub caption_dropout: f64,
    /// Weight of the audio stream's loss.
    pub audio_loss_weight: f64,
    /// Mean of the noise level's logit.
    pub sigma_logit_mean: f64,
    /// Standard deviation of the noise level's logit.
    pub sigma_logit_std: f64,
    /// Extra weight of the video tokens over the moving objects: a token's
    /// squared error counts `1 + object_loss_weight · share`, `share` the
    /// fraction of its pixels the foreground mask marks (pixels away from
    /// their clip's temporal median, as the VAE's `foreground_weight` uses),
    /// and the video loss is the weighted mean. 0 (the default, the shipped
    /// model's) is the plain mean. The held-out evaluation stays the plain
    /// mean, comparable across runs.
    pub object_loss_weight: f64,
}

impl Default for TransformerTrainConfig {
    fn default() -> Self {
        Self {
            transformer: tiny_transformer_config(),
            text: TextConfig::default(),
            data: DataConfig::default(),
            train: LoopConfig {
                optimizer: AdamWConfig {
                    lr: 1e-3,
                    weight_decay: 0.0,
                    max_grad_norm: Some(1.0),
                    ..AdamWConfig::default()
                },
                ..LoopConfig::default()
            },
            caption_dropout: 0.1,
            audio_loss_weight: 1.0,
            sigma_logit_mean: 0.0,
            sigma_logit_std: 1.0,
            object_loss_weight: 0.0,
        }
    }
}

impl TransformerTrainConfig {
    /// The presets: `tiny-av` (the default), `small-av` and `base-av`.
    pub const PRESETS: &'static Presets<Self> = &[
        ("tiny-av", Self::default),
        ("small-av", Self::small_av),
        ("base-av", Self::base_av),
    ];

    /// The `small-av` preset: `tiny-av` with three layers and a video
    /// stream of width 96 (4 heads × 24; the audio stream unchanged), about
    /// 2.6 times the step time (1.3 s a step on one core).
    pub fn small_av() -> Self {
        let mut c = Self::default();
        c.transformer.num_layers = 3;
        c.transformer.attention_head_dim = 24;
        c.transformer.cross_attention_dim = 96;
        c
    }

    /// The `base-av` preset: `tiny-av` with four layers, a video stream of
    /// width 128 (4 heads × 32) and an audio stream of width 64 (2 heads ×
    /// 32); 2.3 s a step on one core.
    pub fn base_av() -> Self {
        let mut c = Self::default();
        c.transformer.num_layers = 4;
        c.transformer.attention_head_dim = 32;
        c.transformer.cross_attention_dim = 128;
        c.transformer.audio_attention_head_dim = 32;
        c.transformer.audio_cross_attention_dim = 64;
        c
    }

    /// A preset by name, or a JSON file's config (fields laid over `tiny-av`).
    pub fn from_preset_or_file(spec: &str) -> Result<Self> {
        config_from_preset_or_file(spec, Self::PRESETS)
    }

    /// Checks what the loop relies on.
    pub fn validate(&self) -> Result<()> {
        self.text.validate()?;
        self.transformer.validate()?;
        self.train.validate()?;
        let p = self.caption_dropout;
        let w = self.audio_loss_weight;
        let s = self.sigma_logit_std;
        if !(0.0..1.0).contains(&p) || !w.is_finite() || w < 0.0 || !s.is_finite() || s < 0.0 {
            return Err(Error::invalid(format!(
                "caption_dropout must be in [0, 1), audio_loss_weight and sigma_logit_std \
                 finite and ≥ 0; got {p}, {w}, {s}"
            )));
        }
        let o = self.object_loss_weight;
        if !o.is_finite() || o < 0.0 {
            return Err(Error::invalid(format!(
                "object_loss_weight must be finite and ≥ 0, got {o}"
            )));
        }
        let t = &self.transformer;
        if t.patch_size != 1 || t.patch_size_t != 1 {
            return Err(Error::invalid(
                "the LTX-2 pipeline packs latents with the transformer's patch size as channels; \
                 train with patch_size = patch_size_t = 1",
            ));
        }
        Ok(())
    }

    /// Sets the transformer's channel counts, VAE scale factors and
    /// `caption_channels` from the VAEs and the prompt side.
    pub fn fit_inputs(&mut self, vae: &Ltx2VideoVae, audio_vae: &Ltx2AudioVae) {
        let t = &mut self.transformer;
        t.in_channels = vae.latent_channels();
        t.out_channels = Some(t.in_channels);
        let s = vae.spatial_compression_ratio();
        t.vae_scale_factors = [vae.temporal_compression_ratio(), s, s];
        let a = audio_vae.config();
        let audio = a.latent_channels * a.mel_bins.unwrap_or(64) / 4;
        t.audio_in_channels = audio;
        t.audio_out_channels = Some(audio);
        t.audio_sampling_rate = a.sample_rate;
        t.audio_hop_length = a.mel_hop_length;
        t.caption_channels = self.text.hidden_size;
    }
}

/// Held-out flow-matching loss of the trained transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformerEvalReport {
    /// Steps trained.
    pub step: u64,
    /// Held-out clips evaluated.
    pub clips: usize,
    /// Per noise level of [`EVAL_SIGMAS`]: the video and audio losses.
    pub by_sigma: Vec<SigmaLoss>,
    /// The mean video loss over the levels.
    pub video_loss: f64,
    /// The mean audio loss over the levels.
    pub audio_loss: f64,
    /// The mean video loss with the empty prompt in place of each clip's
    /// caption (same clips, levels and noise).
    pub video_loss_empty_prompt: f64,
    /// The mean video loss with another held-out clip's (different)
    /// caption in place of each clip's (`None`: one caption only).
    pub video_loss_other_prompt: Option<f64>,
    /// The same means for a prediction of zero (the scale of the losses).
    pub zero_video_loss: f64,
    /// The audio one.
    pub zero_audio_loss: f64,
    /// Smallest relative distance between two distinct held-out captions'
    /// conditionings (0: two prompts look the same to the model).
    pub caption_distance_min: f64,
    /// The mean one.
    pub caption_distance_mean: f64,
    /// Seconds per training step over this session's steps (0 if none).
    pub seconds_per_step: f64,
    /// The mean training loss of the last 10 steps.
    pub final_train_loss: f64,
    /// Trainable scalars.
    pub parameters: usize,
}

/// One noise level's held-out losses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigmaLoss {
    /// The noise level.
    pub sigma: f64,
    /// Video flow-matching loss.
    pub video: f64,
    /// Audio flow-matching loss.
    pub audio: f64,
}

/// The captions' conditionings, one row each (the empty prompt's included).
struct CaptionTable {
    video: Tensor,
    audio: Tensor,
    mask: Tensor,
    index: BTreeMap<String, i64>,
}

impl CaptionTable {
    fn new(text: &TextEncoders, captions: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut index = BTreeMap::new();
        index.insert(String::new(), 0);
        for c in captions {
            let n = index.len() as i64;
            index.entry(c).or_insert(n);
        }
        let mut order: Vec<(&String, &i64)> = index.iter().collect();
        order.sort_by_key(|(_, i)| **i);
        let (mut v, mut a, mut m) = (Vec::new(), Vec::new(), Vec::new());
        for (c, _) in order {
            let e = text.encode(c)?;
            v.push(e.video);
            a.push(e.audio);
            m.push(e.mask);
        }
        Ok(Self {
            video: Tensor::f_cat(&v, 0)?,
            audio: Tensor::f_cat(&a, 0)?,
            mask: Tensor::f_cat(&m, 0)?,
            index,
        })
    }

    fn id(&self, caption: &str) -> Result<i64> {
        self.index
            .get(caption)
            .copied()
            .ok_or_else(|| Error::invalid(format!("caption {caption:?} was not encoded")))
    }

    /// `(video, audio, mask)` rows of `ids`.
    fn rows(&self, ids: &[i64]) -> Result<(Tensor, Tensor, Tensor)> {
        let ix = Tensor::f_from_slice(ids)?;
        Ok((
            self.video.f_index_select(0, &ix)?,
            self.audio.f_index_select(0, &ix)?,
            self.mask.f_index_select(0, &ix)?,
        ))
    }
}

/// Clips as the transformer sees them: clean packed latents and caption ids,
/// and with an object loss weight each video token's weight `[N, S, 1]`.
struct LatentSet {
    video: Tensor,
    audio: Tensor,
    captions: Vec<i64>,
    weights: Option<Tensor>,
}

/// The frozen inputs of a run, loaded.
struct Inputs {
    vae: Ltx2VideoVae,
    audio_vae: Ltx2AudioVae,
    text: TextEncoders,
}

impl Inputs {
    fn load(dir: &Path, text: &TextConfig) -> Result<Self> {
        Ok(Self {
            vae: Ltx2VideoVae::load(&dir.join("vae"), Device::Cpu, Kind::Float)?,
            audio_vae: Ltx2AudioVae::load(&dir.join("audio_vae"), Device::Cpu, Kind::Float)?,
            text: TextEncoders::load(dir, text.max_sequence_length)?,
        })
    }
}

/// The latent grid `[frames, height, width]` of `data`'s clips.
fn latent_grid(data: &DataConfig, vae: &Ltx2VideoVae) -> Result<[i64; 3]> {
    let s = vae.spatial_compression_ratio();
    if data.width as i64 % s != 0 || data.height as i64 % s != 0 {
        return Err(Error::invalid(format!(
            "clips of {}×{} do not divide by the VAE's spatial compression {s}",
            data.width, data.height
        )));
    }
    Ok([
        vae.latent_frames(data.frames as i64),
        data.height as i64 / s,
        data.width as i64 / s,
    ])
}

fn encode_set(
    inputs: &Inputs,
    set: &Dataset,
    table: &CaptionTable,
    audio_frames: i64,
    object_weight: f64,
) -> Result<LatentSet> {
    let _guard = tch::no_grad_guard();
    let scaling = inputs.vae.config().scaling_factor;
    let mut video = Vec::with_capacity(set.len());
    let mut weights = Vec::new();
    for chunk in (0..set.len()).collect::<Vec<_>>().chunks(8) {
        let x = set.batch(chunk)?;
        let (mean, _) = inputs.vae.encode(&x)?;
        let z = inputs.vae.normalize_latents(&mean, scaling)?;
        if object_weight > 0.0 {
            weights.push(token_weights(&x, &z, object_weight)?);
        }
        video.push(pack_video(&z, 1, 1)?);
    }
    let mels = MelSet::new(set, inputs.audio_vae.config())?;
    let mut audio = Vec::with_capacity(set.len());
    for i in 0..mels.len() {
        let packed = inputs.audio_vae.encode_mel_packed(&mels.batch(&[i])?)?;
        let have = packed.size()[1];
        if have < audio_frames {
            return Err(Error::invalid(format!(
                "the clip's sound encodes to {have} audio latents, fewer than the pipeline's \
                 {audio_frames} for its length"
            )));
        }
        audio.push(packed.f_narrow(1, 0, audio_frames)?);
    }
    let captions = set
        .examples
        .iter()
        .map(|e| table.id(&e.caption))
        .collect::<Result<_>>()?;
    Ok(LatentSet {
        video: Tensor::f_cat(&video, 0)?.f_to_kind(Kind::Float)?,
        audio: Tensor::f_cat(&audio, 0)?.f_to_kind(Kind::Float)?,
        captions,
        weights: if weights.is_empty() {
            None
        } else {
            Some(Tensor::f_cat(&weights, 0)?)
        },
    })
}

/// Each packed video token's loss weight `[B, S, 1]` for clips `x`
/// `[B, 3, T, H, W]` encoded to latents `z` `[B, C, F, h, w]`: `1 + weight ·
/// share`, `share` the fraction of the token's pixels (its latent cell's
/// frames and pixels, by adaptive average pooling) in the foreground mask.
fn token_weights(x: &Tensor, z: &Tensor, weight: f64) -> Result<Tensor> {
    let grid = &z.size()[2..];
    let mask = foreground_mask(x, FOREGROUND_THRESHOLD)?;
    let share = mask.f_adaptive_avg_pool3d(grid)?;
    pack_video(&share.f_mul_scalar(weight)?.f_add_scalar(1.0)?, 1, 1)
}

/// `mean((p − target)²)`, each token's squared error weighted by `weights`
/// `[B, S, 1]` when given (the weighted mean over tokens and channels).
fn weighted_mse(p: &Tensor, target: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    let err = p.f_sub(target)?.f_square()?;
    match weights {
        None => Ok(err.f_mean(Kind::Float)?),
        Some(w) => {
            let channels = err.size().last().copied().unwrap_or(1) as f64;
            let num = err.f_mul(w)?.f_sum(Kind::Float)?;
            let den = w.f_sum(Kind::Float)?.f_mul_scalar(channels)?;
            Ok(num.f_div(&den)?)
        }
    }
}

/// A transformer training run: model, optimizer, latents and state.
pub struct TransformerTrainer {
    config: TransformerTrainConfig,
    model: Ltx2Transformer,
    run: Run,
    inputs: Inputs,
    table: CaptionTable,
    train: LatentSet,
    grid: [i64; 3],
    audio_frames: i64,
}

/// Loads the transformer folder `dir` keeping its tensors' names.
fn load_named(dir: &Path) -> Result<(Ltx2Transformer, Vec<(String, Tensor)>)> {
    let path = dir.join("config.json");
    let config: Ltx2TransformerConfig = crate::weights::read_config(&path)?;
    let store = TensorStore::open(dir, "transformer", Device::Cpu, Kind::Float)?.keep_names(true);
    let model = Ltx2Transformer::from_store(config, &store.root())?;
    store.finish()?;
    Ok((model, store.named_tensors()))
}

/// Writes the weights of the transformer folder `warm` to `dest`, after
/// checking that they are exactly the tensors `requested` (names and shapes,
/// as the run's config builds them) and finite.
fn write_warm_weights(warm: &Path, requested: Vec<(String, Vec<i64>)>, dest: &Path) -> Result<()> {
    let invalid = |what: String| {
        Error::invalid(format!(
            "the warm-start folder {} does not fit the run's transformer: {what}",
            warm.display()
        ))
    };
    let mut wanted: BTreeMap<String, Vec<i64>> = requested.into_iter().collect();
    let store = TensorStore::open(warm, "transformer", Device::Cpu, Kind::Float)?;
    let mut tensors = Vec::with_capacity(wanted.len());
    for (name, _, stored) in store.tensor_infos() {
        let Some(shape) = wanted.remove(&name) else {
            return Err(invalid(format!(
                "it holds {name}, which the run's config has not"
            )));
        };
        if stored != shape {
            return Err(invalid(format!(
                "{name} is {stored:?} there, {shape:?} in the run's config"
            )));
        }
        let t = store.root().get(&name, &shape)?;
        if t.f_isfinite()?.f_all()?.int64_value(&[]) == 0 {
            return Err(invalid(format!("{name} holds NaN or infinite values")));
        }
        tensors.push((name, t));
    }
    if let Some(name) = wanted.keys().next() {
        return Err(invalid(format!(
            "it lacks {name} ({} missing in all)",
            wanted.len()
        )));
    }
    write_safetensors(dest, &tensors)
}

/// Copies the component folder `from` to `to` (config and safetensors).
fn copy_component(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| Error::io(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let path = entry.path();
        if path.is_file() {
            let dest = to.join(entry.file_name());
            std::fs::copy(&path, &dest).map_err(|e| Error::io(&dest, e))?;
        }
    }
    Ok(())
}

/// The run's parts other than the model: inputs, captions, latents, geometry.
type Prepared = (Inputs, CaptionTable, LatentSet, [i64; 3], i64);

fn prepare(inputs_dir: &Path, config: &TransformerTrainConfig) -> Result<Prepared> {
    let inputs = Inputs::load(inputs_dir, &config.text)?;
    let grid = latent_grid(&config.data, &inputs.vae)?;
    let a = inputs.audio_vae.config();
    let audio_frames = audio_latent_frames(
        config.data.frames as u32,
        f64::from(config.data.fps),
        a.sample_rate as f64,
        a.mel_hop_length as f64,
        4.0,
    )?;
    let train = Dataset::new(&config.data, Split::Train, config.train.train_clips)?;
    let held = Dataset::new(&config.data, Split::HeldOut, config.train.eval_clips)?;
    let captions = train
        .examples
        .iter()
        .chain(&held.examples)
        .map(|e| e.caption.clone());
    let table = CaptionTable::new(&inputs.text, captions)?;
    let latents = encode_set(
        &inputs,
        &train,
        &table,
        audio_frames,
        config.object_loss_weight,
    )?;
    Ok((inputs, table, latents, grid, audio_frames))
}

super::run::impl_trainer!(TransformerTrainer);

impl TransformerTrainer {
    /// A fresh run writing into `out`: copies the VAE folders `vae` and
    /// `audio_vae` and writes the prompt side into `out/inputs`, fits the
    /// transformer config to them, initialises the transformer from `seed`
    /// and saves the step-0 checkpoint.
    pub fn start(
        out: &Path,
        config: TransformerTrainConfig,
        vae: &Path,
        audio_vae: &Path,
        seed: u64,
    ) -> Result<Self> {
        Self::start_from(out, config, vae, audio_vae, seed, None)
    }

    /// [`start`](Self::start), with the step-0 weights taken from the
    /// transformer folder `warm` (a trained run's `OUT/transformer`, or a
    /// pipeline's `transformer/`) instead of drawn from `seed`: a warm start,
    /// e.g. to carry a trained transformer over to a retrained VAE with the
    /// same latent channels. The folder's tensors must be exactly those of
    /// the fitted config, with the same shapes (else [`Error::InvalidRequest`]
    /// names the first that differs); the optimizer's state starts fresh.
    /// The prompt side is still written from `seed`: the warm weights only
    /// read their captions as before under the seed and text config of the
    /// run that trained them.
    pub fn start_from(
        out: &Path,
        mut config: TransformerTrainConfig,
        vae: &Path,
        audio_vae: &Path,
        seed: u64,
        warm: Option<&Path>,
    ) -> Result<Self> {
        config.validate()?;
        let inputs_dir = out.join(INPUTS_DIR);
        copy_component(vae, &inputs_dir.join("vae"))?;
        copy_component(audio_vae, &inputs_dir.join("audio_vae"))?;
        super::text::write_text_components(&inputs_dir, &config.text, seed)?;
        {
            let v = Ltx2VideoVae::load(&inputs_dir.join("vae"), Device::Cpu, Kind::Float)?;
            let a = Ltx2AudioVae::load(&inputs_dir.join("audio_vae"), Device::Cpu, Kind::Float)?;
            if !a.has_encoder() {
                return Err(Error::invalid(format!(
                    "the audio VAE of {} has no encoder: the transformer trains on encoded sound",
                    audio_vae.display()
                )));
            }
            config.fit_inputs(&v, &a);
        }
        config.validate()?;
        let (inputs, table, train, grid, audio_frames) = prepare(&inputs_dir, &config)?;
        let tcfg = config.transformer.clone();
        let (run, model) = Run::start(
            out,
            "transformer",
            config.train.optimizer,
            seed,
            |d| {
                let requested = init_component(
                    d,
                    "LTX2VideoTransformer3DModel",
                    "transformer",
                    &tcfg,
                    seed,
                    |_, s| Ltx2Transformer::from_store(tcfg.clone(), &s.root()).map(|_| ()),
                )?;
                match warm {
                    Some(w) => write_warm_weights(w, requested, &d.join(WEIGHTS_FILE)),
                    None => Ok(()),
                }
            },
            load_named,
        )?;
        let me = Self {
            config,
            model,
            run,
            inputs,
            table,
            train,
            grid,
            audio_frames,
        };
        me.save()?;
        Ok(me)
    }

    /// Continues the run saved in `out`'s checkpoint (its inputs in `out/inputs`).
    pub fn resume(out: &Path) -> Result<Self> {
        Self::resume_with(out, &LoopChanges::none())
    }

    /// Continues the run saved in `out`'s checkpoint under `changes` to its
    /// loop config (see [`LoopChanges`]).
    pub fn resume_with(out: &Path, changes: &LoopChanges) -> Result<Self> {
        let (run, model, config) = Run::resume(
            out,
            "transformer",
            changes,
            |c: &TransformerTrainConfig| c.validate().map(|_| c.train.optimizer),
            load_named,
        )?;
        let (inputs, table, train, grid, audio_frames) = prepare(&out.join(INPUTS_DIR), &config)?;
        Ok(Self {
            config,
            model,
            run,
            inputs,
            table,
            train,
            grid,
            audio_frames,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &TransformerTrainConfig {
        &self.config
    }

    /// Steps taken.
    pub fn step_count(&self) -> u64 {
        self.run.step_count()
    }

    /// Every step's loss so far.
    pub fn losses(&self) -> &[f64] {
        self.run.losses()
    }

    /// Trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.run.parameter_count()
    }

    /// The folder of the run's frozen inputs.
    pub fn inputs_dir(&self) -> PathBuf {
        self.run.out().join(INPUTS_DIR)
    }

    /// `(video, audio)` flow-matching losses of clips `(x₀ video, x₀ audio)`
    /// with caption rows `ids`, noise levels `sigmas` and noise `(εv, εa)`.
    fn loss(
        &self,
        (xv, xa): (&Tensor, &Tensor),
        ids: &[i64],
        sigmas: &[f64],
        (ev, ea): (&Tensor, &Tensor),
        weights: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        let b = ids.len() as i64;
        let s: Vec<f32> = sigmas.iter().map(|s| *s as f32).collect();
        let sig = Tensor::f_from_slice(&s)?.f_view([b, 1, 1])?;
        let noised = |x: &Tensor, e: &Tensor| -> Result<Tensor> {
            Ok(x.f_mul(&sig.f_rsub_scalar(1.0)?)?.f_add(&e.f_mul(&sig)?)?)
        };
        let (nv, na) = (noised(xv, ev)?, noised(xa, ea)?);
        let t = sig.f_view([b])?.f_mul_scalar(1000.0)?;
        let (tv, ta, mask) = self.table.rows(ids)?;
        let mut inputs = Ltx2Inputs::new(&nv, &na, &tv, &ta, &t, self.grid, self.audio_frames);
        inputs.text_mask = Some(&mask);
        inputs.audio_text_mask = Some(&mask);
        inputs.sigma = Some(&t);
        inputs.fps = f64::from(self.config.data.fps);
        let (pv, pa) = self.model.forward_with_grad(&inputs)?;
        let lv = weighted_mse(&pv, &ev.f_sub(xv)?, weights)?;
        let la = weighted_mse(&pa, &ea.f_sub(xa)?, None)?;
        Ok((lv, la))
    }

    /// One optimizer step on a batch drawn from the training clips.
    pub fn step(&mut self) -> Result<StepReport> {
        let t0 = Instant::now();
        let cfg = &self.config;
        let n = self.train.captions.len();
        let rng = &mut self.run.rng;
        let idx: Vec<usize> = (0..cfg.train.batch).map(|_| rng.below(n)).collect();
        let ids: Vec<i64> = idx
            .iter()
            .map(|&i| {
                if rng.unit() < cfg.caption_dropout {
                    0
                } else {
                    self.train.captions[i]
                }
            })
            .collect();
        let sigmas: Vec<f64> = idx
            .iter()
            .map(|_| {
                let z = cfg.sigma_logit_mean + cfg.sigma_logit_std * rng.normal();
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        let ix: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        let ix = Tensor::f_from_slice(&ix)?;
        let xv = self.train.video.f_index_select(0, &ix)?;
        let xa = self.train.audio.f_index_select(0, &ix)?;
        let ev = rng.normal_tensor(&xv.size())?;
        let ea = rng.normal_tensor(&xa.size())?;
        self.run.zero_grad();
        let w = match &self.train.weights {
            Some(w) => Some(w.f_index_select(0, &ix)?),
            None => None,
        };
        let (lv, la) = self.loss((&xv, &xa), &ids, &sigmas, (&ev, &ea), w.as_ref())?;
        let total = lv.f_add(&la.f_mul_scalar(self.config.audio_loss_weight)?)?;
        let (loss, grad_norm) = self.run.optimize(&total, t0)?;
        let report = StepReport {
            step: self.run.step_count(),
            loss,
            terms: [lv.f_double_value(&[])?, la.f_double_value(&[])?],
            grad_norm,
        };
        if self.run.checkpoint_due(self.config.train.checkpoint_every) {
            self.save()?;
        }
        Ok(report)
    }

    /// Writes the checkpoint (replacing the previous one).
    pub fn save(&self) -> Result<()> {
        self.run.save(&self.config, |d| self.write_transformer(d))
    }

    /// Writes the transformer as a diffusers component folder.
    pub fn write_transformer(&self, dir: &Path) -> Result<()> {
        write_component(
            dir,
            "LTX2VideoTransformer3DModel",
            &self.config.transformer,
            &self.run.weights,
        )
    }

    /// The flow-matching losses on the first `n` held-out clips at
    /// [`EVAL_SIGMAS`] with noise fixed by the run's seed (no gradient).
    pub fn evaluate(&self, n: usize) -> Result<TransformerEvalReport> {
        let _guard = tch::no_grad_guard();
        let held = Dataset::new(&self.config.data, Split::HeldOut, n)?;
        let set = encode_set(&self.inputs, &held, &self.table, self.audio_frames, 0.0)?;
        let mut rng = TrainRng::new(0x6576_616c);
        let (mut by_sigma, mut zv, mut za) = (Vec::new(), 0.0, 0.0);
        // How much the caption helps: the same losses with the empty prompt
        // and with the next clip of another caption (a model that ignores
        // its prompt scores the three alike).
        let (mut empty_v, mut other_v, mut others) = (0.0, 0.0, 0usize);
        let empty = self.table.id("")?;
        let count = set.captions.len();
        let other_of = |i: usize| {
            (1..count)
                .map(|d| set.captions[(i + d) % count])
                .find(|&c| c != set.captions[i])
        };
        for &sigma in &EVAL_SIGMAS {
            let (mut lv, mut la) = (0.0, 0.0);
            for i in 0..set.captions.len() {
                let xv = set.video.f_narrow(0, i as i64, 1)?;
                let xa = set.audio.f_narrow(0, i as i64, 1)?;
                let ev = rng.normal_tensor(&xv.size())?;
                let ea = rng.normal_tensor(&xa.size())?;
                let (v, a) =
                    self.loss((&xv, &xa), &[set.captions[i]], &[sigma], (&ev, &ea), None)?;
                lv += v.f_double_value(&[])?;
                la += a.f_double_value(&[])?;
                let (v, _) = self.loss((&xv, &xa), &[empty], &[sigma], (&ev, &ea), None)?;
                empty_v += v.f_double_value(&[])?;
                if let Some(other) = other_of(i) {
                    let (v, _) = self.loss((&xv, &xa), &[other], &[sigma], (&ev, &ea), None)?;
                    other_v += v.f_double_value(&[])?;
                    others += 1;
                }
                let zero = |e: &Tensor, x: &Tensor| -> Result<f64> {
                    Ok(e.f_sub(x)?
                        .f_square()?
                        .f_mean(Kind::Float)?
                        .f_double_value(&[])?)
                };
                zv += zero(&ev, &xv)?;
                za += zero(&ea, &xa)?;
            }
            let k = set.captions.len().max(1) as f64;
            by_sigma.push(SigmaLoss {
                sigma,
                video: lv / k,
                audio: la / k,
            });
        }
        let levels = by_sigma.len().max(1) as f64;
        let m = (set.captions.len().max(1) as f64) * levels;
        let held_captions: Vec<&str> = held.examples.iter().map(|e| e.caption.as_str()).collect();
        let (dmin, dmean) = if held_captions.iter().any(|c| *c != held_captions[0]) {
            self.inputs.text.caption_distances(&held_captions)?
        } else {
            (0.0, 0.0)
        };
        Ok(TransformerEvalReport {
            step: self.run.step_count(),
            clips: set.captions.len(),
            video_loss: by_sigma.iter().map(|s| s.video).sum::<f64>() / levels,
            audio_loss: by_sigma.iter().map(|s| s.audio).sum::<f64>() / levels,
            by_sigma,
            video_loss_empty_prompt: empty_v / m,
            video_loss_other_prompt: (others > 0).then(|| other_v / others as f64),
            zero_video_loss: zv / m,
            zero_audio_loss: za / m,
            caption_distance_min: dmin,
            caption_distance_mean: dmean,
            seconds_per_step: self.run.seconds_per_step(),
            final_train_loss: self.run.final_train_loss(),
            parameters: self.run.parameter_count(),
        })
    }

    /// Writes the whole pipeline folder `dest` (replaced): the run's inputs,
    /// its final transformer (`out/transformer`, written by
    /// [`TransformerTrainer::finish`]) and the trained vocoder folder
    /// `vocoder`, with request defaults for this model walking `steps` steps.
    pub fn assemble(&self, vocoder: &Path, dest: &Path, steps: u32) -> Result<()> {
        let transformer = self.run.out().join(FINAL_DIR);
        super::pipeline::assemble(
            dest,
            super::pipeline::Parts {
                inputs: &self.inputs_dir(),
                transformer: &transformer,
                vocoder,
            },
            &super::pipeline::request_defaults(
                &self.config.data,
                self.config.text.max_sequence_length,
                steps,
            ),
        )
    }

    /// Ends the run: final checkpoint, the transformer folder
    /// (`out/transformer`), the loss curve (`out/loss.png`) and the held-out
    /// evaluation (`out/eval.json`), which it returns.
    pub fn finish(&self) -> Result<TransformerEvalReport> {
        self.save()?;
        self.run.use_average()?;
        self.write_transformer(&self.run.out().join(FINAL_DIR))?;
        self.run.write_curve()?;
        let report = self.evaluate(self.config.train.eval_clips)?;
        write_json(&self.run.out().join("eval.json"), &report)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::super::init::{init_audio_vae, init_video_vae};
    use super::super::run::assert_resume_is_bit_identical;
    use super::*;
    use crate::models::ltx2::audio_vae::Ltx2AudioVaeConfig;
    use crate::models::ltx2::video_vae::{Flags, Ltx2VideoVaeConfig};

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("sora-ttrain-{name}-{}", std::process::id()))
    }

    /// Random VAEs small enough for tests (32×32 clips → 4×4 latents of 4
    /// channels; audio latents of 2 channels × 4 bins).
    fn vae_folders(dir: &Path) -> (PathBuf, PathBuf) {
        let vae = Ltx2VideoVaeConfig {
            latent_channels: 4,
            block_out_channels: vec![8],
            down_block_types: vec!["LTX2VideoDownBlock3D".into()],
            decoder_block_out_channels: vec![8],
            layers_per_block: vec![1, 1],
            decoder_layers_per_block: vec![1, 1],
            spatio_temporal_scaling: Flags::Each(vec![true]),
            decoder_spatio_temporal_scaling: Flags::Each(vec![true]),
            decoder_inject_noise: Flags::Each(vec![false, false]),
            downsample_type: vec!["spatial".into()],
            upsample_type: vec!["spatial".into()],
            upsample_residual: Flags::Each(vec![true]),
            upsample_factor: vec![2],
            timestep_conditioning: false,
            decoder_causal: false,
            spatial_compression_ratio: Some(8),
            temporal_compression_ratio: Some(1),
            ..Ltx2VideoVaeConfig::default()
        };
        let audio = Ltx2AudioVaeConfig {
            base_channels: 8,
            ch_mult: vec![1, 2, 2],
            num_res_blocks: 1,
            attn_resolutions: None,
            latent_channels: 2,
            mid_block_add_attention: false,
            sample_rate: 16000,
            mel_hop_length: 160,
            mel_bins: Some(16),
            ..Ltx2AudioVaeConfig::default()
        };
        let (v, a) = (dir.join("vae"), dir.join("audio_vae"));
        init_video_vae(&v, &vae, 1).unwrap();
        init_audio_vae(&a, &audio, 2).unwrap();
        (v, a)
    }

    fn test_config(train_clips: usize) -> TransformerTrainConfig {
        TransformerTrainConfig {
            transformer: Ltx2TransformerConfig {
                num_attention_heads: 2,
                attention_head_dim: 8,
                cross_attention_dim: 16,
                audio_num_attention_heads: 2,
                audio_attention_head_dim: 4,
                audio_cross_attention_dim: 8,
                num_layers: 1,
                ..tiny_transformer_config()
            },
            text: TextConfig {
                hidden_size: 16,
                layers: 1,
                registers: 4,
                max_sequence_length: 16,
                ..TextConfig::default()
            },
            data: DataConfig {
                width: 32,
                height: 32,
                frames: 17,
                ..DataConfig::default()
            },
            train: LoopConfig {
                train_clips,
                eval_clips: 2,
                batch: 2,
                checkpoint_every: 0,
                ..TransformerTrainConfig::default().train
            },
            ..TransformerTrainConfig::default()
        }
    }

    #[test]
    fn steps_lower_the_loss_and_resume_equals_an_uninterrupted_run() {
        let root = tmp("resume");
        let (v, a) = vae_folders(&root);
        let cfg = test_config(1);
        // The fixed-noise loss of the one training clip falls.
        let fixed = |t: &TransformerTrainer| -> f64 {
            let _guard = tch::no_grad_guard();
            let mut rng = TrainRng::new(5);
            let xv = t.train.video.shallow_clone();
            let xa = t.train.audio.shallow_clone();
            let ev = rng.normal_tensor(&xv.size()).unwrap();
            let ea = rng.normal_tensor(&xa.size()).unwrap();
            let (lv, la) = t
                .loss((&xv, &xa), &[t.train.captions[0]], &[0.5], (&ev, &ea), None)
                .unwrap();
            lv.double_value(&[]) + la.double_value(&[])
        };
        let mut t = TransformerTrainer::start(&root.join("a"), cfg.clone(), &v, &a, 3).unwrap();
        assert_eq!(t.config().transformer.in_channels, 4);
        assert_eq!(t.config().transformer.audio_in_channels, 8);
        let before = fixed(&t);
        for _ in 0..30 {
            t.step().unwrap();
        }
        let after = fixed(&t);
        assert!(after < 0.8 * before, "{before} → {after}");

        // A warm start from the trained weights begins where they ended,
        // under another seed; a config they do not fit is refused.
        let trained = root.join("trained");
        t.write_transformer(&trained).unwrap();
        let w =
            TransformerTrainer::start_from(&root.join("w"), cfg.clone(), &v, &a, 3, Some(&trained));
        let w = w.unwrap();
        assert_eq!(w.step_count(), 0);
        assert_eq!(fixed(&w), after);
        let refusal = |dir: &str, c: TransformerTrainConfig, folder: &Path| -> String {
            let r = TransformerTrainer::start_from(&root.join(dir), c, &v, &a, 3, Some(folder));
            r.err().expect("the warm start is refused").to_string()
        };
        let mut deeper = cfg.clone();
        deeper.transformer.num_layers = 2;
        let message = refusal("x", deeper, &trained);
        assert!(message.contains("lacks transformer_blocks.1."), "{message}");
        let mut narrower = cfg.clone();
        narrower.transformer.attention_head_dim = 4;
        let message = refusal("y", narrower, &trained);
        assert!(message.contains("in the run's config"), "{message}");
        let poisoned = root.join("poisoned");
        t.write_transformer(&poisoned).unwrap();
        let file = poisoned.join(WEIGHTS_FILE);
        let mut tensors = super::super::checkpoint::read_safetensors(&file).unwrap();
        let _ = tensors[0].1.fill_(f64::NAN);
        write_safetensors(&file, &tensors).unwrap();
        let message = refusal("z", cfg.clone(), &poisoned);
        assert!(message.contains("NaN"), "{message}");

        // 2 steps, then a resumed 2, equal 4 uninterrupted.
        let start = |d: &Path| TransformerTrainer::start(d, cfg.clone(), &v, &a, 4).unwrap();
        let (u, r) = (root.join("u"), root.join("r"));
        assert_resume_is_bit_identical(&u, &r, start, "transformer");

        // The end of a run: the folder loads, the report is sane.
        let u = TransformerTrainer::resume(&u).unwrap();
        let report = u.finish().unwrap();
        assert_eq!(report.step, 4);
        assert_eq!(report.by_sigma.len(), EVAL_SIGMAS.len());
        assert!(report.video_loss.is_finite() && report.zero_video_loss > 0.5);
        assert!(report.video_loss_empty_prompt.is_finite());
        Ltx2Transformer::load(&root.join("u").join(FINAL_DIR), Device::Cpu, Kind::Float).unwrap();
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn an_assembled_pipeline_generates_with_its_own_defaults() {
        use super::super::init::init_vocoder;
        use super::super::vocoder::tiny_vocoder_config;
        use crate::{Pipeline, Progress, Request};
        let root = tmp("assemble");
        let (v, a) = vae_folders(&root);
        let t = TransformerTrainer::start(&root.join("run"), test_config(1), &v, &a, 9).unwrap();
        t.finish().unwrap();
        let vocoder = root.join("vocoder");
        let voc = crate::models::ltx2::vocoder::Ltx2VocoderConfig {
            in_channels: 32,
            hidden_channels: 16,
            ..tiny_vocoder_config()
        };
        init_vocoder(&vocoder, &voc, 5).unwrap();
        let dest = root.join("pipeline");
        t.assemble(&vocoder, &dest, 2).unwrap();

        // The normal loader takes it; a bare request gets the folder's size,
        // length, rate and steps, and the clip has the video's length of sound.
        let pipe = Pipeline::builder().model(&dest).build().unwrap();
        let clip = pipe
            .generate(
                &Request::text("a red ball bounces").seed(1),
                &mut Progress::none(),
            )
            .unwrap();
        assert_eq!(clip.frames.shape(), &[17, 32, 32, 3]);
        assert_eq!((clip.fps, clip.meta.steps, clip.meta.fps), (12.0, 2, 12));
        let audio = clip.audio.as_ref().expect("the pipeline generates sound");
        let seconds = audio.shape()[1] as f32 / clip.sample_rate as f32;
        assert!((seconds - 17.0 / 12.0).abs() < 0.1, "{seconds} s of sound");
        // A request's own values still win.
        let clip = pipe
            .generate(
                &Request::text("a red ball bounces")
                    .frames(9)
                    .steps(3)
                    .seed(1),
                &mut Progress::none(),
            )
            .unwrap();
        assert_eq!((clip.frames.shape()[0], clip.meta.steps), (9, 3));
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn object_tokens_weigh_more_in_the_video_loss() {
        // A still grey clip with a bright square moving across its left
        // half: 2 clips of 5 frames, 16×16 pixels, latents 2 × 4 × 4.
        let x = Tensor::zeros([2, 3, 5, 16, 16], (Kind::Float, Device::Cpu));
        for t in 0..5i64 {
            let _ = x.narrow(2, t, 1).narrow(3, 4, 4).narrow(4, t, 4).fill_(1.0);
        }
        let z = Tensor::zeros([2, 4, 2, 4, 4], (Kind::Float, Device::Cpu));
        let w = token_weights(&x, &z, 10.0).unwrap();
        assert_eq!(w.size(), [2, 32, 1]);
        let v = Vec::<f32>::try_from(w.flatten(0, -1)).unwrap();
        // Tokens without the square weigh 1; the square's more, up to 11.
        assert!(v.iter().all(|&x| (1.0..=11.0).contains(&x)));
        assert!(v.iter().filter(|&&x| x == 1.0).count() >= 16, "{v:?}");
        assert!(v.iter().any(|&x| x > 2.0), "{v:?}");
        // Uniform weights are the plain mean; weight on a token's error
        // moves the loss towards it.
        let p = Tensor::zeros([1, 2, 3], (Kind::Float, Device::Cpu));
        let target = Tensor::from_slice(&[1.0f32, 1.0, 1.0, 3.0, 3.0, 3.0]).view([1, 2, 3]);
        let plain = weighted_mse(&p, &target, None).unwrap().double_value(&[]);
        let ones = Tensor::ones([1, 2, 1], (Kind::Float, Device::Cpu));
        let same = weighted_mse(&p, &target, Some(&ones))
            .unwrap()
            .double_value(&[]);
        assert!((plain - 5.0).abs() < 1e-6 && (same - plain).abs() < 1e-6);
        let more = Tensor::from_slice(&[1.0f32, 3.0]).view([1, 2, 1]);
        let weighted = weighted_mse(&p, &target, Some(&more))
            .unwrap()
            .double_value(&[]);
        assert!((weighted - 7.0).abs() < 1e-6, "{weighted}");
        // A weighted run trains, and its held-out report stays the plain loss.
        let root = tmp("objects");
        let (v, a) = vae_folders(&root);
        let mut cfg = test_config(1);
        cfg.object_loss_weight = 10.0;
        let mut t = TransformerTrainer::start(&root.join("run"), cfg, &v, &a, 3).unwrap();
        let w = t.train.weights.as_ref().expect("token weights");
        assert_eq!(w.size()[..2], t.train.video.size()[..2]);
        assert!(t.step().unwrap().loss.is_finite());
        std::fs::remove_dir_all(&root).ok();
    }

    /// A `--config` file overrides only the fields it names, at any depth:
    /// the preset's learning rate, weight decay and transformer stay.
    #[test]
    fn a_config_file_changes_only_what_it_names() {
        let dir = tmp("config-file");
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.json");
        std::fs::write(
            &f,
            r#"{"object_loss_weight": 2.0, "optimizer": {"ema_decay": 0.99},
                "transformer": {"num_layers": 3}}"#,
        )
        .unwrap();
        let c = TransformerTrainConfig::from_preset_or_file(f.to_str().unwrap()).unwrap();
        let p = TransformerTrainConfig::default();
        assert_eq!(c.object_loss_weight, 2.0);
        assert_eq!(c.train.optimizer.ema_decay, 0.99);
        assert_eq!(c.train.optimizer.lr, p.train.optimizer.lr);
        assert_eq!(
            c.train.optimizer.weight_decay,
            p.train.optimizer.weight_decay
        );
        assert_eq!(c.transformer.num_layers, 3);
        assert_eq!(
            c.transformer.num_attention_heads,
            p.transformer.num_attention_heads
        );
        assert_eq!(c.text, p.text);
        let small = TransformerTrainConfig::from_preset_or_file("small-av").unwrap();
        assert_eq!(small, TransformerTrainConfig::small_av());
        assert_eq!(small.transformer.num_layers, 3);
        small.validate().unwrap();
        let base = TransformerTrainConfig::from_preset_or_file("base-av").unwrap();
        assert_eq!(base, TransformerTrainConfig::base_av());
        assert_eq!(base.transformer.audio_cross_attention_dim, 64);
        base.validate().unwrap();
        let unknown = TransformerTrainConfig::from_preset_or_file("huge-av").unwrap_err();
        assert!(
            unknown.to_string().contains("tiny-av, small-av, base-av"),
            "{unknown}"
        );
        std::fs::write(&f, "[1, 2]").unwrap();
        assert!(TransformerTrainConfig::from_preset_or_file(f.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_configs_and_inputs_are_refused() {
        let mut c = test_config(1);
        c.caption_dropout = 1.0;
        assert!(c.validate().is_err());
        let mut c = test_config(1);
        c.object_loss_weight = -1.0;
        assert!(c.validate().is_err());
        let mut c = test_config(1);
        c.transformer.patch_size = 2;
        assert!(c.validate().is_err());
        let root = tmp("bad");
        let err = TransformerTrainer::start(
            &root.join("x"),
            test_config(1),
            &root.join("no-vae"),
            &root.join("no-audio"),
            0,
        );
        assert!(err.is_err());
        std::fs::remove_dir_all(&root).ok();
    }
}
