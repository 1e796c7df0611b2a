#!/usr/bin/env bash
# The main job: set up, build the CLI, and generate a clip with sound into
# out/demo.mp4 with the embedded default model (a tiny LTX-2 audio-video model
# trained by the project on simulated balls and boxes, docs/training.md).
# SORA_DEMO_PROMPT changes the prompt; extra arguments go to `sora generate`
# (e.g. --seed 3 --steps 30; without --seed each run draws a new one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
cargo build --quiet -p sora-cli
mkdir -p out
target/debug/sora generate \
  --prompt "${SORA_DEMO_PROMPT:-a red ball bounces on a wooden floor}" \
  --out out/demo.mp4 --json "$@"
echo "wrote out/demo.mp4" >&2
