"""Peak memory of the streaming VAE decode for a short and a long clip.

Decodes random latents with a random-weight Wan 2.1 VAE at 832x480 into an MP4
through sora's streaming path (`sora-core/examples/stream_decode.rs`: the
`WanVae::decode_streaming` -> u8 frames -> `FileSink` -> H.264 path that
`Pipeline::generate_to_file` and `sora generate --out` use), once per clip
length, each in a fresh process, and prints each process's peak RSS (wait4) and
the ratio long/short. The goal (issue 4): the 60-second clip's peak within 10 %
of the 5-second clip's.

    .venv/bin/python benches/long_clip.py [--vae small|tiny] [--threads 2]
        [--lengths 21,241] [--sink file|memory] [--profile release|dev] [--no-build]

Latent frames: 21 = 81 frames = 5 s at 16 fps; 241 = 961 frames = 60 s.
The VAE (`--vae`) is the `small` (default) or `tiny` preset of
tests/fixtures/wan_tiny.py (base_dim 8, z_dim 4), built once with diffusers
into target/long_clip/<preset>/vae. It also prints, from the configs alone,
what grows with the length for the real Wan 2.1 VAE (z_dim 16).
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))


def build_vae(preset: str) -> pathlib.Path:
    out = ROOT / "target" / "long_clip" / preset / "vae"
    if (out / "config.json").is_file():
        return out
    import torch
    from diffusers import AutoencoderKLWan

    import wan_tiny

    size = wan_tiny.PRESETS[preset]
    torch.manual_seed(0)
    z = 4  # as wan_tiny's Wan 2.1 pipelines
    vae = AutoencoderKLWan(
        base_dim=8, z_dim=z, dim_mult=size["vae_dim_mult"], num_res_blocks=size["vae_num_res_blocks"],
        attn_scales=[], temperal_downsample=[False, True, True], dropout=0.0,
        latents_mean=[0.1 * i for i in range(z)], latents_std=[1.0 + 0.25 * i for i in range(z)],
    ).eval()
    vae.save_pretrained(str(out))
    return out


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_one(binary, vae, latent_frames, args, out_dir):
    out = out_dir / f"clip_{latent_frames}.mp4"
    cmd = [str(binary), "--vae", str(vae), "--latent-frames", str(latent_frames),
           "--width", "832", "--height", "480", "--out", str(out),
           "--threads", str(args.threads), "--sink", args.sink]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    stdout, stderr = p.stdout.read().decode(), p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"stream_decode failed for {latent_frames} latent frames:\n{stderr}")
    r = json.loads(stdout.strip().splitlines()[-1])
    r.update(wall_s=wall, max_rss_mb=ru.ru_maxrss / 1024.0, loadavg=os.getloadavg()[0])
    try:
        out.unlink()
    except FileNotFoundError:
        pass
    return r


def real_vae_growth(latent_frames: int) -> dict:
    """What grows with the length for the real Wan 2.1 VAE (z_dim 16, factor 8) at 832x480, f32."""
    frames = 1 + 4 * (latent_frames - 1)
    return {
        "frames": frames,
        "latents_mib": latent_frames * 16 * 60 * 104 * 4 / 2**20,
        "frames_u8_mib": frames * 480 * 832 * 3 / 2**20,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vae", default="small", choices=["small", "tiny"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lengths", default="21,241", help="latent frame counts, comma-separated")
    ap.add_argument("--sink", default="file", choices=["file", "memory"])
    ap.add_argument("--profile", default="release", choices=["release", "dev"],
                    help="cargo profile of the example (dev: LibTorch and the codecs are optimised, sora at -O1)")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()

    vae = build_vae(args.vae)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--profile", args.profile, "-p", "sora-core", "--example",
                        "stream_decode"], cwd=ROOT, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / ("release" if args.profile == "release" else "debug") / "examples" / "stream_decode"
    out_dir = ROOT / "target" / "long_clip" / "runs"
    out_dir.mkdir(parents=True, exist_ok=True)

    print(f"machine: {os.cpu_count()} x {cpu_model()}; "
          f"{time.strftime('%Y-%m-%d')}; VAE preset {args.vae}; {args.threads} threads; sink {args.sink}; "
          f"{args.profile} build",
          flush=True)
    rows = []
    for lf in [int(v) for v in args.lengths.split(",")]:
        r = run_one(binary, vae, lf, args, out_dir)
        rows.append(r)
        print(f"  {lf:4d} latent frames = {r['frames']:4d} frames: peak RSS {r['max_rss_mb']:.0f} MiB "
              f"(in-process {r['peak_rss_mb']:.0f}), decode+write {r['seconds']:.0f} s, "
              f"MP4 {r['mp4_bytes'] / 2**20:.1f} MiB, latents {r['latent_bytes'] / 2**20:.1f} MiB, "
              f"load avg {r['loadavg']:.2f}", flush=True)
    print()
    print("| clip | latent frames | frames | peak RSS (MiB) | MP4 (MiB) | latents (MiB) | decode + write (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        secs = (r["frames"] - 1) / 16
        print(f"| {secs:.0f} s | {r['latent_frames']} | {r['frames']} | {r['max_rss_mb']:.0f} | "
              f"{r['mp4_bytes'] / 2**20:.1f} | {r['latent_bytes'] / 2**20:.1f} | {r['seconds']:.0f} |")
    if len(rows) >= 2:
        ratio = rows[-1]["max_rss_mb"] / rows[0]["max_rss_mb"]
        print(f"\npeak RSS ratio, {rows[-1]['latent_frames']} / {rows[0]['latent_frames']} latent frames: "
              f"{ratio:.3f} (goal: at most 1.10)")
    print("\nReal Wan 2.1 VAE (z_dim 16) at 832x480, f32, what grows with the length:")
    for r in rows:
        g = real_vae_growth(r["latent_frames"])
        print(f"  {r['latent_frames']:4d} latent frames: latents {g['latents_mib']:.1f} MiB "
              f"(held while decoding); the frames as u8 {g['frames_u8_mib']:.0f} MiB "
              f"(held only by the in-memory path)")


if __name__ == "__main__":
    main()
