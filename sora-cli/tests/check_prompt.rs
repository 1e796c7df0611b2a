//! `sora check-prompt` and the gate in `sora generate`, as a user runs them:
//! exit 0 allowed, 3 refused (the matched entry printed), `--json`, a bad
//! registry (exit 2), and a refused generation leaving no output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn registry() -> String {
    root()
        .join("tests/it/data/safety_registry.json")
        .display()
        .to_string()
}

fn sora(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sora"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_prompt_exits_0_when_allowed_and_3_when_refused() {
    let reg = registry();
    let o = sora(&["check-prompt", "--registry", &reg, "a rose garden at dawn"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).starts_with("allowed"), "{}", stdout(&o));

    let o = sora(&[
        "check-prompt",
        "--registry",
        &reg,
        "G r a c e  W h i t m 0 r e dancing",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let out = stdout(&o);
    assert!(
        out.starts_with("refused") && out.contains("`Grace Whitmore`"),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("consent required"));

    let args = [
        "check-prompt",
        "--registry",
        &reg,
        "--consent",
        "grace-studio",
        "--owner",
        "studio-a",
        "--json",
        "Grace Whitmore dancing",
    ];
    let o = sora(&args);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["allowed"], true);
    assert_eq!(v["matches"][0]["consent"], "grace-studio");

    let o = sora(&[
        "check-prompt",
        "--registry",
        &reg,
        "--json",
        "Mister Whiskerton",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["matches"][0]["kind"], "protected");
    assert_eq!(v["matches"][0]["entry"], "Mister Whiskerton");
}

#[test]
fn a_bad_registry_is_an_invalid_request_and_generate_is_gated() {
    let bad = root().join("target/scratch/check_prompt_bad.json");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, r#"{"people": [{"names": ["Al"]}]}"#).unwrap();
    let o = sora(&["check-prompt", "--registry", bad.to_str().unwrap(), "hello"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("check_prompt_bad.json") && err.contains("fewer than 3 letters"),
        "{err}"
    );

    // `generate` refuses before any compute (on the tiny fixture model), and
    // the output never appears.
    let model = root().join("target/fixtures/wan_pipeline/t2v_21/model");
    if !model.join("model_index.json").is_file() {
        eprintln!(
            "skipping the generate half: fixture {} missing",
            model.display()
        );
        return;
    }
    let out = root().join("target/scratch/check_prompt_refused.mp4");
    let _ = std::fs::remove_file(&out);
    let reg = registry();
    let o = sora(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--prompt",
        "Zendrika on stage",
        "--width",
        "32",
        "--height",
        "32",
        "--frames",
        "5",
        "--steps",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--safety-registry",
        &reg,
        "--owner-key",
        "studio-a",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("Zendrika"));
    assert!(!out.exists());
}
