//! Signing and reading back MP4 and WAV files written by sora's own writers,
//! with a certificate chain made in the test: valid with the claims, still
//! sora's output and still readable, invalid after one changed byte, trusted
//! only under the test's CA.

use std::path::PathBuf;

use ndarray::{Array2, Array4};

use super::*;
use crate::io;
use crate::safety::policy::WatermarkMeta;
use crate::safety::registry::Registry;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sora-c2pa-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn test_identity() -> SigningIdentity {
    SigningIdentity::generate("sora test signer", "sora test CA", "sora tests", 1).unwrap()
}

fn inputs(visible: bool, consents: Vec<String>) -> ManifestInputs {
    ManifestInputs {
        generation: GenerationAssertion {
            generator: "sora test".into(),
            family: "wan".into(),
            model: "tiny-wan".into(),
            mode: "text".into(),
            prompt: None,
            negative_prompt: None,
            prompt_included: false,
            seed: 7,
            steps: 2,
            guidance: 5.0,
            guidance_2: None,
            width: 32,
            height: 32,
            frames: 3,
            fps: 16,
            audio: false,
            params: Default::default(),
            generation_id: "0123456789ab".into(),
            watermark: WatermarkMeta {
                visible,
                invisible: true,
                payload: Some("0123456789ab00".into()),
                generation_id: Some("0123456789ab".into()),
            },
        },
        consents,
    }
}

fn frames() -> Array4<u8> {
    Array4::from_shape_fn((3, 32, 32, 3), |(t, y, x, c)| {
        ((x * 7 + y * 3 + t * 11 + c * 50) % 220 + 10) as u8
    })
}

fn tone() -> Array2<f32> {
    Array2::from_shape_fn((1, 4000), |(_, i)| (i as f32 * 0.07).sin() * 0.4)
}

/// The byte range of the first top-level `mdat` box's payload.
fn mdat(bytes: &[u8]) -> std::ops::Range<usize> {
    let mut p = 0;
    while p + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[p..p + 4].try_into().unwrap()) as usize;
        if &bytes[p + 4..p + 8] == b"mdat" {
            return p + 8..p + size;
        }
        p += size;
    }
    panic!("no mdat");
}

