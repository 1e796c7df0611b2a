//! The prompt gate's adversarial suite (issue 13): every registered name of
//! `data/safety_registry.json`, disguised with homoglyphs, zero-width
//! characters, spaced letters, punctuation, leetspeak, aliases and
//! misspellings within the allowed distance, is refused without consent,
//! allowed with a valid one, and refused with an expired, revoked or
//! other-owner consent; protected characters are always refused; a benign
//! set of prompts sharing words with the names is allowed (the false-refusal
//! rate is printed and bounded).

use sora_core::safety::gate::{check_prompt, Credentials, Decision, EntryKind};
use sora_core::safety::registry::Registry;
use sora_core::Error;

/// 2026-12-05T00:00:00Z: the instant consents are checked at (fixed, so the
/// suite does not depend on the clock).
const NOW: i64 = 1_796_428_800;

pub(crate) fn registry_path() -> std::path::PathBuf {
    sora_tests::workspace().join("tests/it/data/safety_registry.json")
}

fn registry() -> Registry {
    Registry::load(registry_path()).unwrap()
}

fn check(reg: &Registry, text: &str, consent: Option<&str>, owner: Option<&str>) -> Decision {
    let consents: Vec<String> = consent.map(str::to_string).into_iter().collect();
    check_prompt(
        reg,
        text,
        &Credentials {
            owner,
            consents: &consents,
            now: NOW,
        },
    )
}

/// Latin → a look-alike from another script (Cyrillic or Greek).
fn homoglyph(c: char) -> char {
    match c {
        'a' => 'а',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'c' => 'с',
        'x' => 'х',
        'y' => 'у',
        'i' => 'і',
        's' => 'ѕ',
        'A' => 'Α',
        'B' => 'В',
        'E' => 'Ε',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'T' => 'Т',
        'Z' => 'Ζ',
        'C' => 'С',
        'J' => 'Ј',
        'R' => 'R',
        other => other,
    }
}

fn leet(c: char) -> char {
    match c.to_ascii_lowercase() {
        'a' => '4',
        'e' => '3',
        'o' => '0',
        'i' => '1',
        's' => '$',
        't' => '7',
        'l' => '1',
        _ => c,
    }
}

fn fullwidth(c: char) -> char {
    if c.is_ascii_alphanumeric() {
        char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap()
    } else {
        c
    }
}

fn math_bold(c: char) -> char {
    match c {
        'A'..='Z' => char::from_u32(0x1D400 + (c as u32 - 'A' as u32)).unwrap(),
        'a'..='z' => char::from_u32(0x1D41A + (c as u32 - 'a' as u32)).unwrap(),
        _ => c,
    }
}

fn accent(c: char) -> String {
    match c {
        'a' => "á".into(),
        'e' => "ë".into(),
        'o' => "ö".into(),
        'i' => "í".into(),
        'u' => "ü".into(),
        _ => c.to_string(),
    }
}

/// Applies `f` to the letters of the name's words.
fn map(name: &str, f: impl Fn(char) -> char) -> String {
    name.chars().map(f).collect()
}

