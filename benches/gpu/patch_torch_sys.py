"""Makes a copy of torch-sys 0.26 compile against another LibTorch version.

    python3 benches/gpu/patch_torch_sys.py SRC DST TORCH_DIR

tch 0.26's generated C++ wrappers name every ATen operator of torch 2.13.0; an
older LibTorch lacks a few (or takes other arguments). This copies the crate
from SRC to DST, compiles its `torch_api_generated.cpp` against TORCH_DIR's
headers (syntax only), and replaces the body of every wrapper that fails with a
`throw` (the operator then reports "not available in this LibTorch version" if
ever called; sora calls none of them). Used by build_sora.sh for a GPU machine
whose torch is not 2.13.0.
"""
import pathlib
import re
import shutil
import subprocess
import sys


def failing_lines(cpp: pathlib.Path, torch_dir: pathlib.Path) -> list[int]:
    cmd = ["g++", "-std=c++17", "-fsyntax-only", "-w", "-D_GLIBCXX_USE_CXX11_ABI=1",
           f"-I{torch_dir}/include", f"-I{torch_dir}/include/torch/csrc/api/include", str(cpp)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cpp.parent.parent)
    pat = re.compile(re.escape(cpp.name) + r":(\d+):\d+: error")
    return sorted({int(m.group(1)) for m in pat.finditer(r.stderr)})


def main():
    src, dst, torch_dir = (pathlib.Path(a) for a in sys.argv[1:4])
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    cpp = dst / "libtch" / "torch_api_generated.cpp"
    bad = failing_lines(cpp, torch_dir)
    lines = cpp.read_text().split("\n")
    for ln in bad:
        start = ln - 1
        while "PROTECT(" not in lines[start]:
            start -= 1
        end = ln - 1
        while lines[end].strip() != ")":
            end += 1
        for k in range(start, end + 1):
            lines[k] = ""
        lines[start] = '  PROTECT(throw std::invalid_argument("not available in this LibTorch version");'
        lines[end] = "  )"
    cpp.write_text("\n".join(lines))
    left = failing_lines(cpp, torch_dir)
    print(f"patched {len(bad)} wrapper(s) at lines {bad}; {len(left)} error line(s) left")
    sys.exit(1 if left else 0)


if __name__ == "__main__":
    main()
