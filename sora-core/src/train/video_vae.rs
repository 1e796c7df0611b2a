//! Training the LTX-2 video VAE (`AutoencoderKLLTX2Video`, our port in
//! [`crate::models::ltx2::video_vae`]) on the simulator's clips.
//!
//! Loss per step, on a batch of training clips `x` in `[-1, 1]`: the encoder
//! gives the posterior `N(μ, σ²)`, a latent `z = μ + σ·ε` is drawn (ε from the
//! run's own generator), decoded to `x̂`, and
//! `loss = mean|x̂ − x| + kl_weight · mean(½(μ² + σ² − 1 − log σ²))`
//! (`"loss": "mse"` takes `mean (x̂ − x)²` instead). The encode and decode
//! paths of the port do not turn autograd off, so the same entry points the
//! pipeline uses are trained.
//!
//! **The `tiny64` preset** ([`tiny_vae_config`]), for 64×64 frames at 12 fps:
//! `patch_size` 4 (64×64×3 → 16×16×48, cheap and exact), one *spatial*
//! down-sampler (16×16 → 8×8; a spatial ratio of 8 leaves 64 latent tokens
//! per frame for the later transformer), no temporal compression (a bouncing
//! ball moves several pixels per frame at 12 fps and each impact must stay
//! on its frame for the sound; every frame keeps its latent frame, 25 frames
//! → 25 latent frames), 16 latent channels (a compression of 12× in values),
//! widths 32 (encoder after the down-sampler, decoder before the
//! up-sampler) and 16 (at 16×16), one residual block per stage, a
//! non-causal decoder with reflection padding (LTX-2's own settings), no
//! timestep conditioning. About 0.27 M parameters: a few GFLOP per clip and
//! step, which two CPU cores train.
//!
//! After training, [`VaeTrainer::finish`] sets `latents_mean` / `latents_std`
//! to the per-channel statistics of the posterior means over training clips
//! (what the pipelines normalise with), writes the final folder, the loss
//! curve and the held-out evaluation (PSNR of the posterior mean's decode).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::data::{DataConfig, Dataset, Split};
use super::init::init_video_vae;
use super::run::{
    column_statistics, config_from_preset_or_file, foreground_mask, posterior_sample,
    write_component, write_json, LoopChanges, LoopConfig, Presets, Run, VaeObjective,
    FOREGROUND_THRESHOLD,
};
pub use super::run::{ReconLoss, StepReport, CHECKPOINT_DIR};
use crate::models::ltx2::video_vae::{Flags, Ltx2VideoVae, Ltx2VideoVaeConfig};
use crate::weights::TensorStore;
use crate::{Error, Result};

/// The final VAE folder in a run's output folder.
pub const FINAL_DIR: &str = "vae";

/// The `tiny64` VAE config (see the module's doc for the reasoning).
pub fn tiny_vae_config() -> Ltx2VideoVaeConfig {
    Ltx2VideoVaeConfig {
        latent_channels: 16,
        block_out_channels: vec![32],
        down_block_types: vec!["LTX2VideoDownBlock3D".into()],
        decoder_block_out_channels: vec![32],
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
        patch_size: 4,
        patch_size_t: 1,
        decoder_causal: false,
        spatial_compression_ratio: Some(8),
        temporal_compression_ratio: Some(1),
        ..Ltx2VideoVaeConfig::default()
    }
}

/// Everything a VAE training run is configured by (`--config` JSON; every
/// field optional, defaults are the `tiny64` preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VaeTrainConfig {
    /// The VAE's `config.json`.
    pub vae: Ltx2VideoVaeConfig,
    /// The clips.
    pub data: DataConfig,
    /// The loss (KL weight, reconstruction loss), at the top level of the JSON.
    #[serde(flatten)]
    pub objective: VaeObjective,
    /// The loop (optimizer, clip counts, batch, checkpoints), at the top
    /// level of the JSON.
    #[serde(flatten)]
    pub train: LoopConfig,
}

impl Default for VaeTrainConfig {
    fn default() -> Self {
        Self {
            vae: tiny_vae_config(),
            data: DataConfig::default(),
            objective: VaeObjective {
                foreground_weight: 10.0,
                ..VaeObjective::default()
            },
            train: LoopConfig::default(),
        }
    }
}

