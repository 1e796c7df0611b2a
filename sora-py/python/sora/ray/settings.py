"""The settings of a `sora.ray` job, checked once before anything starts:
format, retries and queue depth, workers and their GPUs and CPUs, the
pipeline options each worker loads with (the device chosen from the GPUs),
and the identity that goes into every clip's name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._sora import InvalidRequestError
from .request import FORMATS

#: Options of `sora.Pipeline` that change the pixels (so the clip's name), with
#: their defaults.
PIXEL_OPTIONS: dict[str, Any] = {"dtype": "float32", "batch_guidance": True, "step_cache": None, "vae_tiling": None}


@dataclass(frozen=True)
class Settings:
    """A checked job: paths absolute, the device in `pipeline_options`."""

    model: str
    out_dir: str
    format: str
    num_workers: int | None
    gpus_per_worker: float
    cpus_per_worker: int
    max_retries: int
    max_in_flight: int
    pipeline_options: dict[str, Any]
    #: The settings that change the pixels, hashed into every clip's name.
    identity: dict[str, Any]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_settings(
    model: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    format: str,
    num_workers: int | None,
    gpus_per_worker: float,
    max_retries: int,
    max_in_flight: int,
    pipeline_options: Mapping[str, Any],
) -> Settings:
    """Checks the keywords of `iter_many`; a bad one raises
    `sora.InvalidRequestError` naming it."""
    if format not in FORMATS:
        raise InvalidRequestError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if isinstance(gpus_per_worker, bool) or not (
        isinstance(gpus_per_worker, (int, float)) and 0 <= gpus_per_worker <= 1
    ):
        raise InvalidRequestError(
            f"gpus_per_worker must be a number in [0, 1] (a pipeline runs on one GPU), got {gpus_per_worker!r}"
        )
    for key, value, least in (("max_retries", max_retries, 0), ("max_in_flight", max_in_flight, 1)):
        if not _is_int(value) or value < least:
            raise InvalidRequestError(f"{key} must be an integer >= {least}, got {value!r}")
    if num_workers is not None and (not _is_int(num_workers) or num_workers < 1):
        raise InvalidRequestError(f"num_workers must be an integer >= 1, got {num_workers!r}")
    if "device" in pipeline_options:
        raise InvalidRequestError(
            "sora.ray chooses the device: CUDA when gpus_per_worker > 0 (the GPUs Ray gives each worker), else the CPU"
        )
    options = dict(pipeline_options)
    options["device"] = "cuda" if gpus_per_worker > 0 else "cpu"
    threads = options.get("threads")
    if gpus_per_worker == 0 and threads is None:
        # One LibTorch thread per CPU Ray gives the worker, not every core.
        options["threads"] = threads = 1
    model_path = os.path.abspath(os.fspath(model))
    identity: dict[str, Any] = {"model": os.path.basename(model_path.rstrip(os.sep)), "device": options["device"]}
    for key, default in PIXEL_OPTIONS.items():
        value = options.get(key, default)
        identity[key] = list(value) if isinstance(value, tuple) else value
    # LTX-2's frame-wise decode changes the pixels too; named only when set, so
    # the names of clips made without it stay what they were.
    frame_tiling = options.get("vae_frame_tiling")
    if frame_tiling is not None:
        identity["vae_frame_tiling"] = list(frame_tiling) if isinstance(frame_tiling, tuple) else frame_tiling
    return Settings(
        model=model_path,
        out_dir=os.path.abspath(os.fspath(out_dir)),
        format=format,
        num_workers=num_workers,
        gpus_per_worker=float(gpus_per_worker),
        # A bad `threads` is the pipeline's to report, when the workers load.
        cpus_per_worker=threads if _is_int(threads) and threads > 0 else 1,
        max_retries=max_retries,
        max_in_flight=max_in_flight,
        pipeline_options=options,
        identity=identity,
    )
