"""sora.ray on a local Ray cluster started here (2 CPUs, the tiny Wan model):
requests checked and named, clips equal to the CLI's byte for byte, a worker
killed mid-request replaced and its request retried (or reported failed once
the retries are spent), a re-run skipping what is complete, and the
`python -m sora.ray` command. Skipped only when Ray is not installed."""

import fcntl
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import sora
from conftest import REQUIRE, ROOT

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'sora[ray]'): sora.ray needs it")

import sora.ray  # noqa: E402  (after the skip: sora.ray imports Ray only when a job runs)
from sora.ray import request as rq  # noqa: E402

CLI = ROOT / "target" / "debug" / "sora"
# Long enough (hundreds of ms with the tiny model) that a kill lands mid-request.
SLOW = dict(width=32, height=32, frames=5, steps=400)
QUICK = dict(width=32, height=32, frames=5, steps=2)
CPU_POOL = dict(gpus_per_worker=0, threads=1, progress=False)


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs for this module; its address."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network from tests
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _cli() -> pathlib.Path:
    if not CLI.is_file():
        if REQUIRE:
            pytest.fail(f"{CLI} is missing: cargo build -p sora-cli")
        pytest.skip(f"{CLI} is missing (built by cargo test / cargo build -p sora-cli)")
    return CLI


