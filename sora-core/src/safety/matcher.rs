//! Finding registered names in a normalised prompt: exact alias matches
//! with Aho–Corasick on word boundaries (an alias with or without its
//! spaces), names spread over several words (`to m ha nks`) or hidden in a
//! run of spelled letters, and small misspellings by edit distance scaled to
//! the name's length.
//!
//! Every comparison runs on a *skeleton* of both sides (`l` → `i`, `rn` →
//! `m`, `vv` → `w`), so that look-alike letters compare equal.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::normalize::{normalize, Normalized};
use crate::{Error, Result};

/// One alias the matcher looks for.
#[derive(Debug, Clone)]
pub struct Alias {
    /// Index of the entry it names (the caller's numbering).
    pub entry: usize,
    /// The alias as written in the registry.
    pub name: String,
    /// Its skeleton words.
    words: Vec<String>,
    /// Its skeleton without spaces.
    compact: String,
}

/// How a name was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The alias's words, exactly.
    Exact,
    /// The alias's letters over one or more words (`tomhanks`, `to m hanks`).
    Joined,
    /// Inside a run of spaced single letters.
    Spelled,
    /// Within the edit-distance allowance.
    Fuzzy,
}

impl How {
    /// A short name: `exact`, `joined`, `spelled`, `fuzzy`.
    pub fn name(self) -> &'static str {
        match self {
            How::Exact => "exact",
            How::Joined => "joined",
            How::Spelled => "spelled",
            How::Fuzzy => "fuzzy",
        }
    }
}

/// A name found in a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The alias index (in the order given to [`Matcher::new`]).
    pub alias: usize,
    /// The normalised words that matched.
    pub text: String,
    /// Edit distance between them and the alias (0 unless fuzzy).
    pub distance: usize,
    /// How it was found.
    pub how: How,
}

