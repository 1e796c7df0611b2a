//! Prompt cleaning as diffusers' Wan pipelines apply it before tokenizing:
//! `prompt_clean(text) = whitespace_clean(basic_clean(text))`, where
//! `basic_clean` is `ftfy.fix_text` (ftfy 6.3.1, default configuration), then
//! Python's `html.unescape` twice, then `strip()`, and `whitespace_clean`
//! collapses every run of whitespace into one space.
//!
//! [`fix_text`] is a port of ftfy's default pipeline, fix by fix:
//! HTML entities (ftfy's conservative decoder, off for a line holding `<`),
//! mojibake (text encoded as UTF-8 and decoded as Latin-1, Windows-125x,
//! ISO-8859-2, MacRoman or CP437, detected by ftfy's "badness" heuristic,
//! including the byte-0xA0-became-space and lossy-0x1A variants, CESU-8, and
//! mojibake embedded in otherwise good text), C1 control characters, Latin
//! ligatures, full/half-width forms, curly quotes, line breaks, terminal
//! escapes, control characters and NFC. [`html_unescape`] is Python's
//! `html.unescape` (HTML5 named and numeric references, including the
//! legacy entities without a semicolon).
//!
//! Known differences with the Python reference, all outside what prompts hold:
//! NFC comes from the `tokenizers` crate (Unicode 9 tables; Python 3.11 has
//! Unicode 14), so characters added to Unicode after 9.0 are not composed or
//! reordered; `\d` in ftfy's terminal-escape pattern is taken as ASCII digits;
//! lone UTF-16 surrogates cannot occur in a Rust string (ftfy turns them into
//! U+FFFD, which is what they become here as soon as they are decoded).

use std::collections::HashMap;
use std::sync::OnceLock;

/// `prompt_clean` of diffusers' Wan pipelines: ftfy's `fix_text`, `html.unescape`
/// twice, strip, and every whitespace run collapsed into one space.
pub fn prompt_clean(text: &str) -> String {
    let fixed = fix_text(text);
    let unescaped = html_unescape(&html_unescape(&fixed));
    // basic_clean: str.strip(); whitespace_clean: regex `\s+` -> " ", then strip().
    let stripped = unescaped.trim_matches(py_isspace);
    let mut out = String::with_capacity(stripped.len());
    let mut in_space = false;
    for c in stripped.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out.trim_matches(py_isspace).to_string()
}

/// Python's `str.isspace` (Unicode White_Space plus the separators U+001C..U+001F).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

// ---------------------------------------------------------------------------
// ftfy.fix_text
// ---------------------------------------------------------------------------

/// ftfy's segments are lines, cut every million characters at most.
const MAX_DECODE_LENGTH: usize = 1_000_000;

/// `ftfy.fix_text(text)` with ftfy's default configuration.
pub fn fix_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut unescape = true;
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while pos < chars.len() {
        let mut end = chars[pos..]
            .iter()
            .position(|&c| c == '\n')
            .map(|p| pos + p + 1)
            .unwrap_or(chars.len());
        if end - pos > MAX_DECODE_LENGTH {
            end = pos + MAX_DECODE_LENGTH;
        }
        let segment: String = chars[pos..end].iter().collect();
        // "auto" HTML unescaping turns off for good at the first segment holding '<'.
        if unescape && segment.contains('<') {
            unescape = false;
        }
        out.push_str(&fix_segment(segment, unescape));
        pos = end;
    }
    out
}

/// `ftfy.fix_and_explain` on one segment: every fix in turn until nothing changes.
fn fix_segment(mut text: String, unescape: bool) -> String {
    loop {
        let orig = text.clone();
        if unescape {
            text = ftfy_unescape_html(&text);
        }
        text = fix_encoding(&text);
        text = fix_c1_controls(&text);
        text = fix_latin_ligatures(&text);
        text = fix_character_width(&text);
        text = uncurl_quotes(&text);
        text = fix_line_breaks(&text);
        text = remove_terminal_escapes(&text);
        text = remove_control_chars(&text);
        text = nfc(&text);
        if text == orig {
            return text;
        }
    }
}

fn nfc(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut n = tokenizers::NormalizedString::from(text);
    n.nfc();
    n.get().to_string()
}

fn fix_c1_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c as u32 {
            b @ 0x80..=0x9f => Charmap::Windows1252.decode_byte(b as u8),
            _ => c,
        })
        .collect()
}

fn fix_latin_ligatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let rep = match c {
            '\u{132}' => "IJ",
            '\u{133}' => "ij",
            '\u{149}' => "\u{2bc}n",
            '\u{1f1}' => "DZ",
            '\u{1f2}' => "Dz",
            '\u{1f3}' => "dz",
            '\u{1c4}' => "D\u{17d}",
            '\u{1c5}' => "D\u{17e}",
            '\u{1c6}' => "d\u{17e}",
            '\u{1c7}' => "LJ",
            '\u{1c8}' => "Lj",
            '\u{1c9}' => "lj",
            '\u{1ca}' => "NJ",
            '\u{1cb}' => "Nj",
            '\u{1cc}' => "nj",
            '\u{fb00}' => "ff",
            '\u{fb01}' => "fi",
            '\u{fb02}' => "fl",
            '\u{fb03}' => "ffi",
            '\u{fb04}' => "ffl",
            '\u{fb05}' => "\u{17f}t",
            '\u{fb06}' => "st",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(rep);
    }
    out
}

fn width_table() -> &'static Vec<&'static str> {
    static T: OnceLock<Vec<&'static str>> = OnceLock::new();
    T.get_or_init(|| WIDTH_FF01.split('\u{2}').collect())
}

fn fix_character_width(text: &str) -> String {
    let table = width_table();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c as u32 {
            0x3000 => out.push(' '),
            cp @ 0xff01..=0xffef => match table.get((cp - 0xff01) as usize) {
                Some(s) => out.push_str(s),
                None => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out
}

fn uncurl_quotes(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2bc}' | '\u{2018}'..='\u{201b}' => '\'',
            '\u{201c}'..='\u{201f}' => '"',
            _ => c,
        })
        .collect()
}

fn fix_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}', '\u{85}'], "\n")
}

/// Removes `ESC [ (digits | ;)* letter` sequences.
fn remove_terminal_escapes(text: &str) -> String {
    if !text.contains('\u{1b}') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\u{1b}' && chars.get(i + 1) == Some(&'[') {
            let mut j = i + 2;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == ';') {
                j += 1;
            }
            if j < chars.len() && chars[j].is_ascii_alphabetic() {
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn remove_control_chars(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            !matches!(c as u32,
                0x00..=0x08 | 0x0b | 0x0e..=0x1f | 0x7f | 0x206a..=0x206f | 0xfeff | 0xfff9..=0xfffc)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// HTML entities
// ---------------------------------------------------------------------------

fn html5() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| {
        HTML5
            .split('\u{2}')
            .filter_map(|e| e.split_once('\u{1}'))
            .collect()
    })
}

/// ftfy's entity table: HTML5 names with a semicolon (`&eacute;`), plus the
/// all-caps spelling of lowercase names when that spelling means nothing in HTML5.
fn ftfy_entities() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map = HashMap::new();
        for (&name, &value) in html5() {
            if !name.ends_with(';') {
                continue;
            }
            map.insert(format!("&{name}"), value.to_string());
            if name == name.to_lowercase() {
                let upper = format!("&{}", name.to_uppercase());
                if html_unescape(&upper) == upper {
                    map.insert(upper, value.to_uppercase());
                }
            }
        }
        map
    })
}

/// ftfy's `unescape_html`: only `&name;` / `&#num;` with at most 24 ASCII letters
/// or digits and a closing semicolon are decoded.
fn ftfy_unescape_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '&' {
            let start = if chars.get(i + 1) == Some(&'#') {
                i + 2
            } else {
                i + 1
            };
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_alphanumeric() {
                j += 1;
            }
            let run = j - start;
            if (1..=24).contains(&run) && chars.get(j) == Some(&';') {
                let entity: String = chars[i..=j].iter().collect();
                if let Some(v) = ftfy_entities().get(&entity) {
                    out.push_str(v);
                } else if start == i + 2 {
                    let decoded = html_unescape(&entity);
                    // Only a complete decode counts (the semicolon must be consumed).
                    out.push_str(if decoded.contains(';') {
                        &entity
                    } else {
                        &decoded
                    });
                } else {
                    out.push_str(&entity);
                }
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Python's `html.unescape`: named references (HTML5, longest-prefix matching of
/// the legacy names without a semicolon) and numeric ones with HTML5's fix-ups.
pub fn html_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < n {
        if chars[i] != '&' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let j = i + 1;
        // &#digits;?  |  &#[xX]hex;?
        if chars.get(j) == Some(&'#') {
            let (radix, digits_start) = match chars.get(j + 1) {
                Some(&c) if c.is_ascii_digit() => (10, j + 1),
                Some('x') | Some('X') => (16, j + 2),
                _ => (0, 0),
            };
            if radix != 0 {
                let mut k = digits_start;
                while k < n && chars[k].is_digit(radix) {
                    k += 1;
                }
                if k > digits_start {
                    let digits: String = chars[digits_start..k].iter().collect();
                    let end = if chars.get(k) == Some(&';') { k + 1 } else { k };
                    out.push_str(&numeric_charref(&digits, radix));
                    i = end;
                    continue;
                }
            }
            out.push('&');
            i += 1;
            continue;
        }
        // Named: 1..=32 characters other than \t \n \x0c space < & # ;, then an optional ';'.
        let mut k = j;
        while k < n
            && k - j < 32
            && !matches!(
                chars[k],
                '\t' | '\n' | '\u{c}' | ' ' | '<' | '&' | '#' | ';'
            )
        {
            k += 1;
        }
        if k == j {
            out.push('&');
            i += 1;
            continue;
        }
        let end = if chars.get(k) == Some(&';') { k + 1 } else { k };
        let s: Vec<char> = chars[j..end].to_vec();
        out.push_str(&named_charref(&s));
        i = end;
    }
    out
}

fn numeric_charref(digits: &str, radix: u32) -> String {
    // Saturate: anything past U+10FFFF becomes U+FFFD anyway.
    let num = u32::from_str_radix(digits, radix).unwrap_or(u32::MAX);
    if let Some(c) = invalid_charref(num) {
        return c.to_string();
    }
    if (0xd800..=0xdfff).contains(&num) || num > 0x10ffff {
        return "\u{fffd}".to_string();
    }
    let invalid = matches!(num, 0x1..=0x8 | 0xb | 0xe..=0x1f | 0x7f..=0x9f | 0xfdd0..=0xfdef)
        || (num & 0xfffe) == 0xfffe;
    if invalid {
        return String::new();
    }
    char::from_u32(num).map(String::from).unwrap_or_default()
}

/// HTML5's replacements for numeric references to NUL, CR and the C1 range.
fn invalid_charref(num: u32) -> Option<char> {
    match num {
        0x00 => Some('\u{fffd}'),
        0x0d => Some('\r'),
        0x80..=0x9f => Some(Charmap::Windows1252.decode_byte(num as u8)),
        _ => None,
    }
}

fn named_charref(s: &[char]) -> String {
    let table = html5();
    let whole: String = s.iter().collect();
    if let Some(v) = table.get(whole.as_str()) {
        return v.to_string();
    }
    for x in (2..s.len()).rev() {
        let prefix: String = s[..x].iter().collect();
        if let Some(v) = table.get(prefix.as_str()) {
            let rest: String = s[x..].iter().collect();
            return format!("{v}{rest}");
        }
    }
    format!("&{whole}")
}

// ---------------------------------------------------------------------------
// Mojibake: single-byte code pages
// ---------------------------------------------------------------------------

/// The single-byte encodings ftfy tries, in its order. The Windows ones are
/// ftfy's "sloppy" variants: unassigned bytes decode to the same code point,
/// and byte 0x1A stands for U+FFFD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charmap {
    Latin1,
    Windows1252,
    Windows1251,
    Windows1250,
    Windows1253,
    Windows1254,
    Windows1257,
    Iso8859_2,
    MacRoman,
    Cp437,
}

const CHARMAPS: [Charmap; 10] = [
    Charmap::Latin1,
    Charmap::Windows1252,
    Charmap::Windows1251,
    Charmap::Windows1250,
    Charmap::Windows1253,
    Charmap::Windows1254,
    Charmap::Windows1257,
    Charmap::Iso8859_2,
    Charmap::MacRoman,
    Charmap::Cp437,
];

struct CodePage {
    high: Vec<char>,
    reverse: HashMap<char, u8>,
}

impl Charmap {
    fn index(self) -> usize {
        CHARMAPS.iter().position(|&c| c == self).unwrap_or(0)
    }

    fn source(self) -> Option<&'static str> {
        match self {
            Charmap::Latin1 => None,
            Charmap::Windows1252 => Some(CM_WINDOWS_1252),
            Charmap::Windows1251 => Some(CM_WINDOWS_1251),
            Charmap::Windows1250 => Some(CM_WINDOWS_1250),
            Charmap::Windows1253 => Some(CM_WINDOWS_1253),
            Charmap::Windows1254 => Some(CM_WINDOWS_1254),
            Charmap::Windows1257 => Some(CM_WINDOWS_1257),
            Charmap::Iso8859_2 => Some(CM_ISO_8859_2),
            Charmap::MacRoman => Some(CM_MACROMAN),
            Charmap::Cp437 => Some(CM_CP437),
        }
    }

    fn sloppy(self) -> bool {
        matches!(
            self,
            Charmap::Windows1252
                | Charmap::Windows1251
                | Charmap::Windows1250
                | Charmap::Windows1253
                | Charmap::Windows1254
                | Charmap::Windows1257
        )
    }

    fn page(self) -> &'static CodePage {
        static PAGES: OnceLock<Vec<CodePage>> = OnceLock::new();
        let pages = PAGES.get_or_init(|| {
            CHARMAPS
                .iter()
                .map(|cm| {
                    let high: Vec<char> = match cm.source() {
                        Some(s) => s.chars().collect(),
                        None => (0x80u32..0x100).filter_map(char::from_u32).collect(),
                    };
                    let mut reverse = HashMap::new();
                    for (i, &c) in high.iter().enumerate() {
                        reverse.entry(c).or_insert(0x80 + i as u8);
                    }
                    CodePage { high, reverse }
                })
                .collect()
        });
        &pages[self.index()]
    }

    fn decode_byte(self, b: u8) -> char {
        if b < 0x80 {
            if b == 0x1a && self.sloppy() {
                '\u{fffd}'
            } else {
                b as char
            }
        } else {
            self.page()
                .high
                .get((b - 0x80) as usize)
                .copied()
                .unwrap_or('\u{fffd}')
        }
    }

    fn encode_char(self, c: char) -> Option<u8> {
        if self.sloppy() {
            if c == '\u{fffd}' {
                return Some(0x1a);
            }
            if c == '\u{1a}' {
                return None;
            }
        }
        if (c as u32) < 0x80 {
            return Some(c as u8);
        }
        self.page().reverse.get(&c).copied()
    }

    /// Every character is one this code page can produce (ftfy's `possible_encoding`).
    fn encode(self, text: &[char]) -> Option<Vec<u8>> {
        text.iter().map(|&c| self.encode_char(c)).collect()
    }
}

