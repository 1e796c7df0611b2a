"""The same request through every front door gives identical frames.

scripts/test.sh runs, in order: the Rust suite (sora-cli/tests/cli.rs checks the
CLI against the Rust API and writes target/frontdoor/rust.rgb), the C program
(SORA_C_FRAMES_OUT=target/frontdoor/c.rgb), then this suite, which generates the
same request from Python and compares all three byte for byte.
"""

import numpy as np
import pytest

import sora

from conftest import ROOT, REQUIRE

PROMPT = "a red ball bounces on a wooden floor"
FRONTDOOR = ROOT / "target" / "frontdoor"


@pytest.mark.parametrize("door", ["rust", "c"])
def test_python_frames_equal_the_other_front_doors(pipe, door):
    path = FRONTDOOR / f"{door}.rgb"
    if not path.is_file():
        if REQUIRE:
            pytest.fail(f"{path} is missing: run scripts/test.sh (it writes it before this suite)")
        pytest.skip(f"{path} is missing (written by the {door} stage of scripts/test.sh)")
    clip = pipe.generate(PROMPT, width=32, height=32, frames=5, steps=2, seed=7)
    other = np.fromfile(path, dtype=np.uint8)
    assert other.size == clip.frames.size, f"{door} wrote {other.size} bytes"
    assert np.array_equal(other.reshape(clip.frames.shape), clip.frames), f"Python and {door} frames differ"


LTX2_MODEL = ROOT / "target" / "fixtures" / "ltx2_pipeline" / "v23"


@pytest.fixture(scope="module")
def ltx2_clip():
    """The LTX-2 front-door request (sora-cli/tests/cli.rs's LTX2_FRONTDOOR)
    generated from Python on the tiny LTX-2.3 fixture."""
    if not (LTX2_MODEL / "model_index.json").is_file():
        if REQUIRE:
            pytest.fail(f"{LTX2_MODEL} is missing: build it with tests/fixtures/build_all.py ltx2_pipeline")
        pytest.skip(f"{LTX2_MODEL} is missing")
    pipe = sora.Pipeline(str(LTX2_MODEL))
    return pipe.generate(PROMPT, width=96, height=64, frames=9, fps=24, steps=2, seed=7,
                         max_sequence_length=24, spatio_temporal_guidance_blocks=[1])


@pytest.mark.parametrize("door", ["rust", "c"])
def test_ltx2_python_clip_equals_the_other_front_doors(ltx2_clip, door):
    """Frames and audio, byte for byte, from Python, Rust (and the CLI, which
    cli.rs checks against Rust) and C."""
    clip = ltx2_clip
    assert clip.audio is not None and clip.sample_rate > 0
    rgb, f32 = FRONTDOOR / f"ltx2-{door}.rgb", FRONTDOOR / f"ltx2-{door}.f32"
    if not (rgb.is_file() and f32.is_file()):
        if REQUIRE:
            pytest.fail(f"{rgb} or {f32} is missing: run scripts/test.sh (it writes them before this suite)")
        pytest.skip(f"{rgb} is missing (written by the {door} stage of scripts/test.sh)")
    frames = np.fromfile(rgb, dtype=np.uint8)
    assert frames.size == clip.frames.size, f"{door} wrote {frames.size} bytes of frames"
    assert np.array_equal(frames.reshape(clip.frames.shape), clip.frames), f"Python and {door} frames differ"
    audio = np.fromfile(f32, dtype="<f4")
    assert audio.size == clip.audio.size, f"{door} wrote {audio.size} samples"
    assert np.array_equal(audio.reshape(clip.audio.shape), clip.audio), f"Python and {door} audio differ"


