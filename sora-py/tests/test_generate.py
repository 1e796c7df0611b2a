"""Generation on the tiny random Wan 2.1 pipeline: shapes, determinism, progress,
cancellation, Ctrl-C, the GIL, bad values, saving. Skipped when the fixture is
missing (see conftest.py)."""

import math
import os
import signal
import threading
import time

import numpy as np
import pytest

import sora
from conftest import FAMILY, SMALL


def test_pipeline_properties(pipe, wan_model):
    assert pipe.family == FAMILY
    assert pipe.device == "cpu"
    assert pipe.dtype == "float32"
    assert pipe.model == str(wan_model)
    d = pipe.defaults
    assert {"width", "height", "frames", "fps", "steps", "guidance", "negative_prompt"} <= set(d)
    assert FAMILY in repr(pipe)


def test_generate_shapes_and_meta(pipe):
    clip = pipe.generate("a red fox runs through fresh snow", **SMALL)
    assert isinstance(clip, sora.Clip)
    f = clip.frames
    assert f.shape == (5, 32, 32, 3)
    assert f.dtype == np.uint8
    assert not f.flags.writeable  # copy to edit
    assert clip.audio is None
    assert clip.sample_rate == 0
    assert clip.fps > 0
    m = clip.meta
    assert m["seed"] == 7 and m["steps"] == 2
    assert m["width"] == 32 and m["height"] == 32 and m["frames"] == 5
    assert m["prompt"] == "a red fox runs through fresh snow"
    assert m["family"] == FAMILY and m["mode"] == "text"
    assert m["sora_version"] == sora.__version__
    assert isinstance(m["timings"], dict)
    m["seed"] = -1  # a fresh dict each time
    assert clip.meta["seed"] == 7
    assert "Clip" in repr(clip)


def test_same_seed_gives_identical_frames(pipe):
    a = pipe.generate("waves on a rocky shore", **SMALL).frames
    b = pipe.generate("waves on a rocky shore", **SMALL).frames
    assert np.array_equal(a, b)
    c = pipe.generate("waves on a rocky shore", **dict(SMALL, seed=8)).frames
    assert not np.array_equal(a, c)


def test_numpy_integers_are_accepted(pipe):
    clip = pipe.generate("x", **{k: np.int64(v) for k, v in SMALL.items()})
    assert clip.frames.shape == (5, 32, 32, 3)


def test_on_step_is_called_once_per_step(pipe):
    calls = []

    def on_step(step, total, elapsed_s, eta_s):
        calls.append((step, total, elapsed_s, eta_s))

    pipe.generate("a cat sleeps", **dict(SMALL, steps=3), on_step=on_step)
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    for _, _, elapsed, eta in calls:
        assert isinstance(elapsed, float) and elapsed >= 0
        assert isinstance(eta, float) and eta >= 0
    assert calls[-1][3] == 0.0


def test_on_step_returning_false_cancels(pipe):
    calls = []

    def on_step(step, total, elapsed_s, eta_s):
        calls.append(step)
        return False

    with pytest.raises(sora.CancelledError):
        pipe.generate("a cat sleeps", **dict(SMALL, steps=3), on_step=on_step)
    assert calls == [1]
    # The pipeline is usable after a cancelled run.
    assert pipe.generate("a cat sleeps", **SMALL).frames.shape[0] == 5


def test_on_step_returning_true_continues(pipe):
    n = []
    pipe.generate("x", **SMALL, on_step=lambda *a: n.append(a) or True)
    assert len(n) == SMALL["steps"]


def test_an_exception_in_on_step_propagates(pipe):
    def on_step(step, total, elapsed_s, eta_s):
        raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        pipe.generate("x", **SMALL, on_step=on_step)


def test_on_step_must_be_callable(pipe):
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate("x", **SMALL, on_step=42)


def test_generate_from_its_own_on_step_is_refused(pipe):
    def on_step(*a):
        pipe.generate("y", **SMALL)

    with pytest.raises(sora.InvalidRequestError, match="on_step"):
        pipe.generate("x", **SMALL, on_step=on_step)


def test_cancel_from_another_thread(pipe):
    seen = []

    def on_step(step, total, elapsed_s, eta_s):
        seen.append(step)
        if step == 1:
            t = threading.Thread(target=pipe.cancel)
            t.start()
            t.join()

    with pytest.raises(sora.CancelledError):
        pipe.generate("x", **dict(SMALL, steps=4), on_step=on_step)
    assert seen == [1]
    # cancel() affects only runs in progress.
    pipe.cancel()
    assert pipe.generate("x", **SMALL).frames.shape[0] == 5


