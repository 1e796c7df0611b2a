"""LTX-2 image-to-video from Python on the tiny `LTX2ImageToVideoPipeline`
folder of `tests/fixtures/build_all.py ltx2_i2v`: `generate(prompt, image=...)`
gives frames and a waveform, with the image given as a path or as pixels
(the same clip). Skipped when the fixture is missing, unless
SORA_REQUIRE_FIXTURES=1."""

import numpy as np
import pytest
from PIL import Image

import sora
from conftest import REQUIRE, ROOT

FIXTURE = ROOT / "target" / "fixtures" / "ltx2_i2v"

# The fixture's size and a short walk; STG on a block the tiny transformer has.
SMALL = dict(width=96, height=64, frames=9, steps=2, seed=3, max_sequence_length=24,
             spatio_temporal_guidance_blocks=[1])


@pytest.fixture(scope="module")
def ltx2():
    folder = FIXTURE / "v20"
    if not (folder / "model_index.json").is_file() and not REQUIRE:
        pytest.skip(f"fixture {folder} is missing: build it with "
                    "`.venv/bin/python tests/fixtures/build_all.py ltx2_i2v`")
    return sora.Pipeline(folder, device="cpu", dtype="float32", threads=1, watermarks="off")


def test_ltx2_image_to_video_makes_frames_and_audio(ltx2):
    image = FIXTURE / "image.png"
    clip = ltx2.generate("the fox turns its head", image=str(image), **SMALL)
    assert clip.frames.shape == (9, 64, 96, 3)
    assert clip.audio is not None and clip.audio.shape[0] == 2
    assert clip.sample_rate == 24000
    # The same image as pixels gives the same clip.
    pixels = np.asarray(Image.open(image).convert("RGB"))
    again = ltx2.generate("the fox turns its head", image=pixels, **SMALL)
    assert np.array_equal(again.frames, clip.frames)
    # The image steers the clip.
    flipped = ltx2.generate("the fox turns its head", image=np.ascontiguousarray(pixels[:, ::-1]), **SMALL)
    moved = np.abs(flipped.frames[0].astype(float) - clip.frames[0].astype(float)).mean()
    assert moved > 2.0, moved


def test_ltx2_frame_tiling_and_no_audio(ltx2):
    folder = FIXTURE / "v20"
    tiled = sora.Pipeline(folder, threads=1, watermarks="off", vae_frame_tiling=(16, 8))
    args = dict(SMALL, frames=33)
    clip = tiled.generate("a fox", **args)
    assert clip.frames.shape == (33, 64, 96, 3)
    assert clip.meta["vae_frame_tiling"] == [16, 8]
    # audio=False: the same frames as the joint run, no waveform.
    a = ltx2.generate("a fox", **SMALL)
    b = ltx2.generate("a fox", audio=False, **SMALL)
    assert b.audio is None and a.audio is not None
    assert np.array_equal(a.frames, b.frames)
    e = sora.estimate(folder, vae_frame_tiling=True, width=384, height=256, frames=121)
    assert e["vae_frame_tiling"] == [16, 8]
    with pytest.raises(sora.InvalidRequestError, match="temporal factor"):
        sora.Pipeline(folder, vae_frame_tiling=(12, 4))


def test_a_clip_given_as_video_brings_its_sound(ltx2, wan_model):
    # An LTX-2 clip (with its waveform) restyled by Wan (no audio of its own):
    # the output keeps the clip's sound, its rate and length.
    src = ltx2.generate("a fox", **SMALL)
    assert src.audio is not None
    wan = sora.Pipeline(wan_model, threads=1, watermarks="off")
    out = wan.generate("a fox in the snow", video=src, strength=0.6, steps=2, seed=1)
    assert out.frames.shape == src.frames.shape
    assert out.fps == src.fps and out.sample_rate == src.sample_rate
    # The clip's samples, then silence up to exactly frames / fps.
    n = src.audio.shape[1]
    assert out.audio is not None and out.audio.shape == (src.audio.shape[0], 9 * 24000 // 24)
    assert np.array_equal(out.audio[:, :n], src.audio)
    assert not out.audio[:, n:].any()
    # The same frames as pixels (at the clip's rate) bring no sound.
    bare = wan.generate("a fox in the snow", video=src.frames, fps=24, strength=0.6, steps=2, seed=1)
    assert bare.audio is None
    assert np.array_equal(bare.frames, out.frames)