def test_ltx2_extension_through_c_equals_python():
    """The C program saved the front-door clip as a PNG folder (frames and a
    float WAV), extended it from there by 0.5 s and wrote the result: Python
    extending the same folder gives the same frames and audio, byte for byte
    (9 frames + 0.5 s at 24 fps: a window of 25 holding the 9, 25 in all)."""
    clip_dir = FRONTDOOR / "ltx2-c-clip"
    rgb, f32 = FRONTDOOR / "ltx2-c-ext.rgb", FRONTDOOR / "ltx2-c-ext.f32"
    if not (clip_dir.is_dir() and rgb.is_file() and f32.is_file()):
        if REQUIRE:
            pytest.fail(f"{clip_dir} or {rgb} is missing: run scripts/test.sh (the C stage writes them)")
        pytest.skip(f"{rgb} is missing (written by the C stage of scripts/test.sh)")
    pipe = sora.Pipeline(str(LTX2_MODEL))
    kw = dict(seconds=0.5, steps=2, seed=7, max_sequence_length=24, spatio_temporal_guidance_blocks=[1])
    out = pipe.generate("the ball keeps bouncing", extend=str(clip_dir), **kw)
    assert out.frames.shape == (25, 64, 96, 3)
    frames = np.fromfile(rgb, dtype=np.uint8)
    assert frames.size == out.frames.size and np.array_equal(frames.reshape(out.frames.shape), out.frames)
    audio = np.fromfile(f32, dtype="<f4")
    assert audio.size == out.audio.size and np.array_equal(audio.reshape(out.audio.shape), out.audio)


def test_ltx2_long_form_through_c_equals_python():
    """The C program's long-form request (41 frames at 24 fps in windows of 25
    holding 2 latent frames, a timed prompt at 1 s): two windows, the second
    holding the first's video and audio latents; Python's run of the same
    request gives the same frames and audio, byte for byte."""
    rgb, f32 = FRONTDOOR / "ltx2-c-long.rgb", FRONTDOOR / "ltx2-c-long.f32"
    if not (rgb.is_file() and f32.is_file()):
        if REQUIRE:
            pytest.fail(f"{rgb} or {f32} is missing: run scripts/test.sh (the C stage writes them)")
        pytest.skip(f"{rgb} is missing (written by the C stage of scripts/test.sh)")
    pipe = sora.Pipeline(str(LTX2_MODEL))
    out = pipe.generate(PROMPT, width=96, height=64, frames=41, fps=24, steps=2, seed=7,
                        max_sequence_length=24, window_frames=25, window_overlap=2,
                        prompts_at={1.0: "a blue box falls on a metal floor"})
    assert out.frames.shape == (41, 64, 96, 3)
    lf = out.meta["long_form"]
    assert lf["windows"] == 2 and lf["prompts"] == [PROMPT, "a blue box falls on a metal floor"], lf
    assert abs(out.audio.shape[1] / out.sample_rate - 41 / 24) <= 0.04
    frames = np.fromfile(rgb, dtype=np.uint8)
    assert frames.size == out.frames.size and np.array_equal(frames.reshape(out.frames.shape), out.frames)
    audio = np.fromfile(f32, dtype="<f4")
    assert audio.size == out.audio.size and np.array_equal(audio.reshape(out.audio.shape), out.audio)


def test_image_and_video_paths_are_read(pipe, tmp_path):
    from PIL import Image

    img = np.zeros((32, 32, 3), dtype=np.uint8)
    img[:, :16] = 200
    Image.fromarray(img).save(tmp_path / "in.png")
    # A text-to-video Wan model refuses image conditioning with a typed error, after reading the file.
    with pytest.raises(sora.UnsupportedError):
        pipe.generate("x", width=32, height=32, frames=5, steps=1, image=str(tmp_path / "in.png"))
    with pytest.raises(sora.MediaError):
        pipe.generate("x", width=32, height=32, frames=5, steps=1, image=str(tmp_path / "missing.png"))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        Image.fromarray(np.roll(img, i, axis=1)).save(frames / f"{i:04d}.png")
    clip = pipe.generate("x", steps=2, seed=1, video=str(frames), strength=0.5)
    assert clip.frames.shape == (5, 32, 32, 3)
    assert clip.meta["mode"] == "video"
