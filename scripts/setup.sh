#!/usr/bin/env bash
# One-time (and idempotent) set-up: .venv with torch==2.13.0 and the test-only
# Python packages. Fast when nothing changed (a stamp holds the requirements' hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY" >&2
  "$PY" -m venv .venv
fi
REQ=scripts/requirements-dev.txt
STAMP=.venv/.sora-requirements.sha256
WANT="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "setup: installing Python packages (torch 2.13.0, diffusers 0.42.1, ...)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$WANT" > "$STAMP"
fi
# shellcheck source=env.sh
source scripts/env.sh
