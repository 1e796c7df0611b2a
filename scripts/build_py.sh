#!/usr/bin/env bash
# Builds the Python wheel of `sora` (sora-py, dev profile unless --release) and
# installs it into .venv. Fast when nothing changed (cargo incremental, shared target/).
#   scripts/build_py.sh            # dev profile (tests)
#   scripts/build_py.sh --release  # release profile
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SORA_ROOT"

profile=()
if [[ "${1:-}" == "--release" ]]; then
    profile=(--release)
fi

out="$SORA_ROOT/target/wheels"
# --auditwheel skip: a repaired wheel would bundle LibTorch and CUDA; the module
# uses the torch==2.13.0 wheel's own libraries instead (rpath $ORIGIN/../torch/lib).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! .venv/bin/maturin build "${profile[@]}" --auditwheel skip \
    -m sora-py/Cargo.toml --interpreter "$VIRTUAL_ENV/bin/python" -o "$out" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
wheel="$(sed -n 's/.*Built wheel[^/]*\(\/.*\.whl\).*/\1/p' "$log" | tail -n1)"
if [[ -z "$wheel" || ! -f "$wheel" ]]; then
    cat "$log" >&2
    echo "build_py.sh: could not find the built wheel in maturin's output" >&2
    exit 1
fi
.venv/bin/python -m pip install --quiet --no-deps --force-reinstall "$wheel"
echo "installed $wheel"
