//! Training the LTX-2 audio VAE (`AutoencoderKLLTX2Audio`, our port in
//! [`crate::models::ltx2::audio_vae`]) on the simulator's impact sounds.
//!
//! Each training clip's mono track ([`super::data`], 16 kHz) is duplicated to
//! stereo (the VAE's `in_channels`), turned into LTX-2's log-mel spectrogram
//! ([`LogMel`]: `n_fft` [`MEL_FFT`] as the pipeline's front end, hop the
//! config's `mel_hop_length`, the config's `mel_bins` bands, `ln` of the
//! magnitudes floored at 1e-5) and cropped to `4k + 1` frames (what a causal
//! 4× encoder and decoder map onto themselves). Loss per step, exactly as
//! [`super::video_vae`] on frames: the encoder gives the posterior
//! `N(μ, σ²)`, `z = μ + σ·ε` (ε from the run's generator), the decoder gives
//! the log-mel `m̂`, and `loss = mean|m̂ − m| + kl_weight · KL` (in log
//! units). The port's encode and decode paths do not turn autograd off.
//!
//! **The `tiny-audio` preset** ([`tiny_audio_vae_config`]): LTX-2's front
//! end unchanged (16 kHz, hop 160, 64 mel bins: 100 mel frames and 25 latent
//! frames per second, the rates the pipeline assumes, and the spectrogram a
//! later vocoder of LTX-2's shape takes), and LTX-2's architecture choices
//! (pixel norm, causal in time, `double_z`) at a fraction of the width:
//! - three `ch_mult` levels `[1, 2, 2]`: two stride-2 down-samplers, the 4×
//!   compression in time and in mel bins that the pipeline's audio latents
//!   assume (`AUDIO_LATENT_DOWNSAMPLE`; a clip extension refuses other depths);
//! - 2 latent channels: latents `[2, T/4, 16]`, 32 values per 4 mel frames
//!   of 64 bins (8× fewer values than the mono log-mel; LTX-2 keeps 2×).
//!   The simulator's sounds are a few decaying modes struck at impacts,
//!   sparse in time and frequency;
//! - `base_channels` 32 = latent channels × mel bins / 4: the pipeline's
//!   latent statistics (`latents_mean` / `latents_std`) have `base_channels`
//!   entries and are applied to packed latents of `latent_channels ·
//!   mel_bins/4` features, so the two must agree (LTX-2: 8 × 16 = 128);
//! - widths 32/64/64, one residual block per encoder level (two per decoder
//!   level, the port's rule), no attention: about 0.9 M parameters, a
//!   spectrogram of 209 × 64 per 25-frame clip, cheap on two CPU cores.
//!
//! After training, [`AudioVaeTrainer::finish`] sets `latents_mean` /
//! `latents_std` to the per-feature statistics of the packed posterior
//! means over training clips (the layout the pipeline normalises), writes
//! the final folder, the loss curve and the held-out evaluation
//! ([`AudioEvalReport`]: log-mel error and whether impact onsets survive).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::data::{DataConfig, Dataset, Example, Split};
use super::init::init_audio_vae;
use super::run::{
    column_statistics, config_from_preset_or_file, posterior_sample, write_component, write_json,
    LoopChanges, LoopConfig, Presets, Run, StepReport, VaeObjective,
};
use crate::models::ltx2::audio_tail::MEL_FFT;
use crate::models::ltx2::audio_vae::{Ltx2AudioVae, Ltx2AudioVaeConfig};
use crate::nn::mel::LogMel;
use crate::nn::resample1d::resample_hz;
use crate::weights::TensorStore;
use crate::{Error, Result};

/// The final audio VAE folder in a run's output folder.
pub const FINAL_DIR: &str = "audio_vae";

/// A rise of the mean log-mel between two frames of at least this much
/// (log units) marks a clip as having an onset for the onset measure.
pub const ONSET_MIN_RISE: f64 = 1.0;

