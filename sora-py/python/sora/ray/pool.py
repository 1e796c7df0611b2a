"""The scheduler of a `sora.ray` job: a pool of Ray actors (each a `Worker`
holding one loaded pipeline), requests streamed to them with at most
`max_in_flight` calls queued on each, results handed back in request order,
and workers that die replaced with their request retried a bounded number of
times.

A worker's calls run one at a time in the order they were sent, so when a
worker dies the oldest call still outstanding on it is the one it was
running: that request is charged an attempt (and reported failed once it has
had `max_retries` retries); the calls queued behind it go again uncharged.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sora

from . import output
from .progress import Progress
from .request import FORMATS, Job, make_job
from .worker import Worker

#: Options of `sora.Pipeline` that change the pixels (so the clip's name).
_PIXEL_OPTIONS = {"dtype": "float32", "batch_guidance": True, "step_cache": None, "vae_tiling": None}


@dataclass
class ClipResult:
    """What became of one request.

    `status` is "done" (made now), "skipped" (complete from an earlier run, or
    the same request earlier in this job) or "failed" (`error` says why, as
    "ErrorClass: message"). `path` is the clip (a file, or a folder of PNG
    frames) and `meta` its metadata (the dict written beside it as NAME.json);
    `attempts` counts the workers that started it; `worker` is where it ran
    (`host`, `pid`), None when no worker ran it.
    """

    index: int
    request: Any
    status: str
    name: str | None = None
    path: str | None = None
    meta: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    worker: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """The clip is there (done or skipped)."""
        return self.status in ("done", "skipped")

    def summary(self) -> dict[str, Any]:
        """The result as a small JSON-ready dict (one line of the CLI's output)."""
        return {
            "index": self.index,
            "status": self.status,
            "name": self.name,
            "path": self.path,
            "attempts": self.attempts,
            "error": self.error,
        }


@dataclass
class _Entry:
    """A request being worked on: its job, tries so far, dead workers' pids."""

    index: int
    request: Any
    job: Job
    attempts: int = 0
    stale_pids: list[int] = field(default_factory=list)


@dataclass
class _Slot:
    """One actor of the pool and the calls outstanding on it, oldest first."""

    handle: Any
    ready_ref: Any
    inflight: deque[tuple[Any, int]] = field(default_factory=deque)


def _one_line(text: str, limit: int = 400) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _sora_error(err: Mapping[str, str]) -> sora.SoraError:
    """A worker's error dict as the sora exception class it names."""
    cls = getattr(sora, str(err.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, sora.SoraError)):
        cls = sora.RuntimeSoraError
    return cls(str(err.get("message")))


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError("sora.ray needs Ray: pip install 'sora[ray]' (or pip install ray)") from e
    return ray


class _Pool:
    """The actors of one job, created on first need and killed at the end."""

    def __init__(self, ray: Any, actor_options: dict[str, Any], args: tuple[Any, ...]) -> None:
        self._ray = ray
        self._remote = ray.remote(Worker).options(**actor_options)
        self._args = args
        self.slots: list[_Slot] = []
        self.started = False

    def _spawn(self) -> _Slot:
        handle = self._remote.remote(*self._args)
        return _Slot(handle=handle, ready_ref=handle.ready.remote())

    def start(self, size: int) -> None:
        """Starts `size` workers and waits for them to load the model; a load
        error (or a worker dying while loading) is raised here, before any clip."""
        self.started = True
        self.slots = [self._spawn() for _ in range(size)]
        try:
            infos = self._ray.get([s.ready_ref for s in self.slots])
        except self._ray.exceptions.RayError as e:
            raise sora.RuntimeSoraError(f"a sora.ray worker died while loading the model: {_one_line(e)}") from None
        for info in infos:
            if info.get("error"):
                raise _sora_error(info["error"])

    def pid_of(self, slot: _Slot) -> int | None:
        """The process id of the slot's worker, if it got as far as saying it."""
        ready, _ = self._ray.wait([slot.ready_ref], timeout=0)
        if not ready:
            return None
        try:
            return int(self._ray.get(ready[0])["pid"])
        except Exception:
            return None

    def replace(self, slot: _Slot) -> _Slot:
        """Kills the slot's worker (it died, or is no longer trusted) and puts a
        fresh one in its place (loading in the background)."""
        try:
            self._ray.kill(slot.handle, no_restart=True)
        except Exception:
            pass
        fresh = self._spawn()
        self.slots[self.slots.index(slot)] = fresh
        return fresh

    def close(self) -> None:
        for slot in self.slots:
            try:
                self._ray.kill(slot.handle, no_restart=True)
            except Exception:
                pass
        self.slots = []


def _default_workers(ray: Any, gpus_per_worker: float, cpus_per_worker: int) -> int:
    res = ray.cluster_resources()
    if gpus_per_worker > 0:
        n = math.floor(res.get("GPU", 0) / gpus_per_worker + 1e-9)
        if n < 1:
            raise sora.DeviceError(
                f"the Ray cluster has {res.get('GPU', 0):g} GPUs, fewer than gpus_per_worker={gpus_per_worker:g}: "
                "pass gpus_per_worker=0 to run on CPUs, or num_workers to wait for GPU nodes"
            )
        return n
    return max(1, math.floor(res.get("CPU", 1) / cpus_per_worker))


def _through_client(ray: Any, address: str | None) -> bool:
    """True when this process reaches the cluster through Ray Client
    (`ray://`): then the output folder is the cluster's, not this machine's,
    and only the workers look at it."""
    if (address or os.environ.get("RAY_ADDRESS", "")).startswith("ray://"):
        return True
    try:
        return bool(ray.util.client.ray.is_connected())
    except Exception:
        return False


def iter_many(
    model: str | os.PathLike[str],
    requests: Iterable[Mapping[str, Any]],
    *,
    out_dir: str | os.PathLike[str],
    num_workers: int | None = None,
    gpus_per_worker: float = 1,
    format: str = "mp4",
    max_retries: int = 2,
    max_in_flight: int = 2,
    progress: bool = True,
    address: str | None = None,
    **pipeline_options: Any,
) -> Iterator[ClipResult]:
    """Like `generate_many`, but yields each `ClipResult` as soon as it and
    every earlier one are finished (request order). Requests are read as the
    pool has room for them, so `requests` may be a generator. Closing the
    iterator early kills the workers."""
    ray = _import_ray()
    if format not in FORMATS:
        raise sora.InvalidRequestError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if isinstance(gpus_per_worker, bool) or not (
        isinstance(gpus_per_worker, (int, float)) and 0 <= gpus_per_worker <= 1
    ):
        raise sora.InvalidRequestError(
            f"gpus_per_worker must be a number in [0, 1] (a pipeline runs on one GPU), got {gpus_per_worker!r}"
        )
    for key, value, least in (("max_retries", max_retries, 0), ("max_in_flight", max_in_flight, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise sora.InvalidRequestError(f"{key} must be an integer >= {least}, got {value!r}")
    if num_workers is not None and (isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1):
        raise sora.InvalidRequestError(f"num_workers must be an integer >= 1, got {num_workers!r}")
    if "device" in pipeline_options:
        raise sora.InvalidRequestError(
            "sora.ray chooses the device: CUDA when gpus_per_worker > 0 (the GPUs Ray gives each worker), else the CPU"
        )
    model = os.path.abspath(os.fspath(model))
    out = os.path.abspath(os.fspath(out_dir))
    local_view = not _through_client(ray, address)
    if local_view:
        try:
            os.makedirs(out, exist_ok=True)
        except OSError:
            pass  # not writable from here: the workers create it
        local_view = os.path.isdir(out)

    options = dict(pipeline_options)
    options["device"] = "cuda" if gpus_per_worker > 0 else "cpu"
    threads = options.get("threads")
    if gpus_per_worker == 0 and threads is None:
        # One LibTorch thread per CPU Ray gives the worker, not every core.
        options["threads"] = threads = 1
    cpus_per_worker = threads if isinstance(threads, int) and not isinstance(threads, bool) and threads > 0 else 1
    identity: dict[str, Any] = {"model": os.path.basename(model.rstrip(os.sep)), "device": options["device"]}
    for key, default in _PIXEL_OPTIONS.items():
        value = options.get(key, default)
        identity[key] = list(value) if isinstance(value, tuple) else value

    total = len(requests) if hasattr(requests, "__len__") else None  # type: ignore[arg-type]
    actor_options = {
        "num_cpus": cpus_per_worker,
        "num_gpus": gpus_per_worker,
        "max_restarts": 0,
        "max_task_retries": 0,
        "max_concurrency": 1,
    }
    pool = _Pool(ray, actor_options, (model, options, out))
    bar = Progress(total, enabled=progress)
    death_errors = (
        ray.exceptions.RayActorError,
        ray.exceptions.WorkerCrashedError,
        ray.exceptions.OutOfMemoryError,
        ray.exceptions.NodeDiedError,
        ray.exceptions.ObjectLostError,
    )

    source = iter(enumerate(requests))
    exhausted = False
    admitted = 0
    next_out = 0
    # Requests read ahead of the next result to hand back (bounds the results
    # held for ordering); widened to keep a large pool busy once it starts.
    window = 64
    entries: dict[int, _Entry] = {}
    finished: dict[int, ClipResult] = {}
    queue: deque[int] = deque()
    owner: dict[str, int] = {}  # clip name -> the request making it now
    duplicates: dict[str, list[int]] = {}  # clip name -> later requests for it
    running: dict[Any, tuple[_Slot, int]] = {}

    def finish(result: ClipResult) -> None:
        finished[result.index] = result
        bar.advance(result.status)
        if result.name is None or owner.get(result.name) != result.index:
            return
        del owner[result.name]
        for dup in duplicates.pop(result.name, []):
            copy = replace(result, index=dup, request=entries[dup].request, attempts=0)
            if result.ok:
                copy.status = "skipped"
            entries.pop(dup, None)
            finish(copy)

    def admit() -> None:
        nonlocal exhausted, admitted
        while not exhausted and admitted - next_out < window:
            try:
                index, request = next(source)
            except StopIteration:
                exhausted = True
                return
            admitted += 1
            try:
                job = make_job(request, format, identity, where=f"request {index}: ")
            except sora.SoraError as e:
                finish(ClipResult(index, request, "failed", error=f"{type(e).__name__}: {e}"))
                continue
            path = output.clip_path(out, job.name, format)
            if local_view:
                meta = output.read_complete(out, job.name, format, job.kwargs)
                if meta is not None:
                    finish(ClipResult(index, request, "skipped", name=job.name, path=path, meta=meta))
                    continue
            entries[index] = _Entry(index, request, job)
            if job.name in owner:
                duplicates.setdefault(job.name, []).append(index)
            else:
                owner[job.name] = index
                queue.append(index)

    def start_pool() -> None:
        # Only when a clip must be made: a re-run of a complete job needs no cluster.
        nonlocal window
        if not ray.is_initialized():
            ray.init(address=address)
        size = num_workers or _default_workers(ray, gpus_per_worker, cpus_per_worker)
        if exhausted:
            size = min(size, len(queue))
        pool.start(max(1, size))
        window = max(window, len(pool.slots) * max_in_flight * 4)

    def dispatch() -> None:
        if queue and not pool.started:
            start_pool()
        # Least loaded first: every idle worker gets a request before any gets
        # a second one queued.
        for depth in range(max_in_flight):
            for slot in pool.slots:
                if not queue:
                    return
                if len(slot.inflight) > depth:
                    continue
                e = entries[queue.popleft()]
                e.attempts += 1
                ref = slot.handle.run.remote(e.job.name, format, e.job.kwargs, list(e.stale_pids))
                slot.inflight.append((ref, e.index))
                running[ref] = (slot, e.index)

    def worker_died(slot: _Slot, error: BaseException) -> None:
        bar.replaced()
        pid = pool.pid_of(slot)
        calls = list(slot.inflight)
        for ref, _ in calls:
            running.pop(ref, None)
        pool.replace(slot)
        again: list[int] = []
        for position, (_, index) in enumerate(calls):
            e = entries[index]
            if pid is not None:
                e.stale_pids.append(pid)
            if position > 0:
                e.attempts -= 1  # queued behind the running call: never started
                again.append(index)
            elif e.attempts > max_retries:
                if local_view and pid is not None:
                    output.remove_stale(out, e.job.name, format, [pid])
                finish(
                    ClipResult(
                        index,
                        e.request,
                        "failed",
                        name=e.job.name,
                        error=f"WorkerDiedError: the worker died {e.attempts} time(s) making this clip "
                        f"(max_retries={max_retries}); last: {_one_line(error)}",
                        attempts=e.attempts,
                    )
                )
                entries.pop(index, None)
            else:
                again.append(index)
        queue.extendleft(reversed(again))

    def collect(ref: Any) -> None:
        slot, index = running.pop(ref)
        try:
            answer = ray.get(ref)
        except death_errors as e:
            worker_died(slot, e)
            return
        except ray.exceptions.RayError as e:
            answer = {"status": "failed", "error": {"type": "RuntimeSoraError", "message": _one_line(e)}}
        slot.inflight.remove((ref, index))
        e = entries.pop(index)
        status = answer.get("status")
        path = output.clip_path(out, e.job.name, format)
        if status in ("done", "skipped"):
            result = ClipResult(
                index, e.request, status, e.job.name, path, answer.get("meta"), None, e.attempts, answer.get("worker")
            )
        else:
            err = answer.get("error") or {}
            result = ClipResult(
                index,
                e.request,
                "failed",
                e.job.name,
                None,
                None,
                f"{err.get('type', 'RuntimeSoraError')}: {err.get('message', '')}",
                e.attempts,
                answer.get("worker"),
            )
        finish(result)

    try:
        while True:
            admit()
            while next_out in finished:
                yield finished.pop(next_out)
                next_out += 1
                admit()
            if exhausted and next_out >= admitted:
                return
            dispatch()
            if not running:
                # Nothing runs and the next result is not there: cannot happen
                # unless the bookkeeping above is wrong; never spin.
                raise sora.RuntimeSoraError(f"sora.ray: request {next_out} was lost by the scheduler")
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                if ref in running:
                    collect(ref)
    finally:
        pool.close()
        bar.close()


def generate_many(
    model: str | os.PathLike[str],
    requests: Iterable[Mapping[str, Any]],
    *,
    out_dir: str | os.PathLike[str],
    num_workers: int | None = None,
    gpus_per_worker: float = 1,
    **pipeline_options: Any,
) -> list[ClipResult]:
    """Makes every request's clip in `out_dir` on a pool of Ray actors and
    returns one `ClipResult` per request, in request order.

    `model` is the model folder (every worker's path to it: use a shared or
    copied folder on a multi-node cluster); `requests` are JSON objects with
    the fields of the clip metadata (`prompt`, `seed`, `width`, ..., `image` /
    `video` paths; see `sora.ray.request.check_request`). Each worker holds one
    `sora.Pipeline(model, **pipeline_options)` on the GPUs Ray gives it
    (`gpus_per_worker`, may be fractional; 0 runs on the CPU with `threads`
    LibTorch threads, default 1, as its CPU share). `num_workers` defaults to
    what the cluster holds (GPUs / gpus_per_worker, or CPUs / threads).

    Keywords of `iter_many` also apply: `format` ("mp4", "png" for a folder of
    frames, "wav"), `max_retries` (per request, when its worker dies; then
    "failed"), `max_in_flight` (calls queued on a worker), `progress` (a bar
    on stderr) and `address` (for `ray.init` when Ray is not initialised).

    Each clip is `out_dir/NAME.EXT` with `out_dir/NAME.json` (its metadata
    and the request) beside it, both written atomically; NAME depends only on
    the request and the settings that change pixels, so running the same job
    again skips the clips already complete.
    """
    return list(
        iter_many(
            model,
            requests,
            out_dir=out_dir,
            num_workers=num_workers,
            gpus_per_worker=gpus_per_worker,
            **pipeline_options,
        )
    )
