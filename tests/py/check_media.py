"""Independent check of MP4 files written by sora (PyAV, i.e. FFmpeg's demuxer
and decoders), and a writer of reference H.264/AAC files for sora to read.

Check mode (exit 0 when the file is right, 1 with a message otherwise):
    check_media.py FILE --frames N --fps F --sample-rate R --duration D [--channels C]
asserts one video and one audio stream, N decodable frames at F fps, audio at
R Hz whose duration (stream metadata and decoded samples) is D seconds within
one AAC frame (1024 samples), and no FFmpeg warning or error while reading.

Write mode (used by the Rust test to read a file that another muxer/encoder made):
    check_media.py --write-h264 OUT --frames N --fps F --width W --height H
                   [--profile baseline|main] [--sample-rate R]
writes libx264 video of `pattern()` and a 440 Hz sine (0.5 amplitude, mono AAC)
lasting N / F seconds.
"""

import argparse
import json
import math
import sys
from fractions import Fraction

import av
import av.logging
import numpy as np


def pattern(t, h, w):
    """Frame t of the smooth moving test pattern, uint8 [h, w, 3] (mirrored in tests/it/io_media.rs)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255.0 * x / (w - 1)
    g = 255.0 * y / (h - 1)
    b = 128.0 + 100.0 * np.sin(2.0 * math.pi * (x + y + 3.0 * t) / w)
    return np.clip(np.round(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)


def fail(msg, info):
    print(f"check_media: FAIL: {msg}\n{json.dumps(info, indent=1)}", file=sys.stderr)
    sys.exit(1)


def check(args):
    info = {}
    logs = av.logging.Capture()
    with logs, av.open(args.file) as c:
        videos = [s for s in c.streams if s.type == "video"]
        audios = [s for s in c.streams if s.type == "audio"]
        info["streams"] = [f"{s.type}:{s.codec_context.name}" for s in c.streams]
        if len(videos) != 1 or len(audios) != 1:
            fail("expected exactly one video and one audio stream", info)
        v, a = videos[0], audios[0]
        info["video_frames_meta"] = v.frames
        info["average_rate"] = float(v.average_rate) if v.average_rate else None
        info["video_duration"] = float(v.duration * v.time_base) if v.duration else None
        info["sample_rate"] = a.codec_context.sample_rate
        info["channels"] = a.codec_context.channels
        info["audio_duration"] = float(a.duration * a.time_base) if a.duration else None
        info["container_duration"] = c.duration / 1e6 if c.duration else None
        nframes = sum(1 for _ in c.decode(v))
        info["video_frames_decoded"] = nframes
    with logs, av.open(args.file) as c:
        nsamples = sum(f.samples for f in c.decode(c.streams.audio[0]))
        info["audio_samples_decoded"] = nsamples
    complaints = [f"{name}: {msg.strip()}" for level, name, msg in logs.logs if level <= av.logging.WARNING]
    info["ffmpeg_warnings"] = complaints
    if complaints:
        fail("FFmpeg complained while demuxing/decoding", info)
    tol = 1024.0 / args.sample_rate
    info["tolerance_s"] = tol
    if nframes != args.frames or info["video_frames_meta"] != args.frames:
        fail(f"expected {args.frames} frames", info)
    if info["average_rate"] is None or abs(info["average_rate"] - args.fps) > 1e-3:
        fail(f"expected {args.fps} fps", info)
    if info["video_duration"] is None or abs(info["video_duration"] - args.frames / args.fps) > 1e-3:
        fail(f"expected a video duration of {args.frames / args.fps} s", info)
    if info["sample_rate"] != args.sample_rate:
        fail(f"expected {args.sample_rate} Hz", info)
    if args.channels is not None and info["channels"] != args.channels:
        fail(f"expected {args.channels} channels", info)
    if info["audio_duration"] is None or abs(info["audio_duration"] - args.duration) > tol:
        fail(f"expected an audio stream duration of {args.duration} s", info)
    if abs(nsamples / args.sample_rate - args.duration) > tol:
        fail(f"expected {args.duration} s of decoded audio", info)
    print(json.dumps(info))


def write(args):
    n, fps, w, h = args.frames, args.fps, args.width, args.height
    sr = args.sample_rate
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(args.write_h264, "w", format="mp4") as c:
        vs = c.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"crf": "12", "profile": args.profile, "preset": "medium"}
        as_ = c.add_stream("aac", rate=sr)
        as_.layout = "mono"
        for t in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(t, h, w), format="rgb24")
            frame.pts = t
            frame.time_base = Fraction(1) / rate
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        total = round(n / fps * sr)
        tt = np.arange(total) / sr
        pcm = (0.5 * np.sin(2 * math.pi * 440.0 * tt)).astype(np.float32)
        step = 1024
        for i in range(0, total, step):
            chunk = pcm[i:i + step].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = sr
            frame.pts = i
            frame.time_base = Fraction(1, sr)
            for p in as_.encode(frame):
                c.mux(p)
        for p in as_.encode():
            c.mux(p)
    print(json.dumps({"wrote": args.write_h264, "frames": n, "audio_samples": total}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?")
    p.add_argument("--write-h264", metavar="OUT")
    p.add_argument("--frames", type=int, required=True)
    p.add_argument("--fps", type=float, required=True)
    p.add_argument("--sample-rate", type=int, default=48000)
    p.add_argument("--duration", type=float)
    p.add_argument("--channels", type=int)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--height", type=int, default=48)
    p.add_argument("--profile", default="main", choices=["baseline", "main", "high"])
    args = p.parse_args()
    if args.write_h264:
        write(args)
    elif args.file and args.duration is not None:
        check(args)
    else:
        p.error("give FILE with --duration, or --write-h264 OUT")


if __name__ == "__main__":
    main()
