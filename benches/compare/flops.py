"""Analytic FLOP counts of the Wan 2.1 pipeline's parts, from the configs alone.

One multiply-add counts as 2 FLOPs; only matrix products and convolutions are
counted (norms, activations, RoPE and the scheduler are left out, as in the usual
model-FLOP-utilisation definition). The counts follow the work diffusers does: the
prompt padded to 512 tokens, two transformer calls per step under classifier-free
guidance, and the VAE decoding one latent frame at a time with the causal cache.

`python benches/compare/flops.py --verify MODEL_DIR [--size tiny]` checks the
formulas against `torch.utils.flop_counter.FlopCounterMode` on diffusers' modules.
"""
import json
import pathlib

TEXT_LEN = 512  # diffusers' Wan pipelines pad the prompt embeddings to 512 tokens


def latent_shape(frames: int, height: int, width: int, vae_cfg: dict):
    """(latent frames, latent height, latent width) of a request, Wan 2.1 VAE."""
    spatial = 2 ** (len(vae_cfg["dim_mult"]) - 1)
    temporal = 2 ** sum(1 for t in vae_cfg["temperal_downsample"] if t)
    return (frames - 1) // temporal + 1, height // spatial, width // spatial


def transformer_forward(cfg: dict, lat: tuple, text_len: int = TEXT_LEN) -> dict:
    """FLOPs of one WanTransformer3DModel forward (batch 1), by part."""
    f, h, w = lat
    pt, ph, pw = cfg["patch_size"]
    s = (f // pt) * (h // ph) * (w // pw)
    d = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    patch_vol = pt * ph * pw
    n = cfg["num_layers"]
    parts = {
        "patch_embed": 2 * s * cfg["in_channels"] * patch_vol * d,
        "time_embed": 2 * (cfg["freq_dim"] * d + d * d + d * 6 * d),
        "text_embed": 2 * text_len * (cfg["text_dim"] * d + d * d),
        "self_attn_proj": n * 2 * s * d * d * 4,
        "self_attn_sdpa": n * 2 * 2 * s * s * d,
        "cross_attn_proj": n * (2 * s * d * d * 2 + 2 * text_len * d * d * 2),
        "cross_attn_sdpa": n * 2 * 2 * s * text_len * d,
        "ffn": n * 2 * 2 * s * d * cfg["ffn_dim"],
        "proj_out": 2 * s * d * cfg["out_channels"] * patch_vol,
    }
    parts["total"] = sum(parts.values())
    parts["tokens"] = s
    return parts


def transformer_step(cfg: dict, lat: tuple, guidance: float) -> int:
    """FLOPs of one denoising step: two forwards under CFG (guidance > 1), else one."""
    calls = 2 if guidance > 1.0 else 1
    return calls * transformer_forward(cfg, lat)["total"]


def vae_decode(cfg: dict, lat: tuple) -> dict:
    """FLOPs of AutoencoderKLWan.decode (Wan 2.1 layout) of a [z, f, h, w] latent.

    Returns the total and the FLOPs per latent frame (the first latent frame makes
    one video frame, each later one four, so the later ones cost more)."""
    if cfg.get("is_residual"):
        raise ValueError("only the Wan 2.1 VAE layout is counted")
    f, h0, w0 = lat
    base = cfg.get("decoder_base_dim") or cfg["base_dim"]
    z = cfg["z_dim"]
    mult = cfg["dim_mult"]
    nrb = cfg["num_res_blocks"]
    t_up = list(reversed(cfg["temperal_downsample"]))
    dims = [base * u for u in [mult[-1]] + mult[::-1]]

    def conv(cin, cout, k, vox):
        return 2 * cin * cout * k * vox

    def res(cin, cout, vox):
        fl = conv(cin, cout, 27, vox) + conv(cout, cout, 27, vox)
        return fl + (conv(cin, cout, 1, vox) if cin != cout else 0)

    per_frame = []
    for c in range(f):
        first = c == 0
        nt, h, w = 1, h0, w0
        fl = conv(z, dims[0], 27, nt * h * w)
        d0 = dims[0]
        hw = h * w
        attn = nt * (2 * hw * d0 * 3 * d0 + 2 * 2 * hw * hw * d0 + 2 * hw * d0 * d0)
        fl += 2 * res(d0, d0, nt * hw) + attn
        out_dim = d0
        for i in range(len(dims) - 1):
            in_dim = dims[i] if i == 0 else dims[i] // 2
            out_dim = dims[i + 1]
            fl += res(in_dim, out_dim, nt * h * w) + nrb * res(out_dim, out_dim, nt * h * w)
            if i != len(mult) - 1:
                if t_up[i] and not first:  # time_conv (3,1,1) to 2x channels, then 2x frames
                    fl += conv(out_dim, 2 * out_dim, 3, nt * h * w)
                    nt *= 2
                h, w = 2 * h, 2 * w
                fl += conv(out_dim, out_dim // 2, 9, nt * h * w)  # Conv2d 3x3 after 2x nearest
        fl += conv(out_dim, 3, 27, nt * h * w)
        per_frame.append(fl)
    total = sum(per_frame) + conv(z, z, 1, f * h0 * w0)  # + post_quant_conv
    return {"total": total, "per_latent_frame": per_frame}


def text_encoder(cfg: dict, prompts: int, text_len: int = TEXT_LEN) -> int:
    """FLOPs of the UMT5 encoder over `prompts` prompts padded to `text_len` tokens."""
    d = cfg["d_model"]
    inner = cfg["num_heads"] * cfg["d_kv"]
    ffn_mats = 3 if cfg.get("feed_forward_proj", "").startswith("gated") else 2
    per_layer = text_len * (2 * 4 * d * inner + ffn_mats * 2 * d * cfg["d_ff"]) + 2 * 2 * text_len**2 * inner
    return prompts * cfg["num_layers"] * per_layer


def for_model(model: pathlib.Path, req: dict) -> dict:
    """All counts for a model folder and request (as `run.py` reports them)."""
    tcfg = json.loads((model / "transformer" / "config.json").read_text())
    vcfg = json.loads((model / "vae" / "config.json").read_text())
    ecfg = json.loads((model / "text_encoder" / "config.json").read_text())
    lat = latent_shape(req["frames"], req["height"], req["width"], vcfg)
    fwd = transformer_forward(tcfg, lat)
    cfg_calls = 2 if req["guidance"] > 1.0 else 1
    vae = vae_decode(vcfg, lat)
    return {
        "latent": lat,
        "tokens": fwd["tokens"],
        "transformer_forward": fwd,
        "transformer_step": cfg_calls * fwd["total"],
        "vae_decode": vae["total"],
        "vae_per_latent_frame": vae["per_latent_frame"],
        "text_encoder": text_encoder(ecfg, cfg_calls),
    }


def verify(model: pathlib.Path, req: dict) -> None:
    """Compares the formulas with FlopCounterMode on diffusers' own modules."""
    import torch
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    counts = for_model(model, req)
    f, h, w = counts["latent"]
    tr = WanTransformer3DModel.from_pretrained(str(model / "transformer")).eval()
    vae = AutoencoderKLWan.from_pretrained(str(model / "vae")).eval()
    x = torch.randn(1, tr.config.in_channels, f, h, w)
    ctx = torch.randn(1, TEXT_LEN, tr.config.text_dim)
    # the math backend spells attention as matmuls, which the counter sees
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        with FlopCounterMode(display=False) as fc:
            tr(hidden_states=x, timestep=torch.tensor([500.0]), encoder_hidden_states=ctx, return_dict=False)
        measured_t = fc.get_total_flops()
        with FlopCounterMode(display=False) as fc:
            vae.decode(torch.randn(1, vae.config.z_dim, f, h, w), return_dict=False)
        measured_v = fc.get_total_flops()
    for name, ours, theirs in [
        ("transformer forward", counts["transformer_forward"]["total"], measured_t),
        ("vae decode", counts["vae_decode"], measured_v),
    ]:
        rel = abs(ours - theirs) / max(theirs, 1)
        print(f"{name}: analytic {ours / 1e9:.4f} GFLOP, FlopCounterMode {theirs / 1e9:.4f} GFLOP, rel diff {rel:.2e}")
        if rel > 1e-3:
            raise SystemExit(f"FLOP formula for {name} is off by {rel:.2%}")


if __name__ == "__main__":
    import argparse
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import sizes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", type=pathlib.Path, required=True, help="model folder built by run.py")
    ap.add_argument("--size", default="tiny", choices=sorted(sizes.SIZES))
    a = ap.parse_args()
    verify(a.verify, sizes.request(a.size))
