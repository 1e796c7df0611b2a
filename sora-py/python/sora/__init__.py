"""sora: generate video (and audio) from text, images or video with open-weight
diffusion models (Wan 2.x, ...), on LibTorch.

    import sora
    pipe = sora.Pipeline("Wan2.1-T2V-1.3B-Diffusers", device="cuda", dtype="bfloat16")
    clip = pipe.generate("a basketball bounces off the backboard", seconds=5, seed=7)
    clip.frames   # numpy uint8 [T, H, W, 3]
    clip.save("out.mp4")
"""

# The native module uses the LibTorch of the installed torch wheel: load it
# first so that exactly one copy of LibTorch lives in the process.
import torch as _torch  # noqa: F401

from ._sora import (
    CancelledError,
    Clip,
    ConsentRequiredError,
    DeviceError,
    InvalidRequestError,
    MediaError,
    Pipeline,
    ProtectedContentError,
    RuntimeSoraError,
    SafetyError,
    SoraError,
    UnsupportedError,
    WeightsError,
    __version__,
    estimate,
    version,
)
from . import physics
from . import safety


__all__ = [
    "CancelledError",
    "Clip",
    "ConsentRequiredError",
    "DeviceError",
    "InvalidRequestError",
    "MediaError",
    "Pipeline",
    "ProtectedContentError",
    "RuntimeSoraError",
    "SafetyError",
    "SoraError",
    "UnsupportedError",
    "WeightsError",
    "__version__",
    "version",
    "estimate",
    "physics",
    "safety",
]
