"""The embedded default model from Python: `sora.Pipeline()` with no folder
loads the tiny audio-video model the project trained (docs/training.md) and
generates frames with a waveform at the folder's own defaults."""

import numpy as np

import sora


def test_pipeline_without_a_folder_is_the_default_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_CACHE_DIR", str(tmp_path))
    pipe = sora.Pipeline(threads=1, watermarks="off")
    assert pipe.family == "ltx2"
    assert pipe.model.startswith(str(tmp_path))
    clip = pipe.generate("a red ball bounces on a wooden floor", frames=9, steps=2, seed=3)
    assert clip.frames.shape == (9, 64, 64, 3)
    assert clip.audio is not None and clip.audio.shape[0] == 2
    assert clip.sample_rate == 16000
    assert abs(clip.audio.shape[1] / clip.sample_rate - 9 / 12) < 0.1
    assert np.isfinite(clip.audio).all()
    # The estimate takes no folder either.
    assert sora.estimate(frames=9, steps=2)["total_mb"] > 0


def test_default_model_long_form_with_timed_prompts(tmp_path, monkeypatch):
    """Longer than the folder's window (25 frames): a chain of windows, each
    holding the previous window's picture and sound latents, the prompt
    changing at its time; one track as long as the picture."""
    monkeypatch.setenv("SORA_CACHE_DIR", str(tmp_path))
    pipe = sora.Pipeline(threads=1, watermarks="off")
    clip = pipe.generate(
        "a red ball bounces on a wooden floor",
        frames=49,
        steps=2,
        seed=3,
        prompts_at={2.0: "a blue box falls on a metal floor"},
    )
    assert clip.frames.shape == (49, 64, 64, 3)
    long_form = clip.meta["long_form"]
    assert long_form["windows"] >= 2
    assert long_form["prompts"][0] == "a red ball bounces on a wooden floor"
    assert long_form["prompts"][-1] == "a blue box falls on a metal floor"
    assert abs(clip.audio.shape[1] / clip.sample_rate - 49 / 12) < 0.05
    assert np.isfinite(clip.audio).all()
