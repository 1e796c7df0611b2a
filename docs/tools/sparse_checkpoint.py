"""Diffusers folders with the released Wan checkpoints' configs and tensor
shapes whose safetensors data are holes (sparse files: nothing written, no
disk used), so that `sora inspect DIR --estimate` runs on the real shapes
without downloading tens of GB. The tensor data read back as zeros; the
folders are for estimates and `inspect`, not for generating.

Run: .venv/bin/python docs/tools/sparse_checkpoint.py OUT_DIR [--estimate target/debug/sora]
With --estimate it also prints a markdown table of the estimates of typical
requests (every number from `sora inspect --estimate --json`).
"""
import argparse
import json
import pathlib
import subprocess
import sys

import torch
from diffusers import AutoencoderKLWan, WanTransformer3DModel
from transformers import UMT5Config, UMT5EncoderModel

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from model_memory import T21_13B, T22_5B, UMT5_XXL, VAE21, VAE22  # noqa: E402

DTYPES = {torch.float32: ("F32", 4), torch.bfloat16: ("BF16", 2), torch.float16: ("F16", 2)}


def write_sparse(path: pathlib.Path, tensors: dict, dtype: torch.dtype):
    """A safetensors file with `tensors` (name → shape) in `dtype`, data left as a hole."""
    name, size = DTYPES[dtype]
    header, offset = {}, 0
    for key in sorted(tensors):
        shape = list(tensors[key])
        n = 1
        for d in shape:
            n *= d
        header[key] = {"dtype": name, "shape": shape, "data_offsets": [offset, offset + n * size]}
        offset += n * size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        f.truncate(8 + len(raw) + offset)


def component(out: pathlib.Path, name: str, model, config: dict, dtype, drop=()):
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config, indent=1))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items() if k not in drop}
    write_sparse(d / "model.safetensors", shapes, dtype)


def build(out: pathlib.Path, transformer: dict, vae: dict, index_extra: dict):
    out.mkdir(parents=True, exist_ok=True)
    with torch.device("meta"):
        te = UMT5EncoderModel(UMT5Config(**UMT5_XXL))
        tr = WanTransformer3DModel(**transformer)
        va = AutoencoderKLWan(**vae)
    te_cfg = dict(UMT5_XXL, model_type="umt5", architectures=["UMT5EncoderModel"])
    # As released: UMT5 in bf16 without the tied copy, transformer and VAE in f32.
    component(out, "text_encoder", te, te_cfg, torch.bfloat16, drop=("encoder.embed_tokens.weight",))
    component(out, "transformer", tr, dict(tr.config), torch.float32)
    component(out, "vae", va, dict(va.config), torch.float32)
    sched = out / "scheduler"
    sched.mkdir(exist_ok=True)
    (sched / "scheduler_config.json").write_text(json.dumps(
        {"_class_name": "UniPCMultistepScheduler", "num_train_timesteps": 1000,
         "prediction_type": "flow_prediction", "use_flow_sigmas": True, "flow_shift": 3.0}))
    (out / "tokenizer").mkdir(exist_ok=True)
    index = {"_class_name": "WanPipeline", "_diffusers_version": "0.42.1",
             "text_encoder": ["transformers", "UMT5EncoderModel"], "tokenizer": ["transformers", "T5TokenizerFast"],
             "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
             "scheduler": ["diffusers", "UniPCMultistepScheduler"], **index_extra}
    (out / "model_index.json").write_text(json.dumps(index, indent=1))


REQUESTS = [
    # (label, device, dtype, width, height, frames, extra flags)
    ("cpu f32", "cpu", "float32", 832, 480, 81, []),
    ("cuda bf16", "cuda", "bfloat16", 832, 480, 81, []),
    ("cuda bf16, --offload-text-encoder", "cuda", "bfloat16", 832, 480, 81, ["--offload-text-encoder"]),
    ("cuda bf16, --offload-text-encoder --no-batch-guidance", "cuda", "bfloat16", 832, 480, 81,
     ["--offload-text-encoder", "--no-batch-guidance"]),
    ("cuda bf16, --offload model", "cuda", "bfloat16", 832, 480, 81, ["--offload", "model"]),
    ("cuda bf16, --offload sequential", "cuda", "bfloat16", 832, 480, 81, ["--offload", "sequential"]),
    ("cuda bf16, --offload sequential --no-batch-guidance --vae-tiling", "cuda", "bfloat16", 832, 480, 81,
     ["--offload", "sequential", "--no-batch-guidance", "--vae-tiling"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--estimate", help="a sora binary: print the estimates as a markdown table")
    args = ap.parse_args()
    folders = {
        "Wan2.1-T2V-1.3B": (args.out / "Wan2.1-T2V-1.3B", T21_13B, VAE21, {}),
        "Wan2.2-TI2V-5B": (args.out / "Wan2.2-TI2V-5B", T22_5B, VAE22, {"expand_timesteps": True}),
    }
    for name, (out, tr, vae, extra) in folders.items():
        if not (out / "model_index.json").is_file():
            build(out, tr, vae, extra)
        print(f"{name}: {out}", file=sys.stderr)
    if not args.estimate:
        return
    print("| checkpoint | request | weights | peak phase | largest part | estimate |")
    print("|---|---|---:|---|---|---:|")
    for name, (out, *_rest) in folders.items():
        for label, device, dtype, w, h, f, flags in REQUESTS:
            if name.startswith("Wan2.2"):
                w, h, f = 1280, 704, 121
            cmd = [args.estimate, "inspect", str(out), "--estimate", "--json", "--device", device, "--dtype", dtype,
                   "--width", str(w), "--height", str(h), "--frames", str(f), *flags]
            e = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["estimate"]
            weights = sum(p["mb"] for p in e["weights"]) / 1024
            print(f"| {name} | {w}x{h}x{f}, {label} | {weights:.1f} GiB | {e['peak_phase']} | "
                  f"{e['largest_part']} | {e['total_mb'] / 1024:.1f} GiB |")


if __name__ == "__main__":
    main()
