"""Type stubs of the native module `sora._sora` (re-exported by `sora`)."""

import os
from collections.abc import Callable, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

__version__: str

def version() -> str:
    """The engine's version (same as `__version__`)."""

class SoraError(Exception):
    """Base class of every error raised by sora."""

class InvalidRequestError(SoraError, ValueError):
    """The request or an argument is invalid (bad size, value, dtype, shape, missing input)."""

class WeightsError(SoraError):
    """The model folder, a config file or the weights are missing, corrupt or do not match."""

class UnsupportedError(SoraError):
    """Something this build of sora does not do (yet)."""

class DeviceError(SoraError):
    """A device is unavailable or failed, or the request does not fit in memory."""

class SafetyError(SoraError):
    """A request or output was refused by a safety check."""

class ConsentRequiredError(SafetyError):
    """The prompt names a registered real person and the request carries no valid consent (cameo) of theirs."""

class ProtectedContentError(SafetyError):
    """The prompt names a protected character (a rights holder's opt-out)."""

class CancelledError(SoraError):
    """The run was cancelled (on_step returned False, or Pipeline.cancel() was called)."""

class MediaError(SoraError):
    """Reading or writing media or files (images, audio, MP4) failed."""

class RuntimeSoraError(SoraError, RuntimeError):
    """A failure while running (LibTorch error, NaN/inf in a tensor, internal error)."""

_Path = str | os.PathLike[str]
_Image = _Path | npt.NDArray[np.uint8]
_Video = _Path | npt.NDArray[np.uint8]
# A clip keyword (video=, extend=): also a Clip (its frames, rate and audio).
_ClipInput = _Video | Clip
# A frame condition (LTX-2): (frames, index, strength) with index and strength
# optional (0, 1.0), or {"frames" | "path": ..., "index": int, "strength": float};
# frames a path (image, MP4, PNG folder) or uint8 [H, W, 3] / [T, H, W, 3].
_Condition = (
    tuple[_Video] | tuple[_Video, int] | tuple[_Video, int, float] | dict[str, Any]
)

def estimate(
    model: _Path | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    *,
    batch_guidance: bool = True,
    step_cache: float | None = None,
    offload_text_encoder: bool = False,
    vae_tiling: bool | tuple[int, int, int, int] | None = None,
    vae_frame_tiling: bool | tuple[int, int] | None = None,
    offload: str | None = None,
    width: int | None = None,
    height: int | None = None,
    frames: int | None = None,
    seconds: float | None = None,
    steps: int | None = None,
    guidance: float | None = None,
) -> dict[str, Any]:
    """The memory a text-to-video request needs with `model` loaded with these
    options (those of `Pipeline`), from the folder's configs and safetensors
    headers alone: nothing is loaded. A dict: MiB per weight, activation and
    phase, `total_mb`, `peak_phase`, `largest_part`, ... (the loading phase
    included; the same object `sora inspect --estimate --json` prints)."""

_OnStep = Callable[[int, int, float, float], bool | None]
_Param = bool | int | float | str | list[float] | tuple[float, ...] | None

@final
class Clip:
    """A generated clip. `frames` and `audio` are read-only numpy arrays."""

    @property
    def frames(self) -> npt.NDArray[np.uint8]:
        """RGB frames, uint8 [T, H, W, 3]."""
    @property
    def audio(self) -> npt.NDArray[np.float32] | None:
        """Audio, float32 [channels, samples] in [-1, 1], or None."""
    @property
    def fps(self) -> float:
        """Frames per second."""
    @property
    def sample_rate(self) -> int:
        """Audio sample rate in Hz (0 when there is no audio)."""
    @property
    def meta(self) -> dict[str, Any]:
        """How the clip was made (model, prompt, seed, sizes, timings, ...)."""
    def save(self, path: _Path) -> None:
        """Writes the clip by the extension of `path`: .mp4, .wav, .png, or a folder of PNGs."""

