//! The consent registry and the protected-character list, read from one JSON
//! file (format in `docs/safety.md`):
//!
//! ```json
//! { "people": [ { "names": ["Tom Hanley", "T. Hanley"],
//!                 "consents": [ { "id": "cameo-1", "grantee": "studio-a",
//!                                 "expires": "2027-01-01T00:00:00Z", "revoked": false } ] } ],
//!   "protected": [ { "names": ["Captain Starfall"] } ] }
//! ```
//!
//! Every problem (unknown field, empty name list, a name too short to match
//! safely, a bad date, a repeated consent id) is [`Error::Registry`] naming the
//! file and the place.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::matcher::{Found, Matcher};
use super::normalize::Normalized;
use super::time::parse_rfc3339;
use crate::{Error, Result};

/// A registered real person: names and aliases, and the consents granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Names and aliases (the first is the one shown).
    pub names: Vec<String>,
    /// Consents this person granted (cameos).
    pub consents: Vec<Consent>,
}

/// One consent: this person may appear in generations of the pipeline whose
/// owner key is `grantee`, until `expires`, unless revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The consent's id (what a request carries).
    pub id: String,
    /// The owner key of the pipeline it is granted to.
    pub grantee: String,
    /// Unix seconds (UTC) after which it no longer holds.
    pub expires: i64,
    /// Withdrawn by the person.
    pub revoked: bool,
}

/// A protected character (a rights holder's opt-out): never generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// Names and aliases (the first is the one shown).
    pub names: Vec<String>,
}

/// Which entry a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRef {
    /// `people[i]`.
    Person(usize),
    /// `protected[i]`.
    Protected(usize),
}

