# Sourced on a GPU machine by the lease scripts: `source benches/gpu/env.sh [WHEEL_DIR]`.
# Installs the carried wheels (what the machine's Python lacks) into /tmp/site and
# points LD_LIBRARY_PATH at the machine's torch, whose LibTorch the sora binary
# (built against the same torch version) loads, CUDA backend included.
export PYTHONUNBUFFERED=1
if [ -n "${1:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$1"/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} || return 1
fi
TORCH_LIB=$(python3 -c "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))") || return 1
export LD_LIBRARY_PATH=$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
