"""The scheduler of a `sora.ray` job and its public entry points
(`generate_many`, `iter_many`): requests read as there is room for them,
sent to the pool's workers with at most `max_in_flight` calls queued on each,
results handed back in request order, and workers that die replaced with
their request retried a bounded number of times.

A worker's calls run one at a time in the order they were sent, so when a
worker dies the oldest call still outstanding on it is the one it was
running: that request is charged the attempt (and reported failed once it has
had `max_retries` retries); the calls queued behind it go again uncharged.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sora

from . import output
from .pool import Pool, Slot, death_errors, default_workers, import_ray, one_line, through_client
from .progress import Progress
from .request import Job, make_job
from .settings import Settings, check_settings


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


class _Scheduler:
    """The state of one job between `iter_many`'s yields."""

    def __init__(self, ray: Any, s: Settings, requests: Iterable[Any], address: str | None, bar: Progress) -> None:
        self.ray = ray
        self.s = s
        self.address = address
        self.bar = bar
        self.pool = Pool(ray, s)
        self.death_errors = death_errors(ray)
        self.local_view = not through_client(ray, address)
        if self.local_view:
            try:
                os.makedirs(s.out_dir, exist_ok=True)
            except OSError:
                pass  # not writable from here: the workers create it
            self.local_view = os.path.isdir(s.out_dir)
        self.source = iter(enumerate(requests))
        self.exhausted = False
        self.admitted = 0
        self.next_out = 0
        # Requests read ahead of the next result to hand back (bounds the
        # results held for ordering); widened to keep a large pool busy.
        self.window = 64
        self.entries: dict[int, _Entry] = {}
        self.finished: dict[int, ClipResult] = {}
        self.queue: deque[int] = deque()
        self.owner: dict[str, int] = {}  # clip name -> the request making it now
        self.duplicates: dict[str, list[int]] = {}  # clip name -> later requests for it
        self.running: dict[Any, tuple[Slot, int]] = {}

    def results(self) -> Iterator[ClipResult]:
        """The results in request order, as they finish."""
        while True:
            self.admit()
            while self.next_out in self.finished:
                yield self.finished.pop(self.next_out)
                self.next_out += 1
                self.admit()
            if self.exhausted and self.next_out >= self.admitted:
                return
            self.dispatch()
            if not self.running:
                # Nothing runs and the next result is not there: the bookkeeping
                # is wrong. Never spin.
                raise sora.RuntimeSoraError(f"sora.ray: request {self.next_out} was lost by the scheduler")
            done, _ = self.ray.wait(list(self.running), num_returns=1)
            for ref in done:
                if ref in self.running:
                    self.collect(ref)

    def finish(self, result: ClipResult) -> None:
        """Records a result; the same request's duplicates get it too."""
        self.finished[result.index] = result
        self.bar.advance(result.status)
        if result.name is None or self.owner.get(result.name) != result.index:
            return
        del self.owner[result.name]
        for dup in self.duplicates.pop(result.name, []):
            entry = self.entries.pop(dup)
            copy = replace(result, index=dup, request=entry.request, attempts=0)
            if result.ok:
                copy.status = "skipped"
            self.finish(copy)

    def admit(self) -> None:
        """Reads requests while the window has room: checks and names each,
        settles what is invalid or complete, queues the rest."""
        s = self.s
        while not self.exhausted and self.admitted - self.next_out < self.window:
            try:
                index, request = next(self.source)
            except StopIteration:
                self.exhausted = True
                return
            self.admitted += 1
            try:
                job = make_job(request, s.format, s.identity, where=f"request {index}: ")
            except sora.SoraError as e:
                self.finish(ClipResult(index, request, "failed", error=f"{type(e).__name__}: {e}"))
                continue
            if self.local_view:
                meta = output.read_complete(s.out_dir, job.name, s.format, job.kwargs)
                if meta is not None:
                    path = output.clip_path(s.out_dir, job.name, s.format)
                    self.finish(ClipResult(index, request, "skipped", name=job.name, path=path, meta=meta))
                    continue
            self.entries[index] = _Entry(index, request, job)
            if job.name in self.owner:
                self.duplicates.setdefault(job.name, []).append(index)
            else:
                self.owner[job.name] = index
                self.queue.append(index)

    def start_pool(self) -> None:
        """Joins the cluster and starts the workers: only once a clip must be
        made, so a re-run of a complete job needs no cluster."""
        if not self.ray.is_initialized():
            self.ray.init(address=self.address)
        size = self.s.num_workers or default_workers(self.ray, self.s)
        if self.exhausted:
            size = min(size, len(self.queue))
        self.pool.start(max(1, size))
        self.window = max(self.window, len(self.pool.slots) * self.s.max_in_flight * 4)

    def dispatch(self) -> None:
        """Sends queued requests, least loaded worker first: every idle worker
        gets one before any gets a second queued."""
        if self.queue and not self.pool.started:
            self.start_pool()
        for depth in range(self.s.max_in_flight):
            for slot in self.pool.slots:
                if not self.queue:
                    return
                if len(slot.inflight) > depth:
                    continue
                e = self.entries[self.queue.popleft()]
                e.attempts += 1
                ref = slot.handle.run.remote(e.job.name, self.s.format, e.job.kwargs, list(e.stale_pids))
                slot.inflight.append((ref, e.index))
                self.running[ref] = (slot, e.index)

    def worker_died(self, slot: Slot, error: BaseException) -> None:
        """Replaces the dead worker; charges its running request an attempt
        (failing it past `max_retries`) and queues its requests again."""
        s = self.s
        self.bar.replaced()
        pid = self.pool.pid_of(slot)
        calls = list(slot.inflight)
        for ref, _ in calls:
            self.running.pop(ref, None)
        self.pool.replace(slot)
        again: list[int] = []
        for position, (_, index) in enumerate(calls):
            e = self.entries[index]
            if pid is not None:
                e.stale_pids.append(pid)
            if position > 0:
                e.attempts -= 1  # queued behind the running call: never started
                again.append(index)
            elif e.attempts > s.max_retries:
                if self.local_view and pid is not None:
                    output.remove_stale(s.out_dir, e.job.name, s.format, [pid])
                del self.entries[index]
                self.finish(
                    ClipResult(
                        index,
                        e.request,
                        "failed",
                        name=e.job.name,
                        error=f"WorkerDiedError: the worker died {e.attempts} time(s) making this clip "
                        f"(max_retries={s.max_retries}); last: {one_line(error)}",
                        attempts=e.attempts,
                    )
                )
            else:
                again.append(index)
        self.queue.extendleft(reversed(again))

    def collect(self, ref: Any) -> None:
        """Takes one finished call's answer (or its worker's death)."""
        slot, index = self.running.pop(ref)
        try:
            answer = self.ray.get(ref)
        except self.death_errors as e:
            self.worker_died(slot, e)
            return
        except self.ray.exceptions.RayError as e:
            answer = {"status": "failed", "error": {"type": "RuntimeSoraError", "message": one_line(e)}}
        slot.inflight.remove((ref, index))
        e = self.entries.pop(index)
        result = ClipResult(index, e.request, "failed", e.job.name, attempts=e.attempts, worker=answer.get("worker"))
        if answer.get("status") in ("done", "skipped"):
            result.status = answer["status"]
            result.path = output.clip_path(self.s.out_dir, e.job.name, self.s.format)
            result.meta = answer.get("meta")
        else:
            err = answer.get("error") or {}
            result.error = f"{err.get('type', 'RuntimeSoraError')}: {err.get('message', '')}"
        self.finish(result)


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
    ray = import_ray()
    s = check_settings(
        model,
        out_dir,
        format=format,
        num_workers=num_workers,
        gpus_per_worker=gpus_per_worker,
        max_retries=max_retries,
        max_in_flight=max_in_flight,
        pipeline_options=pipeline_options,
    )
    total = len(requests) if hasattr(requests, "__len__") else None  # type: ignore[arg-type]
    bar = Progress(total, enabled=progress)
    scheduler = _Scheduler(ray, s, requests, address, bar)
    try:
        yield from scheduler.results()
    finally:
        scheduler.pool.close()
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
    `video` paths; see `sora.ray.check_request`). Each worker holds one
    `sora.Pipeline(model, **pipeline_options)` on the GPU share Ray gives it
    (`gpus_per_worker` in [0, 1]; 0 runs on the CPU with `threads` LibTorch
    threads, default 1, as its CPU share). `num_workers` defaults to what the
    cluster holds (GPUs / gpus_per_worker, or CPUs / threads).

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
