//! `sora verify`: reads a clip (MP4, a frame folder, an image or a WAV file)
//! and runs both invisible-mark detectors on it. Content credentials (C2PA)
//! are not built yet: the report says none are present.

use std::path::Path;

use serde::Serialize;

use super::payload::Detection;
use super::{audio_mark, video_mark};
use crate::io;
use crate::Result;

/// Content credentials found in a file.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Credentials {
    /// A manifest is embedded.
    pub present: bool,
    /// It verified (signature and binding to the file).
    pub valid: bool,
    /// The claims it makes.
    pub claims: Vec<String>,
}

/// What `sora verify` reports (its `--json` object).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifyReport {
    /// The invisible video mark.
    pub watermark: Detection,
    /// The invisible audio mark (`detected: false` when there is no audio).
    pub audio_watermark: Detection,
    /// Content credentials. C2PA manifests are not written or read yet, so
    /// this is always `present: false, valid: false, claims: []`.
    pub credentials: Credentials,
}

impl VerifyReport {
    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Verifies the clip at `path`.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    if io::is_audio_only(path) {
        let (audio, rate) = io::read_wav(path)?;
        return Ok(VerifyReport {
            watermark: Detection::absent(),
            audio_watermark: audio_mark::detect(audio.view(), rate)?,
            credentials: Credentials::default(),
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
        credentials: Credentials::default(),
    })
}
