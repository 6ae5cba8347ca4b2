"""Which producers reach the embedded broker (the README's client table).

kafka-python is ``topictrack produce`` (tests/integration/test_pipeline.py);
here aiokafka and HTTP ingest must get their events stored, and librdkafka
(Debian's kcat, when installed: ``.ci/run`` installs it) must still fail at
its first request, as the README says; if tansu learns to answer it, this
test says the table is out of date.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import urllib.request

import pytest
from integration_helpers import Worker


def test_aiokafka_and_http_ingest_reach_the_embedded_broker(tmp_path):
    from aiokafka import AIOKafkaProducer

    with Worker(tmp_path / "data") as w:

        async def send() -> None:
            p = AIOKafkaProducer(bootstrap_servers=w.broker)
            await p.start()
            try:
                body = {"id": "c-aiokafka", "ts": 1741932001, "text": "aiokafka sends this"}
                await p.send_and_wait("events", json.dumps(body).encode(), key=b"default")
            finally:
                await p.stop()

        asyncio.run(send())
        ndjson = b'{"id":"c-http","ts":1741932003,"text":"HTTP ingest sends this"}\n{"id":"x"}\n'
        req = urllib.request.Request(
            f"http://127.0.0.1:{w.port}/api/v1/events", data=ndjson, method="POST"
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = json.load(r)
        assert answer["accepted"] == 1 and answer["ids"] == ["c-http"]
        assert answer["rejected"][0]["line"] == 2
        w.wait_for(lambda c: c.get("sink.events", 0) >= 2, what="both events stored")
        streams = w.get("/api/v1/streams")["streams"]
        assert streams[0]["events"] == 2

        kcat = shutil.which("kcat")
        if kcat is None:
            if os.environ.get("CI") == "true":
                pytest.fail("CI must install kcat (.ci/run does) to recheck the client table")
            pytest.skip("kcat not installed: the librdkafka row of the table is not rechecked")
        res = subprocess.run(
            [kcat, "-P", "-b", w.broker, "-t", "events", "-k", "default"],
            input=b'{"id":"c-kcat","ts":1741932002,"text":"kcat"}\n',
            capture_output=True,
            timeout=60,
        )
        assert res.returncode != 0 and b"Read underflow" in res.stderr, res.stderr[-500:]
