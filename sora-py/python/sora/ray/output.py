"""The output folder of a `sora.ray` job: where each clip and its metadata
JSON go, whether a clip is complete (so a re-run skips it), the atomic write
of the metadata, and the removal of what a killed worker left half-written.

A clip is written by the engine itself (`Pipeline.generate_to_file` stages it
under a hidden temporary name and renames it into place); its metadata JSON
is written the same way, after the clip. A clip counts as complete only when
both are there and the metadata records the same request, so a worker that
dies between the two renames leaves a clip that the next run makes again.
"""

from __future__ import annotations

import fcntl
import glob
import itertools
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from .request import FORMATS

_counter = itertools.count()


def clip_path(out_dir: str, name: str, fmt: str) -> str:
    """The clip's file (`NAME.mp4`, `NAME.wav`) or PNG folder (`NAME`)."""
    return os.path.join(out_dir, name + FORMATS[fmt])


def meta_path(out_dir: str, name: str) -> str:
    """The clip's metadata JSON, beside it: `NAME.json`."""
    return os.path.join(out_dir, name + ".json")


def _frame_count(folder: str) -> int:
    """PNG frames (`0000.png`, ...) in `folder`."""
    return sum(1 for n in os.listdir(folder) if n.endswith(".png") and n[:-4].isdigit())


def read_complete(out_dir: str, name: str, fmt: str, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The metadata of the clip `name` if it is complete for this request
    (its metadata JSON records `kwargs` and the clip is there, a PNG folder
    with every frame), else None."""
    try:
        with open(meta_path(out_dir, name), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("request") != dict(kwargs):
        return None
    path = clip_path(out_dir, name, fmt)
    if fmt == "png":
        try:
            if not os.path.isdir(path) or _frame_count(path) != meta.get("frames"):
                return None
        except OSError:
            return None
    elif not os.path.isfile(path):
        return None
    return meta


def write_meta(out_dir: str, name: str, meta: Mapping[str, Any]) -> str:
    """Writes `NAME.json` atomically (a hidden temporary file in `out_dir`,
    renamed into place); returns its path."""
    target = meta_path(out_dir, name)
    tmp = os.path.join(out_dir, f".{name}.json.ray-{os.getpid()}-{next(_counter)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1, sort_keys=False)
            f.write("\n")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return target


def remove_stale(out_dir: str, name: str, fmt: str, pids: Iterable[int]) -> list[str]:
    """Removes what the processes `pids` (workers that died) left staged for
    the clip `name`: the engine's `.NAME.EXT.sora-PID-N.tmp` file or folder and
    this module's `.NAME.json.ray-PID-N.tmp`, and the engine's advisory lock
    `.NAME.EXT.sora.lock` when it still names one of them. Returns the removed
    paths."""
    removed = []
    stem = glob.escape(name)
    for pid in pids:
        patterns = (
            f".{stem}{FORMATS[fmt]}.sora-{int(pid)}-*.tmp",
            f".{stem}.json.ray-{int(pid)}-*.tmp",
        )
        for pattern in patterns:
            for path in glob.glob(os.path.join(glob.escape(out_dir), pattern)):
                try:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    else:
                        os.remove(path)
                    removed.append(path)
                except FileNotFoundError:
                    pass
        lock = _remove_dead_lock(out_dir, f".{name}{FORMATS[fmt]}.sora.lock", int(pid))
        if lock is not None:
            removed.append(lock)
    return removed


def _remove_dead_lock(out_dir: str, lock_name: str, pid: int) -> Optional[str]:
    """Removes the engine's advisory lock file `lock_name` when it names the
    dead process `pid` and no live process holds it. Follows the engine's own
    protocol: lock it first (non-blocking), remove it while locked, so a run
    that locks it concurrently either wins (we leave it) or sees the path no
    longer names what it locked and starts over."""
    path = os.path.join(out_dir, lock_name)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None  # a live process holds it
        held = os.read(fd, 32).decode("ascii", "replace").strip()
        if held != str(pid):
            return None
        try:
            os.remove(path)
        except FileNotFoundError:
            return None
        return path
    finally:
        os.close(fd)
