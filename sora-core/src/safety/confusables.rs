//! The confusable-letter table of the prompt gate: a compact subset of
//! Unicode's UTS #39 `confusables.txt` for names written in Latin letters.
//!
//! Covered: Cyrillic, Greek, Armenian and Cherokee letters that look like a
//! Latin letter (both cases, mapped before case folding so that e.g. Greek
//! capital Eta, which looks like `H`, and small eta, which looks like `n`,
//! each keep their look), Latin small capitals and IPA look-alikes, Latin
//! letters with a stroke or bar that no Unicode decomposition removes
//! (`ø`, `ł`, `đ`, …), and regional-indicator symbols (flag letters).
//! Fullwidth, mathematical, circled and other compatibility forms need no
//! entry: NFKC maps them before this table is read.

/// The Latin text `c` looks like, if `c` is in the table (applied before case
/// folding; the result may be upper case).
pub fn latin_look_alike(c: char) -> Option<&'static str> {
    let s = match c {
        // Cyrillic capitals.
        'А' => "A",
        'В' => "B",
        'Е' | 'Ё' => "E",
        'З' => "3",
        'К' => "K",
        'М' => "M",
        'Н' => "H",
        'О' => "O",
        'Р' => "P",
        'С' => "C",
        'Т' => "T",
        'У' | 'Ү' => "Y",
        'Х' => "X",
        'Ѕ' => "S",
        'І' | 'Ї' | 'Ӏ' => "I",
        'Ј' => "J",
        'Ԁ' => "D",
        'Һ' => "H",
        'Ԛ' => "Q",
        'Ԝ' => "W",
        'Ь' => "b",
        // Cyrillic small letters.
        'а' => "a",
        'в' => "b",
        'г' => "r",
        'е' | 'ё' => "e",
        'к' => "k",
        'м' => "m",
        'н' => "h",
        'о' => "o",
        'п' => "n",
        'р' => "p",
        'с' => "c",
        'т' => "t",
        'у' | 'ү' => "y",
        'х' => "x",
        'ь' | 'ъ' => "b",
        'ѕ' => "s",
        'і' | 'ї' => "i",
        'ӏ' => "l",
        'ј' => "j",
        'ԁ' => "d",
        'һ' => "h",
        'ԛ' => "q",
        'ԝ' => "w",
        'ɡ' => "g",
        // Greek capitals.
        'Α' | 'Ά' => "A",
        'Β' => "B",
        'Ε' | 'Έ' => "E",
        'Ζ' => "Z",
        'Η' | 'Ή' => "H",
        'Ι' | 'Ί' | 'Ϊ' => "I",
        'Κ' => "K",
        'Μ' => "M",
        'Ν' => "N",
        'Ο' | 'Ό' => "O",
        'Ρ' => "P",
        'Τ' => "T",
        'Υ' | 'Ύ' | 'Ϋ' => "Y",
        'Χ' => "X",
        'Ϲ' => "C",
        'Ϳ' => "J",
        // Greek small letters.
        'α' | 'ά' => "a",
        'β' => "b",
        'γ' => "y",
        'ε' | 'έ' => "e",
        'η' | 'ή' => "n",
        'ι' | 'ί' | 'ϊ' | 'ΐ' => "i",
        'κ' => "k",
        'μ' => "u",
        'ν' => "v",
        'ο' | 'ό' => "o",
        'ρ' => "p",
        'τ' => "t",
        'υ' | 'ύ' | 'ϋ' | 'ΰ' => "u",
        'χ' => "x",
        'ω' | 'ώ' => "w",
        'ϲ' => "c",
        'ϳ' => "j",
        // Armenian.
        'օ' => "o",
        'ս' => "u",
        'հ' => "h",
        'ո' => "n",
        'ց' => "g",
        'զ' => "q",
        'Տ' => "S",
        'Օ' => "O",
        // Cherokee capitals that are Latin capitals to the eye.
        'Ꭺ' => "A",
        'Ᏼ' => "B",
        'Ꮯ' => "C",
        'Ꭼ' => "E",
        'Ꮐ' => "G",
        'Ꮋ' => "H",
        'Ꭻ' => "J",
        'Ꮶ' => "K",
        'Ꮮ' => "L",
        'Ꮇ' => "M",
        'Ꮲ' => "P",
        'Ꮪ' => "S",
        'Ꭲ' => "T",
        'Ꮩ' => "V",
        'Ꮃ' => "W",
        'Ꮓ' => "Z",
        // Latin small capitals and IPA look-alikes.
        'ᴀ' => "a",
        'ʙ' => "b",
        'ᴄ' => "c",
        'ᴅ' => "d",
        'ᴇ' => "e",
        'ɢ' => "g",
        'ʜ' => "h",
        'ɪ' | 'ɩ' | 'ı' => "i",
        'ᴊ' | 'ȷ' => "j",
        'ᴋ' => "k",
        'ʟ' => "l",
        'ᴍ' => "m",
        'ɴ' => "n",
        'ᴏ' => "o",
        'ᴘ' => "p",
        'ʀ' => "r",
        'ꜱ' => "s",
        'ᴛ' => "t",
        'ᴜ' => "u",
        'ᴠ' => "v",
        'ᴡ' => "w",
        'ʏ' => "y",
        'ᴢ' => "z",
        'ɑ' => "a",
        'ɒ' => "a",
        'ɛ' => "e",
        'ɔ' => "c",
        'ʋ' => "u",
        // Latin letters with a stroke, bar or ligature (no decomposition).
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ħ' | 'Ħ' => "h",
        'ŧ' | 'Ŧ' => "t",
        'ƀ' => "b",
        'ɨ' => "i",
        'ƶ' | 'Ƶ' => "z",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'þ' | 'Þ' => "th",
        _ => {
            // Regional indicators 🇦..🇿 (flag letters).
            let u = c as u32;
            if (0x1F1E6..=0x1F1FF).contains(&u) {
                return Some(REGIONAL[(u - 0x1F1E6) as usize]);
            }
            return None;
        }
    };
    Some(s)
}

const REGIONAL: [&str; 26] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
    "t", "u", "v", "w", "x", "y", "z",
];

/// Characters that render as nothing (or nearly) and are dropped: zero-width
/// spaces and joiners, the soft hyphen, word joiners and invisible operators,
/// bidirectional controls, the byte-order mark, variation selectors, the
/// combining grapheme joiner, Mongolian and Hangul fillers, and tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_keep_their_look() {
        assert_eq!(latin_look_alike('Η'), Some("H"));
        assert_eq!(latin_look_alike('η'), Some("n"));
        assert_eq!(latin_look_alike('о'), Some("o"));
        assert_eq!(latin_look_alike('🇹'), Some("t"));
        assert_eq!(latin_look_alike('x'), None);
        assert!(is_invisible('\u{200B}') && is_invisible('\u{AD}') && !is_invisible(' '));
    }
}
