//! What every training stage shares: the run's state ([`Run`]: the
//! component's named weights, their [`Params`], AdamW, the random generator,
//! the losses and the session's timing), starting a run from a freshly
//! initialised component, resuming it from its checkpoint, the optimizer
//! step, saving, and the VAE pieces of the loss (posterior sample, KL,
//! reconstruction) and of the end of a run (latent statistics, the loss
//! curve, a JSON report). A stage (e.g. [`super::video_vae`],
//! [`super::audio_vae`], [`super::vocoder`]) adds its model, its data, its
//! loss and its evaluation.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::adam::{AdamW, AdamWConfig};
use super::checkpoint::{
    read_safetensors, read_state, save_atomically, write_safetensors, write_state, TrainState,
    OPTIMIZER_FILE, STATE_FILE,
};
use super::params::Params;
use super::rng::TrainRng;
use crate::{Error, Result};

/// The checkpoint's folder in a run's output folder.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Reconstruction loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReconLoss {
    /// Mean absolute error.
    L1,
    /// Mean squared error.
    Mse,
}

impl ReconLoss {
    /// The loss of the difference `diff` (reconstruction − target), a scalar.
    pub fn of(self, diff: &Tensor) -> Result<Tensor> {
        Ok(match self {
            ReconLoss::L1 => diff.f_abs()?.f_mean(Kind::Float)?,
            ReconLoss::Mse => diff.f_square()?.f_mean(Kind::Float)?,
        })
    }
}

/// One step's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The step just taken (from 1).
    pub step: u64,
    /// Total loss.
    pub loss: f64,
    /// The loss's two terms before their weights: a VAE's reconstruction
    /// and KL terms, the vocoder's multi-resolution STFT and log-mel terms.
    pub terms: [f64; 2],
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

/// `z = μ + exp(½ log σ²) · ε`, or `μ` without `eps`.
pub fn posterior_sample(mean: &Tensor, logvar: &Tensor, eps: Option<&Tensor>) -> Result<Tensor> {
    Ok(match eps {
        Some(e) => mean.f_add(&logvar.f_mul_scalar(0.5)?.f_exp()?.f_mul(e)?)?,
        None => mean.shallow_clone(),
    })
}

/// `mean(½(μ² + σ² − 1 − log σ²))`, the KL to `N(0, 1)` per latent value.
pub fn gaussian_kl(mean: &Tensor, logvar: &Tensor) -> Result<Tensor> {
    Ok(mean
        .f_square()?
        .f_add(&logvar.f_exp()?)?
        .f_sub_scalar(1.0)?
        .f_sub(logvar)?
        .f_mean(Kind::Float)?
        .f_mul_scalar(0.5)?)
}

/// The summed channel difference (of clips in `[-1, 1]`) above which a
/// pixel is foreground ([`foreground_mask`]): 0.15 ≈ 7 levels of 255 per channel.
pub const FOREGROUND_THRESHOLD: f64 = 0.15;

/// The loss of a VAE stage, flattened into the stage's config (its JSON
/// keeps `kl_weight` and `loss` at the top level).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VaeObjective {
    /// Weight of the KL term.
    pub kl_weight: f64,
    /// Reconstruction loss.
    pub loss: ReconLoss,
    /// Extra weight of the foreground (video: pixels away from the clip's
    /// per-pixel temporal median, the moving objects); 0 weighs every
    /// pixel alike. Small objects on a plain background vanish from a VAE
    /// trained without it (its reconstruction is the background alone).
    pub foreground_weight: f64,
}

impl Default for VaeObjective {
    fn default() -> Self {
        Self {
            kl_weight: 1e-4,
            loss: ReconLoss::L1,
            foreground_weight: 0.0,
        }
    }
}

