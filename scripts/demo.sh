#!/usr/bin/env bash
# The main job: set up, build the CLI, build the tiny demo model (random weights,
# see README), and generate a clip end to end into out/demo.mp4.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
cargo build --quiet -p sora-cli
python scripts/make_tiny_model.py target/tiny-wan
mkdir -p out
target/debug/sora generate --model target/tiny-wan \
  --prompt "a red fox runs through fresh snow at dawn" \
  --width 256 --height 192 --frames 17 --fps 16 --steps 10 --seed 7 \
  --out out/demo.mp4 --json "$@"
echo "wrote out/demo.mp4" >&2
