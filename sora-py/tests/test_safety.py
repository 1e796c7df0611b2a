"""sora.safety.check_prompt and the prompt gate of sora.Pipeline (issue 13)."""

import pathlib

import pytest

import sora
import sora.safety

from conftest import ROOT, SMALL

REGISTRY = ROOT / "tests" / "it" / "data" / "safety_registry.json"


def test_exception_classes():
    assert issubclass(sora.ConsentRequiredError, sora.SafetyError)
    assert issubclass(sora.ProtectedContentError, sora.SafetyError)
    assert issubclass(sora.SafetyError, sora.SoraError)


def test_check_prompt_decides_without_a_model():
    d = sora.safety.check_prompt("a rose garden at dawn", REGISTRY)
    assert d == {"allowed": True, "normalized": "a rose garden at dawn", "matches": []}

    d = sora.safety.check_prompt("a photo of Т0m Н4nl\u200bey", str(REGISTRY))
    assert d["allowed"] is False
    assert d["normalized"] == "a photo of tom hanley"
    (m,) = d["matches"]
    assert m["kind"] == "person" and m["entry"] == "Tom Hanley"
    assert m["consent"] is None and "no consent" in m["refused"]

    d = sora.safety.check_prompt("Tom Hanley", REGISTRY, consent="tom-studio", owner="studio-a")
    assert d["allowed"] is True and d["matches"][0]["consent"] == "tom-studio"
    d = sora.safety.check_prompt("Tom Hanley", REGISTRY, consent=["tom-old"], owner="studio-a")
    assert d["allowed"] is False and "expired" in d["matches"][0]["refused"]
    d = sora.safety.check_prompt("Captain Starfall", REGISTRY, consent="tom-studio", owner="studio-a")
    assert d["allowed"] is False and d["matches"][0]["kind"] == "protected"


def test_bad_registry_raises(tmp_path: pathlib.Path):
    bad = tmp_path / "reg.json"
    bad.write_text('{"people": [{"names": []}]}')
    with pytest.raises(sora.InvalidRequestError, match="people\\[0\\].names is empty"):
        sora.safety.check_prompt("x", bad)
    with pytest.raises(sora.MediaError):
        sora.safety.check_prompt("x", tmp_path / "missing.json")
    with pytest.raises(sora.InvalidRequestError):
        sora.safety.check_prompt("x", REGISTRY, consent=3)


def test_pipeline_gate(wan_model):
    pipe = sora.Pipeline(
        wan_model, threads=1, safety_registry=REGISTRY, owner_key="studio-a"
    )
    calls = []
    with pytest.raises(sora.ConsentRequiredError, match="Zendrika"):
        pipe.generate("Z3ndr1ka sings", on_step=lambda *a: calls.append(a), **SMALL)
    assert calls == []
    with pytest.raises(sora.ProtectedContentError, match="Mister Whiskerton"):
        pipe.generate("mister whiskerton", consent="zendrika-studio", **SMALL)
    clip = pipe.generate("Z3ndr1ka sings", consent="zendrika-studio", **SMALL)
    assert clip.frames.shape == (5, 32, 32, 3)
