"""Builds the random-weight LTX-2 pipeline of one comparison size (diffusers format).

The layout is the parity fixture's (`tests/fixtures/fx_ltx2_pipeline.py`: the
tiny Gemma 3 text encoder and tokenizer, connectors, the video and audio VAEs,
the vocoder, FlowMatchEuler with LTX-2's dynamic shift; weights scaled so that
every path matters), with the transformer of the size's preset. Called by
build_model.py for `--family ltx2`.
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests" / "fixtures"))

import fx_ltx2_pipeline as pipe_fx  # noqa: E402

# The transformer presets, over the fixture's LTX-2.0 ("v20") layout.
PRESETS = {
    # The parity fixture's transformer: 2 blocks, video 4 heads x 4, audio 2 x 4.
    "tiny": {},
    # 4 blocks, video 8 heads x 32 (width 256), audio 4 heads x 16 (width 64).
    "small": dict(num_attention_heads=8, attention_head_dim=32, cross_attention_dim=256,
                  audio_num_attention_heads=4, audio_attention_head_dim=16, audio_cross_attention_dim=64,
                  num_layers=4),
}


def build(out: pathlib.Path, preset: str, layout: str = "v20", seed: int = 0):
    import torch

    torch.manual_seed(seed)
    saved = dict(pipe_fx.TRANSFORMER[layout])
    pipe_fx.TRANSFORMER[layout] = dict(saved, **PRESETS[preset])
    try:
        out.mkdir(parents=True, exist_ok=True)
        pipe_fx.build_pipeline(layout, out)
    finally:
        pipe_fx.TRANSFORMER[layout] = saved
