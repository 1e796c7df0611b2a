//! Content credentials end to end on the tiny Wan pipeline: a clip written to
//! MP4 (streamed or saved) carries a valid C2PA manifest signed by the local
//! identity, next to its watermark, and stays sora's output; a user identity
//! with the visible mark off says so in the credentials while the invisible
//! mark is still found; a consent used leaves its record's hash; credentials
//! off leave none.

use std::path::PathBuf;

use sora_core::safety::credentials::consent_hash;
use sora_core::safety::payload::{Payload, FLAG_VISIBLE};
use sora_core::safety::registry::Registry;
use sora_core::safety::{verify, verify_with, SigningIdentity};
use sora_core::{io, Pipeline, Progress, Request};
use sora_tests::{fixture, workspace};

use crate::safety_gate::registry_path;

fn model() -> PathBuf {
    fixture("wan_pipeline").join("t2v_21").join("model")
}

fn scratch(name: &str) -> PathBuf {
    let d = workspace().join("target").join("scratch").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn request(prompt: &str) -> Request {
    Request::text(prompt)
        .size(128, 96)
        .frames(9)
        .steps(1)
        .seed(3)
}

#[test]
fn pipeline_clips_carry_credentials_next_to_their_watermark() {
    let dir = scratch("c2pa-pipeline");
    let req = request("a red fox runs through fresh snow");

    // Default: signed by the process's local identity, streamed to MP4.
    let pipe = Pipeline::builder().model(model()).build().unwrap();
    let streamed = dir.join("streamed.mp4");
    let meta = pipe
        .generate_to_file(&req, &mut Progress::none(), &streamed)
        .unwrap();
    assert!(
        meta.credentials.enabled && meta.credentials.local,
        "{:?}",
        meta.credentials
    );
    assert!(!meta.credentials.prompt_included);
    let json: serde_json::Value = serde_json::from_str(&meta.to_json()).unwrap();
    assert_eq!(json["credentials"]["enabled"], true, "{json}");
    assert!(json.get("signing").is_none());
    assert!(io::is_sora_output(&streamed).unwrap());
    let r = verify(&streamed).unwrap();
    println!("{}", r.to_json());
    assert!(
        r.watermark.detected && r.watermark.payload == meta.watermark.payload,
        "{r:?}"
    );
    let c = &r.credentials;
    assert!(c.present && c.valid && !c.trusted, "{c:?}");
    assert_eq!(c.issues, ["signingCredential.untrusted"]);
    assert!(
        c.signer
            .as_ref()
            .unwrap()
            .subject
            .contains("sora local signer"),
        "{c:?}"
    );
    let g = c.generation.as_ref().unwrap();
    assert_eq!(g["family"], "wan");
    assert_eq!(g["model"], "model");
    assert_eq!(
        (g["seed"].as_u64(), g["steps"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        g["watermark"]["payload"].as_str(),
        meta.watermark.payload.as_deref()
    );
    assert_eq!(g["watermark"]["visible"], true);
    assert_eq!(g["prompt_included"], false);
    assert!(g.get("prompt").is_none(), "{g}");
    assert!(c.consents.is_empty());
    // Writing the same path again: the signed file is still recognised as sora's.
    pipe.generate_to_file(&req, &mut Progress::none(), &streamed)
        .unwrap();

    // Saved from memory: the same bytes outside the manifest.
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    let saved = dir.join("saved.mp4");
    clip.save(&saved).unwrap();
    assert!(sora_tests::same_outside_manifest(&saved, &streamed));
    assert!(verify(&saved).unwrap().credentials.valid);

    // A user identity, the visible mark off, the prompt embedded.
    let id = SigningIdentity::generate("studio signer", "studio CA", "studio", 1).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, id.cert_chain_pem()).unwrap();
    std::fs::write(&key, id.private_key_pem()).unwrap();
    let pipe = Pipeline::builder()
        .model(model())
        .no_visible_watermark()
        .sign_with_files(&cert, &key)
        .credentials_prompt(true)
        .build()
        .unwrap();
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert!(!clip.meta.credentials.local && clip.meta.credentials.prompt_included);
    let mp4 = dir.join("no-visible.mp4");
    clip.save(&mp4).unwrap();
    let r = verify(&mp4).unwrap();
    let p = Payload::from_hex(r.watermark.payload.as_deref().unwrap()).unwrap();
    assert!(r.watermark.detected && p.flags & FLAG_VISIBLE == 0, "{r:?}");
    let c = &r.credentials;
    assert!(c.valid && !c.trusted, "{c:?}");
    assert_eq!(
        c.signer.as_ref().unwrap().subject,
        "CN=studio signer, O=studio"
    );
    assert!(
        c.claims
            .iter()
            .any(|l| l == "watermark visible off, invisible on"),
        "{:?}",
        c.claims
    );
    let g = c.generation.as_ref().unwrap();
    assert_eq!(g["prompt"], "a red fox runs through fresh snow");
    assert_eq!(g["watermark"]["visible"], false);
    assert_eq!(g["watermark"]["invisible"], true);
    let trusted = verify_with(&mp4, Some(&id.root_pem())).unwrap().credentials;
    assert!(
        trusted.valid && trusted.trusted && trusted.issues.is_empty(),
        "{trusted:?}"
    );

    // Credentials off: recorded, and the file carries none.
    let pipe = Pipeline::builder()
        .model(model())
        .no_credentials()
        .build()
        .unwrap();
    let off = dir.join("off.mp4");
    let meta = pipe
        .generate_to_file(&req, &mut Progress::none(), &off)
        .unwrap();
    assert!(!meta.credentials.enabled && meta.credentials.signer.is_none());
    let r = verify(&off).unwrap();
    assert!(r.watermark.detected && !r.credentials.present, "{r:?}");
    // A key without its certificate is refused at build.
    let e = Pipeline::builder()
        .model(model())
        .option("sign_key", key.to_str().unwrap())
        .unwrap()
        .build()
        .err()
        .unwrap();
    assert!(e.to_string().contains("sign_cert"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_consent_used_leaves_the_hash_of_its_record() {
    let dir = scratch("c2pa-consent");
    let pipe = Pipeline::builder()
        .model(model())
        .safety_registry(registry_path())
        .owner_key("studio-a")
        .build()
        .unwrap();
    let wav_or_mp4 = dir.join("cameo.mp4");
    pipe.generate_to_file(
        &request("Tom Hanley waves at the camera").consent("tom-studio"),
        &mut Progress::none(),
        &wav_or_mp4,
    )
    .unwrap();
    let reg = Registry::load(registry_path()).unwrap();
    let (person, consent) = reg.consent("tom-studio").unwrap();
    let c = verify(&wav_or_mp4).unwrap().credentials;
    assert!(c.valid, "{c:?}");
    assert_eq!(c.consents, [consent_hash(person, consent)]);
    let text = serde_json::to_string(&c).unwrap();
    assert!(
        !text.contains("Hanley") && !text.contains("tom-studio"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
