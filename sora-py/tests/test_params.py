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
