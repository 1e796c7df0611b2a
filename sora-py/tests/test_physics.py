"""sora.physics.score: the physics report from numpy frames (no model needed)."""

import json
import pathlib
import subprocess

import numpy as np
import pytest

import sora
import sora.physics


def pattern(t: int, speed: float) -> np.ndarray:
    """A 32x48 clip of `t` frames: a smooth pattern moving `speed` px a frame."""
    f, y, x, c = np.meshgrid(np.arange(t), np.arange(32), np.arange(48), np.arange(3), indexing="ij")
    px = x - speed * f
    v = 128 + 50 * np.sin(0.3 * px + 0.2 * y) + 40 * np.cos(0.17 * y - 0.11 * px + c)
    return np.clip(v, 0, 255).astype(np.uint8)


def test_static_clip_has_no_flicker_and_no_motion():
    r = sora.physics.score(pattern(6, 0.0), fps=8.0)
    assert set(r) == {"metrics", "findings"}
    m = r["metrics"]
    assert m["flicker"] == 0.0
    assert m["dynamic_degree"] == 0.0
    assert m["motion_smoothness"] > 0.999
    assert m["physics_iq_mse"] is None
    assert isinstance(r["findings"], list)


def test_audio_reference_and_one_frame():
    clip = pattern(8, 1.5)
    mono = (0.3 * np.sin(np.arange(8000) * 0.05)).astype(np.float32)
    r = sora.physics.score(clip, mono, fps=8.0, sample_rate=8000, reference=clip)
    assert r["metrics"]["physics_iq_spatial_iou"] == 1.0
    assert r["metrics"]["physics_iq_mse"] == 0.0
    assert r["metrics"]["flicker"] > 0.0
    stereo = np.stack([mono, mono])
    assert sora.physics.score(clip, stereo, 8.0, 8000)["metrics"]["flicker"] == r["metrics"]["flicker"]
    one = sora.physics.score(clip[:1], fps=8.0)["metrics"]
    assert one["flicker"] is None and one["warping_error"] is None


def test_same_report_as_the_cli(tmp_path):
    """The Python report equals `sora score --json` on the same frames (PNG)."""
    cli = pathlib.Path(__file__).resolve().parents[2] / "target" / "debug" / "sora"
    if not cli.is_file():
        pytest.skip(f"{cli} is not built (cargo build -p sora-cli)")
    from PIL import Image  # noqa: PLC0415

    clip = pattern(5, 1.0)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(clip):
        Image.fromarray(frame).save(folder / f"{i:04d}.png")
    out = subprocess.run([str(cli), "score", str(folder), "--fps", "8", "--json"], capture_output=True, check=True)
    from_cli = json.loads(out.stdout)
    from_python = sora.physics.score(clip, fps=8.0)
    assert from_cli["findings"] == from_python["findings"]
    assert from_cli["metrics"].keys() == from_python["metrics"].keys()
    for name, value in from_python["metrics"].items():
        assert from_cli["metrics"][name] == (None if value is None else pytest.approx(value, rel=1e-9)), name


def test_bad_input_raises_invalid_request():
    with pytest.raises(sora.InvalidRequestError, match="uint8"):
        sora.physics.score(pattern(3, 0.0).astype(np.float32), fps=8.0)
    with pytest.raises(sora.InvalidRequestError, match=r"\[T, H, W, 3\]"):
        sora.physics.score(pattern(3, 0.0)[..., :2], fps=8.0)
    with pytest.raises(sora.InvalidRequestError, match="fps"):
        sora.physics.score(pattern(3, 0.0), fps=0.0)
    with pytest.raises(sora.InvalidRequestError, match="sample rate"):
        sora.physics.score(pattern(3, 0.0), np.zeros(100, np.float32), fps=8.0)
    with pytest.raises(sora.InvalidRequestError, match="float32"):
        sora.physics.score(pattern(3, 0.0), np.zeros(100, np.float64), fps=8.0, sample_rate=8000)
    with pytest.raises(sora.InvalidRequestError, match="reference"):
        sora.physics.score(pattern(3, 0.0), fps=8.0, reference=pattern(3, 0.0)[:, :16])
