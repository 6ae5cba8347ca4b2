"""Cache keys of exported ONNX models and of cached embeddings: the runtime is in both."""

from __future__ import annotations

import shutil

import pytest

from workers.embedding_cache import cache_key
from workers.onnx_runtime import export_key, onnx_cache_dir, onnx_model_path


@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "tiny-model"
    d.mkdir()
    (d / "config.json").write_text('{"hidden_size": 8}')
    (d / "model.safetensors").write_bytes(b"x" * 10)
    return d


def test_fp32_and_int8_exports_never_share_a_folder(model_dir):
    assert export_key(str(model_dir), "onnx") != export_key(str(model_dir), "onnx-int8")


def test_export_key_follows_the_model_content(model_dir):
    before = export_key(str(model_dir), "onnx-int8")
    (model_dir / "model.safetensors").write_bytes(b"y" * 11)  # other weights
    assert export_key(str(model_dir), "onnx-int8") != before


def test_export_key_survives_a_moved_model_folder(model_dir, tmp_path):
    # A new virtualenv puts the packaged model elsewhere: same content, same export.
    moved = tmp_path / "elsewhere" / "tiny-model"
    shutil.copytree(model_dir, moved)
    assert export_key(str(moved), "onnx") == export_key(str(model_dir), "onnx")


def test_torch_is_not_an_export(model_dir):
    with pytest.raises(ValueError, match="not an ONNX runtime"):
        export_key(str(model_dir), "torch")


def test_exports_live_under_the_topictrack_cache(monkeypatch, tmp_path, model_dir):
    monkeypatch.setenv("TOPICTRACK_CACHE", str(tmp_path / "c"))
    assert onnx_cache_dir() == tmp_path / "c" / "onnx"
    path = onnx_model_path(str(model_dir), "onnx-int8")
    assert path.parent.parent == tmp_path / "c" / "onnx"
    assert path.name == "model.onnx"


def test_embedding_cache_keys_on_the_runtime(model_dir):
    keys = {cache_key(str(model_dir), 256, "abc", rt) for rt in ("torch", "onnx", "onnx-int8")}
    assert len(keys) == 3


def test_torch_embedding_cache_key_is_the_one_from_before_runtimes(model_dir):
    # Caches written before --runtime existed hold torch vectors and stay valid.
    assert cache_key(str(model_dir), 256, "abc", "torch") == cache_key(str(model_dir), 256, "abc")
    assert cache_key(str(model_dir), 256, "abc").endswith("-t256-abc")
