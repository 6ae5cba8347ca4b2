"""Command-line options shared between commands, and what they build.

- ``run``, ``worker`` and ``demo``: :func:`add_pipeline_options` and
  :func:`settings_from_args` (a :class:`~streamer.config.Settings`);
- the read commands ``topics``, ``trending`` and ``alerts``:
  :func:`add_read_options` (``--data-dir``, ``--store``, ``--stream``,
  ``--json``) and :func:`read_from_worker_or_store`, which asks a running
  worker's HTTP API first (it holds the chdb directory) and opens the store
  only when no worker answers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from streamer.api.client import ask_worker
from streamer.config import (
    API_TOKEN_ENV,
    DEFAULT_WEB_PORT,
    ConfigError,
    Settings,
    check_api_exposure,
    parse_agents,
    parse_broker_url,
    parse_store_url,
)
from streamer.discovery import running_workers
from streamer.kafka.broker import free_port
from streamer.pipeline.params import alert_settings, event_time_policy, interest_settings
from streamer.pipeline.webhook import check_url
from streamer.store import Store, StoreError, open_store
from workers.embedding import RUNTIME_CHOICES, resolve_runtime

T = TypeVar("T")


def setup_logging(level: str) -> None:
    """Log to stderr at ``--log-level``."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="[%(asctime)s] [%(levelname)s] %(name)s: %(message)s",
    )


def json_object(text: str) -> dict:
    """argparse type: a JSON object (``--engine-params``, ``--alert-params``)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def add_runtime_options(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--runtime`` and ``--embed-threads`` (pipeline commands and ``eval``)."""
    p.add_argument(
        "--runtime",
        default="auto",
        choices=RUNTIME_CHOICES,
        help="embedding runtime: auto (default: onnx fp32 on a CPU, torch fp16 on CUDA), "
        "torch, onnx (fp32) or onnx-int8 (about 2x onnx, less faithful); the ONNX model is "
        "exported from --model on first use and cached (docs/embedding.md)",
    )
    p.add_argument(
        "--embed-threads",
        type=int,
        default=0,
        metavar="N",
        help="intra-op threads of the model (default 0: 1 on a CPU, see docs/embedding.md)",
    )


def add_pipeline_options(
    p: argparse.ArgumentParser, *, data_dir: str = "data", web_port: int | None = DEFAULT_WEB_PORT
) -> None:
    g = p.add_argument_group("pipeline")
    g.add_argument(
        "--broker",
        default="embedded",
        help="'embedded' (start tansu here, default) or kafka://host:port[,host:port]",
    )
    g.add_argument(
        "--store",
        default="chdb",
        help="chdb (default, <data-dir>/chdb), chdb:PATH or clickhouse://host:9000/db",
    )
    g.add_argument("--data-dir", default=data_dir, help="state folder (default: %(default)s)")
    g.add_argument(
        "--model",
        default=None,
        help="encoder: local folder or Hugging Face name (default: the packaged all-MiniLM-L6-v2)",
    )
    g.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    add_runtime_options(g)
    g.add_argument(
        "--engine",
        default="topictrack",
        help="online topic engine: topictrack (default) or river-streamkmeans",
    )
    g.add_argument(
        "--engine-params",
        default="{}",
        type=json_object,
        help="engine parameters as JSON, e.g. '{\"assign_threshold\": 0.35}' (docs/engine.md)",
    )
    g.add_argument(
        "--alert-params",
        default="{}",
        type=json_object,
        help="alert settings as JSON (workers.alerts.AlertSettings fields), "
        "e.g. '{\"new_min_docs\": 20}'",
    )
    g.add_argument(
        "--event-time-params",
        default="{}",
        type=json_object,
        help="event-time policy as JSON (workers.event_clock.EventTimePolicy fields, "
        "docs/event_time.md), e.g. '{\"allowed_lateness_s\": 86400}'",
    )
    g.add_argument(
        "--interest-params",
        default="{}",
        type=json_object,
        help="per-user interest settings as JSON (workers.interests.InterestSettings "
        "fields, docs/interests.md), e.g. '{\"half_life_s\": 259200}'",
    )
    g.add_argument(
        "--alert-webhook",
        default=None,
        metavar="URL",
        help="POST every alert as JSON to this http(s) URL (background, retried, never blocks)",
    )
    g.add_argument("--partitions", type=int, default=1, help="partitions per topic when created")
    g.add_argument("--embed-batch", type=int, default=0, help="events per embed micro-batch")
    g.add_argument(
        "--web-port",
        type=int,
        default=web_port,
        help="HTTP API port"
        + (" (default: %(default)s)" if web_port else " (default: a free one)"),
    )
    add_api_options(g)
    g.add_argument(
        "--checkpoint-interval", type=float, default=10.0, help="seconds between engine checkpoints"
    )
    g.add_argument(
        "--checkpoints",
        default="",
        metavar="DIR|URL",
        help="where track checkpoints its state, one per partition of 'embedded': a folder "
        "(default: <data-dir>/checkpoints/track) or clickhouse://host:9000/db, which every "
        "track worker must reach so a partition's topics move with it",
    )
    g.add_argument("--log-level", default="warning", help="debug, info, warning (default), error")


def add_api_options(g: argparse._ActionsContainer) -> None:
    """``--web-host``, ``--api-token`` and ``--cors-origin`` (pipeline commands and serve)."""
    g.add_argument("--web-host", default="127.0.0.1", help="HTTP API bind address")
    g.add_argument(
        "--api-token",
        default=None,
        help=f"bearer token the API requires (default: ${API_TOKEN_ENV}); "
        "required when --web-host is not loopback",
    )
    g.add_argument(
        "--cors-origin",
        default=None,
        metavar="ORIGIN",
        help="allow browser calls from this origin, e.g. https://grafana.example (default: off)",
    )


