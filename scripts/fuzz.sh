#!/usr/bin/env bash
# Runs the fuzz harness (tests/it/fuzz): every reader of untrusted bytes, from
# its committed seed corpus (tests/fuzz/corpus/<target>/), feedback-guided by
# distinct outcomes (not code coverage; see docs/reliability.md).
#
#   scripts/fuzz.sh              # 15 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh --long       # 10 min per target; prints the figures for docs/reliability.md
#   SORA_FUZZ_SECS=60 scripts/fuzz.sh [TARGET]   # any duration, one target (e.g. wav)
#
# Crashing inputs are saved to target/fuzz/crashes/<target>/ and fail the run;
# the inputs that reached new outcomes go to target/fuzz/corpus/<target>/.
# The build is the normal test profile: no separate instrumented build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=/dev/null
source scripts/env.sh
secs="${SORA_FUZZ_SECS:-15}"
if [ "${1:-}" = "--long" ]; then
    secs="${SORA_FUZZ_SECS:-600}"
    shift
fi
filter="fuzz::${1:+fuzz_$1}"
# `--workspace --test it` (only sora-tests has it) resolves features as
# `cargo test --workspace` does, so the binary scripts/test.sh built is reused.
SORA_FUZZ_SECS="$secs" exec cargo test --workspace --test it -- "$filter" --test-threads 2 --nocapture
