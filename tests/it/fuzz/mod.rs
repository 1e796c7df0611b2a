//! A fuzzing harness on stable Rust for every reader of untrusted bytes, built
//! in the normal test profile (it reuses the already-built `sora-core`: no
//! separate instrumented build). Each target starts from its committed seed
//! corpus (`tests/fuzz/corpus/<target>/`), mutates inputs (bit flips,
//! boundary integers, cuts, insertions, splices, JSON tokens), writes each to
//! a scratch file, runs the reader on it under `catch_unwind`, and keeps an
//! input in its working corpus when it produces an outcome not seen before.
//!
//! The feedback is a cheap, honest signal — **not code coverage**: the
//! outcome's signature (`ok` with a summary of what was read, or the error's
//! kind and message with numbers and paths blanked). Inputs that reach a new
//! error message or a new kind of success are kept and mutated further.
//!
//! A panic is a crash: the input is saved to `target/fuzz/crashes/<target>/`
//! and the test fails naming it. Fixed crashes' inputs go into the seed
//! corpus so every later run replays them first.
//!
//! Time per target: `SORA_FUZZ_SECS` (default 2 s; `scripts/test.sh` gives
//! each target more, `scripts/fuzz.sh --long` minutes). `SORA_FUZZ_SEED`
//! fixes the random seed (printed by every run) to replay one.

mod targets;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest input the mutators make (bigger inputs are cut).
const MAX_INPUT: usize = 1 << 20;

/// One fuzz target: a reader run on the file `file` of a scratch folder that
/// [`Target::setup`] prepared.
pub(crate) struct Target {
    /// Its name, also the corpus folder's.
    pub name: &'static str,
    /// The input's file name inside the scratch folder (relative path).
    pub file: &'static str,
    /// Whether the input is text (JSON): adds token mutations.
    pub text: bool,
    /// Prepares the scratch folder once (e.g. a model folder around a config).
    pub setup: fn(&Path),
    /// Runs the reader on the scratch folder; `Ok` with a short summary.
    pub run: fn(&Path) -> sora_core::Result<String>,
}

/// A small, fast PRNG (xorshift64*), seeded per run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The committed seed corpus of `name`.
pub(crate) fn corpus_dir(name: &str) -> PathBuf {
    root().join("tests/fuzz/corpus").join(name)
}

fn read_corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(name);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seed corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

const INTERESTING_8: [u8; 9] = [0, 1, 0x7F, 0x80, 0xFF, b'0', b'9', b'"', b'-'];
const INTERESTING_32: [u32; 10] = [
    0,
    1,
    2,
    0x7F,
    0xFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];
const JSON_TOKENS: [&str; 16] = [
    "-1",
    "0",
    "1e309",
    "-1e309",
    "18446744073709551616",
    "4294967296",
    "9007199254740993",
    "null",
    "true",
    "\"\"",
    "[]",
    "{}",
    "\"\\u0000\"",
    "1.5",
    "[1,2,3,4,5,6,7,8]",
    "\"../x\"",
];

