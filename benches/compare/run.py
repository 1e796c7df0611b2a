"""Side-by-side performance of sora and diffusers on the same Wan 2.1 or LTX-2 pipeline.

    .venv/bin/python benches/compare/run.py --size small --reps 3 --threads 2 --release
    .venv/bin/python benches/compare/run.py --family ltx2 --size small --reps 3 --threads 2 --release

LTX-2 (`--family ltx2`, sizes in sizes.LTX2_SIZES) generates video and audio:
both engines' waveforms are compared too (same length, mean absolute
difference <= 1e-3), and its decode phase includes the audio VAE and vocoder.

Builds (once, cached in target/compare/<size>/model) a random-weight Wan 2.1
pipeline of the chosen size, then runs diffusers and the `sora` CLI on the same
request, alternating, each repetition in its own fresh process, with the same
thread count. Checks that both produced the same frames (else MISMATCH, exit 1),
then prints the time per phase, whole-process wall and CPU time and peak memory
of each engine, their ratios, and how close each gets to the machine's float32
matmul rate (model FLOP utilisation of the transformer and of the VAE).

CI smoke (seconds, asserts only that both run and agree):

    .venv/bin/python benches/compare/run.py --size tiny --reps 1 --check-only

Step caching: `--step-cache T` also runs `sora generate --step-cache T` in the
alternation, shows its timings as a third engine, its speed against diffusers
and uncached sora, and the PSNR of its frames against uncached sora's frames of
the same repetition (caching changes the frames; it is not checked against
diffusers):

    .venv/bin/python benches/compare/run.py --size small --reps 2 --threads 2 --release --steps 50 --step-cache 0.1

GPU (a machine with CUDA; both engines on the GPU in the chosen dtype, the
device synchronized at every phase boundary; adds the GPU memory peak of each
process, sampled with nvidia-smi, and sora's own estimate of it; in a dtype
other than float32 the frames are compared by PSNR instead of the 2/255 rule):

    python benches/compare/run.py --size wan2.1-1.3b --device cuda --dtype bfloat16 --reps 2 --sora PATH

docs/performance.md explains every column.
"""
import argparse
import datetime
import hashlib
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import flops  # noqa: E402
import sizes  # noqa: E402

ENGINES = ("diffusers", "sora")
CACHED = "sora+cache"


def log(msg=""):
    print(msg, flush=True)


def loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class GpuMemorySampler:
    """Samples the GPU's used memory with `nvidia-smi -lms 100` while a child
    runs; `peak_mb()` is the highest reading above the reading before it started
    (so the CUDA context and everything the process allocated count, the same
    way for both engines)."""

    def __init__(self, index: int = 0):
        q = ["nvidia-smi", f"--id={index}", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
        self.base = float(subprocess.run(q, capture_output=True, text=True, check=True).stdout.split()[0])
        self.proc = subprocess.Popen(q + ["-lms", "100"], stdout=subprocess.PIPE, text=True)

    def peak_mb(self) -> float:
        self.proc.terminate()
        out, _ = self.proc.communicate()
        vals = [float(v) for v in out.split() if v.replace(".", "", 1).isdigit()]
        return max(vals + [self.base]) - self.base


def run_child(cmd, env, out_dir: pathlib.Path, name: str, gpu: bool = False) -> dict:
    """Runs `cmd` in a fresh process; returns its exit code, wall time, CPU time
    and max RSS (from wait4's rusage, so start-up and imports are included), and
    with `gpu` the peak GPU memory it used (MiB, nvidia-smi)."""
    so, se = out_dir / f"{name}.stdout", out_dir / f"{name}.stderr"
    sampler = None
    if gpu:
        try:
            sampler = GpuMemorySampler()
        except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as e:
            log(f"  (no GPU memory sampling: {e})")
    with open(so, "wb") as fo, open(se, "wb") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen([str(c) for c in cmd], stdout=fo, stderr=fe, env=env, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    run = {
        "rc": p.returncode,
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "max_rss_mb": ru.ru_maxrss / 1024.0,
        "stdout": so.read_text(errors="replace"),
        "stderr": se.read_text(errors="replace"),
    }
    if gpu:
        run["gpu_peak_mb"] = sampler.peak_mb() if sampler is not None else float("nan")
    return run


def fail(msg: str, run: dict | None = None):
    log(f"\nERROR: {msg}")
    if run is not None:
        log("--- stderr (tail) ---")
        log(run["stderr"][-4000:])
        log("--- stdout (tail) ---")
        log(run["stdout"][-2000:])
    sys.exit(2)


# ---------------------------------------------------------------- preparation


def work_dir(family: str, size: str) -> pathlib.Path:
    """target/compare/<size> (Wan) or target/compare/<family>-<size>."""
    return ROOT / "target" / "compare" / (size if family == "wan" else f"{family}-{size}")


# The scripts each family's model is built from (a change rebuilds it).
RECIPE_FILES = {
    "wan": ["tests/fixtures/wan_tiny.py"],
    "ltx2": ["tests/fixtures/fx_ltx2_pipeline.py", "tests/fixtures/fx_ltx2_text.py",
             "tests/fixtures/fx_ltx2_transformer.py", "tests/fixtures/fx_ltx2_vae.py",
             "benches/compare/ltx2_model.py"],
}


def ensure_model(size: str, family: str = "wan") -> pathlib.Path:
    """Builds the size's model folder unless a build of the same recipe is there."""
    base = work_dir(family, size)
    model = base / "model"
    recipe = json.dumps(sizes.FAMILIES[family][size]["build"], sort_keys=True)
    for f in RECIPE_FILES[family]:
        recipe += hashlib.sha256((ROOT / f).read_bytes()).hexdigest()
    stamp = base / "model.recipe"
    if model.is_dir() and stamp.is_file() and stamp.read_text() == recipe:
        return model
    log(f"building the {size} model in {model} ...")
    tmp = base / "model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(model, ignore_errors=True)
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(HERE / "build_model.py"), size, str(tmp), family], cwd=ROOT)
    if r.returncode != 0:
        fail("building the model failed")
    tmp.rename(model)
    stamp.write_text(recipe)
    log(f"built in {time.perf_counter() - t0:.1f} s")
    return model


def ensure_sora(args) -> tuple[pathlib.Path, str]:
    """The sora binary to run and its profile (building it when asked)."""
    if args.sora:
        return pathlib.Path(args.sora).resolve(), "given"
    profile = "release" if args.release else "debug"
    binary = ROOT / "target" / profile / "sora"
    if not args.no_build:
        cmd = "source scripts/env.sh && cargo build -q -p sora-cli" + (" --release" if args.release else "")
        log(f"$ {cmd}")
        if subprocess.run(["bash", "-c", cmd], cwd=ROOT).returncode != 0:
            fail("building the sora CLI failed")
    if not binary.is_file():
        fail(f"{binary} does not exist (build it, or drop --no-build)")
    return binary, profile


def matmul_peak(threads: int, device: str = "cpu", dtype: str = "float32") -> dict:
    n = "2048" if device == "cpu" else "8192"
    r = subprocess.run(
        [sys.executable, str(HERE / "matmul_peak.py"), str(threads), n, "5", device, dtype],
        cwd=ROOT, env=child_env(threads), capture_output=True, text=True,
    )
    if r.returncode != 0:
        fail(f"matmul probe failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def sora_estimate(binary, model, req, args) -> dict | None:
    """sora's own memory estimate of the request (`sora inspect --estimate --json`)."""
    cmd = [binary, "inspect", model, "--estimate", "--json", "--device", args.device, "--dtype", args.dtype,
           "--width", req["width"], "--height", req["height"], "--frames", req["frames"], "--offload", args.offload]
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        log(f"sora inspect --estimate failed: {r.stderr.strip()[-500:]}")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1]).get("estimate")


