#!/usr/bin/env bash
# Regenerates the C header from sora-ffi/src with the pinned cbindgen into a
# temporary file and fails when the committed include/sora.h differs (stale).
#
#   scripts/check_header.sh            # check (CI)
#   scripts/check_header.sh --update   # rewrite include/sora.h
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=/dev/null
source scripts/env.sh

HEADER="$ROOT/include/sora.h"
TMP="$(mktemp --suffix=.h)"
trap 'rm -f "$TMP"' EXIT

# The generator is its own small workspace (sora-ffi/gen-header): building it
# never touches the engine's build.
cargo run --quiet --manifest-path sora-ffi/gen-header/Cargo.toml \
    --target-dir "$ROOT/target/gen-header" -- "$TMP"

if [ "${1:-}" = "--update" ]; then
    mkdir -p "$(dirname "$HEADER")"
    cp "$TMP" "$HEADER"
    echo "check_header: wrote include/sora.h"
    exit 0
fi
if [ ! -f "$HEADER" ]; then
    echo "check_header: include/sora.h is missing; run scripts/check_header.sh --update" >&2
    exit 1
fi
if ! diff -u "$HEADER" "$TMP"; then
    echo "check_header: include/sora.h is stale; run scripts/check_header.sh --update and commit it" >&2
    exit 1
fi
echo "check_header: include/sora.h is up to date"
