"""One diffusers LTX-2 generation (text -> video + audio) in a fresh process, timed by phase.

Usage: ltx2_runner.py MODEL_DIR REQUEST_JSON THREADS OUT_NPY RESULT_JSON [DEVICE [DTYPE]]

The LTX-2 counterpart of diffusers_runner.py, same phases: text encoding is
`encode_prompt` plus the text connectors; the denoising loop runs from there to
the start of the video VAE decode; the decode is the video VAE decode with
postprocessing plus the audio VAE and vocoder. Writes the frames ([T,H,W,3]
float32 in [0,1]) to OUT_NPY, the waveform ([channels, samples] float32) to
OUT_NPY with `.wav.npy` for `.npy`, and the timings and peak RSS to RESULT_JSON.
"""
import time

T_START = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import LTX2Pipeline  # noqa: E402

T_IMPORTED = time.perf_counter()


def main():
    model, req_path, threads, out_npy, result = sys.argv[1:6]
    device = sys.argv[6] if len(sys.argv) > 6 else "cpu"
    dtype = getattr(torch, sys.argv[7]) if len(sys.argv) > 7 else torch.float32
    req = json.loads(open(req_path).read())
    torch.set_num_threads(int(threads))
    cuda = device.startswith("cuda")

    def now():
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    t0 = now()
    pipe = LTX2Pipeline.from_pretrained(model, torch_dtype=dtype).to(device)
    pipe.set_progress_bar_config(disable=True)
    load_s = now() - t0

    marks = {}

    def wrap(obj, name, before=None, after=None):
        inner = getattr(obj, name)

        def timed(*a, **k):
            if before and before not in marks:
                marks[before] = now()
            out = inner(*a, **k)
            if after:
                marks[after] = now()
            return out

        setattr(obj, name, timed)

    wrap(pipe, "encode_prompt", before="text0")
    # The connectors are a module: wrap its forward through a hook-free subclass call.
    connectors_forward = pipe.connectors.forward

    def timed_connectors(*a, **k):
        out = connectors_forward(*a, **k)
        marks["text1"] = now()
        return out

    pipe.connectors.forward = timed_connectors
    wrap(pipe.vae, "decode", before="decode0")
    step_ends = []

    def on_step(_pipe, _i, _t, kwargs):
        step_ends.append(now())
        return kwargs

    t_gen = now()
    with torch.no_grad():
        frames, wave = pipe(
            prompt=req["prompt"], negative_prompt=req["negative_prompt"],
            height=req["height"], width=req["width"], num_frames=req["frames"], frame_rate=float(req["fps"]),
            num_inference_steps=req["steps"], guidance_scale=req["guidance"],
            generator=torch.Generator().manual_seed(req["seed"]), output_type="np", return_dict=False,
            callback_on_step_end=on_step, **req.get("params", {}),
        )
    t_end = now()
    np.save(out_npy, np.ascontiguousarray(frames[0], dtype=np.float32))
    np.save(out_npy.replace(".npy", ".wav.npy"), np.ascontiguousarray(wave[0].float().cpu().numpy()))

    starts = [marks["text1"]] + step_ends[:-1]
    out = {
        "import_s": T_IMPORTED - T_START,
        "load_s": load_s,
        "text_s": marks["text1"] - marks["text0"],
        "denoise_s": marks["decode0"] - marks["text1"],
        "per_step_s": [e - s for s, e in zip(starts, step_ends)],
        "decode_s": t_end - marks["decode0"],
        "total_s": t_end - t_gen,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "sample_rate": int(pipe.vocoder.config.output_sampling_rate),
    }
    if cuda:
        out["cuda_peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        out["gpu"] = torch.cuda.get_device_name()
    import diffusers

    out["diffusers"] = diffusers.__version__
    open(result, "w").write(json.dumps(out))


if __name__ == "__main__":
    main()