impl VaeTrainConfig {
    /// The presets: `tiny64` (the default), `wide64` and `deep64`.
    pub const PRESETS: &'static Presets<Self> = &[
        ("tiny64", Self::default),
        ("wide64", Self::wide64),
        ("deep64", Self::deep64),
    ];

    /// The `wide64` preset: `tiny64` with
    /// widths 64 (the same cost per step on two CPU cores: the small convs
    /// are bound by overhead, not arithmetic), a warm-up of 100 steps, a
    /// cosine decay of the learning rate to 5 % at step 5000 (run it for
    /// `--steps 5000`), batches of 2 clips and a moving average of the weights (0.999), which
    /// the final folder holds.
    pub fn wide64() -> Self {
        let mut c = Self::default();
        c.vae.block_out_channels = vec![64];
        c.vae.decoder_block_out_channels = vec![64];
        c.train.optimizer.warmup_steps = 100;
        c.train.optimizer.decay_steps = 5000;
        c.train.optimizer.min_lr_ratio = 0.05;
        c.train.optimizer.ema_decay = 0.999;
        c.train.batch = 2;
        c
    }

    /// The `deep64` preset, the first VAE whose round trip clears issue
    /// #15's four quality bars: `wide64` with two residual blocks per stage
    /// in the encoder and the decoder (1.4 M parameters, about 1.5× the
    /// step time) and the decay reaching 5 % at step 7000 (run it for
    /// `--steps 7000`).
    pub fn deep64() -> Self {
        let mut c = Self::wide64();
        c.vae.layers_per_block = vec![2, 2];
        c.vae.decoder_layers_per_block = vec![2, 2];
        c.train.optimizer.decay_steps = 7000;
        c
    }

    /// A preset by name, or a JSON file's config (fields laid over `tiny64`).
    pub fn from_preset_or_file(spec: &str) -> Result<Self> {
        config_from_preset_or_file(spec, Self::PRESETS)
    }

    /// Checks what the loop relies on.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        self.objective.validate()?;
        let s = self.vae.spatial_compression_ratio.unwrap_or(1).max(1) as usize;
        if self.data.width % s != 0 || self.data.height % s != 0 {
            return Err(Error::invalid(format!(
                "{}×{} frames are not multiples of the VAE's spatial ratio {s}",
                self.data.width, self.data.height
            )));
        }
        Ok(())
    }
}

/// Reconstruction quality on held-out clips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Steps trained.
    pub step: u64,
    /// Held-out clips evaluated.
    pub clips: usize,
    /// Mean over clips of each clip's PSNR (dB, pixels in `[0, 1]`).
    pub psnr_db: f64,
    /// The worst clip's PSNR (dB).
    pub psnr_min_db: f64,
    /// Mean absolute error in `[-1, 1]` pixels.
    pub l1: f64,
    /// PSNR (dB) over the foreground pixels alone (the moving objects,
    /// [`foreground_mask`]), mean over clips: a VAE that drops the objects
    /// keeps a high `psnr_db` but not this.
    pub foreground_psnr_db: f64,
    /// Seconds per training step over this session's steps (0 if none).
    pub seconds_per_step: f64,
    /// The mean training loss of the last 10 steps.
    pub final_train_loss: f64,
}

/// The loss of `x` `[B, 3, F, H, W]` with the posterior noise `eps` (`None`:
/// the posterior mean), as `(total, recon, kl)` tensors.
fn loss(
    vae: &Ltx2VideoVae,
    cfg: &VaeObjective,
    x: &Tensor,
    eps: Option<&Tensor>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (mean, logvar) = vae.encode(x)?;
    let z = posterior_sample(&mean, &logvar, eps)?;
    let xr = vae.decode(&z, None)?;
    cfg.loss(&xr, x, &mean, &logvar)
}

/// A VAE training run: model, optimizer, data and state.
pub struct VaeTrainer {
    config: VaeTrainConfig,
    vae: Ltx2VideoVae,
    run: Run,
    train: Dataset,
}

/// Loads the VAE folder `dir` keeping its tensors' names.
fn load_named(dir: &Path) -> Result<(Ltx2VideoVae, Vec<(String, Tensor)>)> {
    let store = TensorStore::open(dir, "vae", Device::Cpu, Kind::Float)?.keep_names(true);
    let vae = Ltx2VideoVae::load_with_store(dir, &store)?;
    Ok((vae, store.named_tensors()))
}

super::run::impl_trainer!(VaeTrainer);

