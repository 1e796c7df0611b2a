"""Diffusers folders with the released LTX-2 checkpoints' configs and tensor
shapes whose safetensors data are holes (sparse files, as
`sparse_checkpoint.py` writes them for Wan), so that `sora inspect DIR
--estimate` runs on the real shapes without downloading ~70 GB per model.
The folders are for estimates and `inspect`, not for generating.

Where the configs come from (no model hub is reachable here):
- transformer, connectors, video VAE, audio VAE and vocoder: the
  `diffusers_config` dicts of diffusers' `scripts/convert_ltx2_to_diffusers.py`
  for `--version 2.0` (LTX-2, 19B) and `--version 2.3` (LTX-2.3, 22B), at
  diffusers commit 072d15ee4289ffdc3aa9d65f8b94bc9271319d21 ("Add Support for
  LTX-2.3 Models", 2026-03-19; the values are unchanged at the newest commit
  read, 7564fb016dab). The video VAE is built with `timestep_conditioning`
  false, the script's default (the published `Lightricks/LTX-2` `vae/config.json`
  says false too).
- text encoder: Gemma 3 12B (`Gemma3ForConditionalGeneration`), the script's
  `--text_encoder_model_id` default `google/gemma-3-12b-it-qat-q4_0-unquantized`,
  whose config is google/gemma-3-12b-it's (text: 48 layers, width 3840, MLP
  15360, 16 heads, 8 key/value heads, head 256, vocabulary 262208; vision:
  SigLIP 27 layers, width 1152), as reproduced in ostris/ai-toolkit's LTX-2
  loader (`extensions_built_in/diffusion_models/ltx2/ltx2.py`).
- scheduler: `FlowMatchEulerDiscreteScheduler` as the script's `--full_pipeline`
  builds it: dynamic shifting with terminal shift 0.1 for the dev
  checkpoints, neither for a distilled one (same weights' shapes: the 19B
  dev and distilled checkpoints differ in values and scheduler only).
- stored dtype: bfloat16 for every component (the script's `--*_dtype`
  defaults and Gemma's `torch_dtype`).

Run: .venv/bin/python docs/tools/ltx2_checkpoints.py OUT_DIR [--estimate target/debug/sora] [--params]
With --params it prints each component's parameter count; with --estimate a
markdown table of the estimates of typical requests, per phase and in all, in
GiB (every number from `sora inspect --estimate --json`).
"""
import argparse
import json
import pathlib
import subprocess
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sparse_checkpoint import write_sparse  # noqa: E402

