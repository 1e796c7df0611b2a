//! `sora verify`: reads a clip (MP4, a frame folder, an image or a WAV file),
//! runs both invisible-mark detectors on it and reads its content
//! credentials (the C2PA manifest embedded in MP4 and WAV outputs; see
//! [`super::credentials`]).

use std::path::Path;

use serde::Serialize;

use super::payload::Detection;
use super::{audio_mark, credentials, video_mark};
use crate::io;
use crate::Result;

/// Who signed a manifest.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SignerInfo {
    /// The signing certificate's subject (`CN=…, O=…`).
    pub subject: String,
    /// The signing certificate's issuer.
    pub issuer: String,
    /// The signature algorithm (`Es256`, …), when known.
    pub alg: Option<String>,
    /// The signing time from a time-stamp authority (`null`: sora signs
    /// without one, as it never reaches the network).
    pub time: Option<String>,
}

/// Content credentials found in a file.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Credentials {
    /// A manifest is embedded.
    pub present: bool,
    /// It verified: the signature, and the hash binding it to the file's
    /// bytes (one byte changed makes it invalid).
    pub valid: bool,
    /// The claims it makes, one line each (the creation action and its
    /// digital source type, the model and settings, the watermarks, consent
    /// hashes).
    pub claims: Vec<String>,
    /// The signing certificate chains to a trust anchor the verifier was
    /// given (sora's local identity never does; see `docs/safety.md`).
    pub trusted: bool,
    /// Who signed (`null` without a manifest).
    pub signer: Option<SignerInfo>,
    /// C2PA validation failure codes, e.g. `signingCredential.untrusted`
    /// (valid, not trusted) or `assertion.bmffHash.mismatch` (the file was
    /// changed after signing).
    pub issues: Vec<String>,
    /// sora's `org.sora.generation` assertion as signed (`null` when absent).
    pub generation: Option<serde_json::Value>,
    /// SHA-256 hashes of the consent records the generation used.
    pub consents: Vec<String>,
}

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
