"""Reads the 32-bit float WAV files sora writes (Python's `wave` reads PCM only)."""
import pathlib
import struct


def read_float_wav(path: pathlib.Path):
    """Returns (samples [channels, frames] float32, sample_rate) of a RIFF/WAVE
    file in IEEE float (format 3, or WAVE_FORMAT_EXTENSIBLE with the float GUID)."""
    import numpy as np

    data = pathlib.Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, channels, rate, bits = fmt
    if tag != 3 or bits != 32:
        raise ValueError(f"{path}: not 32-bit float (format {tag}, {bits} bits)")
    frames = np.frombuffer(samples, dtype="<f4").reshape(-1, channels)
    return np.ascontiguousarray(frames.T), rate