@final
class Pipeline:
    """A loaded model ready to generate clips (runs on one pipeline are serialised)."""

    def __init__(
        self,
        model: _Path | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        threads: int | None = None,
        *,
        batch_guidance: bool = True,
        step_cache: float | None = None,
        memory_budget_mb: int | None = None,
        offload_text_encoder: bool = False,
        vae_tiling: bool | tuple[int, int, int, int] | None = None,
        vae_frame_tiling: bool | tuple[int, int] | None = None,
        offload: str | None = None,
        physics: str | None = None,
        motion_guidance: float | str | None = None,
        safety_registry: _Path | None = None,
        owner_key: str | None = None,
        visible_watermark: bool = True,
        watermark_handle: str | None = None,
        watermarks: str | None = None,
        credentials: str | None = None,
        sign_cert: _Path | None = None,
        sign_key: _Path | None = None,
        credentials_prompt: bool = False,
    ) -> None:
        """Loads the diffusers-format model folder `model`.

        Safety (keyword-only): `safety_registry`, a consent registry /
        protected list JSON file (docs/safety.md), turns the prompt gate on:
        a prompt naming a registered person raises `ConsentRequiredError`
        unless `generate(..., consent="ID")` carries a valid consent granted to
        `owner_key`; a protected character raises `ProtectedContentError`.
        Without it every prompt passes.

        Speed options (keyword-only): `batch_guidance` runs both guidance
        branches in one batched forward (False: one after the other, less memory);
        `step_cache` (a threshold >= 0, e.g. 0.1) reuses the transformer's cached
        residual while the first block's output changes less than it (None: off).
        Each clip's `meta["step_cache"]` reports computed and reused forwards.
        Memory options: `memory_budget_mb` (MiB) refuses, with `DeviceError`, a
        request whose memory estimate exceeds it, before any work;
        `offload_text_encoder` releases the text encoder after encoding;
        `vae_tiling` decodes the video in overlapping spatial tiles (diffusers'
        VAE tiling, same values, less memory): True for 256x256 tiles every 192
        pixels, or (height, width, stride_height, stride_width) in pixels, each a
        multiple of the VAE's spatial factor (`InvalidRequestError` otherwise);
        `vae_frame_tiling` (LTX-2) decodes in overlapping time windows handed
        out one by one: True for 16 frames every 8, or (window, stride) in
        frames, multiples of the VAE's temporal factor (a Wan model raises
        `InvalidRequestError`: its VAE decodes frame by frame already);
        `offload` ("none", "model" or "sequential", CUDA only) keeps the weights
        in host memory and copies them to the GPU only while used: one
        component at a time, or also the transformer and text encoder one block at a time
        (`UnsupportedError` on the CPU).
        `physics` ("off", "report" or "rerank:N") attaches each clip's physics
        report to `meta["physics"]`, or generates N seeds and keeps the one with
        the lowest plausibility penalty (every candidate in
        `meta["physics_candidates"]`).
        `motion_guidance` (experimental, off by default: a strength in (0, 1],
        or "STRENGTH@FROM") reduces the temporal variance of the predicted
        clean video in the steps after the share FROM (default 0.5) of the
        walk; `meta["motion_guidance"]` records it (docs/physics.md).
        Watermarks: every clip carries invisible marks (frames and audio) and
        a visible moving mark; `visible_watermark=False` leaves the visible
        one out (recorded in `meta["watermark"]`), `watermark_handle` adds a
        creator handle to it, and `watermarks="off"` turns all marks off (the
        raw model output, for tests and research).
        Content credentials: every MP4 and WAV output (`generate_to_file`,
        `Clip.save`) carries a signed C2PA manifest (model, settings,
        watermarks, consent hashes; read back by `sora.safety.verify`), signed
        by a local, untrusted identity made per process unless `sign_cert` (a
        PEM certificate chain) and `sign_key` (its PKCS#8 PEM key) are given;
        `credentials="off"` leaves it out, `credentials_prompt=True` embeds
        the prompt. `meta["credentials"]` records what was done.
        """
    def generate(
        self,
        prompt: str,
        *,
        negative_prompt: str | None = None,
        width: int | None = None,
        height: int | None = None,
        frames: int | None = None,
        seconds: float | None = None,
        fps: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        guidance_2: float | None = None,
        seed: int | None = None,
        image: _Image | None = None,
        video: _ClipInput | None = None,
        strength: float | None = None,
        aspect: str | None = None,
        resolution: str | None = None,
        fit: str | None = None,
        conditions: Sequence[_Condition] | None = None,
        extend: _ClipInput | None = None,
        prompts_at: dict[float, str] | list[tuple[float, str]] | None = None,
        on_step: _OnStep | None = None,
        **params: _Param,
    ) -> Clip:
        """Generates a clip; None values take the family's defaults.

        `aspect` ("9:16", "1:1", "4:5", "16:9", "21:9") and `resolution`
        ("480p", "720p", "1080p") give the size instead of `width`/`height`,
        mapped to the nearest size the model takes (docs/params.md); `fit`
        ("crop" or "pad") makes an `image`/`video` of another aspect the
        request's shape; without it such an input raises `InvalidRequestError`.
        `extend` (a path, or frames [T, H, W, 3] at `fps`) continues that clip
        by `seconds` (the seconds added): the result is its frames unchanged,
        then the new ones, at its frame rate and size (Wan text-to-video and
        TI2V models; LTX-2 with the clip's sound); more seconds than one
        window holds are a chain of windows. `prompts_at` (`{seconds: text}`
        or `[(seconds, text)]`) gives timed prompts: the clip is made by
        long-form generation, a chain of windows (`window_frames=`,
        `window_overlap=`; a request longer than one window is long-form
        too), each window taking the prompt active at its first new frame
        (Wan text-to-video and TI2V; LTX-2 text- and image-to-video; an
        `extend` on either, the seconds in the output clip's time; video-to-
        video raises `InvalidRequestError`, other requests
        `UnsupportedError`).

        `conditions` (LTX-2): frame conditions, each `(frames, index, strength)`
        or a dict (`frames`/`path`, `index`, `strength`): an image or clip at a
        latent frame index (negative from the end) held with a strength in
        [0, 1]; `[(first_png, 0), (clip_mp4, 2, 0.6)]`.

        Other keyword arguments are request parameters named as diffusers'
        pipeline keywords (`guidance_scale=3.5`, `num_inference_steps=30`,
        `guidance_scale_2=3.0`, ...; lists of numbers as lists), set after the
        keywords above; an unknown one or a bad value raises
        `InvalidRequestError` naming it."""
    def generate_to_file(
        self,
        path: _Path,
        prompt: str,
        *,
        negative_prompt: str | None = None,
        width: int | None = None,
        height: int | None = None,
        frames: int | None = None,
        seconds: float | None = None,
        fps: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        guidance_2: float | None = None,
        seed: int | None = None,
        image: _Image | None = None,
        video: _ClipInput | None = None,
        strength: float | None = None,
        aspect: str | None = None,
        resolution: str | None = None,
        fit: str | None = None,
        conditions: Sequence[_Condition] | None = None,
        extend: _ClipInput | None = None,
        prompts_at: dict[float, str] | list[tuple[float, str]] | None = None,
        on_step: _OnStep | None = None,
        overwrite: bool = False,
        **params: _Param,
    ) -> dict[str, Any]:
        """Generates straight into `path` (.mp4, .wav or a PNG folder) with flat
        memory; the file appears whole or not at all. Returns the clip's metadata.
        An existing `path` is replaced only when sora wrote it, or with
        `overwrite=True`; otherwise `InvalidRequestError` before any work. A
        second run writing the same path at once raises `InvalidRequestError`
        ("in use by process N")."""
    def estimate(
        self,
        prompt: str | None = None,
        *,
        negative_prompt: str | None = None,
        width: int | None = None,
        height: int | None = None,
        frames: int | None = None,
        seconds: float | None = None,
        fps: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        guidance_2: float | None = None,
        seed: int | None = None,
        image: _Image | None = None,
        video: _ClipInput | None = None,
        strength: float | None = None,
        aspect: str | None = None,
        resolution: str | None = None,
        fit: str | None = None,
        conditions: Sequence[_Condition] | None = None,
        extend: _ClipInput | None = None,
        prompts_at: dict[float, str] | list[tuple[float, str]] | None = None,
        **params: _Param,
    ) -> dict[str, Any]:
        """The memory the request needs from here on (loaded weights counted as
        resident): the estimate `generate` checks against the memory budget."""
    def cancel(self) -> None:
        """Cancels the runs in progress on this pipeline (from any thread)."""
    @property
    def model(self) -> str:
        """The model folder."""
    @property
    def family(self) -> str:
        """The model family (e.g. "wan")."""
    @property
    def device(self) -> str:
        """The device ("cpu", "cuda:0")."""
    @property
    def dtype(self) -> str:
        """The dtype ("float32", "float16", "bfloat16")."""
    @property
    def defaults(self) -> dict[str, Any]:
        """The family's defaults for unset request values."""