/// The foreground of clips `x` `[B, C, F, H, W]`: 1 where a pixel differs
/// from its temporal median by more than `threshold` (summed over
/// channels), else 0, as `[B, 1, F, H, W]`.
pub fn foreground_mask(x: &Tensor, threshold: f64) -> Result<Tensor> {
    let (median, _) = x.f_median_dim(2, true)?;
    Ok(x.f_sub(&median)?
        .f_abs()?
        .f_sum_dim_intlist(1, true, Kind::Float)?
        .f_gt(threshold)?
        .f_to_kind(Kind::Float)?)
}

impl VaeObjective {
    /// Checks the weights (finite, ≥ 0).
    pub fn validate(&self) -> Result<()> {
        let ok = |w: f64| w >= 0.0 && w.is_finite();
        if ok(self.kl_weight) && ok(self.foreground_weight) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "kl_weight and foreground_weight must be finite and ≥ 0, got {} and {}",
                self.kl_weight, self.foreground_weight
            )))
        }
    }

    /// The loss terms `(recon + kl_weight · kl, recon, kl)` of a VAE.
    pub fn loss(
        &self,
        reconstruction: &Tensor,
        target: &Tensor,
        mean: &Tensor,
        logvar: &Tensor,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let mut diff = reconstruction.f_sub(target)?;
        if self.foreground_weight > 0.0 && target.dim() == 5 {
            // Weights 1 + w·foreground, scaled to mean 1 over the batch.
            let w = foreground_mask(target, FOREGROUND_THRESHOLD)?
                .f_mul_scalar(self.foreground_weight)?
                .f_add_scalar(1.0)?;
            let w = w.f_div(&w.f_mean(Kind::Float)?)?;
            diff = diff.f_mul(&w)?;
        }
        let recon = self.loss.of(&diff)?;
        let kl = gaussian_kl(mean, logvar)?;
        let total = recon.f_add(&kl.f_mul_scalar(self.kl_weight)?)?;
        Ok((total, recon, kl))
    }
}

/// The loop's settings every stage shares, flattened into the stage's
/// config (its JSON keeps them at the top level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoopConfig {
    /// AdamW.
    pub optimizer: AdamWConfig,
    /// Training clips generated (batches are drawn from them).
    pub train_clips: usize,
    /// Held-out clips evaluated at the end.
    pub eval_clips: usize,
    /// Clips per step.
    pub batch: usize,
    /// A checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            optimizer: AdamWConfig {
                lr: 2e-3,
                ..AdamWConfig::default()
            },
            train_clips: 256,
            eval_clips: 16,
            batch: 4,
            checkpoint_every: 100,
        }
    }
}

impl LoopConfig {
    /// Checks what the loop relies on: positive counts and an optimizer
    /// config it can run.
    pub fn validate(&self) -> Result<()> {
        if self.batch == 0 || self.train_clips == 0 || self.eval_clips == 0 {
            return Err(Error::invalid(
                "batch, train_clips and eval_clips must be positive",
            ));
        }
        self.optimizer.validate()
    }
}