# --- diffusers scripts/convert_ltx2_to_diffusers.py @ 072d15ee42 -----------------------------
TRANSFORMER_20 = dict(
    in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32,
    attention_head_dim=128, cross_attention_dim=4096, vae_scale_factors=(8, 32, 32), pos_embed_max_pos=20,
    base_height=2048, base_width=2048, gated_attn=False, cross_attn_mod=False, audio_in_channels=128,
    audio_out_channels=128, audio_patch_size=1, audio_patch_size_t=1, audio_num_attention_heads=32,
    audio_attention_head_dim=64, audio_cross_attention_dim=2048, audio_scale_factor=4,
    audio_pos_embed_max_pos=20, audio_sampling_rate=16000, audio_hop_length=160, audio_gated_attn=False,
    audio_cross_attn_mod=False, num_layers=48, activation_fn="gelu-approximate", qk_norm="rms_norm_across_heads",
    norm_elementwise_affine=False, norm_eps=1e-6, caption_channels=3840, attention_bias=True,
    attention_out_bias=True, rope_theta=10000.0, rope_double_precision=True, causal_offset=1,
    timestep_scale_multiplier=1000, cross_attn_timestep_scale_multiplier=1000, rope_type="split",
    use_prompt_embeddings=True, perturbed_attn=False,
)
TRANSFORMER_23 = dict(
    TRANSFORMER_20, gated_attn=True, cross_attn_mod=True, audio_gated_attn=True, audio_cross_attn_mod=True,
    use_prompt_embeddings=False, perturbed_attn=True,
)
CONNECTORS_20 = dict(
    caption_channels=3840, text_proj_in_factor=49, video_connector_num_attention_heads=30,
    video_connector_attention_head_dim=128, video_connector_num_layers=2,
    video_connector_num_learnable_registers=128, video_gated_attn=False, audio_connector_num_attention_heads=30,
    audio_connector_attention_head_dim=128, audio_connector_num_layers=2,
    audio_connector_num_learnable_registers=128, audio_gated_attn=False, connector_rope_base_seq_len=4096,
    rope_theta=10000.0, rope_double_precision=True, causal_temporal_positioning=False, rope_type="split",
    per_modality_projections=False, proj_bias=False,
)
CONNECTORS_23 = dict(
    CONNECTORS_20, video_connector_num_attention_heads=32, video_connector_num_layers=8, video_gated_attn=True,
    audio_connector_num_attention_heads=32, audio_connector_attention_head_dim=64, audio_connector_num_layers=8,
    audio_gated_attn=True, per_modality_projections=True, video_hidden_dim=4096, audio_hidden_dim=2048,
    proj_bias=True,
)
VIDEO_VAE_20 = dict(
    in_channels=3, out_channels=3, latent_channels=128, block_out_channels=(256, 512, 1024, 2048),
    down_block_types=("LTX2VideoDownBlock3D",) * 4, decoder_block_out_channels=(256, 512, 1024),
    layers_per_block=(4, 6, 6, 2, 2), decoder_layers_per_block=(5, 5, 5, 5),
    spatio_temporal_scaling=(True, True, True, True), decoder_spatio_temporal_scaling=(True, True, True),
    decoder_inject_noise=(False, False, False, False),
    downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
    upsample_type=("spatiotemporal", "spatiotemporal", "spatiotemporal"), upsample_residual=(True, True, True),
    upsample_factor=(2, 2, 2), timestep_conditioning=False, patch_size=4, patch_size_t=1, resnet_norm_eps=1e-6,
    encoder_causal=True, decoder_causal=False, encoder_spatial_padding_mode="zeros",
    decoder_spatial_padding_mode="reflect", spatial_compression_ratio=32, temporal_compression_ratio=8,
)
VIDEO_VAE_23 = dict(
    VIDEO_VAE_20, block_out_channels=(256, 512, 1024, 1024), decoder_block_out_channels=(256, 512, 512, 1024),
    layers_per_block=(4, 6, 4, 2, 2), decoder_layers_per_block=(4, 6, 4, 2, 2),
    decoder_spatio_temporal_scaling=(True, True, True, True), decoder_inject_noise=(False,) * 5,
    upsample_type=("spatiotemporal", "spatiotemporal", "temporal", "spatial"),
    upsample_residual=(False, False, False, False), upsample_factor=(2, 2, 1, 2),
    decoder_spatial_padding_mode="zeros",
)
AUDIO_VAE = dict(
    base_channels=128, output_channels=2, ch_mult=(1, 2, 4), num_res_blocks=2, attn_resolutions=None,
    in_channels=2, resolution=256, latent_channels=8, norm_type="pixel", causality_axis="height", dropout=0.0,
    mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=64,
    double_z=True,
)
VOCODER_20 = dict(
    in_channels=128, hidden_channels=1024, out_channels=2, upsample_kernel_sizes=[16, 15, 8, 4, 4],
    upsample_factors=[6, 5, 2, 2, 2], resnet_kernel_sizes=[3, 7, 11], resnet_dilations=[[1, 3, 5]] * 3,
    act_fn="leaky_relu", leaky_relu_negative_slope=0.1, antialias=False, final_act_fn="tanh", final_bias=True,
    output_sampling_rate=24000,
)
VOCODER_23 = dict(
    in_channels=128, hidden_channels=1536, out_channels=2, upsample_kernel_sizes=[11, 4, 4, 4, 4, 4],
    upsample_factors=[5, 2, 2, 2, 2, 2], resnet_kernel_sizes=[3, 7, 11], resnet_dilations=[[1, 3, 5]] * 3,
    act_fn="snakebeta", leaky_relu_negative_slope=0.1, antialias=True, antialias_ratio=2, antialias_kernel_size=12,
    final_act_fn=None, final_bias=False, bwe_in_channels=128, bwe_hidden_channels=512, bwe_out_channels=2,
    bwe_upsample_kernel_sizes=[12, 11, 4, 4, 4], bwe_upsample_factors=[6, 5, 2, 2, 2],
    bwe_resnet_kernel_sizes=[3, 7, 11], bwe_resnet_dilations=[[1, 3, 5]] * 3, bwe_act_fn="snakebeta",
    bwe_leaky_relu_negative_slope=0.1, bwe_antialias=True, bwe_antialias_ratio=2, bwe_antialias_kernel_size=12,
    bwe_final_act_fn=None, bwe_final_bias=False, filter_length=512, hop_length=80, window_length=512,
    num_mel_channels=64, input_sampling_rate=16000, output_sampling_rate=48000,
)
# --- Gemma 3 12B (google/gemma-3-12b-it config.json) ------------------------------------------
GEMMA3_12B_TEXT = dict(
    vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48, num_attention_heads=16,
    num_key_value_heads=8, head_dim=256, hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=256,
    rms_norm_eps=1e-6, rope_local_base_freq=10000, rope_scaling={"factor": 8.0, "rope_type": "linear"},
    rope_theta=1000000, sliding_window=1024, sliding_window_pattern=6, max_position_embeddings=131072,
    attention_bias=False, final_logit_softcapping=None, attn_logit_softcapping=None,
)
GEMMA3_VISION = dict(
    hidden_size=1152, image_size=896, intermediate_size=4304, num_attention_heads=16, num_hidden_layers=27,
    patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, vision_use_head=False,
    model_type="siglip_vision_model",
)
GEMMA3_12B = dict(
    boi_token_index=255999, eoi_token_index=256000, image_token_index=262144, mm_tokens_per_image=256,
    bos_token_id=2, eos_token_id=106, pad_token_id=0, initializer_range=0.02,
)

