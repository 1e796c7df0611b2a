# Sourced by the project's scripts: puts .venv (torch 2.13.0) first so that
# torch-sys finds LibTorch through Python (LIBTORCH_USE_PYTORCH=1).
SORA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SORA_ROOT
export VIRTUAL_ENV="$SORA_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
# The same PyO3 settings maturin uses, so cargo and maturin builds share artifacts.
export PYO3_PYTHON="$VIRTUAL_ENV/bin/python"
export PYO3_ENVIRONMENT_SIGNATURE=cpython-3.11-64bit
export PYO3_BUILD_EXTENSION_MODULE=1
