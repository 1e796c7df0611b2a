//! The `sora` command as a user runs it: exit codes, messages, `--json`, output
//! files, and the same frames as the Rust API for the same request (the
//! front-door equality test; the Python suite compares Python and C to the
//! frames this test writes to `target/frontdoor/rust.rgb`).

use std::path::{Path, PathBuf};
use std::process::Command;

use sora_core::{io, Pipeline, Progress, Request};

const PROMPT: &str = "a red ball bounces on a wooden floor";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn model() -> PathBuf {
    let m = root().join("target/fixtures/wan_pipeline/t2v_21/model");
    assert!(
        m.join("model_index.json").is_file(),
        "fixture {} missing: run `.venv/bin/python tests/fixtures/build_all.py`",
        m.display()
    );
    m
}

fn scratch(name: &str) -> PathBuf {
    let d = root().join("target/scratch/cli").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies the folder `from` to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn sora(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sora"))
        .args(args)
        .output()
        .unwrap()
}

fn small_args<'a>(model: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "generate", "--model", model, "--prompt", PROMPT, "--width", "32", "--height", "32",
        "--frames", "5", "--steps", "2", "--seed", "7", "--out", out, "--quiet",
    ]
}

#[test]
fn cli_frames_equal_the_rust_api_frames() {
    let m = model();
    let dir = scratch("frontdoor");
    let out = dir.join("frames");
    let o = sora(&small_args(m.to_str().unwrap(), out.to_str().unwrap()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cli = io::read_png_sequence(&out).unwrap();

    let pipe = Pipeline::builder().model(&m).build().unwrap();
    let req = Request::text(PROMPT)
        .size(32, 32)
        .frames(5)
        .steps(2)
        .seed(7);
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(cli, clip.frames, "CLI and Rust API frames differ");

    let fd = root().join("target/frontdoor");
    std::fs::create_dir_all(&fd).unwrap();
    std::fs::write(fd.join("rust.rgb"), clip.frames.as_slice().unwrap()).unwrap();
}

/// Long-form generation from the CLI: `--prompt-at` and `--set
/// window_frames=…` make the frames of the same request through the Rust API.
#[test]
fn cli_long_form_with_timed_prompts_equals_the_rust_api() {
    let m = model();
    let dir = scratch("frontdoor_long_form");
    let out = dir.join("frames");
    let mut a = small_args(m.to_str().unwrap(), out.to_str().unwrap());
    let frames_at = a.iter().position(|x| *x == "--frames").unwrap() + 1;
    a[frames_at] = "33";
    a.extend_from_slice(&[
        "--prompt-at",
        "1=a white owl sleeps on a branch",
        "--set",
        "window_frames=17",
        "--set",
        "window_overlap=2",
    ]);
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cli = io::read_png_sequence(&out).unwrap();
    assert_eq!(cli.shape(), &[33, 32, 32, 3]);

    let pipe = Pipeline::builder().model(&m).build().unwrap();
    let mut req = Request::text(PROMPT)
        .size(32, 32)
        .frames(33)
        .steps(2)
        .seed(7)
        .prompt_at(1.0, "a white owl sleeps on a branch");
    req.set("window_frames", 17).unwrap();
    req.set("window_overlap", 2).unwrap();
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(cli, clip.frames, "CLI and Rust API long-form frames differ");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_mp4_and_wav_outputs() {
    let m = model();
    let dir = scratch("json");
    let mp4 = dir.join("clip.mp4");
    let mut args = small_args(m.to_str().unwrap(), mp4.to_str().unwrap());
    args.push("--json");
    let o = sora(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["load_s", "text_s", "denoise_s", "decode_s", "total_s"] {
        assert!(v["timings"][k].as_f64().unwrap() >= 0.0, "timings.{k}");
    }
    let steps = v["timings"]["steps_s"].as_array().unwrap();
    assert_eq!(steps.len(), v["steps"].as_u64().unwrap() as usize);
    let step_sum: f64 = steps.iter().map(|s| s.as_f64().unwrap()).sum();
    assert!(step_sum <= v["timings"]["denoise_s"].as_f64().unwrap());
    assert!(v["peak_rss_mb"].as_f64().unwrap() > 0.0);
    assert_eq!(v["seed"], 7);
    assert_eq!(v["family"], "wan");
    let clip = io::read_mp4(&mp4).unwrap();
    assert_eq!(clip.frames.shape(), &[5, 32, 32, 3]);
    // Wan makes no audio: asking for a WAV is an invalid request, and nothing is written.
    let wav = dir.join("clip.wav");
    let o = sora(&small_args(m.to_str().unwrap(), wav.to_str().unwrap()));
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!wav.exists());
}

#[test]
fn exit_codes_and_messages() {
    let m = model();
    let dir = scratch("codes");
    let out = dir.join("x.mp4");
    let (ms, os) = (m.to_str().unwrap(), out.to_str().unwrap());

    // Bad size: 2, naming the nearest valid values; no output file.
    let mut a = small_args(ms, os);
    a[6] = "30";
    let o = sora(&a);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("16 or 32"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(!out.exists());

    // Bad argument value: 2.
    let mut a = small_args(ms, os);
    a[14] = "seven";
    assert_eq!(sora(&a).status.code(), Some(2));

    // Missing model folder: 1, naming it.
    let o = sora(&small_args("/nonexistent/model", os));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/model"));

    // Unknown device string: 2.
    let mut a = small_args(ms, os);
    a.extend(["--device", "tpu"]);
    assert_eq!(sora(&a).status.code(), Some(2));

    // A missing input image: 1 (I/O), naming the path.
    let mut a = small_args(ms, os);
    a.extend(["--image", "/nonexistent/img.png"]);
    let o = sora(&a);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/img.png"));
    assert!(!out.exists());
}

#[test]
fn inspect_lists_components_and_problems() {
    let m = model();
    let o = sora(&["inspect", m.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "WanPipeline",
        "transformer",
        "WanTransformer3DModel",
        "vae",
        "text_encoder",
        "loadable",
    ] {
        assert!(text.contains(want), "inspect output lacks {want}:\n{text}");
    }
    let o = sora(&["inspect", "--json", m.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["family"], "wan");
    assert_eq!(v["ok"], true);
    let t = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "transformer")
        .unwrap();
    assert!(t["parameters"].as_u64().unwrap() > 0);
    assert!(t["dtypes"]["F32"].as_u64().is_some());
}

#[test]
fn inspect_exits_1_after_the_report_when_the_folder_cannot_load() {
    let broken = scratch("inspect_broken").join("model");
    copy_tree(&model(), &broken);
    // The transformer's weights are gone: the folder cannot load as is.
    let tdir = broken.join("transformer");
    for e in std::fs::read_dir(&tdir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "safetensors") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    let o = sora(&["inspect", broken.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("WanPipeline") && text.contains("vae"),
        "{text}"
    );
    let o = sora(&["inspect", "--json", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
}

#[test]
fn ctrl_c_exits_130_and_leaves_no_file() {
    interrupted_run_exits_130_and_leaves_no_file(libc::SIGINT, "ctrlc");
}

#[test]
fn sigterm_exits_130_and_leaves_no_file() {
    // `kill PID` (a job scheduler's stop, a container's shutdown) cancels the
    // run like Ctrl-C instead of leaving the staged temporary file behind.
    interrupted_run_exits_130_and_leaves_no_file(libc::SIGTERM, "sigterm");
}

fn interrupted_run_exits_130_and_leaves_no_file(signal: libc::c_int, name: &str) {
    let m = model();
    let dir = scratch(name);
    let out = dir.join("clip.mp4");
    // A run long enough to be interrupted (about 30 s uncancelled here).
    let mut child = Command::new(env!("CARGO_BIN_EXE_sora"))
        .args([
            "generate",
            "--model",
            m.to_str().unwrap(),
            "--prompt",
            PROMPT,
        ])
        .args([
            "--width", "64", "--height", "64", "--frames", "33", "--steps", "900",
        ])
        .args(["--quiet", "--out", out.to_str().unwrap()])
        .spawn()
        .unwrap();
    // The streaming writer stages its temporary file before any work starts:
    // once it is there, the run is under way.
    let staged = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };
    let mut waited = 0;
    while !staged() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "sora ended before it was interrupted"
        );
        assert!(waited < 6000, "no staged output appeared");
        std::thread::sleep(std::time::Duration::from_millis(10));
        waited += 1;
    }
    // SAFETY: signals our own child process, which is still running.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "files left");
}

#[test]
fn step_cache_and_sequential_guidance_flags_reach_the_pipeline() {
    let m = model();
    let dir = scratch("step-cache");
    let out = dir.join("frames");
    let (ms, os) = (m.to_str().unwrap(), out.to_str().unwrap());
    // The counts show both flags arrived: one forward per step batched, two
    // (cond, uncond) per step with --no-batch-guidance.
    for (extra, forwards) in [(None, 2), (Some("--no-batch-guidance"), 4)] {
        let mut a = small_args(ms, os);
        a.extend(["--step-cache", "0.5", "--json"]);
        a.extend(extra);
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let sc = &v["step_cache"];
        assert_eq!(sc["threshold"].as_f64(), Some(0.5), "{v}");
        // Two steps: the first and the last always compute.
        assert_eq!(sc["computed"].as_u64(), Some(forwards), "{v}");
        assert_eq!(sc["reused"].as_u64(), Some(0), "{v}");
    }
    let mut a = small_args(ms, os);
    a.push("--json");
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["step_cache"].is_null(), "{v}");
    // A threshold that is not a finite number ≥ 0: an invalid request (2).
    for bad in ["nan", "inf", "-0.5"] {
        let flag = format!("--step-cache={bad}");
        let mut a = small_args(ms, os);
        a.push(&flag);
        let o = sora(&a);
        assert_eq!(o.status.code(), Some(2), "--step-cache {bad}");
    }
}

#[test]
fn memory_budget_refuses_before_any_work() {
    let m = model();
    let dir = scratch("budget");
    for out in [dir.join("clip.mp4"), dir.join("frames")] {
        let mut a = small_args(m.to_str().unwrap(), out.to_str().unwrap());
        a.extend(["--memory-budget", "1"]);
        let o = sora(&a);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("out of memory") && err.contains("budget is 1 MiB"),
            "{err}"
        );
        assert!(err.contains("largest part"), "{err}");
        assert!(!out.exists(), "{} was written", out.display());
    }
}

#[test]
fn offloading_the_text_encoder_keeps_the_frames() {
    let m = model();
    let dir = scratch("offload");
    let (a, b) = (dir.join("plain"), dir.join("offload"));
    let o = sora(&small_args(m.to_str().unwrap(), a.to_str().unwrap()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut args = small_args(m.to_str().unwrap(), b.to_str().unwrap());
    args.extend(["--offload-text-encoder", "--json"]);
    let o = sora(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["text_embeddings_cached"], false);
    assert!(v["estimated_peak_mb"].as_f64().unwrap() > 0.0);
    assert_eq!(
        io::read_png_sequence(&a).unwrap(),
        io::read_png_sequence(&b).unwrap()
    );
}

#[test]
fn offload_is_refused_on_the_cpu_and_estimated_for_a_gpu() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("offload_modes");
    let out = dir.join("clip");
    let mut a = small_args(ms, out.to_str().unwrap());
    a.extend(["--offload", "model"]);
    let o = sora(&a);
    assert_eq!(o.status.code(), Some(1), "unsupported");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("host memory") && err.contains("CUDA"), "{err}");
    assert!(!out.exists(), "{} was written", out.display());
    let mut a = small_args(ms, out.to_str().unwrap());
    a.extend(["--offload", "disk"]);
    assert_eq!(sora(&a).status.code(), Some(2), "usage error");
    // The estimate for a GPU: less with each mode.
    let total = |mode: &str| {
        let o = sora(&[
            "inspect",
            ms,
            "--estimate",
            "--json",
            "--device",
            "cuda",
            "--offload",
            mode,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["estimate"]["offload"], mode);
        v["estimate"]["total_mb"].as_f64().unwrap()
    };
    let (none, model, seq) = (total("none"), total("model"), total("sequential"));
    assert!(seq <= model && model < none, "{seq} {model} {none}");
    let o = sora(&[
        "inspect",
        ms,
        "--estimate",
        "--device",
        "cuda",
        "--offload",
        "sequential",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("; --offload sequential") && text.contains("weights (in host memory"),
        "{text}"
    );
}

#[test]
fn inspect_estimate_prints_parts_phases_and_total() {
    let m = model();
    let ms = m.to_str().unwrap();
    let size = ["--width", "64", "--height", "48", "--frames", "9"];
    let mut args = vec!["inspect", ms, "--estimate"];
    args.extend(size);
    let o = sora(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "memory estimate: 64x48, 9 frames on cpu in float32",
        "transformer forward",
        "VAE decode",
        "output clip",
        "denoise",
        "total:",
        "loadable",
    ] {
        assert!(
            text.contains(want),
            "inspect --estimate lacks {want}:\n{text}"
        );
    }
    args.push("--json");
    let o = sora(&args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true, "the report is still there");
    let e = &v["estimate"];
    assert_eq!(e["width"], 64);
    assert_eq!(e["batch"], 2);
    let total = e["total_mb"].as_f64().unwrap();
    let phases = e["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    let max = phases
        .iter()
        .map(|p| p["total_mb"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(total, max);
    // Family defaults when unset (832x480, 81 frames); the sizes are checked.
    let o = sora(&["inspect", ms, "--estimate", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["estimate"]["frames"], 81);
    let o = sora(&["inspect", ms, "--estimate", "--width", "30"]);
    assert_eq!(o.status.code(), Some(2));
    // Size options without --estimate are a usage error.
    assert_eq!(
        sora(&["inspect", ms, "--width", "64"]).status.code(),
        Some(2)
    );
    // The VAE tiling in effect, as `generate --vae-tiling` takes it.
    let header = |extra: &[&str]| {
        let mut a = vec!["inspect", ms, "--estimate"];
        a.extend(size);
        a.extend(extra);
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = text.lines().find(|l| l.starts_with("memory estimate:"));
        line.unwrap().to_string()
    };
    assert!(header(&[]).ends_with("; VAE decode untiled"));
    assert!(header(&["--vae-tiling"])
        .ends_with("; VAE decode untiled (--vae-tiling=256,256,192,192: the frame fits one tile)"));
    // A 6 × 8 latent in 2 × 2 tiles every 1: 6 rows of 8.
    assert!(header(&["--vae-tiling=16,16,8,8"])
        .ends_with("; VAE decode tiled (--vae-tiling=16,16,8,8: 48 tiles a frame)"));
    for bad in [
        "--vae-tiling=12,16,8,8",
        "--vae-tiling=16,16,24,8",
        "--vae-tiling=16,16",
    ] {
        let mut a = args.clone();
        a.push(bad);
        let o = sora(&a);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("tiling"), "{bad}: {err}");
    }
    assert_eq!(
        sora(&["inspect", ms, "--vae-tiling"]).status.code(),
        Some(2)
    );
}

/// The estimate against the measured peak of a real run: `sora generate`
/// reports its resident memory before loading and its peak; what the run
/// added must not exceed the estimate of `sora inspect --estimate` for the
/// same request, and the estimate must not exceed twice that plus a fixed
/// allowance for LibTorch's own memory (what the estimate counts as runtime).
/// With `--vae-tiling` given to both: the tiled decode, whose tiles' feature
/// caches overlap (more than the untiled decode's with 4×4-latent tiles every
/// 2), and which `inspect` reports (`vae_tiling`, `vae_tiles`).
#[test]
fn estimate_bounds_the_measured_peak() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("estimate");
    // Sizes where the activations, not the tiny weights, make the peak. In
    // bfloat16 the CPU's convolutions take oneDNN or the native path (by its
    // instructions), and the estimate follows.
    let cases: [(&str, &str, &str, Option<&str>, u64); 5] = [
        ("256", "256", "17", None, 1),
        ("128", "96", "9", None, 1),
        ("256", "256", "17", Some("--vae-tiling=64,64,48,48"), 36),
        ("256", "256", "17", Some("--vae-tiling=32,32,16,16"), 256),
        ("256", "256", "17", Some("--dtype=bfloat16"), 1),
    ];
    let mut decode_of = Vec::new();
    for (w, h, f, extra, tiles) in cases {
        let tiling = extra.filter(|e| e.starts_with("--vae-tiling="));
        let mut args = vec!["inspect", ms, "--estimate", "--json"];
        args.extend(["--width", w, "--height", h, "--frames", f]);
        args.extend(extra);
        let o = sora(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let estimate = v["estimate"]["total_mb"].as_f64().unwrap();
        let runtime = v["estimate"]["runtime_mb"].as_f64().unwrap();
        assert_eq!(v["estimate"]["vae_tiles"], tiles);
        let want_tiling = tiling.map(|t| {
            let n: Vec<i64> = t["--vae-tiling=".len()..]
                .split(',')
                .map(|x| x.parse().unwrap())
                .collect();
            serde_json::json!(n)
        });
        assert_eq!(v["estimate"]["vae_tiling"], want_tiling.unwrap_or_default());
        let decode = v["estimate"]["activations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "VAE decode")
            .unwrap()["mb"]
            .as_f64()
            .unwrap();
        decode_of.push(decode);
        let name = format!("{w}x{h}x{f} {}", extra.unwrap_or("untiled"));

        let out = dir.join(format!("{w}x{h}-{tiles}-{}", decode_of.len()));
        let mut args = vec![
            "generate",
            "--model",
            ms,
            "--prompt",
            PROMPT,
            "--width",
            w,
            "--height",
            h,
            "--frames",
            f,
            "--steps",
            "1",
            "--seed",
            "7",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--json",
        ];
        args.extend(extra);
        let o = sora(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        // The pipeline's own estimate (the one it checks before running; no
        // loading phase) is the same when decoding makes the peak.
        if v["estimate"]["peak_phase"] == "decode" {
            assert_eq!(r["estimated_peak_mb"].as_f64(), Some(estimate), "{name}");
        }
        let grew = r["peak_rss_mb"].as_f64().unwrap() - r["rss_before_load_mb"].as_f64().unwrap();
        eprintln!("{name}: estimate {estimate:.1} MiB, measured growth {grew:.1} MiB");
        assert!(
            grew <= estimate,
            "{name}: the run grew by {grew:.1} MiB, over the estimate {estimate:.1} MiB"
        );
        assert!(
            estimate <= 2.0 * grew + runtime,
            "{name}: estimate {estimate:.1} MiB is far above the measured growth {grew:.1} MiB"
        );
    }
    // 64×64 tiles decode in less than whole frames; 32×32 every 16 cache more.
    assert!(decode_of[2] < 0.7 * decode_of[0], "{decode_of:?}");
    assert!(decode_of[3] > decode_of[0], "{decode_of:?}");
}

#[test]
fn vae_tiling_flag_reaches_the_pipeline() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("vae_tiling");
    let (plain, default, small) = (dir.join("plain"), dir.join("default"), dir.join("small"));
    let o = sora(&small_args(ms, plain.to_str().unwrap()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // 32×32 is within one default 256×256 tile: decoded untiled (diffusers' rule).
    let mut a = small_args(ms, default.to_str().unwrap());
    a.push("--vae-tiling");
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = io::read_png_sequence(&plain).unwrap();
    assert_eq!(want, io::read_png_sequence(&default).unwrap());
    // 16×16 tiles every 8 pixels: 4×4 tiles, same frame count and size.
    let mut a = small_args(ms, small.to_str().unwrap());
    a.push("--vae-tiling=16,16,8,8");
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = io::read_png_sequence(&small).unwrap();
    assert_eq!(got.shape(), want.shape());
    // Not multiples of the spatial factor, stride above the tile, not four numbers: 2.
    for bad in [
        "--vae-tiling=12,16,8,8",
        "--vae-tiling=16,16,24,8",
        "--vae-tiling=16,16",
    ] {
        let out = dir.join("bad");
        let mut a = small_args(ms, out.to_str().unwrap());
        a.push(bad);
        let o = sora(&a);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("tiling"),
            "{bad}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!out.exists());
    }
}

#[test]
fn set_takes_the_parameter_path_of_the_dedicated_flags() {
    let m = model();
    let dir = scratch("set");
    let ms = m.to_str().unwrap();
    let frames_of = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut a = small_args(ms, out.to_str().unwrap());
        a.extend(extra);
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        io::read_png_sequence(&out).unwrap()
    };
    let by_key = frames_of("key", &["--set", "guidance_scale=3.5"]);
    let by_flag = frames_of("flag", &["--guidance", "3.5"]);
    let default = frames_of("default", &[]);
    assert_eq!(
        by_key, by_flag,
        "--set guidance_scale=3.5 differs from --guidance 3.5"
    );
    assert_ne!(by_key, default, "guidance_scale did not reach the run");

    // An unknown key, a bad value, a key the request cannot take: 2, naming it,
    // before the model is loaded; nothing written.
    let out = dir.join("bad.mp4");
    for (set, named) in [
        ("no_such_key=1", "no_such_key"),
        ("num_inference_steps=0", "num_inference_steps"),
        ("guidance_scale=lots", "guidance_scale"),
        ("strength=0.5", "strength"),
        ("guidance_scale", "KEY=VALUE"),
    ] {
        let mut a = small_args("/nonexistent/model", out.to_str().unwrap());
        a.extend(["--set", set]);
        let o = sora(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--set {set}: {err}");
        assert!(err.contains(named), "--set {set}: {err}");
    }
    assert!(!out.exists());
}

/// A 32×48 clip of `t` frames: a smooth pattern moving `speed` pixels a frame.
fn pattern_clip(t: usize, speed: f64) -> ndarray::Array4<u8> {
    ndarray::Array4::from_shape_fn((t, 32, 48, 3), |(f, y, x, c)| {
        let px = x as f64 - speed * f as f64;
        let v = 128.0
            + 50.0 * (0.3 * px + 0.2 * y as f64).sin()
            + 40.0 * (0.17 * y as f64 - 0.11 * px + c as f64).cos();
        v.clamp(0.0, 255.0) as u8
    })
}

#[test]
fn score_prints_the_report_and_its_json() {
    let dir = scratch("score");
    // A static folder of PNG frames: no flicker, no motion.
    let png = dir.join("static");
    io::write_png_sequence(&png, pattern_clip(6, 0.0).view()).unwrap();
    let o = sora(&["score", png.to_str().unwrap(), "--fps", "8", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["metrics"]["flicker"], 0.0);
    assert_eq!(v["metrics"]["dynamic_degree"], 0.0);
    assert!(v["metrics"]["motion_smoothness"].as_f64().unwrap() > 0.999);
    assert!(v["metrics"]["physics_iq_mse"].is_null());
    assert!(v["findings"].is_array());

    // An MP4 with a WAV supplied and itself as reference; readable text.
    let mp4 = dir.join("moving.mp4");
    io::write_mp4(&mp4, pattern_clip(8, 1.5).view(), 8.0, None).unwrap();
    let wav = dir.join("sound.wav");
    let sound = ndarray::Array2::from_shape_fn((1, 8000), |(_, i)| (i as f32 * 0.05).sin() * 0.3);
    io::write_wav(&wav, sound.view(), 8000).unwrap();
    let (mp4s, wavs) = (mp4.to_str().unwrap(), wav.to_str().unwrap());
    let o = sora(&[
        "score",
        mp4s,
        "--audio",
        wavs,
        "--reference",
        mp4s,
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["metrics"]["physics_iq_spatial_iou"], 1.0);
    assert_eq!(v["metrics"]["physics_iq_mse"], 0.0);
    assert!(v["metrics"]["flicker"].as_f64().unwrap() > 0.0);
    let o = sora(&["score", mp4s]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("warping_error") && text.contains("8 frames of 48×32"),
        "{text}"
    );
    assert!(
        text.contains("physics_iq_mse") && text.contains("n/a"),
        "{text}"
    );

    // Bad input: a PNG folder without --fps, a reference of another size: 2.
    let o = sora(&["score", png.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--fps"));
    let small = dir.join("small");
    io::write_png_sequence(
        &small,
        pattern_clip(2, 0.0).slice(ndarray::s![.., ..16, .., ..]),
    )
    .unwrap();
    let o = sora(&["score", mp4s, "--reference", small.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let o = sora(&["score", mp4s, "--fps", "0"]);
    assert_eq!(o.status.code(), Some(2));
    // A missing clip: 1 (I/O), naming it.
    let o = sora(&["score", "/nonexistent/clip.mp4"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/clip.mp4"));
}

#[test]
fn verify_reads_the_marks_and_the_visible_flag_reaches_the_pipeline() {
    let m = model();
    let dir = scratch("verify");
    let (ms, ds) = (m.to_str().unwrap(), dir.to_str().unwrap());
    let mut payloads = Vec::new();
    for (name, extra) in [
        ("marked", None),
        ("no-visible", Some("--no-visible-watermark")),
    ] {
        let out = format!("{ds}/{name}");
        let mut a = vec![
            "generate", "--model", ms, "--prompt", PROMPT, "--width", "128", "--height", "96",
            "--frames", "9", "--steps", "1", "--seed", "3", "--out", &out, "--quiet", "--json",
        ];
        a.extend(extra);
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let meta: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(meta["watermark"]["visible"], extra.is_none(), "{meta}");
        assert_eq!(meta["watermark"]["invisible"], true, "{meta}");

        let o = sora(&["verify", &out, "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["watermark", "audio_watermark", "credentials"], "{v}");
        let wm = &v["watermark"];
        assert_eq!(wm["detected"], true, "{v}");
        assert_eq!(wm["payload"], meta["watermark"]["payload"], "{v}");
        assert!(wm["p_value"].as_f64().unwrap() <= 1e-6, "{v}");
        assert!(wm["bit_accuracy"].as_f64().unwrap() > 0.9, "{v}");
        assert_eq!(v["audio_watermark"]["detected"], false, "{v}");
        // A frame folder carries no content credentials.
        let c = &v["credentials"];
        assert_eq!(
            (&c["present"], &c["valid"], &c["trusted"]),
            (&false.into(), &false.into(), &false.into()),
            "{v}"
        );
        assert_eq!(c["claims"], serde_json::json!([]), "{v}");
        payloads.push(wm["payload"].as_str().unwrap().to_string());

        let o = sora(&["verify", &out]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("watermark: detected") && text.contains("credentials: none"),
            "{text}"
        );
    }
    // Same generation id, the visible flag differs.
    assert_eq!(payloads[0][..12], payloads[1][..12]);
    assert_ne!(payloads[0], payloads[1]);

    // An MP4 carries content credentials (the local identity's), unless off.
    for (name, extra) in [("signed.mp4", None), ("unsigned.mp4", Some("off"))] {
        let out = format!("{ds}/{name}");
        let mut a = vec![
            "generate",
            "--model",
            ms,
            "--prompt",
            PROMPT,
            "--width",
            "128",
            "--height",
            "96",
            "--frames",
            "9",
            "--steps",
            "1",
            "--seed",
            "3",
            "--out",
            &out,
            "--quiet",
            "--json",
            "--no-visible-watermark",
        ];
        if let Some(c) = extra {
            a.extend(["--credentials", c]);
        }
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let meta: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(meta["credentials"]["enabled"], extra.is_none(), "{meta}");
        let o = sora(&["verify", &out, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let c = &v["credentials"];
        assert_eq!(c["present"], extra.is_none(), "{v}");
        assert_eq!(c["valid"], extra.is_none(), "{v}");
        assert_eq!(c["trusted"], false, "{v}");
        assert_eq!(v["watermark"]["detected"], true, "{v}");
        let o = sora(&["verify", &out]);
        let text = String::from_utf8_lossy(&o.stdout);
        if extra.is_none() {
            assert_eq!(c["generation"]["watermark"]["visible"], false, "{v}");
            assert!(
                text.contains("credentials: present, valid")
                    && text.contains("signer: CN=sora local signer")
                    && text.contains("claim: watermark visible off, invisible on")
                    && text.contains("trainedAlgorithmicMedia"),
                "{text}"
            );
        } else {
            assert!(text.contains("credentials: none"), "{text}");
        }
    }
    // A signing key without its certificate: a usage error (2).
    let o = sora(&[
        "generate",
        "--model",
        ms,
        "--prompt",
        PROMPT,
        "--out",
        &format!("{ds}/x.mp4"),
        "--sign-key",
        "/nonexistent/key.pem",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A missing file is an error (1), not a report.
    let o = sora(&["verify", &format!("{ds}/missing.mp4")]);
    assert_eq!(o.status.code(), Some(1));
}

/// `args` (from [`small_args`]) with the value after `flag` replaced by `value`.
fn with<'a>(mut args: Vec<&'a str>, flag: &str, value: &'a str) -> Vec<&'a str> {
    let i = args
        .iter()
        .position(|a| *a == flag)
        .expect("a flag of small_args");
    args[i + 1] = value;
    args
}

/// Runs `sora` and returns its output with its own peak resident memory in
/// MiB (`wait4`'s `ru_maxrss`: this child only, not the other tests' children).
// Reaped by `wait4` (which also gives its rusage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn sora_peak_mb(args: &[&str]) -> (std::process::Output, f64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sora"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The outputs are small: read after the child ends.
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    use std::os::unix::process::ExitStatusExt;
    let o = std::process::Output {
        status: std::process::ExitStatus::from_raw(code << 8),
        stdout: out,
        stderr: err,
    };
    (o, usage.ru_maxrss as f64 / 1024.0)
}

/// `--aspect 9:16 --resolution 480p` on Wan 2.1 (sizes multiples of 16) is
/// 480×848, as `--json` reports and the frames written show; a size given
/// both ways, or a preset that does not exist, exits 2.
#[test]
fn aspect_and_resolution_pick_the_size() {
    let dir = scratch("aspect");
    // The fixture's rotary tables stop at 32 patches (512 pixels); a copy
    // with larger tables (the same weights) takes 848.
    let m = dir.join("model");
    copy_tree(&model(), &m);
    let cfg_path = m.join("transformer/config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["rope_max_seq_len"] = 64.into();
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let (ms, out) = (m.to_str().unwrap(), dir.join("frames"));
    let os = out.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "generate", "--model", ms, "--prompt", PROMPT, "--frames", "1", "--steps", "1",
            "--seed", "7", "--out", os, "--quiet", "--json",
        ];
        a.extend_from_slice(extra);
        a
    };
    let o = sora(&args(&["--aspect", "9:16", "--resolution", "480p"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(480), Some(848))
    );
    let frames = io::read_png_sequence(&out).unwrap();
    assert_eq!(frames.shape(), &[1, 848, 480, 3]);

    for (extra, says) in [
        (&["--aspect", "9:16", "--width", "32"][..], "not both"),
        (&["--resolution", "720p", "--height", "32"][..], "not both"),
        (&["--aspect", "3:2"][..], "9:16, 1:1, 4:5, 16:9, 21:9"),
        (&["--resolution", "4k"][..], "480p, 720p, 1080p"),
        (&["--fit", "stretch"][..], "crop or pad"),
    ] {
        let o = sora(&args(extra));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}

/// `--extend CLIP --seconds N`: the clip's frames, then N seconds more, in
/// the `--json` metadata and the file written; `--extend` without
/// `--seconds` exits 2.
#[test]
fn extend_continues_a_clip() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("extend");
    let src = dir.join("src.mp4");
    let o = sora(&with(
        small_args(ms, src.to_str().unwrap()),
        "--frames",
        "9",
    ));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("longer.mp4");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "generate",
            "--model",
            ms,
            "--prompt",
            PROMPT,
            "--extend",
            src.to_str().unwrap(),
            "--steps",
            "1",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--json",
        ];
        a.extend_from_slice(extra);
        a
    };
    let o = sora(&args(&["--seconds", "1"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mode"], "extend");
    assert_eq!(
        (v["frames"].as_u64(), v["fps"].as_u64()),
        (Some(25), Some(16))
    );
    let back = io::read_video(&out).unwrap();
    assert_eq!(back.frames.shape(), &[25, 32, 32, 3]);
    assert_eq!(v["has_audio"], false);
    // A source with its own audio (a 440 Hz tone): Wan keeps it under the
    // source's frames and adds silence, as long as the clip.
    let voiced = dir.join("voiced.mp4");
    let tone = ndarray::Array2::from_shape_fn((1, 27_000), |(_, i)| {
        (0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 48_000.0).sin()) as f32
    });
    let frames = io::read_video(&src).unwrap().frames;
    io::write_mp4(&voiced, frames.view(), 16.0, Some((tone.view(), 48_000))).unwrap();
    let longer = dir.join("voiced_longer.mp4");
    let o = sora(&[
        "generate",
        "--model",
        ms,
        "--prompt",
        PROMPT,
        "--extend",
        voiced.to_str().unwrap(),
        "--seconds",
        "1",
        "--steps",
        "1",
        "--out",
        longer.to_str().unwrap(),
        "--quiet",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["has_audio"], true);
    let back = io::read_video(&longer).unwrap();
    let a = back.audio.expect("--extend dropped the clip's audio");
    let secs = a.ncols() as f64 / f64::from(back.sample_rate);
    assert!((secs - 25.0 / 16.0).abs() <= 1.0 / 16.0, "{secs} s");
    let rms = |from: f64, to: f64| {
        let r = f64::from(back.sample_rate);
        let x = a.slice(ndarray::s![0, (from * r) as usize..(to * r) as usize]);
        (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    };
    assert!(
        (rms(0.05, 0.5) - 0.5 / 2f64.sqrt()).abs() < 0.05,
        "{}",
        rms(0.05, 0.5)
    );
    assert!(rms(0.65, secs - 0.03) < 0.01, "{}", rms(0.65, secs - 0.03));
    let o = sora(&args(&[]));
    assert_eq!(o.status.code(), Some(2));
    let o = sora(&args(&["--seconds", "1", "--width", "64"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("keeps the clip's size"), "{err}");
    // Timed prompts with an extension, in the output's time: the clip's 9
    // frames end at 0.56 s, so a prompt at 0.2 s is the continuation's from
    // its first added frame (one long-form window).
    let o = sora(&args(&[
        "--seconds",
        "1",
        "--prompt-at",
        "0.2=the fox sleeps",
    ]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["frames"].as_u64(), Some(25));
    assert_eq!(v["long_form"]["prompts"][0], "the fox sleeps");
    let o = sora(&args(&["--seconds", "1", "--prompt-at", "soon"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_size_beyond_the_rotary_tables_is_refused_before_allocating() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("rope_limit");
    let out = dir.join("o");
    let os = out.to_str().unwrap();
    // Baseline: the model loads, the request is refused at the size rule.
    let a = with(small_args(ms, os), "--width", "30");
    let (base, base_mb) = sora_peak_mb(&a);
    assert_eq!(
        base.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&base.stderr)
    );
    // The command: 100000x100000 with a budget that lets anything through.
    let mut a = with(small_args(ms, os), "--width", "100000");
    a = with(a, "--height", "100000");
    a.extend(["--memory-budget", "999999999999"]);
    let (o, peak_mb) = sora_peak_mb(&a);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("rope_max_seq_len") && err.contains("largest valid width"),
        "{err}"
    );
    let growth = peak_mb - base_mb;
    eprintln!(
        "rope limit: peak {peak_mb:.0} MiB, baseline {base_mb:.0} MiB, growth {growth:.1} MiB"
    );
    assert!(growth < 100.0, "grew {growth:.0} MiB before refusing");
    assert!(!out.exists());
}

#[test]
fn a_users_file_is_never_replaced_without_overwrite() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("provenance");
    // A user's own MP4 and frame folder.
    let mp4 = dir.join("x.mp4");
    std::fs::write(&mp4, b"my holiday video").unwrap();
    let frames = dir.join("d");
    std::fs::create_dir(&frames).unwrap();
    std::fs::write(frames.join("0000.png"), b"my drawing").unwrap();
    for out in [&mp4, &frames] {
        let o = sora(&small_args(ms, out.to_str().unwrap()));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(out.to_str().unwrap()) && err.contains("--overwrite"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&mp4).unwrap(), b"my holiday video");
    assert_eq!(
        std::fs::read(frames.join("0000.png")).unwrap(),
        b"my drawing"
    );
    // With --overwrite it is replaced; then our own output is replaced freely.
    let mut a = small_args(ms, mp4.to_str().unwrap());
    a.push("--overwrite");
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(io::is_sora_output(&mp4).unwrap());
    for out in [&mp4, &dir.join("fresh")] {
        for _ in 0..2 {
            let o = sora(&small_args(ms, out.to_str().unwrap()));
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    assert!(io::is_sora_output(&dir.join("fresh")).unwrap());
    // A .wav output carries the mark too.
    let wav = dir.join("a.wav");
    std::fs::write(&wav, b"RIFF\x04\0\0\0WAVE").unwrap();
    assert!(!io::is_sora_output(&wav).unwrap());
    // Nothing else is left: no lock files, no temporaries.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.wav", "d", "fresh", "x.mp4"]);
}

#[test]
fn leftovers_of_a_killed_run_are_removed_by_the_next_run() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("debris");
    let out = dir.join("x.mp4");
    // What a run killed with SIGKILL leaves: its temporaries (two for an MP4,
    // a partial frame folder for a folder output) and its lock file.
    let dead = 99_999_999u32;
    std::fs::write(dir.join(format!(".x.mp4.sora-{dead}-0.tmp")), b"partial").unwrap();
    std::fs::write(dir.join(format!(".x.mp4.sora-{dead}-1.tmp")), b"spool").unwrap();
    std::fs::write(dir.join(".x.mp4.sora.lock"), dead.to_string()).unwrap();
    let partial = dir.join(format!(".f.sora-{dead}-0.tmp"));
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join("0000.png"), b"x").unwrap();
    for target in [&out, &dir.join("f")] {
        let o = sora(&small_args(ms, target.to_str().unwrap()));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["f", "x.mp4"]);
}

#[test]
fn a_second_run_on_the_same_path_is_refused_while_the_first_runs() {
    let m = model();
    let ms = m.to_str().unwrap();
    let dir = scratch("lock");
    let out = dir.join("x.mp4");
    let os = out.to_str().unwrap();
    // A slow first run: many steps.
    let slow = with(small_args(ms, os), "--steps", "1000");
    let mut first = Command::new(env!("CARGO_BIN_EXE_sora"))
        .args(&slow)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = dir.join(".x.mp4.sora.lock");
    let mut waited = 0;
    while !lock.exists() && waited < 600 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    assert!(lock.exists(), "the first run never took its lock");
    let o = sora(&small_args(ms, os));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("in use by process {}", first.id())),
        "{err}"
    );
    let _ = first.kill();
    let _ = first.wait();
}

/// `sora generate` on a (tiny) LTX-2 folder writes an MP4 with an H.264 video
/// and an AAC audio stream at the vocoder's rate, of about the same duration
/// (diffusers' audio is up to two latent frames shorter: 4·L − 3 mel frames).
#[test]
fn ltx2_writes_an_mp4_with_video_and_audio() {
    let m = root().join("target/fixtures/ltx2_pipeline/v20");
    assert!(
        m.join("model_index.json").is_file(),
        "fixture {} missing: run `.venv/bin/python tests/fixtures/build_all.py ltx2_pipeline`",
        m.display()
    );
    let dir = scratch("ltx2");
    let mp4 = dir.join("clip.mp4");
    let o = sora(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--width",
        "96",
        "--height",
        "64",
        "--frames",
        "9",
        "--fps",
        "24",
        "--steps",
        "2",
        "--seed",
        "5",
        "--set",
        "max_sequence_length=24",
        "--set",
        "spatio_temporal_guidance_blocks=1",
        "--out",
        mp4.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let clip = io::read_mp4(&mp4).unwrap();
    assert_eq!(clip.frames.shape(), &[9, 64, 96, 3]);
    let audio = clip.audio.as_ref().expect("an audio stream");
    assert_eq!(
        clip.sample_rate, 24_000,
        "the vocoder's rate, not resampled"
    );
    assert_eq!(audio.shape()[0], 2, "the vocoder's channels");
    let video_s = 9.0 / 24.0;
    let audio_s = audio.shape()[1] as f64 / f64::from(clip.sample_rate);
    eprintln!("ltx2 mp4: video {video_s:.3} s, audio {audio_s:.3} s");
    assert!(
        (video_s - audio_s).abs() <= 0.06,
        "video {video_s} s, audio {audio_s} s"
    );
    let peak = audio.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.05, "the audio is not silent (peak {peak})");
}

/// `--extend` on an LTX-2 folder: our own MP4 continued with its sound (the
/// tail's frames and audio held), one video and one audio stream as long as
/// the new clip.
#[test]
fn ltx2_extend_continues_an_mp4_with_its_sound() {
    let m = root().join("target/fixtures/ltx2_pipeline/v20");
    let ms = m.to_str().unwrap();
    let dir = scratch("ltx2_extend");
    let (first, longer) = (dir.join("first.mp4"), dir.join("longer.mp4"));
    let common = [
        "--steps",
        "2",
        "--seed",
        "5",
        "--set",
        "max_sequence_length=24",
        "--quiet",
    ];
    let mut a = vec![
        "generate",
        "--model",
        ms,
        "--prompt",
        PROMPT,
        "--width",
        "96",
        "--height",
        "64",
        "--frames",
        "17",
        "--fps",
        "24",
        "--out",
        first.to_str().unwrap(),
    ];
    a.extend_from_slice(&common);
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut a = vec![
        "generate",
        "--model",
        ms,
        "--prompt",
        PROMPT,
        "--extend",
        first.to_str().unwrap(),
        "--seconds",
        "0.5",
        "--out",
        longer.to_str().unwrap(),
        "--json",
    ];
    a.extend_from_slice(&common);
    let o = sora(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["mode"].as_str(), v["frames"].as_u64()),
        (Some("extend"), Some(33))
    );
    assert_eq!(v["has_audio"], true);
    let clip = io::read_mp4(&longer).unwrap();
    assert_eq!(clip.frames.shape(), &[33, 64, 96, 3]);
    let audio = clip.audio.as_ref().expect("an audio stream");
    let audio_s = audio.shape()[1] as f64 / f64::from(clip.sample_rate);
    assert!(
        (audio_s - 33.0 / 24.0).abs() <= 1.0 / 24.0,
        "audio {audio_s} s for 33 frames at 24 fps"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `--step-cache` on an LTX-2 folder: the decisions reach the JSON (one
/// forward a step, the first and last computed), and the MP4 still has both
/// streams.
#[test]
fn ltx2_step_cache_flag_reaches_the_pipeline() {
    let m = root().join("target/fixtures/ltx2_pipeline/v23");
    let dir = scratch("ltx2-step-cache");
    let mp4 = dir.join("clip.mp4");
    let o = sora(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--width",
        "96",
        "--height",
        "64",
        "--frames",
        "9",
        "--steps",
        "4",
        "--seed",
        "5",
        "--set",
        "max_sequence_length=24",
        "--set",
        "spatio_temporal_guidance_blocks=1",
        "--step-cache",
        "1e6",
        "--out",
        mp4.to_str().unwrap(),
        "--quiet",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sc = &v["step_cache"];
    assert_eq!(sc["computed"].as_u64(), Some(2), "{v}");
    assert_eq!(sc["reused"].as_u64(), Some(2), "{v}");
    let clip = io::read_mp4(&mp4).unwrap();
    assert_eq!(clip.frames.shape(), &[9, 64, 96, 3]);
    assert!(clip.audio.is_some(), "an audio stream");
}

/// One step on LTX-2's scheduler (`shift_terminal` 0.1): the terminal stretch
/// is 0/0 there (diffusers 0.42.1 returns NaN latents); refused as an invalid
/// request naming the cause, where it used to fail with "NaN" after the walk.
#[test]
fn ltx2_one_step_is_an_invalid_request_not_nan() {
    let m = root().join("target/fixtures/ltx2_pipeline/v20");
    let dir = scratch("ltx2-one-step");
    let mp4 = dir.join("clip.mp4");
    let o = sora(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--width",
        "96",
        "--height",
        "64",
        "--frames",
        "9",
        "--steps",
        "1",
        "--set",
        "max_sequence_length=24",
        "--out",
        mp4.to_str().unwrap(),
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("shift_terminal") && err.contains("at least 2 steps"),
        "{err}"
    );
    assert!(!mp4.exists());
}

/// The LTX-2 front-door request (the Python suite and the C program run the
/// same one on the same fixture): 96×64, 9 frames at 24 fps, 2 steps, seed 7,
/// the pipeline's guidance with STG on block 1, prompts of 24 tokens.
const LTX2_FRONTDOOR: [(&str, &str); 2] = [
    ("max_sequence_length", "24"),
    ("spatio_temporal_guidance_blocks", "1"),
];

#[test]
fn ltx2_cli_clip_equals_the_rust_api_clip() {
    let m = root().join("target/fixtures/ltx2_pipeline/v23");
    assert!(
        m.join("model_index.json").is_file(),
        "fixture {} missing: run `.venv/bin/python tests/fixtures/build_all.py ltx2_pipeline`",
        m.display()
    );
    let dir = scratch("ltx2-frontdoor");
    let out = dir.join("frames");
    let mut args: Vec<String> = [
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--width",
        "96",
        "--height",
        "64",
        "--frames",
        "9",
        "--fps",
        "24",
        "--steps",
        "2",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in LTX2_FRONTDOOR {
        args.push("--set".into());
        args.push(format!("{k}={v}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sora(&refs);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The PNG folder holds the frames, the waveform (audio.wav, float) and the rate.
    let cli = io::read_video(&out).unwrap();

    let pipe = Pipeline::builder().model(&m).build().unwrap();
    let mut req = Request::text(PROMPT)
        .size(96, 64)
        .frames(9)
        .fps(24)
        .steps(2)
        .seed(7);
    for (k, v) in LTX2_FRONTDOOR {
        req.set_text(k, v).unwrap();
    }
    let clip = pipe.generate(&req, &mut Progress::none()).unwrap();
    assert_eq!(cli.frames, clip.frames, "CLI and Rust API frames differ");
    let audio = clip.audio.as_ref().expect("LTX-2 makes audio");
    assert_eq!(
        cli.audio.as_ref(),
        Some(audio),
        "CLI and Rust API audio differ"
    );
    assert_eq!((cli.sample_rate, cli.fps), (clip.sample_rate, 24.0));

    let fd = root().join("target/frontdoor");
    std::fs::create_dir_all(&fd).unwrap();
    std::fs::write(fd.join("ltx2-rust.rgb"), clip.frames.as_slice().unwrap()).unwrap();
    let bytes: Vec<u8> = audio.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(fd.join("ltx2-rust.f32"), bytes).unwrap();
}

/// `sora generate --image` on a (tiny) LTX-2 folder: image-to-video with
/// audio (the image re-compressed at the default `image_crf`), an MP4 with both
/// streams; the image steers the clip (a flipped one changes the first frame).
#[test]
fn ltx2_image_to_video_writes_an_mp4_with_audio() {
    let fx = root().join("target/fixtures/ltx2_i2v");
    let m = fx.join("v20");
    assert!(
        m.join("model_index.json").is_file(),
        "fixture {} missing: run `.venv/bin/python tests/fixtures/build_all.py ltx2_i2v`",
        m.display()
    );
    let dir = scratch("ltx2_i2v");
    let image = fx.join("image.png");
    let flipped = dir.join("flipped.png");
    let mut px = io::read_image(&image).unwrap();
    px.invert_axis(ndarray::Axis(1));
    io::write_image(&flipped, px.view()).unwrap();
    let run = |img: &std::path::Path, name: &str| {
        let mp4 = dir.join(name);
        let o = sora(&[
            "generate",
            "--model",
            m.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--prompt",
            PROMPT,
            "--width",
            "96",
            "--height",
            "64",
            "--frames",
            "9",
            "--steps",
            "2",
            "--seed",
            "5",
            "--set",
            "max_sequence_length=24",
            "--set",
            "spatio_temporal_guidance_blocks=1",
            "--out",
            mp4.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        io::read_mp4(&mp4).unwrap()
    };
    let clip = run(&image, "clip.mp4");
    assert_eq!(clip.frames.shape(), &[9, 64, 96, 3]);
    let audio = clip.audio.as_ref().expect("an audio stream");
    assert_eq!(clip.sample_rate, 24_000);
    let peak = audio.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.05, "the audio is not silent (peak {peak})");
    let other = run(&flipped, "flipped.mp4");
    let first = |c: &io::MediaClip| c.frames.index_axis(ndarray::Axis(0), 0).mapv(f64::from);
    let moved = (&first(&other) - &first(&clip))
        .mapv(f64::abs)
        .mean()
        .unwrap();
    eprintln!("ltx2 i2v: a flipped image moves the first frame {moved:.1}/255 on average");
    assert!(
        moved > 2.0,
        "the image does not steer the clip ({moved}/255)"
    );
}

/// Image to video's estimate (with the `prepare` phase: the VAE encode of the
/// image) against the measured peak of a real run: one frame at 1024×704,
/// where encoding the image is the largest phase (the decode of one latent
/// frame is smaller). What `sora generate --image` added to its resident
/// memory must not exceed the estimate it checked, which must not exceed
/// twice that plus the runtime allowance, and must be above the text-to-video
/// estimate of the same size (no encode).
#[test]
fn ltx2_image_to_video_estimate_bounds_the_measured_peak() {
    let fx = root().join("target/fixtures/ltx2_i2v");
    let m = fx.join("v20");
    let ms = m.to_str().unwrap();
    let dir = scratch("ltx2_i2v_estimate");
    let size = [
        "--width",
        "1024",
        "--height",
        "704",
        "--frames",
        "1",
        "--set",
        "max_sequence_length=24",
        "--set",
        "spatio_temporal_guidance_blocks=1",
    ];
    let mut args = vec!["inspect", ms, "--estimate", "--json"];
    args.extend(size);
    let o = sora(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t2v = v["estimate"]["total_mb"].as_f64().unwrap();
    let runtime = v["estimate"]["runtime_mb"].as_f64().unwrap();
    let out = dir.join("clip.mp4");
    let image = fx.join("image.png");
    let mut args = vec![
        "generate",
        "--model",
        ms,
        "--image",
        image.to_str().unwrap(),
        "--prompt",
        PROMPT,
    ];
    args.extend(size);
    args.extend([
        "--steps",
        "2",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--json",
    ]);
    let o = sora(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let estimate = r["estimated_peak_mb"].as_f64().unwrap();
    let grew = r["peak_rss_mb"].as_f64().unwrap() - r["rss_before_load_mb"].as_f64().unwrap();
    eprintln!(
        "ltx2 i2v 1024x704x1: estimate {estimate:.1} MiB (t2v {t2v:.1}), measured growth {grew:.1} MiB"
    );
    assert!(
        estimate > t2v,
        "the image's encode is not counted: {estimate} vs {t2v}"
    );
    assert!(
        grew <= estimate,
        "the run grew by {grew:.1} MiB, over the estimate {estimate:.1} MiB"
    );
    assert!(
        estimate <= 2.0 * grew + runtime,
        "estimate {estimate:.1} MiB is far above the measured growth {grew:.1} MiB"
    );
}

/// LTX-2's estimate against the measured peak of a real run, as
/// `estimate_bounds_the_measured_peak` checks Wan's: what `sora generate`
/// added to its resident memory must not exceed `sora inspect --estimate` for
/// the same request, and the estimate must not exceed twice that plus the
/// runtime allowance. At these sizes the tiny models' weights are small and
/// the peak is the video decode (the whole clip through the VAE decoder,
/// then the frames' conversion to u8); both layouts, float32 and bfloat16.
#[test]
fn ltx2_estimate_bounds_the_measured_peak() {
    let dir = scratch("ltx2_estimate");
    for (layout, dtype) in [("v20", "float32"), ("v23", "bfloat16")] {
        let m = root().join("target/fixtures/ltx2_pipeline").join(layout);
        let ms = m.to_str().unwrap();
        let size = [
            "--width",
            "384",
            "--height",
            "256",
            "--frames",
            "33",
            "--dtype",
            dtype,
            "--set",
            "max_sequence_length=24",
            "--set",
            "spatio_temporal_guidance_blocks=1",
        ];
        let mut args = vec!["inspect", ms, "--estimate", "--json"];
        args.extend(size);
        let o = sora(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let e = &v["estimate"];
        assert_eq!(e["family"], "ltx2");
        let estimate = e["total_mb"].as_f64().unwrap();
        let runtime = e["runtime_mb"].as_f64().unwrap();
        let out = dir.join(format!("{layout}.mp4"));
        let mut args = vec!["generate", "--model", ms, "--prompt", PROMPT];
        args.extend(size);
        args.extend([
            "--steps",
            "2",
            "--seed",
            "5",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--json",
        ]);
        let o = sora(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        // The pipeline checked the same estimate before running (the decode
        // makes the peak, so the loading phase does not count).
        assert_eq!(e["peak_phase"], "decode");
        assert_eq!(r["estimated_peak_mb"].as_f64(), Some(estimate), "{layout}");
        let grew = r["peak_rss_mb"].as_f64().unwrap() - r["rss_before_load_mb"].as_f64().unwrap();
        eprintln!(
            "ltx2 {layout} {dtype}: estimate {estimate:.1} MiB, measured growth {grew:.1} MiB"
        );
        assert!(
            grew <= estimate,
            "{layout}: the run grew by {grew:.1} MiB, over the estimate {estimate:.1} MiB"
        );
        assert!(
            estimate <= 2.0 * grew + runtime,
            "{layout}: estimate {estimate:.1} MiB is far above the measured growth {grew:.1} MiB"
        );
    }
}

/// `--vae-frame-tiling` reaches LTX-2's decode: `inspect --estimate` says the
/// windows and a smaller decode; a bad value exits 2; Wan refuses it.
#[test]
fn ltx2_vae_frame_tiling_flag() {
    let m = root().join("target/fixtures/ltx2_pipeline/v20");
    let ms = m.to_str().unwrap();
    let est = |extra: &[&str]| {
        let mut a = vec![
            "inspect",
            ms,
            "--estimate",
            "--json",
            "--width",
            "384",
            "--height",
            "256",
            "--frames",
            "121",
        ];
        a.extend(extra);
        let o = sora(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["estimate"].clone()
    };
    let decode = |e: &serde_json::Value| {
        e["activations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "VAE decode")
            .unwrap()["mb"]
            .as_f64()
            .unwrap()
    };
    let whole = est(&[]);
    let tiled = est(&["--vae-frame-tiling"]);
    assert_eq!(whole["vae_frame_tiling"], serde_json::Value::Null);
    assert_eq!(tiled["vae_frame_tiling"], serde_json::json!([16, 8]));
    assert!(decode(&tiled) < decode(&whole));
    let o = sora(&["inspect", ms, "--estimate", "--vae-frame-tiling=12,4"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let wan = root().join("target/fixtures/wan_pipeline/t2v_21/model");
    let o = sora(&[
        "generate",
        "--model",
        wan.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--vae-frame-tiling",
        "--out",
        scratch("wan-frame-tiling").join("x.mp4").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("vae_frame_tiling is for LTX-2"));
}
