"""Loading: bad folders and bad arguments raise the right typed errors."""

import json

import pytest
import torch

import sora


def test_missing_folder_is_a_weights_error_naming_the_path(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(sora.WeightsError) as e:
        sora.Pipeline(missing)
    assert str(missing) in str(e.value)
    assert isinstance(e.value, sora.SoraError)


def test_a_file_is_not_a_model_folder(tmp_path):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"not a folder")
    with pytest.raises(sora.WeightsError) as e:
        sora.Pipeline(str(f))
    assert str(f) in str(e.value)


def test_folder_without_model_index(tmp_path):
    with pytest.raises(sora.WeightsError) as e:
        sora.Pipeline(tmp_path)
    assert str(tmp_path) in str(e.value)
    assert "model_index.json" in str(e.value)


def test_unknown_class_name_is_named(tmp_path):
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "FluxPipeline", "_diffusers_version": "0.42.1"})
    )
    with pytest.raises(sora.WeightsError) as e:
        sora.Pipeline(tmp_path)
    assert "FluxPipeline" in str(e.value)
    assert "WanPipeline" in str(e.value)  # the supported classes are listed


def test_malformed_model_index(tmp_path):
    (tmp_path / "model_index.json").write_text("{not json")
    with pytest.raises(sora.WeightsError) as e:
        sora.Pipeline(tmp_path)
    assert "model_index.json" in str(e.value)


def test_wan_folder_missing_its_components(tmp_path):
    (tmp_path / "model_index.json").write_text(
        json.dumps(
            {
                "_class_name": "WanPipeline",
                "transformer": ["diffusers", "WanTransformer3DModel"],
                "vae": ["diffusers", "AutoencoderKLWan"],
                "text_encoder": ["transformers", "UMT5EncoderModel"],
                "tokenizer": ["transformers", "T5TokenizerFast"],
                "scheduler": ["diffusers", "UniPCMultistepScheduler"],
            }
        )
    )
    with pytest.raises((sora.WeightsError, sora.UnsupportedError)) as e:
        sora.Pipeline(tmp_path)
    assert str(tmp_path) in str(e.value) or isinstance(e.value, sora.UnsupportedError)


def test_pathlike_model_is_accepted(tmp_path):
    with pytest.raises(sora.WeightsError):
        sora.Pipeline(tmp_path / "x")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(device="tpu"),
        dict(device="cuda:x"),
        dict(dtype="int8"),
        dict(threads=-1),
        dict(threads=0),
        dict(threads=1.5),
    ],
)
def test_bad_arguments_are_invalid_requests(tmp_path, kwargs):
    with pytest.raises(sora.InvalidRequestError) as e:
        sora.Pipeline(tmp_path / "missing", **kwargs)
    assert isinstance(e.value, ValueError)


def test_model_must_be_a_path():
    with pytest.raises(sora.InvalidRequestError):
        sora.Pipeline(123)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_device_error(tmp_path):
    with pytest.raises(sora.DeviceError) as e:
        sora.Pipeline(tmp_path / "missing", device="cuda")
    assert "cuda" in str(e.value).lower()


def test_load_releases_the_gil_and_threads_can_load_concurrently(tmp_path):
    import threading

    errors = []

    def load():
        try:
            sora.Pipeline(tmp_path / "missing")
        except sora.WeightsError as e:
            errors.append(e)

    ts = [threading.Thread(target=load) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(errors) == 4
