"""The ONNX runtimes on the real packaged model and real texts, against torch fp32.

Exports both graphs into a fresh cache folder (what a first run on a new
machine does, offline), embeds CrisisLexT26 tweets and long documents with
each runtime, and checks the vectors against torch's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from integration_helpers import CRISIS

from workers.embedding import Embedder
from workers.onnx_runtime import onnx_model_path

LONG = [
    "The central bank raised its benchmark rate by half a point on Tuesday, the third "
    "increase this year, and signalled that more were likely as inflation stayed well above "
    "its target. " * 8,
    "Volunteers filled sandbags through the night as the river rose past the levee. " * 12,
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    if not CRISIS.exists():
        pytest.skip(f"labeled data not found at {CRISIS}")
    with open(CRISIS, encoding="utf-8") as f:
        lines = f.readlines()
    return [json.loads(ln)["text"] for ln in lines[:: len(lines) // 300][:300]] + LONG


@pytest.fixture(scope="module")
def torch_vectors(texts) -> np.ndarray:
    return Embedder(runtime="torch", device="cpu").encode(texts)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.parametrize(
    ("runtime", "mean_cos", "min_cos"), [("onnx", 0.99999, 0.9999), ("onnx-int8", 0.99, 0.97)]
)
def test_onnx_vectors_match_torch_fp32(runtime, mean_cos, min_cos, texts, torch_vectors, cache):
    emb = Embedder(runtime=runtime, device="cpu", cache_dir=cache)
    assert onnx_model_path(emb.model_name, runtime, cache).is_file()
    got = emb.encode(texts)
    assert got.shape == torch_vectors.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    cos = (got * torch_vectors).sum(axis=1)
    assert cos.mean() >= mean_cos, cos.mean()
    assert cos.min() >= min_cos, cos.min()


def test_a_cached_export_is_reused_not_redone(cache, texts):
    path = onnx_model_path(
        Embedder(runtime="onnx-int8", device="cpu", cache_dir=cache).model_name, "onnx-int8", cache
    )
    before = path.stat().st_mtime_ns
    Embedder(runtime="onnx-int8", device="cpu", cache_dir=cache).encode(texts[:4])
    assert path.stat().st_mtime_ns == before
    assert not [p for p in cache.iterdir() if p.name.startswith(".export-")], "temp folder left"


def test_vectors_do_not_depend_on_how_texts_are_batched(texts, cache):
    # Token-budget passes regroup texts; a text's vector must not change with its
    # neighbours (fp32: padding is masked out of attention and pooling).
    emb = Embedder(runtime="onnx", device="cpu", cache_dir=cache)
    whole = emb.encode(texts)
    one_by_one = np.concatenate([emb.encode([t]) for t in texts[:40]])
    assert np.allclose(whole[:40], one_by_one, atol=1e-4)
