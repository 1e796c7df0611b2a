"""Request parameters as keyword arguments (`guidance_scale=3.5`): the core's one
parameter path (`Request::set`), the same as the explicit keywords. Skipped when
the fixture is missing (see conftest.py)."""

import numpy as np
import pytest

import sora
from conftest import SMALL


def test_guidance_scale_equals_guidance(pipe):
    by_key = pipe.generate("a kite over a beach", **SMALL, guidance_scale=3.5).frames
    by_name = pipe.generate("a kite over a beach", **SMALL, guidance=3.5).frames
    default = pipe.generate("a kite over a beach", **SMALL).frames
    assert np.array_equal(by_key, by_name)
    assert not np.array_equal(by_key, default), "guidance_scale did not reach the run"


def test_diffusers_keywords_set_the_request(pipe):
    small = {k: v for k, v in SMALL.items() if k not in ("frames", "steps")}
    meta = pipe.estimate("x", **small, num_frames=9, num_inference_steps=3, guidance_scale_2=2.0)
    assert meta["total_mb"] > 0
    clip = pipe.generate("x", **small, num_frames=9, num_inference_steps=1, frame_rate=24)
    assert clip.frames.shape[0] == 9
    assert clip.meta["steps"] == 1 and clip.meta["fps"] == 24


@pytest.mark.parametrize(
    "kw,named",
    [
        ({"no_such_key": 1}, "no_such_key"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"num_inference_steps": 2.5}, "num_inference_steps"),
        ({"guidance_scale": "lots"}, "guidance_scale"),
        ({"guidance_scale": {"a": 1}}, "guidance_scale"),
        ({"strength": 0.5}, "strength"),
    ],
)
def test_bad_keywords_raise_invalid_request(pipe, kw, named):
    for call in (pipe.generate, pipe.estimate):
        with pytest.raises(sora.InvalidRequestError, match=named):
            call("x", **SMALL, **kw)
    with pytest.raises(sora.InvalidRequestError, match=named):
        pipe.generate_to_file("/tmp/sora_params_never.mp4", "x", **SMALL, **kw)


def test_aspect_and_resolution_give_the_size(pipe):
    # Wan 2.1 sizes are multiples of 16: 9:16 at 480p is 480x848 (docs/params.md).
    est = pipe.estimate("x", aspect="9:16", resolution="480p", frames=1)
    assert (est["width"], est["height"]) == (480, 848)
    est = pipe.estimate("x", aspect="16:9", frames=1)  # the default short side, 480
    assert (est["width"], est["height"]) == (848, 480)
    clip = pipe.generate("x", aspect="1:1", resolution="480p", frames=1, steps=1, seed=1)
    assert clip.frames.shape == (1, 480, 480, 3)
    assert (clip.meta["width"], clip.meta["height"]) == (480, 480)
    for kw, named in [
        (dict(aspect="1:1", width=32), "not both"),
        (dict(aspect="3:2"), "21:9"),
        (dict(resolution="4k"), "1080p"),
        (dict(fit="stretch"), "crop or pad"),
        (dict(aspect=1.5), "aspect"),
    ]:
        with pytest.raises(sora.InvalidRequestError, match=named):
            pipe.generate("x", frames=1, steps=1, **kw)


def test_fit_crops_or_pads_a_video_of_another_shape(pipe):
    # 5 frames of 64x32 (wide) for a 32x32 request.
    ramp = np.linspace(0, 255, 64).astype(np.uint8)
    wide = np.ascontiguousarray(np.broadcast_to(ramp[None, None, :, None], (5, 32, 64, 3)))
    wide[:, :, :, 1] = np.arange(32, dtype=np.uint8)[None, :, None] * 4
    run = dict(width=32, height=32, steps=2, seed=1, strength=0.6)
    with pytest.raises(sora.InvalidRequestError, match="64x32 .*32x32.*fit"):
        pipe.generate("x", video=wide, **run)
    crop = pipe.generate("x", video=wide, fit="crop", **run).frames
    by_hand = pipe.generate("x", video=np.ascontiguousarray(wide[:, :, 16:48]), **run).frames
    assert crop.shape == (5, 32, 32, 3)
    assert np.array_equal(crop, by_hand), "crop is the centre square"
    pad = pipe.generate("x", video=wide, fit="pad", **run).frames
    canvas = np.zeros((5, 64, 64, 3), np.uint8)
    canvas[:, 16:48] = wide
    assert np.array_equal(pad, pipe.generate("x", video=canvas, **run).frames), "pad is black bars"
    assert not np.array_equal(crop, pad)


