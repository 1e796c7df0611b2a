"""One diffusers generation in a fresh process, timed by phase.

Usage: diffusers_runner.py MODEL_DIR REQUEST_JSON THREADS OUT_NPY RESULT_JSON [DEVICE [DTYPE [OFFLOAD]]]

DEVICE is cpu (the default) or cuda; DTYPE float32 (the default), bfloat16 or
float16. On CUDA every phase boundary synchronizes the device, so the phases
are the GPU's times too, and the result also holds the peak of CUDA memory that
torch allocated. Times the imports, loading (`WanPipeline.from_pretrained`), prompt encoding,
each denoising step, the VAE decode (with postprocessing to numpy) and the whole
generation after loading; writes the frames ([T,H,W,3] float32 in [0,1]) to
OUT_NPY and the timings and peak RSS (`ru_maxrss`) to RESULT_JSON. OFFLOAD
(`none`, `model`, `sequential`; CUDA only) loads the pipeline on the CPU and
calls `enable_model_cpu_offload` / `enable_sequential_cpu_offload` (accelerate)
instead of moving it to the device.
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
    device = sys.argv[6] if len(sys.argv) > 6 else "cpu"
    dtype = getattr(torch, sys.argv[7]) if len(sys.argv) > 7 else torch.float32
    offload = sys.argv[8] if len(sys.argv) > 8 else "none"
    req = json.loads(open(req_path).read())
    torch.set_num_threads(int(threads))
    cuda = device.startswith("cuda")

    def now():
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    t0 = now()
    pipe = WanPipeline.from_pretrained(model, torch_dtype=dtype)
    if offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    load_s = now() - t0

    marks = {}
    encode = pipe.encode_prompt

    def timed_encode(*a, **k):
        marks["text0"] = now()
        out = encode(*a, **k)
        marks["text1"] = now()
        return out

    pipe.encode_prompt = timed_encode
    decode = pipe.vae.decode

    def timed_decode(*a, **k):
        marks["decode0"] = now()
        out = decode(*a, **k)
        marks["vae1"] = now()
        return out

    pipe.vae.decode = timed_decode
    step_ends = []

    def on_step(_pipe, _i, _t, kwargs):
        step_ends.append(now())
        return kwargs

    t_gen = now()
    with torch.no_grad():
        frames = pipe(
            prompt=req["prompt"], negative_prompt=req["negative_prompt"],
            height=req["height"], width=req["width"], num_frames=req["frames"],
            num_inference_steps=req["steps"], guidance_scale=req["guidance"],
            generator=torch.Generator().manual_seed(req["seed"]), output_type="np",
            callback_on_step_end=on_step,
        ).frames[0]
    t_end = now()
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
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "offload": offload,
    }
    if cuda:
        out["cuda_peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        out["cuda_peak_reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
        out["gpu"] = torch.cuda.get_device_name()
    import diffusers

    out["diffusers"] = diffusers.__version__
    open(result, "w").write(json.dumps(out))


if __name__ == "__main__":
    main()
