//! Training the LTX-2 vocoder (`LTX2Vocoder`, our port in
//! [`crate::models::ltx2::vocoder`]): LTX-2's log-mel spectrogram back to
//! the waveform, on the simulator's impact sounds.
//!
//! Each training clip's mono track ([`super::data`], 16 kHz) goes through
//! exactly the audio VAE stage's front end ([`MelFrontEnd`], as
//! [`super::audio_vae::MelSet`]: duplicated to stereo, [`LogMel`] with
//! `n_fft` 1024, hop 160, 64 bands, `4k + 1` frames); the target is the
//! same stereo waveform, zero-padded or cut to `frames × hop` samples (what
//! the vocoder makes of `frames` mel frames). The vocoder takes the
//! spectrogram as the pipeline gives it, `[B, 2, T, 64]` (the audio VAE's
//! decode), so a trained folder plugs into `Ltx2Family` unchanged.
//!
//! Each step takes a random crop of [`VocoderObjective::crop_frames`] mel
//! frames (and the matching `crop × hop` samples) of each clip of the batch
//! and minimises, without a discriminator (no GAN):
//! - the **multi-resolution STFT loss**: for each FFT size `n` of
//!   [`VocoderObjective::stft_ffts`] (Hann window `n`, hop `n/4`, no
//!   padding), spectral convergence over the batch, with a symmetric
//!   denominator, `‖|S| − |Ŝ|‖_F / (‖|S|‖_F² + ‖|Ŝ|‖_F²)^½` (the usual
//!   `/ ‖|S|‖_F` is unbounded on the many silent crops between impacts;
//!   this one is at most √2 and, near `Ŝ = S`, the usual one over √2),
//!   plus the mean absolute difference of `ln max(|S|, 1e-5)`, averaged
//!   over the sizes;
//! - the **log-mel L1**: mean `|LogMel(ŷ) − LogMel(y)|` through the same
//!   front end ([`LogMel`] is tch ops throughout, so autograd runs through
//!   it), i.e. the input log-mel away from the crop's edges.
//!
//! `loss = stft_weight · stft + mel_weight · mel`.
//!
//! **The `tiny-vocoder` preset** ([`tiny_vocoder_config`]): LTX-2's
//! generator shape (`conv_in` 7, transposed-convolution up-samplers each
//! followed by the mean of three residual blocks of kernels 3/7/11 and
//! dilations 1/3/5, leaky ReLU 0.1, final `tanh`) at 16 kHz out, the
//! front end's rate: up-sampling 8·5·4 = 160 = the hop, kernels 16/11/8
//! (kernel − stride even, so `T` frames give exactly `160·T` samples),
//! `in_channels` 128 = 2 channels × 64 bins, 2 channels out, width 64
//! halved per stage (64 → 32 → 16 → 8): about 0.27 M parameters.
//!
//! [`VocoderTrainer::finish`] writes the final folder (`out/vocoder`,
//! loaded by [`Ltx2Vocoder::load`]), the loss curve and the held-out
//! evaluation ([`VocoderEvalReport`]: the whole clips re-synthesised, their
//! log-mel error, multi-resolution STFT distance and impact onsets).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::audio_vae::{MelFrontEnd, OnsetTally};
use super::data::{DataConfig, Dataset, Split};
use super::init::init_vocoder;
use super::run::{
    config_from_preset_or_file, write_component, write_json, LoopChanges, LoopConfig, Presets, Run,
    StepReport,
};
use crate::models::ltx2::audio_tail::MEL_FFT;
use crate::models::ltx2::{Ltx2Vocoder, Ltx2VocoderConfig};
use crate::nn::mel::LogMel;
use crate::weights::TensorStore;
use crate::{Error, Result};

/// The final vocoder folder in a run's output folder (and the component's
/// name in checkpoints).
pub const FINAL_DIR: &str = "vocoder";

/// STFT magnitudes are floored at this before their logarithm (as the
/// log-mel's).
const LOG_FLOOR: f64 = 1e-5;