# ---------------------------------------------------------------- runs


def run_diffusers(model, req_path, threads, out_dir: pathlib.Path, tag: str, device="cpu", dtype="float32",
                  offload="none", family="wan") -> dict:
    npy, res = out_dir / f"{tag}.npy", out_dir / f"{tag}.json"
    for p in (npy, res):
        p.unlink(missing_ok=True)
    if family == "ltx2":
        cmd = [sys.executable, HERE / "ltx2_runner.py", model, req_path, threads, npy, res, device, dtype]
    else:
        cmd = [sys.executable, HERE / "diffusers_runner.py", model, req_path, threads, npy, res, device, dtype,
               offload]
    run = run_child(cmd, child_env(threads), out_dir, tag, gpu=device != "cpu")
    if run["rc"] != 0 or not res.is_file():
        fail(f"diffusers run {tag} exited with {run['rc']}", run)
    run.update(json.loads(res.read_text()))
    run["frames_path"] = str(npy)
    return run


def run_sora(binary, model, req, threads, out_dir: pathlib.Path, tag: str, step_cache=None,
             device="cpu", dtype="float32", offload="none", family="wan") -> dict:
    frames = out_dir / tag
    shutil.rmtree(frames, ignore_errors=True)
    cmd = [
        binary, "generate", "--model", model, "--prompt", req["prompt"],
        "--negative-prompt", req["negative_prompt"], "--out", frames,
        "--width", req["width"], "--height", req["height"], "--frames", req["frames"],
        "--steps", req["steps"], "--guidance", req["guidance"], "--seed", req["seed"],
        "--threads", threads, "--json", "--quiet", "--device", device, "--dtype", dtype,
        # The raw model output: diffusers' frames carry no watermark.
        "--watermarks", "off",
    ]
    if "fps" in req:
        cmd += ["--fps", req["fps"]]
    for key, value in req.get("params", {}).items():
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        cmd += ["--set", f"{key}={text}"]
    if offload != "none":
        cmd += ["--offload", offload]
    if step_cache is not None:
        cmd += ["--step-cache", repr(step_cache)]
    run = run_child(cmd, child_env(threads), out_dir, tag, gpu=device != "cpu")
    if run["rc"] != 0:
        fail(f"sora run {tag} exited with {run['rc']}", run)
    try:
        meta = json.loads(run["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"sora run {tag} printed no JSON", run)
    run.update(meta["timings"])
    run["peak_rss_mb"] = meta.get("peak_rss_mb", 0.0)
    run["sora_version"] = meta.get("sora_version", "?")
    run["step_cache"] = meta.get("step_cache")
    if step_cache is not None and not run["step_cache"]:
        fail(f"sora run {tag} reports no step_cache in its JSON", run)
    run["frames_path"] = str(frames)
    return run


def compare_frames(sora_dir: str, npy: str) -> dict:
    """The agreement rule of the parity tests: >= 99.5 % of values within 2/255,
    mean difference <= 0.5/255."""
    import numpy as np
    from PIL import Image

    ref = np.load(npy)
    want = np.round(ref.astype(np.float64) * 255.0).astype(np.int64)
    pngs = sorted(pathlib.Path(sora_dir).glob("*.png"))
    if not pngs:
        return {"ok": False, "why": f"no PNG frames in {sora_dir}"}
    ours = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in pngs]).astype(np.int64)
    if ours.shape != want.shape:
        return {"ok": False, "why": f"shapes differ: sora {ours.shape}, diffusers {want.shape}"}
    diff = np.abs(ours - want)
    within = float((diff <= 2).mean())
    mean = float(diff.mean())
    res = {"within_2": within, "mean": mean, "max": int(diff.max()), "shape": list(ours.shape)}
    res["ok"] = within >= 0.995 and mean <= 0.5
    if not res["ok"]:
        res["why"] = f"{within * 100:.3f}% within 2/255 (need 99.5%), mean {mean:.3f}/255 (need <= 0.5)"
    return res