def physics_score(
    frames: npt.ArrayLike,
    audio: npt.ArrayLike | None = None,
    fps: float = 16.0,
    sample_rate: int | None = None,
    *,
    reference: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """The physics report of a clip, re-exported as `sora.physics.score`.

    `frames`: numpy uint8 `[T, H, W, 3]`; `audio`: float32 `[C, S]` or `[S]`
    in [-1, 1] at `sample_rate` Hz (required with audio); `reference`: a
    continuation of the same scene, uint8 `[T, H, W, 3]` of the same frame
    size (Physics-IQ metrics). Returns `{"metrics": {name: float | None},
    "findings": [{"kind", "start_frame", "end_frame", "track", "value",
    "threshold"}, ...]}`, the structure of `sora score --json`. Raises
    `InvalidRequestError` for bad shapes, dtypes or values.
    """

def check_prompt(
    text: str,
    registry: _Path,
    consent: str | list[str] | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """The prompt gate on `text` against the registry file `registry`, re-exported
    as `sora.safety.check_prompt`. Returns `{"allowed": bool, "normalized": str,
    "matches": [{"kind", "entry", "alias", "matched", "how", "distance",
    "consent", "refused"}, ...]}` (that of `sora check-prompt --json`); does not
    raise on a refusal. A bad registry raises `InvalidRequestError`.
    """

def verify_json(path: _Path, trust_anchors: _Path | None = None) -> str:
    """`sora verify --json` of the clip at `path` (see `sora.safety.verify`)."""
