"""sora.safety: the prompt gate, usable without a model, and `verify`, which
reads a clip's invisible watermarks back.

    import sora.safety
    d = sora.safety.check_prompt("a photo of T0m H4nley", "registry.json",
                                 consent="cameo-1", owner="studio-a")
    d["allowed"]          # False when a registered person lacks a valid consent
    d["normalized"]       # "a photo of tom hanley"
    d["matches"]          # [{"kind", "entry", "alias", "matched", "how",
                          #   "distance", "consent", "refused"}, ...]

A pipeline built with ``sora.Pipeline(..., safety_registry=..., owner_key=...)``
runs the same gate before any compute and raises ``sora.ConsentRequiredError``
or ``sora.ProtectedContentError`` (both ``sora.SafetyError``). The registry's
format is in docs/safety.md.

    r = sora.safety.verify("clip.mp4")
    r["watermark"]["detected"], r["watermark"]["payload"], r["watermark"]["p_value"]
    r["audio_watermark"]  # same keys
    r["credentials"]      # {"present": False, ...}: C2PA is not built yet
"""

from ._sora import check_prompt
from ._verify import verify

__all__ = ["check_prompt", "verify"]
