"""sora.safety.verify: read a clip's invisible watermarks and content
credentials back, as `sora verify --json` does.

    from sora.safety import verify
    r = verify("clip.mp4")
    r["watermark"]["detected"], r["watermark"]["payload"], r["watermark"]["p_value"]
    r["audio_watermark"]   # same keys; detected False when the clip has no audio
    r["credentials"]       # present, valid, trusted, claims, signer, issues, generation, consents
"""

import json
import os
from typing import Any

from ._sora import verify_json


def verify(
    path: "str | os.PathLike[str]", trust_anchors: "str | os.PathLike[str] | None" = None
) -> dict[str, Any]:
    """The verification report of the clip at `path` (.mp4, .wav, an image or
    a folder of PNG frames) as a dict with `watermark`, `audio_watermark`
    (each `detected`, `payload` hex or None, `bit_accuracy`, `p_value`) and
    `credentials` (`present`, `valid`, `claims`, `trusted`, `signer`,
    `issues`, `generation`, `consents`; see docs/safety.md). With
    `trust_anchors` (a PEM file of CA certificates), credentials signed under
    one of them are `trusted`."""
    anchors = None if trust_anchors is None else os.fspath(trust_anchors)
    return json.loads(verify_json(os.fspath(path), anchors))


__all__ = ["verify"]
