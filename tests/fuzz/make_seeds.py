"""Writes the fuzz harness's seed corpora into tests/fuzz/corpus/<target>/.

Run once by hand (the output is committed; CI never runs this):

    .venv/bin/python tests/fuzz/make_seeds.py

Needs the tiny Wan fixture (tests/fixtures/build_all.py wan_pipeline) for the
config, manifest and tokenizer seeds, and a built `target/debug/sora` for the
MP4 seeds (sora's own writer). Seeds are kept small: mutations then hit headers
and structure rather than bulk data. Inputs of fixed crashes are added by hand
(named crash-*), never by this script.
"""
import io
import json
import pathlib
import shutil
import struct
import subprocess
import tempfile
import wave

import numpy as np
from PIL import Image
from safetensors.numpy import save

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
MODEL = ROOT / "target" / "fixtures" / "wan_pipeline" / "t2v_21" / "model"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def safetensors_seeds():
    put("safetensors", "seed-f32", save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}))
    put(
        "safetensors",
        "seed-mixed",
        save(
            {
                "a": np.ones((2, 2), dtype=np.float16),
                "b": np.arange(3, dtype=np.int64),
                "c": np.zeros((1,), dtype=np.uint8),
            },
            metadata={"format": "pt"},
        ),
    )
    idx = {
        "metadata": {"total_size": 16},
        "weight_map": {"x": "a.safetensors", "y": "b.safetensors"},
    }
    put("safetensors_index", "seed-two-shards", json.dumps(idx, indent=2).encode())


def config_seeds():
    put("model_index", "seed-t2v", (MODEL / "model_index.json").read_bytes())
    put("config_transformer", "seed-t2v", (MODEL / "transformer" / "config.json").read_bytes())
    put("config_vae", "seed-t2v", (MODEL / "vae" / "config.json").read_bytes())
    put("config_text_encoder", "seed-t2v", (MODEL / "text_encoder" / "config.json").read_bytes())
    put(
        "config_scheduler",
        "seed-t2v",
        (MODEL / "scheduler" / "scheduler_config.json").read_bytes(),
    )
    put("tokenizer", "seed-t2v", (MODEL / "tokenizer" / "tokenizer.json").read_bytes())


def wav_seeds():
    t = np.linspace(0, 1, 64)
    for name, width, data in [
        ("seed-pcm16-mono", 2, (np.sin(t * 40) * 20000).astype("<i2").tobytes()),
        ("seed-pcm8-stereo", 1, (np.repeat(np.sin(t * 40), 2) * 100 + 128).astype("u1").tobytes()),
    ]:
        b = io.BytesIO()
        with wave.open(b, "wb") as w:
            w.setnchannels(1 if "mono" in name else 2)
            w.setsampwidth(width)
            w.setframerate(16000)
            w.writeframes(data)
        put("wav", name, b.getvalue())
    # IEEE float, stereo, written by hand (the wave module writes PCM only).
    samples = np.stack([np.sin(t * 40), np.cos(t * 40)], 1).astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 2, 16000, 16000 * 8, 8, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    put("wav", "seed-f32-stereo", b"RIFF" + struct.pack("<I", len(body)) + body)


def image_seeds():
    rgb = Image.fromarray((np.arange(8 * 8 * 3) % 251).astype("u1").reshape(8, 8, 3))
    for name, img, fmt, kw in [
        ("seed-rgb.png", rgb, "PNG", {}),
        ("seed-grey.png", rgb.convert("L"), "PNG", {}),
        ("seed-rgba.png", rgb.convert("RGBA"), "PNG", {}),
        ("seed-palette.png", rgb.convert("P"), "PNG", {}),
        ("seed-16bit.png", Image.fromarray(np.arange(16, dtype="u2").reshape(4, 4) * 4000), "PNG", {}),
        ("seed-baseline.jpg", rgb, "JPEG", {"quality": 80}),
        ("seed-progressive.jpg", rgb, "JPEG", {"quality": 80, "progressive": True}),
        ("seed-grey.jpg", rgb.convert("L"), "JPEG", {}),
    ]:
        b = io.BytesIO()
        img.save(b, fmt, **kw)
        put("image", name, b.getvalue())


def mp4_seeds():
    sora = ROOT / "target" / "debug" / "sora"
    if not sora.exists():
        raise SystemExit(f"{sora} missing: build it (cargo build -p sora-cli) for the MP4 seeds")
    with tempfile.TemporaryDirectory() as d:
        for name, frames in [("seed-5-frames.mp4", "5"), ("seed-1-frame.mp4", "1")]:
            out = pathlib.Path(d) / name
            subprocess.run(
                [str(sora), "generate", "--model", str(MODEL), "--prompt", "seed",
                 "--width", "16", "--height", "16", "--frames", frames, "--steps", "1",
                 "--out", str(out), "--quiet"],
                check=True,
            )
            put("mp4", name, out.read_bytes())


if __name__ == "__main__":
    safetensors_seeds()
    config_seeds()
    wav_seeds()
    image_seeds()
    mp4_seeds()
    for d in sorted(CORPUS.iterdir()):
        print(d.name, sorted(p.name for p in d.iterdir()))
