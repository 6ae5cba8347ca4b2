"""ONNX Runtime encoders exported from a transformers model, offline, cached on disk.

``--runtime onnx`` and ``onnx-int8`` run the same encoder as ``torch`` through
ONNX Runtime on the CPU. The graph is exported from whatever model ``--model``
names (the packaged all-MiniLM-L6-v2 by default) on first use, with mean
pooling and L2 normalisation inside it, and cached under
``$TOPICTRACK_CACHE/onnx`` (default ``~/.cache/topictrack/onnx``), keyed by
the model's content fingerprint and the export options. Nothing is
downloaded: the export reads the same local files the torch runtime loads.

``onnx-int8`` is the fp32 graph with dynamic int8 quantisation of its MatMul
weights, per output channel, the feed-forward down-projections left in fp32
(:func:`down_projections`): about 2x torch fp32 on these cores at a mean
cosine of 0.996 to fp32 (docs/embedding.md has the measurements).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from workers.embedding_cache import model_fingerprint

log = logging.getLogger(__name__)

#: The runtimes ``--runtime`` accepts (``auto`` picks one of them by device).
RUNTIMES = ("torch", "onnx", "onnx-int8")
ONNX_RUNTIMES = ("onnx", "onnx-int8")

#: ONNX opset of the export. 17 is the newest the TorchScript exporter in
#: torch 2.13 writes for every op of a BERT encoder, and ONNX Runtime 1.31
#: runs it with all its CPU graph fusions (LayerNorm, GELU, attention).
OPSET = 17

#: Bump when the exported graph changes (inputs, pooling), so old caches are
#: not reused for a different graph.
EXPORT_FORMAT = 1

#: Quantisation options of ``onnx-int8``; part of the cache key.
INT8_OPTIONS = "matmul-perchannel-qint8-fp32down"

#: The export is checked against torch on shapes other than the traced ones
#: (so a shape baked into the trace shows): the worst cosine it accepts.
EXPORT_CHECK_COSINE = {"onnx": 0.9999, "onnx-int8": 0.95}


def onnx_cache_dir() -> Path:
    """``$TOPICTRACK_CACHE/onnx`` or ``~/.cache/topictrack/onnx``."""
    root = os.environ.get("TOPICTRACK_CACHE") or Path.home() / ".cache" / "topictrack"
    return Path(root) / "onnx"


def runtime_tag(runtime: str) -> str:
    """``runtime`` plus a digest of its export options (``torch`` stays ``torch``).

    Caches of vectors (the eval cache) key on this, so changing how the
    graph is exported or quantised never serves vectors of the old graph.
    """
    if runtime == "torch":
        return runtime
    if runtime not in ONNX_RUNTIMES:
        raise ValueError(f"not an ONNX runtime: {runtime!r} (choose from {ONNX_RUNTIMES})")
    options = f"opset{OPSET}-f{EXPORT_FORMAT}"
    if runtime == "onnx-int8":
        options += f"-{INT8_OPTIONS}"
    return f"{runtime}-{hashlib.sha256(options.encode()).hexdigest()[:8]}"


def export_key(model_name: str, runtime: str) -> str:
    """Folder name of one exported model: model content, runtime and export options."""
    if runtime not in ONNX_RUNTIMES:
        raise ValueError(f"not an ONNX runtime: {runtime!r} (choose from {ONNX_RUNTIMES})")
    return f"{model_fingerprint(model_name)}-{runtime_tag(runtime)}"


def onnx_model_path(model_name: str, runtime: str, cache_dir: Path | None = None) -> Path:
    """Where the exported ``model.onnx`` for ``(model_name, runtime)`` lives (may not exist)."""
    return (cache_dir or onnx_cache_dir()) / export_key(model_name, runtime) / "model.onnx"


def ensure_onnx_model(model_name: str, runtime: str, cache_dir: Path | None = None) -> Path:
    """Return the cached ONNX model for ``(model_name, runtime)``, exporting it on first use.

    The export is written to a temporary folder and renamed into place, so a
    crash or a concurrent process never leaves a half-written model behind.
    """
    target = onnx_model_path(model_name, runtime, cache_dir)
    if target.is_file():
        return target
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent.parent))
    os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the cache from other users
    try:
        log.warning("exporting %s to ONNX (%s), once: %s", model_name, runtime, target.parent)
        module = _pooled_module(_load_torch_model(model_name))
        fp32 = tmp / "model-fp32.onnx"
        _export_fp32(module, fp32)
        if runtime == "onnx-int8":
            _quantize_int8(fp32, tmp / "model.onnx")
            fp32.unlink()
        else:
            fp32.rename(tmp / "model.onnx")
        _check_export(module, tmp / "model.onnx", runtime, model_name)
        try:
            os.rename(tmp, target.parent)
        except OSError:
            # Another process exported the same model meanwhile: use theirs.
            if not target.is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _load_torch_model(model_name: str) -> Any:
    """The encoder in fp32 with eager attention (the exporter traces it op by op)."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    offline = Path(model_name).is_dir() or os.environ.get("HF_HUB_OFFLINE") == "1"
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no weight-loading bar in the middle of a worker's log
    try:
        try:
            model = AutoModel.from_pretrained(
                model_name, local_files_only=offline, attn_implementation="eager"
            )
        except (TypeError, ValueError):
            model = AutoModel.from_pretrained(model_name, local_files_only=offline)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return model.eval()


