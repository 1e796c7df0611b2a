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

step "rustdoc: every intra-doc link resolves"
RUSTDOCFLAGS="-D warnings" cargo doc -p sora-core -p sora-ffi -p sora-cli --no-deps --quiet

step "parity fixtures (diffusers ${DIFFUSERS_VERSION:-0.42.1}, built at test time)"
python tests/fixtures/build_all.py

step "cargo test"
cargo test --workspace

step "fuzz: every reader of untrusted bytes, 15 s per target (docs/reliability.md)"
# The harness is in the test binary `cargo test` built above: no extra build.
bash scripts/fuzz.sh

step "side-by-side harness smoke (tiny: sora and diffusers run and agree)"
python benches/compare/run.py --size tiny --reps 1 --check-only
python benches/compare/run.py --family ltx2 --size tiny --reps 1 --check-only --no-build

# Generation tests in C and Python are hard requirements (the fixtures exist now).
export SORA_REQUIRE_FIXTURES=1 SORA_C_REQUIRE_FIXTURE=1
mkdir -p target/frontdoor
export SORA_C_FRAMES_OUT="$ROOT/target/frontdoor/c.rgb"

step "C header up to date"
bash scripts/check_header.sh

step "C ABI program (ASan + LeakSanitizer; the boundary checks under Valgrind)"
bash tests/c/run.sh

step "Python (wheel + pytest)"
bash scripts/test_py.sh
echo
echo "all tests passed"
