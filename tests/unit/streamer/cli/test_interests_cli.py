"""``topictrack interests USER`` over a chdb store (no worker running)."""

from __future__ import annotations

import json

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