def compare_waveforms(sora_dir: str, npy: str) -> dict:
    """LTX-2's waveform rule of the parity tests: the same shape, mean absolute
    difference <= 1e-3 (sora's PNG folder holds the waveform as audio.wav)."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    import wave_io

    ours, _ = wave_io.read_float_wav(pathlib.Path(sora_dir) / "audio.wav")
    ref = np.load(npy.replace(".npy", ".wav.npy"))
    if ours.shape != ref.shape:
        return {"ok": False, "why": f"waveform shapes differ: sora {ours.shape}, diffusers {ref.shape}"}
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    res = {"mean": float(diff.mean()), "max": float(diff.max()), "shape": list(ours.shape)}
    res["ok"] = res["mean"] <= 1e-3
    if not res["ok"]:
        res["why"] = f"waveform mean abs difference {res['mean']:.2e} (need <= 1e-3)"
    return res


def read_pngs(folder: str):
    import numpy as np
    from PIL import Image

    pngs = sorted(pathlib.Path(folder).glob("*.png"))
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in pngs]) if pngs else None


def psnr(cached_dir: str, plain_dir: str) -> dict:
    """PSNR (dB, peak 255) of the cached run's frames against the uncached run's
    (a folder of PNGs, or diffusers' .npy in [0, 1])."""
    import numpy as np

    def load(p):
        if str(p).endswith(".npy"):
            return np.round(np.load(p).astype(np.float64) * 255.0)
        return read_pngs(p)

    a, b = load(cached_dir), load(plain_dir)
    if a is None or b is None or a.shape != b.shape:
        fail(f"cannot compare {cached_dir} with {plain_dir}: missing frames or other shapes")
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = float((diff ** 2).mean())
    db = float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)
    return {"psnr_db": db, "mse": mse, "max": int(np.abs(diff).max())}


# ---------------------------------------------------------------- report

ROWS = [
    # key, label, unit scale, format
    ("denoise_s", "denoise loop (s)", 1.0, "{:.3f}"),
    ("step_s", "denoise step (s)", 1.0, "{:.4f}"),
    ("text_s", "text encoding (s)", 1.0, "{:.4f}"),
    ("decode_s", "VAE decode (s)", 1.0, "{:.4f}"),
    ("total_s", "generation, after load (s)", 1.0, "{:.3f}"),
    ("load_s", "load (s)", 1.0, "{:.3f}"),
    ("startup_s", "start-up + imports + exit (s)", 1.0, "{:.3f}"),
    ("wall_s", "whole process, wall (s)", 1.0, "{:.3f}"),
    ("cpu_s", "whole process, CPU (s)", 1.0, "{:.3f}"),
    ("max_rss_mb", "peak RSS, process (MiB)", 1.0, "{:.0f}"),
]


def derive(run: dict, steps: int) -> dict:
    run["step_s"] = run["denoise_s"] / steps
    run["startup_s"] = run["wall_s"] - run["load_s"] - run["total_s"]
    return run


def summarize(runs: dict, rows=ROWS) -> dict:
    out = {}
    for eng in runs:
        out[eng] = {}
        for key, *_ in rows:
            vals = [r[key] for r in runs[eng]]
            out[eng][key] = {"median": statistics.median(vals), "min": min(vals), "all": vals}
    return out