SCHEDULER_DEV = dict(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
                     max_image_seq_len=4096, shift_terminal=0.1)
SCHEDULER_DISTILLED = dict(SCHEDULER_DEV, use_dynamic_shifting=False, shift_terminal=None)

CHECKPOINTS = {
    # name: (transformer, connectors, video VAE, vocoder class, vocoder, scheduler)
    "LTX-2-19B-dev": (TRANSFORMER_20, CONNECTORS_20, VIDEO_VAE_20, "LTX2Vocoder", VOCODER_20, SCHEDULER_DEV),
    "LTX-2-19B-distilled": (TRANSFORMER_20, CONNECTORS_20, VIDEO_VAE_20, "LTX2Vocoder", VOCODER_20,
                            SCHEDULER_DISTILLED),
    "LTX-2.3-22B-dev": (TRANSFORMER_23, CONNECTORS_23, VIDEO_VAE_23, "LTX2VocoderWithBWE", VOCODER_23,
                        SCHEDULER_DEV),
}


def jsonable(config: dict) -> dict:
    return json.loads(json.dumps(config, default=list))


def component(out: pathlib.Path, name: str, model, config: dict, class_name: str):
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(dict(jsonable(config), _class_name=class_name), indent=1))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    write_sparse(d / "model.safetensors", shapes, torch.bfloat16)
    return sum(p.numel() for p in model.parameters())


def gemma(out: pathlib.Path):
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    config = Gemma3Config(text_config=GEMMA3_12B_TEXT, vision_config=GEMMA3_VISION, **GEMMA3_12B)
    with torch.device("meta"):
        model = Gemma3ForConditionalGeneration(config)
    d = out / "text_encoder"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(config.to_json_string())
    # As transformers saves it: the tied lm_head is not written.
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith("lm_head")}
    write_sparse(d / "model.safetensors", shapes, torch.bfloat16)
    language = sum(p.numel() for n, p in model.named_parameters() if "language_model" in n)
    return language, sum(p.numel() for p in model.parameters()) - language


def build(out: pathlib.Path, spec) -> dict:
    from diffusers import AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, LTX2VideoTransformer3DModel
    from diffusers.pipelines.ltx2 import LTX2TextConnectors, LTX2Vocoder, LTX2VocoderWithBWE

    transformer, connectors, vae, vocoder_class, vocoder, scheduler = spec
    out.mkdir(parents=True, exist_ok=True)
    params = {}
    params["text_encoder"], params["text_encoder (vision tower, not loaded)"] = gemma(out)
    vocoder_type = {"LTX2Vocoder": LTX2Vocoder, "LTX2VocoderWithBWE": LTX2VocoderWithBWE}[vocoder_class]
    with torch.device("meta"):
        parts = [
            ("connectors", LTX2TextConnectors(**connectors), connectors, "LTX2TextConnectors"),
            ("transformer", LTX2VideoTransformer3DModel(**transformer), transformer, "LTX2VideoTransformer3DModel"),
            ("vae", AutoencoderKLLTX2Video(**vae), vae, "AutoencoderKLLTX2Video"),
            ("audio_vae", AutoencoderKLLTX2Audio(**AUDIO_VAE), AUDIO_VAE, "AutoencoderKLLTX2Audio"),
            ("vocoder", vocoder_type(**vocoder), vocoder, vocoder_class),
        ]
    for name, model, config, cls in parts:
        params[name] = component(out, name, model, config, cls)
    sched = out / "scheduler"
    sched.mkdir(exist_ok=True)
    (sched / "scheduler_config.json").write_text(json.dumps(
        dict(scheduler, _class_name="FlowMatchEulerDiscreteScheduler", num_train_timesteps=1000, shift=1.0,
             invert_sigmas=False, use_karras_sigmas=False, use_exponential_sigmas=False, use_beta_sigmas=False,
             time_shift_type="exponential", stochastic_sampling=False), indent=1))
    (out / "tokenizer").mkdir(exist_ok=True)
    index = {"_class_name": "LTX2Pipeline", "_diffusers_version": "0.42.1",
             "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
             "vae": ["diffusers", "AutoencoderKLLTX2Video"], "audio_vae": ["diffusers", "AutoencoderKLLTX2Audio"],
             "text_encoder": ["transformers", "Gemma3ForConditionalGeneration"],
             "tokenizer": ["transformers", "GemmaTokenizerFast"], "connectors": ["ltx2", "LTX2TextConnectors"],
             "transformer": ["diffusers", "LTX2VideoTransformer3DModel"], "vocoder": ["ltx2", vocoder_class]}
    (out / "model_index.json").write_text(json.dumps(index, indent=1))
    (out / "params.json").write_text(json.dumps(params, indent=1))
    return params


