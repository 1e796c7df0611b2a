//! The prompt gate: a prompt normalised, the registry's names searched in
//! it, and each registered person found checked against the consents the
//! request carries; protected characters are always refused. Runs before any
//! compute ([`crate::Pipeline::generate`] calls it first).

use serde_json::{json, Value};

use super::matcher::How;
use super::normalize::normalize;
use super::registry::{EntryRef, Person, Registry};
use super::time::{format_rfc3339, now_unix};
use crate::{Error, Result};

/// What a request brings to the gate besides its prompt.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The pipeline's owner key (consents are granted to an owner).
    pub owner: Option<&'a str>,
    /// Consent ids the request carries (cameos).
    pub consents: &'a [String],
    /// The instant consents are checked at (unix seconds).
    pub now: i64,
}

impl<'a> Credentials<'a> {
    /// Credentials checked at the current time.
    pub fn new(owner: Option<&'a str>, consents: &'a [String]) -> Self {
        Self {
            owner,
            consents,
            now: now_unix(),
        }
    }
}

/// Kind of entry a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A real person of the consent registry.
    Person,
    /// A protected character.
    Protected,
}

/// One registered name found in a prompt, and what the gate made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Person or protected character.
    pub kind: EntryKind,
    /// The entry's shown (first) name.
    pub entry: String,
    /// The registered alias that matched.
    pub alias: String,
    /// The normalised words that matched it.
    pub matched: String,
    /// How they matched.
    pub how: How,
    /// Edit distance (0 unless fuzzy).
    pub distance: usize,
    /// The consent id that allows it (people only).
    pub consent: Option<String>,
    /// Why it is refused (`None`: allowed).
    pub refused: Option<String>,
}

/// The gate's verdict on a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The normalised prompt.
    pub normalized: String,
    /// Every registered name found (one per entry), in registry order.
    pub findings: Vec<Finding>,
}

impl Decision {
    /// Whether the prompt may be generated.
    pub fn allowed(&self) -> bool {
        self.findings.iter().all(|f| f.refused.is_none())
    }

    /// The error of the first refusal (protected characters first):
    /// [`Error::ProtectedContent`] or [`Error::ConsentRequired`].
    pub fn error(&self) -> Option<Error> {
        let refused = |k: EntryKind| {
            self.findings
                .iter()
                .find(|f| f.kind == k && f.refused.is_some())
        };
        if let Some(f) = refused(EntryKind::Protected) {
            return Some(Error::ProtectedContent {
                entry: f.entry.clone(),
                alias: f.alias.clone(),
                normalized: self.normalized.clone(),
            });
        }
        refused(EntryKind::Person).map(|f| Error::ConsentRequired {
            who: f.entry.clone(),
            alias: f.alias.clone(),
            normalized: self.normalized.clone(),
            reason: f.refused.clone().unwrap_or_default(),
        })
    }

    /// `Ok(self)` when allowed, else the refusal's error.
    pub fn into_result(self) -> Result<Self> {
        match self.error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// The JSON object of `sora check-prompt --json` (and of the C and
    /// Python surfaces): `{ "allowed", "normalized", "matches": [ { "kind",
    /// "entry", "alias", "matched", "how", "distance", "consent", "refused" } ] }`.
    pub fn to_json_value(&self) -> Value {
        let matches: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                json!({
                    "kind": match f.kind { EntryKind::Person => "person", EntryKind::Protected => "protected" },
                    "entry": f.entry,
                    "alias": f.alias,
                    "matched": f.matched,
                    "how": f.how.name(),
                    "distance": f.distance,
                    "consent": f.consent,
                    "refused": f.refused,
                })
            })
            .collect();
        json!({
            "allowed": self.allowed(),
            "normalized": self.normalized,
            "matches": matches,
        })
    }

    /// [`Decision::to_json_value`] as text.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }
}

/// Why `person` may not appear for `cred`, or the consent id that allows it.
pub fn consent_for(person: &Person, cred: &Credentials) -> std::result::Result<String, String> {
    if cred.consents.is_empty() {
        return Err(
            "no consent was given with the request (a cameo needs the consent id \
                    the person granted to this pipeline's owner)"
                .into(),
        );
    }
    let mut why = Vec::new();
    for id in cred.consents {
        let Some(c) = person.consents.iter().find(|c| &c.id == id) else {
            why.push(format!("consent `{id}` is not one this person granted"));
            continue;
        };
        if c.revoked {
            why.push(format!("consent `{id}` was revoked"));
        } else if cred.now >= c.expires {
            why.push(format!(
                "consent `{id}` expired at {}",
                format_rfc3339(c.expires)
            ));
        } else {
            match cred.owner {
                None => why.push(format!(
                    "consent `{id}` is granted to an owner, and this pipeline has no owner key"
                )),
                Some(o) if o != c.grantee => why.push(format!(
                    "consent `{id}` is granted to another owner than this pipeline's"
                )),
                Some(_) => return Ok(id.clone()),
            }
        }
    }
    Err(why.join("; "))
}

/// Checks `prompt` against `registry` with the request's credentials:
/// every registered name found, each person allowed only with a valid
/// consent, each protected character refused. See [`Decision::into_result`]
/// for the error form.
pub fn check_prompt(registry: &Registry, prompt: &str, cred: &Credentials) -> Decision {
    let norm = normalize(prompt);
    let mut findings: Vec<Finding> = Vec::new();
    let mut seen: Vec<EntryRef> = Vec::new();
    for (entry, alias, found) in registry.find(&norm) {
        // One finding per entry: the closest of its aliases.
        if let Some(k) = seen.iter().position(|e| *e == entry) {
            if found.distance < findings[k].distance {
                findings[k].alias = alias;
                findings[k].matched = found.text;
                findings[k].how = found.how;
                findings[k].distance = found.distance;
            }
            continue;
        }
        let (kind, consent, refused) = match entry {
            EntryRef::Protected(_) => (
                EntryKind::Protected,
                None,
                Some("protected character (a rights holder's opt-out)".to_string()),
            ),
            EntryRef::Person(i) => match consent_for(&registry.people()[i], cred) {
                Ok(id) => (EntryKind::Person, Some(id), None),
                Err(why) => (EntryKind::Person, None, Some(why)),
            },
        };
        seen.push(entry);
        findings.push(Finding {
            kind,
            entry: registry.entry_name(entry).to_string(),
            alias,
            matched: found.text,
            how: found.how,
            distance: found.distance,
            consent,
            refused,
        });
    }
    Decision {
        normalized: norm.text(),
        findings,
    }
}
