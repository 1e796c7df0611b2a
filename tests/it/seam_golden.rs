//! Byte-identical Wan output across refactors of the denoising seam: every
//! fixture case of `wan_pipeline` (each mode, both versions, both schedulers,
//! CFG on and off, one and two experts), with batched and sequential guidance
//! and with step caching, is generated and its frames hashed; the hashes must
//! equal those recorded in `data/wan_golden.json`, which were written by the
//! code before the "loop owns the step" change (`SORA_WRITE_GOLDEN=1` rewrites
//! the file; never do that to make a failing test pass).
//!
//! The fixtures are random but seeded (`tests/fixtures/common.py`), so the same
//! machine kind with the same torch gives the same bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sora_core::{Pipeline, Progress, WatermarkPolicy};
use sora_tests::{fixture, workspace};

use crate::wan_pipeline::request_of;

/// FNV-1a, 64-bit: a stable hash of the frame bytes (independent of the Rust version).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn golden_path() -> PathBuf {
    workspace().join("tests/it/data/wan_golden.json")
}

/// `case/variant` → `"<frames shape> <hash>"` for every run of this test.
fn current() -> BTreeMap<String, String> {
    let cases = [
        "t2v_21",
        "t2v_21_euler_nocfg",
        "t2v_21_euler_cfg",
        "t2v_22_ti2v",
        "i2v_22_ti2v",
        "i2v_21",
        "t2v_22_experts",
        "v2v_21",
        "v2v_21_unipc",
    ];
    let variants: [(&str, bool, Option<f32>); 3] = [
        ("batched", true, None),
        ("sequential", false, None),
        ("cached", true, Some(0.2)),
    ];
    let mut out = BTreeMap::new();
    for case in cases {
        let dir = fixture("wan_pipeline").join(case);
        let req = request_of(&dir);
        for (name, batch, cache) in variants {
            let pipe = Pipeline::builder()
                .model(dir.join("model"))
                .watermarks(WatermarkPolicy::Off)
                .batch_guidance(batch)
                .step_cache(cache)
                .build()
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let clip = pipe
                .generate(&req, &mut Progress::none())
                .unwrap_or_else(|e| panic!("{case}/{name}: {e}"));
            let bytes = clip.frames.as_slice().expect("contiguous frames");
            let mut v = format!("{:?} {:016x}", clip.frames.shape(), fnv1a(bytes));
            if let Some(s) = clip.meta.step_cache {
                v.push_str(&format!(" computed={} reused={}", s.computed, s.reused));
            }
            out.insert(format!("{case}/{name}"), v);
        }
    }
    out
}

#[test]
fn wan_frames_are_byte_identical_to_the_recorded_ones() {
    let now = current();
    if std::env::var_os("SORA_WRITE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&now).unwrap();
        std::fs::write(golden_path(), text + "\n").unwrap();
        eprintln!("wrote {}", golden_path().display());
        return;
    }
    let text = std::fs::read_to_string(golden_path()).unwrap();
    let want: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    let mut bad = Vec::new();
    for (k, v) in &want {
        match now.get(k) {
            Some(got) if got == v => {}
            got => bad.push(format!("{k}: want {v}, got {got:?}")),
        }
    }
    assert_eq!(now.len(), want.len(), "the set of cases changed");
    assert!(bad.is_empty(), "frames changed:\n{}", bad.join("\n"));
}