def table(summary: dict, rows, markdown: bool) -> str:
    engines = [e for e in ENGINES + (CACHED,) if e in summary]
    head = [""]
    for eng in engines:
        head += [f"{eng} median", f"{eng} min"]
    head += [f"{eng}/diffusers (median)" for eng in engines[1:]]
    lines = []
    body = []
    for key, label, _, fmt in rows:
        d = summary["diffusers"][key]
        row = [label]
        for eng in engines:
            row += [fmt.format(summary[eng][key]["median"]), fmt.format(summary[eng][key]["min"])]
        for eng in engines[1:]:
            ratio = summary[eng][key]["median"] / d["median"] if d["median"] > 0 else float("nan")
            row.append(f"{ratio:.2f}x")
        body.append(row)
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for row in body:
            lines.append("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        for row in [head] + body:
            lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
    return "\n".join(lines)


def utilisation(summary: dict, counts: dict, peak: float, markdown: bool) -> str:
    head = ["", "GFLOP", "diffusers GFLOP/s", "diffusers MFU", "sora GFLOP/s", "sora MFU"]
    body = []
    for label, fl, key in [
        ("transformer, per step", counts["transformer_step"], "step_s"),
        ("VAE decode", counts["vae_decode"], "decode_s"),
    ]:
        row = [label, f"{fl / 1e9:.2f}"]
        for eng in ENGINES:
            t = summary[eng][key]["median"]
            rate = fl / t if t > 0 else 0.0
            row += [f"{rate / 1e9:.1f}", f"{100 * rate / peak:.1f} %"]
        body.append(row)
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in body]
    else:
        widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        for row in [head] + body:
            lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
    return "\n".join(lines)