/// The `tiny-vocoder` config (see the module's doc for the reasoning).
pub fn tiny_vocoder_config() -> Ltx2VocoderConfig {
    Ltx2VocoderConfig {
        in_channels: 128,
        hidden_channels: 64,
        out_channels: 2,
        upsample_kernel_sizes: vec![16, 11, 8],
        upsample_factors: vec![8, 5, 4],
        resnet_kernel_sizes: vec![3, 7, 11],
        resnet_dilations: vec![vec![1, 3, 5]; 3],
        act_fn: "leaky_relu".into(),
        leaky_relu_negative_slope: 0.1,
        antialias: false,
        final_act_fn: Some("tanh".into()),
        final_bias: true,
        output_sampling_rate: 16000,
        ..Ltx2VocoderConfig::default()
    }
}

/// The vocoder's loss (see the module's doc), flattened into the stage's
/// config (its JSON keeps these at the top level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VocoderObjective {
    /// FFT sizes of the multi-resolution STFT loss (window `n`, hop `n/4`).
    pub stft_ffts: Vec<i64>,
    /// Weight of the STFT term.
    pub stft_weight: f64,
    /// Weight of the log-mel L1 term.
    pub mel_weight: f64,
    /// Mel frames of each training crop.
    pub crop_frames: i64,
}

impl Default for VocoderObjective {
    fn default() -> Self {
        Self {
            stft_ffts: vec![256, 512, 1024],
            stft_weight: 1.0,
            mel_weight: 1.0,
            crop_frames: 32,
        }
    }
}

/// Everything a vocoder training run is configured by (`--config` JSON;
/// every field optional, defaults are the `tiny-vocoder` preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VocoderTrainConfig {
    /// The vocoder's `config.json`.
    pub vocoder: Ltx2VocoderConfig,
    /// The log-mel front end (the audio VAE's: 16 kHz, hop 160, 64 bands, stereo).
    pub mel: MelFrontEnd,
    /// The clips (their audio is used).
    pub data: DataConfig,
    /// The loss (STFT sizes, weights, crop), at the top level of the JSON.
    #[serde(flatten)]
    pub objective: VocoderObjective,
    /// The loop (optimizer, clip counts, batch, checkpoints), at the top
    /// level of the JSON.
    #[serde(flatten)]
    pub train: LoopConfig,
}

impl Default for VocoderTrainConfig {
    fn default() -> Self {
        Self {
            vocoder: tiny_vocoder_config(),
            mel: MelFrontEnd::default(),
            data: DataConfig::default(),
            objective: VocoderObjective::default(),
            train: LoopConfig::default(),
        }
    }
}

impl VocoderTrainConfig {
    /// The presets (one: the default).
    pub const PRESETS: &'static Presets<Self> = &[("tiny-vocoder", Self::default)];

    /// A preset by name, or a JSON file's config (fields default to `tiny-vocoder`).
    pub fn from_preset_or_file(spec: &str) -> Result<Self> {
        config_from_preset_or_file(spec, Self::PRESETS)
    }

