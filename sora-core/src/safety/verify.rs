//! `sora verify`: reads a clip (MP4, a frame folder, an image or a WAV file),
//! runs both invisible-mark detectors on it and reads its content
//! credentials (the C2PA manifest embedded in MP4 and WAV outputs; see
//! [`super::credentials`]).

use std::path::Path;

use serde::Serialize;

pub use super::credentials::{Credentials, SignerInfo};
use super::payload::Detection;
use super::{audio_mark, credentials, video_mark};
use crate::io;
use crate::Result;

/// What `sora verify` reports (its `--json` object).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifyReport {
    /// The invisible video mark.
    pub watermark: Detection,
    /// The invisible audio mark (`detected: false` when there is no audio).
    pub audio_watermark: Detection,
    /// Content credentials (`present: false` for a frame folder, and for
    /// files written with credentials off or by other tools without them).
    pub credentials: Credentials,
}

impl VerifyReport {
    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Verifies the clip at `path` (no trust anchors: see [`verify_with`]).
pub fn verify(path: &Path) -> Result<VerifyReport> {
    verify_with(path, None)
}

/// Verifies the clip at `path`; its credentials are `trusted` when their
/// signing certificate chains to one of `trust_anchors_pem` (PEM CA
/// certificates).
pub fn verify_with(path: &Path, trust_anchors_pem: Option<&str>) -> Result<VerifyReport> {
    if io::is_audio_only(path) {
        let (audio, rate) = io::read_wav(path)?;
        return Ok(VerifyReport {
            watermark: Detection::absent(),
            audio_watermark: audio_mark::detect(audio.view(), rate)?,
            credentials: credentials::read_credentials_with(path, trust_anchors_pem)?,
        });
    }
    let media = io::read_video(path)?;
    let audio_watermark = match &media.audio {
        Some(a) => audio_mark::detect(a.view(), media.sample_rate)?,
        None => Detection::absent(),
    };
    Ok(VerifyReport {
        watermark: video_mark::detect(media.frames.view()),
        audio_watermark,
        credentials: credentials::read_credentials_with(path, trust_anchors_pem)?,
    })
}