impl VaeTrainer {
    /// A fresh run writing into `out`: the VAE initialised from `seed`
    /// ([`super::init`]), saved at once as the step-0 checkpoint.
    pub fn start(out: &Path, config: VaeTrainConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let (run, vae) = Run::start(
            out,
            "vae",
            config.train.optimizer,
            seed,
            |d| init_video_vae(d, &config.vae, seed).map(|_| ()),
            load_named,
        )?;
        let train = Dataset::new(&config.data, Split::Train, config.train.train_clips)?;
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
            "vae",
            changes,
            |c: &VaeTrainConfig| c.validate().map(|_| c.train.optimizer),
            load_named,
        )?;
        let train = Dataset::new(&config.data, Split::Train, config.train.train_clips)?;
        Ok(Self {
            vae,
            run,
            train,
            config,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &VaeTrainConfig {
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
    pub fn vae(&self) -> &Ltx2VideoVae {
        &self.vae
    }

    /// Trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.run.parameter_count()
    }

    /// The posterior's latent shape for a batch of `b` clips.
    fn latent_shape(&self, b: i64) -> Vec<i64> {
        let d = &self.config.data;
        let s = self.vae.spatial_compression_ratio();
        vec![
            b,
            self.vae.latent_channels(),
            self.vae.latent_frames(d.frames as i64),
            d.height as i64 / s,
            d.width as i64 / s,
        ]
    }

    /// One optimizer step on a batch drawn from the training clips.
    pub fn step(&mut self) -> Result<StepReport> {
        let shape = self.latent_shape(self.config.train.batch as i64);
        let (vae, train, cfg) = (&self.vae, &self.train, &self.config.objective);
        let (report, due) = self
            .run
            .train_step(&self.config.train, train.len(), |idx, rng| {
                let x = train.batch(idx)?;
                let eps = rng.normal_tensor(&shape)?;
                loss(vae, cfg, &x, Some(&eps))
            })?;
        if due {
            self.save()?;
        }
        Ok(report)
    }

    /// The loss on a fixed batch, with the posterior mean (no gradient).
    pub fn eval_loss(&self, x: &Tensor) -> Result<f64> {
        let _guard = tch::no_grad_guard();
        Ok(loss(&self.vae, &self.config.objective, x, None)?
            .0
            .f_double_value(&[])?)
    }

    /// The training clips.
    pub fn train_set(&self) -> &Dataset {
        &self.train
    }

    /// Writes the checkpoint (replacing the previous one).
    pub fn save(&self) -> Result<()> {
        self.run.save(&self.config, |d| self.write_vae(d))
    }

    /// Writes the VAE as a diffusers component folder.
    pub fn write_vae(&self, dir: &Path) -> Result<()> {
        write_component(
            dir,
            "AutoencoderKLLTX2Video",
            &self.config.vae,
            &self.run.weights,
        )
    }

    /// PSNR of the posterior mean's decode on the first `n` held-out clips.
    pub fn evaluate(&self, n: usize) -> Result<EvalReport> {
        let _guard = tch::no_grad_guard();
        let set = Dataset::new(&self.config.data, Split::HeldOut, n)?;
        let (mut psnrs, mut l1, mut fg) = (Vec::with_capacity(n), 0.0, Vec::new());
        for i in 0..set.len() {
            let x = set.batch(&[i])?;
            let (mean, _) = self.vae.encode(&x)?;
            let xr = self.vae.decode(&mean, None)?.f_clamp(-1.0, 1.0)?;
            let d = xr.f_sub(&x)?;
            l1 += d.f_abs()?.f_mean(Kind::Float)?.f_double_value(&[])?;
            // Pixels in [0, 1]: the difference halves, the MSE quarters.
            let mse = d.f_square()?.f_mean(Kind::Float)?.f_double_value(&[])? / 4.0;
            psnrs.push(10.0 * (1.0 / mse.max(1e-12)).log10());
            let mask = foreground_mask(&x, FOREGROUND_THRESHOLD)?;
            let count = mask.f_sum(Kind::Float)?.f_double_value(&[])? * 3.0;
            if count > 0.0 {
                let se = d.f_square()?.f_mul(&mask)?.f_sum(Kind::Float)?;
                let mse = se.f_double_value(&[])? / count / 4.0;
                fg.push(10.0 * (1.0 / mse.max(1e-12)).log10());
            }
        }
        let k = psnrs.len().max(1) as f64;
        Ok(EvalReport {
            step: self.run.step_count(),
            clips: psnrs.len(),
            psnr_db: psnrs.iter().sum::<f64>() / k,
            psnr_min_db: psnrs.iter().copied().fold(f64::INFINITY, f64::min),
            l1: l1 / k,
            foreground_psnr_db: fg.iter().sum::<f64>() / fg.len().max(1) as f64,
            seconds_per_step: self.run.seconds_per_step(),
            final_train_loss: self.run.final_train_loss(),
        })
    }

    /// Sets `latents_mean` / `latents_std` to the per-channel statistics of
    /// the posterior means of up to `n` training clips.
    pub fn set_latent_statistics(&self, n: usize) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let mut rows = Vec::new();
        for i in 0..n.min(self.train.len()) {
            let (m, _) = self.vae.encode(&self.train.batch(&[i])?)?;
            // [1, C, F, h, w] → [F·h·w, C]
            rows.push(m.f_transpose(0, 1)?.f_flatten(1, -1)?.f_transpose(0, 1)?);
        }
        let (mu, sd) = column_statistics(&Tensor::f_cat(&rows, 0)?)?;
        self.run.set_latent_statistics(&mu, &sd)
    }

    /// Ends the run: latent statistics, final checkpoint, the final VAE
    /// folder (`out/vae`), the loss curve (`out/loss.png`) and the held-out
    /// evaluation (`out/eval.json`), which it returns.
    pub fn finish(&self) -> Result<EvalReport> {
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

    use super::super::checkpoint::read_safetensors;
    use super::super::init::WEIGHTS_FILE;
    use super::super::run::assert_resume_is_bit_identical;
    use super::*;

    /// A VAE and clips small enough for tests: 32×32, 17 frames, widths 8.
    fn test_config(train_clips: usize, batch: usize) -> VaeTrainConfig {
        VaeTrainConfig {
            vae: Ltx2VideoVaeConfig {
                latent_channels: 4,
                block_out_channels: vec![8],
                decoder_block_out_channels: vec![8],
                ..tiny_vae_config()
            },
            data: DataConfig {
                width: 32,
                height: 32,
                frames: 17,
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
        let d = std::env::temp_dir().join(format!("sora-vae-train-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        d
    }

    #[test]
    fn adamw_steps_lower_the_loss_on_a_fixed_batch() {
        let out = tmp("lower");
        let mut t = VaeTrainer::start(&out, test_config(1, 1), 3).unwrap();
        let x = t.train_set().batch(&[0]).unwrap();
        let before = t.eval_loss(&x).unwrap();
        for _ in 0..6 {
            t.step().unwrap();
        }
        let after = t.eval_loss(&x).unwrap();
        assert!(after < 0.9 * before, "loss {before} → {after}");
        assert_eq!(t.step_count(), 6);
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn resume_equals_an_uninterrupted_run_bit_for_bit() {
        let (a, b) = (tmp("whole"), tmp("resumed"));
        let cfg = test_config(3, 2);
        let start = |d: &Path| VaeTrainer::start(d, cfg.clone(), 21).unwrap();
        let wa = assert_resume_is_bit_identical(&a, &b, start, "vae");
        // Training moved the weights away from the initialisation.
        let init = tmp("init");
        init_video_vae(&init, &cfg.vae, 21).unwrap();
        let wi = read_safetensors(&init.join(WEIGHTS_FILE)).unwrap();
        assert!(wi.iter().zip(&wa).any(|((_, x), (_, y))| !x.equal(y)));
        for d in [a, b, init] {
            std::fs::remove_dir_all(d).ok();
        }
    }

    /// With a schedule and a moving average, resuming is still bit for bit,
    /// and the final folder holds the average, not the live weights.
    #[test]
    fn a_scheduled_averaged_run_resumes_and_ships_the_average() {
        let (a, b) = (tmp("ema-whole"), tmp("ema-resumed"));
        let mut cfg = test_config(3, 2);
        cfg.train.optimizer.warmup_steps = 1;
        cfg.train.optimizer.decay_steps = 4;
        cfg.train.optimizer.ema_decay = 0.9;
        let start = |d: &Path| VaeTrainer::start(d, cfg.clone(), 21).unwrap();
        let live = assert_resume_is_bit_identical(&a, &b, start, "vae");
        let t = VaeTrainer::resume(&a).unwrap();
        t.finish().unwrap();
        let shipped = read_safetensors(&a.join(FINAL_DIR).join(WEIGHTS_FILE)).unwrap();
        let moments =
            read_safetensors(&a.join(CHECKPOINT_DIR).join("optimizer.safetensors")).unwrap();
        let mut differs = false;
        for (name, w) in shipped.iter().filter(|(n, _)| !n.starts_with("latents_")) {
            let (_, avg) = moments
                .iter()
                .find(|(n, _)| *n == format!("ema.{name}"))
                .unwrap();
            assert!(w.equal(avg), "{name} is not the average");
            let (_, l) = live.iter().find(|(n, _)| n == name).unwrap();
            differs |= !w.equal(l);
        }
        assert!(differs, "the average equals the live weights");
        for d in [a, b] {
            std::fs::remove_dir_all(d).ok();
        }
    }

    /// A run resumed with changes to its loop continues under them: the
    /// batch and schedule change, the moving average begins at the
    /// checkpoint's weights, and the checkpoint records the new config (a
    /// change to what shapes the weights is refused by `LoopChanges` itself:
    /// `run::tests`).
    #[test]
    fn a_run_resumes_under_changes_to_its_loop() {
        let out = tmp("changes");
        let mut t = VaeTrainer::start(&out, test_config(3, 1), 4).unwrap();
        t.step().unwrap();
        t.save().unwrap();
        let saved =
            read_safetensors(&out.join(CHECKPOINT_DIR).join("vae").join(WEIGHTS_FILE)).unwrap();
        drop(t);
        let changes = LoopChanges::from_value(serde_json::json!({
            "optimizer": {"decay_steps": 5, "ema_decay": 0.9},
            "batch": 2
        }))
        .unwrap();
        let mut t = VaeTrainer::resume_with(&out, &changes).unwrap();
        let o = t.config().train.optimizer;
        assert_eq!(
            (o.decay_steps, o.ema_decay, t.config().train.batch),
            (5, 0.9, 2)
        );
        t.save().unwrap();
        let moments =
            read_safetensors(&out.join(CHECKPOINT_DIR).join("optimizer.safetensors")).unwrap();
        for (name, w) in saved.iter().filter(|(n, _)| !n.starts_with("latents_")) {
            let (_, avg) = moments
                .iter()
                .find(|(n, _)| *n == format!("ema.{name}"))
                .unwrap();
            assert!(
                avg.equal(w),
                "{name}: the average does not begin at the weights"
            );
        }
        t.step().unwrap();
        t.save().unwrap();
        drop(t);
        let t = VaeTrainer::resume(&out).unwrap();
        assert_eq!((t.step_count(), t.config().train.batch), (2, 2));
        assert_eq!(t.config().train.optimizer.ema_decay, 0.9);
        std::fs::remove_dir_all(out).ok();
    }

    #[test]
    fn finished_folder_loads_through_the_normal_loader_and_decodes() {
        let out = tmp("finish");
        let mut t = VaeTrainer::start(&out, test_config(2, 1), 5).unwrap();
        for _ in 0..2 {
            t.step().unwrap();
        }
        let report = t.finish().unwrap();
        assert_eq!((report.step, report.clips), (2, 2));
        assert!(report.psnr_db.is_finite() && report.psnr_db > 0.0);
        assert!(out.join("loss.png").is_file() && out.join("eval.json").is_file());
        let vae = Ltx2VideoVae::load(&out.join(FINAL_DIR), Device::Cpu, Kind::Float).unwrap();
        let x = t.train_set().batch(&[0]).unwrap();
        let _guard = tch::no_grad_guard();
        let (mean, _) = vae.encode(&x).unwrap();
        assert_eq!(mean.size(), vec![1, 4, 17, 4, 4]);
        let y = vae.decode(&mean, None).unwrap();
        assert_eq!(y.size(), x.size());
        let (m2, _) = t.vae().encode(&x).unwrap();
        let y2 = t.vae().decode(&m2, None).unwrap();
        assert!(y.equal(&y2), "the saved VAE decodes as the trained one");
        // The latent statistics were set from the training clips.
        let store =
            TensorStore::open(&out.join(FINAL_DIR), "vae", Device::Cpu, Kind::Float).unwrap();
        let sd = store.read_raw("latents_std").unwrap();
        assert!(sd.ne(1.0).any().int64_value(&[]) == 1);
        assert!(VaeTrainConfig::from_preset_or_file("nope").is_err());
        let wide = VaeTrainConfig::from_preset_or_file("wide64").unwrap();
        assert_eq!(wide, VaeTrainConfig::wide64());
        assert_eq!(wide.vae.block_out_channels, vec![64]);
        assert_eq!(wide.objective.foreground_weight, 10.0);
        wide.validate().unwrap();
        let deep = VaeTrainConfig::from_preset_or_file("deep64").unwrap();
        assert_eq!(deep.vae.layers_per_block, vec![2, 2]);
        assert_eq!(deep.vae.block_out_channels, vec![64]);
        deep.validate().unwrap();
        std::fs::remove_dir_all(&out).ok();
    }
}