    /// Checks what the loop relies on: the loop's settings, a vocoder the
    /// loader accepts whose input is the front end's spectrogram and whose
    /// output is `hop` samples per mel frame at the front end's rate, and
    /// a loss it can compute on a crop.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        self.mel.validate()?;
        let (v, m, o) = (&self.vocoder, &self.mel, &self.objective);
        Ltx2Vocoder::validate_config(v).map_err(Error::invalid)?;
        if v.in_channels != m.channels * m.mel_bins || v.out_channels != m.channels {
            return Err(Error::invalid(format!(
                "the vocoder takes {} channels × {} mel bins = {} input channels and gives {} \
                 audio channels; got in_channels {} and out_channels {}",
                m.channels,
                m.mel_bins,
                m.channels * m.mel_bins,
                m.channels,
                v.in_channels,
                v.out_channels
            )));
        }
        let product: i64 = v.upsample_factors.iter().product();
        let exact = v
            .upsample_kernel_sizes
            .iter()
            .zip(&v.upsample_factors)
            .all(|(k, s)| (k - s) % 2 == 0);
        if v.output_sampling_rate != m.sample_rate || product != m.hop || !exact {
            return Err(Error::invalid(format!(
                "the vocoder must give {} samples per mel frame at {} Hz (the front end's hop \
                 and rate) with every up-sampler's kernel − stride even; got up-sampling \
                 {:?} (product {product}), kernels {:?}, {} Hz",
                m.hop,
                m.sample_rate,
                v.upsample_factors,
                v.upsample_kernel_sizes,
                v.output_sampling_rate
            )));
        }
        let crop_samples = o.crop_frames.saturating_mul(m.hop);
        let largest = o.stft_ffts.iter().copied().max().unwrap_or(0);
        if o.stft_ffts.is_empty()
            || o.stft_ffts.iter().any(|&n| n < 4)
            || o.crop_frames < 1
            || crop_samples < largest.max(MEL_FFT)
        {
            return Err(Error::invalid(format!(
                "stft_ffts must be non-empty and each at least 4, and a crop of crop_frames × \
                 hop samples at least the largest of them and the mel FFT ({MEL_FFT}); got \
                 {:?} and {} frames ({crop_samples} samples)",
                o.stft_ffts, o.crop_frames
            )));
        }
        let weight_ok = |w: f64| w >= 0.0 && w.is_finite();
        if !weight_ok(o.stft_weight) || !weight_ok(o.mel_weight) {
            return Err(Error::invalid(
                "stft_weight and mel_weight must be finite and ≥ 0",
            ));
        }
        if o.stft_weight + o.mel_weight <= 0.0 {
            return Err(Error::invalid(
                "stft_weight and mel_weight cannot both be 0",
            ));
        }
        Ok(())
    }
}

/// Re-synthesis quality on held-out clips (whole clips through the vocoder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocoderEvalReport {
    /// Steps trained.
    pub step: u64,
    /// Held-out clips evaluated.
    pub clips: usize,
    /// Mean over clips of the mean absolute error between the output's
    /// log-mel and the input log-mel (natural-log units).
    pub mel_l1: f64,
    /// The worst clip's.
    pub mel_l1_max: f64,
    /// The same error for a silent output (every log-mel value at the
    /// floor), for scale.
    pub silent_mel_l1: f64,
    /// Mean over clips of the multi-resolution STFT distance to the clip's
    /// waveform (spectral convergence + log-magnitude L1, averaged over the
    /// FFT sizes; the training loss's STFT term).
    pub stft_distance: f64,
    /// Clips whose input has an onset (a frame-to-frame rise of the mean
    /// log-mel of at least [`super::audio_vae::ONSET_MIN_RISE`]).
    pub onset_clips: usize,
    /// The fraction of those whose output's log-mel has its largest rise
    /// within ±1 mel frame of the input's.
    pub onsets_within_1_frame: f64,
    /// Seconds per training step over this session's steps (0 if none).
    pub seconds_per_step: f64,
    /// The mean training loss of the last 10 steps.
    pub final_train_loss: f64,
}

/// Clips' log-mels `[N, C, T, M]` and their waveforms `[N, C, T·hop]`.
#[derive(Debug)]
pub struct WaveSet {
    /// The spectrograms (the vocoder's input).
    pub mels: Tensor,
    /// The waveforms (its target).
    pub waves: Tensor,
    hop: i64,
}

