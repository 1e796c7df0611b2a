//! Prompt normalisation for the gate: the text a person typed turned into the
//! words a name matcher can compare, undoing the usual evasions.
//!
//! In order: invisible characters dropped (zero-width, soft hyphen, bidi
//! controls, …), Unicode NFKC (fullwidth, mathematical, circled letters),
//! confusable letters mapped to Latin ([`super::confusables`], before case
//! folding so that each case keeps its look), full Unicode case folding,
//! diacritics removed (NFD, combining marks dropped), then words split on
//! white space and punctuation, with letters separated by punctuation joined
//! (`t.o.m` → `tom`), digit and symbol swaps undone in words that hold a
//! letter (`0→o 1→i 3→e 4→a 5→s 7→t 8→b 9→g @→a $→s`, `!`/`|` inside a
//! word → `i`), and runs of three or more single letters joined (`t o m` →
//! `tom`, marked [`Token::spelled`]).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::confusables::{is_invisible, latin_look_alike};

/// One word of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word: lower-case letters and digits only.
    pub text: String,
    /// Joined from a run of single spaced letters (`t o m h a n k s`): a name
    /// may stand anywhere inside it.
    pub spelled: bool,
}

/// A normalised text: its words in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The words.
    pub tokens: Vec<Token>,
}

impl Normalized {
    /// The words joined by single spaces (what errors and reports show).
    pub fn text(&self) -> String {
        self.words().collect::<Vec<_>>().join(" ")
    }

    /// The words as string slices.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().map(|t| t.text.as_str())
    }
}

/// Normalises `text` (see the module's documentation for the steps).
pub fn normalize(text: &str) -> Normalized {
    let folded = fold(text);
    let mut tokens = Vec::new();
    for chunk in folded.split(char::is_whitespace) {
        split_chunk(chunk, &mut tokens);
    }
    Normalized {
        tokens: join_spelled(tokens),
    }
}

/// The character-level steps: invisibles, NFKC, confusables, case folding,
/// diacritics.
fn fold(text: &str) -> String {
    let visible: String = text.chars().filter(|c| !is_invisible(*c)).collect();
    let mut mapped = String::with_capacity(visible.len());
    for c in visible.nfkc() {
        match latin_look_alike(c) {
            Some(s) => mapped.push_str(s),
            None => mapped.push(c),
        }
    }
    let folded = caseless::default_case_fold_str(&mapped);
    let mut out = String::with_capacity(folded.len());
    for c in folded.nfd().filter(|c| !is_combining_mark(*c)) {
        // Letters that only appear after folding (e.g. from a capital with a
        // stroke) go through the table once more.
        match latin_look_alike(c) {
            Some(s) => out.extend(s.chars().flat_map(char::to_lowercase)),
            None => out.push(c),
        }
    }
    out.nfc().collect()
}

/// Symbols that stand for a letter when inside a word.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// Whether `c` may be part of a word before the swaps are undone.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '@' | '$' | '!' | '|')
}

/// Splits one white-space-free chunk into words: segments separated by
/// punctuation are joined when each is one character (`t.o.m`), else kept
/// as separate words (`tom-hanks`).
fn split_chunk(chunk: &str, out: &mut Vec<Token>) {
    // `!` and `|` at a word's edges are punctuation ("hanks!"), inside a swap.
    let chunk = chunk.trim_matches(|c| matches!(c, '!' | '|'));
    let segments: Vec<&str> = chunk
        .split(|c: char| !is_word_char(c))
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() >= 2 && segments.iter().all(|s| s.chars().count() == 1) {
        let joined: String = segments.concat();
        out.push(word(&joined, true));
    } else {
        // Digits joined to letters by punctuation are swaps too (`7-b0n3`).
        let force = chunk.chars().any(char::is_alphabetic);
        for s in segments {
            let s = s.trim_matches(|c| matches!(c, '!' | '|'));
            if !s.is_empty() {
                out.push(word(s, force));
            }
        }
    }
}

/// A word with its swaps undone when it holds a letter (or `force`, for
/// letters joined from punctuation); digits-only words stay as they are.
fn word(s: &str, force: bool) -> Token {
    let has_letter = s.chars().any(char::is_alphabetic);
    let text = if has_letter || force {
        s.chars().map(|c| leet(c).unwrap_or(c)).collect()
    } else {
        s.to_string()
    };
    Token {
        text,
        spelled: false,
    }
}

/// Joins runs of three or more one-character words (`t o m`) into one word,
/// undoing swaps in it when the run holds a letter.
fn join_spelled(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut run: Vec<Token> = Vec::new();
    let flush = |run: &mut Vec<Token>, out: &mut Vec<Token>| {
        let has_letter = run.iter().any(|t| t.text.chars().any(char::is_alphabetic));
        if run.len() >= 3 && has_letter {
            let joined: String = run
                .iter()
                .flat_map(|t| t.text.chars())
                .map(|c| leet(c).unwrap_or(c))
                .collect();
            out.push(Token {
                text: joined,
                spelled: true,
            });
            run.clear();
        } else {
            out.append(run);
        }
    };
    for t in tokens {
        if t.text.chars().count() == 1 {
            run.push(t);
        } else {
            flush(&mut run, &mut out);
            out.push(t);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).text()
    }

    #[test]
    fn evasions_are_undone() {
        assert_eq!(n("Tom Hanks"), "tom hanks");
        assert_eq!(n("Ｔｏｍ Ｈａｎｋｓ"), "tom hanks");
        assert_eq!(n("𝐓𝐨𝐦 𝓗𝓪𝓷𝓴𝓼"), "tom hanks");
        assert_eq!(n("Тоm Нanks"), "tom hanks"); // Cyrillic Т, о, Н
        assert_eq!(n("ΤΟΜ ΗΑΝΚΣ").split(' ').next(), Some("tom"));
        assert_eq!(n("To\u{200B}m Ha\u{00AD}nks"), "tom hanks");
        assert_eq!(n("t o m  h a n k s"), "tomhanks");
        assert_eq!(n("t.o.m h-a-n-k-s"), "tom hanks");
        assert_eq!(n("t0m h4nk$"), "tom hanks");
        assert_eq!(n("Tóm Hänks!"), "tom hanks");
        assert_eq!(n("ⓣⓞⓜ"), "tom");
        assert_eq!(n("🇹🇴🇲"), "tom");
        assert_eq!(n("STRAßE"), "strasse");
    }

    #[test]
    fn plain_text_keeps_its_words() {
        assert_eq!(
            n("A cat, 3 dogs and 2024 birds."),
            "a cat 3 dogs and 2024 birds"
        );
        assert_eq!(n("rock-n-roll at 5 pm"), "rock n roll at 5 pm");
        assert_eq!(n("I saw a fox"), "i saw a fox");
        assert!(normalize("t o m").tokens[0].spelled);
    }
}