def test_extend_continues_a_clip(pipe):
    src = pipe.generate("a fox", width=32, height=32, frames=9, steps=2, seed=7)
    # 9 frames + 0.5 s at 16 fps: 8 added (conditioned on the last 9).
    out = pipe.generate("a fox", extend=src.frames, fps=16, seconds=0.5, steps=2, seed=1)
    assert out.frames.shape == (17, 32, 32, 3)
    assert np.array_equal(out.frames[:9], src.frames), "the source's frames must be unchanged"
    assert out.meta["mode"] == "extend" and out.meta["frames"] == 17 and out.meta["fps"] == 16
    for kw, named in [
        (dict(), "seconds"),
        (dict(seconds=0.5, strength=0.5), "strength"),
        (dict(seconds=0.5, video=src.frames), "one input"),
        (dict(seconds=0.5, width=64, height=64), "size"),
        (dict(seconds=0.5, extend=np.zeros((2, 2), np.uint8)), "extend"),
    ]:
        kw.setdefault("extend", src.frames)
        with pytest.raises(sora.InvalidRequestError, match=named):
            pipe.generate("a fox", steps=1, **kw)


def test_extend_our_own_mp4_keeps_its_frames_and_audio_length(pipe, tmp_path):
    av = pytest.importorskip("av")
    src = pipe.generate("a fox", width=32, height=32, frames=9, steps=2, seed=7)
    first = tmp_path / "first.mp4"
    src.save(str(first))
    out = pipe.generate("a fox", extend=str(first), seconds=1.0, steps=2, seed=3)
    # 9 frames + 1 s at 16 fps: 16 added, at the clip's rate and size.
    assert out.frames.shape == (25, 32, 32, 3) and out.meta["fps"] == 16
    diff = np.abs(out.frames[:9].astype(np.int16) - src.frames.astype(np.int16)).mean()
    # One H.264 encode of the tiny fixture's noise-like 32x32 frames costs ~5/255.
    assert diff < 8.0, f"the source's frames changed by {diff}/255"
    assert out.frames[9:].any(), "black continuation"
    longer = tmp_path / "longer.mp4"
    meta = pipe.generate_to_file(str(longer), "a fox", extend=str(first), seconds=1.0, steps=2, seed=3)
    assert meta["frames"] == 25
    with av.open(str(longer)) as f:
        frames = sum(1 for _ in f.decode(video=0))
    with av.open(str(longer)) as f:
        a = f.streams.audio[0]
        samples = sum(fr.samples for fr in f.decode(audio=0))
        secs = samples / a.rate
    assert frames == 25
    assert abs(secs - 25 / 16) <= 1024 / a.rate + 1e-6, f"audio {secs} s for {25 / 16} s of frames"


def test_timed_prompts_make_a_long_form_clip(pipe, wan_model):
    # 17 frames in windows of 9 frames overlapping by one latent frame: the
    # prompt changes from the second window on; both forms give the same clip.
    # Watermarks off for the frame comparison: the generation id they carry
    # covers the timed prompts.
    raw = sora.Pipeline(wan_model, device="cpu", dtype="float32", threads=1, watermarks="off")
    clips = [
        raw.generate(
            "a fox", width=32, height=32, frames=17, steps=1, seed=3, prompts_at=at,
            window_frames=9, window_overlap=1,
        )
        for at in ({0.5: "the fox sleeps"}, [(0.5, "the fox sleeps")])
    ]
    assert clips[0].frames.shape == (17, 32, 32, 3)
    assert (clips[0].frames == clips[1].frames).all()
    plain = raw.generate(
        "a fox", width=32, height=32, frames=17, steps=1, seed=3, window_frames=9, window_overlap=1
    )
    assert clips[0].meta["long_form"]["prompts"] == ["a fox", "the fox sleeps"]
    assert plain.frames.shape == (17, 32, 32, 3)
    # The first window's frames (latent frames 0..1: frames 0..5) are the same.
    assert (plain.frames[:5] == clips[0].frames[:5]).all()
    assert (plain.frames[5:] != clips[0].frames[5:]).any()
    with pytest.raises(sora.InvalidRequestError, match="prompts_at"):
        pipe.generate("a fox", steps=1, prompts_at=5)
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate("a fox", steps=1, prompts_at={-1.0: "x"})