def api_token(args: argparse.Namespace) -> str | None:
    """``--api-token``, else the environment; checked against ``--web-host``."""
    token = args.api_token or os.environ.get(API_TOKEN_ENV) or None
    check_api_exposure(args.web_host, token)
    return token


def settings_from_args(args: argparse.Namespace, agents: str = "all") -> Settings:
    """Settings from parsed options (``--agents`` overrides ``agents`` when present)."""
    # Fail before anything starts, with the option's name in the message.
    alert_settings(args.alert_params)
    event_time_policy(args.event_time_params)
    interest_settings(args.interest_params)
    if args.device != "auto":  # "auto" is resolved where torch is loaded (embed stage)
        try:
            resolve_runtime(args.runtime, args.device)
        except ValueError as exc:
            raise ConfigError(f"--runtime: {exc}") from None
    if args.embed_threads < 0:
        raise ConfigError("--embed-threads must be >= 0 (0: the default)")
    if args.alert_webhook:
        try:
            check_url(args.alert_webhook)
        except ValueError as exc:
            raise ConfigError(f"--alert-webhook: {exc}") from None
    return Settings(
        broker=parse_broker_url(args.broker),
        store=args.store,
        data_dir=Path(args.data_dir),
        model=args.model,
        device=args.device,
        runtime=args.runtime,
        embed_threads=args.embed_threads,
        engine=args.engine,
        engine_params=dict(args.engine_params),
        alert_params=dict(args.alert_params),
        event_time_params=dict(args.event_time_params),
        interest_params=dict(args.interest_params),
        alert_webhook=args.alert_webhook or None,
        agents=parse_agents(getattr(args, "agents", None) or agents),
        partitions=args.partitions,
        embed_batch=args.embed_batch,
        web_host=args.web_host,
        web_port=args.web_port or free_port(args.web_host),
        api_token=api_token(args),
        cors_origin=args.cors_origin,
        checkpoint_interval=args.checkpoint_interval,
        checkpoints=_checkpoints(args.checkpoints),
        log_level=args.log_level,
    )


def add_read_options(
    p: argparse.ArgumentParser, *, stream_default: str | None = None, json_help: str = "print JSON"
) -> None:
    """``--data-dir``, ``--store``, ``--stream`` and ``--json`` of the read commands."""
    p.add_argument("--data-dir", default="data", help="state folder (default: %(default)s)")
    p.add_argument(
        "--store",
        default="chdb",
        help="store to read when no worker runs: chdb (default), chdb:PATH or "
        "clickhouse://host:9000/db",
    )
    p.add_argument(
        "--stream",
        default=stream_default,
        help="stream key" + (" (default: %(default)s)" if stream_default else " (default: all)"),
    )
    p.add_argument("--json", action="store_true", help=json_help)


def read_from_worker_or_store(
    args: argparse.Namespace,
    path: str,
    params: dict[str, str],
    agents: tuple[str, ...],
    from_body: Callable[[dict[str, Any]], T],
    from_store: Callable[[Store], T],
    missing: Callable[[], T] | None = None,
) -> tuple[T, str]:
    """What a read command shows, and where it came from.

    Asks a running worker of ``--data-dir`` (or of its ``demo`` folder) that
    runs one of ``agents`` (in that order of preference) for ``path``; without
    one, opens ``--store`` and calls ``from_store``. A worker answering 400
    means our parameters are wrong: that is a :class:`ConfigError`. With
    ``missing``, a 404 from the worker that holds the store is the answer
    (``missing()``), instead of opening a store that worker holds.
    """
    data_dir = Path(args.data_dir)
    try:
        dirs = [data_dir, data_dir / "demo"]
        got = ask_worker(dirs, path, params, agents, missing_is_final=missing is not None)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except LookupError as exc:
        assert missing is not None
        return missing(), str(exc)
    if got is not None:
        body, source = got
        return from_body(body), source
    _refuse_held_chdb(args.store, data_dir, dirs, path)
    with open_store(args.store, data_dir) as store:
        return from_store(store), store.url


def _refuse_held_chdb(store: str, data_dir: Path, dirs: list[Path], path: str) -> None:
    """Raise :class:`StoreError` when a live worker holds the chdb directory we would
    open (it did not answer in time): opening it would fail, or block inside chdb
    where not even Ctrl-C reaches (seen with ``alerts --follow`` under load)."""
    try:
        spec = parse_store_url(store, data_dir)
    except ValueError:
        return  # open_store reports a bad --store
    if spec.kind != "chdb":
        return  # a server takes any number of clients
    want = spec.path.resolve()
    for w in (w for d in dirs for w in running_workers(d)):
        held = str(w.get("store") or "")
        if held.startswith("chdb:") and Path(held[len("chdb:") :]).resolve() == want:
            raise StoreError(
                f"worker pid {w.get('pid')} holds {spec.display()} and did not answer "
                f"{path} in time; try again (its API: {w.get('web')})"
            )


def _checkpoints(value: str) -> str:
    """``--checkpoints``: a folder or a ``clickhouse://`` URL (checked now, not at start)."""
    if value.startswith("clickhouse://"):
        try:
            parse_store_url(value)
        except ValueError as exc:
            raise ConfigError(f"--checkpoints: {exc}") from None
    elif value.startswith(("chdb", "kafka://")):
        raise ConfigError(
            "--checkpoints must be a folder or clickhouse://host:9000/db (chdb cannot be "
            "shared between processes)"
        )
    return value
