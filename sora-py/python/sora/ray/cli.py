"""`python -m sora.ray`: runs a JSON Lines file of requests on a Ray cluster
(`sora.ray.iter_many`), printing one JSON line per request, in order, on
stdout and a progress bar on stderr.

Exit status: 0 every clip is there (made or skipped), 1 some request failed
or the job could not run, 2 bad arguments or a bad request line (nothing
started), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .._sora import InvalidRequestError, SoraError
from .request import FORMATS, check_request, read_requests
from .scheduler import iter_many


def _vae_tiling(text: str) -> bool | tuple[int, int, int, int]:
    """`--vae-tiling` (True) or `--vae-tiling=H,W,SH,SW`."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    parts = text.split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected H,W,SH,SW (four integers), got {text!r}")
    return values  # type: ignore[return-value]


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m sora.ray`."""
    p = argparse.ArgumentParser(
        prog="python -m sora.ray",
        description="Generate many clips on a Ray cluster: one JSON request a line in, "
        "one clip and its metadata JSON per request out.",
    )
    p.add_argument("--model", required=True, help="diffusers-format model folder (the same path on every node)")
    p.add_argument("--requests", required=True, help="JSON Lines file: one request object a line")
    p.add_argument("--out", required=True, help="output folder (shared by every node)")
    p.add_argument("--workers", type=int, default=None, help="actors in the pool (default: what the cluster holds)")
    p.add_argument("--format", choices=list(FORMATS), default="mp4", help="mp4, png (a folder of frames) or wav")
    p.add_argument("--address", default=None, help="Ray cluster to join (ray://HOST:10001, HOST:6379 or auto)")
    p.add_argument("--gpus-per-worker", type=float, default=1.0, help="GPUs of each actor (0: run on CPUs)")
    p.add_argument("--max-retries", type=int, default=2, help="tries again after a worker dies, per request")
    p.add_argument("--max-in-flight", type=int, default=2, help="requests queued on each worker")
    p.add_argument("--dtype", default=None, choices=["float32", "float16", "bfloat16"])
    p.add_argument("--threads", type=int, default=None, help="LibTorch CPU threads of each worker")
    p.add_argument("--no-batch-guidance", action="store_true")
    p.add_argument("--step-cache", type=float, default=None, metavar="THRESHOLD")
    p.add_argument("--memory-budget", type=int, default=None, metavar="MB")
    p.add_argument("--offload-text-encoder", action="store_true")
    p.add_argument("--offload", choices=["none", "model", "sequential"], default=None)
    p.add_argument("--vae-tiling", nargs="?", const=True, type=_vae_tiling, default=None, metavar="H,W,SH,SW")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _pipeline_options(a: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if a.dtype is not None:
        options["dtype"] = a.dtype
    if a.threads is not None:
        options["threads"] = a.threads
    if a.no_batch_guidance:
        options["batch_guidance"] = False
    if a.step_cache is not None:
        options["step_cache"] = a.step_cache
    if a.memory_budget is not None:
        options["memory_budget_mb"] = a.memory_budget
    if a.offload_text_encoder:
        options["offload_text_encoder"] = True
    if a.offload is not None:
        options["offload"] = a.offload
    if a.vae_tiling is not None:
        options["vae_tiling"] = a.vae_tiling
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status."""
    a = parser().parse_args(argv)
    try:
        lines = read_requests(a.requests)
        # Every line is checked before the cluster is touched.
        for number, request in lines:
            check_request(request, where=f"{a.requests} line {number}: ")
    except OSError as e:
        print(f"sora.ray: cannot read --requests: {e}", file=sys.stderr)
        return 2
    except SoraError as e:
        print(f"sora.ray: {e}", file=sys.stderr)
        return 2

    failed = 0
    try:
        for result in iter_many(
            a.model,
            [request for _, request in lines],
            out_dir=a.out,
            num_workers=a.workers,
            gpus_per_worker=a.gpus_per_worker,
            format=a.format,
            max_retries=a.max_retries,
            max_in_flight=a.max_in_flight,
            progress=not a.quiet,
            address=a.address,
            **_pipeline_options(a),
        ):
            line = result.summary()
            line["line"] = lines[result.index][0]
            print(json.dumps(line), flush=True)
            failed += not result.ok
    except KeyboardInterrupt:
        print("sora.ray: interrupted", file=sys.stderr)
        return 130
    except InvalidRequestError as e:
        print(f"sora.ray: {e}", file=sys.stderr)
        return 2
    except (SoraError, ImportError) as e:
        print(f"sora.ray: {e}", file=sys.stderr)
        return 1
    if failed:
        print(f"sora.ray: {failed} of {len(lines)} request(s) failed", file=sys.stderr)
        return 1
    return 0
