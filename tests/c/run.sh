#!/usr/bin/env bash
# Builds libsora (debug), compiles tests/c/test_abi.c against include/sora.h and
# target/debug/libsora.so, runs it under memory checkers, and compiles and runs
# docs/examples/cpp_example.cpp. Exits non-zero on any failure.
#
#   tests/c/run.sh                     # both (default): every check under
#                                      # AddressSanitizer + LeakSanitizer, and the
#                                      # argument/error/lifetime checks under Valgrind
#   SORA_C_CHECK=valgrind tests/c/run.sh   # every check under Valgrind (13 min here)
#   SORA_C_CHECK=asan tests/c/run.sh   # gcc -fsanitize=address with LeakSanitizer
#   SORA_C_CHECK=none tests/c/run.sh   # plain run
#
# Why both: LeakSanitizer sees leaks of the library's (Rust) allocations too
# (malloc is interposed) and ASan checks the test program's own accesses, at
# native speed; Valgrind also sees invalid accesses inside the library, but
# runs LibTorch's generation about 100× slower, so it takes the checks that
# exercise the boundary (NULLs, bad UTF-8, errors, frees; SORA_C_SCOPE=boundary).
#
# Env: SORA_TEST_MODEL (model folder for the generation part; default
# target/fixtures/wan_pipeline/t2v_21/model), SORA_C_REQUIRE_FIXTURE=1 (fail when
# it is missing), SORA_C_FRAMES_OUT (write the generated raw RGB frames there),
# SORA_C_SKIP_BUILD=1 (use the libsora already built).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=/dev/null
source scripts/env.sh

CHECK="${SORA_C_CHECK:-both}"
LIBDIR="$ROOT/target/debug"
OUT="$ROOT/target/c-tests"
HERE="$ROOT/tests/c"
mkdir -p "$OUT"

if [ -z "${SORA_C_SKIP_BUILD:-}" ]; then
    cargo build -p sora-ffi
fi
[ -f "$LIBDIR/libsora.so" ] || { echo "run.sh: $LIBDIR/libsora.so is missing" >&2; exit 1; }

CFLAGS=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O0 -I"$ROOT/include")
LDFLAGS=(-L"$LIBDIR" -lsora -Wl,-rpath,"$LIBDIR")
ASAN=(-fsanitize=address -fno-omit-frame-pointer)

echo "== compile tests/c/test_abi.c ($CHECK)"
gcc "${CFLAGS[@]}" "$HERE/test_abi.c" "${LDFLAGS[@]}" -o "$OUT/test_abi"
gcc "${CFLAGS[@]}" "${ASAN[@]}" "$HERE/test_abi.c" "${LDFLAGS[@]}" -o "$OUT/test_abi_asan"

echo "== compile docs/examples/cpp_example.cpp"
g++ -std=c++17 -Wall -Wextra -Werror -g -O0 -I"$ROOT/include" \
    "$ROOT/docs/examples/cpp_example.cpp" "${LDFLAGS[@]}" -o "$OUT/cpp_example"
echo "== the header compiles alone as C99 and as C++11"
echo '#include "sora.h"' | gcc -std=c99 -pedantic -Wall -Werror -I"$ROOT/include" -x c -fsyntax-only -
echo '#include "sora.h"' | g++ -std=c++11 -pedantic -Wall -Werror -I"$ROOT/include" -x c++ -fsyntax-only -

run_valgrind() {
    # Only definite leaks and memory errors count; LibTorch's start-up noise
    # (reachable/possible leaks, its own invalid reads) is suppressed by
    # tests/c/valgrind.supp.
    valgrind --quiet --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --error-exitcode=1 \
        --suppressions="$HERE/valgrind.supp" --num-callers=30 \
        "$OUT/test_abi"
}
run_asan() {
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1" \
    LSAN_OPTIONS="suppressions=$HERE/lsan.supp:print_suppressions=0" \
        "$OUT/test_abi_asan"
}
case "$CHECK" in
    both)
        echo "== run test_abi under AddressSanitizer + LeakSanitizer (every check)"
        run_asan
        echo "== run test_abi under Valgrind (the boundary checks)"
        SORA_C_SCOPE=boundary run_valgrind
        ;;
    valgrind)
        echo "== run test_abi under Valgrind (every check)"
        run_valgrind
        ;;
    asan)
        echo "== run test_abi under AddressSanitizer + LeakSanitizer"
        run_asan
        ;;
    none)
        echo "== run test_abi"
        "$OUT/test_abi"
        ;;
    *)
        echo "run.sh: SORA_C_CHECK must be both, valgrind, asan or none" >&2
        exit 2
        ;;
esac

echo "== run cpp_example"
set +e
msg="$("$OUT/cpp_example" /nonexistent/sora-cpp-example 2>&1)"
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q "SORA_ERR_WEIGHTS" <<<"$msg"; then
    echo "cpp_example: expected exit 1 with SORA_ERR_WEIGHTS, got $rc: $msg" >&2
    exit 1
fi
MODEL="${SORA_TEST_MODEL:-target/fixtures/wan_pipeline/t2v_21/model}"
if [ -d "$MODEL" ]; then
    "$OUT/cpp_example" "$MODEL"
else
    echo "SKIPPED cpp_example generation (fixture missing): $MODEL"
fi
# The LTX-2 front door: the same request as the Rust and Python suites, its
# frames and audio written for the Python suite to compare (no memory checker:
# the ABI calls are the ones test_abi checks under it).
LTX2_MODEL="${SORA_TEST_LTX2_MODEL:-target/fixtures/ltx2_pipeline/v23}"
echo "== compile and run tests/c/frontdoor_ltx2.c"
gcc "${CFLAGS[@]}" "$HERE/frontdoor_ltx2.c" "${LDFLAGS[@]}" -o "$OUT/frontdoor_ltx2"
if [ -d "$LTX2_MODEL" ]; then
    mkdir -p target/frontdoor
    rm -rf target/frontdoor/ltx2-c-clip
    "$OUT/frontdoor_ltx2" "$LTX2_MODEL" target/frontdoor/ltx2-c.rgb target/frontdoor/ltx2-c.f32 \
        target/frontdoor/ltx2-c-clip target/frontdoor/ltx2-c-ext.rgb target/frontdoor/ltx2-c-ext.f32 \
        target/frontdoor/ltx2-c-long.rgb target/frontdoor/ltx2-c-long.f32
elif [ "${SORA_C_REQUIRE_FIXTURE:-}" = 1 ]; then
    echo "FAIL: SORA_C_REQUIRE_FIXTURE=1 but the LTX-2 fixture is missing: $LTX2_MODEL" >&2
    exit 1
else
    echo "SKIPPED the LTX-2 front door (fixture missing): $LTX2_MODEL"
fi
echo "== C tests passed"