/// The `tiny-audio` VAE config (see the module's doc for the reasoning).
pub fn tiny_audio_vae_config() -> Ltx2AudioVaeConfig {
    Ltx2AudioVaeConfig {
        base_channels: 32,
        ch_mult: vec![1, 2, 2],
        num_res_blocks: 1,
        attn_resolutions: None,
        latent_channels: 2,
        mid_block_add_attention: false,
        sample_rate: 16000,
        mel_hop_length: 160,
        mel_bins: Some(64),
        ..Ltx2AudioVaeConfig::default()
    }
}

/// Everything an audio VAE training run is configured by (`--config` JSON;
/// every field optional, defaults are the `tiny-audio` preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AudioVaeTrainConfig {
    /// The VAE's `config.json`.
    pub vae: Ltx2AudioVaeConfig,
    /// The clips (their audio is used).
    pub data: DataConfig,
    /// The loss (KL weight, reconstruction loss), at the top level of the JSON.
    #[serde(flatten)]
    pub objective: VaeObjective,
    /// The loop (optimizer, clip counts, batch, checkpoints), at the top
    /// level of the JSON.
    #[serde(flatten)]
    pub train: LoopConfig,
}

impl Default for AudioVaeTrainConfig {
    fn default() -> Self {
        Self {
            vae: tiny_audio_vae_config(),
            data: DataConfig::default(),
            objective: VaeObjective::default(),
            train: LoopConfig::default(),
        }
    }
}

impl AudioVaeTrainConfig {
    /// The presets (one: the default).
    pub const PRESETS: &'static Presets<Self> = &[("tiny-audio", Self::default)];

    /// A preset by name, or a JSON file's config (fields default to `tiny-audio`).
    pub fn from_preset_or_file(spec: &str) -> Result<Self> {
        config_from_preset_or_file(spec, Self::PRESETS)
    }

    /// Checks what the loop relies on.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        self.objective.validate()?;
        let v = &self.vae;
        let bins = v.mel_bins.unwrap_or(64);
        if v.ch_mult.len() != 3 || bins % 4 != 0 || v.base_channels != v.latent_channels * bins / 4
        {
            return Err(Error::invalid(format!(
                "the audio VAE must have 3 `ch_mult` levels (4× compression), mel bins divisible \
                 by 4 and base_channels = latent_channels × mel_bins / 4 (the latent \
                 statistics' size); got {:?}, {bins} bins, base {} and {} latent channels",
                v.ch_mult, v.base_channels, v.latent_channels
            )));
        }
        if v.sample_rate < 1 || v.mel_hop_length < 1 || v.in_channels < 1 {
            return Err(Error::invalid(
                "sample_rate, mel_hop_length and in_channels must be positive",
            ));
        }
        Ok(())
    }
}

/// Reconstruction quality on held-out clips (log-mel of the posterior
/// mean's decode against the input's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioEvalReport {
    /// Steps trained.
    pub step: u64,
    /// Held-out clips evaluated.
    pub clips: usize,
    /// Mean over clips of each clip's mean absolute log-mel error (natural-log units).
    pub mel_l1: f64,
    /// The worst clip's mean absolute log-mel error.
    pub mel_l1_max: f64,
    /// Clips whose input has an onset (a frame-to-frame rise of the mean
    /// log-mel of at least [`ONSET_MIN_RISE`]).
    pub onset_clips: usize,
    /// The fraction of those whose reconstruction has its largest rise
    /// within ±1 mel frame of the input's.
    pub onsets_within_1_frame: f64,
    /// Seconds per training step over this session's steps (0 if none).
    pub seconds_per_step: f64,
    /// The mean training loss of the last 10 steps.
    pub final_train_loss: f64,
}

/// Clips' log-mel spectrograms, `[N, in_channels, T, mel_bins]`, `T ≡ 1 (mod 4)`.
#[derive(Debug)]
pub struct MelSet {
    /// The spectrograms.
    pub mels: Tensor,
}

/// LTX-2's log-mel front end as training uses it: the clips' audio at
/// `sample_rate`, duplicated to `channels`, through [`LogMel`] (`n_fft`
/// [`MEL_FFT`], hop `hop`, `mel_bins` bands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MelFrontEnd {
    /// Sample rate of the audio the spectrogram is taken of (Hz).
    pub sample_rate: i64,
    /// Hop between mel frames (samples).
    pub hop: i64,
    /// Mel bands.
    pub mel_bins: i64,
    /// Audio channels (the mono track duplicated).
    pub channels: i64,
}