impl WaveSet {
    /// The spectrograms and waveforms of `set`'s clips under `front`.
    pub fn new(set: &Dataset, front: &MelFrontEnd) -> Result<Self> {
        let log_mel = front.log_mel()?;
        let rate = i64::from(set.config.sample_rate);
        let (mut mels, mut waves) = (Vec::new(), Vec::new());
        for ex in &set.examples {
            let (wave, mel) = front.clip(&log_mel, ex, rate)?;
            let want = mel.size()[2] * front.hop;
            let n = wave.size()[2];
            let wave = if n < want {
                wave.f_constant_pad_nd([0, want - n])?
            } else {
                wave.f_narrow(2, 0, want)?
            };
            mels.push(mel);
            waves.push(wave);
        }
        if mels.is_empty() {
            return Err(Error::invalid("no clips to take spectrograms of"));
        }
        Ok(Self {
            mels: Tensor::f_cat(&mels, 0)?,
            waves: Tensor::f_cat(&waves, 0)?,
            hop: front.hop,
        })
    }

    /// Number of clips.
    pub fn len(&self) -> usize {
        self.mels.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mel frames per clip.
    pub fn frames(&self) -> i64 {
        self.mels.size()[2]
    }

    fn check(&self, idx: &[usize]) -> Result<()> {
        if idx.is_empty() {
            return Err(Error::invalid("an empty batch"));
        }
        if let Some(&i) = idx.iter().find(|&&i| i >= self.len()) {
            return Err(Error::invalid(format!(
                "no clip {i} in a set of {}",
                self.len()
            )));
        }
        Ok(())
    }

    /// The whole clips `idx`: `([B, C, T, M], [B, C, T·hop])`.
    pub fn batch(&self, idx: &[usize]) -> Result<(Tensor, Tensor)> {
        self.check(idx)?;
        let ix: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        let ix = Tensor::f_from_slice(&ix)?;
        Ok((
            self.mels.f_index_select(0, &ix)?,
            self.waves.f_index_select(0, &ix)?,
        ))
    }

    /// Crops of `frames` mel frames of the clips `idx` starting at the
    /// frames `starts` (one per clip), with their samples:
    /// `([B, C, frames, M], [B, C, frames·hop])`.
    pub fn crops(&self, idx: &[usize], starts: &[i64], frames: i64) -> Result<(Tensor, Tensor)> {
        self.check(idx)?;
        if starts.len() != idx.len() || starts.iter().any(|&s| s < 0 || s + frames > self.frames())
        {
            return Err(Error::invalid(format!(
                "crops of {frames} frames at {starts:?} do not fit clips of {} frames",
                self.frames()
            )));
        }
        let (mut mels, mut waves) = (Vec::new(), Vec::new());
        for (&i, &s) in idx.iter().zip(starts) {
            let i = i as i64;
            mels.push(self.mels.f_narrow(0, i, 1)?.f_narrow(2, s, frames)?);
            waves.push(self.waves.f_narrow(0, i, 1)?.f_narrow(
                2,
                s * self.hop,
                frames * self.hop,
            )?);
        }
        Ok((Tensor::f_cat(&mels, 0)?, Tensor::f_cat(&waves, 0)?))
    }
}

/// One resolution of the STFT loss.
#[derive(Debug)]
struct Stft {
    n_fft: i64,
    window: Tensor,
}

impl Stft {
    fn new(n_fft: i64) -> Result<Self> {
        Ok(Self {
            n_fft,
            window: Tensor::f_hann_window_periodic(n_fft, true, (Kind::Float, Device::Cpu))?,
        })
    }

    /// Magnitudes `[B·C, frames, n/2 + 1]` of waveforms `[B, C, N ≥ n]`
    /// (hop `n/4`, no padding).
    fn magnitude(&self, wave: &Tensor) -> Result<Tensor> {
        let x = wave.f_flatten(0, 1)?;
        let frames = x
            .f_unfold(1, self.n_fft, self.n_fft / 4)?
            .f_mul(&self.window)?;
        Ok(frames.f_fft_rfft(None, -1, "backward")?.f_abs()?)
    }

