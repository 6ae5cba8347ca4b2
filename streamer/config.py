"""Settings shared by the worker, the producer and the CLI, and ``--broker``/``--store`` parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Kafka topic names (the shape in the README). ``events`` carries producers' raw JSON.
TOPIC_EVENTS = "events"
TOPIC_EMBEDDED = "embedded"
TOPIC_ASSIGNMENTS = "assignments"
TOPIC_TOPIC_UPDATES = "topic-updates"
TOPIC_ALERTS = "alerts"
TOPIC_DEAD_LETTER = "dead-letter"
TOPIC_USER_INTERESTS = "user-interests"
ALL_TOPICS = (
    TOPIC_EVENTS,
    TOPIC_EMBEDDED,
    TOPIC_ASSIGNMENTS,
    TOPIC_TOPIC_UPDATES,
    TOPIC_ALERTS,
    TOPIC_DEAD_LETTER,
    TOPIC_USER_INTERESTS,
)

#: The three stages; a worker runs any subset (all by default).
AGENTS = ("embed", "track", "sink")

DEFAULT_WEB_PORT = 6066
DEFAULT_CLICKHOUSE_PORT = 9000
DEFAULT_CLICKHOUSE_DB = "topictrack"


class ConfigError(ValueError):
    """A bad option value, reported to the user without a traceback."""


#: Environment variable read when ``--api-token`` is not given.
API_TOKEN_ENV = "TOPICTRACK_API_TOKEN"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]").lower()
    return h == "localhost" or h == "::1" or h.startswith("127.")


def check_api_exposure(host: str, token: str | None) -> None:
    """An API bound beyond loopback must have a token (``--api-token`` or the env)."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--web-host {host} reaches beyond this machine: set --api-token or "
            f"{API_TOKEN_ENV} so the API asks callers for it"
        )


@dataclass(frozen=True)
class BrokerSpec:
    """``embedded`` (start tansu here) or a list of ``host:port`` bootstrap servers."""

    embedded: bool
    bootstrap: tuple[str, ...] = ()

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(self.bootstrap)


def parse_broker_url(value: str) -> BrokerSpec:
    """Parse ``--broker``: ``embedded`` or ``kafka://host:port[,host:port...]``."""
    v = value.strip()
    if v in ("", "embedded"):
        return BrokerSpec(embedded=True)
    if not v.startswith("kafka://"):
        raise ValueError(
            f"--broker must be 'embedded' or kafka://host:port[,host:port], got {value!r}"
        )
    hosts = []
    for part in v[len("kafka://") :].rstrip("/").split(","):
        part = part.strip()
        if not part:
            continue
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"broker address must be host:port, got {part!r}")
        hosts.append(f"{host}:{int(port)}")
    if not hosts:
        raise ValueError(f"no broker address in {value!r}")
    return BrokerSpec(embedded=False, bootstrap=tuple(hosts))


@dataclass(frozen=True)
class StoreSpec:
    """Where results go: chdb in a folder, or a ClickHouse server."""

    kind: str  # "chdb" or "clickhouse"
    path: Path = Path()
    host: str = ""
    port: int = DEFAULT_CLICKHOUSE_PORT
    database: str = DEFAULT_CLICKHOUSE_DB
    user: str = "default"
    password: str = ""

    def display(self) -> str:
        if self.kind == "chdb":
            return f"chdb:{self.path}"
        return f"clickhouse://{self.host}:{self.port}/{self.database}"


def parse_store_url(value: str, data_dir: str | Path = "data") -> StoreSpec:
    """Parse ``--store``: ``chdb``, ``chdb:PATH`` or ``clickhouse://[user[:pw]@]host[:port]/db``."""
    v = value.strip()
    if v in ("", "chdb"):
        return StoreSpec(kind="chdb", path=Path(data_dir) / "chdb")
    if v.startswith("chdb:"):
        rest = v[len("chdb:") :]
        if rest.startswith("//"):
            rest = rest[2:]
        if not rest:
            raise ValueError("chdb: needs a path, e.g. chdb:./data/chdb")
        return StoreSpec(kind="chdb", path=Path(rest))
    if v.startswith("clickhouse://"):
        u = urlsplit(v)
        if not u.hostname:
            raise ValueError(f"no host in {value!r}")
        database = u.path.strip("/") or DEFAULT_CLICKHOUSE_DB
        if "/" in database or not database.replace("_", "").isalnum():
            raise ValueError(f"database name must be letters, digits and _: {database!r}")
        return StoreSpec(
            kind="clickhouse",
            host=u.hostname,
            port=u.port or DEFAULT_CLICKHOUSE_PORT,
            database=database,
            user=unquote(u.username) if u.username else "default",
            password=unquote(u.password) if u.password else "",
        )
    raise ValueError(f"--store must be chdb, chdb:PATH or clickhouse://host:port/db, got {value!r}")


