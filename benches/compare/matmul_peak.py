"""Measures this machine's matrix-multiply rate with torch (the same LibTorch
both engines use): float32 on the CPU at a given thread count, or any dtype on a
GPU (timed after a synchronize). Prints one JSON object.

Usage: matmul_peak.py THREADS [N] [TRIALS] [DEVICE] [DTYPE]
"""
import json
import statistics
import sys
import time

import torch


def main():
    threads = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    dtype = getattr(torch, sys.argv[5]) if len(sys.argv) > 5 else torch.float32
    torch.set_num_threads(threads)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    # Random operands (zeros run faster than real data on some GPUs).
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    c = torch.empty(n, n, device=device, dtype=dtype)
    for _ in range(2):
        torch.mm(a, b, out=c)
    sync()
    flop = 2 * n**3
    rates = []
    reps = 3 if device == "cpu" else 20
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        sync()
        rates.append(reps * flop / (time.perf_counter() - t0))
    print(json.dumps({
        "device": device, "dtype": str(dtype).replace("torch.", ""),
        "gpu": torch.cuda.get_device_name() if device.startswith("cuda") else None,
        "threads": torch.get_num_threads(), "n": n, "best_flops": max(rates),
        "median_flops": statistics.median(rates), "rates": rates,
    }))


if __name__ == "__main__":
    main()
