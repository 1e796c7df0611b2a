//! `sora train`: trains the embedded default model's parts on the physics
//! simulator's clips (docs/training.md). Stages: `vae` (the LTX-2 video
//! VAE), `audio-vae` (the LTX-2 audio VAE), `vocoder` (the LTX-2 vocoder,
//! log-mel → waveform) and `transformer` (the audio-video transformer on
//! the VAEs' latents, then the whole pipeline folder). Only translates
//! arguments and shows progress; the loop, the checkpoints and the
//! evaluation are `sora_core::train`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sora_core::train::audio_vae::{AudioVaeTrainConfig, AudioVaeTrainer};
use sora_core::train::run::{LoopChanges, LoopConfig, Trainer};
use sora_core::train::transformer::{TransformerTrainConfig, TransformerTrainer};
use sora_core::train::video_vae::{VaeTrainConfig, VaeTrainer};
use sora_core::train::vocoder::{VocoderTrainConfig, VocoderTrainer};
use sora_core::{Error, Result};

/// `sora train <stage>`.
#[derive(Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    stage: Stage,
}

#[derive(Subcommand)]
enum Stage {
    /// Train the LTX-2 video VAE on simulated clips; writes OUT/checkpoint,
    /// OUT/vae (a diffusers component folder), OUT/loss.png and OUT/eval.json
    /// (held-out PSNR).
    Vae(StageArgs),
    /// Train the LTX-2 audio VAE on the simulated clips' sounds (log-mel in
    /// and out); writes OUT/checkpoint, OUT/audio_vae (a diffusers component
    /// folder), OUT/loss.png and OUT/eval.json (held-out log-mel error and
    /// impact onsets).
    AudioVae(StageArgs),
    /// Train the LTX-2 vocoder (the audio VAE's log-mel → waveform) on the
    /// simulated clips' sounds; writes OUT/checkpoint, OUT/vocoder (a
    /// diffusers component folder), OUT/loss.png and OUT/eval.json (held-out
    /// log-mel error, STFT distance and impact onsets of the re-synthesis).
    Vocoder(StageArgs),
    /// Train the LTX-2 audio-video transformer by flow matching on the
    /// latents of a trained video VAE and audio VAE (prompt side: a
    /// word-level tokenizer and a frozen random Gemma 3 written from the
    /// seed); writes OUT/inputs, OUT/checkpoint, OUT/transformer,
    /// OUT/loss.png, OUT/eval.json (held-out flow-matching loss) and, with
    /// --vocoder, OUT/pipeline: the whole LTX-2 folder `--model` loads.
    Transformer(TransformerArgs),
    /// Grade a pipeline folder (default: the embedded default model) on
    /// held-out captions with the physics tools: colour tracked, physics
    /// report, impacts heard, colours and count; beside the simulator's own
    /// clips of those captions. Writes OUT/quality.json and OUT/contact.png.
    Quality(QualityArgs),
}

#[derive(Args)]
struct QualityArgs {
    /// The pipeline folder (default: the embedded default model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Held-out captions (one clip each, seeds 0, 1, ...).
    #[arg(long, default_value_t = 50)]
    clips: usize,
    /// Denoising steps (default: the folder's).
    #[arg(long)]
    steps: Option<u32>,
    /// Set a request parameter for every clip, as `sora generate --set`
    /// does (e.g. `guidance_scale=5`, `audio_guidance_scale=1`,
    /// `stg_scale=1`); repeatable, applied after --steps.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// LibTorch CPU threads (default: LibTorch's choice).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct TransformerArgs {
    #[command(flatten)]
    stage: StageArgs,
    /// The trained video VAE folder (e.g. runs/vae/vae); not with --resume.
    #[arg(long)]
    vae: Option<PathBuf>,
    /// The trained audio VAE folder (e.g. runs/audio-vae/audio_vae); not with --resume.
    #[arg(long)]
    audio_vae: Option<PathBuf>,
    /// A trained vocoder folder: then OUT/pipeline is assembled at the end.
    #[arg(long)]
    vocoder: Option<PathBuf>,
    /// Start from this transformer folder's weights instead of random ones
    /// (a warm start, e.g. `sora-core/default-model/transformer` carried
    /// over to a retrained VAE with the same latent channels): its tensors
    /// must fit the config exactly; use the same --seed and text config as
    /// the run that trained it. Not with --resume.
    #[arg(long)]
    init: Option<PathBuf>,
    /// The default step count written into OUT/pipeline's request defaults.
    #[arg(long, default_value_t = 20)]
    pipeline_steps: u32,
}