def test_ctrl_c_raises_keyboard_interrupt(pipe):
    """SIGINT while the native loop runs (GIL released) stops it at the next step."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are handled on the main thread only")
    steps = 40
    seen = []

    def on_step(step, total, elapsed_s, eta_s):
        seen.append(step)
        if step == 1:
            # Delivered while the next step runs in Rust: picked up by the
            # signal check at the following step.
            signal.setitimer(signal.ITIMER_REAL, 0.001)

    old = signal.signal(signal.SIGALRM, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            pipe.generate("x", **dict(SMALL, steps=steps), on_step=on_step)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert 1 <= len(seen) < steps
    assert pipe.generate("x", **SMALL).frames.shape[0] == 5


def test_the_gil_is_released_while_generating(pipe):
    """Another Python thread keeps running while the engine computes in Rust.

    If the GIL were held through `generate`, the other thread could run at most
    one switch interval (5 ms) after the call began; it must run well after that.
    """
    import time

    seen = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            seen.append(time.perf_counter())
            if len(seen) > 2_000_000:
                del seen[:1_000_000]

    t = threading.Thread(target=spin)
    t.start()
    try:
        t0 = time.perf_counter()
        pipe.generate("x", **dict(SMALL, width=64, height=64, frames=9, steps=4))
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    margin = 0.02
    assert t1 - t0 > 2 * margin, f"generate took only {t1 - t0:.3f}s; the test needs a longer run"
    inside = [x for x in seen if t0 + margin < x < t1]
    assert inside, "no other Python thread ran while generating: the GIL is held"


def test_two_threads_share_one_pipeline(pipe):
    out = [None, None]

    def run(i):
        out[i] = pipe.generate("x", **SMALL).frames

    ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize(
    "bad",
    [
        dict(steps=0),
        dict(steps=-2),
        dict(guidance=math.nan),
        dict(guidance=math.inf),
        dict(guidance=-1.0),
        dict(width=-1),
        dict(width=0),
        dict(height=-32),
        dict(frames=0),
        dict(fps=0),
        dict(frames=None, seconds=-1.0),
        dict(seed=-1),
        dict(seed=2**64),
        dict(width="32"),
        dict(steps=2.5),
        dict(steps=True),
        dict(negative_prompt=3),
        dict(strength=0.5),  # strength without a video
        dict(image=np.zeros((32, 32, 3), np.float32)),  # wrong dtype
        dict(image=np.zeros((32, 32, 4), np.uint8)),  # wrong shape
        dict(image=np.zeros((32, 32), np.uint8)),
        dict(image=np.zeros((1, 32, 32, 3), np.uint8)),
        dict(image=[[1, 2, 3]]),
        dict(image=12),
        dict(video=np.zeros((5, 32, 32, 3), np.int16)),
        dict(video=np.zeros((32, 32, 3), np.uint8)),
        dict(video=np.zeros((0, 32, 32, 3), np.uint8)),
        dict(video=np.zeros((5, 32, 32, 3), np.uint8), strength=0.0),
        dict(video=np.zeros((5, 32, 32, 3), np.uint8), strength=math.nan),
        dict(image=np.zeros((32, 32, 3), np.uint8), video=np.zeros((5, 32, 32, 3), np.uint8)),
    ],
    ids=repr,
)
def test_bad_values_are_invalid_requests(pipe, bad):
    args = dict(SMALL)
    args.update(bad)
    with pytest.raises(sora.InvalidRequestError) as e:
        pipe.generate("x", **args)
    assert isinstance(e.value, ValueError)
    assert isinstance(e.value, sora.SoraError)


def test_prompt_must_be_text(pipe):
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate(None, **SMALL)
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate("a\0b", **SMALL)


def test_save_mp4(pipe, tmp_path):
    clip = pipe.generate("a red fox", **SMALL)
    out = tmp_path / "out.mp4"
    clip.save(out)
    assert out.is_file() and out.stat().st_size > 0
    clip.save(str(tmp_path / "again.mp4"))
    assert (tmp_path / "again.mp4").is_file()


def test_save_to_a_bad_path_is_a_typed_error(pipe, tmp_path):
    clip = pipe.generate("x", **SMALL)
    with pytest.raises(sora.SoraError):
        clip.save(tmp_path / "no" / "such" / "dir" / "x.unknownext")
    with pytest.raises(sora.InvalidRequestError):
        clip.save(42)


def test_generate_to_file_writes_the_same_frames(pipe, tmp_path):
    """Streaming into a PNG folder gives the frames `generate` returns; the MP4
    is written whole; the metadata comes back as a dict."""
    clip = pipe.generate("a red fox", **SMALL)
    steps = []
    meta = pipe.generate_to_file(tmp_path / "frames", "a red fox", on_step=lambda s, t, e, r: steps.append(s), **SMALL)
    assert steps == [1, 2]
    assert meta["seed"] == 7 and meta["frames"] == 5 and meta["timings"]["total_s"] > 0
    from PIL import Image

    pngs = sorted((tmp_path / "frames").glob("*.png"))
    assert len(pngs) == 5
    got = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in pngs])
    assert np.array_equal(got, clip.frames)
    out = tmp_path / "clip.mp4"
    assert pipe.generate_to_file(str(out), "a red fox", **SMALL)["steps"] == 2
    assert out.is_file() and out.stat().st_size > 1000


def test_generate_to_file_failures_leave_nothing(pipe, tmp_path):
    with pytest.raises(sora.SoraError):
        pipe.generate_to_file(tmp_path / "no" / "such" / "dir" / "x.mp4", "a fox", **SMALL)
    out = tmp_path / "cancelled.mp4"
    with pytest.raises(sora.CancelledError):
        pipe.generate_to_file(out, "a fox", on_step=lambda *a: False, **SMALL)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate_to_file(42, "a fox", **SMALL)
    with pytest.raises(sora.InvalidRequestError):
        pipe.generate_to_file(tmp_path / "x.mp4", "a fox", steps=-1)


def test_generate_to_file_never_replaces_a_users_file(pipe, tmp_path):
    """An existing file sora did not write is refused before any work;
    `overwrite=True` replaces it; sora's own output is replaced freely."""
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"my holiday video")
    steps = []
    with pytest.raises(sora.InvalidRequestError, match="not written by sora"):
        pipe.generate_to_file(mine, "a fox", on_step=lambda s, *a: steps.append(s), **SMALL)
    assert steps == [] and mine.read_bytes() == b"my holiday video"
    pipe.generate_to_file(mine, "a fox", overwrite=True, **SMALL)
    assert mine.stat().st_size > 1000
    pipe.generate_to_file(mine, "a fox", **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.mp4"]
