"""The Ray side of a `sora.ray` job: importing Ray, joining the cluster,
sizing the pool from its resources, and the pool of `Worker` actors (started
together, one replaced when it dies, all killed at the end)."""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sora

from .settings import Settings
from .worker import Worker


def import_ray() -> Any:
    """The `ray` module, or an ImportError saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ImportError("sora.ray needs Ray: pip install 'sora[ray]' (or pip install ray)") from e
    return ray


def one_line(text: Any, limit: int = 400) -> str:
    """`text` on one line, at most `limit` characters (Ray's errors span many)."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def sora_error(err: Mapping[str, Any]) -> sora.SoraError:
    """A worker's error dict as the sora exception class it names."""
    cls = getattr(sora, str(err.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, sora.SoraError)):
        cls = sora.RuntimeSoraError
    return cls(str(err.get("message")))


def through_client(ray: Any, address: str | None) -> bool:
    """True when this process reaches the cluster through Ray Client
    (`ray://`): then the output folder is the cluster's, not this machine's,
    and only the workers look at it."""
    if (address or os.environ.get("RAY_ADDRESS", "")).startswith("ray://"):
        return True
    try:
        return bool(ray.util.client.ray.is_connected())
    except Exception:
        return False


def death_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors that mean the worker (or its node) is gone, not that the
    call failed."""
    x = ray.exceptions
    return (x.RayActorError, x.WorkerCrashedError, x.OutOfMemoryError, x.NodeDiedError, x.ObjectLostError)


def default_workers(ray: Any, s: Settings) -> int:
    """Workers the cluster holds now: GPUs / gpus_per_worker, or CPUs /
    cpus_per_worker on the CPU. No GPU at all for GPU workers is a
    `sora.DeviceError`."""
    res = ray.cluster_resources()
    if s.gpus_per_worker > 0:
        n = math.floor(res.get("GPU", 0) / s.gpus_per_worker + 1e-9)
        if n < 1:
            raise sora.DeviceError(
                f"the Ray cluster has {res.get('GPU', 0):g} GPUs, fewer than gpus_per_worker={s.gpus_per_worker:g}: "
                "pass gpus_per_worker=0 to run on CPUs, or num_workers to wait for GPU nodes"
            )
        return n
    return max(1, math.floor(res.get("CPU", 1) / s.cpus_per_worker))


@dataclass
class Slot:
    """One actor of the pool and the calls outstanding on it, oldest first
    (`(object ref, request index)`)."""

    handle: Any
    ready_ref: Any
    inflight: deque[tuple[Any, int]] = field(default_factory=deque)


class Pool:
    """The `Worker` actors of one job."""

    def __init__(self, ray: Any, s: Settings) -> None:
        self._ray = ray
        self._remote = ray.remote(Worker).options(
            num_cpus=s.cpus_per_worker,
            num_gpus=s.gpus_per_worker,
            # Replacing a dead worker is the scheduler's (it knows the request).
            max_restarts=0,
            max_task_retries=0,
            max_concurrency=1,
        )
        self._args = (s.model, s.pipeline_options, s.out_dir)
        self.slots: list[Slot] = []
        self.started = False

    def _spawn(self) -> Slot:
        handle = self._remote.remote(*self._args)
        return Slot(handle=handle, ready_ref=handle.ready.remote())

    def start(self, size: int) -> None:
        """Starts `size` workers and waits for them to load the model; a load
        error (or a worker dying while loading) is raised here, before any clip."""
        self.started = True
        self.slots = [self._spawn() for _ in range(size)]
        try:
            infos = self._ray.get([s.ready_ref for s in self.slots])
        except self._ray.exceptions.RayError as e:
            raise sora.RuntimeSoraError(f"a sora.ray worker died while loading the model: {one_line(e)}") from None
        for info in infos:
            if info.get("error"):
                raise sora_error(info["error"])

    def pid_of(self, slot: Slot) -> int | None:
        """The process id of the slot's worker, if it got as far as saying it."""
        ready, _ = self._ray.wait([slot.ready_ref], timeout=0)
        if not ready:
            return None
        try:
            return int(self._ray.get(ready[0])["pid"])
        except Exception:
            return None

    def _kill(self, slot: Slot) -> None:
        try:
            self._ray.kill(slot.handle, no_restart=True)
        except Exception:
            pass  # already gone

    def replace(self, slot: Slot) -> Slot:
        """Kills the slot's worker (it died) and puts a fresh one in its place,
        loading in the background (a load error fails the requests sent to it)."""
        self._kill(slot)
        fresh = self._spawn()
        self.slots[self.slots.index(slot)] = fresh
        return fresh

    def close(self) -> None:
        """Kills every worker."""
        for slot in self.slots:
            self._kill(slot)
        self.slots = []
