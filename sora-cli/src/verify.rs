//! `sora verify CLIP`: reads a clip back and reports its invisible
//! watermarks (payload, bit accuracy, p-value) and content credentials.

use std::path::PathBuf;

use clap::Args;
use sora_core::safety::{self, Detection, Payload};

/// Arguments of `sora verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The clip: .mp4, .wav, an image or a folder of PNG frames.
    pub clip: PathBuf,
    /// Print one JSON object: `watermark`, `audio_watermark`, `credentials`.
    #[arg(long)]
    pub json: bool,
}

fn describe(name: &str, d: &Detection) -> String {
    let payload = match d.decoded() {
        Some(p) => describe_payload(&p),
        None => "no payload decoded".into(),
    };
    format!(
        "{name}: {} (p-value {:.2e}, bit accuracy {:.3}); {payload}",
        if d.detected {
            "detected"
        } else {
            "not detected"
        },
        d.p_value,
        d.bit_accuracy
    )
}

fn describe_payload(p: &Payload) -> String {
    format!(
        "payload {} (generation id {:012x}, visible mark {}, audio {})",
        p.hex(),
        p.generation_id,
        if p.flags & safety::payload::FLAG_VISIBLE != 0 {
            "on"
        } else {
            "off"
        },
        if p.flags & safety::payload::FLAG_AUDIO != 0 {
            "yes"
        } else {
            "no"
        },
    )
}

/// Runs `sora verify`.
pub fn run(a: VerifyArgs) -> sora_core::Result<()> {
    let report = safety::verify(&a.clip)?;
    if a.json {
        println!("{}", report.to_json());
        return Ok(());
    }
    println!("{}", describe("watermark", &report.watermark));
    println!("{}", describe("audio watermark", &report.audio_watermark));
    println!(
        "credentials: {} (C2PA content credentials are not built yet)",
        if report.credentials.present {
            "present"
        } else {
            "none"
        }
    );
    Ok(())
}
