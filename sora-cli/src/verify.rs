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
    /// PEM CA certificates to trust: credentials whose signing certificate
    /// chains to one of them are reported `trusted` (without it nothing is).
    #[arg(long, value_name = "FILE")]
    pub trust_anchors: Option<PathBuf>,
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

/// The credentials as text lines.
fn describe_credentials(c: &safety::Credentials) -> Vec<String> {
    if !c.present {
        return vec!["credentials: none (no C2PA manifest in this file)".into()];
    }
    let verdict = match (c.valid, c.trusted) {
        (true, true) => "present, valid, trusted",
        (true, false) => "present, valid (signature and file binding check), not trusted",
        (false, _) => {
            "present, NOT VALID (the file changed after signing, or the manifest is broken)"
        }
    };
    let mut lines = vec![format!("credentials: {verdict}")];
    if let Some(s) = &c.signer {
        lines.push(format!("  signer: {} (issued by {})", s.subject, s.issuer));
    }
    if !c.issues.is_empty() {
        lines.push(format!("  issues: {}", c.issues.join(", ")));
    }
    for claim in &c.claims {
        lines.push(format!("  claim: {claim}"));
    }
    lines
}

/// Runs `sora verify`.
pub fn run(a: VerifyArgs) -> sora_core::Result<()> {
    let anchors = match &a.trust_anchors {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| sora_core::Error::io(p, e))?),
        None => None,
    };
    let report = safety::verify_with(&a.clip, anchors.as_deref())?;
    if a.json {
        println!("{}", report.to_json());
        return Ok(());
    }
    println!("{}", describe("watermark", &report.watermark));
    println!("{}", describe("audio watermark", &report.audio_watermark));
    for line in describe_credentials(&report.credentials) {
        println!("{line}");
    }
    Ok(())
}
