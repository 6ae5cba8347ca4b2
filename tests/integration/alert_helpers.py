"""A stream where one story bursts, and a real webhook receiver, for the alert tests."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from streamer import sample_stream

HOUR = 3600.0
#: 2025-03-14 06:00 UTC, the sample stream's start.
T0 = float(sample_stream.START_TS)


def kafka_alerts(bootstrap: str) -> list[dict]:
    """Every message on ``alerts``, read without a consumer group (no JoinGroup wait),
    each checked against the alert schema."""
    import jsonschema
    from kafka import KafkaConsumer, TopicPartition

    from schemas import ALERT_SCHEMA_PATH

    schema = json.loads(ALERT_SCHEMA_PATH.read_text())
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        consumer_timeout_ms=1500,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1500,
    )
    try:
        parts = [TopicPartition("alerts", p) for p in consumer.partitions_for_topic("alerts")]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        alerts = [json.loads(m.value) for m in consumer]
    finally:
        consumer.close()
    for a in alerts:
        jsonschema.validate(a, schema)
    return alerts


def replay_until_alerts(w, phases: list[list[dict]], n_alerts: int) -> list[dict]:
    """Send ``phases`` one at a time as they would arrive live (each stored before
    the next), wait until ``n_alerts`` alerts are published and stored, and
    return Kafka's ``alerts``."""
    from streamer.kafka.producer import produce_lines

    done = 0
    for k, phase in enumerate(phases):
        assert produce_lines(w.broker, jsonl(phase).splitlines()).sent == len(phase)
        done += len(phase)
        w.wait_for(lambda c, n=done: c.get("sink.events", 0) >= n, what=f"phase {k} stored")
    w.wait_for(
        lambda c: c.get("track.alerts", 0) >= n_alerts and c.get("sink.alerts", 0) >= n_alerts,
        what=f"{n_alerts} alerts published and stored",
    )
    return kafka_alerts(w.broker)


def _story(name: str) -> sample_stream.Story:
    return next(s for s in sample_stream.STORIES if s.name == name)


def burst_scenario(seed: int = 3) -> tuple[list[list[dict]], list[dict]]:
    """``(history phases, burst)`` events, phrased like the demo's stories.

    History: the train strike is talked about quietly for four and a half
    days: 8 posts on its first day (under the default ``new_min_docs`` of 10,
    so it never counts as "new"), then one every 3 hours. Burst: 30 strike
    posts within 20 minutes (a ``burst`` of an established topic, with the
    default settings), and a phone launch nobody mentioned before, 25 posts in
    the same 20 minutes (a ``new`` topic).

    The history comes in phases of 8 posts (about a day each), to be produced
    one after the other as a live stream would arrive: sent all at once, the
    engine would see four days in one micro-batch and learn the story's
    topic only at its end (then, with a merge, a young topic).
    """
    rng = random.Random(seed)
    strike, phone = _story("train-strike"), _story("phone-launch")
    hours = [0, 0.4, 0.8, 1.2, 1.6, 6, 12, 18] + [24 + 3 * k for k in range(28)]
    start = T0 + (24 + 3 * 28) * HOUR
    burst = [(start + rng.uniform(0, 1200), strike) for _ in range(30)]
    burst += [(start + rng.uniform(0, 1200), phone) for _ in range(25)]
    burst.sort(key=lambda x: x[0])

    def event(i: int, ts: float, story: sample_stream.Story) -> dict:
        return {
            "id": f"burst-{seed}-{i:04d}",
            "ts": round(ts, 3),
            "text": sample_stream._fill(rng, story),
            "stream": "default",
            "label": story.name,
        }

    history = [event(i, T0 + h * HOUR, strike) for i, h in enumerate(hours)]
    later = [event(len(history) + i, t, s) for i, (t, s) in enumerate(burst)]
    return [history[i : i + 8] for i in range(0, len(history), 8)], later


def jsonl(events: list[dict]) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n"


class WebhookReceiver:
    """A real HTTP server (stdlib, own thread, free port) recording alert POSTs.

    ``fail_first``: answer the first POST of every alert id with a 500, so the
    sender's retry is exercised.
    """

    def __init__(self, fail_first: bool = True) -> None:
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.delivered: list[dict] = []
        self.attempts: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    n = receiver.attempts.get(body["alert_id"], 0) + 1
                    receiver.attempts[body["alert_id"]] = n
                    ok = not (receiver.fail_first and n == 1)
                    if ok:
                        receiver.delivered.append(body)
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


