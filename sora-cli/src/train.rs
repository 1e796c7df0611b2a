//! `sora train`: trains the embedded default model's parts on the physics
//! simulator's clips (docs/training.md). Today one stage, `vae` (the LTX-2
//! video VAE). Only translates arguments and shows progress; the loop, the
//! checkpoints and the evaluation are `sora_core::train`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sora_core::train::video_vae::{VaeTrainConfig, VaeTrainer};
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
    Vae(VaeArgs),
}

#[derive(Args)]
struct VaeArgs {
    /// A preset (`tiny64`) or a JSON file of `VaeTrainConfig` fields (the
    /// missing ones take the preset's values). Not with --resume (the
    /// checkpoint keeps its config).
    #[arg(long, default_value = "tiny64")]
    config: String,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Train until this many steps in total.
    #[arg(long)]
    steps: u64,
    /// Clips per step (overrides the config's `batch`; not with --resume).
    #[arg(long)]
    batch: Option<usize>,
    /// Seed of the initialisation, the batches and the posterior noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue the run saved in OUT/checkpoint.
    #[arg(long)]
    resume: bool,
    /// A checkpoint every this many steps (overrides the config's; not with --resume).
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// LibTorch CPU threads (default: LibTorch's choice).
    #[arg(long)]
    threads: Option<i32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `sora train`.
pub fn run(a: TrainArgs) -> Result<()> {
    match a.stage {
        Stage::Vae(v) => vae(v),
    }
}

fn vae(a: VaeArgs) -> Result<()> {
    if let Some(n) = a.threads {
        sora_core::train::set_threads(n)?;
    }
    let mut trainer = if a.resume {
        if a.batch.is_some() || a.checkpoint_every.is_some() || a.config != "tiny64" {
            return Err(Error::invalid(
                "--resume keeps the checkpoint's config: --config, --batch and --checkpoint-every \
                 cannot change it (a resumed run repeats an uninterrupted one)",
            ));
        }
        VaeTrainer::resume(&a.out)?
    } else {
        let mut cfg = VaeTrainConfig::from_preset_or_file(&a.config)?;
        if let Some(b) = a.batch {
            cfg.batch = b;
        }
        if let Some(k) = a.checkpoint_every {
            cfg.checkpoint_every = k;
        }
        std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
        VaeTrainer::start(&a.out, cfg, a.seed)?
    };
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
        "vae {:.2} M params",
        trainer.parameter_count() as f64 / 1e6
    ));
    while trainer.step_count() < a.steps {
        if stop.load(Ordering::SeqCst) {
            trainer.save()?;
            bar.abandon_with_message("interrupted: checkpoint saved (--resume continues)");
            return Err(Error::Cancelled);
        }
        let r = trainer.step()?;
        bar.set_position(r.step);
        bar.set_message(format!("loss {:.4}", r.loss));
    }
    bar.set_message("evaluating");
    let report = trainer.finish()?;
    bar.finish_with_message("done");
    println!(
        "step {}: held-out PSNR {:.2} dB (worst {:.2} dB) over {} clips, {:.3} s/step; wrote {}",
        report.step,
        report.psnr_db,
        report.psnr_min_db,
        report.clips,
        report.seconds_per_step,
        a.out.display()
    );
    Ok(())
}
