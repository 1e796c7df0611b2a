//! Content credentials: a C2PA manifest, signed and embedded in the MP4 and
//! WAV files a pipeline writes, and read back (with its validation) by
//! `sora verify`. Built on the `c2pa` crate with Rust-native crypto (no
//! OpenSSL) and without HTTP: signing and verifying never reach the network.
//!
//! The manifest a clip gets (see `docs/safety.md`):
//!
//! - `c2pa.actions`: one `c2pa.created` action with digital source type
//!   [`TRAINED_ALGORITHMIC_MEDIA`] and sora as the software agent;
//! - [`GENERATION_LABEL`] (`org.sora.generation`): the model (family and
//!   folder name, never its full path), mode, seed, steps, guidance, size,
//!   frames, fps, the family's parameters, the generation id and the
//!   watermarks applied ([`GenerationAssertion`]); the prompt only when the
//!   pipeline asks for it (off by default);
//! - [`CONSENT_LABEL`] (`org.sora.consent`), when consents allowed the
//!   generation: the SHA-256 of each consent record used ([`consent_hash`]),
//!   never a name or any biometric data.
//!
//! [`sign_file`] embeds a manifest in a finished file (through a temporary
//! beside it, renamed into place); the pipeline's writers sign their staged
//! file before it is renamed, so a signed output appears whole or not at
//! all. [`read_credentials`] reads and validates a file's manifest.

mod identity;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use identity::{SigningIdentity, LOCAL_CA_NAME, LOCAL_ORGANIZATION, LOCAL_SIGNER_NAME};

use super::policy::WatermarkMeta;
use super::registry::{Consent, Person};
use crate::io::atomic::Staged;
use crate::{Error, Result};

/// The label of sora's generation assertion.
pub const GENERATION_LABEL: &str = "org.sora.generation";
/// The label of sora's consent assertion.
pub const CONSENT_LABEL: &str = "org.sora.consent";
/// The IPTC digital source type of generated media.
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
/// The scheme of the consent hashes ([`consent_hash`]).
pub const CONSENT_SCHEME: &str = "sora-consent-v1";

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

/// The media a manifest is embedded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    /// ISO BMFF (`.mp4`): a top-level `uuid` box after `ftyp`.
    Mp4,
    /// RIFF WAVE (`.wav`): a `C2PA` chunk.
    Wav,
}

impl MediaFormat {
    /// The format of `path` by its extension (`.mp4`/`.m4v`/`.mov`, `.wav`).
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mp4" | "m4v" | "mov" => Some(Self::Mp4),
            "wav" => Some(Self::Wav),
            _ => None,
        }
    }

    /// The MIME type c2pa knows it by.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Mp4 => "video/mp4",
            Self::Wav => "audio/wav",
        }
    }
}

/// The `org.sora.generation` assertion: what made the clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationAssertion {
    /// `sora <version>`.
    pub generator: String,
    /// The model family (e.g. `wan`).
    pub family: String,
    /// The model folder's name (not its path).
    pub model: String,
    /// `text`, `image`, `video` or `extend`.
    pub mode: String,
    /// The prompt and negative prompt, only when the pipeline embeds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The negative prompt (with the prompt only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    /// Whether the prompts are in this assertion.
    pub prompt_included: bool,
    /// The seed of the initial noise.
    pub seed: u64,
    /// Denoising steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance: f32,
    /// Guidance scale of the low-noise expert, when set.
    pub guidance_2: Option<f32>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames requested.
    pub frames: u32,
    /// Frames per second.
    pub fps: u32,
    /// Whether the family generated audio.
    pub audio: bool,
    /// The family's request parameters (diffusers keyword names).
    #[serde(default)]
    pub params: serde_json::Map<String, Value>,
    /// The 48-bit generation id (hex), as the invisible marks carry it.
    pub generation_id: String,
    /// The watermarks applied.
    pub watermark: WatermarkMeta,
}

/// The `org.sora.consent` assertion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentAssertion {
    /// How the hashes are made ([`CONSENT_SCHEME`]).
    pub scheme: String,
    /// SHA-256 (hex) of each consent record used.
    pub sha256: Vec<String>,
}

/// What goes into a clip's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestInputs {
    /// The generation assertion.
    pub generation: GenerationAssertion,
    /// Hashes of the consent records used ([`consent_hash`]); no consent
    /// assertion when empty.
    pub consents: Vec<String>,
}

