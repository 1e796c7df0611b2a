"""Pipeline options (speed and memory features) through the Python front door:
each keyword reaches the core, bad values are typed errors."""

import numpy as np
import pytest

import sora
from conftest import SMALL


def test_batch_guidance_off_gives_the_same_frames(wan_model):
    # The raw model output (marks off: a one-level difference can move a
    # watermark cell to the other side of its quantiser).
    batched = sora.Pipeline(wan_model, watermarks="off")
    sequential = sora.Pipeline(wan_model, batch_guidance=False, watermarks="off")
    a = batched.generate("a kite over a beach", **SMALL).frames.astype(int)
    b = sequential.generate("a kite over a beach", **SMALL).frames.astype(int)
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= 1


def test_options_are_keyword_only(wan_model):
    with pytest.raises(TypeError):
        sora.Pipeline(wan_model, "cpu", "float32", None, False)


def test_step_cache_reaches_the_core(pipe, wan_model):
    cached = sora.Pipeline(wan_model, step_cache=0.0)
    a = pipe.generate("a kite over a beach", **SMALL)
    b = cached.generate("a kite over a beach", **SMALL)
    assert a.meta["step_cache"] is None
    sc = b.meta["step_cache"]
    assert sc["threshold"] == 0.0 and sc["computed"] > 0 and sc["reused"] == 0
    # Threshold 0 computes every step: the same frames.
    assert np.array_equal(a.frames, b.frames)


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf")])
def test_bad_step_cache_is_an_invalid_request(wan_model, bad):
    with pytest.raises(sora.InvalidRequestError):
        sora.Pipeline(wan_model, step_cache=bad)


def test_memory_budget_refuses_before_work(wan_model):
    tiny = sora.Pipeline(wan_model, memory_budget_mb=1)
    with pytest.raises(sora.DeviceError, match="out of memory"):
        tiny.generate("a kite over a beach", **SMALL)


def test_offloaded_text_encoder_gives_the_same_frames(pipe, wan_model):
    off = sora.Pipeline(wan_model, offload_text_encoder=True)
    a = pipe.generate("a kite over a beach", **SMALL)
    b = off.generate("a kite over a beach", **SMALL)
    c = off.generate("a kite over a beach", **SMALL)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(b.frames, c.frames)
    assert c.meta["text_embeddings_cached"] is True


def test_vae_tiling_reaches_the_core(pipe, wan_model):
    a = pipe.generate("a kite over a beach", **SMALL)
    # 32x32 fits in one default tile: decoded untiled, the same frames.
    b = sora.Pipeline(wan_model, vae_tiling=True).generate("a kite over a beach", **SMALL)
    assert np.array_equal(a.frames, b.frames)
    # The clip's metadata records the settings.
    assert b.meta["vae_tiling"] == [256, 256, 192, 192] and a.meta["vae_tiling"] is None
    assert a.meta["offload"] == "none"
    c = sora.Pipeline(wan_model, vae_tiling=(16, 16, 8, 8)).generate("a kite over a beach", **SMALL)
    assert c.frames.shape == a.frames.shape


@pytest.mark.parametrize("bad", [(12, 16, 8, 8), (16, 16, 24, 8)])
def test_bad_vae_tiling_is_an_invalid_request(wan_model, bad):
    with pytest.raises(sora.InvalidRequestError):
        sora.Pipeline(wan_model, vae_tiling=bad)


def test_vae_tiling_type_error(wan_model):
    with pytest.raises(TypeError):
        sora.Pipeline(wan_model, vae_tiling="yes")


def test_offload_is_refused_on_the_cpu(wan_model):
    # Offload copies weights from host memory to a GPU; on the CPU it is refused.
    for mode in ("model", "sequential"):
        with pytest.raises(sora.UnsupportedError, match="host memory"):
            sora.Pipeline(wan_model, offload=mode)
    with pytest.raises(sora.InvalidRequestError, match="none, model or sequential"):
        sora.Pipeline(wan_model, offload="disk")
    # "none" is the default and loads.
    assert sora.Pipeline(wan_model, offload="none").family == "wan"


def test_estimates_before_and_after_loading(pipe, wan_model):
    before = sora.estimate(wan_model, width=64, height=48, frames=9)
    assert before["peak_phase"] and before["total_mb"] > 0
    assert [p["name"] for p in before["phases"]][0] == "load"
    loaded = pipe.estimate(width=64, height=48, frames=9)
    assert "load" not in [p["name"] for p in loaded["phases"]]
    assert 0 < loaded["total_mb"] <= before["total_mb"]
    # For a GPU, each offload mode needs less on the device.
    gpu = {m: sora.estimate(wan_model, "cuda", offload=m, width=64, height=48, frames=9)["total_mb"]
           for m in ("none", "model", "sequential")}
    assert gpu["sequential"] <= gpu["model"] < gpu["none"], gpu
    # Sizes the model cannot take are refused, naming what would work.
    with pytest.raises(sora.InvalidRequestError):
        sora.estimate(wan_model, width=30)
    with pytest.raises(sora.InvalidRequestError):
        pipe.estimate(width=30)
    with pytest.raises(sora.WeightsError):
        sora.estimate("/nonexistent/model")


@pytest.mark.parametrize("bad", [-5, 1.5, "10", True])
def test_bad_memory_budget_is_an_invalid_request(wan_model, bad):
    with pytest.raises(sora.InvalidRequestError, match="memory_budget_mb"):
        sora.Pipeline(wan_model, memory_budget_mb=bad)


def test_vae_frame_tiling_is_for_ltx2(wan_model):
    # Wan's VAE decodes frame by frame already: refused by name.
    with pytest.raises(sora.InvalidRequestError, match="vae_frame_tiling is for LTX-2"):
        sora.Pipeline(wan_model, vae_frame_tiling=True)
    with pytest.raises(TypeError):
        sora.Pipeline(wan_model, vae_frame_tiling="yes")
