"""LTX-2 frame conditions from Python on the tiny `LTX2ConditionPipeline`
folder of `tests/fixtures/build_all.py ltx2_cond`: `generate(prompt,
conditions=[...])` with tuples and dicts, paths and pixels (the same clip),
the conditions steering the clip, and bad conditions raising
`InvalidRequestError` naming the problem. Skipped when the fixture is
missing, unless SORA_REQUIRE_FIXTURES=1."""

import numpy as np
import pytest
from PIL import Image

import sora
from conftest import REQUIRE, ROOT

FIXTURE = ROOT / "target" / "fixtures" / "ltx2_cond"

SMALL = dict(width=96, height=64, frames=17, steps=2, seed=3, max_sequence_length=24, image_crf=0)


@pytest.fixture(scope="module")
def ltx2():
    folder = FIXTURE / "v20"
    if not (folder / "model_index.json").is_file() and not REQUIRE:
        pytest.skip(f"fixture {folder} is missing: build it with "
                    "`.venv/bin/python tests/fixtures/build_all.py ltx2_cond`")
    return sora.Pipeline(folder, device="cpu", dtype="float32", threads=1, watermarks="off")


def test_ltx2_conditions_from_paths_and_pixels(ltx2):
    image, clip_dir = FIXTURE / "image.png", FIXTURE / "clip"
    a = ltx2.generate("a fox", conditions=[(str(image), 0), {"path": str(clip_dir), "index": 1, "strength": 0.6}],
                      **SMALL)
    assert a.frames.shape == (17, 64, 96, 3)
    assert a.audio is not None and a.audio.shape[0] == 2
    pixels = np.asarray(Image.open(image).convert("RGB"))
    b = ltx2.generate("a fox", conditions=[(pixels, 0, 1.0), {"frames": clip_dir, "index": 1, "strength": 0.6}],
                      **SMALL)
    assert np.array_equal(a.frames, b.frames)
    free = ltx2.generate("a fox", **SMALL)
    assert np.abs(a.frames.astype(int) - free.frames.astype(int)).mean() > 1.0


@pytest.mark.parametrize("bad, words", [
    ([(np.zeros((64, 96, 3), np.uint8), 9)], "-3..=2"),
    ([(np.zeros((64, 96, 3), np.uint8), 0, 1.5)], "[0, 1]"),
    ("image.png", "list"),
    ([{"frames": np.zeros((64, 96, 3), np.uint8), "idx": 1}], "idx"),
])
def test_ltx2_bad_conditions_are_invalid_requests(ltx2, bad, words):
    with pytest.raises(sora.InvalidRequestError, match=None) as e:
        ltx2.generate("a fox", conditions=bad, **SMALL)
    assert words in str(e.value)


def test_ltx2_extends_a_clip_with_its_sound(ltx2, tmp_path):
    """`extend=` on LTX-2: a `sora.Clip` (frames, fps and sound) or our own
    MP4 continues with the clip's frames first and one track as long as the
    new clip, the clip's own samples under its frames."""
    small = {k: v for k, v in SMALL.items() if k not in ("frames", "width", "height")}
    src = ltx2.generate("a red ball bounces", width=96, height=64, frames=17, fps=24, **small)
    out = ltx2.generate("the ball keeps bouncing", extend=src, seconds=0.5, **small)
    assert out.frames.shape == (33, 64, 96, 3)
    assert np.array_equal(out.frames[:17], src.frames)
    assert out.meta["mode"] == "extend" and out.sample_rate == src.sample_rate
    assert out.audio.shape == (2, round(33 / 24 * src.sample_rate))
    keep = round((17 / 24 - 0.02) * src.sample_rate)
    assert np.array_equal(out.audio[:, :keep], src.audio[:, :keep])
    # The same from our MP4 on disk, written with flat memory.
    first = tmp_path / "first.mp4"
    src.save(str(first))
    meta = ltx2.generate_to_file(str(tmp_path / "longer.mp4"), "the ball keeps bouncing",
                                 extend=str(first), seconds=0.5, **small)
    assert meta["frames"] == 33 and meta["has_audio"]


def test_ltx2_long_extension_is_a_chain_of_windows(ltx2, tmp_path):
    """`extend=` adding more than one window holds (`window_frames=25`):
    three windows, the first conditioned on the clip's tail and sound; the
    clip's frames and samples first, one track as long as the picture; and
    through `generate_to_file` with a timed prompt."""
    small = {k: v for k, v in SMALL.items() if k not in ("frames", "width", "height")}
    src = ltx2.generate("a red ball bounces", width=96, height=64, frames=17, fps=24, **small)
    out = ltx2.generate("the ball keeps bouncing", extend=src, seconds=2.0, window_frames=25, **small)
    assert out.frames.shape == (65, 64, 96, 3)
    assert np.array_equal(out.frames[:17], src.frames)
    lf = out.meta["long_form"]
    assert (lf["windows"], lf["window_frames"]) == (3, 25)
    assert out.audio.shape == (2, round(65 / 24 * src.sample_rate))
    keep = round((17 / 24 - 0.02) * src.sample_rate)
    assert np.array_equal(out.audio[:, :keep], src.audio[:, :keep])
    # Written window by window, with a timed prompt in the output's time
    # (1.5 s: the chain is cut at its latent frame, the last two windows
    # take it).
    meta = ltx2.generate_to_file(str(tmp_path / "longer.mp4"), "the ball keeps bouncing",
                                 extend=src, seconds=2.0, window_frames=25,
                                 prompts_at={1.5: "a blue box falls"}, **small)
    assert meta["frames"] == 65 and meta["has_audio"]
    assert meta["long_form"]["prompts"] == ["the ball keeps bouncing"] * 2 + ["a blue box falls"] * 2