/// A stage's presets: each name with the function that builds its config;
/// the first is the stage's default, the one a JSON file is laid over.
pub type Presets<C> = [(&'static str, fn() -> C)];

/// A stage's config: one of its `presets` by name, or a JSON file's fields
/// laid over the first (default) preset's: the file's objects are merged
/// into the preset's key by key, at every depth (so `{"optimizer":
/// {"ema_decay": 0.999}}` keeps the preset's learning rate, and `{"vae":
/// {"latent_channels": 32}}` the rest of its VAE), any other value replaces
/// the preset's whole.
pub fn config_from_preset_or_file<C: Serialize + DeserializeOwned>(
    spec: &str,
    presets: &Presets<C>,
) -> Result<C> {
    if let Some((_, make)) = presets.iter().find(|(name, _)| *name == spec) {
        return Ok(make());
    }
    let Some((preset, default)) = presets.first() else {
        return Err(Error::invalid("a training stage needs a preset"));
    };
    let path = Path::new(spec);
    if !path.is_file() {
        let names: Vec<&str> = presets.iter().map(|(name, _)| *name).collect();
        return Err(Error::invalid(format!(
            "`{spec}` is neither a preset ({}) nor a JSON file",
            names.join(", ")
        )));
    }
    let bad = |reason: String| Error::Config {
        path: path.to_path_buf(),
        reason,
    };
    let over = read_json_file(path)?;
    if !over.is_object() {
        return Err(bad("a training config is a JSON object".into()));
    }
    let mut merged = serde_json::to_value(default())
        .map_err(|e| Error::invalid(format!("preset `{preset}` does not serialise: {e}")))?;
    lay_over(&mut merged, over);
    serde_json::from_value(merged).map_err(|e| bad(e.to_string()))
}

/// A JSON file's value; unreadable is [`Error::Io`], not JSON [`Error::Config`].
fn read_json_file(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Lays `over` onto `base`: objects key by key, recursively; anything else
/// replaces.
fn lay_over(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => lay_over(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// What a resumed run may change: fields of the loop's config
/// ([`LoopConfig`]: `optimizer`, `train_clips`, `eval_clips`, `batch`,
/// `checkpoint_every`) laid over the checkpoint's, as
/// [`config_from_preset_or_file`] lays a file over a preset. Nothing that
/// shapes the weights can change, so the checkpoint still loads; a run
/// resumed without changes repeats an uninterrupted one bit for bit, one
/// resumed with changes continues under them (its checkpoints record them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopChanges(serde_json::Map<String, serde_json::Value>);

impl LoopChanges {
    /// The loop config's fields, the only keys a change may name.
    pub const FIELDS: [&'static str; 5] = [
        "optimizer",
        "train_clips",
        "eval_clips",
        "batch",
        "checkpoint_every",
    ];

    /// No change.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changes a JSON file holds (an object of loop fields, e.g.
    /// `{"optimizer": {"decay_steps": 7000, "ema_decay": 0.999}}`).
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::parse(read_json_file(path)?)
            .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
    }

    /// The changes a JSON object holds; a key outside [`Self::FIELDS`] or a
    /// value the loop config cannot take is [`Error::InvalidRequest`].
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        Self::parse(value).map_err(Error::invalid)
    }

    fn parse(value: serde_json::Value) -> std::result::Result<Self, String> {
        let serde_json::Value::Object(map) = value else {
            return Err("the changes to a resumed run are a JSON object".into());
        };
        if let Some(key) = map.keys().find(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "a resumed run keeps what shapes its weights: `{key}` cannot change; \
                 only the loop's fields can ({})",
                Self::FIELDS.join(", ")
            ));
        }
        let changes = Self(map);
        let mut probe = serde_json::to_value(LoopConfig::default())
            .map_err(|e| format!("loop config does not serialise: {e}"))?;
        changes.lay_onto(&mut probe);
        serde_json::from_value::<LoopConfig>(probe)
            .map_err(|e| format!("not a loop config change: {e}"))?;
        Ok(changes)
    }

    /// Sets one field (the CLI's `--batch` and `--checkpoint-every`).
    pub fn set(&mut self, field: &'static str, value: serde_json::Value) -> Result<()> {
        if !Self::FIELDS.contains(&field) {
            return Err(Error::invalid(format!("`{field}` is not a loop field")));
        }
        self.0.insert(field.to_string(), value);
        Ok(())
    }

    /// Lays the changes onto a stage's serialised config.
    fn lay_onto(&self, config: &mut serde_json::Value) {
        lay_over(config, serde_json::Value::Object(self.0.clone()));
    }
}

/// Writes `value` as pretty JSON at `path`.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::invalid(format!("JSON does not serialise: {e}")))?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Statistics, not trained by gradient.
fn frozen(name: &str) -> bool {
    name == "latents_mean" || name == "latents_std"
}

/// The state of a training run of one component (see the module's doc).
pub struct Run {
    out: PathBuf,
    component: &'static str,
    /// The component's tensors by checkpoint name (shared with the model).
    pub weights: Vec<(String, Tensor)>,
    params: Params,
    opt: AdamW,
    /// The run's one random generator (batches, posterior noise).
    pub rng: TrainRng,
    seed: u64,
    losses: Vec<f64>,
    session_steps: u64,
    session_secs: f64,
}

impl Run {
    /// A fresh run writing into `out`: `init` writes the component's folder
    /// (initialised from `seed`) into the step-0 checkpoint's `component/`,
    /// `load` loads a folder keeping its tensors' names.
    pub fn start<M>(
        out: &Path,
        component: &'static str,
        optimizer: AdamWConfig,
        seed: u64,
        init: impl FnOnce(&Path) -> Result<()>,
        load: impl FnOnce(&Path) -> Result<(M, Vec<(String, Tensor)>)>,
    ) -> Result<(Self, M)> {
        let ck = out.join(CHECKPOINT_DIR);
        save_atomically(&ck, |d| init(&d.join(component)))?;
        let (model, weights) = load(&ck.join(component))?;
        let params = Params::new(&weights, frozen)?;
        let opt = AdamW::new(optimizer, &params)?;
        let run = Self::assemble(
            out,
            component,
            (weights, params, opt),
            TrainRng::new(seed).state(),
            seed,
            Vec::new(),
        );
        Ok((run, model))
    }

    /// Continues the run saved in `out`'s checkpoint: its config (`C`), then
    /// the component (`load`) and the optimizer (`optimizer` of the config).
    ///
    /// `changes` are laid over the checkpoint's config first ([`LoopChanges`]);
    /// when they turn the weights' moving average on, it begins at the
    /// checkpoint's weights.
    pub fn resume<C: DeserializeOwned, M>(
        out: &Path,
        component: &'static str,
        changes: &LoopChanges,
        optimizer: impl Fn(&C) -> Result<AdamWConfig>,
        load: impl FnOnce(&Path) -> Result<(M, Vec<(String, Tensor)>)>,
    ) -> Result<(Self, M, C)> {
        let ck = out.join(CHECKPOINT_DIR);
        let state = read_state(&ck)?;
        let parse = |value: serde_json::Value| -> Result<C> {
            serde_json::from_value(value).map_err(|e| Error::Config {
                path: ck.join(STATE_FILE),
                reason: e.to_string(),
            })
        };
        let saved_opt = optimizer(&parse(state.config.clone())?)?;
        let mut changed = state.config.clone();
        changes.lay_onto(&mut changed);
        let config = parse(changed)?;
        let opt_config = optimizer(&config)?;
        let (model, weights) = load(&ck.join(component))?;
        let params = Params::new(&weights, frozen)?;
        let moments = read_safetensors(&ck.join(OPTIMIZER_FILE))?;
        let starts_average = saved_opt.ema_decay == 0.0 && opt_config.ema_decay > 0.0;
        let opt = if starts_average {
            let saved = AdamWConfig {
                ema_decay: 0.0,
                ..opt_config
            };
            let mut opt = AdamW::from_state(saved, &params, state.step, &moments)?;
            opt.begin_average(opt_config.ema_decay, &params)?;
            opt
        } else {
            AdamW::from_state(opt_config, &params, state.step, &moments)?
        };
        if state.losses.len() as u64 != state.step {
            return Err(Error::invalid(format!(
                "checkpoint at step {} holds {} losses",
                state.step,
                state.losses.len()
            )));
        }
        let run = Self::assemble(
            out,
            component,
            (weights, params, opt),
            state.rng_state,
            state.seed,
            state.losses,
        );
        Ok((run, model, config))
    }

    fn assemble(
        out: &Path,
        component: &'static str,
        (weights, params, opt): (Vec<(String, Tensor)>, Params, AdamW),
        rng_state: u64,
        seed: u64,
        losses: Vec<f64>,
    ) -> Self {
        Self {
            out: out.to_path_buf(),
            component,
            weights,
            params,
            opt,
            rng: TrainRng::from_state(rng_state),
            seed,
            losses,
            session_steps: 0,
            session_secs: 0.0,
        }
    }

    /// The run's output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Steps taken.
    pub fn step_count(&self) -> u64 {
        self.opt.steps()
    }

    /// Every step's loss so far.
    pub fn losses(&self) -> &[f64] {
        &self.losses
    }

    /// Trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.params.numel()
    }

    /// Replaces the live weights by the optimizer's moving average, when it
    /// keeps one (the weights a run's final component is written from; call
    /// it after the last checkpoint, which keeps the live weights to resume
    /// from). Returns whether it did.
    pub fn use_average(&self) -> Result<bool> {
        let Some(average) = self.opt.average() else {
            return Ok(false);
        };
        let _guard = tch::no_grad_guard();
        for ((_, p), a) in self.params.iter().zip(average) {
            let mut p = p.shallow_clone();
            p.f_copy_(a)?;
        }
        Ok(true)
    }

    /// Zeroes the gradients (before a step's forward pass).
    pub fn zero_grad(&self) {
        self.params.zero_grad();
    }

    /// Back-propagates `total`, takes the AdamW step and records the loss
    /// (an error if it is not finite); `started` is when the step began.
    /// Returns `(loss, grad_norm)`.
    pub fn optimize(&mut self, total: &Tensor, started: Instant) -> Result<(f64, f64)> {
        total.f_backward()?;
        let grad_norm = self.opt.step(&self.params)?;
        let loss = total.f_double_value(&[])?;
        if !loss.is_finite() {
            return Err(Error::Numeric(format!(
                "{} loss is {loss} at step {}",
                self.component,
                self.opt.steps()
            )));
        }
        self.losses.push(loss);
        self.session_steps += 1;
        self.session_secs += started.elapsed().as_secs_f64();
        Ok((loss, grad_norm))
    }

    /// One training step: draws `cfg.batch` clip indices below `clips`,
    /// zeroes the gradients, takes `(total, term, term)` from `loss` (given
    /// the indices and the generator, for posterior noise or crops; the two
    /// terms are reported, see [`StepReport::terms`]) and optimizes. Returns
    /// the step's numbers and whether a checkpoint is due
    /// (`cfg.checkpoint_every`).
    pub fn train_step(
        &mut self,
        cfg: &LoopConfig,
        clips: usize,
        loss: impl FnOnce(&[usize], &mut TrainRng) -> Result<(Tensor, Tensor, Tensor)>,
    ) -> Result<(StepReport, bool)> {
        let t0 = Instant::now();
        let idx: Vec<usize> = (0..cfg.batch).map(|_| self.rng.below(clips)).collect();
        self.zero_grad();
        let (total, a, b) = loss(&idx, &mut self.rng)?;
        let (loss, grad_norm) = self.optimize(&total, t0)?;
        let report = StepReport {
            step: self.step_count(),
            loss,
            terms: [a.f_double_value(&[])?, b.f_double_value(&[])?],
            grad_norm,
        };
        Ok((report, self.checkpoint_due(cfg.checkpoint_every)))
    }

    /// Whether a checkpoint is due after the step just taken.
    pub fn checkpoint_due(&self, every: u64) -> bool {
        every > 0 && self.opt.steps() % every == 0
    }

    /// Writes the checkpoint (replacing the previous one): `write_component`
    /// writes the component folder it is given, `config` is the stage's.
    pub fn save(
        &self,
        config: &impl Serialize,
        write_component: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let state = TrainState {
            step: self.opt.steps(),
            losses: self.losses.clone(),
            rng_state: self.rng.state(),
            seed: self.seed,
            config: serde_json::to_value(config)
                .map_err(|e| Error::invalid(format!("config does not serialise: {e}")))?,
        };
        save_atomically(&self.out.join(CHECKPOINT_DIR), |d| {
            write_component(&d.join(self.component))?;
            write_safetensors(
                &d.join(OPTIMIZER_FILE),
                &self.opt.state_tensors(&self.params),
            )?;
            write_state(d, &state)
        })
    }

    /// Seconds per training step over this session's steps (0 if none).
    pub fn seconds_per_step(&self) -> f64 {
        if self.session_steps > 0 {
            self.session_secs / self.session_steps as f64
        } else {
            0.0
        }
    }

    /// The mean training loss of the last 10 steps.
    pub fn final_train_loss(&self) -> f64 {
        let tail = &self.losses[self.losses.len().saturating_sub(10)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }

    /// Copies `mean` / `std` into the weights `latents_mean` / `latents_std`.
    pub fn set_latent_statistics(&self, mean: &Tensor, std: &Tensor) -> Result<()> {
        for (name, t) in &self.weights {
            let src = match name.as_str() {
                "latents_mean" => mean,
                "latents_std" => std,
                _ => continue,
            };
            let mut t = t.shallow_clone();
            let _guard = tch::no_grad_guard();
            t.f_copy_(src)?;
        }
        Ok(())
    }

    /// Writes the loss curve (`out/loss.png`) when there are losses.
    pub fn write_curve(&self) -> Result<()> {
        if !self.losses.is_empty() {
            super::curve::write(&self.losses, &self.out.join("loss.png"))?;
        }
        Ok(())
    }
}

/// Per-feature mean and standard deviation (floored at 1e-6) over the rows
/// of `rows` `[N, D]`.
pub fn column_statistics(rows: &Tensor) -> Result<(Tensor, Tensor)> {
    let mu = rows.f_mean_dim(0, false, Kind::Float)?;
    let sd = rows.f_std_dim(0, true, false)?.f_clamp_min(1e-6)?;
    Ok((mu, sd))
}

/// Writes `tensors` as the component folder `dir` of `class_name`.
pub fn write_component(
    dir: &Path,
    class_name: &str,
    config: &impl Serialize,
    tensors: &[(String, Tensor)],
) -> Result<()> {
    super::init::write_config(dir, class_name, config)?;
    write_safetensors(&dir.join(super::init::WEIGHTS_FILE), tensors)
}

/// What every stage's trainer offers: the CLI's progress loop drives it,
/// and the tests check resuming through it.
pub trait Trainer: Sized {
    /// Steps taken.
    fn step_count(&self) -> u64;
    /// Trainable scalars.
    fn parameter_count(&self) -> usize;
    /// One optimizer step.
    fn step(&mut self) -> Result<StepReport>;
    /// Writes the checkpoint.
    fn save(&self) -> Result<()>;
    /// Every step's loss so far.
    fn losses(&self) -> &[f64];
    /// Continues the run saved in `out`.
    fn resume(out: &Path) -> Result<Self>;
}

/// Implements [`Trainer`] for a stage's trainer by its inherent methods.
macro_rules! impl_trainer {
    ($t:ty) => {
        impl $crate::train::run::Trainer for $t {
            fn step_count(&self) -> u64 {
                <$t>::step_count(self)
            }
            fn parameter_count(&self) -> usize {
                <$t>::parameter_count(self)
            }
            fn step(&mut self) -> $crate::Result<$crate::train::run::StepReport> {
                <$t>::step(self)
            }
            fn save(&self) -> $crate::Result<()> {
                <$t>::save(self)
            }
            fn losses(&self) -> &[f64] {
                <$t>::losses(self)
            }
            fn resume(out: &std::path::Path) -> $crate::Result<Self> {
                <$t>::resume(out)
            }
        }
    };
}
pub(crate) use impl_trainer;

/// Runs `start(a)` 4 steps, and `start(b)` 2 steps then resumed for 2, and
/// checks both have the same losses, weights of `component` and optimizer
/// moments; returns `a`'s weights.
#[cfg(test)]
pub(crate) fn assert_resume_is_bit_identical<T: Trainer>(
    a: &Path,
    b: &Path,
    start: impl Fn(&Path) -> T,
    component: &str,
) -> Vec<(String, Tensor)> {
    let mut whole = start(a);
    for _ in 0..4 {
        whole.step().unwrap();
    }
    whole.save().unwrap();
    let mut first = start(b);
    for _ in 0..2 {
        first.step().unwrap();
    }
    first.save().unwrap();
    drop(first);
    let mut second = T::resume(b).unwrap();
    assert_eq!(second.step_count(), 2);
    for _ in 0..2 {
        second.step().unwrap();
    }
    second.save().unwrap();
    assert_eq!(whole.losses(), second.losses());
    assert_same_checkpoints(a, b, component)
}

/// Test support: asserts that the checkpoints of the runs in `a` and `b`
/// hold bit-identical weights of `component` and optimizer moments, and
/// returns `a`'s weights.
#[cfg(test)]
pub(crate) fn assert_same_checkpoints(
    a: &Path,
    b: &Path,
    component: &str,
) -> Vec<(String, Tensor)> {
    let weights = |d: &Path| {
        read_safetensors(
            &d.join(CHECKPOINT_DIR)
                .join(component)
                .join(super::init::WEIGHTS_FILE),
        )
        .unwrap()
    };
    let (wa, wb) = (weights(a), weights(b));
    assert_eq!(wa.len(), wb.len());
    for ((na, ta), (nb, tb)) in wa.iter().zip(&wb) {
        assert_eq!(na, nb);
        assert!(ta.equal(tb), "{na} differs after resume");
    }
    let oa = read_safetensors(&a.join(CHECKPOINT_DIR).join(OPTIMIZER_FILE)).unwrap();
    let ob = read_safetensors(&b.join(CHECKPOINT_DIR).join(OPTIMIZER_FILE)).unwrap();
    assert_eq!(oa.len(), ob.len());
    assert!(oa.iter().zip(&ob).all(|((_, x), (_, y))| x.equal(y)));
    wa
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Only the loop's fields, with values a loop config takes, are
    /// changes; laid over a config they change those fields alone.
    #[test]
    fn loop_changes_take_only_the_loops_fields() {
        let c = LoopChanges::from_value(json!({
            "optimizer": {"decay_steps": 70, "ema_decay": 0.99},
            "train_clips": 1024
        }))
        .unwrap();
        let mut config = json!({
            "vae": {"latent_channels": 4},
            "optimizer": {"lr": 0.001, "decay_steps": 0, "ema_decay": 0.0},
            "train_clips": 256,
            "batch": 4
        });
        c.lay_onto(&mut config);
        assert_eq!(config["optimizer"]["lr"], 0.001);
        assert_eq!(config["optimizer"]["decay_steps"], 70);
        assert_eq!(config["optimizer"]["ema_decay"], 0.99);
        assert_eq!(
            (config["train_clips"].clone(), config["batch"].clone()),
            (json!(1024), json!(4))
        );
        assert_eq!(config["vae"], json!({"latent_channels": 4}));
        for bad in [
            json!({"vae": {"latent_channels": 8}}),
            json!({"train_clips": "many"}),
            json!({"optimizer": {"lr": "fast"}}),
            json!([1, 2]),
        ] {
            let e = LoopChanges::from_value(bad.clone()).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{bad}: {e}");
        }
        let e = LoopChanges::from_value(json!({"vae": {}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`vae` cannot change") && e.contains("train_clips"),
            "{e}"
        );
        // FIELDS is every field of the loop config, none else.
        let loop_json = serde_json::to_value(LoopConfig::default()).unwrap();
        let mut keys: Vec<&str> = loop_json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut fields = LoopChanges::FIELDS.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
        let mut c = LoopChanges::none();
        assert!(c.is_empty());
        c.set("batch", json!(2)).unwrap();
        assert!(!c.is_empty() && c.set("data", json!({})).is_err());
    }
}