def _pooled_module(model: Any) -> Any:
    import torch

    class Pooled(torch.nn.Module):
        """Encoder + mean pooling over real tokens + L2 normalisation, as one graph."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled(model).eval()


def _dummy_inputs(batch: int, seq: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (100..) and a mask whose rows have different real lengths."""
    ids = (np.arange(batch * seq, dtype=np.int64).reshape(batch, seq) % 900) + 100
    mask = np.ones((batch, seq), dtype=np.int64)
    for row in range(1, batch):
        mask[row, seq - row :] = 0
    return ids, mask


def _export_fp32(module: Any, path: Path) -> None:
    import torch

    ids, mask = _dummy_inputs(2, 8)
    with warnings.catch_warnings(), torch.inference_mode():
        # The TorchScript exporter (dynamo=False) needs neither onnxscript nor a
        # network, and exports BERT-style encoders with dynamic batch and length.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.from_numpy(ids), torch.from_numpy(mask)),
            str(path),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
        )


def _quantize_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # MatMul only: the weights are almost all in the MatMuls; quantising
    # Gather (embeddings) or Add costs fidelity for no speed. Per channel:
    # one scale per output column keeps small-range columns precise.
    root = logging.getLogger()
    # quantize_dynamic advises "pre-processing" on the root logger, every time;
    # the advice (shape inference for static quantisation) does not apply here.
    skip = down_projections(src)
    quiet = _DropRecords("pre-processing before quantization")
    # logging.warning() on a root without handlers would configure one for good.
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    root.addFilter(quiet)
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=skip,
        )
    finally:
        root.removeFilter(quiet)
        root.removeHandler(placeholder)


def down_projections(path: Path) -> list[str]:
    """Names of the MatMuls whose constant weight narrows (``K x N`` with ``K > N``).

    In a BERT-style encoder these are the feed-forward blocks' output
    projections (1,536 -> 384 in MiniLM). Their inputs come out of GELU with
    long tails, which one int8 scale per tensor resolves badly: quantising
    them cost most of int8's error here (mean cosine to fp32 0.992 with them,
    0.996 without; eval B-cubed F1 -0.021 with them), so they stay fp32
    (docs/embedding.md). The rule uses shapes only, so it holds for any
    encoder ``--model`` names.
    """
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type != "MatMul" or len(node.input) < 2:
            continue
        dims = shapes.get(node.input[1])
        if dims is not None and len(dims) == 2 and dims[0] > dims[1]:
            out.append(node.name)
    return out


class _DropRecords(logging.Filter):
    """Drops log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _check_export(module: Any, path: Path, runtime: str, model_name: str) -> None:
    """Compare the exported graph to torch on shapes it was not traced with."""
    import torch

    ids, mask = _dummy_inputs(3, 13)
    with torch.inference_mode():
        want = module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    got = OnnxEncoder(path, threads=1)(ids, mask)
    worst = float((want * got).sum(axis=1).min())
    if got.shape != want.shape or worst < EXPORT_CHECK_COSINE[runtime]:
        raise RuntimeError(
            f"the ONNX export of {model_name} does not match torch (cosine {worst:.4f} < "
            f"{EXPORT_CHECK_COSINE[runtime]}); use --runtime torch"
        )


class OnnxEncoder:
    """An ONNX Runtime session of an exported encoder: token ids in, unit vectors out.

    Parameters
    ----------
    path:
        The exported ``model.onnx``.
    threads:
        Intra-op threads. Idle threads do not spin (``allow_spinning=0``): on
        2 cores a spinning worker thread takes the core the event loop and the
        other stages need.
    """

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, int(threads))
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3  # errors only: no warnings about unused initialisers
        self.path = Path(path)
        self.threads = so.intra_op_num_threads
        self._session = ort.InferenceSession(
            str(path), sess_options=so, providers=["CPUExecutionProvider"]
        )
        self.dim = int(self._session.get_outputs()[0].shape[1] or 0) or None

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Embed one padded batch: ``(n, tokens)`` int64 arrays to ``(n, dim)`` float32."""
        out = self._session.run(
            None,
            {
                "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
                "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
            },
        )[0]
        return np.asarray(out, dtype=np.float32)