/// A manifest and the identity that signs it: what a clip carries so that
/// saving it to MP4 or WAV embeds its credentials.
#[derive(Debug, Clone)]
pub struct ClipCredentials {
    /// The manifest's contents.
    pub manifest: ManifestInputs,
    /// Who signs.
    pub identity: Arc<SigningIdentity>,
}

/// What a clip's metadata records of its credentials (`meta["credentials"]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CredentialsMeta {
    /// MP4 and WAV outputs of the clip carry a signed manifest (false when
    /// the pipeline turned credentials off, and for clips not made by a
    /// pipeline).
    pub enabled: bool,
    /// The signing certificate's subject (`null` when off).
    pub signer: Option<String>,
    /// Signed by the process's local, untrusted identity (no user certificate).
    pub local: bool,
    /// The prompt is embedded in the manifest.
    pub prompt_included: bool,
}

impl ClipCredentials {
    /// What the clip's metadata records of these credentials.
    pub fn meta(&self) -> CredentialsMeta {
        CredentialsMeta {
            enabled: true,
            signer: Some(self.identity.subject().to_string()),
            local: self.identity.is_local(),
            prompt_included: self.manifest.generation.prompt_included,
        }
    }
}

/// The SHA-256 (hex) of a consent record, under [`CONSENT_SCHEME`]: the hash
/// of the compact JSON `{"expires":<unix seconds>,"grantee":"<owner key>",
/// "id":"<consent id>","person":"<the person's first registered name>"}`
/// (keys in this order, UTF-8). Whoever holds the registry can recompute it
/// and match it; the manifest itself carries no name.
pub fn consent_hash(person: &Person, consent: &Consent) -> String {
    let record = json!({
        "expires": consent.expires,
        "grantee": consent.grantee,
        "id": consent.id,
        "person": person.names.first().cloned().unwrap_or_default(),
    });
    hex(&Sha256::digest(record.to_string().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The c2pa context sora signs and reads with: no remote manifests, no OCSP
/// fetches (no network), trust anchors when given.
fn context(trust_anchors_pem: Option<&str>) -> Result<c2pa::Context> {
    let mut settings = json!({
        "verify": {
            "remote_manifest_fetch": false,
            "ocsp_fetch": false,
            "verify_after_sign": false,
        },
    });
    if let Some(pem) = trust_anchors_pem {
        settings["trust"] = json!({ "user_anchors": pem });
    }
    c2pa::Context::new()
        .with_settings(settings)
        .map_err(|e| Error::invalid(format!("content credentials settings: {e}")))
}

/// The manifest builder for `manifest`.
fn builder(
    ctx: c2pa::Context,
    manifest: &ManifestInputs,
) -> std::result::Result<c2pa::Builder, c2pa::Error> {
    let version = crate::version();
    let mut b = c2pa::Builder::from_context(ctx).with_definition(json!({
        "title": format!("sora {} clip", manifest.generation.family),
        "claim_generator_info": [{ "name": "sora", "version": version }],
    }))?;
    b.set_intent(c2pa::BuilderIntent::Create(
        c2pa::DigitalSourceType::TrainedAlgorithmicMedia,
    ));
    b.add_action(json!({
        "action": "c2pa.created",
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": { "name": "sora", "version": version },
    }))?;
    b.add_assertion(GENERATION_LABEL, &manifest.generation)?;
    if !manifest.consents.is_empty() {
        b.add_assertion(
            CONSENT_LABEL,
            &ConsentAssertion {
                scheme: CONSENT_SCHEME.into(),
                sha256: manifest.consents.clone(),
            },
        )?;
    }
    Ok(b)
}

/// Signs `src` (an MP4 or WAV file) into the new file `dst`, which must not
/// exist; errors name `shown` (the user's path, not a temporary).
pub(crate) fn sign_into(
    src: &Path,
    dst: &Path,
    shown: &Path,
    format: MediaFormat,
    manifest: &ManifestInputs,
    identity: &SigningIdentity,
) -> Result<()> {
    let failed =
        |e: c2pa::Error| Error::media(shown, format!("cannot sign its content credentials: {e}"));
    let signer = identity.signer()?;
    let mut b = builder(context(None)?, manifest).map_err(failed)?;
    let mut source = File::open(src).map_err(|e| Error::io(shown, e))?;
    let mut dest = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(dst)
        .map_err(|e| Error::io(shown, e))?;
    b.sign(signer.as_ref(), format.mime(), &mut source, &mut dest)
        .map_err(failed)?;
    dest.sync_all().map_err(|e| Error::io(shown, e))
}

/// Embeds a manifest with `manifest`'s claims, signed by `identity`, in the
/// MP4 or WAV file at `path`, in place: the signed file is written beside it
/// under a temporary name and renamed over it, so `path` is never left half
/// written. A file that already has a manifest gets a new one in its place.
pub fn sign_file(
    path: &Path,
    format: MediaFormat,
    manifest: &ManifestInputs,
    identity: &SigningIdentity,
) -> Result<()> {
    let staged = Staged::file(path)?;
    sign_into(path, staged.path(), path, format, manifest, identity)?;
    staged.commit()
}

/// Commits a staged file, signed first when `credentials` are given (the
/// unsigned temporary is removed either way).
pub(crate) fn commit_signed(
    staged: Staged,
    format: MediaFormat,
    credentials: Option<&ClipCredentials>,
) -> Result<()> {
    let Some(c) = credentials else {
        return staged.commit();
    };
    let signed = Staged::file(staged.target())?;
    sign_into(
        staged.path(),
        signed.path(),
        staged.target(),
        format,
        &c.manifest,
        &c.identity,
    )?;
    drop(staged);
    signed.commit()
}

/// The MIME type c2pa reads `path` as, for the files sora reads.
fn readable_mime(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "wav" => "audio/wav",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => return None,
    })
}

/// Reads and validates the manifest embedded in `path` (see
/// [`read_credentials_with`]); nothing is trusted.
pub fn read_credentials(path: &Path) -> Result<Credentials> {
    read_credentials_with(path, None)
}

/// Reads and validates the manifest embedded in `path` (an MP4, WAV, PNG or
/// JPEG file; a folder never carries one): `present` when there is one,
/// `valid` when its signature and its hash of the file's bytes check (and
/// the signing certificate meets C2PA's profile), `trusted` when, moreover,
/// the certificate chains to one of `trust_anchors_pem` (PEM CA
/// certificates). `issues` lists the C2PA validation failure codes (e.g.
/// `signingCredential.untrusted`, `assertion.bmffHash.mismatch`). A file that
/// cannot be opened is an [`Error::Io`].
pub fn read_credentials_with(path: &Path, trust_anchors_pem: Option<&str>) -> Result<Credentials> {
    if path.is_dir() {
        return Ok(Credentials::default());
    }
    let Some(mime) = readable_mime(path) else {
        return Ok(Credentials::default());
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader =
        match c2pa::Reader::from_context(context(trust_anchors_pem)?).with_stream(mime, file) {
            Ok(r) => r,
            Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing) => {
                return Ok(Credentials::default())
            }
            Err(e) => {
                // A manifest that is there but does not read is reported, not raised.
                return Ok(Credentials {
                    present: true,
                    issues: vec![format!("unreadable manifest: {e}")],
                    ..Default::default()
                });
            }
        };
    let state = reader.validation_state();
    let mut issues: Vec<String> = Vec::new();
    if let Some(codes) = reader
        .validation_results()
        .and_then(|r| r.active_manifest())
    {
        for s in codes.failure() {
            if !issues.iter().any(|i| i == s.code()) {
                issues.push(s.code().to_string());
            }
        }
    }
    let mut out = Credentials {
        present: true,
        valid: state != c2pa::ValidationState::Invalid,
        trusted: state == c2pa::ValidationState::Trusted,
        issues,
        ..Default::default()
    };
    let Some(m) = reader.active_manifest() else {
        out.valid = false;
        out.issues.push("no active manifest".into());
        return Ok(out);
    };
    out.signer = m.signature_info().map(signer_info);
    for a in m.assertions() {
        let Ok(v) = a.value() else { continue };
        if a.label().starts_with("c2pa.actions") {
            for action in v["actions"].as_array().into_iter().flatten() {
                let name = action["action"].as_str().unwrap_or("?");
                let mut line = name.to_string();
                if let Some(t) = action["digitalSourceType"].as_str() {
                    line.push_str(&format!(
                        ": digital source type {}",
                        t.rsplit('/').next().unwrap_or(t)
                    ));
                }
                if let Some(agent) = action["softwareAgent"]["name"].as_str() {
                    match action["softwareAgent"]["version"].as_str() {
                        Some(ver) => line.push_str(&format!(" (software agent {agent} {ver})")),
                        None => line.push_str(&format!(" (software agent {agent})")),
                    }
                }
                out.claims.push(line);
            }
        } else if a.label() == GENERATION_LABEL {
            out.claims.extend(generation_claims(v));
            out.generation = Some(v.clone());
        } else if a.label() == CONSENT_LABEL {
            for h in v["sha256"].as_array().into_iter().flatten() {
                if let Some(h) = h.as_str() {
                    out.claims.push(format!("consent record sha256 {h}"));
                    out.consents.push(h.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// The signer of a manifest: the signing certificate's subject and issuer.
fn signer_info(s: &c2pa::SignatureInfo) -> SignerInfo {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let leaf = x509_parser::pem::Pem::iter_from_buffer(s.cert_chain().as_bytes())
        .filter_map(|p| p.ok())
        .next();
    let (subject, issuer) = leaf
        .as_ref()
        .and_then(|p| X509Certificate::from_der(&p.contents).ok())
        .map(|(_, c)| (c.subject().to_string(), c.issuer().to_string()))
        .unwrap_or_else(|| {
            (
                s.common_name.clone().unwrap_or_default(),
                s.issuer.clone().unwrap_or_default(),
            )
        });
    SignerInfo {
        subject,
        issuer,
        alg: s.alg.map(|a| a.to_string()),
        time: s.time.clone(),
    }
}

/// Lines of `claims` for the generation assertion.
fn generation_claims(v: &Value) -> Vec<String> {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let n = |k: &str| v[k].as_u64().map(|x| x.to_string()).unwrap_or_default();
    let on = |b: &Value| {
        if b.as_bool() == Some(true) {
            "on"
        } else {
            "off"
        }
    };
    let mut lines = vec![
        format!("generator {}", s("generator")),
        format!("model {} ({}), {} mode", s("model"), s("family"), s("mode")),
        format!(
            "settings {}x{}, {} frames at {} fps, seed {}, {} steps, guidance {}",
            n("width"),
            n("height"),
            n("frames"),
            n("fps"),
            n("seed"),
            n("steps"),
            v["guidance"]
        ),
        format!("generation id {}", s("generation_id")),
        format!(
            "watermark visible {}, invisible {}",
            on(&v["watermark"]["visible"]),
            on(&v["watermark"]["invisible"])
        ),
    ];
    lines.push(match v["prompt"].as_str() {
        Some(p) => format!("prompt {p:?}"),
        None => "prompt not included".into(),
    });
    lines
}

/// Where the embedded manifest store is in the MP4 or WAV file `bytes`:
/// `(offset, length)` of its `uuid` box (MP4) or `C2PA` chunk (WAV), `None`
/// when there is none. Two signed files of the same content differ only
/// there (C2PA salts each assertion's hash with random bytes), which is what
/// tests compare.
pub fn manifest_span(bytes: &[u8]) -> Option<(usize, usize)> {
    const C2PA_UUID: [u8; 16] = [
        0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4,
        0x81,
    ];
    if bytes.starts_with(b"RIFF") {
        let mut p = 12usize;
        while p + 8 <= bytes.len() {
            let size = u32::from_le_bytes(bytes[p + 4..p + 8].try_into().ok()?) as usize;
            let total = 8usize.checked_add(size)?.checked_add(size & 1)?;
            if &bytes[p..p + 4] == b"C2PA" {
                return Some((p, total.min(bytes.len() - p)));
            }
            p = p.checked_add(total)?;
        }
        return None;
    }
    let mut p = 0usize;
    while p + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[p..p + 4].try_into().ok()?) as usize;
        let (size, header) = match size32 {
            0 => (bytes.len() - p, 8),
            1 => (
                usize::try_from(u64::from_be_bytes(
                    bytes.get(p + 8..p + 16)?.try_into().ok()?,
                ))
                .ok()?,
                16,
            ),
            s => (s, 8),
        };
        if size < header || p.checked_add(size)? > bytes.len() {
            return None;
        }
        if &bytes[p + 4..p + 8] == b"uuid"
            && bytes.get(p + header..p + header + 16) == Some(&C2PA_UUID[..])
        {
            return Some((p, size));
        }
        p += size;
    }
    None
}

#[cfg(test)]
mod tests;
