#!/bin/bash
# Builds a `sora` CLI for a GPU machine whose torch is not the 2.13.0 that tch
# 0.26 expects (the lent H100/H200 machines have torch 2.11.0+cu130 and no Rust):
#
#     bash benches/gpu/build_sora.sh [TORCH_VERSION]      # default 2.11.0
#
# Here, on the build machine: downloads that torch wheel (no dependencies) into
# target/gpu-build/venv, patches a copy of torch-sys to compile against its
# headers (patch_torch_sys.py), copies the workspace to target/gpu-build/src with
# a [patch] for that torch-sys, and builds the CLI in release mode against that
# LibTorch (the linker is told to accept its CUDA libraries' symbols, which only
# the GPU machine has). The stripped binary lands in .gpu/sora, beside the
# wheels the GPU machine's Python lacks (.gpu/whl); `.gpu` is what a lease
# carries (benches/gpu/lease.sh). A machine with torch 2.13.0 needs none of
# this: the normal build runs there, and the CUDA backend is loaded on demand.
set -eu
V=${1:-2.11.0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/target/gpu-build
mkdir -p "$B" "$ROOT/.gpu/whl"
if [ ! -d "$B/venv/lib" ] || ! ls "$B"/venv/lib/python3*/site-packages/torch/version.py > /dev/null 2>&1 \
   || ! grep -q "__version__ = '$V" "$B"/venv/lib/python3*/site-packages/torch/version.py; then
  rm -rf "$B/venv" && python3 -m venv "$B/venv"
  "$B/venv/bin/pip" install -q --no-deps "torch==$V"
fi
T=$(ls -d "$B"/venv/lib/python3*/site-packages/torch)
SYS=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/torch-sys-0.26.0 | head -1)
python3 "$ROOT/benches/gpu/patch_torch_sys.py" "$SYS" "$B/torch-sys" "$T"
# torch-sys asks "python" for LibTorch's details: answer for the downloaded torch.
mkdir -p "$B/py"
cat > "$B/py/python" <<PY
#!/bin/sh
echo "LIBTORCH_VERSION: $V"
echo "LIBTORCH_CXX11: True"
echo "LIBTORCH_INCLUDE: $T/include"
echo "LIBTORCH_INCLUDE: $T/include/torch/csrc/api/include"
echo "LIBTORCH_LIB: $T/lib"
PY
chmod +x "$B/py/python"
rm -rf "$B/src" && mkdir -p "$B/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - ) | (cd "$B/src" && tar xf -)
printf '\n[patch.crates-io]\ntorch-sys = { path = "%s" }\n' "$B/torch-sys" >> "$B/src/.cargo/config.toml"
(cd "$B/src" && PATH="$B/py:$PATH" VIRTUAL_ENV="$B/py" LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1 \
  CARGO_TARGET_DIR="$B/target" CARGO_PROFILE_RELEASE_DEBUG=0 \
  RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined" cargo build --release -p sora-cli)
cp "$B/target/release/sora" "$ROOT/.gpu/sora" && strip "$ROOT/.gpu/sora"
# What the GPU machine's Python lacks, for the diffusers side (python 3.12 there).
# accelerate (with psutil and pyyaml) for diffusers' enable_*_cpu_offload.
for p in diffusers==0.42.1 transformers==5.24.0 ftfy==6.3.1 wcwidth importlib_metadata==8.7.0 regex==2026.11.19 \
    accelerate==1.15.0 psutil pyyaml; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform any -d "$ROOT/.gpu/whl" "$p"
done
echo "built $ROOT/.gpu/sora against torch $V; carry .gpu to the GPU machine"
