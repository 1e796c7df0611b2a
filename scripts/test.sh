#!/usr/bin/env bash
# Sets up (if needed) and runs every test: formatting, lints, the C header check,
# Rust unit + integration + parity tests, the C ABI program, the Python suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
step() { echo; echo "=== $* ===" >&2; }

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "parity fixtures (diffusers ${DIFFUSERS_VERSION:-0.42.1}, built at test time)"
python tests/fixtures/build_all.py

step "cargo test"
cargo test --workspace

for extra in scripts/check_header.sh tests/c/run.sh scripts/test_py.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done
echo
echo "all tests passed"
