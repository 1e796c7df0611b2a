"""Watermarks and content credentials through the Python front door: on by
default and recorded in `clip.meta["watermark"]` / `clip.meta["credentials"]`,
`visible_watermark=False`, `watermarks="off"` and `credentials="off"` reach
the core, and `verify` reads the invisible mark and the signed manifest back
from a saved clip."""

import pytest

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
    # A frame folder carries no content credentials.
    c = r["credentials"]
    assert {"present", "valid", "claims", "trusted", "signer", "issues"} <= set(c)
    assert (c["present"], c["valid"], c["trusted"], c["claims"]) == (False, False, False, [])


def test_mp4_carries_content_credentials(wan_model, tmp_path):
    pipe = sora.Pipeline(wan_model, visible_watermark=False)
    clip = pipe.generate("a red fox", **REQ)
    cred = clip.meta["credentials"]
    assert cred["enabled"] and cred["local"] and not cred["prompt_included"]
    assert "untrusted" in cred["signer"]
    out = tmp_path / "fox.mp4"
    clip.save(out)
    r = verify(out)
    c = r["credentials"]
    assert c["present"] and c["valid"] and not c["trusted"], c
    assert c["issues"] == ["signingCredential.untrusted"]
    assert c["signer"]["subject"] == cred["signer"]
    assert c["generation"]["watermark"]["visible"] is False
    assert c["generation"]["watermark"]["payload"] == clip.meta["watermark"]["payload"]
    assert "prompt" not in c["generation"]
    assert "watermark visible off, invisible on" in c["claims"]
    assert r["watermark"]["detected"] and r["watermark"]["payload"] == clip.meta["watermark"]["payload"]
    # Off: recorded in the metadata, and the file carries none.
    off = sora.Pipeline(wan_model, credentials="off").generate_to_file(tmp_path / "off.mp4", "a red fox", **REQ)
    assert off["credentials"]["enabled"] is False
    assert verify(tmp_path / "off.mp4")["credentials"]["present"] is False
    # A key without its certificate is refused when the pipeline loads.
    with pytest.raises(sora.InvalidRequestError, match="sign_cert"):
        sora.Pipeline(wan_model, sign_key=tmp_path / "key.pem")


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
