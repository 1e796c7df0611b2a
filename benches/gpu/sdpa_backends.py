"""Times LibTorch's attention kernels at the Wan transformer's shapes on a GPU.

    python3 benches/gpu/sdpa_backends.py [--tokens 32760] [--text 512]

For self-attention ([2, 12, S, 128] bf16, the Wan2.1-1.3B 480p/81-frame shape
under batched guidance) and cross-attention (S queries against the 512 text
keys), runs `scaled_dot_product_attention` with each backend forced first
(flash, memory-efficient, cuDNN) and with torch's default choice, and prints the
median time (CUDA events, after warm-up), the achieved TFLOP/s (4·B·H·Sq·Sk·d)
and the largest relative difference to the default's output. Also times the
transformer's largest GEMM shapes, for comparison. Fresh random inputs per shape.
"""
import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def timed(fn, reps=10, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=32760)
    ap.add_argument("--text", type=int, default=512)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    dev, dt = "cuda", torch.bfloat16
    b, h, d, s = args.batch, args.heads, args.head_dim, args.tokens
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    for name, sk in [("self-attention", s), ("cross-attention", args.text)]:
        q = torch.randn(b, h, s, d, device=dev, dtype=dt)
        k = torch.randn(b, h, sk, d, device=dev, dtype=dt)
        v = torch.randn(b, h, sk, d, device=dev, dtype=dt)
        flop = 4 * b * h * s * sk * d
        params = torch.backends.cuda.SDPAParams(q, k, v, None, 0.0, False, False)
        print(f"\n{name}: q {list(q.shape)}, k/v {list(k.shape)}; {flop / 1e12:.2f} TFLOP; "
              f"default choice {SDPBackend(torch._fused_sdp_choice(q, k, v)).name}; "
              f"cudnn usable {torch.backends.cuda.can_use_cudnn_attention(params)}")
        ref = F.scaled_dot_product_attention(q, k, v).float()
        t = timed(lambda: F.scaled_dot_product_attention(q, k, v))
        print(f"  {'default':22s} {t * 1e3:9.2f} ms  {flop / t / 1e12:7.1f} TFLOP/s")
        for backend in [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]:
            try:
                with sdpa_kernel([backend], set_priority=True):
                    out = F.scaled_dot_product_attention(q, k, v).float()
                    t = timed(lambda: F.scaled_dot_product_attention(q, k, v))
                err = ((out - ref).norm() / ref.norm()).item()
                print(f"  {backend.name:22s} {t * 1e3:9.2f} ms  {flop / t / 1e12:7.1f} TFLOP/s  rel diff {err:.1e}")
            except RuntimeError as e:
                print(f"  {backend.name:22s} not available: {str(e).splitlines()[0][:120]}")
    dim, ffn = args.heads * args.head_dim, 8960
    for name, (m, kk, n) in {"qkv/out projection": (b * s, dim, dim), "FFN up": (b * s, dim, ffn),
                              "FFN down": (b * s, ffn, dim)}.items():
        x = torch.randn(m, kk, device=dev, dtype=dt)
        w = torch.randn(n, kk, device=dev, dtype=dt)
        t = timed(lambda: F.linear(x, w))
        print(f"GEMM {name:20s} {m}x{kk}x{n}: {t * 1e3:7.2f} ms  {2 * m * kk * n / t / 1e12:7.1f} TFLOP/s")


if __name__ == "__main__":
    main()