/// Edits allowed for a name of `letters` letters: none under 5, one for 5 to
/// 8, two above.
pub fn allowance(letters: usize) -> usize {
    match letters {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Edits allowed within one word of a multi-word name (so that one short
/// word cannot absorb the whole allowance: "will smile" is not "will smith").
fn word_allowance(letters: usize) -> usize {
    match letters {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Letters an alias needs to be found inside a longer word.
const MIN_EMBEDDED: usize = 7;

/// The comparison skeleton of a normalised word.
fn skeleton(word: &str) -> String {
    word.replace('l', "i").replace("rn", "m").replace("vv", "w")
}

/// Aliases compiled for search.
#[derive(Debug, Clone)]
pub struct Matcher {
    aliases: Vec<Alias>,
    /// ` a b ` and ` ab ` patterns (space-padded: word boundaries).
    bounded: AhoCorasick,
    /// Pattern index of `bounded` → (alias, joined form?).
    bounded_of: Vec<(usize, bool)>,
    /// Compact forms, unpadded, for spelled runs.
    compact: AhoCorasick,
    /// Compact form → aliases.
    by_compact: HashMap<String, Vec<usize>>,
    /// The most words any alias has.
    max_words: usize,
}

impl Matcher {
    /// Compiles `(entry, alias)` pairs. An alias that normalises to fewer
    /// than 3 letters or digits would match too much: it is refused with
    /// [`Error::InvalidRequest`] naming it.
    pub fn new(names: impl IntoIterator<Item = (usize, String)>) -> Result<Self> {
        let mut aliases = Vec::new();
        for (entry, name) in names {
            let norm = normalize(&name);
            let words: Vec<String> = norm.words().map(skeleton).collect();
            let compact: String = words.concat();
            if compact.chars().count() < 3 {
                return Err(Error::invalid(format!(
                    "name `{name}` has fewer than 3 letters once normalised (`{}`): it would match too much",
                    norm.text()
                )));
            }
            aliases.push(Alias {
                entry,
                name,
                words,
                compact,
            });
        }
        let mut patterns = Vec::new();
        let mut bounded_of = Vec::new();
        let mut by_compact: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in aliases.iter().enumerate() {
            patterns.push(format!(" {} ", a.words.join(" ")));
            bounded_of.push((i, false));
            if a.words.len() > 1 {
                patterns.push(format!(" {} ", a.compact));
                bounded_of.push((i, true));
            }
            by_compact.entry(a.compact.clone()).or_default().push(i);
        }
        let build = |pats: &[String]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(pats)
                .map_err(|e| Error::invalid(format!("cannot compile the registry's names: {e}")))
        };
        let compact_pats: Vec<String> = aliases.iter().map(|a| a.compact.clone()).collect();
        Ok(Self {
            max_words: aliases.iter().map(|a| a.words.len()).max().unwrap_or(0),
            bounded: build(&patterns)?,
            compact: build(&compact_pats)?,
            bounded_of,
            by_compact,
            aliases,
        })
    }

    /// The compiled aliases, in the order given.
    pub fn aliases(&self) -> &[Alias] {
        &self.aliases
    }

    /// Every alias found in `text` (normalised already), at most one
    /// [`Found`] per alias: the closest.
    pub fn find(&self, text: &Normalized) -> Vec<Found> {
        let words: Vec<String> = text.words().map(skeleton).collect();
        let mut best: HashMap<usize, Found> = HashMap::new();
        fn put(best: &mut HashMap<usize, Found>, f: Found) {
            let slot = best.entry(f.alias).or_insert_with(|| f.clone());
            if f.distance < slot.distance {
                *slot = f;
            }
        }
        // Exact words, or an alias written as one word, on word boundaries.
        let padded = format!(" {} ", words.join(" "));
        // Byte offset in `padded` where each word starts.
        let mut starts = Vec::with_capacity(words.len());
        let mut at = 1;
        for w in &words {
            starts.push(at);
            at += w.len() + 1;
        }
        let shown = |from: usize, n: usize| -> String {
            let end = (from + n).min(text.tokens.len());
            text.tokens[from.min(end)..end]
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for m in self.bounded.find_overlapping_iter(&padded) {
            let (alias, joined) = self.bounded_of[m.pattern().as_usize()];
            let first = starts.partition_point(|&s| s < m.start() + 1);
            let n = if joined {
                1
            } else {
                self.aliases[alias].words.len()
            };
            put(
                &mut best,
                Found {
                    alias,
                    text: shown(first, n),
                    distance: 0,
                    how: if joined { How::Joined } else { How::Exact },
                },
            );
        }
        // Inside runs of spelled letters, anywhere; inside any word for
        // aliases of 7 letters or more (`#tomhanleyfanclub`).
        for (t, w) in text.tokens.iter().zip(&words) {
            for m in self.compact.find_overlapping_iter(w.as_str()) {
                if !t.spelled && m.end() - m.start() < MIN_EMBEDDED {
                    continue;
                }
                put(
                    &mut best,
                    Found {
                        alias: m.pattern().as_usize(),
                        text: t.text.clone(),
                        distance: 0,
                        how: if t.spelled { How::Spelled } else { How::Joined },
                    },
                );
            }
        }
        // An alias's letters spread over 2..=max_words+2 words.
        for start in 0..words.len() {
            let mut joined = String::new();
            for (k, w) in words[start..].iter().enumerate().take(self.max_words + 2) {
                joined.push_str(w);
                if k == 0 {
                    continue;
                }
                // A long alias starting or ending the window (`t bonehanleyfanclub`).
                for m in self.compact.find_overlapping_iter(joined.as_str()) {
                    if m.end() - m.start() >= MIN_EMBEDDED
                        && (m.start() == 0 || m.end() == joined.len())
                    {
                        put(
                            &mut best,
                            Found {
                                alias: m.pattern().as_usize(),
                                text: shown(start, k + 1),
                                distance: 0,
                                how: How::Joined,
                            },
                        );
                    }
                }
                if let Some(ids) = self.by_compact.get(&joined) {
                    for &alias in ids {
                        put(
                            &mut best,
                            Found {
                                alias,
                                text: shown(start, k + 1),
                                distance: 0,
                                how: How::Joined,
                            },
                        );
                    }
                }
            }
        }
        // Misspellings.
        for (i, a) in self.aliases.iter().enumerate() {
            if best.get(&i).is_some_and(|f| f.distance == 0) {
                continue;
            }
            if let Some(f) = self.fuzzy(i, a, text, &words) {
                put(&mut best, f);
            }
        }
        let mut out: Vec<Found> = best.into_values().collect();
        out.sort_by_key(|f| f.alias);
        out
    }

    /// The closest window of `words` within alias `a`'s allowance.
    fn fuzzy(&self, i: usize, a: &Alias, text: &Normalized, words: &[String]) -> Option<Found> {
        let total = allowance(a.compact.chars().count());
        if total == 0 {
            return None;
        }
        let k = a.words.len();
        let mut best: Option<Found> = None;
        let mut consider = |d: usize, shown: String| {
            if d <= total && best.as_ref().map_or(true, |b| d < b.distance) {
                best = Some(Found {
                    alias: i,
                    text: shown,
                    distance: d,
                    how: How::Fuzzy,
                });
            }
        };
        if words.len() >= k {
            for start in 0..=words.len() - k {
                let window = &words[start..start + k];
                let mut sum = 0;
                let mut ok = true;
                for (w, n) in window.iter().zip(&a.words) {
                    let cap = word_allowance(n.chars().count());
                    if w.chars().count().abs_diff(n.chars().count()) > cap {
                        ok = false;
                        break;
                    }
                    let d = osa_distance(w, n);
                    if d > cap {
                        ok = false;
                        break;
                    }
                    sum += d;
                }
                if ok {
                    let shown: Vec<&str> = text.tokens[start..start + k]
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect();
                    consider(sum, shown.join(" "));
                }
            }
        }
        // A misspelled name spelled out letter by letter (one whole run).
        for (t, w) in text.tokens.iter().zip(words) {
            if t.spelled && w.chars().count().abs_diff(a.compact.chars().count()) <= total {
                consider(osa_distance(w, &a.compact), t.text.clone());
            }
        }
        best
    }
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions) between `a` and `b`, by characters.
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(names: &[&str]) -> Matcher {
        Matcher::new(names.iter().enumerate().map(|(i, n)| (i, n.to_string()))).unwrap()
    }

    fn hits(mt: &Matcher, text: &str) -> Vec<(usize, How)> {
        mt.find(&normalize(text))
            .into_iter()
            .map(|f| (f.alias, f.how))
            .collect()
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(osa_distance("hanks", "hanks"), 0);
        assert_eq!(osa_distance("hanks", "hnaks"), 1);
        assert_eq!(osa_distance("hanks", "hank"), 1);
        assert_eq!(osa_distance("smith", "smile"), 2);
        assert_eq!(osa_distance("", "abc"), 3);
    }

    #[test]
    fn names_are_found_in_their_disguises() {
        let mt = m(&["Tom Hanley", "Zendrika"]);
        assert_eq!(hits(&mt, "a photo of tom hanley"), vec![(0, How::Exact)]);
        assert_eq!(hits(&mt, "#TomHanley waves"), vec![(0, How::Joined)]);
        assert_eq!(hits(&mt, "to m han ley"), vec![(0, How::Joined)]);
        assert_eq!(
            hits(&mt, "i s a w t o m h a n l e y"),
            vec![(0, How::Spelled)]
        );
        assert_eq!(hits(&mt, "tom hamley sings"), vec![(0, How::Fuzzy)]);
        assert_eq!(hits(&mt, "zendrlka dances"), vec![(1, How::Exact)]); // l ~ i
        assert_eq!(hits(&mt, "zendirka dances"), vec![(1, How::Fuzzy)]);
        assert!(hits(&mt, "tom and a hanger").is_empty());
        assert_eq!(hits(&mt, "#TomHanleyFanClub"), vec![(0, How::Joined)]);
        assert_eq!(hits(&mt, "zendrikaville"), vec![(1, How::Joined)]);
        let short = m(&["Bo Li"]);
        assert!(hits(&short, "bolivia").is_empty());
    }

    #[test]
    fn short_names_are_refused() {
        assert!(Matcher::new([(0, "Al".to_string())]).is_err());
        assert!(Matcher::new([(0, "!!".to_string())]).is_err());
    }
}
