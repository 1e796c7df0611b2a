"""Requests of a `sora.ray` job: checking one JSON object (the fields of the
clip metadata `sora generate --json` prints, mode inputs as paths) into the
keywords of `sora.Pipeline.generate_to_file`, and the clip's deterministic name.

Pure Python with no Ray: the driver checks every request before it reaches a
worker, and the name depends only on the request and the pool's settings, so
that running the same job again finds the clips it already made.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._sora import InvalidRequestError

#: Output formats and the extension of the clip each writes ("" : a PNG folder).
FORMATS: dict[str, str] = {"mp4": ".mp4", "png": "", "wav": ".wav"}

#: Integer fields of a request (non-negative); `window_frames` and
#: `window_overlap` are long-form generation's request parameters.
_INTS = ("width", "height", "frames", "fps", "steps", "seed", "window_frames", "window_overlap")
#: Number fields of a request.
_NUMBERS = ("seconds", "guidance", "guidance_2", "strength")
#: Text fields of a request.
_TEXTS = ("prompt", "negative_prompt")
#: Size and shape fields (text, checked by the core: `16:9`, `720p`, `crop`).
_SHAPES = ("aspect", "resolution", "fit")
#: Input paths by mode.
_INPUTS = ("image", "video", "extend")

#: Fields of the clip metadata that record how a clip was made (the pipeline,
#: the run's timings and memory) rather than what to make: accepted so that a
#: clip's metadata JSON can be sent again as a request, and ignored. The pool's
#: own settings (model, dtype, ...) decide those.
RECORD_ONLY = frozenset(
    {
        "model",
        "family",
        "device",
        "dtype",
        "has_audio",
        "sora_version",
        "timings",
        "peak_rss_mb",
        "step_cache",
        "rss_before_load_mb",
        "estimated_peak_mb",
        "text_embeddings_cached",
        "offload",
        "vae_tiling",
        "vae_frame_tiling",
        "motion_guidance",
        # The physics report (the pool's `physics` option decides whether one is made).
        "physics",
        "physics_candidates",
        # The marks and content credentials the clip carries (the pool's
        # pipeline options decide them).
        "watermark",
        "credentials",
        # What `sora.ray` adds to the metadata it writes beside each clip.
        "request",
        # A long-form clip's windows; its `prompts_at` (and window settings)
        # are taken as the request's when the request gives none.
        "long_form",
    }
)

_MODES = ("text", "image", "video", "extend")


@dataclass(frozen=True)
class Job:
    """One checked request: what a worker runs and where the clip goes.

    `kwargs` are the keywords of `Pipeline.generate_to_file` after the path
    (`prompt` included, paths absolute); `name` is the clip's file or folder
    name without extension, the same for the same request and pool settings.
    """

    name: str
    kwargs: dict[str, Any]


def _invalid(where: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{where}{message}")


def check_request(
    request: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None, where: str = ""
) -> dict[str, Any]:
    """Checks one request and returns the keywords of `generate_to_file`.

    `request` is a JSON object: `prompt` (required), `negative_prompt`,
    `width`, `height`, `frames`, `seconds`, `fps`, `steps`, `guidance`,
    `guidance_2`, `seed`, `aspect`, `resolution`, `fit`, `mode` (`text`,
    `image`, `video`, `extend`), `image` / `video` / `extend` (paths; `extend`
    continues the clip by `seconds`), `strength`, `prompts_at` (timed
    prompts: {"SECONDS": "TEXT"} or [[SECONDS, "TEXT"], ...]) and the
    long-form window settings `window_frames` / `window_overlap`; a clip's
    `long_form` metadata supplies its timed prompts and windows when the
    request gives none. `null` is the same as absent (the family's
    default). The metadata fields in `RECORD_ONLY` are ignored; any other
    field, a wrong type or a mode that disagrees with the inputs raises
    `sora.InvalidRequestError` (prefixed by `where`, e.g. "line 3: ").
    Relative input paths are taken from `base_dir` (the current folder when
    None) and made absolute, since workers may run elsewhere.
    """
    if not isinstance(request, Mapping):
        raise _invalid(where, f"a request must be a JSON object, got {type(request).__name__}")
    known = (
        set(_INTS) | set(_NUMBERS) | set(_TEXTS) | set(_SHAPES) | set(_INPUTS) | {"mode", "prompts_at"} | RECORD_ONLY
    )
    unknown = sorted(str(k) for k in request if k not in known)
    if unknown:
        takes = ", ".join(sorted(known - RECORD_ONLY))
        raise _invalid(where, f"unknown field(s) {', '.join(unknown)} (a request takes {takes})")
    out: dict[str, Any] = {}
    prompt = request.get("prompt")
    if not isinstance(prompt, str):
        raise _invalid(where, "`prompt` (text) is required")
    out["prompt"] = prompt
    negative = request.get("negative_prompt")
    if negative is not None:
        if not isinstance(negative, str):
            raise _invalid(where, f"`negative_prompt` must be text, got {type(negative).__name__}")
        out["negative_prompt"] = negative
    for key in _SHAPES:
        v = request.get(key)
        if v is None:
            continue
        if not isinstance(v, str):
            raise _invalid(where, f"`{key}` must be text, got {v!r}")
        out[key] = v
    for key in _INTS:
        v = request.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise _invalid(where, f"`{key}` must be an integer, got {v!r}")
        if v < 0:
            raise _invalid(where, f"`{key}` must not be negative, got {v}")
        out[key] = v
    for key in _NUMBERS:
        v = request.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _invalid(where, f"`{key}` must be a finite number, got {v!r}")
        out[key] = float(v)
    base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    for key in _INPUTS:
        v = request.get(key)
        if v is None:
            continue
        if not isinstance(v, str) or not v:
            raise _invalid(where, f"`{key}` must be a path (text), got {v!r}")
        out[key] = os.path.abspath(os.path.join(base, os.path.expanduser(v)))
    given = [k for k in _INPUTS if k in out]
    if len(given) > 1:
        raise _invalid(where, f"a request takes one of `image`, `video`, `extend`, not {' and '.join(given)}")
    inferred = given[0] if given else "text"
    mode = request.get("mode")
    if mode is not None:
        if mode not in _MODES:
            raise _invalid(where, f"`mode` must be one of {', '.join(_MODES)}, got {mode!r}")
        if mode != inferred:
            need = {
                "text": "no image, video or extend",
                "image": "an `image` path",
                "video": "a `video` path",
                "extend": "an `extend` path (the clip to continue) and `seconds` (to add)",
            }[mode]
            raise _invalid(where, f"`mode` is {mode!r} but the request has {inferred} inputs (it needs {need})")
    if "strength" in out and inferred != "video":
        raise _invalid(where, "`strength` applies to `video` requests only")
    if inferred == "extend" and "seconds" not in out:
        raise _invalid(where, "`extend` needs `seconds`: how many seconds to add to the clip")
    timed = request.get("prompts_at")
    long_form = request.get("long_form")
    if long_form is not None and not isinstance(long_form, Mapping):
        raise _invalid(where, f"`long_form` (metadata) must be an object, got {long_form!r}")
    if timed is None and long_form is not None:
        # A long-form clip's metadata sent again: its timed prompts and window
        # settings make the same clip.
        timed = long_form.get("prompts_at") or None
        for key in ("window_frames", "window_overlap"):
            v = long_form.get(key)
            if key not in out and isinstance(v, int) and not isinstance(v, bool) and v >= 0:
                out[key] = v
    if timed is not None:
        out["prompts_at"] = _timed_prompts(timed, where)
    return out


def _timed_prompts(value: Any, where: str) -> list[list[Any]]:
    """`prompts_at`: an object {"SECONDS": "TEXT"} or a list of [SECONDS, TEXT]
    pairs (the clip metadata's form) -> [[seconds, text], ...] by time."""
    if isinstance(value, Mapping):
        pairs = []
        for k, v in value.items():
            try:
                secs = float(k)
            except (TypeError, ValueError):
                raise _invalid(where, f"`prompts_at` keys are seconds, got {k!r}") from None
            pairs.append((secs, v))
    elif isinstance(value, list):
        pairs = []
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise _invalid(where, f"`prompts_at` items are [seconds, text] pairs, got {item!r}")
            pairs.append((item[0], item[1]))
    else:
        raise _invalid(where, f"`prompts_at` must be an object or a list of [seconds, text], got {value!r}")
    out = []
    for secs, text in pairs:
        if isinstance(secs, bool) or not isinstance(secs, (int, float)) or not math.isfinite(secs) or secs < 0:
            raise _invalid(where, f"`prompts_at` times must be finite seconds >= 0, got {secs!r}")
        if not isinstance(text, str):
            raise _invalid(where, f"`prompts_at` prompts must be text, got {text!r}")
        out.append([float(secs), text])
    return sorted(out, key=lambda p: p[0])


def _slug(text: str, limit: int = 40) -> str:
    """A short file-name-safe form of a prompt ("clip" when nothing is left)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].rstrip("-") or "clip"


def clip_name(kwargs: Mapping[str, Any], fmt: str, identity: Mapping[str, Any]) -> str:
    """The clip's name: a slug of the prompt and a hash of the checked request,
    the format and `identity` (the pool settings that change the pixels:
    model folder name, device kind, dtype, ...). Deterministic, so a re-run
    finds what an earlier run wrote; different settings never share a name."""
    key = json.dumps(
        {"request": dict(kwargs), "format": fmt, "pipeline": dict(identity)},
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{_slug(str(kwargs.get('prompt', '')))}-{digest}"


def make_job(
    request: Mapping[str, Any],
    fmt: str,
    identity: Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    where: str = "",
) -> Job:
    """Checks `request` (see `check_request`) and names its clip."""
    if fmt not in FORMATS:
        raise InvalidRequestError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    kwargs = check_request(request, base_dir=base_dir, where=where)
    return Job(name=clip_name(kwargs, fmt, identity), kwargs=kwargs)


def read_requests(path: str | os.PathLike[str]) -> list[tuple[int, dict[str, Any]]]:
    """The requests of a JSON Lines file with their line numbers (one object a
    line; blank lines and lines starting with `#` are skipped). A line that is
    not a JSON object raises `sora.InvalidRequestError` naming the line."""
    requests: list[tuple[int, dict[str, Any]]] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise InvalidRequestError(f"{os.fspath(path)} line {number}: not JSON ({e.msg})") from None
            if not isinstance(value, dict):
                raise InvalidRequestError(
                    f"{os.fspath(path)} line {number}: a request must be a JSON object, got {type(value).__name__}"
                )
            requests.append((number, value))
    return requests
