"""The worker of a `sora.ray` pool: a plain class that the pool turns into a
Ray actor. It loads one `sora.Pipeline` when it starts and then runs jobs one
at a time, each into the shared output folder: skip a clip already complete,
remove what a dead worker left staged for it, generate it straight into its
file, write its metadata JSON beside it.

Every outcome comes back as a dict (`status` "done", "skipped" or "failed"
with the error's class and message), never as an exception, so that the pool
tells a request that failed (final) from a worker that died (retried).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from . import output


def _error(e: BaseException) -> dict[str, str]:
    """An exception as `{"type": class name, "message": text}`."""
    return {"type": type(e).__name__, "message": str(e)}


class Worker:
    """Holds one loaded pipeline; `run` makes one clip."""

    def __init__(self, model: str, pipeline_options: Mapping[str, Any], out_dir: str) -> None:
        import sora

        self._out_dir = out_dir
        self._load_error: dict[str, str] | None = None
        self._pipe: sora.Pipeline | None = None
        started = time.monotonic()
        try:
            self._pipe = sora.Pipeline(model, **pipeline_options)
        except Exception as e:  # reported by `ready` and by every `run`
            self._load_error = _error(e)
        # Counted in the first clip's `timings.load_s`, 0 in later ones (as
        # the engine reports a pipeline already loaded).
        self._load_s: float = time.monotonic() - started

    def ready(self) -> dict[str, Any]:
        """Where this worker runs (`host`, `pid`) and the error of loading the
        model (`error`, None when it loaded)."""
        return {"host": socket.gethostname(), "pid": os.getpid(), "error": self._load_error}

    def run(self, name: str, fmt: str, kwargs: Mapping[str, Any], stale_pids: list[int]) -> dict[str, Any]:
        """Makes the clip `name` in format `fmt` from the request `kwargs`
        (the keywords of `generate_to_file`) unless it is complete already,
        first removing what the dead workers `stale_pids` left staged for it."""
        where = {"host": socket.gethostname(), "pid": os.getpid()}
        pipe = self._pipe
        if pipe is None:
            error = self._load_error or {"type": "RuntimeSoraError", "message": "the pipeline is not loaded"}
            return {"status": "failed", "error": error, "worker": where}
        out_dir = self._out_dir
        try:
            os.makedirs(out_dir, exist_ok=True)
            done = output.read_complete(out_dir, name, fmt, kwargs)
            if done is not None:
                return {"status": "skipped", "meta": done, "worker": where}
            output.remove_stale(out_dir, name, fmt, stale_pids)
            call = dict(kwargs)
            if "prompts_at" in call:
                # JSON's [seconds, text] pairs as the (seconds, text) tuples Python takes.
                call["prompts_at"] = [tuple(p) for p in call["prompts_at"]]
            meta = pipe.generate_to_file(output.clip_path(out_dir, name, fmt), **call)
            timings = meta.get("timings")
            if isinstance(timings, dict):
                timings["load_s"] = self._load_s
            self._load_s = 0.0
            meta["request"] = dict(kwargs)
            output.write_meta(out_dir, name, meta)
        except Exception as e:
            return {"status": "failed", "error": _error(e), "worker": where}
        return {"status": "done", "meta": meta, "worker": where}