/// The name's letters, each followed by `sep` inside words.
fn interleave(name: &str, sep: &str) -> String {
    name.split(' ')
        .map(|w| {
            let cs: Vec<String> = w.chars().map(|c| c.to_string()).collect();
            cs.join(sep)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The index of the longest word and its byte range.
fn longest_word(name: &str) -> (usize, String) {
    name.split(' ')
        .enumerate()
        .max_by_key(|(_, w)| w.len())
        .map(|(i, w)| (i, w.to_string()))
        .unwrap()
}

fn with_word(name: &str, i: usize, w: &str) -> String {
    let mut words: Vec<String> = name.split(' ').map(str::to_string).collect();
    words[i] = w.to_string();
    words.join(" ")
}

/// Misspellings within the allowance: a swap, a deletion and a substitution
/// in the longest word, and for names over 8 letters two edits.
fn misspellings(name: &str) -> Vec<String> {
    let (i, w) = longest_word(name);
    let cs: Vec<char> = w.chars().collect();
    let n = cs.len();
    let mut out = Vec::new();
    let mut swap = cs.clone();
    swap.swap(n / 2, n / 2 + 1);
    out.push(with_word(name, i, &swap.iter().collect::<String>()));
    let mut del = cs.clone();
    del.remove(n / 2);
    out.push(with_word(name, i, &del.iter().collect::<String>()));
    let mut sub = cs.clone();
    sub[n / 2] = if sub[n / 2] == 'q' { 'z' } else { 'q' };
    out.push(with_word(name, i, &sub.iter().collect::<String>()));
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    if letters > 8 && n >= 8 {
        // Two edits in one long word.
        let mut two = cs.clone();
        two.remove(n - 2);
        two.swap(1, 2);
        out.push(with_word(name, i, &two.iter().collect::<String>()));
    } else if letters > 8 {
        // One edit in each of the two longest words of 4+ letters.
        let words: Vec<&str> = name.split(' ').collect();
        let mut idx: Vec<usize> = (0..words.len()).filter(|&k| words[k].len() >= 4).collect();
        idx.sort_by_key(|&k| std::cmp::Reverse(words[k].len()));
        if idx.len() >= 2 {
            let mut edited: Vec<String> = words.iter().map(|s| s.to_string()).collect();
            for &k in &idx[..2] {
                let mut c: Vec<char> = edited[k].chars().collect();
                let m = c.len() / 2;
                c.remove(m);
                edited[k] = c.into_iter().collect();
            }
            out.push(edited.join(" "));
        }
    }
    out
}

/// Every disguise of `name`, each in a sentence.
fn disguises(name: &str) -> Vec<(String, String)> {
    let mut v: Vec<(&str, String)> = vec![
        ("plain", name.to_string()),
        ("upper", name.to_uppercase()),
        ("homoglyphs", map(name, homoglyph)),
        ("fullwidth", map(name, fullwidth)),
        ("math bold", map(name, math_bold)),
        ("accents", name.chars().map(accent).collect()),
        ("zero-width", interleave(name, "\u{200B}")),
        ("soft hyphens", interleave(name, "\u{00AD}")),
        ("joiners", interleave(name, "\u{2060}")),
        ("spaced", interleave(name, " ").replace("   ", "  ")),
        ("dotted", interleave(name, ".")),
        ("hyphenated", interleave(name, "-")),
        ("leet", map(name, leet)),
        ("joined", name.replace(' ', "")),
        ("hashtag", format!("#{}", name.replace(' ', ""))),
        (
            "mixed",
            map(&interleave(name, "\u{200D}"), |c| homoglyph(leet(c))),
        ),
    ];
    // Inside a longer word, for names of 7 letters or more.
    if name.chars().filter(|c| c.is_alphanumeric()).count() >= 7 {
        v.push(("hashtag+", format!("#{}FanClub", name.replace(' ', ""))));
    }
    for (k, m) in misspellings(name).into_iter().enumerate() {
        v.push(if k < 3 {
            ("misspelt", m)
        } else {
            ("misspelt x2", m)
        });
    }
    v.into_iter()
        .map(|(what, n)| {
            (
                what.to_string(),
                format!("a cinematic shot of {n} walking on a beach at dusk"),
            )
        })
        .collect()
}

#[test]
fn every_disguise_of_every_name_is_refused_without_consent() {
    let reg = registry();
    let mut checked = 0;
    for (p, person) in reg.people().iter().enumerate() {
        let who = &person.names[0];
        let prefix = who.split(' ').next().unwrap().to_lowercase();
        for alias in &person.names {
            for (what, prompt) in disguises(alias) {
                let d = check(&reg, &prompt, None, Some("studio-a"));
                assert!(
                    !d.allowed(),
                    "person {p} `{alias}` {what}: allowed: {prompt:?} -> {:?}",
                    d.normalized
                );
                match d.error() {
                    Some(Error::ConsentRequired {
                        who: w, normalized, ..
                    }) => {
                        assert_eq!(&w, who, "{what}: {prompt:?}");
                        assert_eq!(normalized, d.normalized);
                    }
                    other => panic!("{what}: {prompt:?}: {other:?}"),
                }
                // A valid consent for this owner allows it ...
                let ok = check(
                    &reg,
                    &prompt,
                    Some(&format!("{prefix}-studio")),
                    Some("studio-a"),
                );
                assert!(
                    ok.allowed(),
                    "{what}: {prompt:?} with consent: {:?}",
                    ok.findings
                );
                assert_eq!(
                    ok.findings[0].consent.as_deref(),
                    Some(format!("{prefix}-studio").as_str())
                );
                // ... an expired, revoked or other-owner one does not, nor a
                // valid one on a pipeline with another or no owner key.
                for (id, owner, why) in [
                    ("old", Some("studio-a"), "expired"),
                    ("revoked", Some("studio-a"), "revoked"),
                    ("other", Some("studio-a"), "another owner"),
                    ("studio", Some("studio-b"), "another owner"),
                    ("studio", None, "no owner key"),
                ] {
                    let id = format!("{prefix}-{id}");
                    let d = check(&reg, &prompt, Some(&id), owner);
                    let refused = d.findings[0].refused.clone().unwrap_or_default();
                    assert!(refused.contains(why), "{what} {id} {owner:?}: {refused:?}");
                }
                checked += 1;
            }
        }
    }
    eprintln!("safety_gate: {checked} disguised prompts refused without consent, allowed with one");
    assert!(checked >= 200, "{checked}");
}

#[test]
fn protected_characters_are_refused_even_with_a_consent() {
    let reg = registry();
    for entry in reg.protected() {
        for alias in &entry.names {
            for (what, prompt) in disguises(alias) {
                let d = check(&reg, &prompt, Some("tom-studio"), Some("studio-a"));
                match d.error() {
                    Some(Error::ProtectedContent { entry: e, .. }) => assert_eq!(e, entry.names[0]),
                    other => panic!("{alias} {what}: {prompt:?} -> {other:?}"),
                }
                assert_eq!(d.findings[0].kind, EntryKind::Protected);
            }
        }
    }
}

/// Prompts that share words with the registered names but name nobody.
const BENIGN: &[&str] = &[
    "a rose garden at dawn, petals covered in dew",
    "will it rain tomorrow over the harbour",
    "a family saying grace before dinner",
    "the jordan river at sunset, reeds in the wind",
    "a ship's captain steering through a storm",
    "a falling star over a quiet sea",
    "tom the cat chases a mouse through the kitchen",
    "an old ford pickup truck parked in the rain",
    "volcanic ash drifting over a village",
    "a white horse running on the moor",
    "mister rogers style knitted cardigan on a hanger",
    "a fluffy cat with long whiskers sleeping on a sofa",
    "two kings playing chess in a castle",
    "billy goats crossing a wooden bridge",
    "a thomas the tank engine toy on wooden rails",
    "the rose window of a gothic cathedral",
    "grace and will walk along the river jordan",
    "a bear catching salmon in a waterfall",
    "reyes family restaurant at night, neon sign",
    "a whitewater raft on a mountain river",
    "a teddy bear wearing a captain's hat",
    "a delicate cross made of roses",
    "a glimmering puppy playing in the snow",
    "stars falling like rain over a desert",
    "hands holding a warm cup of tea",
    "a chef slicing tomatoes on a wooden board",
    "a hen and her chicks in a sunny barn",
    "the ashes of a campfire at dawn",
    "zebras and antelopes at a waterhole",
    "a marathon runner crossing the finish line",
    "an astronaut floating above the earth",
    "thanks for the memories written on a chalkboard",
    "a lighthouse keeper named grace lights the lamp",
    "will you marry me, written in the sand",
    "the road to mandalay in monsoon season",
    "a whale breaching off the coast of iceland",
    "autumn leaves on a cobblestone street",
    "a cozy cabin in the snowy woods",
    "a t o y t r a i n circling a christmas tree",
    "kids painting rainbows with watercolors",
    // Near misses: other (made-up) names close to registered ones.
    "mister whiskers the cat naps in a sunbeam",
    "a portrait of grace whitman in oil paint",
    "will ashworth rides a bicycle through london",
    "captain stardust flies a paper rocket",
    "zendaya style red carpet gown on a mannequin",
    "rose delaney tends her beehives",
    "jordan rivers kayaking at dawn",
    "tom stanley fixes a bicycle",
];

#[test]
fn benign_prompts_pass_and_the_false_refusal_rate_is_reported() {
    let reg = registry();
    let mut refused = Vec::new();
    for p in BENIGN {
        let d = check(&reg, p, None, Some("studio-a"));
        if !d.allowed() {
            refused.push(format!("{p:?} -> {:?}", d.findings));
        }
    }
    let rate = refused.len() as f64 / BENIGN.len() as f64;
    eprintln!(
        "safety_gate: false refusals {}/{} = {:.1}% {refused:#?}",
        refused.len(),
        BENIGN.len(),
        100.0 * rate
    );
    assert!(rate <= 0.05, "false-refusal rate {rate}: {refused:#?}");
}

#[test]
fn the_decision_json_names_the_match() {
    let reg = registry();
    let d = check(
        &reg,
        "T0m H4nley and Captain Starfall",
        None,
        Some("studio-a"),
    );
    let v = d.to_json_value();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["normalized"], "tom hanley and captain starfall");
    let m = v["matches"].as_array().unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0]["kind"], "person");
    assert_eq!(m[0]["entry"], "Tom Hanley");
    assert_eq!(m[0]["matched"], "tom hanley");
    assert_eq!(m[1]["kind"], "protected");
    assert!(m[0]["refused"].is_string() && m[0]["consent"].is_null());
    // The protected entry is the error (it cannot be consented to).
    assert!(matches!(d.error(), Some(Error::ProtectedContent { .. })));
    let ok = check(&reg, "a quiet beach", None, None);
    assert_eq!(ok.to_json_value()["matches"].as_array().unwrap().len(), 0);
    assert!(ok.allowed() && ok.error().is_none());
}

