"""Shared fixtures of the `sora` Python suite.

Generation tests need the tiny random Wan 2.1 pipeline built by
`tests/fixtures/build_all.py wan_pipeline` (target/fixtures/wan_pipeline/t2v_21/model).
They skip with a reason when it is missing or when this build cannot load it yet
(UnsupportedError), unless SORA_REQUIRE_FIXTURES=1.
SORA_TEST_MODEL=<folder> (and SORA_TEST_FAMILY=<name> if not Wan) runs them on another folder.
"""

import os
import pathlib

import pytest

import sora

ROOT = pathlib.Path(os.environ.get("SORA_ROOT") or pathlib.Path(__file__).resolve().parents[2])
WAN_T2V = pathlib.Path(
    os.environ.get("SORA_TEST_MODEL")
    or ROOT / "target" / "fixtures" / "wan_pipeline" / "t2v_21" / "model"
)
FAMILY = os.environ.get("SORA_TEST_FAMILY", "wan")
REQUIRE = os.environ.get("SORA_REQUIRE_FIXTURES") == "1"

# The small request every generation test runs.
SMALL = dict(width=32, height=32, frames=5, steps=2, seed=7)


@pytest.fixture(scope="session")
def wan_model() -> pathlib.Path:
    """The tiny Wan 2.1 text-to-video folder, or a skip."""
    if not (WAN_T2V / "model_index.json").is_file() and not REQUIRE:
        pytest.skip(
            f"fixture {WAN_T2V} is missing: build it with "
            "`.venv/bin/python tests/fixtures/build_all.py wan_pipeline`"
        )
    return WAN_T2V


@pytest.fixture(scope="session")
def pipe(wan_model) -> "sora.Pipeline":
    """One pipeline on the tiny Wan folder, shared by the session."""
    try:
        return sora.Pipeline(wan_model, device="cpu", dtype="float32", threads=1)
    except sora.UnsupportedError as e:
        if REQUIRE:
            raise
        pytest.skip(f"this build cannot load {wan_model} yet: {e}")
