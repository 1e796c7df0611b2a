"""Attacks on watermarked media by independent tools (PyAV: FFmpeg's libx264,
swscale, swresample, AAC and Opus encoders), for the watermark robustness
tests in tests/it/watermark.rs.

    wm_attacks.py video IN.rgb T H W FPS OUTDIR
reads raw RGB uint8 [T, H, W, 3] and writes OUTDIR/<attack>.rgb with
OUTDIR/<attack>.json ({"t", "h", "w"}) for each attack: `crf28` (libx264,
CRF 28, yuv420p), `down50` (area downscale to half), `down50_crf28`,
`crop10` (90 % of each side kept, off-centre), `crop10_crf28`.

    wm_attacks.py audio IN.f32 C N RATE OUTDIR
reads raw float32 [C, N] and writes OUTDIR/<attack>.f32 with
OUTDIR/<attack>.json ({"c", "n", "rate"}): `resample44100`, `resample24000`
(swresample), `aac128k` (FFmpeg's AAC at 128 kb/s in MP4), `opus64k`
(libopus at 64 kb/s in Ogg, 48 kHz).
"""

import io
import json
import pathlib
import sys

import av
import numpy as np


def encode_h264(frames, fps, crf=28):
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=int(round(fps)))
        s.width, s.height = frames.shape[2], frames.shape[1]
        s.pix_fmt = "yuv420p"
        s.options = {"crf": str(crf), "preset": "medium"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    buf.seek(0)
    with av.open(buf, "r") as c:
        out = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    return np.stack(out)


def resize(frames, w, h):
    return np.stack([
        av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
        .reformat(width=w, height=h, interpolation="AREA").to_ndarray(format="rgb24")
        for f in frames
    ])


def crop(frames, keep=0.9):
    t, h, w, _ = frames.shape
    ch, cw = int(h * keep) // 2 * 2, int(w * keep) // 2 * 2
    y0, x0 = int(h * 0.06), int(w * 0.04)
    return np.ascontiguousarray(frames[:, y0:y0 + ch, x0:x0 + cw])


def video(args):
    src, t, h, w, fps, out = args
    t, h, w, fps = int(t), int(h), int(w), float(fps)
    frames = np.fromfile(src, dtype=np.uint8).reshape(t, h, w, 3)
    out = pathlib.Path(out)
    half = resize(frames, w // 2 // 2 * 2, h // 2 // 2 * 2)
    cropped = crop(frames)
    attacks = {
        "crf28": encode_h264(frames, fps),
        "down50": half,
        "down50_crf28": encode_h264(half, fps),
        "crop10": cropped,
        "crop10_crf28": encode_h264(cropped, fps),
    }
    for name, a in attacks.items():
        np.ascontiguousarray(a, dtype=np.uint8).tofile(out / f"{name}.rgb")
        (out / f"{name}.json").write_text(json.dumps({"t": a.shape[0], "h": a.shape[1], "w": a.shape[2]}))


def planar(frame):
    a = frame.to_ndarray()
    if a.ndim == 2 and a.shape[0] == 1 and frame.layout.nb_channels > 1:
        a = a.reshape(-1, frame.layout.nb_channels).T
    return a.astype(np.float32)


def resample(audio, rate, to):
    c = audio.shape[0]
    layout = "mono" if c == 1 else "stereo"
    r = av.AudioResampler(format="fltp", layout=layout, rate=to)
    fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio), format="fltp", layout=layout)
    fr.sample_rate = rate
    parts = [planar(f) for f in r.resample(fr)] + [planar(f) for f in r.resample(None)]
    return np.concatenate(parts, axis=1)


def encode_audio(audio, rate, codec, fmt, bitrate, codec_rate):
    c = audio.shape[0]
    layout = "mono" if c == 1 else "stereo"
    if codec_rate != rate:
        audio = resample(audio, rate, codec_rate)
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as ct:
        s = ct.add_stream(codec, rate=codec_rate)
        s.layout = layout
        s.bit_rate = bitrate
        fs = s.codec_context.frame_size or 1024
        sf = s.codec_context.format.name
        for i in range(0, audio.shape[1], fs):
            chunk = np.ascontiguousarray(audio[:, i:i + fs])
            fr = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            fr.sample_rate = codec_rate
            fr.pts = i
            if sf != "fltp":
                fr = av.AudioResampler(format=sf, layout=layout, rate=codec_rate).resample(fr)[0]
            for p in s.encode(fr):
                ct.mux(p)
        for p in s.encode(None):
            ct.mux(p)
    buf.seek(0)
    with av.open(buf, "r") as ct:
        parts = [planar(f.reformat(format="fltp")) if hasattr(f, "reformat") else planar(f)
                 for f in ct.decode(audio=0)]
    return np.concatenate(parts, axis=1), codec_rate


def audio(args):
    src, c, n, rate, out = args
    c, n, rate = int(c), int(n), int(rate)
    a = np.fromfile(src, dtype=np.float32).reshape(c, n)
    out = pathlib.Path(out)
    attacks = {
        "resample44100": (resample(a, rate, 44100), 44100),
        "resample24000": (resample(a, rate, 24000), 24000),
        "aac128k": encode_audio(a, rate, "aac", "mp4", 128_000, rate),
        "opus64k": encode_audio(a, rate, "libopus", "ogg", 64_000, 48000),
    }
    for name, (x, r) in attacks.items():
        np.ascontiguousarray(x, dtype=np.float32).tofile(out / f"{name}.f32")
        (out / f"{name}.json").write_text(json.dumps({"c": x.shape[0], "n": x.shape[1], "rate": r}))


if __name__ == "__main__":
    {"video": video, "audio": audio}[sys.argv[1]](sys.argv[2:])
