"""Builds a tiny random-weight Wan 2.1 text-to-video pipeline folder (diffusers format).

The project ships no trained model yet: `scripts/demo.sh` runs the engine end to
end on this folder. Its output is noise-like video, not a meaningful clip. Point
`sora generate --model` at a downloaded checkpoint for real results (see README).
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"))
import wan_tiny  # noqa: E402

if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/tiny-wan")
    if (out / "model_index.json").exists():
        print(f"{out}: already built")
    else:
        wan_tiny.build_pipeline(out, version="2.1", scheduler="unipc")
        print(f"{out}: built")