    /// Spectral convergence + log-magnitude L1 of `y` against `target`.
    fn distance(&self, y: &Tensor, target: &Tensor) -> Result<Tensor> {
        let s = self.magnitude(target)?;
        let s_hat = self.magnitude(y)?;
        let energy = |x: &Tensor| x.f_square()?.f_sum(Kind::Float);
        let sc = energy(&s.f_sub(&s_hat)?)?
            .f_sqrt()?
            .f_div(&energy(&s)?.f_add(&energy(&s_hat)?)?.f_sqrt()?)?;
        let log_l1 = s
            .f_clamp_min(LOG_FLOOR)?
            .f_log()?
            .f_sub(&s_hat.f_clamp_min(LOG_FLOOR)?.f_log()?)?
            .f_abs()?
            .f_mean(Kind::Float)?;
        Ok(sc.f_add(&log_l1)?)
    }
}

/// The loss's pieces: the front end and the STFT resolutions.
#[derive(Debug)]
struct VocoderLoss {
    objective: VocoderObjective,
    log_mel: LogMel,
    stfts: Vec<Stft>,
}

impl VocoderLoss {
    fn new(config: &VocoderTrainConfig) -> Result<Self> {
        Ok(Self {
            objective: config.objective.clone(),
            log_mel: config.mel.log_mel()?,
            stfts: config
                .objective
                .stft_ffts
                .iter()
                .map(|&n| Stft::new(n))
                .collect::<Result<_>>()?,
        })
    }

    /// The mean over resolutions of the STFT distance of `y` to `target`
    /// (waveforms `[B, C, N]`).
    fn stft(&self, y: &Tensor, target: &Tensor) -> Result<Tensor> {
        let mut sum: Option<Tensor> = None;
        for s in &self.stfts {
            let d = s.distance(y, target)?;
            sum = Some(match sum {
                Some(acc) => acc.f_add(&d)?,
                None => d,
            });
        }
        let sum = sum.ok_or_else(|| Error::invalid("no STFT resolutions"))?;
        Ok(sum.f_div_scalar(self.stfts.len() as f64)?)
    }

    /// `(total, stft, mel)` of the vocoder's output `y` against `target`.
    fn terms(&self, y: &Tensor, target: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let stft = self.stft(y, target)?;
        let mel = self
            .log_mel
            .forward(y)?
            .f_sub(&self.log_mel.forward(target)?)?
            .f_abs()?
            .f_mean(Kind::Float)?;
        let o = &self.objective;
        let total = stft
            .f_mul_scalar(o.stft_weight)?
            .f_add(&mel.f_mul_scalar(o.mel_weight)?)?;
        Ok((total, stft, mel))
    }
}

/// A vocoder training run: model, optimizer, clips and state.
pub struct VocoderTrainer {
    config: VocoderTrainConfig,
    vocoder: Ltx2Vocoder,
    run: Run,
    train: WaveSet,
    loss: VocoderLoss,
}

/// Loads the vocoder folder `dir` keeping its tensors' names.
fn load_named(dir: &Path) -> Result<(Ltx2Vocoder, Vec<(String, Tensor)>)> {
    let store = TensorStore::open(dir, "vocoder", Device::Cpu, Kind::Float)?.keep_names(true);
    let vocoder = Ltx2Vocoder::load_with_store(dir, &store)?;
    Ok((vocoder, store.named_tensors()))
}

/// The training clips, checked to be long enough for a crop.
fn train_set(config: &VocoderTrainConfig) -> Result<WaveSet> {
    let clips = Dataset::new(&config.data, Split::Train, config.train.train_clips)?;
    let set = WaveSet::new(&clips, &config.mel)?;
    if set.frames() < config.objective.crop_frames {
        return Err(Error::invalid(format!(
            "clips of {} mel frames are shorter than a crop of {}",
            set.frames(),
            config.objective.crop_frames
        )));
    }
    Ok(set)
}

super::run::impl_trainer!(VocoderTrainer);

impl VocoderTrainer {
    /// A fresh run writing into `out`: the vocoder initialised from `seed`
    /// ([`super::init`]), saved at once as the step-0 checkpoint.
    pub fn start(out: &Path, config: VocoderTrainConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let (run, vocoder) = Run::start(
            out,
            FINAL_DIR,
            config.train.optimizer,
            seed,
            |d| init_vocoder(d, &config.vocoder, seed).map(|_| ()),
            load_named,
        )?;
        let me = Self {
            vocoder,
            run,
            train: train_set(&config)?,
            loss: VocoderLoss::new(&config)?,
            config,
        };
        me.save()?;
        Ok(me)
    }

