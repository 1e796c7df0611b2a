"""Pipeline options (speed and memory features) through the Python front door:
each keyword reaches the core, bad values are typed errors."""

import numpy as np
import pytest

import sora
from conftest import SMALL


def test_batch_guidance_off_gives_the_same_frames(pipe, wan_model):
    sequential = sora.Pipeline(wan_model, batch_guidance=False)
    a = pipe.generate("a kite over a beach", **SMALL).frames.astype(int)
    b = sequential.generate("a kite over a beach", **SMALL).frames.astype(int)
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= 1


def test_options_are_keyword_only(wan_model):
    with pytest.raises(TypeError):
        sora.Pipeline(wan_model, "cpu", "float32", None, False)
