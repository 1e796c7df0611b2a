"""What-if probe: the Wan VAE decode with PyTorch's default CPU conv3d vs oneDNN.

    .venv/bin/python benches/compare/conv3d_probe.py --size small --threads 2

On CPU, float32 `conv3d` goes to oneDNN (`mkldnn_convolution`) only when
N*C*T*H of the input exceeds 20480; below that it takes the im2col path
`slow_conv3d`. The Wan VAE decodes one latent frame at a time (1 to 6 frames per
convolution), so at small channel counts every 3-D convolution takes the slow
path. This script times diffusers' VAE decode of the size's latent both ways
(same process, same threads, each after one warm-up) and reports the difference
of the decoded videos, to size the gain of calling oneDNN directly.
"""
import argparse
import json
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import flops  # noqa: E402
import sizes  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="small", choices=sorted(sizes.SIZES))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    import torch
    from diffusers import AutoencoderKLWan

    torch.set_num_threads(a.threads)
    model = ROOT / "target" / "compare" / a.size / "model"
    if not model.is_dir():
        sys.exit(f"{model} is missing: run benches/compare/run.py --size {a.size} first")
    req = sizes.request(a.size)
    vcfg = json.loads((model / "vae" / "config.json").read_text())
    lat = flops.latent_shape(req["frames"], req["height"], req["width"], vcfg)
    vae = AutoencoderKLWan.from_pretrained(str(model / "vae")).eval()
    z = torch.randn(1, vcfg["z_dim"], *lat, generator=torch.Generator().manual_seed(0))
    gflop = flops.vae_decode(vcfg, lat)["total"] / 1e9

    def timed():
        with torch.no_grad():
            vae.decode(z)
            t0 = time.perf_counter()
            out = vae.decode(z).sample
            return time.perf_counter() - t0, out

    t_default, ref = timed()

    def onednn(self, x, weight, bias):
        return torch.mkldnn_convolution(
            x.contiguous(), weight, bias, list(self.padding), list(self.stride), list(self.dilation), self.groups
        )

    torch.nn.Conv3d._conv_forward = onednn
    t_onednn, out = timed()
    diff = ((out - ref).abs() * 127.5).max().item()  # [-1, 1] -> 255 levels
    print(f"VAE decode of a {list(z.shape)} latent ({gflop:.2f} GFLOP), {a.threads} threads:")
    print(f"  default conv3d : {t_default:.3f} s ({gflop / t_default:.1f} GFLOP/s)")
    print(f"  oneDNN conv3d  : {t_onednn:.3f} s ({gflop / t_onednn:.1f} GFLOP/s), "
          f"{t_default / t_onednn:.2f}x; max difference {diff:.4f}/255")


if __name__ == "__main__":
    main()
