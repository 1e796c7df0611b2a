"""One diffusers generation in a fresh process, timed by phase.

Usage: diffusers_runner.py MODEL_DIR REQUEST_JSON THREADS OUT_NPY RESULT_JSON

Times the imports, loading (`WanPipeline.from_pretrained`), prompt encoding,
each denoising step, the VAE decode (with postprocessing to numpy) and the whole
generation after loading; writes the frames ([T,H,W,3] float32 in [0,1]) to
OUT_NPY and the timings and peak RSS (`ru_maxrss`) to RESULT_JSON.
"""
import time

T_START = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import WanPipeline  # noqa: E402

T_IMPORTED = time.perf_counter()


def main():
    model, req_path, threads, out_npy, result = sys.argv[1:6]
    req = json.loads(open(req_path).read())
    torch.set_num_threads(int(threads))

    t0 = time.perf_counter()
    pipe = WanPipeline.from_pretrained(model, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    load_s = time.perf_counter() - t0

    marks = {}
    encode = pipe.encode_prompt

    def timed_encode(*a, **k):
        marks["text0"] = time.perf_counter()
        out = encode(*a, **k)
        marks["text1"] = time.perf_counter()
        return out

    pipe.encode_prompt = timed_encode
    decode = pipe.vae.decode

    def timed_decode(*a, **k):
        marks["decode0"] = time.perf_counter()
        out = decode(*a, **k)
        marks["vae1"] = time.perf_counter()
        return out

    pipe.vae.decode = timed_decode
    step_ends = []

    def on_step(_pipe, _i, _t, kwargs):
        step_ends.append(time.perf_counter())
        return kwargs

    t_gen = time.perf_counter()
    with torch.no_grad():
        frames = pipe(
            prompt=req["prompt"], negative_prompt=req["negative_prompt"],
            height=req["height"], width=req["width"], num_frames=req["frames"],
            num_inference_steps=req["steps"], guidance_scale=req["guidance"],
            generator=torch.Generator().manual_seed(req["seed"]), output_type="np",
            callback_on_step_end=on_step,
        ).frames[0]
    t_end = time.perf_counter()
    np.save(out_npy, np.ascontiguousarray(frames, dtype=np.float32))

    starts = [marks["text1"]] + step_ends[:-1]
    out = {
        "import_s": T_IMPORTED - T_START,
        "load_s": load_s,
        "text_s": marks["text1"] - marks["text0"],
        # like sora's denoise_s: from the end of text encoding (latents prepared,
        # timesteps set) to the start of the decode
        "denoise_s": marks["decode0"] - marks["text1"],
        "per_step_s": [e - s for s, e in zip(starts, step_ends)],
        "decode_s": t_end - marks["decode0"],
        "vae_decode_s": marks["vae1"] - marks["decode0"],
        "total_s": t_end - t_gen,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    import diffusers

    out["diffusers"] = diffusers.__version__
    open(result, "w").write(json.dumps(out))


if __name__ == "__main__":
    main()
