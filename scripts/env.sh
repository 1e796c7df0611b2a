# Sourced by the project's scripts: puts .venv (torch 2.13.0) first so that
# torch-sys finds LibTorch through Python (LIBTORCH_USE_PYTORCH=1).
SORA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SORA_ROOT
export VIRTUAL_ENV="$SORA_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
