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