#[test]
fn the_gate_is_fast_on_a_large_registry() {
    use sora_core::safety::registry::{Person, Protected};
    // 2,000 made-up two-word names from syllables (deterministic).
    let syl = [
        "ka", "lo", "mi", "ren", "tas", "vo", "bri", "del", "sun", "orn", "pe", "quil",
    ];
    let mut people = Vec::new();
    let mut x: u64 = 12345;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    for _ in 0..2000 {
        let mut word = |n: usize| -> String {
            let mut w: String = (0..n).map(|_| syl[next() % syl.len()]).collect();
            w[..1].make_ascii_uppercase();
            w
        };
        let (a, b) = (word(2), word(3));
        people.push(Person {
            names: vec![format!("{a} {b}")],
            consents: Vec::new(),
        });
    }
    let started = std::time::Instant::now();
    let reg = Registry::new(
        people,
        vec![Protected {
            names: vec!["Glimmerpup".into()],
        }],
    )
    .unwrap();
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let prompt = "a cinematic wide shot of a lighthouse on a rocky coast at dusk, waves crashing, \
                  seagulls circling, warm light in the window, a fishing boat returning to harbour";
    let started = std::time::Instant::now();
    let n = 20;
    for _ in 0..n {
        let d = check(&reg, prompt, None, None);
        assert!(d.allowed(), "{:?}", d.findings);
    }
    let check_ms = started.elapsed().as_secs_f64() * 1e3 / n as f64;
    eprintln!(
        "safety_gate: registry of 2001 entries compiled in {build_ms:.1} ms; a 30-word prompt checked in {check_ms:.2} ms"
    );
    let named = format!("{prompt} with {}", reg.people()[1234].names[0]);
    assert!(!check(&reg, &named, None, None).allowed());
}
