"""The module itself: version, exception classes, the stub against the runtime."""

import ast
import importlib.metadata
import inspect
import pathlib
import re
import types

import pytest

import sora
from sora import _sora

STUB = pathlib.Path(_sora.__file__).with_name("_sora.pyi")
SRC_STUB = pathlib.Path(__file__).resolve().parents[1] / "python" / "sora" / "_sora.pyi"


def test_version():
    assert sora.__version__ == sora.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", sora.__version__)
    assert importlib.metadata.version("sora") == sora.__version__


def test_torch_is_loaded_first():
    import sys

    assert "torch" in sys.modules


ERRORS = [
    "InvalidRequestError",
    "WeightsError",
    "UnsupportedError",
    "DeviceError",
    "SafetyError",
    "ConsentRequiredError",
    "ProtectedContentError",
    "CancelledError",
    "MediaError",
    "RuntimeSoraError",
]


def test_error_hierarchy():
    assert issubclass(sora.SoraError, Exception)
    for name in ERRORS:
        cls = getattr(sora, name)
        assert issubclass(cls, sora.SoraError), name
        assert cls.__module__ == "sora"
        assert cls.__doc__
    assert issubclass(sora.InvalidRequestError, ValueError)
    assert issubclass(sora.RuntimeSoraError, RuntimeError)
    assert not issubclass(sora.WeightsError, ValueError)
    assert not issubclass(sora.CancelledError, KeyboardInterrupt)
    # Distinct classes: one per core error kind.
    assert len({getattr(sora, n) for n in ERRORS}) == len(ERRORS)


def test_errors_are_raisable_and_picklable():
    import pickle

    e = sora.WeightsError("boom")
    assert str(e) == "boom"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is sora.WeightsError and str(back) == "boom"


def test_all_is_complete():
    # Submodules are compared apart: `sora.physics` and `sora.safety` are part of the package's
    # surface (in `__all__`), while `sora.ray` appears once imported and is not.
    def is_module(n):
        return isinstance(getattr(sora, n, None), types.ModuleType)

    public = {n for n in dir(sora) if not n.startswith("_") and not is_module(n)} - {"annotations"}
    listed = set(sora.__all__) - {"__version__"}
    assert {n for n in listed if not is_module(n)} == public
    assert {n for n in listed if is_module(n)} == {"physics", "safety"}


def test_clip_cannot_be_built_from_python():
    with pytest.raises(TypeError):
        sora.Clip()


# ---- the stub against the runtime module ------------------------------------------------


def _stub_tree():
    return ast.parse(STUB.read_text())


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__version__"


def _stub_names(tree):
    """Top-level public names of the stub: classes, functions, annotated variables."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return {k: v for k, v in out.items() if _public(k)}


def test_installed_stub_is_the_checked_in_one():
    if SRC_STUB.is_file():
        assert STUB.read_text() == SRC_STUB.read_text(), "rebuild: scripts/build_py.sh"


def test_stub_names_match_runtime():
    stub = set(_stub_names(_stub_tree()))
    runtime = {n for n in dir(_sora) if _public(n)}
    assert stub == runtime, f"only in stub: {stub - runtime}; only at run time: {runtime - stub}"


def test_stub_class_members_match_runtime():
    for name, node in _stub_names(_stub_tree()).items():
        if not isinstance(node, ast.ClassDef) or issubclass(getattr(_sora, name), BaseException):
            continue
        cls = getattr(_sora, name)
        stub = {
            n.name
            for n in node.body
            if isinstance(n, ast.FunctionDef) and (not n.name.startswith("_") or n.name == "__init__")
        } - {"__init__"}
        runtime = {n for n in vars(cls) if not n.startswith("_")}
        assert stub == runtime, f"{name}: only in stub: {stub - runtime}; only at run time: {runtime - stub}"
        for n in node.body:
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_"):
                is_prop = any(isinstance(d, ast.Name) and d.id == "property" for d in n.decorator_list)
                assert is_prop == (type(vars(cls)[n.name]).__name__ == "getset_descriptor"), f"{name}.{n.name}"


def _stub_params(fn: ast.FunctionDef):
    """(name, kind, default-as-source) of a stub function, without `self`."""
    a = fn.args
    out = []
    pos = a.posonlyargs + a.args
    defaults = [None] * (len(pos) - len(a.defaults)) + a.defaults
    for arg, d in zip(pos, defaults):
        kind = "POSITIONAL_ONLY" if arg in a.posonlyargs else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, None if d is None else ast.literal_eval(d)))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "KEYWORD_ONLY", None if d is None else ast.literal_eval(d)))
    if a.kwarg is not None:
        out.append((a.kwarg.arg, "VAR_KEYWORD", None))
    return [p for p in out if p[0] != "self"]


def _runtime_params(fn):
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        kind = p.kind.name
        if kind == "POSITIONAL_ONLY":  # PyO3 marks nothing positional-only but `self`
            kind = "POSITIONAL_OR_KEYWORD"
        out.append((p.name, kind, None if p.default is inspect.Parameter.empty else p.default))
    return out


@pytest.mark.parametrize(
    "cls,method",
    [("Pipeline", "__init__"), ("Pipeline", "generate"), ("Pipeline", "generate_to_file"),
     ("Pipeline", "estimate"), ("Pipeline", "cancel"), ("Clip", "save")],
)
def test_stub_signatures_match_runtime(cls, method):
    node = next(n for n in _stub_tree().body if isinstance(n, ast.ClassDef) and n.name == cls)
    fn = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == method)
    rt = getattr(_sora, cls)
    runtime = _runtime_params(rt if method == "__init__" else getattr(rt, method))
    assert _stub_params(fn) == runtime


def test_version_function_signature():
    fn = next(n for n in _stub_tree().body if isinstance(n, ast.FunctionDef) and n.name == "version")
    assert _stub_params(fn) == _runtime_params(_sora.version) == []


def test_generate_to_file_takes_generates_keywords():
    gen = inspect.signature(sora.Pipeline.generate).parameters
    to_file = inspect.signature(sora.Pipeline.generate_to_file).parameters
    assert [k for k in to_file if k != "self"][:2] == ["path", "prompt"]
    assert {k: (v.kind, v.default) for k, v in gen.items() if k not in ("self", "prompt")} == {
        # `overwrite` is the file's own keyword (replacing a file sora did not write).
        k: (v.kind, v.default)
        for k, v in to_file.items()
        if k not in ("self", "prompt", "path", "overwrite")
    }


def test_generate_contract_keywords():
    """Names other tools call (the CLI, docs): never renamed."""
    params = inspect.signature(sora.Pipeline.generate).parameters
    for name in [
        "negative_prompt", "width", "height", "frames", "seconds", "fps", "steps",
        "guidance", "seed", "image", "video", "strength", "on_step",
    ]:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[name].default is None
    init = inspect.signature(sora.Pipeline).parameters
    assert list(init)[:4] == ["model", "device", "dtype", "threads"]
    # Options added later are keyword-only, so positional calls keep working.
    for name in list(init)[4:]:
        assert init[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert init["device"].default == "cpu" and init["dtype"].default == "float32"