/// Strict (non-sloppy) Windows-1252, as Python's codec: five bytes are unassigned.
fn decode_strict_cp1252(bytes: &[u8]) -> Option<String> {
    bytes
        .iter()
        .map(|&b| match b {
            0x81 | 0x8d | 0x8f | 0x90 | 0x9d => None,
            _ => Some(Charmap::Windows1252.decode_byte(b)),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Mojibake: the encoding fixer
// ---------------------------------------------------------------------------

fn fix_encoding(text: &str) -> String {
    let mut text = text.to_string();
    loop {
        let next = fix_encoding_step(&text);
        if next == text {
            return text;
        }
        text = next;
    }
}

fn fix_encoding_step(text: &str) -> String {
    if text.is_empty() || text.is_ascii() {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    if !is_bad(&chars) {
        return text.to_string();
    }
    let mut possible = Vec::new();
    for cm in CHARMAPS {
        let Some(mut bytes) = cm.encode(&chars) else {
            continue;
        };
        possible.push(cm);
        if cm != Charmap::MacRoman && altered_utf8_search(&bytes) {
            bytes = restore_byte_a0(&bytes);
        }
        if cm.sloppy() {
            bytes = replace_lossy_sequences(&bytes);
        }
        let decoded = if bytes.contains(&0xed) || bytes.contains(&0xc0) {
            decode_utf8_variants(&bytes)
        } else {
            String::from_utf8(bytes).ok()
        };
        if let Some(fixed) = decoded {
            return fixed;
        }
    }
    if utf8_detector_matches(&chars).next().is_some() {
        let fixed = decode_inconsistent_utf8(&chars);
        if fixed != text {
            return fixed;
        }
    }
    // ftfy checks for "windows-1252" among the possible encodings, a name its list
    // never holds (it has "sloppy-windows-1252"), so Latin-1 text always takes this turn.
    if possible.contains(&Charmap::Latin1) {
        if let Some(bytes) = Charmap::Latin1.encode(&chars) {
            if let Some(fixed) = decode_strict_cp1252(&bytes) {
                if fixed != text {
                    return fixed;
                }
            }
        }
    }
    if chars.iter().any(|&c| ('\u{80}'..='\u{9f}').contains(&c)) {
        return fix_c1_controls(text);
    }
    text.to_string()
}

/// The UTF-8 sequences whose 0xA0 byte some program turned into a space.
fn altered_utf8_at(b: &[u8], i: usize) -> usize {
    let at = |k: usize| b.get(i + k).copied();
    let cont_no_a0_85 = |x: Option<u8>| matches!(x, Some(0x80..=0x84 | 0x86..=0x9f | 0xa1..=0xbf));
    let cont = |x: Option<u8>| matches!(x, Some(0x80..=0xbf));
    let sp = |x: Option<u8>| x == Some(b' ');
    let b0 = at(0);
    if matches!(b0, Some(0xc2 | 0xc3 | 0xc5 | 0xce | 0xd0 | 0xd9)) && sp(at(1)) {
        return 2;
    }
    if matches!(b0, Some(0xe2 | 0xe3)) && sp(at(1)) && cont_no_a0_85(at(2)) {
        return 3;
    }
    if matches!(b0, Some(0xe0..=0xe3)) && cont_no_a0_85(at(1)) && sp(at(2)) {
        return 3;
    }
    if b0 == Some(0xf0) {
        if sp(at(1)) && cont(at(2)) && cont(at(3)) {
            return 4;
        }
        if cont(at(1)) && sp(at(2)) && cont(at(3)) {
            return 4;
        }
        if cont(at(1)) && cont(at(2)) && sp(at(3)) {
            return 4;
        }
    }
    0
}

fn altered_utf8_search(b: &[u8]) -> bool {
    (0..b.len()).any(|i| altered_utf8_at(b, i) > 0)
}

/// ftfy's `restore_byte_a0`: puts back the 0xA0 bytes that became spaces.
fn restore_byte_a0(b: &[u8]) -> Vec<u8> {
    // "Ã " as a word is "à" followed by a space (except before a few Portuguese words).
    let mut first = Vec::with_capacity(b.len() + 4);
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0xc3 && b.get(i + 1) == Some(&b' ') {
            let rest = &b[i + 2..];
            let exception = [&b" "[..], b"quele", b"quela", b"quilo", b"s "]
                .iter()
                .any(|p| rest.starts_with(p));
            if !exception {
                first.extend_from_slice(&[0xc3, 0xa0, b' ']);
                i += 2;
                continue;
            }
        }
        first.push(b[i]);
        i += 1;
    }
    let mut out = Vec::with_capacity(first.len());
    let mut i = 0;
    while i < first.len() {
        let len = altered_utf8_at(&first, i);
        if len > 0 {
            out.extend(
                first[i..i + len]
                    .iter()
                    .map(|&x| if x == b' ' { 0xa0 } else { x }),
            );
            i += len;
        } else {
            out.push(first[i]);
            i += 1;
        }
    }
    out
}

/// ftfy's `replace_lossy_sequences`: UTF-8 sequences with a lost byte (0x1A, or
/// once a '?') become U+FFFD.
fn replace_lossy_sequences(b: &[u8]) -> Vec<u8> {
    let lossy_len = |i: usize| -> usize {
        let at = |k: usize| b.get(i + k).copied();
        let sub = |x: Option<u8>| x == Some(0x1a);
        let sub_q = |x: Option<u8>| matches!(x, Some(0x1a | b'?'));
        let sub_cont = |x: Option<u8>| matches!(x, Some(0x1a | 0x80..=0xbf));
        let sub_q_cont = |x: Option<u8>| matches!(x, Some(0x1a | b'?' | 0x80..=0xbf));
        let b0 = at(0);
        if matches!(b0, Some(0xc2..=0xdf)) && sub(at(1)) {
            return 2;
        }
        if matches!(b0, Some(0xc2..=0xc3)) && at(1) == Some(b'?') {
            return 2;
        }
        if b0 == Some(0xed)
            && matches!(at(1), Some(0xa0..=0xaf))
            && at(3) == Some(0xed)
            && matches!(at(4), Some(0xb0..=0xbf))
        {
            if sub_q(at(2)) && sub_q_cont(at(5)) {
                return 6;
            }
            if sub_q_cont(at(2)) && sub_q(at(5)) {
                return 6;
            }
        }
        if matches!(b0, Some(0xe0..=0xef)) {
            if sub_q(at(1)) && sub_cont(at(2)) {
                return 3;
            }
            if sub_cont(at(1)) && sub_q(at(2)) {
                return 3;
            }
        }
        if matches!(b0, Some(0xf0..=0xf4)) {
            if sub_q(at(1)) && sub_cont(at(2)) && sub_cont(at(3)) {
                return 4;
            }
            if sub_cont(at(1)) && sub_q(at(2)) && sub_cont(at(3)) {
                return 4;
            }
            if sub_cont(at(1)) && sub_cont(at(2)) && sub_q(at(3)) {
                return 4;
            }
        }
        if sub(b0) {
            return 1;
        }
        0
    };
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let len = lossy_len(i);
        if len > 0 {
            out.extend_from_slice("\u{fffd}".as_bytes());
            i += len;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// ftfy's "utf-8-variants" codec (strict): UTF-8 plus CESU-8 surrogate pairs and
/// Java's two-byte NUL (`C0 80`). `None` where Python raises `UnicodeDecodeError`.
fn decode_utf8_variants(b: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(b.len());
    let mut pos = 0;
    while pos < b.len() {
        let rest = &b[pos..];
        let special = (0..rest.len()).find(|&p| {
            (rest[p] == 0xc0 && seq_matches(rest, p + 1, &[(0x80, 0x80)]))
                || (rest[p] == 0xed && seq_matches(rest, p + 1, &[(0xa0, 0xbf), (0x80, 0xbf)]))
        });
        match special {
            None => {
                out.push_str(std::str::from_utf8(rest).ok()?);
                pos = b.len();
            }
            Some(cut) if cut > 0 => {
                out.push_str(std::str::from_utf8(&rest[..cut]).ok()?);
                pos += cut;
            }
            Some(_) if rest[0] == 0xc0 => {
                // Java's NUL; a lone trailing C0 is an error.
                if rest.len() < 2 {
                    return None;
                }
                out.push('\0');
                pos += 2;
            }
            Some(_) => {
                // A surrogate: only a whole CESU-8 pair decodes.
                let pair = [
                    (0xa0, 0xaf),
                    (0x80, 0xbf),
                    (0xed, 0xed),
                    (0xb0, 0xbf),
                    (0x80, 0xbf),
                ];
                if rest.len() < 6 || !seq_matches(rest, 1, &pair) {
                    return None;
                }
                let cp = ((rest[1] as u32 & 0x0f) << 16)
                    + ((rest[2] as u32 & 0x3f) << 10)
                    + ((rest[4] as u32 & 0x0f) << 6)
                    + (rest[5] as u32 & 0x3f)
                    + 0x10000;
                out.push(char::from_u32(cp)?);
                pos += 6;
            }
        }
    }
    Some(out)
}

/// Whether `b[p..]` matches the byte classes `([lo-hi]|$)` in turn, where `$` is
/// Python's: the end of the bytes, or just before a final newline.
fn seq_matches(b: &[u8], mut p: usize, classes: &[(u8, u8)]) -> bool {
    let at_end = |p: usize| p == b.len() || (p + 1 == b.len() && b[p] == b'\n');
    for &(lo, hi) in classes {
        if p < b.len() && (lo..=hi).contains(&b[p]) {
            p += 1;
        } else if !at_end(p) {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Mojibake: character classes and ftfy's "badness" heuristic
// ---------------------------------------------------------------------------

const COMMON: u32 = 1 << 0;
const C1: u32 = 1 << 1;
const BAD: u32 = 1 << 2;
const LAW: u32 = 1 << 3;
const CURRENCY: u32 = 1 << 4;
const START: u32 = 1 << 5;
const END: u32 = 1 << 6;
const NUMERIC: u32 = 1 << 7;
const KAOMOJI: u32 = 1 << 8;
const UPPER_ACC: u32 = 1 << 9;
const LOWER_ACC: u32 = 1 << 10;
const UPPER_COMMON: u32 = 1 << 11;
const LOWER_COMMON: u32 = 1 << 12;
const BOX: u32 = 1 << 13;
const FIRST_OF_2: u32 = 1 << 14;
const FIRST_OF_3: u32 = 1 << 15;
const FIRST_OF_4: u32 = 1 << 16;
const CONT: u32 = 1 << 17;
const CONT_STRICT: u32 = 1 << 18;

fn class_flags() -> &'static HashMap<char, u32> {
    static T: OnceLock<HashMap<char, u32>> = OnceLock::new();
    T.get_or_init(|| {
        let sets: [(&str, u32); 19] = [
            (CAT_COMMON, COMMON),
            (CAT_C1, C1),
            (CAT_BAD, BAD),
            (CAT_LAW, LAW),
            (CAT_CURRENCY, CURRENCY),
            (CAT_START_PUNCTUATION, START),
            (CAT_END_PUNCTUATION, END),
            (CAT_NUMERIC, NUMERIC),
            (CAT_KAOMOJI, KAOMOJI),
            (CAT_UPPER_ACCENTED, UPPER_ACC),
            (CAT_LOWER_ACCENTED, LOWER_ACC),
            (CAT_UPPER_COMMON, UPPER_COMMON),
            (CAT_LOWER_COMMON, LOWER_COMMON),
            (CAT_BOX, BOX),
            (UTF8_FIRST_OF_2, FIRST_OF_2),
            (UTF8_FIRST_OF_3, FIRST_OF_3),
            (UTF8_FIRST_OF_4, FIRST_OF_4),
            (UTF8_CONTINUATION, CONT),
            (UTF8_CONTINUATION_STRICT, CONT_STRICT),
        ];
        let mut map: HashMap<char, u32> = HashMap::new();
        for (ranges, flag) in sets {
            let ends: Vec<char> = ranges.chars().collect();
            for pair in ends.chunks(2) {
                if let [lo, hi] = *pair {
                    for cp in lo as u32..=hi as u32 {
                        if let Some(c) = char::from_u32(cp) {
                            *map.entry(c).or_insert(0) |= flag;
                        }
                    }
                }
            }
        }
        map
    })
}

fn flags_of(c: char) -> u32 {
    class_flags().get(&c).copied().unwrap_or(0)
}

/// ftfy's `is_bad`: does any of its unlikely character sequences occur?
fn is_bad(t: &[char]) -> bool {
    let fl: Vec<u32> = t.iter().map(|&c| flags_of(c)).collect();
    (0..t.len()).any(|i| bad_at(t, &fl, i))
}

fn bad_at(t: &[char], fl: &[u32], i: usize) -> bool {
    let c = |k: usize| t.get(i + k).copied();
    let has = |k: usize, mask: u32| fl.get(i + k).is_some_and(|f| f & mask != 0);
    let is = |k: usize, set: &str| c(k).is_some_and(|x| set.contains(x));
    let lower = |k: usize| c(k).is_some_and(|x| x.is_ascii_lowercase());
    let alpha = |k: usize| c(k).is_some_and(|x| x.is_ascii_alphabetic());
    let space = |k: usize| c(k).is_some_and(py_isspace);
    let word = |k: usize| c(k).is_some_and(|x| x.is_alphanumeric() || x == '_');

    let accented_or_symbol = LOWER_ACC | UPPER_ACC | BOX | START | END | CURRENCY | NUMERIC | LAW;
    has(0, C1)
        || (has(0, BAD | accented_or_symbol) && has(1, BAD))
        || (alpha(0) && has(1, LOWER_COMMON | UPPER_COMMON) && has(2, BAD))
        || (has(0, BAD) && has(1, accented_or_symbol))
        || (has(0, LOWER_ACC | LOWER_COMMON | BOX | END | CURRENCY | NUMERIC) && has(1, UPPER_ACC))
        || (has(0, BOX | END | CURRENCY | NUMERIC) && has(1, LOWER_ACC))
        || (has(0, LOWER_ACC | BOX | END) && has(1, CURRENCY))
        || (space(0) && has(1, UPPER_ACC) && has(2, CURRENCY))
        || (has(0, UPPER_ACC | BOX) && has(1, NUMERIC | LAW))
        || (has(0, LOWER_ACC | UPPER_ACC | BOX | CURRENCY | END) && has(1, START) && has(2, NUMERIC))
        || (has(0, LOWER_ACC | UPPER_ACC | CURRENCY | NUMERIC | BOX | LAW) && has(1, END) && has(2, START))
        || (has(0, CURRENCY | NUMERIC | BOX) && has(1, START))
        || (lower(0) && has(1, UPPER_ACC) && has(2, START | CURRENCY))
        || (has(0, BOX) && has(1, KAOMOJI))
        || (has(0, LOWER_ACC | UPPER_ACC | CURRENCY | NUMERIC | START | END | LAW) && has(1, BOX))
        || (has(0, BOX) && has(1, END))
        || (has(0, LOWER_ACC | UPPER_ACC) && has(1, START | END) && word(2))
        || (is(0, "\u{152}\u{153}") && c(1).is_some_and(|x| !x.is_ascii_alphabetic()))
        || (has(0, UPPER_ACC) && c(1) == Some('\u{b0}'))
        || (is(0, "\u{c2}\u{c3}\u{ce}\u{d0}")
            && (is(
                1,
                "\u{20ac}\u{153}\u{160}\u{161}\u{a2}\u{a3}\u{178}\u{17e}\u{a0}\u{ad}\u{ae}\u{a9}\u{b0}\u{b7}\u{bb}\u{2013}\u{2014}\u{b4}",
            ) || has(1, START | END)))
        || (c(0) == Some('\u{d7}') && is(1, "\u{b2}\u{b3}"))
        || arabic_at(&c, &has)
        || (c(0) == Some('\u{e0}') && is(1, "\u{b2}\u{b5}\u{b9}\u{bc}\u{bd}\u{be}"))
        || (c(0) == Some('\u{221a}')
            && is(1, "\u{b1}\u{2202}\u{2020}\u{2260}\u{ae}\u{2122}\u{b4}\u{2264}\u{2265}\u{a5}\u{b5}\u{f8}"))
        || (c(0) == Some('\u{2248}') && is(1, "\u{b0}\u{a2}"))
        || (c(0) == Some('\u{201a}')
            && c(1) == Some('\u{c4}')
            && is(2, "\u{ec}\u{ee}\u{ef}\u{f2}\u{f4}\u{fa}\u{f9}\u{fb}\u{2020}\u{b0}\u{a2}\u{3c0}"))
        || (c(0) == Some('\u{201a}') && is(1, "\u{e2}\u{f3}") && is(2, "\u{e0}\u{e4}\u{b0}\u{ea}"))
        || (c(0) == Some('\u{432}') && c(1) == Some('\u{402}'))
        || (is(0, "\u{412}\u{413}\u{420}\u{421}")
            && (has(1, C1 | BAD | START | END | CURRENCY) || is(1, "\u{b0}\u{b5}"))
            && is(2, "\u{412}\u{413}\u{420}\u{421}"))
        || (c(0) == Some('\u{413}')
            && c(1) == Some('\u{45e}')
            && c(2) == Some('\u{412}')
            && c(3) == Some('\u{402}')
            && c(4) == Some('\u{412}')
            && c(5).is_some_and(|x| x != '\n')
            && c(6).is_some_and(|x| x.is_ascii_alphabetic() || x == ' '))
        || (c(0) == Some('\u{c3}') && is(1, "\u{a0}\u{a1}"))
        || (lower(0)
            && ((space(1) && is(2, "\u{c3}\u{c2}") && c(3) == Some(' '))
                || (is(1, "\u{c3}\u{c2}") && c(2) == Some(' '))))
        || (i == 0 && is(0, "\u{c3}\u{c2}") && c(1) == Some(' '))
        || ((lower(0) || is(0, ".,?!") || has(0, END))
            && c(1) == Some('\u{c2}')
            && (c(2) == Some(' ') || has(2, START | END)))
        || (c(0) == Some('\u{3b2}')
            && c(1) == Some('\u{20ac}')
            && is(2, "\u{2122}\u{a0}\u{386}\u{ad}\u{ae}\u{b0}"))
        || (is(0, "\u{392}\u{393}\u{39e}\u{39f}")
            && (has(1, C1 | BAD | START | END | CURRENCY) || c(1) == Some('\u{b0}'))
            && is(2, "\u{392}\u{393}\u{39e}\u{39f}"))
        || (c(0) == Some('\u{101}') && c(1) == Some('\u{20ac}'))
}

/// Windows-1252 mojibake of Arabic: `[ØÙ] x [ØÙ] x` with x a "common"-ish character.
fn arabic_at(c: &dyn Fn(usize) -> Option<char>, has: &dyn Fn(usize, u32) -> bool) -> bool {
    let lead = |k: usize| c(k).is_some_and(|x| x == '\u{d8}' || x == '\u{d9}');
    let follow = |k: usize| {
        has(k, COMMON | CURRENCY | BAD | NUMERIC | START)
            || c(k).is_some_and(|x| "\u{178}\u{160}\u{ae}\u{b0}\u{b5}\u{bb}".contains(x))
    };
    lead(0) && follow(1) && lead(2) && follow(3)
}

/// Matches of ftfy's `UTF8_DETECTOR_RE` as `(start, len)`, left to right.
fn utf8_detector_matches(t: &[char]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let fl: Vec<u32> = t.iter().map(|&c| flags_of(c)).collect();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < t.len() {
            let behind_ok = i == 0 || fl[i - 1] & CONT_STRICT == 0;
            if behind_ok {
                let len = utf8_run_len(&fl, i);
                if len > 0 {
                    let start = i;
                    i += len;
                    return Some((start, len));
                }
            }
            i += 1;
        }
        None
    })
}

/// `(first_of_2 cont | first_of_3 cont{2} | first_of_4 cont{3})+` at `i`.
fn utf8_run_len(fl: &[u32], i: usize) -> usize {
    let cont =
        |k: usize, count: usize| (k..k + count).all(|p| fl.get(p).is_some_and(|f| f & CONT != 0));
    let mut p = i;
    while let Some(&f) = fl.get(p) {
        let step = if f & FIRST_OF_2 != 0 && cont(p + 1, 1) {
            2
        } else if f & FIRST_OF_3 != 0 && cont(p + 1, 2) {
            3
        } else if f & FIRST_OF_4 != 0 && cont(p + 1, 3) {
            4
        } else {
            0
        };
        if step == 0 {
            break;
        }
        p += step;
    }
    p - i
}

/// ftfy's `decode_inconsistent_utf8`: fixes mojibake runs embedded in good text.
fn decode_inconsistent_utf8(t: &[char]) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, len) in utf8_detector_matches(t).collect::<Vec<_>>() {
        out.extend(&t[last..start]);
        let sub = &t[start..start + len];
        let substr: String = sub.iter().collect();
        if len < t.len() && is_bad(sub) {
            out.push_str(&fix_encoding(&substr));
        } else {
            out.push_str(&substr);
        }
        last = start + len;
    }
    out.extend(&t[last..]);
    out
}

// ---------------------------------------------------------------------------
// Tables, generated from ftfy 6.3.1 (`chardata`, `badness`) and Python 3.11's
// codecs and `html.entities.html5`.
// ---------------------------------------------------------------------------

// Single-byte code pages: the characters of bytes 0x80..=0xFF.
const CM_WINDOWS_1252: &str = "\u{20ac}\u{81}\u{201a}\u{192}\u{201e}\u{2026}\u{2020}\u{2021}\u{2c6}\u{2030}\u{160}\u{2039}\u{152}\u{8d}\u{17d}\u{8f}\u{90}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{2dc}\u{2122}\u{161}\u{203a}\u{153}\u{9d}\u{17e}\u{178}\u{a0}\u{a1}\u{a2}\u{a3}\u{a4}\u{a5}\u{a6}\u{a7}\u{a8}\u{a9}\u{aa}\u{ab}\u{ac}\u{ad}\u{ae}\u{af}\u{b0}\u{b1}\u{b2}\u{b3}\u{b4}\u{b5}\u{b6}\u{b7}\u{b8}\u{b9}\u{ba}\u{bb}\u{bc}\u{bd}\u{be}\u{bf}\u{c0}\u{c1}\u{c2}\u{c3}\u{c4}\u{c5}\u{c6}\u{c7}\u{c8}\u{c9}\u{ca}\u{cb}\u{cc}\u{cd}\u{ce}\u{cf}\u{d0}\u{d1}\u{d2}\u{d3}\u{d4}\u{d5}\u{d6}\u{d7}\u{d8}\u{d9}\u{da}\u{db}\u{dc}\u{dd}\u{de}\u{df}\u{e0}\u{e1}\u{e2}\u{e3}\u{e4}\u{e5}\u{e6}\u{e7}\u{e8}\u{e9}\u{ea}\u{eb}\u{ec}\u{ed}\u{ee}\u{ef}\u{f0}\u{f1}\u{f2}\u{f3}\u{f4}\u{f5}\u{f6}\u{f7}\u{f8}\u{f9}\u{fa}\u{fb}\u{fc}\u{fd}\u{fe}\u{ff}";
const CM_WINDOWS_1251: &str = "\u{402}\u{403}\u{201a}\u{453}\u{201e}\u{2026}\u{2020}\u{2021}\u{20ac}\u{2030}\u{409}\u{2039}\u{40a}\u{40c}\u{40b}\u{40f}\u{452}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{98}\u{2122}\u{459}\u{203a}\u{45a}\u{45c}\u{45b}\u{45f}\u{a0}\u{40e}\u{45e}\u{408}\u{a4}\u{490}\u{a6}\u{a7}\u{401}\u{a9}\u{404}\u{ab}\u{ac}\u{ad}\u{ae}\u{407}\u{b0}\u{b1}\u{406}\u{456}\u{491}\u{b5}\u{b6}\u{b7}\u{451}\u{2116}\u{454}\u{bb}\u{458}\u{405}\u{455}\u{457}\u{410}\u{411}\u{412}\u{413}\u{414}\u{415}\u{416}\u{417}\u{418}\u{419}\u{41a}\u{41b}\u{41c}\u{41d}\u{41e}\u{41f}\u{420}\u{421}\u{422}\u{423}\u{424}\u{425}\u{426}\u{427}\u{428}\u{429}\u{42a}\u{42b}\u{42c}\u{42d}\u{42e}\u{42f}\u{430}\u{431}\u{432}\u{433}\u{434}\u{435}\u{436}\u{437}\u{438}\u{439}\u{43a}\u{43b}\u{43c}\u{43d}\u{43e}\u{43f}\u{440}\u{441}\u{442}\u{443}\u{444}\u{445}\u{446}\u{447}\u{448}\u{449}\u{44a}\u{44b}\u{44c}\u{44d}\u{44e}\u{44f}";
const CM_WINDOWS_1250: &str = "\u{20ac}\u{81}\u{201a}\u{83}\u{201e}\u{2026}\u{2020}\u{2021}\u{88}\u{2030}\u{160}\u{2039}\u{15a}\u{164}\u{17d}\u{179}\u{90}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{98}\u{2122}\u{161}\u{203a}\u{15b}\u{165}\u{17e}\u{17a}\u{a0}\u{2c7}\u{2d8}\u{141}\u{a4}\u{104}\u{a6}\u{a7}\u{a8}\u{a9}\u{15e}\u{ab}\u{ac}\u{ad}\u{ae}\u{17b}\u{b0}\u{b1}\u{2db}\u{142}\u{b4}\u{b5}\u{b6}\u{b7}\u{b8}\u{105}\u{15f}\u{bb}\u{13d}\u{2dd}\u{13e}\u{17c}\u{154}\u{c1}\u{c2}\u{102}\u{c4}\u{139}\u{106}\u{c7}\u{10c}\u{c9}\u{118}\u{cb}\u{11a}\u{cd}\u{ce}\u{10e}\u{110}\u{143}\u{147}\u{d3}\u{d4}\u{150}\u{d6}\u{d7}\u{158}\u{16e}\u{da}\u{170}\u{dc}\u{dd}\u{162}\u{df}\u{155}\u{e1}\u{e2}\u{103}\u{e4}\u{13a}\u{107}\u{e7}\u{10d}\u{e9}\u{119}\u{eb}\u{11b}\u{ed}\u{ee}\u{10f}\u{111}\u{144}\u{148}\u{f3}\u{f4}\u{151}\u{f6}\u{f7}\u{159}\u{16f}\u{fa}\u{171}\u{fc}\u{fd}\u{163}\u{2d9}";
const CM_WINDOWS_1253: &str = "\u{20ac}\u{81}\u{201a}\u{192}\u{201e}\u{2026}\u{2020}\u{2021}\u{88}\u{2030}\u{8a}\u{2039}\u{8c}\u{8d}\u{8e}\u{8f}\u{90}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{98}\u{2122}\u{9a}\u{203a}\u{9c}\u{9d}\u{9e}\u{9f}\u{a0}\u{385}\u{386}\u{a3}\u{a4}\u{a5}\u{a6}\u{a7}\u{a8}\u{a9}\u{aa}\u{ab}\u{ac}\u{ad}\u{ae}\u{2015}\u{b0}\u{b1}\u{b2}\u{b3}\u{384}\u{b5}\u{b6}\u{b7}\u{388}\u{389}\u{38a}\u{bb}\u{38c}\u{bd}\u{38e}\u{38f}\u{390}\u{391}\u{392}\u{393}\u{394}\u{395}\u{396}\u{397}\u{398}\u{399}\u{39a}\u{39b}\u{39c}\u{39d}\u{39e}\u{39f}\u{3a0}\u{3a1}\u{d2}\u{3a3}\u{3a4}\u{3a5}\u{3a6}\u{3a7}\u{3a8}\u{3a9}\u{3aa}\u{3ab}\u{3ac}\u{3ad}\u{3ae}\u{3af}\u{3b0}\u{3b1}\u{3b2}\u{3b3}\u{3b4}\u{3b5}\u{3b6}\u{3b7}\u{3b8}\u{3b9}\u{3ba}\u{3bb}\u{3bc}\u{3bd}\u{3be}\u{3bf}\u{3c0}\u{3c1}\u{3c2}\u{3c3}\u{3c4}\u{3c5}\u{3c6}\u{3c7}\u{3c8}\u{3c9}\u{3ca}\u{3cb}\u{3cc}\u{3cd}\u{3ce}\u{ff}";
const CM_WINDOWS_1254: &str = "\u{20ac}\u{81}\u{201a}\u{192}\u{201e}\u{2026}\u{2020}\u{2021}\u{2c6}\u{2030}\u{160}\u{2039}\u{152}\u{8d}\u{8e}\u{8f}\u{90}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{2dc}\u{2122}\u{161}\u{203a}\u{153}\u{9d}\u{9e}\u{178}\u{a0}\u{a1}\u{a2}\u{a3}\u{a4}\u{a5}\u{a6}\u{a7}\u{a8}\u{a9}\u{aa}\u{ab}\u{ac}\u{ad}\u{ae}\u{af}\u{b0}\u{b1}\u{b2}\u{b3}\u{b4}\u{b5}\u{b6}\u{b7}\u{b8}\u{b9}\u{ba}\u{bb}\u{bc}\u{bd}\u{be}\u{bf}\u{c0}\u{c1}\u{c2}\u{c3}\u{c4}\u{c5}\u{c6}\u{c7}\u{c8}\u{c9}\u{ca}\u{cb}\u{cc}\u{cd}\u{ce}\u{cf}\u{11e}\u{d1}\u{d2}\u{d3}\u{d4}\u{d5}\u{d6}\u{d7}\u{d8}\u{d9}\u{da}\u{db}\u{dc}\u{130}\u{15e}\u{df}\u{e0}\u{e1}\u{e2}\u{e3}\u{e4}\u{e5}\u{e6}\u{e7}\u{e8}\u{e9}\u{ea}\u{eb}\u{ec}\u{ed}\u{ee}\u{ef}\u{11f}\u{f1}\u{f2}\u{f3}\u{f4}\u{f5}\u{f6}\u{f7}\u{f8}\u{f9}\u{fa}\u{fb}\u{fc}\u{131}\u{15f}\u{ff}";
const CM_WINDOWS_1257: &str = "\u{20ac}\u{81}\u{201a}\u{83}\u{201e}\u{2026}\u{2020}\u{2021}\u{88}\u{2030}\u{8a}\u{2039}\u{8c}\u{a8}\u{2c7}\u{b8}\u{90}\u{2018}\u{2019}\u{201c}\u{201d}\u{2022}\u{2013}\u{2014}\u{98}\u{2122}\u{9a}\u{203a}\u{9c}\u{af}\u{2db}\u{9f}\u{a0}\u{a1}\u{a2}\u{a3}\u{a4}\u{a5}\u{a6}\u{a7}\u{d8}\u{a9}\u{156}\u{ab}\u{ac}\u{ad}\u{ae}\u{c6}\u{b0}\u{b1}\u{b2}\u{b3}\u{b4}\u{b5}\u{b6}\u{b7}\u{f8}\u{b9}\u{157}\u{bb}\u{bc}\u{bd}\u{be}\u{e6}\u{104}\u{12e}\u{100}\u{106}\u{c4}\u{c5}\u{118}\u{112}\u{10c}\u{c9}\u{179}\u{116}\u{122}\u{136}\u{12a}\u{13b}\u{160}\u{143}\u{145}\u{d3}\u{14c}\u{d5}\u{d6}\u{d7}\u{172}\u{141}\u{15a}\u{16a}\u{dc}\u{17b}\u{17d}\u{df}\u{105}\u{12f}\u{101}\u{107}\u{e4}\u{e5}\u{119}\u{113}\u{10d}\u{e9}\u{17a}\u{117}\u{123}\u{137}\u{12b}\u{13c}\u{161}\u{144}\u{146}\u{f3}\u{14d}\u{f5}\u{f6}\u{f7}\u{173}\u{142}\u{15b}\u{16b}\u{fc}\u{17c}\u{17e}\u{2d9}";
const CM_ISO_8859_2: &str = "\u{80}\u{81}\u{82}\u{83}\u{84}\u{85}\u{86}\u{87}\u{88}\u{89}\u{8a}\u{8b}\u{8c}\u{8d}\u{8e}\u{8f}\u{90}\u{91}\u{92}\u{93}\u{94}\u{95}\u{96}\u{97}\u{98}\u{99}\u{9a}\u{9b}\u{9c}\u{9d}\u{9e}\u{9f}\u{a0}\u{104}\u{2d8}\u{141}\u{a4}\u{13d}\u{15a}\u{a7}\u{a8}\u{160}\u{15e}\u{164}\u{179}\u{ad}\u{17d}\u{17b}\u{b0}\u{105}\u{2db}\u{142}\u{b4}\u{13e}\u{15b}\u{2c7}\u{b8}\u{161}\u{15f}\u{165}\u{17a}\u{2dd}\u{17e}\u{17c}\u{154}\u{c1}\u{c2}\u{102}\u{c4}\u{139}\u{106}\u{c7}\u{10c}\u{c9}\u{118}\u{cb}\u{11a}\u{cd}\u{ce}\u{10e}\u{110}\u{143}\u{147}\u{d3}\u{d4}\u{150}\u{d6}\u{d7}\u{158}\u{16e}\u{da}\u{170}\u{dc}\u{dd}\u{162}\u{df}\u{155}\u{e1}\u{e2}\u{103}\u{e4}\u{13a}\u{107}\u{e7}\u{10d}\u{e9}\u{119}\u{eb}\u{11b}\u{ed}\u{ee}\u{10f}\u{111}\u{144}\u{148}\u{f3}\u{f4}\u{151}\u{f6}\u{f7}\u{159}\u{16f}\u{fa}\u{171}\u{fc}\u{fd}\u{163}\u{2d9}";
const CM_MACROMAN: &str = "\u{c4}\u{c5}\u{c7}\u{c9}\u{d1}\u{d6}\u{dc}\u{e1}\u{e0}\u{e2}\u{e4}\u{e3}\u{e5}\u{e7}\u{e9}\u{e8}\u{ea}\u{eb}\u{ed}\u{ec}\u{ee}\u{ef}\u{f1}\u{f3}\u{f2}\u{f4}\u{f6}\u{f5}\u{fa}\u{f9}\u{fb}\u{fc}\u{2020}\u{b0}\u{a2}\u{a3}\u{a7}\u{2022}\u{b6}\u{df}\u{ae}\u{a9}\u{2122}\u{b4}\u{a8}\u{2260}\u{c6}\u{d8}\u{221e}\u{b1}\u{2264}\u{2265}\u{a5}\u{b5}\u{2202}\u{2211}\u{220f}\u{3c0}\u{222b}\u{aa}\u{ba}\u{3a9}\u{e6}\u{f8}\u{bf}\u{a1}\u{ac}\u{221a}\u{192}\u{2248}\u{2206}\u{ab}\u{bb}\u{2026}\u{a0}\u{c0}\u{c3}\u{d5}\u{152}\u{153}\u{2013}\u{2014}\u{201c}\u{201d}\u{2018}\u{2019}\u{f7}\u{25ca}\u{ff}\u{178}\u{2044}\u{20ac}\u{2039}\u{203a}\u{fb01}\u{fb02}\u{2021}\u{b7}\u{201a}\u{201e}\u{2030}\u{c2}\u{ca}\u{c1}\u{cb}\u{c8}\u{cd}\u{ce}\u{cf}\u{cc}\u{d3}\u{d4}\u{f8ff}\u{d2}\u{da}\u{db}\u{d9}\u{131}\u{2c6}\u{2dc}\u{af}\u{2d8}\u{2d9}\u{2da}\u{b8}\u{2dd}\u{2db}\u{2c7}";
const CM_CP437: &str = "\u{c7}\u{fc}\u{e9}\u{e2}\u{e4}\u{e0}\u{e5}\u{e7}\u{ea}\u{eb}\u{e8}\u{ef}\u{ee}\u{ec}\u{c4}\u{c5}\u{c9}\u{e6}\u{c6}\u{f4}\u{f6}\u{f2}\u{fb}\u{f9}\u{ff}\u{d6}\u{dc}\u{a2}\u{a3}\u{a5}\u{20a7}\u{192}\u{e1}\u{ed}\u{f3}\u{fa}\u{f1}\u{d1}\u{aa}\u{ba}\u{bf}\u{2310}\u{ac}\u{bd}\u{bc}\u{a1}\u{ab}\u{bb}\u{2591}\u{2592}\u{2593}\u{2502}\u{2524}\u{2561}\u{2562}\u{2556}\u{2555}\u{2563}\u{2551}\u{2557}\u{255d}\u{255c}\u{255b}\u{2510}\u{2514}\u{2534}\u{252c}\u{251c}\u{2500}\u{253c}\u{255e}\u{255f}\u{255a}\u{2554}\u{2569}\u{2566}\u{2560}\u{2550}\u{256c}\u{2567}\u{2568}\u{2564}\u{2565}\u{2559}\u{2558}\u{2552}\u{2553}\u{256b}\u{256a}\u{2518}\u{250c}\u{2588}\u{2584}\u{258c}\u{2590}\u{2580}\u{3b1}\u{df}\u{393}\u{3c0}\u{3a3}\u{3c3}\u{b5}\u{3c4}\u{3a6}\u{398}\u{3a9}\u{3b4}\u{221e}\u{3c6}\u{3b5}\u{2229}\u{2261}\u{b1}\u{2265}\u{2264}\u{2320}\u{2321}\u{f7}\u{2248}\u{b0}\u{2219}\u{b7}\u{221a}\u{207f}\u{b2}\u{25a0}\u{a0}";
// strict windows-1252 undefined bytes: ['0x81', '0x8d', '0x8f', '0x90', '0x9d']

// Character classes of ftfy's heuristics, as `first last` pairs of inclusive ranges.
const CAT_COMMON: &str = "\u{a0}\u{a0}\u{ad}\u{ad}\u{b4}\u{b4}\u{b7}\u{b7}\u{2013}\u{2015}\u{2019}\u{2019}\u{2026}\u{2026}";
const CAT_C1: &str = "\u{80}\u{9f}";
const CAT_BAD: &str = "\u{a4}\u{a4}\u{a6}\u{a6}\u{a8}\u{a8}\u{aa}\u{aa}\u{ac}\u{ac}\u{af}\u{af}\u{b8}\u{b8}\u{ba}\u{ba}\u{192}\u{192}\u{2c6}\u{2c7}\u{2d8}\u{2d8}\u{2db}\u{2dc}\u{2020}\u{2021}\u{2030}\u{2030}\u{2310}\u{2310}\u{25ca}\u{25ca}\u{fffd}\u{fffd}";
const CAT_LAW: &str = "\u{a7}\u{a7}\u{b6}\u{b6}";
const CAT_CURRENCY: &str = "\u{a2}\u{a3}\u{a5}\u{a5}\u{20a7}\u{20a7}\u{20ac}\u{20ac}";
const CAT_START_PUNCTUATION: &str = "\u{a1}\u{a1}\u{a9}\u{a9}\u{ab}\u{ab}\u{bf}\u{bf}\u{384}\u{385}\u{2018}\u{2018}\u{201a}\u{201a}\u{201c}\u{201c}\u{201e}\u{201e}\u{2022}\u{2022}\u{2039}\u{2039}\u{f8ff}\u{f8ff}";
const CAT_END_PUNCTUATION: &str =
    "\u{ae}\u{ae}\u{bb}\u{bb}\u{2dd}\u{2dd}\u{201d}\u{201d}\u{203a}\u{203a}\u{2122}\u{2122}";
const CAT_NUMERIC: &str = "\u{b1}\u{b3}\u{b5}\u{b5}\u{b9}\u{b9}\u{bc}\u{be}\u{d7}\u{d7}\u{f7}\u{f7}\u{2044}\u{2044}\u{2116}\u{2116}\u{2202}\u{2202}\u{2206}\u{2206}\u{220f}\u{220f}\u{2211}\u{2211}\u{221a}\u{221a}\u{221e}\u{221e}\u{2229}\u{2229}\u{222b}\u{222b}\u{2248}\u{2248}\u{2260}\u{2261}\u{2264}\u{2265}";
const CAT_KAOMOJI: &str = "\u{b0}\u{b0}\u{d2}\u{d6}\u{d9}\u{dc}\u{f2}\u{f6}\u{f8}\u{fc}\u{14c}\u{14c}\u{150}\u{150}\u{16a}\u{16a}\u{172}\u{172}";
const CAT_UPPER_ACCENTED: &str = "\u{c0}\u{d1}\u{d8}\u{d8}\u{dc}\u{dd}\u{100}\u{100}\u{102}\u{102}\u{104}\u{104}\u{106}\u{106}\u{10c}\u{10c}\u{10e}\u{10e}\u{110}\u{110}\u{112}\u{112}\u{116}\u{116}\u{118}\u{118}\u{11a}\u{11a}\u{11e}\u{11e}\u{122}\u{122}\u{12a}\u{12a}\u{130}\u{130}\u{136}\u{136}\u{139}\u{139}\u{13b}\u{13b}\u{13d}\u{13d}\u{141}\u{141}\u{143}\u{143}\u{145}\u{145}\u{147}\u{147}\u{152}\u{152}\u{158}\u{158}\u{15a}\u{15a}\u{15e}\u{15e}\u{160}\u{160}\u{162}\u{162}\u{164}\u{164}\u{16e}\u{16e}\u{170}\u{170}\u{178}\u{179}\u{17b}\u{17b}\u{17d}\u{17d}\u{490}\u{490}";
const CAT_LOWER_ACCENTED: &str = "\u{df}\u{f1}\u{fc}\u{fc}\u{101}\u{101}\u{103}\u{103}\u{105}\u{105}\u{107}\u{107}\u{10d}\u{10d}\u{10f}\u{10f}\u{111}\u{111}\u{113}\u{113}\u{117}\u{117}\u{119}\u{119}\u{11b}\u{11b}\u{11f}\u{11f}\u{123}\u{123}\u{12b}\u{12b}\u{12f}\u{12f}\u{137}\u{137}\u{13a}\u{13a}\u{13c}\u{13c}\u{13e}\u{13e}\u{142}\u{142}\u{153}\u{153}\u{155}\u{155}\u{15b}\u{15b}\u{15f}\u{15f}\u{161}\u{161}\u{165}\u{165}\u{17a}\u{17a}\u{17c}\u{17c}\u{17e}\u{17e}\u{491}\u{491}\u{fb01}\u{fb02}";
const CAT_UPPER_COMMON: &str = "\u{de}\u{de}\u{386}\u{386}\u{388}\u{38a}\u{38c}\u{38c}\u{38e}\u{38f}\u{391}\u{3ab}\u{401}\u{42f}";
const CAT_LOWER_COMMON: &str = "\u{3ac}\u{3c9}\u{430}\u{45f}";
const CAT_BOX: &str = "\u{2502}\u{2502}\u{250c}\u{250c}\u{2510}\u{2510}\u{2518}\u{2518}\u{251c}\u{251c}\u{2524}\u{2524}\u{252c}\u{252c}\u{253c}\u{253c}\u{2550}\u{256c}\u{2580}\u{2580}\u{2584}\u{2584}\u{2588}\u{2588}\u{258c}\u{258c}\u{2590}\u{2593}";
const UTF8_FIRST_OF_2: &str = "\u{c2}\u{df}\u{100}\u{100}\u{102}\u{102}\u{106}\u{106}\u{10c}\u{10c}\u{10e}\u{10e}\u{110}\u{110}\u{112}\u{112}\u{116}\u{116}\u{118}\u{118}\u{11a}\u{11a}\u{11e}\u{11e}\u{122}\u{122}\u{12a}\u{12a}\u{130}\u{130}\u{136}\u{136}\u{139}\u{139}\u{13b}\u{13b}\u{141}\u{141}\u{143}\u{143}\u{145}\u{145}\u{147}\u{147}\u{14c}\u{14c}\u{150}\u{150}\u{158}\u{158}\u{15a}\u{15a}\u{15e}\u{15e}\u{160}\u{160}\u{162}\u{162}\u{16a}\u{16a}\u{16e}\u{16e}\u{170}\u{170}\u{172}\u{172}\u{179}\u{179}\u{17b}\u{17b}\u{17d}\u{17d}\u{392}\u{3a1}\u{3a3}\u{3af}\u{412}\u{42f}";
const UTF8_FIRST_OF_3: &str = "\u{e0}\u{ef}\u{101}\u{101}\u{103}\u{103}\u{105}\u{105}\u{107}\u{107}\u{10d}\u{10d}\u{10f}\u{10f}\u{113}\u{113}\u{117}\u{117}\u{119}\u{119}\u{11b}\u{11b}\u{123}\u{123}\u{12b}\u{12b}\u{12f}\u{12f}\u{137}\u{137}\u{13a}\u{13a}\u{13c}\u{13c}\u{155}\u{155}\u{17a}\u{17a}\u{3b0}\u{3bf}\u{430}\u{43f}";
const UTF8_FIRST_OF_4: &str = "\u{f0}\u{f0}\u{f3}\u{f3}\u{111}\u{111}\u{11f}\u{11f}\u{161}\u{161}\u{3c0}\u{3c0}\u{3c3}\u{3c3}\u{440}\u{440}\u{443}\u{443}";
const UTF8_CONTINUATION: &str = "\u{20}\u{20}\u{80}\u{bf}\u{c6}\u{c6}\u{d8}\u{d8}\u{e6}\u{e6}\u{f8}\u{f8}\u{104}\u{105}\u{13d}\u{13e}\u{141}\u{142}\u{152}\u{153}\u{156}\u{157}\u{15a}\u{15b}\u{15e}\u{161}\u{164}\u{165}\u{178}\u{17e}\u{192}\u{192}\u{2c6}\u{2c7}\u{2d8}\u{2d8}\u{2db}\u{2dd}\u{384}\u{386}\u{388}\u{38a}\u{38c}\u{38c}\u{38e}\u{38f}\u{401}\u{40c}\u{40e}\u{40f}\u{451}\u{45c}\u{45e}\u{45f}\u{490}\u{491}\u{2013}\u{2015}\u{2018}\u{201a}\u{201c}\u{201e}\u{2020}\u{2022}\u{2026}\u{2026}\u{2030}\u{2030}\u{2039}\u{203a}\u{20ac}\u{20ac}\u{2116}\u{2116}\u{2122}\u{2122}";
const UTF8_CONTINUATION_STRICT: &str = "\u{80}\u{bf}\u{c6}\u{c6}\u{d8}\u{d8}\u{e6}\u{e6}\u{f8}\u{f8}\u{104}\u{105}\u{13d}\u{13e}\u{141}\u{142}\u{152}\u{153}\u{156}\u{157}\u{15a}\u{15b}\u{15e}\u{161}\u{164}\u{165}\u{178}\u{17e}\u{192}\u{192}\u{2c6}\u{2c7}\u{2d8}\u{2d8}\u{2db}\u{2dd}\u{384}\u{386}\u{388}\u{38a}\u{38c}\u{38c}\u{38e}\u{38f}\u{401}\u{40c}\u{40e}\u{40f}\u{451}\u{45c}\u{45e}\u{45f}\u{490}\u{491}\u{2020}\u{2021}\u{2030}\u{2030}\u{2039}\u{203a}\u{20ac}\u{20ac}\u{2116}\u{2116}\u{2122}\u{2122}";

/// NFKC of U+FF01..=U+FFEF (the character itself when unchanged), `\u{2}`-separated.
const WIDTH_FF01: &str = "!\u{2}\u{22}\u{2}#\u{2}$\u{2}%\u{2}&\u{2}'\u{2}(\u{2})\u{2}*\u{2}+\u{2},\u{2}-\u{2}.\u{2}/\u{2}0\u{2}1\u{2}2\u{2}3\u{2}4\u{2}5\u{2}6\u{2}7\u{2}8\u{2}9\u{2}:\u{2};\u{2}<\u{2}=\u{2}>\u{2}?\u{2}@\u{2}A\u{2}B\u{2}C\u{2}D\u{2}E\u{2}F\u{2}G\u{2}H\u{2}I\u{2}J\u{2}K\u{2}L\u{2}M\u{2}N\u{2}O\u{2}P\u{2}Q\u{2}R\u{2}S\u{2}T\u{2}U\u{2}V\u{2}W\u{2}X\u{2}Y\u{2}Z\u{2}[\u{2}\u{5c}\u{2}]\u{2}^\u{2}_\u{2}`\u{2}a\u{2}b\u{2}c\u{2}d\u{2}e\u{2}f\u{2}g\u{2}h\u{2}i\u{2}j\u{2}k\u{2}l\u{2}m\u{2}n\u{2}o\u{2}p\u{2}q\u{2}r\u{2}s\u{2}t\u{2}u\u{2}v\u{2}w\u{2}x\u{2}y\u{2}z\u{2}{\u{2}|\u{2}}\u{2}~\u{2}\u{2985}\u{2}\u{2986}\u{2}\u{3002}\u{2}\u{300c}\u{2}\u{300d}\u{2}\u{3001}\u{2}\u{30fb}\u{2}\u{30f2}\u{2}\u{30a1}\u{2}\u{30a3}\u{2}\u{30a5}\u{2}\u{30a7}\u{2}\u{30a9}\u{2}\u{30e3}\u{2}\u{30e5}\u{2}\u{30e7}\u{2}\u{30c3}\u{2}\u{30fc}\u{2}\u{30a2}\u{2}\u{30a4}\u{2}\u{30a6}\u{2}\u{30a8}\u{2}\u{30aa}\u{2}\u{30ab}\u{2}\u{30ad}\u{2}\u{30af}\u{2}\u{30b1}\u{2}\u{30b3}\u{2}\u{30b5}\u{2}\u{30b7}\u{2}\u{30b9}\u{2}\u{30bb}\u{2}\u{30bd}\u{2}\u{30bf}\u{2}\u{30c1}\u{2}\u{30c4}\u{2}\u{30c6}\u{2}\u{30c8}\u{2}\u{30ca}\u{2}\u{30cb}\u{2}\u{30cc}\u{2}\u{30cd}\u{2}\u{30ce}\u{2}\u{30cf}\u{2}\u{30d2}\u{2}\u{30d5}\u{2}\u{30d8}\u{2}\u{30db}\u{2}\u{30de}\u{2}\u{30df}\u{2}\u{30e0}\u{2}\u{30e1}\u{2}\u{30e2}\u{2}\u{30e4}\u{2}\u{30e6}\u{2}\u{30e8}\u{2}\u{30e9}\u{2}\u{30ea}\u{2}\u{30eb}\u{2}\u{30ec}\u{2}\u{30ed}\u{2}\u{30ef}\u{2}\u{30f3}\u{2}\u{3099}\u{2}\u{309a}\u{2}\u{1160}\u{2}\u{1100}\u{2}\u{1101}\u{2}\u{11aa}\u{2}\u{1102}\u{2}\u{11ac}\u{2}\u{11ad}\u{2}\u{1103}\u{2}\u{1104}\u{2}\u{1105}\u{2}\u{11b0}\u{2}\u{11b1}\u{2}\u{11b2}\u{2}\u{11b3}\u{2}\u{11b4}\u{2}\u{11b5}\u{2}\u{111a}\u{2}\u{1106}\u{2}\u{1107}\u{2}\u{1108}\u{2}\u{1121}\u{2}\u{1109}\u{2}\u{110a}\u{2}\u{110b}\u{2}\u{110c}\u{2}\u{110d}\u{2}\u{110e}\u{2}\u{110f}\u{2}\u{1110}\u{2}\u{1111}\u{2}\u{1112}\u{2}\u{ffbf}\u{2}\u{ffc0}\u{2}\u{ffc1}\u{2}\u{1161}\u{2}\u{1162}\u{2}\u{1163}\u{2}\u{1164}\u{2}\u{1165}\u{2}\u{1166}\u{2}\u{ffc8}\u{2}\u{ffc9}\u{2}\u{1167}\u{2}\u{1168}\u{2}\u{1169}\u{2}\u{116a}\u{2}\u{116b}\u{2}\u{116c}\u{2}\u{ffd0}\u{2}\u{ffd1}\u{2}\u{116d}\u{2}\u{116e}\u{2}\u{116f}\u{2}\u{1170}\u{2}\u{1171}\u{2}\u{1172}\u{2}\u{ffd8}\u{2}\u{ffd9}\u{2}\u{1173}\u{2}\u{1174}\u{2}\u{1175}\u{2}\u{ffdd}\u{2}\u{ffde}\u{2}\u{ffdf}\u{2}\u{a2}\u{2}\u{a3}\u{2}\u{ac}\u{2} \u{304}\u{2}\u{a6}\u{2}\u{a5}\u{2}\u{20a9}\u{2}\u{ffe7}\u{2}\u{2502}\u{2}\u{2190}\u{2}\u{2191}\u{2}\u{2192}\u{2}\u{2193}\u{2}\u{25a0}\u{2}\u{25cb}\u{2}\u{ffef}";

/// Python's `html.entities.html5`: `name\u{1}value\u{2}` repeated.
const HTML5: &str = "\
AElig\u{1}\u{c6}\u{2}AElig;\u{1}\u{c6}\u{2}AMP\u{1}&\u{2}AMP;\u{1}&\u{2}Aacute\u{1}\u{c1}\u{2}\
Aacute;\u{1}\u{c1}\u{2}Abreve;\u{1}\u{102}\u{2}Acirc\u{1}\u{c2}\u{2}Acirc;\u{1}\u{c2}\u{2}Acy;\u{1}\u{410}\u{2}\
Afr;\u{1}\u{1d504}\u{2}Agrave\u{1}\u{c0}\u{2}Agrave;\u{1}\u{c0}\u{2}Alpha;\u{1}\u{391}\u{2}\
Amacr;\u{1}\u{100}\u{2}And;\u{1}\u{2a53}\u{2}Aogon;\u{1}\u{104}\u{2}Aopf;\u{1}\u{1d538}\u{2}\
ApplyFunction;\u{1}\u{2061}\u{2}Aring\u{1}\u{c5}\u{2}Aring;\u{1}\u{c5}\u{2}Ascr;\u{1}\u{1d49c}\u{2}\
Assign;\u{1}\u{2254}\u{2}Atilde\u{1}\u{c3}\u{2}Atilde;\u{1}\u{c3}\u{2}Auml\u{1}\u{c4}\u{2}Auml;\u{1}\u{c4}\u{2}\
Backslash;\u{1}\u{2216}\u{2}Barv;\u{1}\u{2ae7}\u{2}Barwed;\u{1}\u{2306}\u{2}Bcy;\u{1}\u{411}\u{2}\
Because;\u{1}\u{2235}\u{2}Bernoullis;\u{1}\u{212c}\u{2}Beta;\u{1}\u{392}\u{2}Bfr;\u{1}\u{1d505}\u{2}\
Bopf;\u{1}\u{1d539}\u{2}Breve;\u{1}\u{2d8}\u{2}Bscr;\u{1}\u{212c}\u{2}Bumpeq;\u{1}\u{224e}\u{2}\
CHcy;\u{1}\u{427}\u{2}COPY\u{1}\u{a9}\u{2}COPY;\u{1}\u{a9}\u{2}Cacute;\u{1}\u{106}\u{2}Cap;\u{1}\u{22d2}\u{2}\
CapitalDifferentialD;\u{1}\u{2145}\u{2}Cayleys;\u{1}\u{212d}\u{2}Ccaron;\u{1}\u{10c}\u{2}Ccedil\u{1}\u{c7}\u{2}\
Ccedil;\u{1}\u{c7}\u{2}Ccirc;\u{1}\u{108}\u{2}Cconint;\u{1}\u{2230}\u{2}Cdot;\u{1}\u{10a}\u{2}\
Cedilla;\u{1}\u{b8}\u{2}CenterDot;\u{1}\u{b7}\u{2}Cfr;\u{1}\u{212d}\u{2}Chi;\u{1}\u{3a7}\u{2}\
CircleDot;\u{1}\u{2299}\u{2}CircleMinus;\u{1}\u{2296}\u{2}CirclePlus;\u{1}\u{2295}\u{2}CircleTimes;\u{1}\u{2297}\u{2}\
ClockwiseContourIntegral;\u{1}\u{2232}\u{2}CloseCurlyDoubleQuote;\u{1}\u{201d}\u{2}CloseCurlyQuote;\u{1}\u{2019}\u{2}\
Colon;\u{1}\u{2237}\u{2}Colone;\u{1}\u{2a74}\u{2}Congruent;\u{1}\u{2261}\u{2}Conint;\u{1}\u{222f}\u{2}\
ContourIntegral;\u{1}\u{222e}\u{2}Copf;\u{1}\u{2102}\u{2}Coproduct;\u{1}\u{2210}\u{2}CounterClockwiseContourIntegral;\u{1}\u{2233}\u{2}\
Cross;\u{1}\u{2a2f}\u{2}Cscr;\u{1}\u{1d49e}\u{2}Cup;\u{1}\u{22d3}\u{2}CupCap;\u{1}\u{224d}\u{2}\
DD;\u{1}\u{2145}\u{2}DDotrahd;\u{1}\u{2911}\u{2}DJcy;\u{1}\u{402}\u{2}DScy;\u{1}\u{405}\u{2}\
DZcy;\u{1}\u{40f}\u{2}Dagger;\u{1}\u{2021}\u{2}Darr;\u{1}\u{21a1}\u{2}Dashv;\u{1}\u{2ae4}\u{2}\
Dcaron;\u{1}\u{10e}\u{2}Dcy;\u{1}\u{414}\u{2}Del;\u{1}\u{2207}\u{2}Delta;\u{1}\u{394}\u{2}Dfr;\u{1}\u{1d507}\u{2}\
DiacriticalAcute;\u{1}\u{b4}\u{2}DiacriticalDot;\u{1}\u{2d9}\u{2}DiacriticalDoubleAcute;\u{1}\u{2dd}\u{2}\
DiacriticalGrave;\u{1}`\u{2}DiacriticalTilde;\u{1}\u{2dc}\u{2}Diamond;\u{1}\u{22c4}\u{2}DifferentialD;\u{1}\u{2146}\u{2}\
Dopf;\u{1}\u{1d53b}\u{2}Dot;\u{1}\u{a8}\u{2}DotDot;\u{1}\u{20dc}\u{2}DotEqual;\u{1}\u{2250}\u{2}\
DoubleContourIntegral;\u{1}\u{222f}\u{2}DoubleDot;\u{1}\u{a8}\u{2}DoubleDownArrow;\u{1}\u{21d3}\u{2}\
DoubleLeftArrow;\u{1}\u{21d0}\u{2}DoubleLeftRightArrow;\u{1}\u{21d4}\u{2}DoubleLeftTee;\u{1}\u{2ae4}\u{2}\
DoubleLongLeftArrow;\u{1}\u{27f8}\u{2}DoubleLongLeftRightArrow;\u{1}\u{27fa}\u{2}DoubleLongRightArrow;\u{1}\u{27f9}\u{2}\
DoubleRightArrow;\u{1}\u{21d2}\u{2}DoubleRightTee;\u{1}\u{22a8}\u{2}DoubleUpArrow;\u{1}\u{21d1}\u{2}\
DoubleUpDownArrow;\u{1}\u{21d5}\u{2}DoubleVerticalBar;\u{1}\u{2225}\u{2}DownArrow;\u{1}\u{2193}\u{2}\
DownArrowBar;\u{1}\u{2913}\u{2}DownArrowUpArrow;\u{1}\u{21f5}\u{2}DownBreve;\u{1}\u{311}\u{2}\
DownLeftRightVector;\u{1}\u{2950}\u{2}DownLeftTeeVector;\u{1}\u{295e}\u{2}DownLeftVector;\u{1}\u{21bd}\u{2}\
DownLeftVectorBar;\u{1}\u{2956}\u{2}DownRightTeeVector;\u{1}\u{295f}\u{2}DownRightVector;\u{1}\u{21c1}\u{2}\
DownRightVectorBar;\u{1}\u{2957}\u{2}DownTee;\u{1}\u{22a4}\u{2}DownTeeArrow;\u{1}\u{21a7}\u{2}\
Downarrow;\u{1}\u{21d3}\u{2}Dscr;\u{1}\u{1d49f}\u{2}Dstrok;\u{1}\u{110}\u{2}ENG;\u{1}\u{14a}\u{2}\
ETH\u{1}\u{d0}\u{2}ETH;\u{1}\u{d0}\u{2}Eacute\u{1}\u{c9}\u{2}Eacute;\u{1}\u{c9}\u{2}Ecaron;\u{1}\u{11a}\u{2}\
Ecirc\u{1}\u{ca}\u{2}Ecirc;\u{1}\u{ca}\u{2}Ecy;\u{1}\u{42d}\u{2}Edot;\u{1}\u{116}\u{2}Efr;\u{1}\u{1d508}\u{2}\
Egrave\u{1}\u{c8}\u{2}Egrave;\u{1}\u{c8}\u{2}Element;\u{1}\u{2208}\u{2}Emacr;\u{1}\u{112}\u{2}\
EmptySmallSquare;\u{1}\u{25fb}\u{2}EmptyVerySmallSquare;\u{1}\u{25ab}\u{2}Eogon;\u{1}\u{118}\u{2}\
Eopf;\u{1}\u{1d53c}\u{2}Epsilon;\u{1}\u{395}\u{2}Equal;\u{1}\u{2a75}\u{2}EqualTilde;\u{1}\u{2242}\u{2}\
Equilibrium;\u{1}\u{21cc}\u{2}Escr;\u{1}\u{2130}\u{2}Esim;\u{1}\u{2a73}\u{2}Eta;\u{1}\u{397}\u{2}\
Euml\u{1}\u{cb}\u{2}Euml;\u{1}\u{cb}\u{2}Exists;\u{1}\u{2203}\u{2}ExponentialE;\u{1}\u{2147}\u{2}\
Fcy;\u{1}\u{424}\u{2}Ffr;\u{1}\u{1d509}\u{2}FilledSmallSquare;\u{1}\u{25fc}\u{2}FilledVerySmallSquare;\u{1}\u{25aa}\u{2}\
Fopf;\u{1}\u{1d53d}\u{2}ForAll;\u{1}\u{2200}\u{2}Fouriertrf;\u{1}\u{2131}\u{2}Fscr;\u{1}\u{2131}\u{2}\
GJcy;\u{1}\u{403}\u{2}GT\u{1}>\u{2}GT;\u{1}>\u{2}Gamma;\u{1}\u{393}\u{2}Gammad;\u{1}\u{3dc}\u{2}\
Gbreve;\u{1}\u{11e}\u{2}Gcedil;\u{1}\u{122}\u{2}Gcirc;\u{1}\u{11c}\u{2}Gcy;\u{1}\u{413}\u{2}\
Gdot;\u{1}\u{120}\u{2}Gfr;\u{1}\u{1d50a}\u{2}Gg;\u{1}\u{22d9}\u{2}Gopf;\u{1}\u{1d53e}\u{2}GreaterEqual;\u{1}\u{2265}\u{2}\
GreaterEqualLess;\u{1}\u{22db}\u{2}GreaterFullEqual;\u{1}\u{2267}\u{2}GreaterGreater;\u{1}\u{2aa2}\u{2}\
GreaterLess;\u{1}\u{2277}\u{2}GreaterSlantEqual;\u{1}\u{2a7e}\u{2}GreaterTilde;\u{1}\u{2273}\u{2}\
Gscr;\u{1}\u{1d4a2}\u{2}Gt;\u{1}\u{226b}\u{2}HARDcy;\u{1}\u{42a}\u{2}Hacek;\u{1}\u{2c7}\u{2}\
Hat;\u{1}^\u{2}Hcirc;\u{1}\u{124}\u{2}Hfr;\u{1}\u{210c}\u{2}HilbertSpace;\u{1}\u{210b}\u{2}\
Hopf;\u{1}\u{210d}\u{2}HorizontalLine;\u{1}\u{2500}\u{2}Hscr;\u{1}\u{210b}\u{2}Hstrok;\u{1}\u{126}\u{2}\
HumpDownHump;\u{1}\u{224e}\u{2}HumpEqual;\u{1}\u{224f}\u{2}IEcy;\u{1}\u{415}\u{2}IJlig;\u{1}\u{132}\u{2}\
IOcy;\u{1}\u{401}\u{2}Iacute\u{1}\u{cd}\u{2}Iacute;\u{1}\u{cd}\u{2}Icirc\u{1}\u{ce}\u{2}Icirc;\u{1}\u{ce}\u{2}\
Icy;\u{1}\u{418}\u{2}Idot;\u{1}\u{130}\u{2}Ifr;\u{1}\u{2111}\u{2}Igrave\u{1}\u{cc}\u{2}Igrave;\u{1}\u{cc}\u{2}\
Im;\u{1}\u{2111}\u{2}Imacr;\u{1}\u{12a}\u{2}ImaginaryI;\u{1}\u{2148}\u{2}Implies;\u{1}\u{21d2}\u{2}\
Int;\u{1}\u{222c}\u{2}Integral;\u{1}\u{222b}\u{2}Intersection;\u{1}\u{22c2}\u{2}InvisibleComma;\u{1}\u{2063}\u{2}\
InvisibleTimes;\u{1}\u{2062}\u{2}Iogon;\u{1}\u{12e}\u{2}Iopf;\u{1}\u{1d540}\u{2}Iota;\u{1}\u{399}\u{2}\
Iscr;\u{1}\u{2110}\u{2}Itilde;\u{1}\u{128}\u{2}Iukcy;\u{1}\u{406}\u{2}Iuml\u{1}\u{cf}\u{2}Iuml;\u{1}\u{cf}\u{2}\
Jcirc;\u{1}\u{134}\u{2}Jcy;\u{1}\u{419}\u{2}Jfr;\u{1}\u{1d50d}\u{2}Jopf;\u{1}\u{1d541}\u{2}\
Jscr;\u{1}\u{1d4a5}\u{2}Jsercy;\u{1}\u{408}\u{2}Jukcy;\u{1}\u{404}\u{2}KHcy;\u{1}\u{425}\u{2}\
KJcy;\u{1}\u{40c}\u{2}Kappa;\u{1}\u{39a}\u{2}Kcedil;\u{1}\u{136}\u{2}Kcy;\u{1}\u{41a}\u{2}Kfr;\u{1}\u{1d50e}\u{2}\
Kopf;\u{1}\u{1d542}\u{2}Kscr;\u{1}\u{1d4a6}\u{2}LJcy;\u{1}\u{409}\u{2}LT\u{1}<\u{2}LT;\u{1}<\u{2}\
Lacute;\u{1}\u{139}\u{2}Lambda;\u{1}\u{39b}\u{2}Lang;\u{1}\u{27ea}\u{2}Laplacetrf;\u{1}\u{2112}\u{2}\
Larr;\u{1}\u{219e}\u{2}Lcaron;\u{1}\u{13d}\u{2}Lcedil;\u{1}\u{13b}\u{2}Lcy;\u{1}\u{41b}\u{2}\
LeftAngleBracket;\u{1}\u{27e8}\u{2}LeftArrow;\u{1}\u{2190}\u{2}LeftArrowBar;\u{1}\u{21e4}\u{2}\
LeftArrowRightArrow;\u{1}\u{21c6}\u{2}LeftCeiling;\u{1}\u{2308}\u{2}LeftDoubleBracket;\u{1}\u{27e6}\u{2}\
LeftDownTeeVector;\u{1}\u{2961}\u{2}LeftDownVector;\u{1}\u{21c3}\u{2}LeftDownVectorBar;\u{1}\u{2959}\u{2}\
LeftFloor;\u{1}\u{230a}\u{2}LeftRightArrow;\u{1}\u{2194}\u{2}LeftRightVector;\u{1}\u{294e}\u{2}\
LeftTee;\u{1}\u{22a3}\u{2}LeftTeeArrow;\u{1}\u{21a4}\u{2}LeftTeeVector;\u{1}\u{295a}\u{2}LeftTriangle;\u{1}\u{22b2}\u{2}\
LeftTriangleBar;\u{1}\u{29cf}\u{2}LeftTriangleEqual;\u{1}\u{22b4}\u{2}LeftUpDownVector;\u{1}\u{2951}\u{2}\
LeftUpTeeVector;\u{1}\u{2960}\u{2}LeftUpVector;\u{1}\u{21bf}\u{2}LeftUpVectorBar;\u{1}\u{2958}\u{2}\
LeftVector;\u{1}\u{21bc}\u{2}LeftVectorBar;\u{1}\u{2952}\u{2}Leftarrow;\u{1}\u{21d0}\u{2}Leftrightarrow;\u{1}\u{21d4}\u{2}\
LessEqualGreater;\u{1}\u{22da}\u{2}LessFullEqual;\u{1}\u{2266}\u{2}LessGreater;\u{1}\u{2276}\u{2}\
LessLess;\u{1}\u{2aa1}\u{2}LessSlantEqual;\u{1}\u{2a7d}\u{2}LessTilde;\u{1}\u{2272}\u{2}Lfr;\u{1}\u{1d50f}\u{2}\
Ll;\u{1}\u{22d8}\u{2}Lleftarrow;\u{1}\u{21da}\u{2}Lmidot;\u{1}\u{13f}\u{2}LongLeftArrow;\u{1}\u{27f5}\u{2}\
LongLeftRightArrow;\u{1}\u{27f7}\u{2}LongRightArrow;\u{1}\u{27f6}\u{2}Longleftarrow;\u{1}\u{27f8}\u{2}\
Longleftrightarrow;\u{1}\u{27fa}\u{2}Longrightarrow;\u{1}\u{27f9}\u{2}Lopf;\u{1}\u{1d543}\u{2}\
LowerLeftArrow;\u{1}\u{2199}\u{2}LowerRightArrow;\u{1}\u{2198}\u{2}Lscr;\u{1}\u{2112}\u{2}Lsh;\u{1}\u{21b0}\u{2}\
Lstrok;\u{1}\u{141}\u{2}Lt;\u{1}\u{226a}\u{2}Map;\u{1}\u{2905}\u{2}Mcy;\u{1}\u{41c}\u{2}MediumSpace;\u{1}\u{205f}\u{2}\
Mellintrf;\u{1}\u{2133}\u{2}Mfr;\u{1}\u{1d510}\u{2}MinusPlus;\u{1}\u{2213}\u{2}Mopf;\u{1}\u{1d544}\u{2}\
Mscr;\u{1}\u{2133}\u{2}Mu;\u{1}\u{39c}\u{2}NJcy;\u{1}\u{40a}\u{2}Nacute;\u{1}\u{143}\u{2}Ncaron;\u{1}\u{147}\u{2}\
Ncedil;\u{1}\u{145}\u{2}Ncy;\u{1}\u{41d}\u{2}NegativeMediumSpace;\u{1}\u{200b}\u{2}NegativeThickSpace;\u{1}\u{200b}\u{2}\
NegativeThinSpace;\u{1}\u{200b}\u{2}NegativeVeryThinSpace;\u{1}\u{200b}\u{2}NestedGreaterGreater;\u{1}\u{226b}\u{2}\
NestedLessLess;\u{1}\u{226a}\u{2}NewLine;\u{1}\u{a}\u{2}Nfr;\u{1}\u{1d511}\u{2}NoBreak;\u{1}\u{2060}\u{2}\
NonBreakingSpace;\u{1}\u{a0}\u{2}Nopf;\u{1}\u{2115}\u{2}Not;\u{1}\u{2aec}\u{2}NotCongruent;\u{1}\u{2262}\u{2}\
NotCupCap;\u{1}\u{226d}\u{2}NotDoubleVerticalBar;\u{1}\u{2226}\u{2}NotElement;\u{1}\u{2209}\u{2}\
NotEqual;\u{1}\u{2260}\u{2}NotEqualTilde;\u{1}\u{2242}\u{338}\u{2}NotExists;\u{1}\u{2204}\u{2}\
NotGreater;\u{1}\u{226f}\u{2}NotGreaterEqual;\u{1}\u{2271}\u{2}NotGreaterFullEqual;\u{1}\u{2267}\u{338}\u{2}\
NotGreaterGreater;\u{1}\u{226b}\u{338}\u{2}NotGreaterLess;\u{1}\u{2279}\u{2}NotGreaterSlantEqual;\u{1}\u{2a7e}\u{338}\u{2}\
NotGreaterTilde;\u{1}\u{2275}\u{2}NotHumpDownHump;\u{1}\u{224e}\u{338}\u{2}NotHumpEqual;\u{1}\u{224f}\u{338}\u{2}\
NotLeftTriangle;\u{1}\u{22ea}\u{2}NotLeftTriangleBar;\u{1}\u{29cf}\u{338}\u{2}NotLeftTriangleEqual;\u{1}\u{22ec}\u{2}\
NotLess;\u{1}\u{226e}\u{2}NotLessEqual;\u{1}\u{2270}\u{2}NotLessGreater;\u{1}\u{2278}\u{2}NotLessLess;\u{1}\u{226a}\u{338}\u{2}\
NotLessSlantEqual;\u{1}\u{2a7d}\u{338}\u{2}NotLessTilde;\u{1}\u{2274}\u{2}NotNestedGreaterGreater;\u{1}\u{2aa2}\u{338}\u{2}\
NotNestedLessLess;\u{1}\u{2aa1}\u{338}\u{2}NotPrecedes;\u{1}\u{2280}\u{2}NotPrecedesEqual;\u{1}\u{2aaf}\u{338}\u{2}\
NotPrecedesSlantEqual;\u{1}\u{22e0}\u{2}NotReverseElement;\u{1}\u{220c}\u{2}NotRightTriangle;\u{1}\u{22eb}\u{2}\
NotRightTriangleBar;\u{1}\u{29d0}\u{338}\u{2}NotRightTriangleEqual;\u{1}\u{22ed}\u{2}NotSquareSubset;\u{1}\u{228f}\u{338}\u{2}\
NotSquareSubsetEqual;\u{1}\u{22e2}\u{2}NotSquareSuperset;\u{1}\u{2290}\u{338}\u{2}NotSquareSupersetEqual;\u{1}\u{22e3}\u{2}\
NotSubset;\u{1}\u{2282}\u{20d2}\u{2}NotSubsetEqual;\u{1}\u{2288}\u{2}NotSucceeds;\u{1}\u{2281}\u{2}\
NotSucceedsEqual;\u{1}\u{2ab0}\u{338}\u{2}NotSucceedsSlantEqual;\u{1}\u{22e1}\u{2}NotSucceedsTilde;\u{1}\u{227f}\u{338}\u{2}\
NotSuperset;\u{1}\u{2283}\u{20d2}\u{2}NotSupersetEqual;\u{1}\u{2289}\u{2}NotTilde;\u{1}\u{2241}\u{2}\
NotTildeEqual;\u{1}\u{2244}\u{2}NotTildeFullEqual;\u{1}\u{2247}\u{2}NotTildeTilde;\u{1}\u{2249}\u{2}\
NotVerticalBar;\u{1}\u{2224}\u{2}Nscr;\u{1}\u{1d4a9}\u{2}Ntilde\u{1}\u{d1}\u{2}Ntilde;\u{1}\u{d1}\u{2}\
Nu;\u{1}\u{39d}\u{2}OElig;\u{1}\u{152}\u{2}Oacute\u{1}\u{d3}\u{2}Oacute;\u{1}\u{d3}\u{2}Ocirc\u{1}\u{d4}\u{2}\
Ocirc;\u{1}\u{d4}\u{2}Ocy;\u{1}\u{41e}\u{2}Odblac;\u{1}\u{150}\u{2}Ofr;\u{1}\u{1d512}\u{2}Ograve\u{1}\u{d2}\u{2}\
Ograve;\u{1}\u{d2}\u{2}Omacr;\u{1}\u{14c}\u{2}Omega;\u{1}\u{3a9}\u{2}Omicron;\u{1}\u{39f}\u{2}\
Oopf;\u{1}\u{1d546}\u{2}OpenCurlyDoubleQuote;\u{1}\u{201c}\u{2}OpenCurlyQuote;\u{1}\u{2018}\u{2}\
Or;\u{1}\u{2a54}\u{2}Oscr;\u{1}\u{1d4aa}\u{2}Oslash\u{1}\u{d8}\u{2}Oslash;\u{1}\u{d8}\u{2}Otilde\u{1}\u{d5}\u{2}\
Otilde;\u{1}\u{d5}\u{2}Otimes;\u{1}\u{2a37}\u{2}Ouml\u{1}\u{d6}\u{2}Ouml;\u{1}\u{d6}\u{2}OverBar;\u{1}\u{203e}\u{2}\
OverBrace;\u{1}\u{23de}\u{2}OverBracket;\u{1}\u{23b4}\u{2}OverParenthesis;\u{1}\u{23dc}\u{2}\
PartialD;\u{1}\u{2202}\u{2}Pcy;\u{1}\u{41f}\u{2}Pfr;\u{1}\u{1d513}\u{2}Phi;\u{1}\u{3a6}\u{2}\
Pi;\u{1}\u{3a0}\u{2}PlusMinus;\u{1}\u{b1}\u{2}Poincareplane;\u{1}\u{210c}\u{2}Popf;\u{1}\u{2119}\u{2}\
Pr;\u{1}\u{2abb}\u{2}Precedes;\u{1}\u{227a}\u{2}PrecedesEqual;\u{1}\u{2aaf}\u{2}PrecedesSlantEqual;\u{1}\u{227c}\u{2}\
PrecedesTilde;\u{1}\u{227e}\u{2}Prime;\u{1}\u{2033}\u{2}Product;\u{1}\u{220f}\u{2}Proportion;\u{1}\u{2237}\u{2}\
Proportional;\u{1}\u{221d}\u{2}Pscr;\u{1}\u{1d4ab}\u{2}Psi;\u{1}\u{3a8}\u{2}QUOT\u{1}\u{22}\u{2}\
QUOT;\u{1}\u{22}\u{2}Qfr;\u{1}\u{1d514}\u{2}Qopf;\u{1}\u{211a}\u{2}Qscr;\u{1}\u{1d4ac}\u{2}\
RBarr;\u{1}\u{2910}\u{2}REG\u{1}\u{ae}\u{2}REG;\u{1}\u{ae}\u{2}Racute;\u{1}\u{154}\u{2}Rang;\u{1}\u{27eb}\u{2}\
Rarr;\u{1}\u{21a0}\u{2}Rarrtl;\u{1}\u{2916}\u{2}Rcaron;\u{1}\u{158}\u{2}Rcedil;\u{1}\u{156}\u{2}\
Rcy;\u{1}\u{420}\u{2}Re;\u{1}\u{211c}\u{2}ReverseElement;\u{1}\u{220b}\u{2}ReverseEquilibrium;\u{1}\u{21cb}\u{2}\
ReverseUpEquilibrium;\u{1}\u{296f}\u{2}Rfr;\u{1}\u{211c}\u{2}Rho;\u{1}\u{3a1}\u{2}RightAngleBracket;\u{1}\u{27e9}\u{2}\
RightArrow;\u{1}\u{2192}\u{2}RightArrowBar;\u{1}\u{21e5}\u{2}RightArrowLeftArrow;\u{1}\u{21c4}\u{2}\
RightCeiling;\u{1}\u{2309}\u{2}RightDoubleBracket;\u{1}\u{27e7}\u{2}RightDownTeeVector;\u{1}\u{295d}\u{2}\
RightDownVector;\u{1}\u{21c2}\u{2}RightDownVectorBar;\u{1}\u{2955}\u{2}RightFloor;\u{1}\u{230b}\u{2}\
RightTee;\u{1}\u{22a2}\u{2}RightTeeArrow;\u{1}\u{21a6}\u{2}RightTeeVector;\u{1}\u{295b}\u{2}\
RightTriangle;\u{1}\u{22b3}\u{2}RightTriangleBar;\u{1}\u{29d0}\u{2}RightTriangleEqual;\u{1}\u{22b5}\u{2}\
RightUpDownVector;\u{1}\u{294f}\u{2}RightUpTeeVector;\u{1}\u{295c}\u{2}RightUpVector;\u{1}\u{21be}\u{2}\
RightUpVectorBar;\u{1}\u{2954}\u{2}RightVector;\u{1}\u{21c0}\u{2}RightVectorBar;\u{1}\u{2953}\u{2}\
Rightarrow;\u{1}\u{21d2}\u{2}Ropf;\u{1}\u{211d}\u{2}RoundImplies;\u{1}\u{2970}\u{2}Rrightarrow;\u{1}\u{21db}\u{2}\
Rscr;\u{1}\u{211b}\u{2}Rsh;\u{1}\u{21b1}\u{2}RuleDelayed;\u{1}\u{29f4}\u{2}SHCHcy;\u{1}\u{429}\u{2}\
SHcy;\u{1}\u{428}\u{2}SOFTcy;\u{1}\u{42c}\u{2}Sacute;\u{1}\u{15a}\u{2}Sc;\u{1}\u{2abc}\u{2}\
Scaron;\u{1}\u{160}\u{2}Scedil;\u{1}\u{15e}\u{2}Scirc;\u{1}\u{15c}\u{2}Scy;\u{1}\u{421}\u{2}\
Sfr;\u{1}\u{1d516}\u{2}ShortDownArrow;\u{1}\u{2193}\u{2}ShortLeftArrow;\u{1}\u{2190}\u{2}ShortRightArrow;\u{1}\u{2192}\u{2}\
ShortUpArrow;\u{1}\u{2191}\u{2}Sigma;\u{1}\u{3a3}\u{2}SmallCircle;\u{1}\u{2218}\u{2}Sopf;\u{1}\u{1d54a}\u{2}\
Sqrt;\u{1}\u{221a}\u{2}Square;\u{1}\u{25a1}\u{2}SquareIntersection;\u{1}\u{2293}\u{2}SquareSubset;\u{1}\u{228f}\u{2}\
SquareSubsetEqual;\u{1}\u{2291}\u{2}SquareSuperset;\u{1}\u{2290}\u{2}SquareSupersetEqual;\u{1}\u{2292}\u{2}\
SquareUnion;\u{1}\u{2294}\u{2}Sscr;\u{1}\u{1d4ae}\u{2}Star;\u{1}\u{22c6}\u{2}Sub;\u{1}\u{22d0}\u{2}\
Subset;\u{1}\u{22d0}\u{2}SubsetEqual;\u{1}\u{2286}\u{2}Succeeds;\u{1}\u{227b}\u{2}SucceedsEqual;\u{1}\u{2ab0}\u{2}\
SucceedsSlantEqual;\u{1}\u{227d}\u{2}SucceedsTilde;\u{1}\u{227f}\u{2}SuchThat;\u{1}\u{220b}\u{2}\
Sum;\u{1}\u{2211}\u{2}Sup;\u{1}\u{22d1}\u{2}Superset;\u{1}\u{2283}\u{2}SupersetEqual;\u{1}\u{2287}\u{2}\
Supset;\u{1}\u{22d1}\u{2}THORN\u{1}\u{de}\u{2}THORN;\u{1}\u{de}\u{2}TRADE;\u{1}\u{2122}\u{2}\
TSHcy;\u{1}\u{40b}\u{2}TScy;\u{1}\u{426}\u{2}Tab;\u{1}\u{9}\u{2}Tau;\u{1}\u{3a4}\u{2}Tcaron;\u{1}\u{164}\u{2}\
Tcedil;\u{1}\u{162}\u{2}Tcy;\u{1}\u{422}\u{2}Tfr;\u{1}\u{1d517}\u{2}Therefore;\u{1}\u{2234}\u{2}\
Theta;\u{1}\u{398}\u{2}ThickSpace;\u{1}\u{205f}\u{200a}\u{2}ThinSpace;\u{1}\u{2009}\u{2}Tilde;\u{1}\u{223c}\u{2}\
TildeEqual;\u{1}\u{2243}\u{2}TildeFullEqual;\u{1}\u{2245}\u{2}TildeTilde;\u{1}\u{2248}\u{2}\
Topf;\u{1}\u{1d54b}\u{2}TripleDot;\u{1}\u{20db}\u{2}Tscr;\u{1}\u{1d4af}\u{2}Tstrok;\u{1}\u{166}\u{2}\
Uacute\u{1}\u{da}\u{2}Uacute;\u{1}\u{da}\u{2}Uarr;\u{1}\u{219f}\u{2}Uarrocir;\u{1}\u{2949}\u{2}\
Ubrcy;\u{1}\u{40e}\u{2}Ubreve;\u{1}\u{16c}\u{2}Ucirc\u{1}\u{db}\u{2}Ucirc;\u{1}\u{db}\u{2}Ucy;\u{1}\u{423}\u{2}\
Udblac;\u{1}\u{170}\u{2}Ufr;\u{1}\u{1d518}\u{2}Ugrave\u{1}\u{d9}\u{2}Ugrave;\u{1}\u{d9}\u{2}\
Umacr;\u{1}\u{16a}\u{2}UnderBar;\u{1}_\u{2}UnderBrace;\u{1}\u{23df}\u{2}UnderBracket;\u{1}\u{23b5}\u{2}\
UnderParenthesis;\u{1}\u{23dd}\u{2}Union;\u{1}\u{22c3}\u{2}UnionPlus;\u{1}\u{228e}\u{2}Uogon;\u{1}\u{172}\u{2}\
Uopf;\u{1}\u{1d54c}\u{2}UpArrow;\u{1}\u{2191}\u{2}UpArrowBar;\u{1}\u{2912}\u{2}UpArrowDownArrow;\u{1}\u{21c5}\u{2}\
UpDownArrow;\u{1}\u{2195}\u{2}UpEquilibrium;\u{1}\u{296e}\u{2}UpTee;\u{1}\u{22a5}\u{2}UpTeeArrow;\u{1}\u{21a5}\u{2}\
Uparrow;\u{1}\u{21d1}\u{2}Updownarrow;\u{1}\u{21d5}\u{2}UpperLeftArrow;\u{1}\u{2196}\u{2}UpperRightArrow;\u{1}\u{2197}\u{2}\
Upsi;\u{1}\u{3d2}\u{2}Upsilon;\u{1}\u{3a5}\u{2}Uring;\u{1}\u{16e}\u{2}Uscr;\u{1}\u{1d4b0}\u{2}\
Utilde;\u{1}\u{168}\u{2}Uuml\u{1}\u{dc}\u{2}Uuml;\u{1}\u{dc}\u{2}VDash;\u{1}\u{22ab}\u{2}Vbar;\u{1}\u{2aeb}\u{2}\
Vcy;\u{1}\u{412}\u{2}Vdash;\u{1}\u{22a9}\u{2}Vdashl;\u{1}\u{2ae6}\u{2}Vee;\u{1}\u{22c1}\u{2}\
Verbar;\u{1}\u{2016}\u{2}Vert;\u{1}\u{2016}\u{2}VerticalBar;\u{1}\u{2223}\u{2}VerticalLine;\u{1}|\u{2}\
VerticalSeparator;\u{1}\u{2758}\u{2}VerticalTilde;\u{1}\u{2240}\u{2}VeryThinSpace;\u{1}\u{200a}\u{2}\
Vfr;\u{1}\u{1d519}\u{2}Vopf;\u{1}\u{1d54d}\u{2}Vscr;\u{1}\u{1d4b1}\u{2}Vvdash;\u{1}\u{22aa}\u{2}\
Wcirc;\u{1}\u{174}\u{2}Wedge;\u{1}\u{22c0}\u{2}Wfr;\u{1}\u{1d51a}\u{2}Wopf;\u{1}\u{1d54e}\u{2}\
Wscr;\u{1}\u{1d4b2}\u{2}Xfr;\u{1}\u{1d51b}\u{2}Xi;\u{1}\u{39e}\u{2}Xopf;\u{1}\u{1d54f}\u{2}\
Xscr;\u{1}\u{1d4b3}\u{2}YAcy;\u{1}\u{42f}\u{2}YIcy;\u{1}\u{407}\u{2}YUcy;\u{1}\u{42e}\u{2}Yacute\u{1}\u{dd}\u{2}\
Yacute;\u{1}\u{dd}\u{2}Ycirc;\u{1}\u{176}\u{2}Ycy;\u{1}\u{42b}\u{2}Yfr;\u{1}\u{1d51c}\u{2}Yopf;\u{1}\u{1d550}\u{2}\
Yscr;\u{1}\u{1d4b4}\u{2}Yuml;\u{1}\u{178}\u{2}ZHcy;\u{1}\u{416}\u{2}Zacute;\u{1}\u{179}\u{2}\
Zcaron;\u{1}\u{17d}\u{2}Zcy;\u{1}\u{417}\u{2}Zdot;\u{1}\u{17b}\u{2}ZeroWidthSpace;\u{1}\u{200b}\u{2}\
Zeta;\u{1}\u{396}\u{2}Zfr;\u{1}\u{2128}\u{2}Zopf;\u{1}\u{2124}\u{2}Zscr;\u{1}\u{1d4b5}\u{2}\
aacute\u{1}\u{e1}\u{2}aacute;\u{1}\u{e1}\u{2}abreve;\u{1}\u{103}\u{2}ac;\u{1}\u{223e}\u{2}acE;\u{1}\u{223e}\u{333}\u{2}\
acd;\u{1}\u{223f}\u{2}acirc\u{1}\u{e2}\u{2}acirc;\u{1}\u{e2}\u{2}acute\u{1}\u{b4}\u{2}acute;\u{1}\u{b4}\u{2}\
acy;\u{1}\u{430}\u{2}aelig\u{1}\u{e6}\u{2}aelig;\u{1}\u{e6}\u{2}af;\u{1}\u{2061}\u{2}afr;\u{1}\u{1d51e}\u{2}\
agrave\u{1}\u{e0}\u{2}agrave;\u{1}\u{e0}\u{2}alefsym;\u{1}\u{2135}\u{2}aleph;\u{1}\u{2135}\u{2}\
alpha;\u{1}\u{3b1}\u{2}amacr;\u{1}\u{101}\u{2}amalg;\u{1}\u{2a3f}\u{2}amp\u{1}&\u{2}amp;\u{1}&\u{2}\
and;\u{1}\u{2227}\u{2}andand;\u{1}\u{2a55}\u{2}andd;\u{1}\u{2a5c}\u{2}andslope;\u{1}\u{2a58}\u{2}\
andv;\u{1}\u{2a5a}\u{2}ang;\u{1}\u{2220}\u{2}ange;\u{1}\u{29a4}\u{2}angle;\u{1}\u{2220}\u{2}\
angmsd;\u{1}\u{2221}\u{2}angmsdaa;\u{1}\u{29a8}\u{2}angmsdab;\u{1}\u{29a9}\u{2}angmsdac;\u{1}\u{29aa}\u{2}\
angmsdad;\u{1}\u{29ab}\u{2}angmsdae;\u{1}\u{29ac}\u{2}angmsdaf;\u{1}\u{29ad}\u{2}angmsdag;\u{1}\u{29ae}\u{2}\
angmsdah;\u{1}\u{29af}\u{2}angrt;\u{1}\u{221f}\u{2}angrtvb;\u{1}\u{22be}\u{2}angrtvbd;\u{1}\u{299d}\u{2}\
angsph;\u{1}\u{2222}\u{2}angst;\u{1}\u{c5}\u{2}angzarr;\u{1}\u{237c}\u{2}aogon;\u{1}\u{105}\u{2}\
aopf;\u{1}\u{1d552}\u{2}ap;\u{1}\u{2248}\u{2}apE;\u{1}\u{2a70}\u{2}apacir;\u{1}\u{2a6f}\u{2}\
ape;\u{1}\u{224a}\u{2}apid;\u{1}\u{224b}\u{2}apos;\u{1}'\u{2}approx;\u{1}\u{2248}\u{2}approxeq;\u{1}\u{224a}\u{2}\
aring\u{1}\u{e5}\u{2}aring;\u{1}\u{e5}\u{2}ascr;\u{1}\u{1d4b6}\u{2}ast;\u{1}*\u{2}asymp;\u{1}\u{2248}\u{2}\
asympeq;\u{1}\u{224d}\u{2}atilde\u{1}\u{e3}\u{2}atilde;\u{1}\u{e3}\u{2}auml\u{1}\u{e4}\u{2}\
auml;\u{1}\u{e4}\u{2}awconint;\u{1}\u{2233}\u{2}awint;\u{1}\u{2a11}\u{2}bNot;\u{1}\u{2aed}\u{2}\
backcong;\u{1}\u{224c}\u{2}backepsilon;\u{1}\u{3f6}\u{2}backprime;\u{1}\u{2035}\u{2}backsim;\u{1}\u{223d}\u{2}\
backsimeq;\u{1}\u{22cd}\u{2}barvee;\u{1}\u{22bd}\u{2}barwed;\u{1}\u{2305}\u{2}barwedge;\u{1}\u{2305}\u{2}\
bbrk;\u{1}\u{23b5}\u{2}bbrktbrk;\u{1}\u{23b6}\u{2}bcong;\u{1}\u{224c}\u{2}bcy;\u{1}\u{431}\u{2}\
bdquo;\u{1}\u{201e}\u{2}becaus;\u{1}\u{2235}\u{2}because;\u{1}\u{2235}\u{2}bemptyv;\u{1}\u{29b0}\u{2}\
bepsi;\u{1}\u{3f6}\u{2}bernou;\u{1}\u{212c}\u{2}beta;\u{1}\u{3b2}\u{2}beth;\u{1}\u{2136}\u{2}\
between;\u{1}\u{226c}\u{2}bfr;\u{1}\u{1d51f}\u{2}bigcap;\u{1}\u{22c2}\u{2}bigcirc;\u{1}\u{25ef}\u{2}\
bigcup;\u{1}\u{22c3}\u{2}bigodot;\u{1}\u{2a00}\u{2}bigoplus;\u{1}\u{2a01}\u{2}bigotimes;\u{1}\u{2a02}\u{2}\
bigsqcup;\u{1}\u{2a06}\u{2}bigstar;\u{1}\u{2605}\u{2}bigtriangledown;\u{1}\u{25bd}\u{2}bigtriangleup;\u{1}\u{25b3}\u{2}\
biguplus;\u{1}\u{2a04}\u{2}bigvee;\u{1}\u{22c1}\u{2}bigwedge;\u{1}\u{22c0}\u{2}bkarow;\u{1}\u{290d}\u{2}\
blacklozenge;\u{1}\u{29eb}\u{2}blacksquare;\u{1}\u{25aa}\u{2}blacktriangle;\u{1}\u{25b4}\u{2}\
blacktriangledown;\u{1}\u{25be}\u{2}blacktriangleleft;\u{1}\u{25c2}\u{2}blacktriangleright;\u{1}\u{25b8}\u{2}\
blank;\u{1}\u{2423}\u{2}blk12;\u{1}\u{2592}\u{2}blk14;\u{1}\u{2591}\u{2}blk34;\u{1}\u{2593}\u{2}\
block;\u{1}\u{2588}\u{2}bne;\u{1}=\u{20e5}\u{2}bnequiv;\u{1}\u{2261}\u{20e5}\u{2}bnot;\u{1}\u{2310}\u{2}\
bopf;\u{1}\u{1d553}\u{2}bot;\u{1}\u{22a5}\u{2}bottom;\u{1}\u{22a5}\u{2}bowtie;\u{1}\u{22c8}\u{2}\
boxDL;\u{1}\u{2557}\u{2}boxDR;\u{1}\u{2554}\u{2}boxDl;\u{1}\u{2556}\u{2}boxDr;\u{1}\u{2553}\u{2}\
boxH;\u{1}\u{2550}\u{2}boxHD;\u{1}\u{2566}\u{2}boxHU;\u{1}\u{2569}\u{2}boxHd;\u{1}\u{2564}\u{2}\
boxHu;\u{1}\u{2567}\u{2}boxUL;\u{1}\u{255d}\u{2}boxUR;\u{1}\u{255a}\u{2}boxUl;\u{1}\u{255c}\u{2}\
boxUr;\u{1}\u{2559}\u{2}boxV;\u{1}\u{2551}\u{2}boxVH;\u{1}\u{256c}\u{2}boxVL;\u{1}\u{2563}\u{2}\
boxVR;\u{1}\u{2560}\u{2}boxVh;\u{1}\u{256b}\u{2}boxVl;\u{1}\u{2562}\u{2}boxVr;\u{1}\u{255f}\u{2}\
boxbox;\u{1}\u{29c9}\u{2}boxdL;\u{1}\u{2555}\u{2}boxdR;\u{1}\u{2552}\u{2}boxdl;\u{1}\u{2510}\u{2}\
boxdr;\u{1}\u{250c}\u{2}boxh;\u{1}\u{2500}\u{2}boxhD;\u{1}\u{2565}\u{2}boxhU;\u{1}\u{2568}\u{2}\
boxhd;\u{1}\u{252c}\u{2}boxhu;\u{1}\u{2534}\u{2}boxminus;\u{1}\u{229f}\u{2}boxplus;\u{1}\u{229e}\u{2}\
boxtimes;\u{1}\u{22a0}\u{2}boxuL;\u{1}\u{255b}\u{2}boxuR;\u{1}\u{2558}\u{2}boxul;\u{1}\u{2518}\u{2}\
boxur;\u{1}\u{2514}\u{2}boxv;\u{1}\u{2502}\u{2}boxvH;\u{1}\u{256a}\u{2}boxvL;\u{1}\u{2561}\u{2}\
boxvR;\u{1}\u{255e}\u{2}boxvh;\u{1}\u{253c}\u{2}boxvl;\u{1}\u{2524}\u{2}boxvr;\u{1}\u{251c}\u{2}\
bprime;\u{1}\u{2035}\u{2}breve;\u{1}\u{2d8}\u{2}brvbar\u{1}\u{a6}\u{2}brvbar;\u{1}\u{a6}\u{2}\
bscr;\u{1}\u{1d4b7}\u{2}bsemi;\u{1}\u{204f}\u{2}bsim;\u{1}\u{223d}\u{2}bsime;\u{1}\u{22cd}\u{2}\
bsol;\u{1}\u{5c}\u{2}bsolb;\u{1}\u{29c5}\u{2}bsolhsub;\u{1}\u{27c8}\u{2}bull;\u{1}\u{2022}\u{2}\
bullet;\u{1}\u{2022}\u{2}bump;\u{1}\u{224e}\u{2}bumpE;\u{1}\u{2aae}\u{2}bumpe;\u{1}\u{224f}\u{2}\
bumpeq;\u{1}\u{224f}\u{2}cacute;\u{1}\u{107}\u{2}cap;\u{1}\u{2229}\u{2}capand;\u{1}\u{2a44}\u{2}\
capbrcup;\u{1}\u{2a49}\u{2}capcap;\u{1}\u{2a4b}\u{2}capcup;\u{1}\u{2a47}\u{2}capdot;\u{1}\u{2a40}\u{2}\
caps;\u{1}\u{2229}\u{fe00}\u{2}caret;\u{1}\u{2041}\u{2}caron;\u{1}\u{2c7}\u{2}ccaps;\u{1}\u{2a4d}\u{2}\
ccaron;\u{1}\u{10d}\u{2}ccedil\u{1}\u{e7}\u{2}ccedil;\u{1}\u{e7}\u{2}ccirc;\u{1}\u{109}\u{2}\
ccups;\u{1}\u{2a4c}\u{2}ccupssm;\u{1}\u{2a50}\u{2}cdot;\u{1}\u{10b}\u{2}cedil\u{1}\u{b8}\u{2}\
cedil;\u{1}\u{b8}\u{2}cemptyv;\u{1}\u{29b2}\u{2}cent\u{1}\u{a2}\u{2}cent;\u{1}\u{a2}\u{2}centerdot;\u{1}\u{b7}\u{2}\
cfr;\u{1}\u{1d520}\u{2}chcy;\u{1}\u{447}\u{2}check;\u{1}\u{2713}\u{2}checkmark;\u{1}\u{2713}\u{2}\
chi;\u{1}\u{3c7}\u{2}cir;\u{1}\u{25cb}\u{2}cirE;\u{1}\u{29c3}\u{2}circ;\u{1}\u{2c6}\u{2}circeq;\u{1}\u{2257}\u{2}\
circlearrowleft;\u{1}\u{21ba}\u{2}circlearrowright;\u{1}\u{21bb}\u{2}circledR;\u{1}\u{ae}\u{2}\
circledS;\u{1}\u{24c8}\u{2}circledast;\u{1}\u{229b}\u{2}circledcirc;\u{1}\u{229a}\u{2}circleddash;\u{1}\u{229d}\u{2}\
cire;\u{1}\u{2257}\u{2}cirfnint;\u{1}\u{2a10}\u{2}cirmid;\u{1}\u{2aef}\u{2}cirscir;\u{1}\u{29c2}\u{2}\
clubs;\u{1}\u{2663}\u{2}clubsuit;\u{1}\u{2663}\u{2}colon;\u{1}:\u{2}colone;\u{1}\u{2254}\u{2}\
coloneq;\u{1}\u{2254}\u{2}comma;\u{1},\u{2}commat;\u{1}@\u{2}comp;\u{1}\u{2201}\u{2}compfn;\u{1}\u{2218}\u{2}\
complement;\u{1}\u{2201}\u{2}complexes;\u{1}\u{2102}\u{2}cong;\u{1}\u{2245}\u{2}congdot;\u{1}\u{2a6d}\u{2}\
conint;\u{1}\u{222e}\u{2}copf;\u{1}\u{1d554}\u{2}coprod;\u{1}\u{2210}\u{2}copy\u{1}\u{a9}\u{2}\
copy;\u{1}\u{a9}\u{2}copysr;\u{1}\u{2117}\u{2}crarr;\u{1}\u{21b5}\u{2}cross;\u{1}\u{2717}\u{2}\
cscr;\u{1}\u{1d4b8}\u{2}csub;\u{1}\u{2acf}\u{2}csube;\u{1}\u{2ad1}\u{2}csup;\u{1}\u{2ad0}\u{2}\
csupe;\u{1}\u{2ad2}\u{2}ctdot;\u{1}\u{22ef}\u{2}cudarrl;\u{1}\u{2938}\u{2}cudarrr;\u{1}\u{2935}\u{2}\
cuepr;\u{1}\u{22de}\u{2}cuesc;\u{1}\u{22df}\u{2}cularr;\u{1}\u{21b6}\u{2}cularrp;\u{1}\u{293d}\u{2}\
cup;\u{1}\u{222a}\u{2}cupbrcap;\u{1}\u{2a48}\u{2}cupcap;\u{1}\u{2a46}\u{2}cupcup;\u{1}\u{2a4a}\u{2}\
cupdot;\u{1}\u{228d}\u{2}cupor;\u{1}\u{2a45}\u{2}cups;\u{1}\u{222a}\u{fe00}\u{2}curarr;\u{1}\u{21b7}\u{2}\
curarrm;\u{1}\u{293c}\u{2}curlyeqprec;\u{1}\u{22de}\u{2}curlyeqsucc;\u{1}\u{22df}\u{2}curlyvee;\u{1}\u{22ce}\u{2}\
curlywedge;\u{1}\u{22cf}\u{2}curren\u{1}\u{a4}\u{2}curren;\u{1}\u{a4}\u{2}curvearrowleft;\u{1}\u{21b6}\u{2}\
curvearrowright;\u{1}\u{21b7}\u{2}cuvee;\u{1}\u{22ce}\u{2}cuwed;\u{1}\u{22cf}\u{2}cwconint;\u{1}\u{2232}\u{2}\
cwint;\u{1}\u{2231}\u{2}cylcty;\u{1}\u{232d}\u{2}dArr;\u{1}\u{21d3}\u{2}dHar;\u{1}\u{2965}\u{2}\
dagger;\u{1}\u{2020}\u{2}daleth;\u{1}\u{2138}\u{2}darr;\u{1}\u{2193}\u{2}dash;\u{1}\u{2010}\u{2}\
dashv;\u{1}\u{22a3}\u{2}dbkarow;\u{1}\u{290f}\u{2}dblac;\u{1}\u{2dd}\u{2}dcaron;\u{1}\u{10f}\u{2}\
dcy;\u{1}\u{434}\u{2}dd;\u{1}\u{2146}\u{2}ddagger;\u{1}\u{2021}\u{2}ddarr;\u{1}\u{21ca}\u{2}\
ddotseq;\u{1}\u{2a77}\u{2}deg\u{1}\u{b0}\u{2}deg;\u{1}\u{b0}\u{2}delta;\u{1}\u{3b4}\u{2}demptyv;\u{1}\u{29b1}\u{2}\
dfisht;\u{1}\u{297f}\u{2}dfr;\u{1}\u{1d521}\u{2}dharl;\u{1}\u{21c3}\u{2}dharr;\u{1}\u{21c2}\u{2}\
diam;\u{1}\u{22c4}\u{2}diamond;\u{1}\u{22c4}\u{2}diamondsuit;\u{1}\u{2666}\u{2}diams;\u{1}\u{2666}\u{2}\
die;\u{1}\u{a8}\u{2}digamma;\u{1}\u{3dd}\u{2}disin;\u{1}\u{22f2}\u{2}div;\u{1}\u{f7}\u{2}divide\u{1}\u{f7}\u{2}\
divide;\u{1}\u{f7}\u{2}divideontimes;\u{1}\u{22c7}\u{2}divonx;\u{1}\u{22c7}\u{2}djcy;\u{1}\u{452}\u{2}\
dlcorn;\u{1}\u{231e}\u{2}dlcrop;\u{1}\u{230d}\u{2}dollar;\u{1}$\u{2}dopf;\u{1}\u{1d555}\u{2}\
dot;\u{1}\u{2d9}\u{2}doteq;\u{1}\u{2250}\u{2}doteqdot;\u{1}\u{2251}\u{2}dotminus;\u{1}\u{2238}\u{2}\
dotplus;\u{1}\u{2214}\u{2}dotsquare;\u{1}\u{22a1}\u{2}doublebarwedge;\u{1}\u{2306}\u{2}downarrow;\u{1}\u{2193}\u{2}\
downdownarrows;\u{1}\u{21ca}\u{2}downharpoonleft;\u{1}\u{21c3}\u{2}downharpoonright;\u{1}\u{21c2}\u{2}\
drbkarow;\u{1}\u{2910}\u{2}drcorn;\u{1}\u{231f}\u{2}drcrop;\u{1}\u{230c}\u{2}dscr;\u{1}\u{1d4b9}\u{2}\
dscy;\u{1}\u{455}\u{2}dsol;\u{1}\u{29f6}\u{2}dstrok;\u{1}\u{111}\u{2}dtdot;\u{1}\u{22f1}\u{2}\
dtri;\u{1}\u{25bf}\u{2}dtrif;\u{1}\u{25be}\u{2}duarr;\u{1}\u{21f5}\u{2}duhar;\u{1}\u{296f}\u{2}\
dwangle;\u{1}\u{29a6}\u{2}dzcy;\u{1}\u{45f}\u{2}dzigrarr;\u{1}\u{27ff}\u{2}eDDot;\u{1}\u{2a77}\u{2}\
eDot;\u{1}\u{2251}\u{2}eacute\u{1}\u{e9}\u{2}eacute;\u{1}\u{e9}\u{2}easter;\u{1}\u{2a6e}\u{2}\
ecaron;\u{1}\u{11b}\u{2}ecir;\u{1}\u{2256}\u{2}ecirc\u{1}\u{ea}\u{2}ecirc;\u{1}\u{ea}\u{2}ecolon;\u{1}\u{2255}\u{2}\
ecy;\u{1}\u{44d}\u{2}edot;\u{1}\u{117}\u{2}ee;\u{1}\u{2147}\u{2}efDot;\u{1}\u{2252}\u{2}efr;\u{1}\u{1d522}\u{2}\
eg;\u{1}\u{2a9a}\u{2}egrave\u{1}\u{e8}\u{2}egrave;\u{1}\u{e8}\u{2}egs;\u{1}\u{2a96}\u{2}egsdot;\u{1}\u{2a98}\u{2}\
el;\u{1}\u{2a99}\u{2}elinters;\u{1}\u{23e7}\u{2}ell;\u{1}\u{2113}\u{2}els;\u{1}\u{2a95}\u{2}\
elsdot;\u{1}\u{2a97}\u{2}emacr;\u{1}\u{113}\u{2}empty;\u{1}\u{2205}\u{2}emptyset;\u{1}\u{2205}\u{2}\
emptyv;\u{1}\u{2205}\u{2}emsp13;\u{1}\u{2004}\u{2}emsp14;\u{1}\u{2005}\u{2}emsp;\u{1}\u{2003}\u{2}\
eng;\u{1}\u{14b}\u{2}ensp;\u{1}\u{2002}\u{2}eogon;\u{1}\u{119}\u{2}eopf;\u{1}\u{1d556}\u{2}\
epar;\u{1}\u{22d5}\u{2}eparsl;\u{1}\u{29e3}\u{2}eplus;\u{1}\u{2a71}\u{2}epsi;\u{1}\u{3b5}\u{2}\
epsilon;\u{1}\u{3b5}\u{2}epsiv;\u{1}\u{3f5}\u{2}eqcirc;\u{1}\u{2256}\u{2}eqcolon;\u{1}\u{2255}\u{2}\
eqsim;\u{1}\u{2242}\u{2}eqslantgtr;\u{1}\u{2a96}\u{2}eqslantless;\u{1}\u{2a95}\u{2}equals;\u{1}=\u{2}\
equest;\u{1}\u{225f}\u{2}equiv;\u{1}\u{2261}\u{2}equivDD;\u{1}\u{2a78}\u{2}eqvparsl;\u{1}\u{29e5}\u{2}\
erDot;\u{1}\u{2253}\u{2}erarr;\u{1}\u{2971}\u{2}escr;\u{1}\u{212f}\u{2}esdot;\u{1}\u{2250}\u{2}\
esim;\u{1}\u{2242}\u{2}eta;\u{1}\u{3b7}\u{2}eth\u{1}\u{f0}\u{2}eth;\u{1}\u{f0}\u{2}euml\u{1}\u{eb}\u{2}\
euml;\u{1}\u{eb}\u{2}euro;\u{1}\u{20ac}\u{2}excl;\u{1}!\u{2}exist;\u{1}\u{2203}\u{2}expectation;\u{1}\u{2130}\u{2}\
exponentiale;\u{1}\u{2147}\u{2}fallingdotseq;\u{1}\u{2252}\u{2}fcy;\u{1}\u{444}\u{2}female;\u{1}\u{2640}\u{2}\
ffilig;\u{1}\u{fb03}\u{2}fflig;\u{1}\u{fb00}\u{2}ffllig;\u{1}\u{fb04}\u{2}ffr;\u{1}\u{1d523}\u{2}\
filig;\u{1}\u{fb01}\u{2}fjlig;\u{1}fj\u{2}flat;\u{1}\u{266d}\u{2}fllig;\u{1}\u{fb02}\u{2}fltns;\u{1}\u{25b1}\u{2}\
fnof;\u{1}\u{192}\u{2}fopf;\u{1}\u{1d557}\u{2}forall;\u{1}\u{2200}\u{2}fork;\u{1}\u{22d4}\u{2}\
forkv;\u{1}\u{2ad9}\u{2}fpartint;\u{1}\u{2a0d}\u{2}frac12\u{1}\u{bd}\u{2}frac12;\u{1}\u{bd}\u{2}\
frac13;\u{1}\u{2153}\u{2}frac14\u{1}\u{bc}\u{2}frac14;\u{1}\u{bc}\u{2}frac15;\u{1}\u{2155}\u{2}\
frac16;\u{1}\u{2159}\u{2}frac18;\u{1}\u{215b}\u{2}frac23;\u{1}\u{2154}\u{2}frac25;\u{1}\u{2156}\u{2}\
frac34\u{1}\u{be}\u{2}frac34;\u{1}\u{be}\u{2}frac35;\u{1}\u{2157}\u{2}frac38;\u{1}\u{215c}\u{2}\
frac45;\u{1}\u{2158}\u{2}frac56;\u{1}\u{215a}\u{2}frac58;\u{1}\u{215d}\u{2}frac78;\u{1}\u{215e}\u{2}\
frasl;\u{1}\u{2044}\u{2}frown;\u{1}\u{2322}\u{2}fscr;\u{1}\u{1d4bb}\u{2}gE;\u{1}\u{2267}\u{2}\
gEl;\u{1}\u{2a8c}\u{2}gacute;\u{1}\u{1f5}\u{2}gamma;\u{1}\u{3b3}\u{2}gammad;\u{1}\u{3dd}\u{2}\
gap;\u{1}\u{2a86}\u{2}gbreve;\u{1}\u{11f}\u{2}gcirc;\u{1}\u{11d}\u{2}gcy;\u{1}\u{433}\u{2}gdot;\u{1}\u{121}\u{2}\
ge;\u{1}\u{2265}\u{2}gel;\u{1}\u{22db}\u{2}geq;\u{1}\u{2265}\u{2}geqq;\u{1}\u{2267}\u{2}geqslant;\u{1}\u{2a7e}\u{2}\
ges;\u{1}\u{2a7e}\u{2}gescc;\u{1}\u{2aa9}\u{2}gesdot;\u{1}\u{2a80}\u{2}gesdoto;\u{1}\u{2a82}\u{2}\
gesdotol;\u{1}\u{2a84}\u{2}gesl;\u{1}\u{22db}\u{fe00}\u{2}gesles;\u{1}\u{2a94}\u{2}gfr;\u{1}\u{1d524}\u{2}\
gg;\u{1}\u{226b}\u{2}ggg;\u{1}\u{22d9}\u{2}gimel;\u{1}\u{2137}\u{2}gjcy;\u{1}\u{453}\u{2}gl;\u{1}\u{2277}\u{2}\
glE;\u{1}\u{2a92}\u{2}gla;\u{1}\u{2aa5}\u{2}glj;\u{1}\u{2aa4}\u{2}gnE;\u{1}\u{2269}\u{2}gnap;\u{1}\u{2a8a}\u{2}\
gnapprox;\u{1}\u{2a8a}\u{2}gne;\u{1}\u{2a88}\u{2}gneq;\u{1}\u{2a88}\u{2}gneqq;\u{1}\u{2269}\u{2}\
gnsim;\u{1}\u{22e7}\u{2}gopf;\u{1}\u{1d558}\u{2}grave;\u{1}`\u{2}gscr;\u{1}\u{210a}\u{2}gsim;\u{1}\u{2273}\u{2}\
gsime;\u{1}\u{2a8e}\u{2}gsiml;\u{1}\u{2a90}\u{2}gt\u{1}>\u{2}gt;\u{1}>\u{2}gtcc;\u{1}\u{2aa7}\u{2}\
gtcir;\u{1}\u{2a7a}\u{2}gtdot;\u{1}\u{22d7}\u{2}gtlPar;\u{1}\u{2995}\u{2}gtquest;\u{1}\u{2a7c}\u{2}\
gtrapprox;\u{1}\u{2a86}\u{2}gtrarr;\u{1}\u{2978}\u{2}gtrdot;\u{1}\u{22d7}\u{2}gtreqless;\u{1}\u{22db}\u{2}\
gtreqqless;\u{1}\u{2a8c}\u{2}gtrless;\u{1}\u{2277}\u{2}gtrsim;\u{1}\u{2273}\u{2}gvertneqq;\u{1}\u{2269}\u{fe00}\u{2}\
gvnE;\u{1}\u{2269}\u{fe00}\u{2}hArr;\u{1}\u{21d4}\u{2}hairsp;\u{1}\u{200a}\u{2}half;\u{1}\u{bd}\u{2}\
hamilt;\u{1}\u{210b}\u{2}hardcy;\u{1}\u{44a}\u{2}harr;\u{1}\u{2194}\u{2}harrcir;\u{1}\u{2948}\u{2}\
harrw;\u{1}\u{21ad}\u{2}hbar;\u{1}\u{210f}\u{2}hcirc;\u{1}\u{125}\u{2}hearts;\u{1}\u{2665}\u{2}\
heartsuit;\u{1}\u{2665}\u{2}hellip;\u{1}\u{2026}\u{2}hercon;\u{1}\u{22b9}\u{2}hfr;\u{1}\u{1d525}\u{2}\
hksearow;\u{1}\u{2925}\u{2}hkswarow;\u{1}\u{2926}\u{2}hoarr;\u{1}\u{21ff}\u{2}homtht;\u{1}\u{223b}\u{2}\
hookleftarrow;\u{1}\u{21a9}\u{2}hookrightarrow;\u{1}\u{21aa}\u{2}hopf;\u{1}\u{1d559}\u{2}horbar;\u{1}\u{2015}\u{2}\
hscr;\u{1}\u{1d4bd}\u{2}hslash;\u{1}\u{210f}\u{2}hstrok;\u{1}\u{127}\u{2}hybull;\u{1}\u{2043}\u{2}\
hyphen;\u{1}\u{2010}\u{2}iacute\u{1}\u{ed}\u{2}iacute;\u{1}\u{ed}\u{2}ic;\u{1}\u{2063}\u{2}\
icirc\u{1}\u{ee}\u{2}icirc;\u{1}\u{ee}\u{2}icy;\u{1}\u{438}\u{2}iecy;\u{1}\u{435}\u{2}iexcl\u{1}\u{a1}\u{2}\
iexcl;\u{1}\u{a1}\u{2}iff;\u{1}\u{21d4}\u{2}ifr;\u{1}\u{1d526}\u{2}igrave\u{1}\u{ec}\u{2}igrave;\u{1}\u{ec}\u{2}\
ii;\u{1}\u{2148}\u{2}iiiint;\u{1}\u{2a0c}\u{2}iiint;\u{1}\u{222d}\u{2}iinfin;\u{1}\u{29dc}\u{2}\
iiota;\u{1}\u{2129}\u{2}ijlig;\u{1}\u{133}\u{2}imacr;\u{1}\u{12b}\u{2}image;\u{1}\u{2111}\u{2}\
imagline;\u{1}\u{2110}\u{2}imagpart;\u{1}\u{2111}\u{2}imath;\u{1}\u{131}\u{2}imof;\u{1}\u{22b7}\u{2}\
imped;\u{1}\u{1b5}\u{2}in;\u{1}\u{2208}\u{2}incare;\u{1}\u{2105}\u{2}infin;\u{1}\u{221e}\u{2}\
infintie;\u{1}\u{29dd}\u{2}inodot;\u{1}\u{131}\u{2}int;\u{1}\u{222b}\u{2}intcal;\u{1}\u{22ba}\u{2}\
integers;\u{1}\u{2124}\u{2}intercal;\u{1}\u{22ba}\u{2}intlarhk;\u{1}\u{2a17}\u{2}intprod;\u{1}\u{2a3c}\u{2}\
iocy;\u{1}\u{451}\u{2}iogon;\u{1}\u{12f}\u{2}iopf;\u{1}\u{1d55a}\u{2}iota;\u{1}\u{3b9}\u{2}\
iprod;\u{1}\u{2a3c}\u{2}iquest\u{1}\u{bf}\u{2}iquest;\u{1}\u{bf}\u{2}iscr;\u{1}\u{1d4be}\u{2}\
isin;\u{1}\u{2208}\u{2}isinE;\u{1}\u{22f9}\u{2}isindot;\u{1}\u{22f5}\u{2}isins;\u{1}\u{22f4}\u{2}\
isinsv;\u{1}\u{22f3}\u{2}isinv;\u{1}\u{2208}\u{2}it;\u{1}\u{2062}\u{2}itilde;\u{1}\u{129}\u{2}\
iukcy;\u{1}\u{456}\u{2}iuml\u{1}\u{ef}\u{2}iuml;\u{1}\u{ef}\u{2}jcirc;\u{1}\u{135}\u{2}jcy;\u{1}\u{439}\u{2}\
jfr;\u{1}\u{1d527}\u{2}jmath;\u{1}\u{237}\u{2}jopf;\u{1}\u{1d55b}\u{2}jscr;\u{1}\u{1d4bf}\u{2}\
jsercy;\u{1}\u{458}\u{2}jukcy;\u{1}\u{454}\u{2}kappa;\u{1}\u{3ba}\u{2}kappav;\u{1}\u{3f0}\u{2}\
kcedil;\u{1}\u{137}\u{2}kcy;\u{1}\u{43a}\u{2}kfr;\u{1}\u{1d528}\u{2}kgreen;\u{1}\u{138}\u{2}\
khcy;\u{1}\u{445}\u{2}kjcy;\u{1}\u{45c}\u{2}kopf;\u{1}\u{1d55c}\u{2}kscr;\u{1}\u{1d4c0}\u{2}\
lAarr;\u{1}\u{21da}\u{2}lArr;\u{1}\u{21d0}\u{2}lAtail;\u{1}\u{291b}\u{2}lBarr;\u{1}\u{290e}\u{2}\
lE;\u{1}\u{2266}\u{2}lEg;\u{1}\u{2a8b}\u{2}lHar;\u{1}\u{2962}\u{2}lacute;\u{1}\u{13a}\u{2}laemptyv;\u{1}\u{29b4}\u{2}\
lagran;\u{1}\u{2112}\u{2}lambda;\u{1}\u{3bb}\u{2}lang;\u{1}\u{27e8}\u{2}langd;\u{1}\u{2991}\u{2}\
langle;\u{1}\u{27e8}\u{2}lap;\u{1}\u{2a85}\u{2}laquo\u{1}\u{ab}\u{2}laquo;\u{1}\u{ab}\u{2}larr;\u{1}\u{2190}\u{2}\
larrb;\u{1}\u{21e4}\u{2}larrbfs;\u{1}\u{291f}\u{2}larrfs;\u{1}\u{291d}\u{2}larrhk;\u{1}\u{21a9}\u{2}\
larrlp;\u{1}\u{21ab}\u{2}larrpl;\u{1}\u{2939}\u{2}larrsim;\u{1}\u{2973}\u{2}larrtl;\u{1}\u{21a2}\u{2}\
lat;\u{1}\u{2aab}\u{2}latail;\u{1}\u{2919}\u{2}late;\u{1}\u{2aad}\u{2}lates;\u{1}\u{2aad}\u{fe00}\u{2}\
lbarr;\u{1}\u{290c}\u{2}lbbrk;\u{1}\u{2772}\u{2}lbrace;\u{1}{\u{2}lbrack;\u{1}[\u{2}lbrke;\u{1}\u{298b}\u{2}\
lbrksld;\u{1}\u{298f}\u{2}lbrkslu;\u{1}\u{298d}\u{2}lcaron;\u{1}\u{13e}\u{2}lcedil;\u{1}\u{13c}\u{2}\
lceil;\u{1}\u{2308}\u{2}lcub;\u{1}{\u{2}lcy;\u{1}\u{43b}\u{2}ldca;\u{1}\u{2936}\u{2}ldquo;\u{1}\u{201c}\u{2}\
ldquor;\u{1}\u{201e}\u{2}ldrdhar;\u{1}\u{2967}\u{2}ldrushar;\u{1}\u{294b}\u{2}ldsh;\u{1}\u{21b2}\u{2}\
le;\u{1}\u{2264}\u{2}leftarrow;\u{1}\u{2190}\u{2}leftarrowtail;\u{1}\u{21a2}\u{2}leftharpoondown;\u{1}\u{21bd}\u{2}\
leftharpoonup;\u{1}\u{21bc}\u{2}leftleftarrows;\u{1}\u{21c7}\u{2}leftrightarrow;\u{1}\u{2194}\u{2}\
leftrightarrows;\u{1}\u{21c6}\u{2}leftrightharpoons;\u{1}\u{21cb}\u{2}leftrightsquigarrow;\u{1}\u{21ad}\u{2}\
leftthreetimes;\u{1}\u{22cb}\u{2}leg;\u{1}\u{22da}\u{2}leq;\u{1}\u{2264}\u{2}leqq;\u{1}\u{2266}\u{2}\
leqslant;\u{1}\u{2a7d}\u{2}les;\u{1}\u{2a7d}\u{2}lescc;\u{1}\u{2aa8}\u{2}lesdot;\u{1}\u{2a7f}\u{2}\
lesdoto;\u{1}\u{2a81}\u{2}lesdotor;\u{1}\u{2a83}\u{2}lesg;\u{1}\u{22da}\u{fe00}\u{2}lesges;\u{1}\u{2a93}\u{2}\
lessapprox;\u{1}\u{2a85}\u{2}lessdot;\u{1}\u{22d6}\u{2}lesseqgtr;\u{1}\u{22da}\u{2}lesseqqgtr;\u{1}\u{2a8b}\u{2}\
lessgtr;\u{1}\u{2276}\u{2}lesssim;\u{1}\u{2272}\u{2}lfisht;\u{1}\u{297c}\u{2}lfloor;\u{1}\u{230a}\u{2}\
lfr;\u{1}\u{1d529}\u{2}lg;\u{1}\u{2276}\u{2}lgE;\u{1}\u{2a91}\u{2}lhard;\u{1}\u{21bd}\u{2}lharu;\u{1}\u{21bc}\u{2}\
lharul;\u{1}\u{296a}\u{2}lhblk;\u{1}\u{2584}\u{2}ljcy;\u{1}\u{459}\u{2}ll;\u{1}\u{226a}\u{2}\
llarr;\u{1}\u{21c7}\u{2}llcorner;\u{1}\u{231e}\u{2}llhard;\u{1}\u{296b}\u{2}lltri;\u{1}\u{25fa}\u{2}\
lmidot;\u{1}\u{140}\u{2}lmoust;\u{1}\u{23b0}\u{2}lmoustache;\u{1}\u{23b0}\u{2}lnE;\u{1}\u{2268}\u{2}\
lnap;\u{1}\u{2a89}\u{2}lnapprox;\u{1}\u{2a89}\u{2}lne;\u{1}\u{2a87}\u{2}lneq;\u{1}\u{2a87}\u{2}\
lneqq;\u{1}\u{2268}\u{2}lnsim;\u{1}\u{22e6}\u{2}loang;\u{1}\u{27ec}\u{2}loarr;\u{1}\u{21fd}\u{2}\
lobrk;\u{1}\u{27e6}\u{2}longleftarrow;\u{1}\u{27f5}\u{2}longleftrightarrow;\u{1}\u{27f7}\u{2}\
longmapsto;\u{1}\u{27fc}\u{2}longrightarrow;\u{1}\u{27f6}\u{2}looparrowleft;\u{1}\u{21ab}\u{2}\
looparrowright;\u{1}\u{21ac}\u{2}lopar;\u{1}\u{2985}\u{2}lopf;\u{1}\u{1d55d}\u{2}loplus;\u{1}\u{2a2d}\u{2}\
lotimes;\u{1}\u{2a34}\u{2}lowast;\u{1}\u{2217}\u{2}lowbar;\u{1}_\u{2}loz;\u{1}\u{25ca}\u{2}\
lozenge;\u{1}\u{25ca}\u{2}lozf;\u{1}\u{29eb}\u{2}lpar;\u{1}(\u{2}lparlt;\u{1}\u{2993}\u{2}lrarr;\u{1}\u{21c6}\u{2}\
lrcorner;\u{1}\u{231f}\u{2}lrhar;\u{1}\u{21cb}\u{2}lrhard;\u{1}\u{296d}\u{2}lrm;\u{1}\u{200e}\u{2}\
lrtri;\u{1}\u{22bf}\u{2}lsaquo;\u{1}\u{2039}\u{2}lscr;\u{1}\u{1d4c1}\u{2}lsh;\u{1}\u{21b0}\u{2}\
lsim;\u{1}\u{2272}\u{2}lsime;\u{1}\u{2a8d}\u{2}lsimg;\u{1}\u{2a8f}\u{2}lsqb;\u{1}[\u{2}lsquo;\u{1}\u{2018}\u{2}\
lsquor;\u{1}\u{201a}\u{2}lstrok;\u{1}\u{142}\u{2}lt\u{1}<\u{2}lt;\u{1}<\u{2}ltcc;\u{1}\u{2aa6}\u{2}\
ltcir;\u{1}\u{2a79}\u{2}ltdot;\u{1}\u{22d6}\u{2}lthree;\u{1}\u{22cb}\u{2}ltimes;\u{1}\u{22c9}\u{2}\
ltlarr;\u{1}\u{2976}\u{2}ltquest;\u{1}\u{2a7b}\u{2}ltrPar;\u{1}\u{2996}\u{2}ltri;\u{1}\u{25c3}\u{2}\
ltrie;\u{1}\u{22b4}\u{2}ltrif;\u{1}\u{25c2}\u{2}lurdshar;\u{1}\u{294a}\u{2}luruhar;\u{1}\u{2966}\u{2}\
lvertneqq;\u{1}\u{2268}\u{fe00}\u{2}lvnE;\u{1}\u{2268}\u{fe00}\u{2}mDDot;\u{1}\u{223a}\u{2}\
macr\u{1}\u{af}\u{2}macr;\u{1}\u{af}\u{2}male;\u{1}\u{2642}\u{2}malt;\u{1}\u{2720}\u{2}maltese;\u{1}\u{2720}\u{2}\
map;\u{1}\u{21a6}\u{2}mapsto;\u{1}\u{21a6}\u{2}mapstodown;\u{1}\u{21a7}\u{2}mapstoleft;\u{1}\u{21a4}\u{2}\
mapstoup;\u{1}\u{21a5}\u{2}marker;\u{1}\u{25ae}\u{2}mcomma;\u{1}\u{2a29}\u{2}mcy;\u{1}\u{43c}\u{2}\
mdash;\u{1}\u{2014}\u{2}measuredangle;\u{1}\u{2221}\u{2}mfr;\u{1}\u{1d52a}\u{2}mho;\u{1}\u{2127}\u{2}\
micro\u{1}\u{b5}\u{2}micro;\u{1}\u{b5}\u{2}mid;\u{1}\u{2223}\u{2}midast;\u{1}*\u{2}midcir;\u{1}\u{2af0}\u{2}\
middot\u{1}\u{b7}\u{2}middot;\u{1}\u{b7}\u{2}minus;\u{1}\u{2212}\u{2}minusb;\u{1}\u{229f}\u{2}\
minusd;\u{1}\u{2238}\u{2}minusdu;\u{1}\u{2a2a}\u{2}mlcp;\u{1}\u{2adb}\u{2}mldr;\u{1}\u{2026}\u{2}\
mnplus;\u{1}\u{2213}\u{2}models;\u{1}\u{22a7}\u{2}mopf;\u{1}\u{1d55e}\u{2}mp;\u{1}\u{2213}\u{2}\
mscr;\u{1}\u{1d4c2}\u{2}mstpos;\u{1}\u{223e}\u{2}mu;\u{1}\u{3bc}\u{2}multimap;\u{1}\u{22b8}\u{2}\
mumap;\u{1}\u{22b8}\u{2}nGg;\u{1}\u{22d9}\u{338}\u{2}nGt;\u{1}\u{226b}\u{20d2}\u{2}nGtv;\u{1}\u{226b}\u{338}\u{2}\
nLeftarrow;\u{1}\u{21cd}\u{2}nLeftrightarrow;\u{1}\u{21ce}\u{2}nLl;\u{1}\u{22d8}\u{338}\u{2}\
nLt;\u{1}\u{226a}\u{20d2}\u{2}nLtv;\u{1}\u{226a}\u{338}\u{2}nRightarrow;\u{1}\u{21cf}\u{2}nVDash;\u{1}\u{22af}\u{2}\
nVdash;\u{1}\u{22ae}\u{2}nabla;\u{1}\u{2207}\u{2}nacute;\u{1}\u{144}\u{2}nang;\u{1}\u{2220}\u{20d2}\u{2}\
nap;\u{1}\u{2249}\u{2}napE;\u{1}\u{2a70}\u{338}\u{2}napid;\u{1}\u{224b}\u{338}\u{2}napos;\u{1}\u{149}\u{2}\
napprox;\u{1}\u{2249}\u{2}natur;\u{1}\u{266e}\u{2}natural;\u{1}\u{266e}\u{2}naturals;\u{1}\u{2115}\u{2}\
nbsp\u{1}\u{a0}\u{2}nbsp;\u{1}\u{a0}\u{2}nbump;\u{1}\u{224e}\u{338}\u{2}nbumpe;\u{1}\u{224f}\u{338}\u{2}\
ncap;\u{1}\u{2a43}\u{2}ncaron;\u{1}\u{148}\u{2}ncedil;\u{1}\u{146}\u{2}ncong;\u{1}\u{2247}\u{2}\
ncongdot;\u{1}\u{2a6d}\u{338}\u{2}ncup;\u{1}\u{2a42}\u{2}ncy;\u{1}\u{43d}\u{2}ndash;\u{1}\u{2013}\u{2}\
ne;\u{1}\u{2260}\u{2}neArr;\u{1}\u{21d7}\u{2}nearhk;\u{1}\u{2924}\u{2}nearr;\u{1}\u{2197}\u{2}\
nearrow;\u{1}\u{2197}\u{2}nedot;\u{1}\u{2250}\u{338}\u{2}nequiv;\u{1}\u{2262}\u{2}nesear;\u{1}\u{2928}\u{2}\
nesim;\u{1}\u{2242}\u{338}\u{2}nexist;\u{1}\u{2204}\u{2}nexists;\u{1}\u{2204}\u{2}nfr;\u{1}\u{1d52b}\u{2}\
ngE;\u{1}\u{2267}\u{338}\u{2}nge;\u{1}\u{2271}\u{2}ngeq;\u{1}\u{2271}\u{2}ngeqq;\u{1}\u{2267}\u{338}\u{2}\
ngeqslant;\u{1}\u{2a7e}\u{338}\u{2}nges;\u{1}\u{2a7e}\u{338}\u{2}ngsim;\u{1}\u{2275}\u{2}ngt;\u{1}\u{226f}\u{2}\
ngtr;\u{1}\u{226f}\u{2}nhArr;\u{1}\u{21ce}\u{2}nharr;\u{1}\u{21ae}\u{2}nhpar;\u{1}\u{2af2}\u{2}\
ni;\u{1}\u{220b}\u{2}nis;\u{1}\u{22fc}\u{2}nisd;\u{1}\u{22fa}\u{2}niv;\u{1}\u{220b}\u{2}njcy;\u{1}\u{45a}\u{2}\
nlArr;\u{1}\u{21cd}\u{2}nlE;\u{1}\u{2266}\u{338}\u{2}nlarr;\u{1}\u{219a}\u{2}nldr;\u{1}\u{2025}\u{2}\
nle;\u{1}\u{2270}\u{2}nleftarrow;\u{1}\u{219a}\u{2}nleftrightarrow;\u{1}\u{21ae}\u{2}nleq;\u{1}\u{2270}\u{2}\
nleqq;\u{1}\u{2266}\u{338}\u{2}nleqslant;\u{1}\u{2a7d}\u{338}\u{2}nles;\u{1}\u{2a7d}\u{338}\u{2}\
nless;\u{1}\u{226e}\u{2}nlsim;\u{1}\u{2274}\u{2}nlt;\u{1}\u{226e}\u{2}nltri;\u{1}\u{22ea}\u{2}\
nltrie;\u{1}\u{22ec}\u{2}nmid;\u{1}\u{2224}\u{2}nopf;\u{1}\u{1d55f}\u{2}not\u{1}\u{ac}\u{2}\
not;\u{1}\u{ac}\u{2}notin;\u{1}\u{2209}\u{2}notinE;\u{1}\u{22f9}\u{338}\u{2}notindot;\u{1}\u{22f5}\u{338}\u{2}\
notinva;\u{1}\u{2209}\u{2}notinvb;\u{1}\u{22f7}\u{2}notinvc;\u{1}\u{22f6}\u{2}notni;\u{1}\u{220c}\u{2}\
notniva;\u{1}\u{220c}\u{2}notnivb;\u{1}\u{22fe}\u{2}notnivc;\u{1}\u{22fd}\u{2}npar;\u{1}\u{2226}\u{2}\
nparallel;\u{1}\u{2226}\u{2}nparsl;\u{1}\u{2afd}\u{20e5}\u{2}npart;\u{1}\u{2202}\u{338}\u{2}\
npolint;\u{1}\u{2a14}\u{2}npr;\u{1}\u{2280}\u{2}nprcue;\u{1}\u{22e0}\u{2}npre;\u{1}\u{2aaf}\u{338}\u{2}\
nprec;\u{1}\u{2280}\u{2}npreceq;\u{1}\u{2aaf}\u{338}\u{2}nrArr;\u{1}\u{21cf}\u{2}nrarr;\u{1}\u{219b}\u{2}\
nrarrc;\u{1}\u{2933}\u{338}\u{2}nrarrw;\u{1}\u{219d}\u{338}\u{2}nrightarrow;\u{1}\u{219b}\u{2}\
nrtri;\u{1}\u{22eb}\u{2}nrtrie;\u{1}\u{22ed}\u{2}nsc;\u{1}\u{2281}\u{2}nsccue;\u{1}\u{22e1}\u{2}\
nsce;\u{1}\u{2ab0}\u{338}\u{2}nscr;\u{1}\u{1d4c3}\u{2}nshortmid;\u{1}\u{2224}\u{2}nshortparallel;\u{1}\u{2226}\u{2}\
nsim;\u{1}\u{2241}\u{2}nsime;\u{1}\u{2244}\u{2}nsimeq;\u{1}\u{2244}\u{2}nsmid;\u{1}\u{2224}\u{2}\
nspar;\u{1}\u{2226}\u{2}nsqsube;\u{1}\u{22e2}\u{2}nsqsupe;\u{1}\u{22e3}\u{2}nsub;\u{1}\u{2284}\u{2}\
nsubE;\u{1}\u{2ac5}\u{338}\u{2}nsube;\u{1}\u{2288}\u{2}nsubset;\u{1}\u{2282}\u{20d2}\u{2}nsubseteq;\u{1}\u{2288}\u{2}\
nsubseteqq;\u{1}\u{2ac5}\u{338}\u{2}nsucc;\u{1}\u{2281}\u{2}nsucceq;\u{1}\u{2ab0}\u{338}\u{2}\
nsup;\u{1}\u{2285}\u{2}nsupE;\u{1}\u{2ac6}\u{338}\u{2}nsupe;\u{1}\u{2289}\u{2}nsupset;\u{1}\u{2283}\u{20d2}\u{2}\
nsupseteq;\u{1}\u{2289}\u{2}nsupseteqq;\u{1}\u{2ac6}\u{338}\u{2}ntgl;\u{1}\u{2279}\u{2}ntilde\u{1}\u{f1}\u{2}\
ntilde;\u{1}\u{f1}\u{2}ntlg;\u{1}\u{2278}\u{2}ntriangleleft;\u{1}\u{22ea}\u{2}ntrianglelefteq;\u{1}\u{22ec}\u{2}\
ntriangleright;\u{1}\u{22eb}\u{2}ntrianglerighteq;\u{1}\u{22ed}\u{2}nu;\u{1}\u{3bd}\u{2}num;\u{1}#\u{2}\
numero;\u{1}\u{2116}\u{2}numsp;\u{1}\u{2007}\u{2}nvDash;\u{1}\u{22ad}\u{2}nvHarr;\u{1}\u{2904}\u{2}\
nvap;\u{1}\u{224d}\u{20d2}\u{2}nvdash;\u{1}\u{22ac}\u{2}nvge;\u{1}\u{2265}\u{20d2}\u{2}nvgt;\u{1}>\u{20d2}\u{2}\
nvinfin;\u{1}\u{29de}\u{2}nvlArr;\u{1}\u{2902}\u{2}nvle;\u{1}\u{2264}\u{20d2}\u{2}nvlt;\u{1}<\u{20d2}\u{2}\
nvltrie;\u{1}\u{22b4}\u{20d2}\u{2}nvrArr;\u{1}\u{2903}\u{2}nvrtrie;\u{1}\u{22b5}\u{20d2}\u{2}\
nvsim;\u{1}\u{223c}\u{20d2}\u{2}nwArr;\u{1}\u{21d6}\u{2}nwarhk;\u{1}\u{2923}\u{2}nwarr;\u{1}\u{2196}\u{2}\
nwarrow;\u{1}\u{2196}\u{2}nwnear;\u{1}\u{2927}\u{2}oS;\u{1}\u{24c8}\u{2}oacute\u{1}\u{f3}\u{2}\
oacute;\u{1}\u{f3}\u{2}oast;\u{1}\u{229b}\u{2}ocir;\u{1}\u{229a}\u{2}ocirc\u{1}\u{f4}\u{2}ocirc;\u{1}\u{f4}\u{2}\
ocy;\u{1}\u{43e}\u{2}odash;\u{1}\u{229d}\u{2}odblac;\u{1}\u{151}\u{2}odiv;\u{1}\u{2a38}\u{2}\
odot;\u{1}\u{2299}\u{2}odsold;\u{1}\u{29bc}\u{2}oelig;\u{1}\u{153}\u{2}ofcir;\u{1}\u{29bf}\u{2}\
ofr;\u{1}\u{1d52c}\u{2}ogon;\u{1}\u{2db}\u{2}ograve\u{1}\u{f2}\u{2}ograve;\u{1}\u{f2}\u{2}ogt;\u{1}\u{29c1}\u{2}\
ohbar;\u{1}\u{29b5}\u{2}ohm;\u{1}\u{3a9}\u{2}oint;\u{1}\u{222e}\u{2}olarr;\u{1}\u{21ba}\u{2}\
olcir;\u{1}\u{29be}\u{2}olcross;\u{1}\u{29bb}\u{2}oline;\u{1}\u{203e}\u{2}olt;\u{1}\u{29c0}\u{2}\
omacr;\u{1}\u{14d}\u{2}omega;\u{1}\u{3c9}\u{2}omicron;\u{1}\u{3bf}\u{2}omid;\u{1}\u{29b6}\u{2}\
ominus;\u{1}\u{2296}\u{2}oopf;\u{1}\u{1d560}\u{2}opar;\u{1}\u{29b7}\u{2}operp;\u{1}\u{29b9}\u{2}\
oplus;\u{1}\u{2295}\u{2}or;\u{1}\u{2228}\u{2}orarr;\u{1}\u{21bb}\u{2}ord;\u{1}\u{2a5d}\u{2}\
order;\u{1}\u{2134}\u{2}orderof;\u{1}\u{2134}\u{2}ordf\u{1}\u{aa}\u{2}ordf;\u{1}\u{aa}\u{2}\
ordm\u{1}\u{ba}\u{2}ordm;\u{1}\u{ba}\u{2}origof;\u{1}\u{22b6}\u{2}oror;\u{1}\u{2a56}\u{2}orslope;\u{1}\u{2a57}\u{2}\
orv;\u{1}\u{2a5b}\u{2}oscr;\u{1}\u{2134}\u{2}oslash\u{1}\u{f8}\u{2}oslash;\u{1}\u{f8}\u{2}osol;\u{1}\u{2298}\u{2}\
otilde\u{1}\u{f5}\u{2}otilde;\u{1}\u{f5}\u{2}otimes;\u{1}\u{2297}\u{2}otimesas;\u{1}\u{2a36}\u{2}\
ouml\u{1}\u{f6}\u{2}ouml;\u{1}\u{f6}\u{2}ovbar;\u{1}\u{233d}\u{2}par;\u{1}\u{2225}\u{2}para\u{1}\u{b6}\u{2}\
para;\u{1}\u{b6}\u{2}parallel;\u{1}\u{2225}\u{2}parsim;\u{1}\u{2af3}\u{2}parsl;\u{1}\u{2afd}\u{2}\
part;\u{1}\u{2202}\u{2}pcy;\u{1}\u{43f}\u{2}percnt;\u{1}%\u{2}period;\u{1}.\u{2}permil;\u{1}\u{2030}\u{2}\
perp;\u{1}\u{22a5}\u{2}pertenk;\u{1}\u{2031}\u{2}pfr;\u{1}\u{1d52d}\u{2}phi;\u{1}\u{3c6}\u{2}\
phiv;\u{1}\u{3d5}\u{2}phmmat;\u{1}\u{2133}\u{2}phone;\u{1}\u{260e}\u{2}pi;\u{1}\u{3c0}\u{2}\
pitchfork;\u{1}\u{22d4}\u{2}piv;\u{1}\u{3d6}\u{2}planck;\u{1}\u{210f}\u{2}planckh;\u{1}\u{210e}\u{2}\
plankv;\u{1}\u{210f}\u{2}plus;\u{1}+\u{2}plusacir;\u{1}\u{2a23}\u{2}plusb;\u{1}\u{229e}\u{2}\
pluscir;\u{1}\u{2a22}\u{2}plusdo;\u{1}\u{2214}\u{2}plusdu;\u{1}\u{2a25}\u{2}pluse;\u{1}\u{2a72}\u{2}\
plusmn\u{1}\u{b1}\u{2}plusmn;\u{1}\u{b1}\u{2}plussim;\u{1}\u{2a26}\u{2}plustwo;\u{1}\u{2a27}\u{2}\
pm;\u{1}\u{b1}\u{2}pointint;\u{1}\u{2a15}\u{2}popf;\u{1}\u{1d561}\u{2}pound\u{1}\u{a3}\u{2}\
pound;\u{1}\u{a3}\u{2}pr;\u{1}\u{227a}\u{2}prE;\u{1}\u{2ab3}\u{2}prap;\u{1}\u{2ab7}\u{2}prcue;\u{1}\u{227c}\u{2}\
pre;\u{1}\u{2aaf}\u{2}prec;\u{1}\u{227a}\u{2}precapprox;\u{1}\u{2ab7}\u{2}preccurlyeq;\u{1}\u{227c}\u{2}\
preceq;\u{1}\u{2aaf}\u{2}precnapprox;\u{1}\u{2ab9}\u{2}precneqq;\u{1}\u{2ab5}\u{2}precnsim;\u{1}\u{22e8}\u{2}\
precsim;\u{1}\u{227e}\u{2}prime;\u{1}\u{2032}\u{2}primes;\u{1}\u{2119}\u{2}prnE;\u{1}\u{2ab5}\u{2}\
prnap;\u{1}\u{2ab9}\u{2}prnsim;\u{1}\u{22e8}\u{2}prod;\u{1}\u{220f}\u{2}profalar;\u{1}\u{232e}\u{2}\
profline;\u{1}\u{2312}\u{2}profsurf;\u{1}\u{2313}\u{2}prop;\u{1}\u{221d}\u{2}propto;\u{1}\u{221d}\u{2}\
prsim;\u{1}\u{227e}\u{2}prurel;\u{1}\u{22b0}\u{2}pscr;\u{1}\u{1d4c5}\u{2}psi;\u{1}\u{3c8}\u{2}\
puncsp;\u{1}\u{2008}\u{2}qfr;\u{1}\u{1d52e}\u{2}qint;\u{1}\u{2a0c}\u{2}qopf;\u{1}\u{1d562}\u{2}\
qprime;\u{1}\u{2057}\u{2}qscr;\u{1}\u{1d4c6}\u{2}quaternions;\u{1}\u{210d}\u{2}quatint;\u{1}\u{2a16}\u{2}\
quest;\u{1}?\u{2}questeq;\u{1}\u{225f}\u{2}quot\u{1}\u{22}\u{2}quot;\u{1}\u{22}\u{2}rAarr;\u{1}\u{21db}\u{2}\
rArr;\u{1}\u{21d2}\u{2}rAtail;\u{1}\u{291c}\u{2}rBarr;\u{1}\u{290f}\u{2}rHar;\u{1}\u{2964}\u{2}\
race;\u{1}\u{223d}\u{331}\u{2}racute;\u{1}\u{155}\u{2}radic;\u{1}\u{221a}\u{2}raemptyv;\u{1}\u{29b3}\u{2}\
rang;\u{1}\u{27e9}\u{2}rangd;\u{1}\u{2992}\u{2}range;\u{1}\u{29a5}\u{2}rangle;\u{1}\u{27e9}\u{2}\
raquo\u{1}\u{bb}\u{2}raquo;\u{1}\u{bb}\u{2}rarr;\u{1}\u{2192}\u{2}rarrap;\u{1}\u{2975}\u{2}\
rarrb;\u{1}\u{21e5}\u{2}rarrbfs;\u{1}\u{2920}\u{2}rarrc;\u{1}\u{2933}\u{2}rarrfs;\u{1}\u{291e}\u{2}\
rarrhk;\u{1}\u{21aa}\u{2}rarrlp;\u{1}\u{21ac}\u{2}rarrpl;\u{1}\u{2945}\u{2}rarrsim;\u{1}\u{2974}\u{2}\
rarrtl;\u{1}\u{21a3}\u{2}rarrw;\u{1}\u{219d}\u{2}ratail;\u{1}\u{291a}\u{2}ratio;\u{1}\u{2236}\u{2}\
rationals;\u{1}\u{211a}\u{2}rbarr;\u{1}\u{290d}\u{2}rbbrk;\u{1}\u{2773}\u{2}rbrace;\u{1}}\u{2}\
rbrack;\u{1}]\u{2}rbrke;\u{1}\u{298c}\u{2}rbrksld;\u{1}\u{298e}\u{2}rbrkslu;\u{1}\u{2990}\u{2}\
rcaron;\u{1}\u{159}\u{2}rcedil;\u{1}\u{157}\u{2}rceil;\u{1}\u{2309}\u{2}rcub;\u{1}}\u{2}rcy;\u{1}\u{440}\u{2}\
rdca;\u{1}\u{2937}\u{2}rdldhar;\u{1}\u{2969}\u{2}rdquo;\u{1}\u{201d}\u{2}rdquor;\u{1}\u{201d}\u{2}\
rdsh;\u{1}\u{21b3}\u{2}real;\u{1}\u{211c}\u{2}realine;\u{1}\u{211b}\u{2}realpart;\u{1}\u{211c}\u{2}\
reals;\u{1}\u{211d}\u{2}rect;\u{1}\u{25ad}\u{2}reg\u{1}\u{ae}\u{2}reg;\u{1}\u{ae}\u{2}rfisht;\u{1}\u{297d}\u{2}\
rfloor;\u{1}\u{230b}\u{2}rfr;\u{1}\u{1d52f}\u{2}rhard;\u{1}\u{21c1}\u{2}rharu;\u{1}\u{21c0}\u{2}\
rharul;\u{1}\u{296c}\u{2}rho;\u{1}\u{3c1}\u{2}rhov;\u{1}\u{3f1}\u{2}rightarrow;\u{1}\u{2192}\u{2}\
rightarrowtail;\u{1}\u{21a3}\u{2}rightharpoondown;\u{1}\u{21c1}\u{2}rightharpoonup;\u{1}\u{21c0}\u{2}\
rightleftarrows;\u{1}\u{21c4}\u{2}rightleftharpoons;\u{1}\u{21cc}\u{2}rightrightarrows;\u{1}\u{21c9}\u{2}\
rightsquigarrow;\u{1}\u{219d}\u{2}rightthreetimes;\u{1}\u{22cc}\u{2}ring;\u{1}\u{2da}\u{2}risingdotseq;\u{1}\u{2253}\u{2}\
rlarr;\u{1}\u{21c4}\u{2}rlhar;\u{1}\u{21cc}\u{2}rlm;\u{1}\u{200f}\u{2}rmoust;\u{1}\u{23b1}\u{2}\
rmoustache;\u{1}\u{23b1}\u{2}rnmid;\u{1}\u{2aee}\u{2}roang;\u{1}\u{27ed}\u{2}roarr;\u{1}\u{21fe}\u{2}\
robrk;\u{1}\u{27e7}\u{2}ropar;\u{1}\u{2986}\u{2}ropf;\u{1}\u{1d563}\u{2}roplus;\u{1}\u{2a2e}\u{2}\
rotimes;\u{1}\u{2a35}\u{2}rpar;\u{1})\u{2}rpargt;\u{1}\u{2994}\u{2}rppolint;\u{1}\u{2a12}\u{2}\
rrarr;\u{1}\u{21c9}\u{2}rsaquo;\u{1}\u{203a}\u{2}rscr;\u{1}\u{1d4c7}\u{2}rsh;\u{1}\u{21b1}\u{2}\
rsqb;\u{1}]\u{2}rsquo;\u{1}\u{2019}\u{2}rsquor;\u{1}\u{2019}\u{2}rthree;\u{1}\u{22cc}\u{2}rtimes;\u{1}\u{22ca}\u{2}\
rtri;\u{1}\u{25b9}\u{2}rtrie;\u{1}\u{22b5}\u{2}rtrif;\u{1}\u{25b8}\u{2}rtriltri;\u{1}\u{29ce}\u{2}\
ruluhar;\u{1}\u{2968}\u{2}rx;\u{1}\u{211e}\u{2}sacute;\u{1}\u{15b}\u{2}sbquo;\u{1}\u{201a}\u{2}\
sc;\u{1}\u{227b}\u{2}scE;\u{1}\u{2ab4}\u{2}scap;\u{1}\u{2ab8}\u{2}scaron;\u{1}\u{161}\u{2}sccue;\u{1}\u{227d}\u{2}\
sce;\u{1}\u{2ab0}\u{2}scedil;\u{1}\u{15f}\u{2}scirc;\u{1}\u{15d}\u{2}scnE;\u{1}\u{2ab6}\u{2}\
scnap;\u{1}\u{2aba}\u{2}scnsim;\u{1}\u{22e9}\u{2}scpolint;\u{1}\u{2a13}\u{2}scsim;\u{1}\u{227f}\u{2}\
scy;\u{1}\u{441}\u{2}sdot;\u{1}\u{22c5}\u{2}sdotb;\u{1}\u{22a1}\u{2}sdote;\u{1}\u{2a66}\u{2}\
seArr;\u{1}\u{21d8}\u{2}searhk;\u{1}\u{2925}\u{2}searr;\u{1}\u{2198}\u{2}searrow;\u{1}\u{2198}\u{2}\
sect\u{1}\u{a7}\u{2}sect;\u{1}\u{a7}\u{2}semi;\u{1};\u{2}seswar;\u{1}\u{2929}\u{2}setminus;\u{1}\u{2216}\u{2}\
setmn;\u{1}\u{2216}\u{2}sext;\u{1}\u{2736}\u{2}sfr;\u{1}\u{1d530}\u{2}sfrown;\u{1}\u{2322}\u{2}\
sharp;\u{1}\u{266f}\u{2}shchcy;\u{1}\u{449}\u{2}shcy;\u{1}\u{448}\u{2}shortmid;\u{1}\u{2223}\u{2}\
shortparallel;\u{1}\u{2225}\u{2}shy\u{1}\u{ad}\u{2}shy;\u{1}\u{ad}\u{2}sigma;\u{1}\u{3c3}\u{2}\
sigmaf;\u{1}\u{3c2}\u{2}sigmav;\u{1}\u{3c2}\u{2}sim;\u{1}\u{223c}\u{2}simdot;\u{1}\u{2a6a}\u{2}\
sime;\u{1}\u{2243}\u{2}simeq;\u{1}\u{2243}\u{2}simg;\u{1}\u{2a9e}\u{2}simgE;\u{1}\u{2aa0}\u{2}\
siml;\u{1}\u{2a9d}\u{2}simlE;\u{1}\u{2a9f}\u{2}simne;\u{1}\u{2246}\u{2}simplus;\u{1}\u{2a24}\u{2}\
simrarr;\u{1}\u{2972}\u{2}slarr;\u{1}\u{2190}\u{2}smallsetminus;\u{1}\u{2216}\u{2}smashp;\u{1}\u{2a33}\u{2}\
smeparsl;\u{1}\u{29e4}\u{2}smid;\u{1}\u{2223}\u{2}smile;\u{1}\u{2323}\u{2}smt;\u{1}\u{2aaa}\u{2}\
smte;\u{1}\u{2aac}\u{2}smtes;\u{1}\u{2aac}\u{fe00}\u{2}softcy;\u{1}\u{44c}\u{2}sol;\u{1}/\u{2}\
solb;\u{1}\u{29c4}\u{2}solbar;\u{1}\u{233f}\u{2}sopf;\u{1}\u{1d564}\u{2}spades;\u{1}\u{2660}\u{2}\
spadesuit;\u{1}\u{2660}\u{2}spar;\u{1}\u{2225}\u{2}sqcap;\u{1}\u{2293}\u{2}sqcaps;\u{1}\u{2293}\u{fe00}\u{2}\
sqcup;\u{1}\u{2294}\u{2}sqcups;\u{1}\u{2294}\u{fe00}\u{2}sqsub;\u{1}\u{228f}\u{2}sqsube;\u{1}\u{2291}\u{2}\
sqsubset;\u{1}\u{228f}\u{2}sqsubseteq;\u{1}\u{2291}\u{2}sqsup;\u{1}\u{2290}\u{2}sqsupe;\u{1}\u{2292}\u{2}\
sqsupset;\u{1}\u{2290}\u{2}sqsupseteq;\u{1}\u{2292}\u{2}squ;\u{1}\u{25a1}\u{2}square;\u{1}\u{25a1}\u{2}\
squarf;\u{1}\u{25aa}\u{2}squf;\u{1}\u{25aa}\u{2}srarr;\u{1}\u{2192}\u{2}sscr;\u{1}\u{1d4c8}\u{2}\
ssetmn;\u{1}\u{2216}\u{2}ssmile;\u{1}\u{2323}\u{2}sstarf;\u{1}\u{22c6}\u{2}star;\u{1}\u{2606}\u{2}\
starf;\u{1}\u{2605}\u{2}straightepsilon;\u{1}\u{3f5}\u{2}straightphi;\u{1}\u{3d5}\u{2}strns;\u{1}\u{af}\u{2}\
sub;\u{1}\u{2282}\u{2}subE;\u{1}\u{2ac5}\u{2}subdot;\u{1}\u{2abd}\u{2}sube;\u{1}\u{2286}\u{2}\
subedot;\u{1}\u{2ac3}\u{2}submult;\u{1}\u{2ac1}\u{2}subnE;\u{1}\u{2acb}\u{2}subne;\u{1}\u{228a}\u{2}\
subplus;\u{1}\u{2abf}\u{2}subrarr;\u{1}\u{2979}\u{2}subset;\u{1}\u{2282}\u{2}subseteq;\u{1}\u{2286}\u{2}\
subseteqq;\u{1}\u{2ac5}\u{2}subsetneq;\u{1}\u{228a}\u{2}subsetneqq;\u{1}\u{2acb}\u{2}subsim;\u{1}\u{2ac7}\u{2}\
subsub;\u{1}\u{2ad5}\u{2}subsup;\u{1}\u{2ad3}\u{2}succ;\u{1}\u{227b}\u{2}succapprox;\u{1}\u{2ab8}\u{2}\
succcurlyeq;\u{1}\u{227d}\u{2}succeq;\u{1}\u{2ab0}\u{2}succnapprox;\u{1}\u{2aba}\u{2}succneqq;\u{1}\u{2ab6}\u{2}\
succnsim;\u{1}\u{22e9}\u{2}succsim;\u{1}\u{227f}\u{2}sum;\u{1}\u{2211}\u{2}sung;\u{1}\u{266a}\u{2}\
sup1\u{1}\u{b9}\u{2}sup1;\u{1}\u{b9}\u{2}sup2\u{1}\u{b2}\u{2}sup2;\u{1}\u{b2}\u{2}sup3\u{1}\u{b3}\u{2}\
sup3;\u{1}\u{b3}\u{2}sup;\u{1}\u{2283}\u{2}supE;\u{1}\u{2ac6}\u{2}supdot;\u{1}\u{2abe}\u{2}\
supdsub;\u{1}\u{2ad8}\u{2}supe;\u{1}\u{2287}\u{2}supedot;\u{1}\u{2ac4}\u{2}suphsol;\u{1}\u{27c9}\u{2}\
suphsub;\u{1}\u{2ad7}\u{2}suplarr;\u{1}\u{297b}\u{2}supmult;\u{1}\u{2ac2}\u{2}supnE;\u{1}\u{2acc}\u{2}\
supne;\u{1}\u{228b}\u{2}supplus;\u{1}\u{2ac0}\u{2}supset;\u{1}\u{2283}\u{2}supseteq;\u{1}\u{2287}\u{2}\
supseteqq;\u{1}\u{2ac6}\u{2}supsetneq;\u{1}\u{228b}\u{2}supsetneqq;\u{1}\u{2acc}\u{2}supsim;\u{1}\u{2ac8}\u{2}\
supsub;\u{1}\u{2ad4}\u{2}supsup;\u{1}\u{2ad6}\u{2}swArr;\u{1}\u{21d9}\u{2}swarhk;\u{1}\u{2926}\u{2}\
swarr;\u{1}\u{2199}\u{2}swarrow;\u{1}\u{2199}\u{2}swnwar;\u{1}\u{292a}\u{2}szlig\u{1}\u{df}\u{2}\
szlig;\u{1}\u{df}\u{2}target;\u{1}\u{2316}\u{2}tau;\u{1}\u{3c4}\u{2}tbrk;\u{1}\u{23b4}\u{2}\
tcaron;\u{1}\u{165}\u{2}tcedil;\u{1}\u{163}\u{2}tcy;\u{1}\u{442}\u{2}tdot;\u{1}\u{20db}\u{2}\
telrec;\u{1}\u{2315}\u{2}tfr;\u{1}\u{1d531}\u{2}there4;\u{1}\u{2234}\u{2}therefore;\u{1}\u{2234}\u{2}\
theta;\u{1}\u{3b8}\u{2}thetasym;\u{1}\u{3d1}\u{2}thetav;\u{1}\u{3d1}\u{2}thickapprox;\u{1}\u{2248}\u{2}\
thicksim;\u{1}\u{223c}\u{2}thinsp;\u{1}\u{2009}\u{2}thkap;\u{1}\u{2248}\u{2}thksim;\u{1}\u{223c}\u{2}\
thorn\u{1}\u{fe}\u{2}thorn;\u{1}\u{fe}\u{2}tilde;\u{1}\u{2dc}\u{2}times\u{1}\u{d7}\u{2}times;\u{1}\u{d7}\u{2}\
timesb;\u{1}\u{22a0}\u{2}timesbar;\u{1}\u{2a31}\u{2}timesd;\u{1}\u{2a30}\u{2}tint;\u{1}\u{222d}\u{2}\
toea;\u{1}\u{2928}\u{2}top;\u{1}\u{22a4}\u{2}topbot;\u{1}\u{2336}\u{2}topcir;\u{1}\u{2af1}\u{2}\
topf;\u{1}\u{1d565}\u{2}topfork;\u{1}\u{2ada}\u{2}tosa;\u{1}\u{2929}\u{2}tprime;\u{1}\u{2034}\u{2}\
trade;\u{1}\u{2122}\u{2}triangle;\u{1}\u{25b5}\u{2}triangledown;\u{1}\u{25bf}\u{2}triangleleft;\u{1}\u{25c3}\u{2}\
trianglelefteq;\u{1}\u{22b4}\u{2}triangleq;\u{1}\u{225c}\u{2}triangleright;\u{1}\u{25b9}\u{2}\
trianglerighteq;\u{1}\u{22b5}\u{2}tridot;\u{1}\u{25ec}\u{2}trie;\u{1}\u{225c}\u{2}triminus;\u{1}\u{2a3a}\u{2}\
triplus;\u{1}\u{2a39}\u{2}trisb;\u{1}\u{29cd}\u{2}tritime;\u{1}\u{2a3b}\u{2}trpezium;\u{1}\u{23e2}\u{2}\
tscr;\u{1}\u{1d4c9}\u{2}tscy;\u{1}\u{446}\u{2}tshcy;\u{1}\u{45b}\u{2}tstrok;\u{1}\u{167}\u{2}\
twixt;\u{1}\u{226c}\u{2}twoheadleftarrow;\u{1}\u{219e}\u{2}twoheadrightarrow;\u{1}\u{21a0}\u{2}\
uArr;\u{1}\u{21d1}\u{2}uHar;\u{1}\u{2963}\u{2}uacute\u{1}\u{fa}\u{2}uacute;\u{1}\u{fa}\u{2}\
uarr;\u{1}\u{2191}\u{2}ubrcy;\u{1}\u{45e}\u{2}ubreve;\u{1}\u{16d}\u{2}ucirc\u{1}\u{fb}\u{2}\
ucirc;\u{1}\u{fb}\u{2}ucy;\u{1}\u{443}\u{2}udarr;\u{1}\u{21c5}\u{2}udblac;\u{1}\u{171}\u{2}\
udhar;\u{1}\u{296e}\u{2}ufisht;\u{1}\u{297e}\u{2}ufr;\u{1}\u{1d532}\u{2}ugrave\u{1}\u{f9}\u{2}\
ugrave;\u{1}\u{f9}\u{2}uharl;\u{1}\u{21bf}\u{2}uharr;\u{1}\u{21be}\u{2}uhblk;\u{1}\u{2580}\u{2}\
ulcorn;\u{1}\u{231c}\u{2}ulcorner;\u{1}\u{231c}\u{2}ulcrop;\u{1}\u{230f}\u{2}ultri;\u{1}\u{25f8}\u{2}\
umacr;\u{1}\u{16b}\u{2}uml\u{1}\u{a8}\u{2}uml;\u{1}\u{a8}\u{2}uogon;\u{1}\u{173}\u{2}uopf;\u{1}\u{1d566}\u{2}\
uparrow;\u{1}\u{2191}\u{2}updownarrow;\u{1}\u{2195}\u{2}upharpoonleft;\u{1}\u{21bf}\u{2}upharpoonright;\u{1}\u{21be}\u{2}\
uplus;\u{1}\u{228e}\u{2}upsi;\u{1}\u{3c5}\u{2}upsih;\u{1}\u{3d2}\u{2}upsilon;\u{1}\u{3c5}\u{2}\
upuparrows;\u{1}\u{21c8}\u{2}urcorn;\u{1}\u{231d}\u{2}urcorner;\u{1}\u{231d}\u{2}urcrop;\u{1}\u{230e}\u{2}\
uring;\u{1}\u{16f}\u{2}urtri;\u{1}\u{25f9}\u{2}uscr;\u{1}\u{1d4ca}\u{2}utdot;\u{1}\u{22f0}\u{2}\
utilde;\u{1}\u{169}\u{2}utri;\u{1}\u{25b5}\u{2}utrif;\u{1}\u{25b4}\u{2}uuarr;\u{1}\u{21c8}\u{2}\
uuml\u{1}\u{fc}\u{2}uuml;\u{1}\u{fc}\u{2}uwangle;\u{1}\u{29a7}\u{2}vArr;\u{1}\u{21d5}\u{2}vBar;\u{1}\u{2ae8}\u{2}\
vBarv;\u{1}\u{2ae9}\u{2}vDash;\u{1}\u{22a8}\u{2}vangrt;\u{1}\u{299c}\u{2}varepsilon;\u{1}\u{3f5}\u{2}\
varkappa;\u{1}\u{3f0}\u{2}varnothing;\u{1}\u{2205}\u{2}varphi;\u{1}\u{3d5}\u{2}varpi;\u{1}\u{3d6}\u{2}\
varpropto;\u{1}\u{221d}\u{2}varr;\u{1}\u{2195}\u{2}varrho;\u{1}\u{3f1}\u{2}varsigma;\u{1}\u{3c2}\u{2}\
varsubsetneq;\u{1}\u{228a}\u{fe00}\u{2}varsubsetneqq;\u{1}\u{2acb}\u{fe00}\u{2}varsupsetneq;\u{1}\u{228b}\u{fe00}\u{2}\
varsupsetneqq;\u{1}\u{2acc}\u{fe00}\u{2}vartheta;\u{1}\u{3d1}\u{2}vartriangleleft;\u{1}\u{22b2}\u{2}\
vartriangleright;\u{1}\u{22b3}\u{2}vcy;\u{1}\u{432}\u{2}vdash;\u{1}\u{22a2}\u{2}vee;\u{1}\u{2228}\u{2}\
veebar;\u{1}\u{22bb}\u{2}veeeq;\u{1}\u{225a}\u{2}vellip;\u{1}\u{22ee}\u{2}verbar;\u{1}|\u{2}\
vert;\u{1}|\u{2}vfr;\u{1}\u{1d533}\u{2}vltri;\u{1}\u{22b2}\u{2}vnsub;\u{1}\u{2282}\u{20d2}\u{2}\
vnsup;\u{1}\u{2283}\u{20d2}\u{2}vopf;\u{1}\u{1d567}\u{2}vprop;\u{1}\u{221d}\u{2}vrtri;\u{1}\u{22b3}\u{2}\
vscr;\u{1}\u{1d4cb}\u{2}vsubnE;\u{1}\u{2acb}\u{fe00}\u{2}vsubne;\u{1}\u{228a}\u{fe00}\u{2}vsupnE;\u{1}\u{2acc}\u{fe00}\u{2}\
vsupne;\u{1}\u{228b}\u{fe00}\u{2}vzigzag;\u{1}\u{299a}\u{2}wcirc;\u{1}\u{175}\u{2}wedbar;\u{1}\u{2a5f}\u{2}\
wedge;\u{1}\u{2227}\u{2}wedgeq;\u{1}\u{2259}\u{2}weierp;\u{1}\u{2118}\u{2}wfr;\u{1}\u{1d534}\u{2}\
wopf;\u{1}\u{1d568}\u{2}wp;\u{1}\u{2118}\u{2}wr;\u{1}\u{2240}\u{2}wreath;\u{1}\u{2240}\u{2}\
wscr;\u{1}\u{1d4cc}\u{2}xcap;\u{1}\u{22c2}\u{2}xcirc;\u{1}\u{25ef}\u{2}xcup;\u{1}\u{22c3}\u{2}\
xdtri;\u{1}\u{25bd}\u{2}xfr;\u{1}\u{1d535}\u{2}xhArr;\u{1}\u{27fa}\u{2}xharr;\u{1}\u{27f7}\u{2}\
xi;\u{1}\u{3be}\u{2}xlArr;\u{1}\u{27f8}\u{2}xlarr;\u{1}\u{27f5}\u{2}xmap;\u{1}\u{27fc}\u{2}\
xnis;\u{1}\u{22fb}\u{2}xodot;\u{1}\u{2a00}\u{2}xopf;\u{1}\u{1d569}\u{2}xoplus;\u{1}\u{2a01}\u{2}\
xotime;\u{1}\u{2a02}\u{2}xrArr;\u{1}\u{27f9}\u{2}xrarr;\u{1}\u{27f6}\u{2}xscr;\u{1}\u{1d4cd}\u{2}\
xsqcup;\u{1}\u{2a06}\u{2}xuplus;\u{1}\u{2a04}\u{2}xutri;\u{1}\u{25b3}\u{2}xvee;\u{1}\u{22c1}\u{2}\
xwedge;\u{1}\u{22c0}\u{2}yacute\u{1}\u{fd}\u{2}yacute;\u{1}\u{fd}\u{2}yacy;\u{1}\u{44f}\u{2}\
ycirc;\u{1}\u{177}\u{2}ycy;\u{1}\u{44b}\u{2}yen\u{1}\u{a5}\u{2}yen;\u{1}\u{a5}\u{2}yfr;\u{1}\u{1d536}\u{2}\
yicy;\u{1}\u{457}\u{2}yopf;\u{1}\u{1d56a}\u{2}yscr;\u{1}\u{1d4ce}\u{2}yucy;\u{1}\u{44e}\u{2}\
yuml\u{1}\u{ff}\u{2}yuml;\u{1}\u{ff}\u{2}zacute;\u{1}\u{17a}\u{2}zcaron;\u{1}\u{17e}\u{2}zcy;\u{1}\u{437}\u{2}\
zdot;\u{1}\u{17c}\u{2}zeetrf;\u{1}\u{2128}\u{2}zeta;\u{1}\u{3b6}\u{2}zfr;\u{1}\u{1d537}\u{2}\
zhcy;\u{1}\u{436}\u{2}zigrarr;\u{1}\u{21dd}\u{2}zopf;\u{1}\u{1d56b}\u{2}zscr;\u{1}\u{1d4cf}\u{2}\
zwj;\u{1}\u{200d}\u{2}zwnj;\u{1}\u{200c}\u{2}";
