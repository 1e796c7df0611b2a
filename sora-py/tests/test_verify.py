"""Watermarks through the Python front door: on by default and recorded in
`clip.meta["watermark"]`, `visible_watermark=False` and `watermarks="off"`
reach the core, and `verify` reads the invisible mark back from a saved clip."""

import sora
from sora.safety import verify

REQ = dict(width=128, height=96, frames=9, steps=1, seed=3)


def test_clips_are_marked_and_verify(wan_model, tmp_path):
    clip = sora.Pipeline(wan_model).generate("a red fox", **REQ)
    wm = clip.meta["watermark"]
    assert wm["visible"] and wm["invisible"]
    assert len(wm["payload"]) == 14 and wm["payload"].startswith(wm["generation_id"])
    out = tmp_path / "frames"
    clip.save(out)
    r = verify(out)
    assert set(r) == {"watermark", "audio_watermark", "credentials"}
    assert set(r["watermark"]) == {"detected", "payload", "bit_accuracy", "p_value"}
    assert r["watermark"]["detected"] and r["watermark"]["p_value"] <= 1e-6
    assert r["watermark"]["payload"] == wm["payload"]
    assert r["audio_watermark"]["detected"] is False
    assert r["credentials"] == {"present": False, "valid": False, "claims": []}


def test_visible_mark_off_and_all_marks_off(wan_model):
    no_visible = sora.Pipeline(wan_model, visible_watermark=False).generate("a red fox", **REQ)
    wm = no_visible.meta["watermark"]
    assert not wm["visible"] and wm["invisible"]
    # Flag bit 1 (visible) is clear in the payload.
    assert int(wm["payload"][-2:], 16) & 1 == 0
    raw = sora.Pipeline(wan_model, watermarks="off").generate("a red fox", **REQ)
    assert raw.meta["watermark"] == {
        "visible": False, "invisible": False, "payload": None, "generation_id": None,
    }
    assert (raw.frames != no_visible.frames).any()
