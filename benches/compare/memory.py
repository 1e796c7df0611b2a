"""Memory: sora's estimate against the measured peak, request by request.

For each case it asks `sora inspect DIR --estimate --json` for the estimate of
the whole process (loading + every generation phase, LibTorch's runtime and
the allocator's slack included), then runs `sora generate --json` in a fresh
process and reads `peak_rss_mb` (VmHWM) and `rss_before_load_mb` (VmRSS when
the pipeline started loading). The estimate is meant to bound the growth
`peak − before` from above, within about 2x plus the runtime allowance.

Usage (from the repository root, after `cargo build [--release] -p sora-cli`):

    .venv/bin/python benches/compare/memory.py [--sora target/release/sora] [--cases small,480p]
        [--markdown] [--threads 2]

Cases: `fixture` (tests' tiny Wan 2.1 model, needs target/fixtures), `small`
(the harness's small model at its request, 256x192x17, 10 steps), `480p` (the
small model at 832x480, 17 and 81 frames, 1 step). The small model is built by
benches/compare/run.py (or build_model.py) into target/compare/small/model.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sizes  # noqa: E402

FIXTURE = ROOT / "target" / "fixtures" / "wan_pipeline" / "t2v_21" / "model"
SMALL = ROOT / "target" / "compare" / "small" / "model"

CASES = {
    "fixture": [
        (FIXTURE, 32, 32, 5, 2, "a fox", ""),
        (FIXTURE, 256, 256, 17, 1, "a fox", ""),
    ],
    "small": [
        (SMALL, 256, 192, 17, 10, sizes.PROMPT, sizes.NEGATIVE),
    ],
    "480p": [
        (SMALL, 832, 480, 17, 1, sizes.PROMPT, sizes.NEGATIVE),
        (SMALL, 832, 480, 81, 1, sizes.PROMPT, sizes.NEGATIVE),
    ],
}


def run_case(sora, model, w, h, f, steps, prompt, negative, threads, extra):
    size = ["--width", str(w), "--height", str(h), "--frames", str(f)]
    est = subprocess.run(
        [sora, "inspect", str(model), "--estimate", "--json", *size, *extra],
        check=True, capture_output=True, text=True,
    )
    estimate = json.loads(est.stdout)["estimate"]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "frames"
        gen = subprocess.run(
            [sora, "generate", "--model", str(model), "--prompt", prompt, "--negative-prompt", negative,
             *size, "--steps", str(steps), "--seed", "7", "--threads", str(threads),
             "--out", str(out), "--quiet", "--json", *extra],
            check=True, capture_output=True, text=True,
        )
    meta = json.loads(gen.stdout)
    grew = meta["peak_rss_mb"] - meta["rss_before_load_mb"]
    return dict(
        model=model.parent.name if model.name == "model" else model.name,
        request=f"{w}x{h}x{f}",
        steps=steps,
        estimate_mb=estimate["total_mb"],
        peak_phase=estimate["peak_phase"],
        largest_part=estimate["largest_part"],
        phases={p["name"]: round(p["total_mb"], 1) for p in estimate["phases"]},
        runtime_mb=estimate["runtime_mb"],
        peak_rss_mb=meta["peak_rss_mb"],
        rss_before_load_mb=meta["rss_before_load_mb"],
        grew_mb=grew,
        ratio=estimate["total_mb"] / grew if grew > 0 else float("inf"),
        bound_ok=grew <= estimate["total_mb"] <= 2 * grew + estimate["runtime_mb"],
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = ROOT / "target" / "release" / "sora"
    if not default.exists():
        default = ROOT / "target" / "debug" / "sora"
    ap.add_argument("--sora", default=str(default))
    ap.add_argument("--cases", default="fixture,small,480p")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--offload-text-encoder", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    extra = ["--offload-text-encoder"] if args.offload_text_encoder else []
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    rows = []
    for name in args.cases.split(","):
        for case in CASES[name]:
            if not case[0].is_dir():
                print(f"skipping {name}: {case[0]} is missing", file=sys.stderr)
                continue
            r = run_case(args.sora, *case, args.threads, extra)
            rows.append(r)
            print(json.dumps(r), flush=True)
    if args.markdown:
        print()
        print(f"{platform.node()}, {os.cpu_count()} CPUs, {args.threads} threads, "
              f"{pathlib.Path(args.sora).parent.name} build, {datetime.date.today()}")
        print()
        print("| model | request | steps | estimate (MiB) | peak phase | measured peak RSS (MiB) | RSS before load (MiB) | measured growth (MiB) | estimate / growth |")
        print("|---|---|---:|---:|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['model']} | {r['request']} | {r['steps']} | {r['estimate_mb']:.0f} | {r['peak_phase']} | "
                  f"{r['peak_rss_mb']:.0f} | {r['rss_before_load_mb']:.0f} | {r['grew_mb']:.0f} | {r['ratio']:.2f} |")
    sys.exit(0 if all(r["bound_ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()
