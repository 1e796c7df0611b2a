//! The pipeline's safety settings and the checks it runs with them: the
//! prompt gate on each request before any compute, and the optional
//! [`IdentityCheck`] on input media and on every chunk of generated frames.

use std::path::PathBuf;
use std::sync::Arc;

use ndarray::{ArrayView4, Axis};

use super::credentials::consent_hash;
use super::gate::{check_prompt, consent_for, Credentials, Decision};
use super::identity::{FrameSource, IdentityCheck};
use super::registry::Registry;
use crate::pipeline::request::{Mode, Request};
use crate::{Error, Result};

/// A registry given to the builder: a file to read at build, or one loaded.
#[derive(Debug, Clone)]
pub enum RegistrySource {
    /// A JSON file (read and checked by `PipelineBuilder::build`).
    File(PathBuf),
    /// A registry in memory.
    Loaded(Arc<Registry>),
}

impl From<PathBuf> for RegistrySource {
    fn from(p: PathBuf) -> Self {
        RegistrySource::File(p)
    }
}
impl From<&std::path::Path> for RegistrySource {
    fn from(p: &std::path::Path) -> Self {
        RegistrySource::File(p.to_path_buf())
    }
}
impl From<&str> for RegistrySource {
    fn from(p: &str) -> Self {
        RegistrySource::File(PathBuf::from(p))
    }
}
impl From<Registry> for RegistrySource {
    fn from(r: Registry) -> Self {
        RegistrySource::Loaded(Arc::new(r))
    }
}
impl From<Arc<Registry>> for RegistrySource {
    fn from(r: Arc<Registry>) -> Self {
        RegistrySource::Loaded(r)
    }
}

impl RegistrySource {
    /// The registry (a file is read now).
    pub fn load(&self) -> Result<Arc<Registry>> {
        match self {
            RegistrySource::File(p) => Ok(Arc::new(Registry::load(p)?)),
            RegistrySource::Loaded(r) => Ok(r.clone()),
        }
    }
}

/// What a pipeline checks before and while generating. The default checks
/// nothing (no registry, no identity check): every prompt passes.
#[derive(Clone, Default)]
pub struct SafetySettings {
    /// The consent registry and protected list.
    pub registry: Option<Arc<Registry>>,
    /// This pipeline's owner key (what consents are granted to).
    pub owner: Option<String>,
    /// A face (or other) recogniser.
    pub identity: Option<Arc<dyn IdentityCheck>>,
}

impl std::fmt::Debug for SafetySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafetySettings")
            .field(
                "registry",
                &self.registry.as_ref().map(|r| r.source().to_path_buf()),
            )
            .field("owner", &self.owner.as_ref().map(|_| "<set>"))
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl SafetySettings {
    /// The prompt gate on `req`'s prompt, then the identity check on its
    /// input media: [`Error::ConsentRequired`] or [`Error::ProtectedContent`]
    /// on refusal. Runs before any compute. Returns the gate's decision
    /// (which consent allowed which person; `None` without a registry), for
    /// the clip's records.
    pub fn check_request(&self, req: &Request) -> Result<Option<Decision>> {
        let mut decision = None;
        if let Some(reg) = &self.registry {
            let cred = Credentials::new(self.owner.as_deref(), &req.consents);
            decision = Some(check_prompt(reg, &req.prompt, &cred).into_result()?);
            // Every timed prompt of a long-form request passes the same gate.
            for (_, text) in &req.prompts_at {
                check_prompt(reg, text, &cred).into_result()?;
            }
        }
        if self.identity.is_some() {
            match &req.mode {
                Mode::Text => {}
                Mode::Image(img) => {
                    let frames = img.pixels.view().insert_axis(Axis(0));
                    self.check_frames(frames, FrameSource::InputImage, &req.consents)?;
                }
                Mode::Video { clip, .. } | Mode::Extend { clip, .. } => {
                    self.check_frames(clip.frames.view(), FrameSource::InputVideo, &req.consents)?;
                }
            }
        }
        Ok(decision)
    }

    /// Whether generated frames go through an identity check.
    pub fn checks_frames(&self) -> bool {
        self.identity.is_some()
    }

    /// The identity check on `frames`: each person it names needs a valid
    /// consent among `consents` (see [`IdentityCheck`]).
    pub fn check_frames(
        &self,
        frames: ArrayView4<'_, u8>,
        source: FrameSource,
        consents: &[String],
    ) -> Result<()> {
        self.check_frames_consents(frames, source, consents)
            .map(|_| ())
    }

    /// [`SafetySettings::check_frames`], returning the consent ids that
    /// allowed the people it saw (for the clip's content credentials).
    pub fn check_frames_consents(
        &self,
        frames: ArrayView4<'_, u8>,
        source: FrameSource,
        consents: &[String],
    ) -> Result<Vec<String>> {
        let mut used = Vec::new();
        let Some(check) = &self.identity else {
            return Ok(used);
        };
        for name in check.people_in(frames, source)? {
            let person = self
                .registry
                .as_ref()
                .and_then(|r| r.person_named(&name).map(|i| &r.people()[i]));
            let refusal = match person {
                None => Some(
                    "recognised by the identity check and not in the consent registry, \
                     so no consent can be given"
                        .to_string(),
                ),
                Some(p) => match consent_for(p, &Credentials::new(self.owner.as_deref(), consents))
                {
                    Ok(id) => {
                        used.push(id);
                        None
                    }
                    Err(why) => Some(why),
                },
            };
            if let Some(reason) = refusal {
                return Err(Error::ConsentRequired {
                    who: person
                        .and_then(|p| p.names.first().cloned())
                        .unwrap_or_else(|| name.clone()),
                    alias: name,
                    normalized: format!("(identity check on {source})"),
                    reason,
                });
            }
        }
        Ok(used)
    }

    /// The SHA-256 hashes ([`consent_hash`]) of the consent records that
    /// allow `req`: those the prompt gate accepts for the people its prompt
    /// names, and `also` (ids the identity check relied on). Sorted, without
    /// repeats; empty without a registry.
    pub fn consent_hashes(&self, req: &Request, also: &[String]) -> Vec<String> {
        let Some(reg) = &self.registry else {
            return Vec::new();
        };
        let cred = Credentials::new(self.owner.as_deref(), &req.consents);
        let decision = check_prompt(reg, &req.prompt, &cred);
        let ids = decision
            .findings
            .iter()
            .filter_map(|f| f.consent.as_deref())
            .chain(also.iter().map(String::as_str));
        let mut hashes: Vec<String> = ids
            .filter_map(|id| reg.consent(id))
            .map(|(p, c)| consent_hash(p, c))
            .collect();
        hashes.sort();
        hashes.dedup();
        hashes
    }
}