#[derive(Args)]
struct StageArgs {
    /// A preset (`tiny64` for `vae`, `tiny-audio` for `audio-vae`,
    /// `tiny-vocoder` for `vocoder`, `tiny-av` for `transformer`: the
    /// defaults; also `wide64` and `deep64` for `vae`, `small-av` and
    /// `base-av` for `transformer`) or a JSON file of the stage's config
    /// fields (laid over the default preset's at every depth). With
    /// --resume: a JSON file of the loop's fields only (`optimizer`,
    /// `train_clips`, `eval_clips`, `batch`, `checkpoint_every`), laid over
    /// the checkpoint's config, e.g. `{"optimizer": {"decay_steps": 7000,
    /// "min_lr_ratio": 0.05, "ema_decay": 0.999}}` to anneal a run further.
    #[arg(long)]
    config: Option<String>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Train until this many steps in total.
    #[arg(long)]
    steps: u64,
    /// Clips per step (overrides the config's `batch`, also on --resume).
    #[arg(long)]
    batch: Option<usize>,
    /// Seed of the initialisation, the batches and the posterior noise (or crops).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue the run saved in OUT/checkpoint.
    #[arg(long)]
    resume: bool,
    /// A checkpoint every this many steps (overrides the config's, also on --resume).
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// LibTorch CPU threads (default: LibTorch's choice).
    #[arg(long)]
    threads: Option<i32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl StageArgs {
    /// `--batch` and `--checkpoint-every` over the config's.
    fn override_loop(&self, cfg: &mut LoopConfig) {
        cfg.batch = self.batch.unwrap_or(cfg.batch);
        cfg.checkpoint_every = self.checkpoint_every.unwrap_or(cfg.checkpoint_every);
    }
}

/// Runs `sora train`.
pub fn run(a: TrainArgs) -> Result<()> {
    match a.stage {
        Stage::Vae(v) => vae(v),
        Stage::AudioVae(v) => audio_vae(v),
        Stage::Vocoder(v) => vocoder(v),
        Stage::Transformer(t) => transformer(t),
        Stage::Quality(q) => quality(q),
    }
}

/// Sets the threads; on --resume, the changes `--config` (a JSON file of
/// loop fields), `--batch` and `--checkpoint-every` ask of the checkpoint's
/// config (none: the run repeats an uninterrupted one); for a fresh run,
/// creates the output folder.
fn prepare(a: &StageArgs) -> Result<LoopChanges> {
    if let Some(n) = a.threads {
        sora_core::train::set_threads(n)?;
    }
    if !a.resume {
        std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
        return Ok(LoopChanges::none());
    }
    let mut changes = match a.config.as_deref() {
        Some(spec) if Path::new(spec).is_file() => LoopChanges::from_file(Path::new(spec))?,
        Some(spec) => {
            return Err(Error::invalid(format!(
                "--resume keeps the checkpoint's preset: `{spec}` is not a JSON file of the \
                 loop's fields to change ({})",
                LoopChanges::FIELDS.join(", ")
            )))
        }
        None => LoopChanges::none(),
    };
    if let Some(b) = a.batch {
        changes.set("batch", b.into())?;
    }
    if let Some(c) = a.checkpoint_every {
        changes.set("checkpoint_every", c.into())?;
    }
    Ok(changes)
}

fn vae(a: StageArgs) -> Result<()> {
    let changes = prepare(&a)?;
    let mut trainer = if a.resume {
        VaeTrainer::resume_with(&a.out, &changes)?
    } else {
        let spec = a.config.as_deref().unwrap_or(VaeTrainConfig::PRESETS[0].0);
        let mut cfg = VaeTrainConfig::from_preset_or_file(spec)?;
        a.override_loop(&mut cfg.train);
        VaeTrainer::start(&a.out, cfg, a.seed)?
    };
    let bar = drive(&mut trainer, &a, "vae")?;
    let report = trainer.finish()?;
    bar.finish_with_message("done");
    println!(
        "step {}: held-out PSNR {:.2} dB (worst {:.2} dB; moving objects {:.2} dB) over {} clips, \
         {:.3} s/step; wrote {}",
        report.step,
        report.psnr_db,
        report.psnr_min_db,
        report.foreground_psnr_db,
        report.clips,
        report.seconds_per_step,
        a.out.display()
    );
    Ok(())
}

fn audio_vae(a: StageArgs) -> Result<()> {
    let changes = prepare(&a)?;
    let mut trainer = if a.resume {
        AudioVaeTrainer::resume_with(&a.out, &changes)?
    } else {
        let spec = a
            .config
            .as_deref()
            .unwrap_or(AudioVaeTrainConfig::PRESETS[0].0);
        let mut cfg = AudioVaeTrainConfig::from_preset_or_file(spec)?;
        a.override_loop(&mut cfg.train);
        AudioVaeTrainer::start(&a.out, cfg, a.seed)?
    };
    let bar = drive(&mut trainer, &a, "audio-vae")?;
    let report = trainer.finish()?;
    bar.finish_with_message("done");
    println!(
        "step {}: held-out log-mel L1 {:.3} (worst clip {:.3}) over {} clips, onsets within \
         ±1 frame {:.0}% of {}, {:.3} s/step; wrote {}",
        report.step,
        report.mel_l1,
        report.mel_l1_max,
        report.clips,
        100.0 * report.onsets_within_1_frame,
        report.onset_clips,
        report.seconds_per_step,
        a.out.display()
    );
    Ok(())
}

fn vocoder(a: StageArgs) -> Result<()> {
    let changes = prepare(&a)?;
    let mut trainer = if a.resume {
        VocoderTrainer::resume_with(&a.out, &changes)?
    } else {
        let spec = a
            .config
            .as_deref()
            .unwrap_or(VocoderTrainConfig::PRESETS[0].0);
        let mut cfg = VocoderTrainConfig::from_preset_or_file(spec)?;
        a.override_loop(&mut cfg.train);
        VocoderTrainer::start(&a.out, cfg, a.seed)?
    };
    let bar = drive(&mut trainer, &a, "vocoder")?;
    let report = trainer.finish()?;
    bar.finish_with_message("done");
    println!(
        "step {}: held-out log-mel L1 {:.3} (worst clip {:.3}; silence {:.3}), STFT distance \
         {:.3} over {} clips, onsets within ±1 frame {:.0}% of {}, {:.3} s/step; wrote {}",
        report.step,
        report.mel_l1,
        report.mel_l1_max,
        report.silent_mel_l1,
        report.stft_distance,
        report.clips,
        100.0 * report.onsets_within_1_frame,
        report.onset_clips,
        report.seconds_per_step,
        a.out.display()
    );
    Ok(())
}

fn transformer(t: TransformerArgs) -> Result<()> {
    let a = &t.stage;
    let changes = prepare(a)?;
    let mut trainer = if a.resume {
        if t.vae.is_some() || t.audio_vae.is_some() {
            return Err(Error::invalid(
                "--resume trains on the run's own copies of the VAEs (OUT/inputs): \
                 --vae and --audio-vae cannot change them",
            ));
        }
        if t.init.is_some() {
            return Err(Error::invalid(
                "--resume continues from OUT/checkpoint's weights: --init is for a fresh run",
            ));
        }
        TransformerTrainer::resume_with(&a.out, &changes)?
    } else {
        let (Some(vae), Some(audio_vae)) = (&t.vae, &t.audio_vae) else {
            return Err(Error::invalid(
                "a fresh transformer run needs the trained VAEs: --vae DIR --audio-vae DIR \
                 (from `sora train vae` and `sora train audio-vae`)",
            ));
        };
        let spec = a
            .config
            .as_deref()
            .unwrap_or(TransformerTrainConfig::PRESETS[0].0);
        let mut cfg = TransformerTrainConfig::from_preset_or_file(spec)?;
        a.override_loop(&mut cfg.train);
        TransformerTrainer::start_from(&a.out, cfg, vae, audio_vae, a.seed, t.init.as_deref())?
    };
    let bar = drive(&mut trainer, a, "transformer")?;
    let report = trainer.finish()?;
    if let Some(vocoder) = &t.vocoder {
        trainer.assemble(vocoder, &a.out.join("pipeline"), t.pipeline_steps)?;
    }
    bar.finish_with_message("done");
    println!(
        "step {}: held-out flow-matching loss video {:.4} (zero prediction {:.4}; with the \
         empty prompt {:.4}, another clip's caption {}), audio {:.4} ({:.4}) over {} clips, \
         {:.3} s/step; wrote {}{}",
        report.step,
        report.video_loss,
        report.zero_video_loss,
        report.video_loss_empty_prompt,
        report
            .video_loss_other_prompt
            .map_or("-".to_string(), |v| format!("{v:.4}")),
        report.audio_loss,
        report.zero_audio_loss,
        report.clips,
        report.seconds_per_step,
        a.out.display(),
        if t.vocoder.is_some() {
            " (pipeline/ assembled)"
        } else {
            " (no --vocoder: no pipeline/ assembled)"
        }
    );
    Ok(())
}

fn quality(q: QualityArgs) -> Result<()> {
    let mut builder = sora_core::Pipeline::builder();
    if let Some(m) = &q.model {
        builder = builder.model(m);
    }
    if let Some(n) = q.threads {
        builder = builder.threads(n);
    }
    // The raw model output: a visible mark would be tracked as an object.
    let pipe = builder
        .watermarks(sora_core::WatermarkPolicy::Off)
        .build()?;
    let mut settings: Vec<(String, String)> = q
        .steps
        .map(|n| ("steps".to_string(), n.to_string()))
        .into_iter()
        .collect();
    for item in &q.set {
        let (key, value) = crate::set_item(item)?;
        settings.push((key.to_string(), value.trim().to_string()));
    }
    let data = sora_core::train::data::DataConfig::default();
    let c = sora_core::train::quality::evaluate_into(&q.out, &pipe, &data, q.clips, &settings)?;
    fn pct(x: f64) -> String {
        format!("{:.0} %", 100.0 * x)
    }
    fn opt(x: Option<f64>) -> String {
        x.map_or("-".to_string(), pct)
    }
    // The model, the ceiling its video VAE allows (the simulator's clips
    // through it and back), and the simulator itself (the measure's own bar).
    let columns = [&c.model, &c.video_vae_round_trip, &c.simulator];
    println!(
        "{:<44} {:>7} {:>10} {:>9}",
        "measure (issue #15's bar)", "model", "VAE ceil.", "simulator"
    );
    type Measure = fn(&sora_core::train::quality::QualityReport) -> String;
    let rows: [(&str, Measure); 7] = [
        ("colour tracked in >= 90 % of frames (>= 90 %)", |r| {
            pct(r.colour_tracked)
        }),
        ("no teleport, restitution <= 1 (>= 90 %)", |r| {
            pct(r.physics_ok)
        }),
        ("  the same, with an object tracked", |r| {
            pct(r.physics_ok_tracked)
        }),
        ("impacts heard within 1 frame (>= 80 %)", |r| {
            opt(r.impacts_synced)
        }),
        ("colours and count as captioned (>= 70 %)", |r| {
            pct(r.caption_match)
        }),
        ("  a colour the caption names, tracked", |r| {
            let n = r.named_colour_clips;
            let tracked = r.named_colour_tracked.map_or(0.0, |x| x * n as f64);
            format!("{tracked:.0}/{n}")
        }),
        ("  clips with no object tracked", |r| {
            r.clips_without_objects.to_string()
        }),
    ];
    for (name, measure) in rows {
        let [m, v, s] = columns.map(measure);
        println!("{name:<44} {m:>7} {v:>10} {s:>9}");
    }
    println!(
        "{} clips, {:.1} s per generated clip; wrote {}",
        c.model.clips,
        c.model.seconds_per_clip,
        q.out.join("quality.json").display()
    );
    Ok(())
}

/// Steps between plain progress lines when stderr is not a terminal.
const LOG_EVERY: u64 = 100;

/// Steps `trainer` to `a.steps` with a progress bar; Ctrl-C saves a
/// checkpoint and stops. Returns the bar (the caller finishes it).
fn drive(trainer: &mut impl Trainer, a: &StageArgs, name: &str) -> Result<ProgressBar> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::SeqCst));
    }
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        let b =
            ProgressBar::with_draw_target(Some(a.steps), indicatif::ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} steps  {elapsed_precise} elapsed, {eta_precise} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    };
    bar.set_position(trainer.step_count());
    bar.set_message(format!(
        "{name} {:.2} M params",
        trainer.parameter_count() as f64 / 1e6
    ));
    // Where no bar can be drawn (a log file), a plain line every
    // `LOG_EVERY` steps instead, unless --quiet.
    let log_lines = !a.quiet && !std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let first = trainer.step_count();
    while trainer.step_count() < a.steps {
        if stop.load(Ordering::SeqCst) {
            trainer.save()?;
            bar.abandon_with_message("interrupted: checkpoint saved (--resume continues)");
            return Err(Error::Cancelled);
        }
        let r = trainer.step()?;
        bar.set_position(r.step);
        bar.set_message(format!("loss {:.4}", r.loss));
        if log_lines && (r.step % LOG_EVERY == 0 || r.step == a.steps) {
            let losses = trainer.losses();
            let tail = &losses[losses.len().saturating_sub(LOG_EVERY as usize)..];
            let mean = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
            let per_step = started.elapsed().as_secs_f64() / (r.step - first).max(1) as f64;
            eprintln!(
                "{name}: step {}/{}  loss {mean:.4} (mean of the last {})  {per_step:.2} s/step",
                r.step,
                a.steps,
                tail.len()
            );
        }
    }
    bar.set_message("evaluating");
    Ok(bar)
}
