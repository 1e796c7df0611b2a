//! `sora score CLIP`: the physics report of a clip (an MP4, or a folder of
//! PNG frames with `--fps`), printed readably or, with `--json`, as the one
//! JSON object `{ "metrics": {...}, "findings": [...] }` of `sora-core`.

use std::path::PathBuf;

use clap::Args;
use sora_core::physics::{score, PhysicsReport, ScoreInput};
use sora_core::{io, Error};

/// Arguments of `sora score`.
#[derive(Args)]
pub struct ScoreArgs {
    /// The clip: an .mp4 file or a folder of PNG frames (0000.png, 0001.png, …).
    clip: PathBuf,
    /// Frames per second: required for a folder of PNG frames; overrides an MP4's own.
    #[arg(long)]
    fps: Option<f32>,
    /// A WAV file: the clip's sound (supplies it, or overrides the MP4's).
    #[arg(long, value_name = "FILE.wav")]
    audio: Option<PathBuf>,
    /// A reference continuation of the same scene (MP4 or folder of PNG
    /// frames, same frame size) for the Physics-IQ metrics.
    #[arg(long, value_name = "CLIP")]
    reference: Option<PathBuf>,
    /// Print one JSON object with `metrics` and `findings`.
    #[arg(long)]
    json: bool,
}

/// Runs `sora score`.
pub fn run(a: ScoreArgs) -> sora_core::Result<()> {
    let mut clip = io::read_video(&a.clip)?;
    if a.clip.is_dir() && a.fps.is_none() {
        return Err(Error::invalid(format!(
            "{}: a folder of PNG frames has no frame rate: give --fps",
            a.clip.display()
        )));
    }
    if let Some(fps) = a.fps {
        clip.fps = fps;
    }
    if let Some(wav) = &a.audio {
        let (samples, rate) = io::read_wav(wav)?;
        clip.audio = Some(samples);
        clip.sample_rate = rate;
    }
    let reference = match &a.reference {
        Some(path) => Some(io::read_video(path)?.frames),
        None => None,
    };
    let input = ScoreInput {
        frames: clip.frames.view(),
        fps: clip.fps,
        audio: clip.audio.as_ref().map(|x| x.view()),
        sample_rate: clip.sample_rate,
        reference: reference.as_ref().map(|r| r.view()),
    };
    let report = score(&input)?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        let s = clip.frames.shape();
        println!(
            "clip:     {} ({} frames of {}×{} at {} fps, {})",
            a.clip.display(),
            s[0],
            s[2],
            s[1],
            clip.fps,
            if clip.audio.is_some() {
                format!("audio at {} Hz", clip.sample_rate)
            } else {
                "no audio".into()
            }
        );
        print_report(&report);
    }
    Ok(())
}

/// The report as aligned text: one metric a line (`n/a` when it does not
/// apply), then one finding a line.
fn print_report(r: &PhysicsReport) {
    println!("metrics:");
    for (name, value) in &r.metrics {
        match value {
            Some(v) => println!("  {name:<32} {v:.6}"),
            None => println!("  {name:<32} n/a"),
        }
    }
    if r.findings.is_empty() {
        println!("findings: none");
        return;
    }
    println!("findings ({}):", r.findings.len());
    for f in &r.findings {
        let track = f.track.map(|t| format!("track {t}")).unwrap_or_default();
        println!(
            "  {:<12} frames {:>4}–{:<4} {:<9} value {:.4} (threshold {:.4})",
            f.kind.name(),
            f.start_frame,
            f.end_frame,
            track,
            f.value,
            f.threshold
        );
    }
}