/// The loaded registry with its names compiled for matching.
#[derive(Debug, Clone)]
pub struct Registry {
    people: Vec<Person>,
    protected: Vec<Protected>,
    matcher: Matcher,
    source: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegistry {
    #[serde(default)]
    people: Vec<FilePerson>,
    #[serde(default)]
    protected: Vec<FileProtected>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePerson {
    names: Vec<String>,
    #[serde(default)]
    consents: Vec<FileConsent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConsent {
    id: String,
    grantee: String,
    expires: FileInstant,
    #[serde(default)]
    revoked: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileInstant {
    Unix(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProtected {
    names: Vec<String>,
}

impl Registry {
    /// Reads the registry file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Reads a registry from JSON text; `source` names it in errors.
    pub fn parse(json: &str, source: impl Into<PathBuf>) -> Result<Self> {
        let source = source.into();
        let bad = |reason: String| Error::Registry {
            path: source.clone(),
            reason,
        };
        let file: FileRegistry =
            serde_json::from_str(json).map_err(|e| bad(format!("not a consent registry: {e}")))?;
        let mut people = Vec::with_capacity(file.people.len());
        for (i, p) in file.people.into_iter().enumerate() {
            let mut consents = Vec::with_capacity(p.consents.len());
            for (j, c) in p.consents.into_iter().enumerate() {
                let expires = match c.expires {
                    FileInstant::Unix(t) => t,
                    FileInstant::Text(s) => match s.trim().parse::<i64>() {
                        Ok(t) => t,
                        Err(_) => parse_rfc3339(s.trim())
                            .map_err(|e| bad(format!("people[{i}].consents[{j}].expires: {e}")))?,
                    },
                };
                consents.push(Consent {
                    id: c.id,
                    grantee: c.grantee,
                    expires,
                    revoked: c.revoked,
                });
            }
            people.push(Person {
                names: p.names,
                consents,
            });
        }
        let protected = file
            .protected
            .into_iter()
            .map(|p| Protected { names: p.names })
            .collect();
        Self::with_source(people, protected, source)
    }

    /// A registry from entries built in code (checked as a file would be).
    pub fn new(people: Vec<Person>, protected: Vec<Protected>) -> Result<Self> {
        Self::with_source(people, protected, PathBuf::from("<registry built in code>"))
    }

    fn with_source(
        people: Vec<Person>,
        protected: Vec<Protected>,
        source: PathBuf,
    ) -> Result<Self> {
        let bad = |reason: String| Error::Registry {
            path: source.clone(),
            reason,
        };
        let mut ids = HashSet::new();
        let mut names = Vec::new();
        for (i, p) in people.iter().enumerate() {
            if p.names.is_empty() {
                return Err(bad(format!("people[{i}].names is empty")));
            }
            for (j, c) in p.consents.iter().enumerate() {
                let at = format!("people[{i}].consents[{j}]");
                if c.id.trim().is_empty() {
                    return Err(bad(format!("{at}.id is empty")));
                }
                if c.grantee.trim().is_empty() {
                    return Err(bad(format!("{at}.grantee is empty")));
                }
                if !ids.insert(c.id.as_str()) {
                    return Err(bad(format!("{at}.id `{}` is used twice", c.id)));
                }
            }
            names.extend(p.names.iter().map(|n| (i, n.clone())));
        }
        for (i, p) in protected.iter().enumerate() {
            if p.names.is_empty() {
                return Err(bad(format!("protected[{i}].names is empty")));
            }
            names.extend(p.names.iter().map(|n| (people.len() + i, n.clone())));
        }
        let matcher = Matcher::new(names).map_err(|e| match e {
            Error::InvalidRequest(m) => bad(m),
            other => other,
        })?;
        Ok(Self {
            people,
            protected,
            matcher,
            source,
        })
    }

    /// The registered people.
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// The protected characters.
    pub fn protected(&self) -> &[Protected] {
        &self.protected
    }

    /// The file it was read from (or a placeholder).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The entry a matcher entry index names.
    fn entry(&self, i: usize) -> EntryRef {
        if i < self.people.len() {
            EntryRef::Person(i)
        } else {
            EntryRef::Protected(i - self.people.len())
        }
    }

    /// The shown name of an entry.
    pub fn entry_name(&self, e: EntryRef) -> &str {
        let names = match e {
            EntryRef::Person(i) => &self.people[i].names,
            EntryRef::Protected(i) => &self.protected[i].names,
        };
        names.first().map(String::as_str).unwrap_or("")
    }

    /// Every registered name found in `text`: the entry, the alias as
    /// registered, and how it was found (at most one per alias).
    pub fn find(&self, text: &Normalized) -> Vec<(EntryRef, String, Found)> {
        self.matcher
            .find(text)
            .into_iter()
            .map(|f| {
                let a = &self.matcher.aliases()[f.alias];
                (self.entry(a.entry), a.name.clone(), f)
            })
            .collect()
    }

    /// The consent with id `id` and the person who granted it.
    pub fn consent(&self, id: &str) -> Option<(&Person, &Consent)> {
        self.people
            .iter()
            .find_map(|p| p.consents.iter().find(|c| c.id == id).map(|c| (p, c)))
    }

    /// The person `name` names exactly (after normalisation), if registered.
    pub fn person_named(&self, name: &str) -> Option<usize> {
        let norm = super::normalize::normalize(name);
        self.find(&norm).into_iter().find_map(|(e, _, f)| match e {
            EntryRef::Person(i) if f.distance == 0 && f.text == norm.text() => Some(i),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
      "people": [ { "names": ["Tom Hanley"], "consents": [
          { "id": "c1", "grantee": "studio", "expires": "2030-01-01T00:00:00Z" },
          { "id": "c2", "grantee": "studio", "expires": 1700000000, "revoked": true } ] } ],
      "protected": [ { "names": ["Captain Starfall"] } ] }"#;

    #[test]
    fn a_registry_file_reads() {
        let r = Registry::parse(GOOD, "reg.json").unwrap();
        assert_eq!(r.people().len(), 1);
        assert_eq!(r.people()[0].consents[0].expires, 1_893_456_000);
        assert!(r.people()[0].consents[1].revoked);
        assert_eq!(r.entry_name(EntryRef::Protected(0)), "Captain Starfall");
        assert_eq!(r.person_named("TOM HANLEY"), Some(0));
        assert_eq!(r.person_named("Tom"), None);
        assert_eq!(
            r.consent("c2")
                .map(|(p, c)| (p.names[0].as_str(), c.revoked)),
            Some(("Tom Hanley", true))
        );
        assert!(r.consent("c3").is_none());
    }

    #[test]
    fn bad_files_say_where() {
        for (json, want) in [
            (r#"{"people": [{"names": []}]}"#, "people[0].names is empty"),
            (r#"{"people": [{"names": ["Al"]}]}"#, "fewer than 3 letters"),
            (
                r#"{"people": [{"name": ["Tom Hanley"]}]}"#,
                "unknown field `name`",
            ),
            (
                r#"{"people": [{"names": ["Tom Hanley"], "consents": [{"id": "a", "grantee": "g", "expires": "soon"}]}]}"#,
                "people[0].consents[0].expires",
            ),
            (
                r#"{"people": [{"names": ["Tom Hanley"], "consents": [{"id": "a", "grantee": "g", "expires": 1}, {"id": "a", "grantee": "g", "expires": 1}]}]}"#,
                "used twice",
            ),
            (r#"[1, 2]"#, "not a consent registry"),
        ] {
            let e = Registry::parse(json, "bad.json").unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, Error::Registry { .. }), "{msg}");
            assert!(msg.contains("bad.json") && msg.contains(want), "{msg}");
        }
        let e = Registry::load("/nonexistent/registry.json").unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
    }
}
