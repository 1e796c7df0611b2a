"""Parameter counts and weight memory of the real Wan checkpoints, from their configs.

Builds each component on PyTorch's meta device (no memory, no download) from the
config fields the released diffusers folders carry, and prints a markdown table.
Run: .venv/bin/python docs/tools/model_memory.py
"""
import torch
from diffusers import AutoencoderKLWan, WanTransformer3DModel
from transformers import CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, relative_attention_max_distance=128,
                feed_forward_proj="gated-gelu")
T21_13B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
               out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30)
T21_I2V_14B = dict(patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36,
                   out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40,
                   image_dim=1280, added_kv_proj_dim=5120)
T22_5B = dict(patch_size=(1, 2, 2), num_attention_heads=24, attention_head_dim=128, in_channels=48,
              out_channels=48, text_dim=4096, freq_dim=256, ffn_dim=14336, num_layers=30)
VAE21 = dict(base_dim=96, z_dim=16)
VAE22 = dict(base_dim=160, decoder_base_dim=256, z_dim=48, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
             is_residual=True, in_channels=12, out_channels=12, patch_size=2, scale_factor_spatial=16,
             latents_mean=[0.0] * 48, latents_std=[1.0] * 48)
CLIP_H = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
              image_size=224, patch_size=14, hidden_act="gelu")


def count(model):
    return sum(p.numel() for p in model.parameters())


def main():
    with torch.device("meta"):
        te = count(UMT5EncoderModel(UMT5Config(**UMT5_XXL)))
        rows = {
            "Wan2.1-T2V-1.3B-Diffusers": [("text_encoder", te), ("transformer", count(WanTransformer3DModel(**T21_13B))),
                                          ("vae", count(AutoencoderKLWan(**VAE21)))],
            "Wan2.1-I2V-14B-480P-Diffusers": [("text_encoder", te),
                                              ("transformer", count(WanTransformer3DModel(**T21_I2V_14B))),
                                              ("vae", count(AutoencoderKLWan(**VAE21))),
                                              ("image_encoder", count(CLIPVisionModel(CLIPVisionConfig(**CLIP_H))))],
            "Wan2.2-TI2V-5B-Diffusers": [("text_encoder", te), ("transformer", count(WanTransformer3DModel(**T22_5B))),
                                         ("vae", count(AutoencoderKLWan(**VAE22)))],
        }
    print("| checkpoint | component | parameters | f32 GB | bf16 GB |")
    print("|---|---|---:|---:|---:|")
    for name, comps in rows.items():
        total = 0
        for comp, n in comps:
            total += n
            print(f"| {name} | {comp} | {n / 1e9:.3f} B | {n * 4 / 1e9:.1f} | {n * 2 / 1e9:.1f} |")
        print(f"| {name} | **all weights** | {total / 1e9:.3f} B | {total * 4 / 1e9:.1f} | {total * 2 / 1e9:.1f} |")


if __name__ == "__main__":
    main()