/// One random mutation of `data` (`other`: another corpus input to splice).
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], text: bool) {
    let len = data.len();
    let choice = rng.below(if text { 11 } else { 9 });
    match choice {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING_8[rng.below(INTERESTING_8.len())];
        }
        2 if len >= 4 => {
            let i = rng.below(len - 3);
            let v = INTERESTING_32[rng.below(INTERESTING_32.len())];
            let b = if rng.below(2) == 0 {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            data[i..i + 4].copy_from_slice(&b);
        }
        3 if len > 0 => {
            // Delete a range.
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            data.drain(i..i + n);
        }
        4 => {
            // Insert random bytes.
            let i = rng.below(len + 1);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(i..i, bytes);
        }
        5 if len > 0 => {
            // Duplicate a range.
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(256));
            let piece = data[i..i + n].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, piece);
        }
        6 if len > 0 => {
            // Truncate.
            data.truncate(rng.below(len));
        }
        7 if !other.is_empty() => {
            // Splice: our head, the other's tail.
            let cut = rng.below(len + 1);
            let from = rng.below(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        8 if len > 0 => {
            // Add or subtract a small number from a byte.
            let i = rng.below(len);
            let d = 1 + rng.below(16) as u8;
            data[i] = if rng.below(2) == 0 {
                data[i].wrapping_add(d)
            } else {
                data[i].wrapping_sub(d)
            };
        }
        9 => {
            // Insert a JSON token.
            let i = rng.below(len + 1);
            let t = JSON_TOKENS[rng.below(JSON_TOKENS.len())]
                .as_bytes()
                .to_vec();
            data.splice(i..i, t);
        }
        10 => {
            // Replace a number with a JSON token.
            let digits: Vec<usize> = (0..len).filter(|&i| data[i].is_ascii_digit()).collect();
            if digits.is_empty() {
                return;
            }
            let mut i = digits[rng.below(digits.len())];
            while i > 0 && (data[i - 1].is_ascii_digit() || data[i - 1] == b'.') {
                i -= 1;
            }
            let mut j = i;
            while j < len && (data[j].is_ascii_digit() || data[j] == b'.') {
                j += 1;
            }
            let t = JSON_TOKENS[rng.below(JSON_TOKENS.len())]
                .as_bytes()
                .to_vec();
            data.splice(i..j, t);
        }
        _ => {}
    }
}

/// The outcome's signature: what the feedback compares. Numbers and the
/// scratch path are blanked so that only the message's shape counts.
fn signature(r: &sora_core::Result<String>, scratch: &Path) -> String {
    let text = match r {
        Ok(s) => format!("ok:{s}"),
        Err(e) => format!("{:?}:{e}", e.kind()),
    };
    let text = text.replace(&scratch.display().to_string(), "<dir>");
    let mut out = String::with_capacity(text.len());
    let mut last_digit = false;
    // Quoted text (often the input's own bytes) is blanked too, so that the
    // signature is the message's shape and the corpus does not grow with
    // every distinct string an input holds.
    let mut quote: Option<char> = None;
    for c in text.chars().take(200) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
                out.push(c);
            }
            continue;
        }
        if c == '`' || c == '"' {
            quote = Some(c);
            out.push(c);
            last_digit = false;
            continue;
        }
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
        } else {
            out.push(c);
            last_digit = false;
        }
    }
    out
}

/// What one target's run found.
pub(crate) struct Report {
    pub execs: u64,
    pub outcomes: usize,
    pub corpus: usize,
    pub crashes: Vec<PathBuf>,
    pub slowest_s: f64,
}

