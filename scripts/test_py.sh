#!/usr/bin/env bash
# Builds and installs the `sora` wheel into .venv (scripts/build_py.sh), then runs
# the Python suite sora-py/tests. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/build_py.sh
# From the repository root so that `import sora` finds the installed package.
exec .venv/bin/python -m pytest sora-py/tests -q -p no:cacheprovider "$@"
