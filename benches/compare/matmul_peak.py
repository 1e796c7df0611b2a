"""Measures this machine's float32 matrix-multiply rate with torch (the same
LibTorch both engines use), at a given thread count. Prints one JSON object.

Usage: matmul_peak.py THREADS [N] [TRIALS]
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
    torch.set_num_threads(threads)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    for _ in range(2):
        torch.mm(a, b, out=c)
    flop = 2 * n**3
    rates = []
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(3):
            torch.mm(a, b, out=c)
        rates.append(3 * flop / (time.perf_counter() - t0))
    print(json.dumps({
        "threads": torch.get_num_threads(), "n": n, "best_flops": max(rates),
        "median_flops": statistics.median(rates), "rates": rates,
    }))


if __name__ == "__main__":
    main()