fn seconds() -> f64 {
    std::env::var("SORA_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// Fuzzes `t` for `SORA_FUZZ_SECS`, returns what it found (and prints it).
pub(crate) fn fuzz(t: &Target) -> Report {
    let budget = Duration::from_secs_f64(seconds());
    let seed = std::env::var("SORA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    let scratch =
        root()
            .join("target/fuzz/scratch")
            .join(format!("{}-{}", t.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    (t.setup)(&scratch);
    let input_path = scratch.join(t.file);
    let crash_dir = root().join("target/fuzz/crashes").join(t.name);
    let work_dir = root().join("target/fuzz/corpus").join(t.name);
    let _ = std::fs::create_dir_all(&work_dir);

    let mut rng = Rng(seed);
    let mut seen = HashSet::new();
    let mut corpus = read_corpus(t.name);
    let mut crashes = Vec::new();
    let mut execs = 0u64;
    let mut slowest = 0f64;
    let started = Instant::now();

    let mut run_one = |data: &[u8], seen: &mut HashSet<String>| -> (bool, bool) {
        std::fs::write(&input_path, data).unwrap();
        let t0 = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| (t.run)(&scratch)));
        slowest = slowest.max(t0.elapsed().as_secs_f64());
        match r {
            Ok(r) => (seen.insert(signature(&r, &scratch)), false),
            Err(_) => (false, true),
        }
    };
    // The seeds first (they include the inputs of every crash fixed so far).
    for s in corpus.clone() {
        let (_, crashed) = run_one(&s, &mut seen);
        execs += 1;
        if crashed {
            crashes.push(save(&crash_dir, &s));
        }
    }
    while started.elapsed() < budget {
        let parent = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let mut child = parent.clone();
        for _ in 0..1 + rng.below(4) {
            mutate_once(&mut rng, &mut child, other, t.text);
        }
        child.truncate(MAX_INPUT);
        let (new, crashed) = run_one(&child, &mut seen);
        execs += 1;
        if crashed {
            crashes.push(save(&crash_dir, &child));
        } else if new {
            save(&work_dir, &child);
            corpus.push(child);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {}: seed {seed}, {execs} executions in {secs:.1} s ({:.0}/s), {} distinct outcomes, \
         corpus {} inputs, slowest input {:.3} s, {} crashes",
        t.name,
        execs as f64 / secs.max(1e-9),
        seen.len(),
        corpus.len(),
        slowest,
        crashes.len()
    );
    Report {
        execs,
        outcomes: seen.len(),
        corpus: corpus.len(),
        crashes,
        slowest_s: slowest,
    }
}

/// Saves `data` under `dir` named by its hash; returns the path.
fn save(dir: &Path, data: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    // FNV-1a: stable names, so the same input is saved once.
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let p = dir.join(format!("{h:016x}"));
    let _ = std::fs::write(&p, data);
    p
}

/// Fuzzes the target `name` and fails on any crash.
pub(crate) fn check(name: &str) {
    let t = targets::all()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let r = fuzz(&t);
    assert!(r.execs > 0 && r.outcomes > 0 && r.corpus > 0);
    assert!(
        r.crashes.is_empty(),
        "fuzz {name}: {} inputs panicked (saved: {:?}); fix them and add each to {}",
        r.crashes.len(),
        r.crashes,
        corpus_dir(name).display()
    );
    assert!(
        r.slowest_s < 30.0,
        "fuzz {name}: an input took {:.1} s",
        r.slowest_s
    );
}

#[test]
fn mutations_stay_bounded_and_change_inputs() {
    let mut rng = Rng(42);
    let base = b"{\"a\": 12, \"b\": [1, 2]}".to_vec();
    let mut changed = 0;
    for _ in 0..1000 {
        let mut d = base.clone();
        for _ in 0..3 {
            mutate_once(&mut rng, &mut d, &base, true);
        }
        assert!(d.len() < base.len() + 3 * 300);
        changed += usize::from(d != base);
    }
    assert!(changed > 900, "{changed}");
    let sig = signature(
        &Err(sora_core::Error::invalid("width 123 at /x/y")),
        Path::new("/x/y"),
    );
    assert_eq!(sig, "InvalidRequest:invalid request: width # at <dir>");
}

macro_rules! fuzz_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*

        /// Every target has a test (the list above is complete).
        #[test]
        fn every_target_has_a_test() {
            let mut tested = vec![$($name),*];
            let mut all: Vec<&str> = targets::all().iter().map(|t| t.name).collect();
            tested.sort();
            all.sort();
            assert_eq!(tested, all);
        }
    };
}

fuzz_tests! {
    fuzz_safetensors => "safetensors",
    fuzz_safetensors_index => "safetensors_index",
    fuzz_model_index => "model_index",
    fuzz_config_transformer => "config_transformer",
    fuzz_config_vae => "config_vae",
    fuzz_config_text_encoder => "config_text_encoder",
    fuzz_config_scheduler => "config_scheduler",
    fuzz_tokenizer => "tokenizer",
    fuzz_mp4 => "mp4",
    fuzz_wav => "wav",
    fuzz_image => "image",
    fuzz_registry => "registry",
}
