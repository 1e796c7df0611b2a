"""The comparison sizes: how each model is built and what request both engines run.

A Wan size names a preset of `tests/fixtures/wan_tiny.py` (the random-weight Wan
2.1 pipeline) and one text-to-video request; an LTX-2 size a preset of
`ltx2_model.py` (the parity fixture's LTX-2.0 pipeline with a transformer of that
size) and one text-to-video+audio request. Both engines get the same folder and
the same request, so the work compared is the same.
"""

PROMPT = "a red fox runs through fresh snow at dawn, cinematic lighting"
NEGATIVE = "Bright tones, overexposed, static, blurred details, subtitles, worst quality, low quality"

SIZES = {
    # The CI smoke size: wan_tiny's defaults (what the parity tests use).
    "tiny": dict(
        build=dict(version="2.1", scheduler_kind="unipc", shift=3.0, preset="tiny", seed=0),
        request=dict(width=32, height=32, frames=5, steps=2, guidance=5.0, seed=7),
    ),
    # The performance-issue size: transformer 8 layers, 4 heads x 64, text dim 128,
    # FFN 256, patch (1,2,2); VAE base_dim 8, z_dim 4, dim_mult (1,2,2,2); UMT5 2
    # layers x d_model 128; 256x192, 17 frames, 10 steps, CFG 5.0, UniPC shift 3.0.
    "small": dict(
        build=dict(version="2.1", scheduler_kind="unipc", shift=3.0, preset="small", seed=0),
        request=dict(width=256, height=192, frames=17, steps=10, guidance=5.0, seed=7),
    ),
    # The GPU size: Wan2.1-T2V-1.3B's transformer and VAE configs (random weights,
    # bfloat16 on disk, drawn on the GPU when there is one; a 2-layer text encoder
    # of the real width, see wan_tiny.PRESETS) at the real request's 832x480 and 81
    # frames (21 latent frames, 32 760 tokens). Its 50 steps are cut to 10 here so
    # that both engines fit a short GPU lease: the per-step time is what is compared.
    "wan2.1-1.3b": dict(
        build=dict(version="2.1", scheduler_kind="unipc", shift=3.0, preset="wan21_1_3b", seed=0, device="auto"),
        request=dict(width=832, height=480, frames=81, steps=10, guidance=5.0, seed=7),
    ),
}


# LTX-2 (text -> video + audio). The request keeps the pipeline's guidance
# defaults (CFG 3 / audio 7, STG 1 / 1, modality 3 / 3, rescale 0.7 / 0.7: four
# transformer branches a step), with STG on a block the model has (the
# default block 28 does not exist in these models).
LTX2_GUIDANCE = dict(spatio_temporal_guidance_blocks=[1])
LTX2_SIZES = {
    # The CI smoke size: the parity fixture's pipeline (2 blocks).
    "tiny": dict(
        build=dict(preset="tiny", seed=0),
        request=dict(width=96, height=64, frames=9, fps=24, steps=2, guidance=3.0, seed=7,
                     params=dict(LTX2_GUIDANCE, max_sequence_length=24)),
    ),
    # Transformer 4 blocks, video width 256 (8 heads x 32), audio width 64 (4 x 16);
    # 384x256, 41 frames at 24 fps (6 latent frames x 8 x 12 = 576 video tokens,
    # 43 audio tokens), 10 steps, the pipeline's guidance (4 branches a step).
    # Text length 1008, near the pipeline's 1024 but divisible by the fixture
    # connectors' 8 and 12 learnable registers (diffusers requires it).
    "small": dict(
        build=dict(preset="small", seed=0),
        request=dict(width=384, height=256, frames=41, fps=24, steps=10, guidance=3.0, seed=7,
                     params=dict(LTX2_GUIDANCE, spatio_temporal_guidance_blocks=[2],
                                 max_sequence_length=1008)),
    ),
}

# The sizes of each family (`run.py --family`).
FAMILIES = {"wan": SIZES, "ltx2": LTX2_SIZES}


def request(size: str, steps: int | None = None, family: str = "wan") -> dict:
    """The request of `size` (prompt, negative prompt, sizes, steps, guidance,
    seed; for LTX-2 also fps and the pipeline parameters `params`)."""
    req = dict(FAMILIES[family][size]["request"], prompt=PROMPT, negative_prompt=NEGATIVE)
    if steps is not None:
        req["steps"] = steps
    return req
