"""Pure parts of the embedder: token-budget batching, padding, runtime, device and dtype."""

from __future__ import annotations

import numpy as np
import pytest

from workers.embedding import (
    CPU_POLICY,
    CUDA_POLICY,
    DEFAULT_CPU_RUNTIME,
    default_batch_policy,
    default_threads,
    pad_batch,
    plan_batches,
    resolve_device,
    resolve_runtime,
    select_dtype,
)


def _cost(passes, lengths):
    return [len(p) * max(lengths[i] for i in p) for p in passes]


def test_passes_are_sorted_by_length_and_cover_every_document_once():
    lengths = [30, 5, 250, 12, 12, 7, 90]
    passes = plan_batches(lengths, max_batch=64, token_budget=100)
    flat = np.concatenate(passes)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_a_pass_stays_within_the_token_budget_and_the_count():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 256, 500).tolist()
    passes = plan_batches(lengths, max_batch=16, token_budget=1024)
    assert all(c <= 1024 for c in _cost(passes, lengths))
    assert max(len(p) for p in passes) <= 16


def test_one_long_document_does_not_pad_the_tweets():
    # 63 tweets of 20 tokens and one document of 256: the long one rides alone,
    # so the tweets cost 63 x 20 tokens instead of 64 x 256.
    lengths = [20] * 63 + [256]
    passes = plan_batches(lengths, max_batch=64, token_budget=4096)
    assert [len(p) for p in passes] == [63, 1]
    assert passes[-1].tolist() == [63]
    assert sum(_cost(passes, lengths)) == 63 * 20 + 256


def test_short_texts_fill_a_pass_up_to_max_batch():
    passes = plan_batches([10] * 200, max_batch=64, token_budget=4096)
    assert [len(p) for p in passes] == [64, 64, 64, 8]


def test_long_texts_get_smaller_passes():
    passes = plan_batches([256] * 40, max_batch=64, token_budget=4096)
    assert [len(p) for p in passes] == [16, 16, 8]


def test_a_document_over_the_budget_gets_a_pass_of_its_own():
    passes = plan_batches([600, 600, 3], max_batch=64, token_budget=512)
    assert [p.tolist() for p in passes] == [[2], [0], [1]]


def test_empty_input_makes_no_pass():
    assert plan_batches([], max_batch=8, token_budget=64) == []


@pytest.mark.parametrize(("max_batch", "budget"), [(0, 10), (4, 0)])
def test_a_zero_limit_is_an_error(max_batch, budget):
    with pytest.raises(ValueError, match=">= 1"):
        plan_batches([1, 2], max_batch=max_batch, token_budget=budget)


def test_pad_batch_right_pads_with_a_mask():
    ids, mask = pad_batch([[101, 7, 102], [101, 102]], pad_id=0)
    assert ids.dtype == np.int64 and mask.dtype == np.int64
    assert ids.tolist() == [[101, 7, 102], [101, 102, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]


def test_auto_runtime_is_onnx_fp32_on_cpu_and_torch_on_cuda():
    assert resolve_runtime("auto", "cpu") == DEFAULT_CPU_RUNTIME == "onnx"
    assert resolve_runtime("auto", "cuda") == "torch"
    assert resolve_runtime("auto", "cuda:1") == "torch"


@pytest.mark.parametrize("runtime", ["torch", "onnx", "onnx-int8"])
def test_explicit_runtimes_run_on_cpu(runtime):
    assert resolve_runtime(runtime, "cpu") == runtime


@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_onnx_on_cuda_is_refused_with_a_way_out(runtime):
    with pytest.raises(ValueError, match=r"CPU only.*--runtime torch"):
        resolve_runtime(runtime, "cuda:0")


def test_an_unknown_runtime_lists_the_choices():
    choices = r"unknown runtime 'tensorrt'; choose from auto, torch, onnx, onnx-int8"
    with pytest.raises(ValueError, match=choices):
        resolve_runtime("tensorrt", "cpu")


def test_dtype_is_half_on_cuda_only():
    assert select_dtype("cuda") == "float16"
    assert select_dtype("cuda:3") == "float16"
    assert select_dtype("cpu") == "float32"


def test_batch_policy_and_threads_follow_the_device():
    assert default_batch_policy("cpu") == CPU_POLICY
    assert default_batch_policy("cuda:0") == CUDA_POLICY
    assert CUDA_POLICY.token_budget > CPU_POLICY.token_budget
    assert CUDA_POLICY.max_batch >= 256
    assert default_threads("cpu") == 1
    assert default_threads("cuda") == 0  # torch's own choice


def test_explicit_devices_resolve_without_asking_torch(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # importing it would fail
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"


def test_auto_device_is_cuda_when_torch_sees_one(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