impl Default for MelFrontEnd {
    /// LTX-2's: 16 kHz, hop 160, 64 bands, stereo.
    fn default() -> Self {
        Self {
            sample_rate: 16000,
            hop: 160,
            mel_bins: 64,
            channels: 2,
        }
    }
}

impl MelFrontEnd {
    /// The front end of an audio VAE's config.
    pub fn of_vae(vae: &Ltx2AudioVaeConfig) -> Self {
        Self {
            sample_rate: vae.sample_rate,
            hop: vae.mel_hop_length,
            mel_bins: vae.mel_bins.unwrap_or(64),
            channels: vae.in_channels,
        }
    }

    /// Checks that every setting is positive.
    pub fn validate(&self) -> Result<()> {
        if self.sample_rate < 1 || self.hop < 1 || self.mel_bins < 1 || self.channels < 1 {
            return Err(Error::invalid(format!(
                "the mel front end's sample rate, hop, mel bins and channels must be \
                 positive, got {self:?}"
            )));
        }
        Ok(())
    }

    /// The [`LogMel`] transform.
    pub fn log_mel(&self) -> Result<LogMel> {
        LogMel::new(self.sample_rate, MEL_FFT, self.hop, self.mel_bins)
    }

    /// One clip's waveform `[1, channels, N]` at `sample_rate` (resampled
    /// from the clip's `rate`, zero-padded to what `front` needs) and its
    /// log-mel `[1, channels, T, mel_bins]` cropped to `T ≡ 1 (mod 4)`
    /// frames (what a causal 4× VAE maps onto itself).
    pub fn clip(&self, front: &LogMel, ex: &Example, rate: i64) -> Result<(Tensor, Tensor)> {
        let mono = Tensor::f_from_slice(&ex.audio)?.f_unsqueeze(0)?;
        let mono = if rate != self.sample_rate {
            resample_hz(&mono, rate, self.sample_rate)?
        } else {
            mono
        };
        let n = mono.size()[1];
        let mono = if n < front.min_samples() {
            mono.f_constant_pad_nd([0, front.min_samples() - n])?
        } else {
            mono
        };
        // Mono → the channels (duplicated), [1, C, N].
        let wave = mono.f_expand([self.channels, -1], false)?.f_unsqueeze(0)?;
        let mel = front.forward(&wave)?;
        let t = mel.size()[2];
        let mel = mel.f_narrow(2, 0, t - (t - 1) % 4)?;
        Ok((wave, mel))
    }
}