def parse_agents(value: str) -> frozenset[str]:
    """Parse ``--agents embed,track,sink`` (or ``all``)."""
    if value.strip() in ("", "all"):
        return frozenset(AGENTS)
    names = {a.strip() for a in value.split(",") if a.strip()}
    unknown = names - set(AGENTS)
    if unknown:
        raise ValueError(f"unknown agent(s) {sorted(unknown)}; choose from {', '.join(AGENTS)}")
    return frozenset(names)


@dataclass
class Settings:
    """Everything a worker needs. The CLI fills it from options; tests build it directly."""

    broker: BrokerSpec = field(default_factory=lambda: BrokerSpec(embedded=True))
    store: str = "chdb"
    data_dir: Path = Path("data")
    model: str | None = None
    device: str = "auto"
    #: Embedding runtime (``--runtime``): auto, torch, onnx, onnx-int8 (docs/embedding.md).
    runtime: str = "auto"
    #: Model intra-op threads (``--embed-threads``); 0 = by device (CPU 1).
    embed_threads: int = 0
    #: Padded tokens per forward pass; 0 = by device (CPU 512, CUDA 32,768).
    token_budget: int = 0
    engine: str = "topictrack"
    engine_params: dict[str, object] = field(default_factory=dict)
    #: ``workers.alerts.AlertSettings`` fields (``--alert-params``); {} = defaults.
    alert_params: dict[str, object] = field(default_factory=dict)
    #: ``workers.event_clock.EventTimePolicy`` fields (``--event-time-params``); {} = defaults.
    event_time_params: dict[str, object] = field(default_factory=dict)
    #: ``workers.interests.InterestSettings`` fields (``--interest-params``); {} = defaults.
    interest_params: dict[str, object] = field(default_factory=dict)
    #: POST every alert here (``--alert-webhook``); None = no webhook.
    alert_webhook: str | None = None
    agents: frozenset[str] = frozenset(AGENTS)
    partitions: int = 1
    #: Events per embed micro-batch; 0 = by device (CPU 64, CUDA 1024).
    embed_batch: int = 0
    #: Most texts per forward pass; 0 = by device (CPU 64, CUDA 256).
    encode_batch: int = 0
    #: Seconds to wait for a micro-batch to fill before processing what is there.
    #: Short: forward passes are cut by tokens (~12 tweets on a CPU), so a
    #: fuller micro-batch buys no speed, only latency (docs/embedding.md).
    embed_within: float = 0.1
    #: Embedded messages (each up to ``MAX_DOCS_PER_MESSAGE`` docs) per track batch.
    track_batch: int = 16
    #: Each message already holds a whole embed micro-batch: waiting for more
    #: only adds latency.
    track_within: float = 0.05
    #: Messages per sink insert round, and the longest a row waits for it. A
    #: quarter second keeps a quiet stream's inserts at four per table per
    #: second (ClickHouse wants few, large ones; under load a round fills to
    #: 2,000 messages first) and leaves room in the 2 s p99 latency target:
    #: each Kafka hop costs ~0.2-0.4 s beyond its window here (docs/embedding.md).
    sink_batch: int = 2000
    sink_within: float = 0.25
    #: Seconds between engine checkpoints (also written on shutdown).
    checkpoint_interval: float = 10.0
    #: Where ``track`` checkpoints (``--checkpoints``): "" = ``<data-dir>/checkpoints/track``,
    #: another folder, or ``clickhouse://...`` for workers on several hosts.
    checkpoints: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = DEFAULT_WEB_PORT
    #: Bearer token the HTTP API requires (``--api-token``); required beyond loopback.
    api_token: str | None = None
    #: Answer CORS requests from this origin only (``--cors-origin``); None = CORS off.
    cors_origin: str | None = None
    log_level: str = "warning"
    #: Which life of the broker's contents this run sees: checkpointed Kafka
    #: offsets are used only when written in the same one. "" for a persistent
    #: Kafka; a fresh id whenever an in-memory broker starts empty (the embedded
    #: tansu), so a restarted ``run`` ignores offsets of a broker that is gone,
    #: while a worker restarted under the same broker keeps them.
    broker_epoch: str = ""

    @property
    def store_spec(self) -> StoreSpec:
        return parse_store_url(self.store, self.data_dir)

    @property
    def app_id(self) -> str:
        """Faust app id = Kafka consumer group: one per agent set.

        All stages in one worker share the group ``topictrack``; a worker running
        a subset gets its own group (``topictrack-embed``...), the usual Kafka
        pattern of one consumer group per stage.
        """
        if self.agents == frozenset(AGENTS):
            return "topictrack"
        return "topictrack-" + "-".join(a for a in AGENTS if a in self.agents)
