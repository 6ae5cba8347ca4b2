"""``topictrack interests USER`` over a chdb store (no worker running)."""

from __future__ import annotations

import json
import socket

from streamer import cli
from streamer.store import open_store
from tests.unit.streamer.api.test_interest_routes import profile_row, topic_row


def test_interests_prints_a_profile_and_refuses_unknown_users(tmp_path, capsys):
    with open_store(f"chdb:{tmp_path / 'ch'}") as s:
        s.migrate()
        s.insert("topics", [{**topic_row(1, "guitar amp", [1.0, 0.0], 1.0), "stream": "default"}])
        s.insert("user_interests", [{**profile_row("ann", 2, [1], [1.0], [1.0, 0.0]),
                                     "stream": "default"}])  # fmt: skip
    args = ["--store", f"chdb:{tmp_path / 'ch'}", "--data-dir", str(tmp_path)]
    assert cli.main(["interests", "ann", "--json", *args]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["user_id"] == "ann" and body["topics"][0]["label"] == "guitar amp"
    assert cli.main(["interests", "ann", *args]) == 0
    assert "guitar amp" in capsys.readouterr().out
    assert cli.main(["interests", "bob", *args]) == 1
    assert "no profile" in capsys.readouterr().err
    assert cli.main(["interests", "ann", "--limit", "99", *args]) == 1  # an option error


def test_a_read_command_never_opens_the_chdb_a_silent_worker_holds(tmp_path, capsys):
    """A live worker that holds the chdb directory but does not answer: the command
    says so instead of opening it (which fails, or blocks where Ctrl-C cannot reach)."""
    from streamer.discovery import write_runtime_file

    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there: the worker "does not answer"
    write_runtime_file(
        tmp_path,
        {
            "agents": ["embed", "sink", "track"],
            "web": f"http://127.0.0.1:{port}",
            "store": f"chdb:{(tmp_path / 'chdb').resolve()}",
        },
    )
    assert cli.main(["alerts", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"holds chdb:{tmp_path / 'chdb'}" in err and "did not answer" in err
    assert not (tmp_path / "chdb").exists()  # never opened