def cache_report(summary: dict, psnrs: list, threshold: float) -> list:
    """Speed-ups (median time of the other engine / median time with the cache)
    and the quality of the cached frames."""
    def speedup(key, against):
        c = summary[CACHED][key]["median"]
        return summary[against][key]["median"] / c if c > 0 else float("nan")

    dbs = [q["psnr_db"] for q in psnrs]
    return [
        f"speed-up against diffusers: generation {speedup('total_s', 'diffusers'):.2f}x, "
        f"denoise {speedup('denoise_s', 'diffusers'):.2f}x, whole process {speedup('wall_s', 'diffusers'):.2f}x",
        f"against uncached sora: generation {speedup('total_s', 'sora'):.2f}x, denoise {speedup('denoise_s', 'sora'):.2f}x",
        f"PSNR against uncached sora: min {min(dbs):.2f} dB, median {statistics.median(dbs):.2f} dB",
        f"transformer forwards computed / reused: {psnrs[0]['computed']} / {psnrs[0]['reused']}",
    ]


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="wan", choices=sorted(sizes.FAMILIES),
                    help="the model family compared (its sizes: sizes.SIZES, sizes.LTX2_SIZES)")
    ap.add_argument("--size", default="tiny", choices=sorted({s for f in sizes.FAMILIES.values() for s in f}))
    ap.add_argument("--reps", type=int, default=3, help="repetitions per engine (each a fresh process)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for both engines")
    ap.add_argument("--steps", type=int, help="override the size's denoising steps")
    ap.add_argument("--release", action="store_true", help="build and run target/release/sora")
    ap.add_argument("--sora", help="run this sora binary (no build)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build")
    ap.add_argument("--check-only", action="store_true", help="one run each, assert they agree, no timing report")
    ap.add_argument("--markdown", action="store_true", help="also print the tables as markdown")
    ap.add_argument("--json-out", type=pathlib.Path, help="write every measurement here too")
    ap.add_argument("--device", default="cpu", help="cpu or cuda: where both engines run")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                    help="weights and activations of both engines")
    ap.add_argument("--offload", default="none", choices=["none", "model", "sequential"],
                    help="weight offload in both engines (sora --offload; diffusers enable_model_cpu_offload / "
                         "enable_sequential_cpu_offload); needs --device cuda")
    ap.add_argument("--step-cache", type=float, metavar="THRESHOLD",
                    help="also run sora with step caching at this threshold (third engine; PSNR against uncached sora)")
    args = ap.parse_args()
    if args.reps < 1 or args.threads < 1:
        ap.error("--reps and --threads must be at least 1")
    if args.step_cache is not None and not (args.step_cache >= 0 and args.step_cache != float("inf")):
        ap.error("--step-cache must be a finite number >= 0")
    engines = ENGINES + ((CACHED,) if args.step_cache is not None else ())
    if args.check_only:
        args.reps = 1
    if args.offload != "none" and args.device == "cpu":
        ap.error("--offload copies weights to a GPU: it needs --device cuda")
    if args.size not in sizes.FAMILIES[args.family]:
        ap.error(f"--family {args.family} has the sizes {', '.join(sorted(sizes.FAMILIES[args.family]))}")
    if args.family != "wan" and (args.offload != "none" or args.step_cache is not None):
        ap.error(f"--offload and --step-cache are not built for --family {args.family} yet")

    req = sizes.request(args.size, args.steps, args.family)
    gpu = args.device != "cpu"
    strict = args.dtype == "float32"
    rows = ROWS + ([("gpu_peak_mb", "peak GPU memory, process (MiB)", 1.0, "{:.0f}")] if gpu else [])
    when = datetime.datetime.now().astimezone()
    log(f"sora vs diffusers, {args.family} size {args.size}: {req['width']}x{req['height']}, {req['frames']} frames, "
        f"{req['steps']} steps, guidance {req['guidance']}, seed {req['seed']}; {args.device}, {args.dtype}"
        + (f", offload {args.offload}" if args.offload != "none" else ""))
    if gpu:
        import torch

        log(f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__}")
    log(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}; "
        f"threads {args.threads}; {when:%Y-%m-%d %H:%M %Z}")
    log(f"load average at start (1/5/15 min): {loadavg()}")

    model = ensure_model(args.size, args.family)
    binary, profile = ensure_sora(args)
    log(f"sora binary: {binary} ({profile})")
    base = work_dir(args.family, args.size)
    out_dir = base / "runs"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    req_path = out_dir / "request.json"
    req_path.write_text(json.dumps(req))

    peaks = []
    where = f"{args.device}, {args.threads} threads" if not gpu else args.device
    if not args.check_only:
        peaks.append(matmul_peak(args.threads, args.device, args.dtype))
        log(f"{args.dtype} matmul ({peaks[-1]['n']}^2, {where}): best {peaks[-1]['best_flops'] / 1e9:.1f} GFLOP/s")
    estimate = sora_estimate(binary, model, req, args) if gpu else None
    if estimate:
        log(f"sora's memory estimate on {args.device}: {estimate['total_mb']:.0f} MiB (peak in {estimate['peak_phase']})")

    runs = {e: [] for e in engines}
    checks = []
    psnrs = []
    for rep in range(args.reps):
        order = engines if rep % 2 == 0 else engines[::-1]
        for eng in order:
            tag = f"{eng}-{rep}".replace("+", "-")
            on = dict(device=args.device, dtype=args.dtype, offload=args.offload, family=args.family)
            if eng == "diffusers":
                r = run_diffusers(model, req_path, args.threads, out_dir, tag, **on)
            elif eng == CACHED:
                r = run_sora(binary, model, req, args.threads, out_dir, tag, step_cache=args.step_cache, **on)
            else:
                r = run_sora(binary, model, req, args.threads, out_dir, tag, **on)
            r["loadavg1_after"] = os.getloadavg()[0]
            runs[eng].append(derive(r, req["steps"]))
            extra = ""
            if "per_step_s" in r and len(r["per_step_s"]) > 1:
                extra = (f" (first {r['per_step_s'][0]:.4f}, median of the rest "
                         f"{statistics.median(r['per_step_s'][1:]):.4f})")
            if r.get("step_cache"):
                sc = r["step_cache"]
                extra += f" [cache {sc['computed']} computed / {sc['reused']} reused]"
            log(f"  rep {rep} {eng:10s}: step {r['step_s']:.4f} s{extra}, text {r['text_s']:.3f} s, "
                f"decode {r['decode_s']:.3f} s, generation {r['total_s']:.3f} s, process {r['wall_s']:.2f} s "
                f"(cpu {r['cpu_s']:.2f} s), rss {r['max_rss_mb']:.0f} MiB"
                + (f", GPU {r['gpu_peak_mb']:.0f} MiB" if gpu else "") + f"   [load avg {loadavg()}]")
        sora_frames, diffusers_frames = runs["sora"][rep]["frames_path"], runs["diffusers"][rep]["frames_path"]
        if strict:
            c = compare_frames(sora_frames, diffusers_frames)
            checks.append(c)
            if not c["ok"]:
                log("\n" + "!" * 72)
                log(f"!!! MISMATCH (rep {rep}): sora and diffusers produced different frames: {c['why']}")
                log("!" * 72)
                sys.exit(1)
            log(f"  rep {rep} frames agree: {c['within_2'] * 100:.3f}% within 2/255, "
                f"mean {c['mean']:.4f}/255, max {c['max']}/255")
            if args.family == "ltx2":
                w = compare_waveforms(sora_frames, diffusers_frames)
                c["waveform"] = w
                if not w["ok"]:
                    log("\n" + "!" * 72)
                    log(f"!!! MISMATCH (rep {rep}): sora and diffusers produced different audio: {w['why']}")
                    log("!" * 72)
                    sys.exit(1)
                log(f"  rep {rep} waveforms agree: {w['shape'][0]} channels x {w['shape'][1]} samples, "
                    f"mean abs difference {w['mean']:.2e}, max {w['max']:.2e}")
        else:
            # Half-precision arithmetic differs between the engines' kernels and
            # compounds over the steps: compare by PSNR, report, do not fail.
            c = psnr(sora_frames, diffusers_frames)
            c["ok"] = c["psnr_db"] == c["psnr_db"]  # not NaN
            checks.append(c)
            log(f"  rep {rep} frames in {args.dtype}: PSNR {c['psnr_db']:.2f} dB sora against diffusers "
                f"(max {c['max']}/255)")
            if not c["ok"]:
                fail("the frames are NaN")
        if CACHED in runs:
            q = psnr(runs[CACHED][rep]["frames_path"], runs["sora"][rep]["frames_path"])
            q.update(runs[CACHED][rep]["step_cache"])
            psnrs.append(q)
            log(f"  rep {rep} step cache {args.step_cache}: PSNR {q['psnr_db']:.2f} dB against uncached sora "
                f"(max {q['max']}/255), {q['computed']} forwards computed, {q['reused']} reused")

    log(f"load average at end (1/5/15 min): {loadavg()}")
    busiest = max(r["loadavg1_after"] for e in engines for r in runs[e])
    noisy = busiest > args.threads + 1.0
    if noisy and not args.check_only:
        log(f"WARNING: other work shared the machine (1-min load average up to {busiest:.2f} on "
            f"{os.cpu_count()} CPUs; this benchmark alone accounts for about {args.threads}): timings are "
            f"noisy, the min columns are the better estimate of the uncontended cost")
    if args.check_only:
        log("check-only: both engines ran and agree")
        return

    peaks.append(matmul_peak(args.threads, args.device, args.dtype))
    peak = max(p["best_flops"] for p in peaks)
    counts = flops.for_model(model, req) if args.family == "wan" else None
    summary = summarize(runs, rows)

    log("")
    log(f"== timings: {args.reps} fresh processes per engine, alternating, {args.threads} threads ==")
    log(table(summary, rows, markdown=False))
    if estimate:
        measured = summary["sora"]["gpu_peak_mb"]["median"]
        log(f"sora's GPU memory: estimated {estimate['total_mb']:.0f} MiB, measured {measured:.0f} MiB "
            f"(estimate / measured {estimate['total_mb'] / measured:.2f})")
    log("")
    if counts is None:
        log(f"(no analytic FLOP count for --family {args.family} yet: no utilisation figures)")
    else:
        f, h, w = counts["latent"]
        tf = counts["transformer_forward"]
        calls = 2 if req["guidance"] > 1 else 1
        log(f"== where the physical limit is (analytic FLOPs; {args.dtype} matmul peak {peak / 1e9:.1f} GFLOP/s, "
            f"best of {peaks[-1]['n']}^2 matmuls at start and end) ==")
        log(f"latent {f}x{h}x{w}, {counts['tokens']} tokens, 512 text tokens; transformer {calls} call(s)/step x "
            f"{tf['total'] / 1e9:.3f} GFLOP (attention matmuls {(tf['self_attn_sdpa'] + tf['cross_attn_sdpa']) / 1e9:.3f}, "
            f"projections+FFN {(tf['self_attn_proj'] + tf['cross_attn_proj'] + tf['ffn']) / 1e9:.3f}); "
            f"text encoder {counts['text_encoder'] / 1e9:.3f} GFLOP")
        per_frame = ", ".join(f"{v / 1e9:.2f}" for v in counts["vae_per_latent_frame"])
        log(f"VAE decode {counts['vae_decode'] / 1e9:.2f} GFLOP (per latent frame: {per_frame})")
        log(utilisation(summary, counts, peak, markdown=False))
    cache_lines = cache_report(summary, psnrs, args.step_cache) if CACHED in summary else []
    if cache_lines:
        log("")
        log(f"== step cache, threshold {args.step_cache} ==")
        for line in cache_lines:
            log(line)

    if args.markdown:
        log("")
        log(f"{args.family} size `{args.size}` ({req['width']}x{req['height']}, {req['frames']} frames, {req['steps']} steps, "
            f"CFG {req['guidance']}), {args.device}, {args.dtype}, {args.reps} fresh processes per engine, "
            f"{args.threads} threads, sora {profile} build; "
            + (f"{peaks[-1].get('gpu', 'GPU')}, " if gpu else "")
            + f"{os.cpu_count()} x {cpu_model()}; {when:%Y-%m-%d}; 1-min load average up to {busiest:.2f} "
            f"during the runs ({loadavg()} at end){' (NOISY)' if noisy else ''}.")
        log("")
        log(table(summary, rows, markdown=True))
        log("")
        log(f"{args.dtype} matmul peak: {peak / 1e9:.1f} GFLOP/s ({where}).")
        if estimate:
            log("")
            log(f"sora's GPU memory estimate: {estimate['total_mb']:.0f} MiB; measured peak "
                f"{summary['sora']['gpu_peak_mb']['median']:.0f} MiB (nvidia-smi, CUDA context included).")
        if counts is not None:
            log("")
            log(utilisation(summary, counts, peak, markdown=True))
        if cache_lines:
            log("")
            log(f"Step cache, threshold {args.step_cache}: " + "; ".join(cache_lines) + ".")

    record = {
        "when": when.isoformat(), "size": args.size, "request": req, "threads": args.threads,
        "reps": args.reps, "sora_binary": str(binary), "profile": profile, "cpus": os.cpu_count(),
        "cpu_model": cpu_model(), "loadavg_end": os.getloadavg(), "matmul": peaks, "flops": counts,
        "family": args.family,
        "runs": {e: [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in runs[e]] for e in engines},
        "checks": checks, "summary": summary, "max_loadavg1": busiest, "noisy": noisy,
        "step_cache": None if args.step_cache is None else {"threshold": args.step_cache, "psnr": psnrs},
        "device": args.device, "dtype": args.dtype, "sora_estimate": estimate,
    }
    text = json.dumps(record, indent=1, default=str)
    (base / "results.json").write_text(text)
    if args.json_out:
        args.json_out.write_text(text)
    log(f"\nall measurements: {base / 'results.json'}")


if __name__ == "__main__":
    main()