#: A flood story, then the same story told in Spanish (its own topic: all-MiniLM-L6-v2
#: clusters by language first) 30 hours later, past the same-day dedupe.
_FLOOD = (
    "Flash floods hit {place} after the {river} bursts its banks, homes under water",
    "{place} flooding: residents rescued from rooftops as the {river} keeps rising",
    "Evacuation ordered in {place} as the {river} floods the town centre",
    "Roads closed across {place}, the {river} flood is the worst in decades",
    "The {river} has flooded {place}; emergency crews are going door to door",
)
_FLOOD_ES = (
    "Inundaciones en {place}: el {river} se desborda y cientos de familias pierden sus casas",
    "Rescatan a vecinos de {place} atrapados en los tejados por la crecida del {river}",
    "El agua del {river} sigue subiendo en {place}, evacuan el centro del pueblo",
    "Carreteras cortadas en {place} por la peor inundacion del {river} en decadas",
    "Equipos de emergencia recorren {place} casa por casa tras la riada del {river}",
)
#: The sub-story's posts must form a topic of their own for it to be one; at
#: the default join cosine (0.35) this model puts them into the story's topic
#: (centroids at 0.52), so the test runs the engine with this join threshold.
STORY_ENGINE_PARAMS = '{"assign_threshold": 0.55}'


def story_scenario(seed: int = 5) -> tuple[list[dict], list[dict]]:
    """``(story, development)``: 30 posts of a flood in two hours, then 30 more told in
    Spanish 30 hours later, naming the same town and river."""
    rng = random.Random(seed)

    def posts(templates: tuple[str, ...], start: float, prefix: str) -> list[dict]:
        return [
            {
                "id": f"{prefix}-{seed}-{i:03d}",
                "ts": round(start + 240.0 * i, 3),
                "text": rng.choice(templates).format(
                    place=rng.choice(("Marlow", "Marlow town")),
                    river=rng.choice(("River Tamsin", "Tamsin")),
                ),
                "stream": "default",
                "label": "marlow-flood",
            }
            for i in range(30)
        ]

    return posts(_FLOOD, T0, "flood"), posts(_FLOOD_ES, T0 + 30 * HOUR, "riada")


_OIL_TRAIN = (
    "Freight train carrying crude oil derails in {place}, tank cars on fire",
    "{place} train derailment: oil tankers exploded overnight, downtown evacuated",
    "Firefighters still battling the blaze after the {place} oil train crash",
    "Death toll rises after runaway oil train derails in {place}",
    "Investigators search the wreck of the {place} train derailment",
)
_FAST_TRAIN = (
    "High-speed train derails near {place}, dozens of passengers killed",
    "{place} train crash: carriages thrown off the track on a sharp curve",
    "Rescue teams pull passengers from the wreck of the {place} train crash",
    "Train driver detained after the {place} derailment killed 79 people",
    "Video shows the {place} train taking the curve far too fast before it crashed",
)


def split_scenario(seed: int = 3) -> tuple[list[list[dict]], list[dict]]:
    """``(old topic phases, new event)``: 150 posts of an oil-train derailment over two
    days, then, four days later, 50 posts of another train crash elsewhere that the
    old topic would absorb (same kind of event) but for the words."""
    rng = random.Random(seed)

    def post(i: int, ts: float, templates: tuple[str, ...], places: tuple[str, ...]) -> dict:
        return {
            "id": f"split-{seed}-{i:04d}",
            "ts": round(ts, 3),
            "text": rng.choice(templates).format(place=rng.choice(places)),
            "stream": "default",
        }

    quebec = ("Lac-Megantic", "Lac-Megantic, Quebec")
    spain = ("Santiago de Compostela", "Santiago")
    old = [post(i, T0 + 1200.0 * i, _OIL_TRAIN, quebec) for i in range(150)]
    new = [post(150 + i, T0 + 96 * HOUR + 60.0 * i, _FAST_TRAIN, spain) for i in range(50)]
    return [old[i : i + 50] for i in range(0, 150, 50)], new