impl MelSet {
    /// The log-mel spectrograms of `set`'s clips under `vae`'s front end.
    pub fn new(set: &Dataset, vae: &Ltx2AudioVaeConfig) -> Result<Self> {
        let front = MelFrontEnd::of_vae(vae);
        let log_mel = front.log_mel()?;
        let rate = i64::from(set.config.sample_rate);
        let mels = set
            .examples
            .iter()
            .map(|ex| Ok(front.clip(&log_mel, ex, rate)?.1))
            .collect::<Result<Vec<_>>>()?;
        if mels.is_empty() {
            return Err(Error::invalid("no clips to take spectrograms of"));
        }
        Ok(Self {
            mels: Tensor::f_cat(&mels, 0)?,
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

    /// The spectrograms `idx` stacked, `[B, C, T, M]`.
    pub fn batch(&self, idx: &[usize]) -> Result<Tensor> {
        if idx.is_empty() {
            return Err(Error::invalid("an empty batch"));
        }
        if let Some(&i) = idx.iter().find(|&&i| i >= self.len()) {
            return Err(Error::invalid(format!(
                "no clip {i} in a set of {}",
                self.len()
            )));
        }
        let ix: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        Ok(self.mels.f_index_select(0, &Tensor::f_from_slice(&ix)?)?)
    }
}

/// The frame of the largest rise of the mean log-mel of `mel` `[C, T, M]`,
/// and that rise.
fn largest_rise(mel: &Tensor) -> Result<(i64, f64)> {
    let e = mel.f_mean_dim([0i64, 2].as_slice(), false, Kind::Float)?;
    let t = e.size()[0];
    if t < 2 {
        return Ok((0, 0.0));
    }
    let d = e.f_narrow(0, 1, t - 1)?.f_sub(&e.f_narrow(0, 0, t - 1)?)?;
    let at = d.f_argmax(0, false)?.f_int64_value(&[])?;
    Ok((at + 1, d.f_double_value(&[at])?))
}

/// The onset measure over clips: how many inputs have an onset (a
/// frame-to-frame rise of the mean log-mel of at least [`ONSET_MIN_RISE`])
/// and for how many of those the output's largest rise is within ±1 mel
/// frame of the input's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnsetTally {
    /// Inputs with an onset.
    pub clips: usize,
    /// Of those, outputs with their largest rise within ±1 frame.
    pub hits: usize,
}

impl OnsetTally {
    /// Counts one clip: its input log-mel and the output's, `[C, T, M]` each.
    pub fn add(&mut self, input: &Tensor, output: &Tensor) -> Result<()> {
        let (at, rise) = largest_rise(input)?;
        if rise >= ONSET_MIN_RISE {
            self.clips += 1;
            let (at_out, _) = largest_rise(output)?;
            if (at_out - at).abs() <= 1 {
                self.hits += 1;
            }
        }
        Ok(())
    }

    /// `hits / clips` (0 without clips).
    pub fn fraction(&self) -> f64 {
        self.hits as f64 / self.clips.max(1) as f64
    }
}

/// The loss of log-mels `m` `[B, C, T, M]` whose posterior is `(mean,
/// logvar)`, with the posterior noise `eps` (`None`: the posterior mean), as
/// `(total, recon, kl)` tensors.
fn loss(
    vae: &Ltx2AudioVae,
    cfg: &VaeObjective,
    m: &Tensor,
    (mean, logvar): &(Tensor, Tensor),
    eps: Option<&Tensor>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let z = posterior_sample(mean, logvar, eps)?;
    let mr = vae.decode(&z)?;
    cfg.loss(&mr, m, mean, logvar)
}

/// An audio VAE training run: model, optimizer, spectrograms and state.
pub struct AudioVaeTrainer {
    config: AudioVaeTrainConfig,
    vae: Ltx2AudioVae,
    run: Run,
    train: MelSet,
}

/// Loads the audio VAE folder `dir` keeping its tensors' names.
fn load_named(dir: &Path) -> Result<(Ltx2AudioVae, Vec<(String, Tensor)>)> {
    let store = TensorStore::open(dir, "audio_vae", Device::Cpu, Kind::Float)?.keep_names(true);
    let vae = Ltx2AudioVae::load_with_store(dir, &store)?;
    Ok((vae, store.named_tensors()))
}

fn train_mels(config: &AudioVaeTrainConfig) -> Result<MelSet> {
    let clips = Dataset::new(&config.data, Split::Train, config.train.train_clips)?;
    MelSet::new(&clips, &config.vae)
}

super::run::impl_trainer!(AudioVaeTrainer);

impl AudioVaeTrainer {
    /// A fresh run writing into `out`: the VAE initialised from `seed`
    /// ([`super::init`]), saved at once as the step-0 checkpoint.
    pub fn start(out: &Path, config: AudioVaeTrainConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let (run, vae) = Run::start(
            out,
            "audio_vae",
            config.train.optimizer,
            seed,
            |d| init_audio_vae(d, &config.vae, seed).map(|_| ()),
            load_named,
        )?;
        let train = train_mels(&config)?;
        let me = Self {
            vae,
            run,
            train,
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
        let (run, vae, config) = Run::resume(
            out,
            "audio_vae",
            changes,
            |c: &AudioVaeTrainConfig| c.validate().map(|_| c.train.optimizer),
            load_named,
        )?;
        let train = train_mels(&config)?;
        Ok(Self {
            vae,
            run,
            train,
            config,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &AudioVaeTrainConfig {
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
    pub fn vae(&self) -> &Ltx2AudioVae {
        &self.vae
    }

    /// Trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.run.parameter_count()
    }

    /// The training clips' spectrograms.
    pub fn train_set(&self) -> &MelSet {
        &self.train
    }

    /// One optimizer step on a batch drawn from the training clips.
    pub fn step(&mut self) -> Result<StepReport> {
        let (vae, train, cfg) = (&self.vae, &self.train, &self.config.objective);
        let (report, due) = self
            .run
            .train_step(&self.config.train, train.len(), |idx, rng| {
                let m = train.batch(idx)?;
                let posterior = vae.encode(&m)?;
                let eps = rng.normal_tensor(&posterior.0.size())?;
                loss(vae, cfg, &m, &posterior, Some(&eps))
            })?;
        if due {
            self.save()?;
        }
        Ok(report)
    }

    /// The loss on a fixed batch of log-mels, with the posterior mean (no gradient).
    pub fn eval_loss(&self, m: &Tensor) -> Result<f64> {
        let _guard = tch::no_grad_guard();
        let posterior = self.vae.encode(m)?;
        Ok(
            loss(&self.vae, &self.config.objective, m, &posterior, None)?
                .0
                .f_double_value(&[])?,
        )
    }

    /// Writes the checkpoint (replacing the previous one).
    pub fn save(&self) -> Result<()> {
        self.run.save(&self.config, |d| self.write_vae(d))
    }

    /// Writes the audio VAE as a diffusers component folder.
    pub fn write_vae(&self, dir: &Path) -> Result<()> {
        write_component(
            dir,
            "AutoencoderKLLTX2Audio",
            &self.config.vae,
            &self.run.weights,
        )
    }

    /// Log-mel error and onsets of the posterior mean's decode on the first
    /// `n` held-out clips.
    pub fn evaluate(&self, n: usize) -> Result<AudioEvalReport> {
        let _guard = tch::no_grad_guard();
        let clips = Dataset::new(&self.config.data, Split::HeldOut, n)?;
        let set = MelSet::new(&clips, &self.config.vae)?;
        let (mut errs, mut onsets) = (Vec::with_capacity(n), OnsetTally::default());
        for i in 0..set.len() {
            let m = set.batch(&[i])?;
            let (mean, _) = self.vae.encode(&m)?;
            let mr = self.vae.decode(&mean)?;
            errs.push(
                mr.f_sub(&m)?
                    .f_abs()?
                    .f_mean(Kind::Float)?
                    .f_double_value(&[])?,
            );
            onsets.add(&m.f_select(0, 0)?, &mr.f_select(0, 0)?)?;
        }
        let k = errs.len().max(1) as f64;
        Ok(AudioEvalReport {
            step: self.run.step_count(),
            clips: errs.len(),
            mel_l1: errs.iter().sum::<f64>() / k,
            mel_l1_max: errs.iter().copied().fold(0.0, f64::max),
            onset_clips: onsets.clips,
            onsets_within_1_frame: onsets.fraction(),
            seconds_per_step: self.run.seconds_per_step(),
            final_train_loss: self.run.final_train_loss(),
        })
    }

    /// Sets `latents_mean` / `latents_std` to the per-feature statistics of
    /// the packed posterior means (`[L, C·M]` per clip) of up to `n`
    /// training clips.
    pub fn set_latent_statistics(&self, n: usize) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let mut rows = Vec::new();
        for i in 0..n.min(self.train.len()) {
            let (m, _) = self.vae.encode(&self.train.batch(&[i])?)?;
            rows.push(self.vae.pack(&m)?.f_flatten(0, 1)?);
        }
        let (mu, sd) = column_statistics(&Tensor::f_cat(&rows, 0)?)?;
        self.run.set_latent_statistics(&mu, &sd)
    }

    /// Ends the run: latent statistics, final checkpoint, the final folder
    /// (`out/audio_vae`), the loss curve (`out/loss.png`) and the held-out
    /// evaluation (`out/eval.json`), which it returns.
    pub fn finish(&self) -> Result<AudioEvalReport> {
        self.set_latent_statistics(32)?;
        self.save()?;
        if self.run.use_average()? {
            self.set_latent_statistics(32)?;
        }
        self.write_vae(&self.run.out().join(FINAL_DIR))?;
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

    /// A narrow VAE and short clips for tests: 16 frames (1.33 s), widths 16.
    fn test_config(train_clips: usize, batch: usize) -> AudioVaeTrainConfig {
        AudioVaeTrainConfig {
            vae: Ltx2AudioVaeConfig {
                base_channels: 16,
                latent_channels: 1,
                ch_mult: vec![1, 1, 1],
                ..tiny_audio_vae_config()
            },
            data: DataConfig {
                width: 32,
                height: 32,
                frames: 16,
                ..DataConfig::default()
            },
            objective: VaeObjective::default(),
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
        let d = std::env::temp_dir().join(format!(
            "sora-audio-vae-train-{name}-{}",
            std::process::id()
        ));
        std::fs::remove_dir_all(&d).ok();
        d
    }

    #[test]
    fn adamw_steps_lower_the_loss_on_a_fixed_batch() {
        let out = tmp("lower");
        let mut t = AudioVaeTrainer::start(&out, test_config(1, 1), 3).unwrap();
        let m = t.train_set().batch(&[0]).unwrap();
        let s = m.size();
        assert_eq!((s[0], s[1], s[3]), (1, 2, 64));
        assert_eq!(s[2] % 4, 1);
        let before = t.eval_loss(&m).unwrap();
        for _ in 0..8 {
            t.step().unwrap();
        }
        let after = t.eval_loss(&m).unwrap();
        assert!(after < 0.9 * before, "loss {before} → {after}");
        assert_eq!(t.step_count(), 8);
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn resume_equals_an_uninterrupted_run_bit_for_bit() {
        let (a, b) = (tmp("whole"), tmp("resumed"));
        let cfg = test_config(3, 2);
        let start = |d: &Path| AudioVaeTrainer::start(d, cfg.clone(), 21).unwrap();
        let wa = assert_resume_is_bit_identical(&a, &b, start, "audio_vae");
        // The encoder is trained too.
        assert!(wa.iter().any(|(n, _)| n.starts_with("encoder.")));
        for d in [a, b] {
            std::fs::remove_dir_all(d).ok();
        }
    }

    #[test]
    fn finished_folder_loads_through_the_normal_loader_and_round_trips() {
        let out = tmp("finish");
        let mut t = AudioVaeTrainer::start(&out, test_config(2, 1), 5).unwrap();
        for _ in 0..2 {
            t.step().unwrap();
        }
        let report = t.finish().unwrap();
        assert_eq!((report.step, report.clips), (2, 2));
        assert!(report.mel_l1.is_finite() && report.mel_l1_max >= report.mel_l1);
        assert!((0.0..=1.0).contains(&report.onsets_within_1_frame));
        assert!(out.join("loss.png").is_file() && out.join("eval.json").is_file());
        let vae = Ltx2AudioVae::load(&out.join(FINAL_DIR), Device::Cpu, Kind::Float).unwrap();
        assert!(vae.has_encoder());
        let m = t.train_set().batch(&[0]).unwrap();
        let _guard = tch::no_grad_guard();
        let (mean, _) = vae.encode(&m).unwrap();
        let l = (m.size()[2] + 3) / 4;
        assert_eq!(mean.size(), vec![1, 1, l, 16]);
        let y = vae.decode(&mean).unwrap();
        assert_eq!(y.size(), m.size());
        let (m2, _) = t.vae().encode(&m).unwrap();
        assert!(y.equal(&t.vae().decode(&m2).unwrap()));
        // The pipeline's packed path works with the set statistics.
        let packed = vae.encode_mel_packed(&m).unwrap();
        assert_eq!(packed.size(), vec![1, l, 16]);
        assert_eq!(vae.decode_packed(&packed).unwrap().size(), m.size());
        let store =
            TensorStore::open(&out.join(FINAL_DIR), "audio_vae", Device::Cpu, Kind::Float).unwrap();
        let sd = store.read_raw("latents_std").unwrap();
        assert!(sd.ne(1.0).any().int64_value(&[]) == 1);
        assert!(AudioVaeTrainConfig::from_preset_or_file("nope").is_err());
        let mut bad = test_config(1, 1);
        bad.vae.base_channels = 32;
        assert!(bad.validate().is_err());
        std::fs::remove_dir_all(&out).ok();
    }
}