def _hidden(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_the_plain_progress_bar(monkeypatch):
    import io

    from sora.ray.progress import Progress

    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    stream = io.StringIO()
    bar = Progress(3, stream=stream)
    bar.advance("done")
    bar.replaced()
    bar.advance("failed")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sora.ray: 1/3 clips") and "done 1" in lines[0]
    assert lines[-1].startswith("sora.ray: 2/3 clips") and lines[-1].endswith("done 1, failed 1, replaced 1")
    assert bar.counts == {"done": 1, "skipped": 0, "failed": 1, "replaced": 1}


def test_requests_are_checked_and_named(tmp_path):
    # A clip's metadata (as `sora generate --json` prints it) is a request: the
    # record-only fields are ignored, null is unset.
    meta = {"model": "m", "family": "wan", "mode": "text", "prompt": "a fox", "negative_prompt": "", "seed": 7,
            "steps": 2, "guidance": 5.0, "guidance_2": None, "width": 32, "height": 32, "frames": 5, "fps": 16,
            "device": "cpu", "dtype": "float32", "timings": {"load_s": 1.0}, "step_cache": None}
    kw = rq.check_request(meta)
    assert kw == {"prompt": "a fox", "negative_prompt": "", "seed": 7, "steps": 2, "guidance": 5.0,
                  "width": 32, "height": 32, "frames": 5, "fps": 16}
    img = rq.check_request({"prompt": "x", "image": "in.png"}, base_dir=tmp_path)
    assert img["image"] == str(tmp_path / "in.png")
    shaped = rq.check_request({"prompt": "x", "aspect": "9:16", "resolution": "480p", "fit": "crop"})
    assert shaped == {"prompt": "x", "aspect": "9:16", "resolution": "480p", "fit": "crop"}
    bad = [
        ({"prompt": "x", "sed": 1}, "unknown field(s) sed"),
        ({"seed": 1}, "`prompt`"),
        ({"prompt": "x", "width": True}, "`width` must be an integer"),
        ({"prompt": "x", "frames": 5.5}, "`frames` must be an integer"),
        ({"prompt": "x", "seed": -1}, "must not be negative"),
        ({"prompt": "x", "guidance": "high"}, "`guidance` must be a finite number"),
        ({"prompt": "x", "mode": "image"}, "needs an `image` path"),
        ({"prompt": "x", "strength": 0.5}, "`strength` applies to `video`"),
        ({"prompt": "x", "aspect": 1.5}, "`aspect` must be text"),
        ({"prompt": "x", "image": "a.png", "video": "b.mp4"}, "not image and video"),
        (["x"], "JSON object"),
    ]
    for request, message in bad:
        with pytest.raises(sora.InvalidRequestError) as e:
            rq.check_request(request, where="line 9: ")
        assert str(e.value).startswith("line 9: ") and message in str(e.value), str(e.value)
    # Extension: a clip path and the seconds to add; the mode agrees.
    ext = rq.check_request({"prompt": "x", "extend": "first.mp4", "seconds": 2, "mode": "extend"},
                           base_dir=str(tmp_path))
    assert ext["extend"] == str(tmp_path / "first.mp4") and ext["seconds"] == 2.0
    for request, message in [
        ({"prompt": "x", "mode": "extend"}, "needs an `extend` path"),
        ({"prompt": "x", "extend": "a.mp4"}, "`extend` needs `seconds`"),
        ({"prompt": "x", "extend": "a.mp4", "video": "b.mp4", "seconds": 1}, "not video and extend"),
    ]:
        with pytest.raises(sora.InvalidRequestError) as e:
            rq.check_request(request)
        assert message in str(e.value), str(e.value)
    # Timed prompts: an object or [seconds, text] pairs, sorted; a long-form
    # clip's metadata sent again brings its own (and its window settings).
    a = rq.check_request({"prompt": "x", "prompts_at": {"4": "b", "0": "a"}, "window_frames": 33})
    assert a["prompts_at"] == [[0.0, "a"], [4.0, "b"]] and a["window_frames"] == 33
    meta = {"prompt": "x", "seconds": 8, "long_form": {"windows": 3, "window_frames": 33, "window_overlap": 2,
                                                        "prompts": ["a", "a", "b"],
                                                        "prompts_at": [[4.0, "b"], [0.0, "a"]]}}
    b = rq.check_request(meta)
    assert b["prompts_at"] == a["prompts_at"] and (b["window_frames"], b["window_overlap"]) == (33, 2)
    for bad_timed, message in [("soon", "object or a list"), ([[1, 2]], "prompts must be text"),
                               ({"-1": "x"}, ">= 0"), ([[1, "a", 2]], "pairs")]:
        with pytest.raises(sora.InvalidRequestError) as e:
            rq.check_request({"prompt": "x", "prompts_at": bad_timed})
        assert message in str(e.value), str(e.value)
    # Names: deterministic, readable, different for another format or pipeline setting.
    ident = {"model": "m", "device": "cpu", "dtype": "float32"}
    name = rq.clip_name(kw, "mp4", ident)
    assert name == rq.clip_name(dict(reversed(list(kw.items()))), "mp4", ident)
    assert name.startswith("a-fox-") and len(name) == len("a-fox-") + 12
    assert name != rq.clip_name(kw, "png", ident)
    assert name != rq.clip_name(kw, "mp4", dict(ident, dtype="bfloat16"))
    assert name != rq.clip_name(dict(kw, seed=8), "mp4", ident)
    # JSON Lines: blank and # lines skipped, a bad line named.
    f = tmp_path / "r.jsonl"
    f.write_text('# jobs\n{"prompt": "a"}\n\n{"prompt": "b", "seed": 2}\n')
    assert rq.read_requests(f) == [(2, {"prompt": "a"}), (4, {"prompt": "b", "seed": 2})]
    f.write_text('{"prompt": "a"}\n{"prompt": \n')
    with pytest.raises(sora.InvalidRequestError, match="line 2: not JSON"):
        rq.read_requests(f)


def test_output_folder_rules(tmp_path):
    from sora.ray import output

    kw = {"prompt": "x", "seed": 1}
    # A clip counts as complete only with its metadata, recording the same request.
    (tmp_path / "c.mp4").write_bytes(b"mp4")
    assert output.read_complete(str(tmp_path), "c", "mp4", kw) is None
    output.write_meta(str(tmp_path), "c", {"frames": 2, "request": dict(kw, seed=2)})
    assert output.read_complete(str(tmp_path), "c", "mp4", kw) is None
    output.write_meta(str(tmp_path), "c", {"frames": 2, "request": kw})
    assert output.read_complete(str(tmp_path), "c", "mp4", kw) == {"frames": 2, "request": kw}
    (tmp_path / "c.mp4").unlink()
    assert output.read_complete(str(tmp_path), "c", "mp4", kw) is None
    # A frame folder needs every frame.
    output.write_meta(str(tmp_path), "f", {"frames": 2, "request": kw})
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "0000.png").write_bytes(b"png")
    assert output.read_complete(str(tmp_path), "f", "png", kw) is None
    (tmp_path / "f" / "0001.png").write_bytes(b"png")
    assert output.read_complete(str(tmp_path), "f", "png", kw) is not None
    # What a dead worker (pid 41) staged is removed; another process's is not.
    (tmp_path / ".c.mp4.sora-41-0.tmp").write_bytes(b"half")
    (tmp_path / ".f.sora-41-3.tmp").mkdir()
    (tmp_path / ".c.json.ray-41-0.tmp").write_text("{")
    (tmp_path / ".c.mp4.sora-42-0.tmp").write_bytes(b"live")
    assert len(output.remove_stale(str(tmp_path), "c", "mp4", [41])) == 2
    assert len(output.remove_stale(str(tmp_path), "f", "png", [41])) == 1
    assert _hidden(tmp_path) == [".c.mp4.sora-42-0.tmp"]

    # The engine's advisory lock goes when it names the dead worker and no one
    # holds it; a lock naming another process, or held by a live one, stays.
    (tmp_path / ".d.mp4.sora.lock").write_text("41")
    (tmp_path / ".e.mp4.sora.lock").write_text("42")
    held = tmp_path / ".g.mp4.sora.lock"
    held.write_text("41")
    with open(held, "r+") as h:
        fcntl.flock(h.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert output.remove_stale(str(tmp_path), "d", "mp4", [41]) == [
            str(tmp_path / ".d.mp4.sora.lock")
        ]
        assert output.remove_stale(str(tmp_path), "e", "mp4", [41]) == []
        assert output.remove_stale(str(tmp_path), "g", "mp4", [41]) == []
    assert _hidden(tmp_path) == [".c.mp4.sora-42-0.tmp", ".e.mp4.sora.lock", ".g.mp4.sora.lock"]


def test_ray_clip_equals_the_cli_byte_for_byte(cluster, wan_model, tmp_path):
    cli = _cli()
    ref = tmp_path / "cli.mp4"
    # Content credentials off on both sides: a signed file differs from run to
    # run inside its manifest (a per-process identity, randomly salted hashes).
    args = ["--width", "32", "--height", "32", "--frames", "5", "--steps", "2", "--seed", "11",
            "--credentials", "off"]
    run = subprocess.run(
        [cli, "generate", "--model", wan_model, "--prompt", "a paper boat on a pond", "--out", ref, "--json",
         "--quiet", "--threads", "1", *args],
        check=True, capture_output=True, text=True,
    )
    cli_meta = json.loads(run.stdout)
    out = tmp_path / "out"
    # The CLI's metadata, as it printed it, is the request; a slower request before
    # it on the other worker finishes later and still comes back first. The same
    # request 100 times more is made once, and the requests (a generator) are read
    # only as far as the window of results held for ordering (64) ahead of the
    # results handed back.
    slow = dict(cli_meta, seed=12, steps=400)
    read = []

    def requests():
        yield slow
        for i in range(101):
            read.append(i)
            yield cli_meta

    results = []
    for r in sora.ray.iter_many(wan_model, requests(), out_dir=out, num_workers=2, credentials="off", **CPU_POOL):
        if not results:
            assert 1 + len(read) == 64
        results.append(r)
    assert [r.status for r in results] == ["done", "done"] + ["skipped"] * 100, [r.error for r in results]
    assert results[0].request is slow and all(r.request is cli_meta for r in results[1:])
    assert [r.index for r in results] == list(range(102))
    assert results[0].worker["pid"] != results[1].worker["pid"]
    first = pathlib.Path(results[1].path)
    assert first.parent == out and first.suffix == ".mp4"
    assert first.read_bytes() == ref.read_bytes()
    assert pathlib.Path(results[0].path).read_bytes() != ref.read_bytes()
    side = json.loads(first.with_suffix(".json").read_text())
    assert side["request"] == rq.check_request(cli_meta)
    for key in ("prompt", "seed", "steps", "width", "height", "frames", "fps", "mode", "family"):
        assert side[key] == cli_meta[key], key
    assert results[1].meta == side
    assert _hidden(out) == []
    # A folder the workers cannot load stops the job before any clip, with the engine's error.
    with pytest.raises(sora.WeightsError):
        sora.ray.generate_many(tmp_path / "no-model", [cli_meta], out_dir=tmp_path / "none", num_workers=1,
                               **CPU_POOL)
    assert list((tmp_path / "none").iterdir()) == []
    # GPU workers on a cluster without GPUs, a device of one's own, a share of several GPUs: refused up front.
    with pytest.raises(sora.DeviceError, match="0 GPUs"):
        sora.ray.generate_many(wan_model, [dict(cli_meta, seed=99)], out_dir=tmp_path / "none", progress=False)
    with pytest.raises(sora.InvalidRequestError, match="chooses the device"):
        sora.ray.generate_many(wan_model, [cli_meta], out_dir=out, device="cpu", **CPU_POOL)
    with pytest.raises(sora.InvalidRequestError, match="gpus_per_worker"):
        sora.ray.generate_many(wan_model, [cli_meta], out_dir=out, gpus_per_worker=2)


def _same_frames(a: pathlib.Path, b: pathlib.Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def test_a_killed_worker_is_replaced_and_a_rerun_skips_complete_clips(cluster, wan_model, pipe, tmp_path):
    out = tmp_path / "out"
    reqs = [dict(SLOW, prompt=f"a lantern swings in the wind {i}", seed=i) for i in range(6)]

    def run_killing_after_first_done(requests, **kw):
        results = []
        killed = None
        for r in sora.ray.iter_many(wan_model, requests, out_dir=out, num_workers=1, format="png", **CPU_POOL, **kw):
            results.append(r)
            if killed is None and r.status == "done":
                # The worker goes on to the next request: once it has staged that
                # clip's frame folder, it is mid-request; kill it as the OOM killer would.
                killed = r.worker["pid"]
                deadline = time.monotonic() + 30
                while not any(f".sora-{killed}-" in n for n in _hidden(out)):
                    assert time.monotonic() < deadline, "the worker never started the next request"
                    time.sleep(0.005)
                os.kill(killed, signal.SIGKILL)
        assert killed is not None
        return results, killed

    # No retries: the request the worker was making is reported failed; the one
    # queued behind it goes to the replacement uncharged.
    first, pid = run_killing_after_first_done(reqs[:4], max_retries=0)
    assert [r.status for r in first] == ["done", "failed", "done", "done"], [r.error for r in first]
    assert first[1].error.startswith("WorkerDiedError: the worker died 1 time(s)") and first[1].attempts == 1
    assert [r.attempts for r in first] == [1, 1, 1, 1]
    assert first[2].worker["pid"] != pid
    assert not (out / first[1].name).exists() and not (out / (first[1].name + ".json")).exists()
    assert _hidden(out) == []  # the dead worker's staged folder is gone
    stamps = {r.index: os.stat(r.path).st_mtime_ns for r in first if r.ok}

    # Again, with two more requests: the complete clips are skipped untouched, the
    # failed one is made, and a kill now costs the running request one retry.
    second, _ = run_killing_after_first_done(reqs, max_retries=2)
    assert [r.status for r in second] == ["skipped", "done", "skipped", "skipped", "done", "done"], [
        r.error for r in second
    ]
    assert [r.attempts for r in second] == [0, 1, 0, 0, 2, 1]
    for i, stamp in stamps.items():
        assert os.stat(second[i].path).st_mtime_ns == stamp
        assert second[i].path == first[i].path
    assert _hidden(out) == []
    assert len([p for p in out.iterdir() if p.is_dir()]) == 6 and len(list(out.glob("*.json"))) == 6
    # The clips made after a kill (the one that failed, then made on the re-run; the
    # one retried; the one queued behind it) are the ones the same request makes in-process.
    for r in (second[1], second[4], second[5]):
        expected = tmp_path / f"expected{r.index}"
        pipe.generate_to_file(expected, **rq.check_request(r.request))
        assert _same_frames(pathlib.Path(r.path), expected), r.index


def test_python_m_sora_ray(cluster, wan_model, tmp_path):
    from PIL import Image

    cli = _cli()
    # A source clip for video-to-video, given to the requests by a relative path.
    source = tmp_path / "source"
    source.mkdir()
    for i in range(5):
        img = np.zeros((32, 32, 3), dtype=np.uint8)
        img[:, : 6 * i + 4] = 200
        Image.fromarray(img).save(source / f"{i:04d}.png")
    refs = {}
    for key, extra in (("text", ["--prompt", "a kite"]),
                       ("video", ["--prompt", "a kite at dusk", "--video", str(source), "--strength", "0.5"])):
        refs[key] = tmp_path / f"cli_{key}"
        subprocess.run(
            [cli, "generate", "--model", wan_model, "--out", refs[key], "--quiet", "--threads", "1",
             "--width", "32", "--height", "32", "--frames", "5", "--steps", "2", "--seed", "3", *extra],
            check=True,
        )
    jobs = tmp_path / "jobs.jsonl"
    lines = [
        dict(QUICK, prompt="a kite", seed=3),
        dict(QUICK, prompt="a kite", seed=3, width=33),
        dict(QUICK, seed=3, prompt="a kite"),
        dict(QUICK, prompt="a kite at dusk", seed=3, mode="video", video="source", strength=0.5),
    ]
    jobs.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sora.ray", "--model", str(wan_model), "--requests", str(jobs), "--out", str(out),
           "--workers", "1", "--gpus-per-worker", "0", "--format", "png", "--address", cluster, "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "1 of 4 request(s) failed" in run.stderr
    rows = [json.loads(x) for x in run.stdout.splitlines()]
    assert [(r["index"], r["line"], r["status"]) for r in rows] == [
        (0, 1, "done"), (1, 2, "failed"), (2, 3, "skipped"), (3, 4, "done")
    ]
    assert rows[1]["error"].startswith("InvalidRequestError:") and "33" in rows[1]["error"]
    # The same request twice is made once.
    assert rows[2]["path"] == rows[0]["path"] and rows[2]["attempts"] == 0
    for row, key in ((rows[0], "text"), (rows[3], "video")):
        assert _same_frames(pathlib.Path(row["path"]), refs[key]), key
    side = json.loads((out / (rows[3]["name"] + ".json")).read_text())
    assert side["mode"] == "video" and side["frames"] == 5 and side["request"]["video"] == str(source)
    # A bad line stops the job before it starts, naming the line; neither `import
    # sora` nor `import sora.ray` imports Ray, and a job that does not start does not.
    jobs.write_text('{"prompt": "a kite"}\n{"prompt": "a kite", "colour": "red"}\n')
    code = (
        "import sys, sora, sora.ray.cli\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
        "status = sora.ray.cli.main(sys.argv[1:])\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
        "sys.exit(status)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, *cmd[3:]], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "line 2: unknown field(s) colour" in run.stderr, run.stderr
