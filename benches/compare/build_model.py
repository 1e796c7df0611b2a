"""Builds the random-weight pipeline of one comparison size (diffusers format).

Usage: build_model.py SIZE OUT_DIR [FAMILY]. FAMILY is `wan` (the default) or
`ltx2`. Called by run.py, which caches the folder under
target/compare/<family>-<size>/model and rebuilds it when the size's recipe changes.
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "tests" / "fixtures"))

import sizes  # noqa: E402
import wan_tiny  # noqa: E402


def main():
    size, out = sys.argv[1], pathlib.Path(sys.argv[2])
    family = sys.argv[3] if len(sys.argv) > 3 else "wan"
    import os

    import torch

    build = dict(sizes.FAMILIES[family][size]["build"])
    if family == "ltx2":
        import ltx2_model

        torch.set_num_threads(2)
        ltx2_model.build(out, **build)
        return
    # The CPU sizes are drawn with 2 threads as they always were; "auto" draws the
    # real-size weights on a GPU when there is one.
    torch.set_num_threads(2 if build.get("device", "cpu") == "cpu" else (os.cpu_count() or 2))
    if build.get("device") == "auto":
        build["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    wan_tiny.build_pipeline(out, **build)


if __name__ == "__main__":
    main()