# (label, extra flags): every request is text to video at 768x512 (width x height), 121 frames, CUDA, bf16.
DEV_REQUESTS = [
    ("CFG + STG + modality guidance (defaults), branches batched", []),
    ("the same, one branch per forward (--no-batch-guidance)", ["--no-batch-guidance"]),
    ("--offload-text-encoder", ["--offload-text-encoder"]),
    ("--offload-text-encoder --no-batch-guidance", ["--offload-text-encoder", "--no-batch-guidance"]),
    ("--offload model", ["--offload", "model"]),
    ("--offload sequential (block by block)", ["--offload", "sequential"]),
    ("--offload sequential --no-batch-guidance --vae-tiling", ["--offload", "sequential", "--no-batch-guidance",
                                                               "--vae-tiling"]),
]
# A distilled checkpoint runs without guidance: one branch.
NO_GUIDANCE = ["--guidance", "1", "--set", "audio_guidance_scale=1", "--set", "stg_scale=0",
               "--set", "audio_stg_scale=0", "--set", "modality_scale=1", "--set", "audio_modality_scale=1"]
DISTILLED_REQUESTS = [
    ("no guidance (one branch)", NO_GUIDANCE),
    ("no guidance, --offload-text-encoder", NO_GUIDANCE + ["--offload-text-encoder"]),
    ("no guidance, --offload model", NO_GUIDANCE + ["--offload", "model"]),
    ("no guidance, --offload sequential", NO_GUIDANCE + ["--offload", "sequential"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--estimate", help="a sora binary: print the estimates as a markdown table")
    ap.add_argument("--params", action="store_true", help="print the parameter counts")
    args = ap.parse_args()
    for name, spec in CHECKPOINTS.items():
        out = args.out / name
        if not (out / "model_index.json").is_file():
            build(out, spec)
        print(f"{name}: {out}", file=sys.stderr)
    if args.params:
        print("| checkpoint | component | parameters | bf16 GiB |")
        print("|---|---|---:|---:|")
        for name in CHECKPOINTS:
            params = json.loads((args.out / name / "params.json").read_text())
            for comp, n in params.items():
                print(f"| {name} | {comp} | {n / 1e9:.3f} B | {n * 2 / 2**30:.1f} |")
    if not args.estimate:
        return
    print("| checkpoint | request (768x512, 121 frames, CUDA, bf16) | text | denoise | decode | peak: phase, largest part | estimate |")
    print("|---|---|---:|---:|---:|---|---:|")
    for name in CHECKPOINTS:
        requests = DISTILLED_REQUESTS if "distilled" in name else DEV_REQUESTS
        for label, flags in requests:
            cmd = [args.estimate, "inspect", str(args.out / name), "--estimate", "--json", "--device", "cuda",
                   "--dtype", "bfloat16", "--width", "768", "--height", "512", "--frames", "121", *flags]
            e = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["estimate"]
            phase = {p["name"]: f"{p['total_mb'] / 1024:.1f}" for p in e["phases"]}
            print(f"| {name} | {label} | {phase['text']} | {phase['denoise']} | {phase['decode']} | "
                  f"{e['peak_phase']}: {e['largest_part']} | **{e['total_mb'] / 1024:.1f} GiB** |")


if __name__ == "__main__":
    main()