    /// Continues the run saved in `out`'s checkpoint.
    pub fn resume(out: &Path) -> Result<Self> {
        Self::resume_with(out, &LoopChanges::none())
    }

    /// Continues the run saved in `out`'s checkpoint under `changes` to its
    /// loop config (see [`LoopChanges`]).
    pub fn resume_with(out: &Path, changes: &LoopChanges) -> Result<Self> {
        let (run, vocoder, config) = Run::resume(
            out,
            FINAL_DIR,
            changes,
            |c: &VocoderTrainConfig| c.validate().map(|_| c.train.optimizer),
            load_named,
        )?;
        Ok(Self {
            vocoder,
            run,
            train: train_set(&config)?,
            loss: VocoderLoss::new(&config)?,
            config,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &VocoderTrainConfig {
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

    /// The model being trained.
    pub fn vocoder(&self) -> &Ltx2Vocoder {
        &self.vocoder
    }

    /// Trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.run.parameter_count()
    }

    /// The training clips.
    pub fn train_set(&self) -> &WaveSet {
        &self.train
    }

    /// One optimizer step on random crops of a batch drawn from the training
    /// clips (its terms: STFT, log-mel).
    pub fn step(&mut self) -> Result<StepReport> {
        let (voc, train, loss) = (&self.vocoder, &self.train, &self.loss);
        let crop = self.config.objective.crop_frames;
        let last = (train.frames() - crop) as usize;
        let (report, due) = self
            .run
            .train_step(&self.config.train, train.len(), |idx, rng| {
                let starts: Vec<i64> = idx.iter().map(|_| rng.below(last + 1) as i64).collect();
                let (mel, wave) = train.crops(idx, &starts, crop)?;
                loss.terms(&voc.forward(&mel)?, &wave)
            })?;
        if due {
            self.save()?;
        }
        Ok(report)
    }

    /// The loss on the whole clips `idx` of the training set (no gradient).
    pub fn eval_loss(&self, idx: &[usize]) -> Result<f64> {
        let _guard = tch::no_grad_guard();
        let (mel, wave) = self.train.batch(idx)?;
        let y = self.vocoder.forward(&mel)?;
        Ok(self.loss.terms(&y, &wave)?.0.f_double_value(&[])?)
    }

    /// Writes the checkpoint (replacing the previous one).
    pub fn save(&self) -> Result<()> {
        self.run.save(&self.config, |d| self.write_vocoder(d))
    }

    /// Writes the vocoder as a diffusers component folder.
    pub fn write_vocoder(&self, dir: &Path) -> Result<()> {
        write_component(dir, "LTX2Vocoder", &self.config.vocoder, &self.run.weights)
    }

    /// Log-mel error, STFT distance and onsets of the first `n` held-out
    /// clips re-synthesised whole.
    pub fn evaluate(&self, n: usize) -> Result<VocoderEvalReport> {
        let _guard = tch::no_grad_guard();
        let clips = Dataset::new(&self.config.data, Split::HeldOut, n)?;
        let set = WaveSet::new(&clips, &self.config.mel)?;
        let floor = LOG_FLOOR.ln();
        let (mut errs, mut silent, mut stft) = (Vec::new(), 0.0, 0.0);
        let mut onsets = OnsetTally::default();
        for i in 0..set.len() {
            let (m, wave) = set.batch(&[i])?;
            let y = self.vocoder.forward(&m)?;
            let t = m.size()[2];
            let my = self.loss.log_mel.forward(&y)?.f_narrow(2, 0, t)?;
            errs.push(
                my.f_sub(&m)?
                    .f_abs()?
                    .f_mean(Kind::Float)?
                    .f_double_value(&[])?,
            );
            silent += m
                .f_sub_scalar(floor)?
                .f_abs()?
                .f_mean(Kind::Float)?
                .f_double_value(&[])?;
            stft += self.loss.stft(&y, &wave)?.f_double_value(&[])?;
            onsets.add(&m.f_select(0, 0)?, &my.f_select(0, 0)?)?;
        }
        let k = errs.len().max(1) as f64;
        Ok(VocoderEvalReport {
            step: self.run.step_count(),
            clips: errs.len(),
            mel_l1: errs.iter().sum::<f64>() / k,
            mel_l1_max: errs.iter().copied().fold(0.0, f64::max),
            silent_mel_l1: silent / k,
            stft_distance: stft / k,
            onset_clips: onsets.clips,
            onsets_within_1_frame: onsets.fraction(),
            seconds_per_step: self.run.seconds_per_step(),
            final_train_loss: self.run.final_train_loss(),
        })
    }

    /// Ends the run: final checkpoint, the final folder (`out/vocoder`),
    /// the loss curve (`out/loss.png`) and the held-out evaluation
    /// (`out/eval.json`), which it returns.
    pub fn finish(&self) -> Result<VocoderEvalReport> {
        self.save()?;
        self.run.use_average()?;
        self.write_vocoder(&self.run.out().join(FINAL_DIR))?;
        self.run.write_curve()?;
        let report = self.evaluate(self.config.train.eval_clips)?;
        write_json(&self.run.out().join("eval.json"), &report)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::run::assert_resume_is_bit_identical;
    use super::*;

    /// A narrow vocoder (width 16, one residual block per stage), short
    /// clips (16 frames, 1.33 s) and crops of 8 mel frames.
    fn test_config(train_clips: usize, batch: usize) -> VocoderTrainConfig {
        VocoderTrainConfig {
            vocoder: Ltx2VocoderConfig {
                hidden_channels: 16,
                resnet_kernel_sizes: vec![3],
                resnet_dilations: vec![vec![1, 3]],
                ..tiny_vocoder_config()
            },
            mel: MelFrontEnd::default(),
            data: DataConfig {
                width: 32,
                height: 32,
                frames: 16,
                ..DataConfig::default()
            },
            objective: VocoderObjective {
                stft_ffts: vec![256, 1024],
                crop_frames: 8,
                ..VocoderObjective::default()
            },
            train: LoopConfig {
                train_clips,
                eval_clips: 2,
                batch,
                checkpoint_every: 0,
                ..LoopConfig::default()
            },
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("sora-vocoder-train-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        d
    }

    #[test]
    fn adamw_steps_lower_the_loss_on_a_fixed_clip() {
        let out = tmp("lower");
        let mut t = VocoderTrainer::start(&out, test_config(1, 1), 3).unwrap();
        let (m, w) = t.train_set().batch(&[0]).unwrap();
        let (ms, ws) = (m.size(), w.size());
        assert_eq!((ms[0], ms[1], ms[3]), (1, 2, 64));
        assert_eq!(ms[2] % 4, 1);
        assert_eq!(ws, vec![1, 2, ms[2] * 160]);
        let before = t.eval_loss(&[0]).unwrap();
        for _ in 0..8 {
            t.step().unwrap();
        }
        let after = t.eval_loss(&[0]).unwrap();
        assert!(after < 0.9 * before, "loss {before} → {after}");
        assert_eq!(t.step_count(), 8);
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn resume_equals_an_uninterrupted_run_bit_for_bit() {
        let (a, b) = (tmp("whole"), tmp("resumed"));
        let cfg = test_config(3, 2);
        let start = |d: &Path| VocoderTrainer::start(d, cfg.clone(), 21).unwrap();
        let wa = assert_resume_is_bit_identical(&a, &b, start, FINAL_DIR);
        assert!(wa.iter().any(|(n, _)| n.starts_with("upsamplers.")));
        for d in [a, b] {
            std::fs::remove_dir_all(d).ok();
        }
    }

    #[test]
    fn finished_folder_loads_through_the_normal_loader() {
        let out = tmp("finish");
        let mut t = VocoderTrainer::start(&out, test_config(2, 1), 5).unwrap();
        for _ in 0..2 {
            t.step().unwrap();
        }
        let report = t.finish().unwrap();
        assert_eq!((report.step, report.clips), (2, 2));
        assert!(report.mel_l1.is_finite() && report.mel_l1_max >= report.mel_l1);
        assert!(report.stft_distance.is_finite() && report.silent_mel_l1 > 0.0);
        assert!((0.0..=1.0).contains(&report.onsets_within_1_frame));
        assert!(out.join("loss.png").is_file() && out.join("eval.json").is_file());
        let voc = Ltx2Vocoder::load(&out.join(FINAL_DIR), Device::Cpu, Kind::Float).unwrap();
        assert_eq!((voc.sample_rate(), voc.out_channels()), (16000, 2));
        assert!(!voc.has_bandwidth_extension());
        let (m, _) = t.train_set().batch(&[0]).unwrap();
        let _guard = tch::no_grad_guard();
        let y = voc.forward(&m).unwrap();
        assert_eq!(y.size(), vec![1, 2, m.size()[2] * 160]);
        assert!(y.equal(&t.vocoder().forward(&m).unwrap()));
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn configs_that_do_not_fit_the_front_end_are_refused() {
        assert!(VocoderTrainConfig::default().validate().is_ok());
        assert!(VocoderTrainConfig::from_preset_or_file("tiny-vocoder").is_ok());
        assert!(VocoderTrainConfig::from_preset_or_file("tiny-audio").is_err());
        let bad = |f: &dyn Fn(&mut VocoderTrainConfig)| {
            let mut c = VocoderTrainConfig::default();
            f(&mut c);
            c.validate().is_err()
        };
        // Input: 2 channels × 64 bins; output: 2 channels at 16 kHz.
        assert!(bad(&|c| c.vocoder.in_channels = 64));
        assert!(bad(&|c| c.vocoder.out_channels = 1));
        assert!(bad(&|c| c.vocoder.output_sampling_rate = 24000));
        // 160 samples per frame, exactly.
        assert!(bad(&|c| c.vocoder.upsample_factors = vec![8, 5, 2]));
        assert!(bad(&|c| c.vocoder.upsample_kernel_sizes = vec![16, 10, 8]));
        // What the loader refuses.
        assert!(bad(&|c| c.vocoder.act_fn = "gelu".into()));
        assert!(bad(&|c| c.vocoder.hidden_channels = 4));
        // The loss.
        assert!(bad(&|c| c.objective.stft_ffts.clear()));
        assert!(bad(&|c| c.objective.crop_frames = 4));
        assert!(bad(&|c| c.objective.stft_ffts = vec![256, 8192]));
        assert!(bad(&|c| c.objective.mel_weight = -1.0));
        assert!(bad(&|c| {
            c.objective.mel_weight = 0.0;
            c.objective.stft_weight = 0.0;
        }));
        assert!(bad(&|c| c.mel.hop = 0));
        assert!(bad(&|c| c.train.batch = 0));
        // A JSON file takes the preset's values for what it leaves out.
        let path = tmp("config").with_extension("json");
        std::fs::write(&path, r#"{"crop_frames": 16, "batch": 2}"#).unwrap();
        let c = VocoderTrainConfig::from_preset_or_file(path.to_str().unwrap()).unwrap();
        assert_eq!((c.objective.crop_frames, c.train.batch), (16, 2));
        assert_eq!(c.vocoder, tiny_vocoder_config());
        std::fs::remove_file(&path).ok();
    }
}