#[test]
fn a_signed_mp4_reads_back_valid_and_one_changed_byte_breaks_it() {
    let d = scratch("mp4");
    let path = d.join("clip.mp4");
    io::write_mp4(&path, frames().view(), 16.0, Some((tone().view(), 16_000))).unwrap();
    let before = io::read_mp4(&path).unwrap();
    assert!(!read_credentials(&path).unwrap().present);

    let id = test_identity();
    sign_file(
        &path,
        MediaFormat::Mp4,
        &inputs(false, vec!["ab".repeat(32)]),
        &id,
    )
    .unwrap();
    // Nothing else left beside it; still sora's file; same frames and audio.
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["clip.mp4"]);
    assert!(io::is_sora_output(&path).unwrap());
    let after = io::read_mp4(&path).unwrap();
    assert_eq!(after.frames, before.frames);
    assert_eq!(after.audio, before.audio);

    let c = read_credentials(&path).unwrap();
    assert!(c.present && c.valid && !c.trusted, "{c:?}");
    assert_eq!(c.issues, ["signingCredential.untrusted"], "{c:?}");
    let signer = c.signer.as_ref().unwrap();
    assert_eq!(signer.subject, "CN=sora test signer, O=sora tests");
    assert_eq!(signer.issuer, "CN=sora test CA, O=sora tests");
    assert!(
        c.claims
            .iter()
            .any(|l| l.starts_with("c2pa.created: digital source type trainedAlgorithmicMedia")),
        "{:?}",
        c.claims
    );
    assert!(
        c.claims
            .iter()
            .any(|l| l == "watermark visible off, invisible on"),
        "{:?}",
        c.claims
    );
    assert!(
        c.claims.iter().any(|l| l == "prompt not included"),
        "{:?}",
        c.claims
    );
    let g = c.generation.as_ref().unwrap();
    assert_eq!(g["model"], "tiny-wan");
    assert_eq!(g["seed"], 7);
    assert_eq!(g["watermark"]["visible"], false);
    assert!(g.get("prompt").is_none());
    assert_eq!(c.consents, ["ab".repeat(32)]);

    // Trusted under the test's CA.
    let t = read_credentials_with(&path, Some(&id.root_pem())).unwrap();
    assert!(t.valid && t.trusted && t.issues.is_empty(), "{t:?}");

    // One byte of the video changed: no longer valid.
    let mut bytes = std::fs::read(&path).unwrap();
    let m = mdat(&bytes);
    bytes[(m.start + m.end) / 2] ^= 0x01;
    let tampered = d.join("tampered.mp4");
    std::fs::write(&tampered, &bytes).unwrap();
    let c = read_credentials(&tampered).unwrap();
    assert!(c.present && !c.valid, "{c:?}");
    assert!(c.issues.iter().any(|i| i.contains("mismatch")), "{c:?}");
    println!("tampered MP4: {:?}", c.issues);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_signed_wav_reads_back_valid_and_one_changed_byte_breaks_it() {
    let d = scratch("wav");
    let path = d.join("clip.wav");
    io::write_wav(&path, tone().view(), 16_000).unwrap();
    let (before, _) = io::read_wav(&path).unwrap();
    let id = test_identity();
    sign_file(&path, MediaFormat::Wav, &inputs(true, Vec::new()), &id).unwrap();
    assert!(io::is_sora_output(&path).unwrap());
    assert_eq!(io::read_wav(&path).unwrap().0, before);
    let c = read_credentials(&path).unwrap();
    assert!(c.present && c.valid && !c.trusted, "{c:?}");
    assert!(c
        .claims
        .iter()
        .any(|l| l == "watermark visible on, invisible on"));
    assert!(c.consents.is_empty());

    let mut bytes = std::fs::read(&path).unwrap();
    // A sample in the middle of the data chunk (it starts after the 44-byte header).
    bytes[44 + 4000] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let c = read_credentials(&path).unwrap();
    assert!(c.present && !c.valid, "{c:?}");
    assert!(c.issues.iter().any(|i| i.contains("mismatch")), "{c:?}");
    println!("tampered WAV: {:?}", c.issues);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn signed_copies_differ_only_inside_the_manifest() {
    let d = scratch("span");
    let (a, b) = (d.join("a.mp4"), d.join("b.mp4"));
    let id = test_identity();
    for p in [&a, &b] {
        io::write_mp4(p, frames().view(), 16.0, None).unwrap();
        sign_file(p, MediaFormat::Mp4, &inputs(true, Vec::new()), &id).unwrap();
    }
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (sx, sy) = (manifest_span(&x).unwrap(), manifest_span(&y).unwrap());
    assert_eq!(sx, sy);
    assert_eq!(x[..sx.0], y[..sy.0]);
    assert_eq!(x[sx.0 + sx.1..], y[sy.0 + sy.1..]);
    // An unsigned file has none; signing again replaces the manifest.
    let plain = d.join("plain.mp4");
    io::write_mp4(&plain, frames().view(), 16.0, None).unwrap();
    assert!(manifest_span(&std::fs::read(&plain).unwrap()).is_none());
    sign_file(&a, MediaFormat::Mp4, &inputs(false, Vec::new()), &id).unwrap();
    let c = read_credentials(&a).unwrap();
    assert!(
        c.valid
            && c.claims
                .iter()
                .any(|l| l == "watermark visible off, invisible on"),
        "{c:?}"
    );
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn consent_hashes_follow_the_record_and_name_no_one() {
    let reg = Registry::parse(
        r#"{"people": [{"names": ["Tom Hanley"], "consents": [
            {"id": "cameo-1", "grantee": "studio-a", "expires": 1900000000}]}]}"#,
        "test.json",
    )
    .unwrap();
    let (p, c) = reg.consent("cameo-1").unwrap();
    let h = consent_hash(p, c);
    assert_eq!(h.len(), 64);
    let want = Sha256::digest(
        br#"{"expires":1900000000,"grantee":"studio-a","id":"cameo-1","person":"Tom Hanley"}"#,
    );
    assert_eq!(h, hex(&want));
    let mut later = c.clone();
    later.expires += 1;
    assert_ne!(consent_hash(p, &later), h);
}
