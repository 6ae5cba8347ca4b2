from __future__ import annotations

import sys

import pytest

from streamer import cli
from streamer.dashboard import render


def test_render_table():
    topics = [
        {"topic_id": 2, "size": 5, "weight": 1.0, "keywords": ["b"], "status": "active"},
        {"topic_id": 1, "size": 9, "weight": 3.0, "keywords": ["a", "x"], "status": "dormant"},
    ]
    lines = render(topics, {1: 4}, header="H", limit=1)
    assert lines[0] == "H"
    assert "1" in lines[2] and "a, x" in lines[2] and "4" in lines[2]
    assert "1 more topic" in lines[-1]
    assert "no topics yet" in render([])[-1]


def test_cli_lists_commands_and_skips_missing_optional(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, ("streamer.not_written_yet", True)))
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("demo", "run", "worker", "produce", "topics", "migrate"):
        assert name in sub.choices


def test_cli_required_missing_module_fails(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", (("streamer.not_written_yet", False),))
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


def test_produce_missing_file_exits_2(capsys):
    assert cli.main(["produce", "/nonexistent/file.jsonl", "--broker", "kafka://h:1"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_help_runs(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "demo" in capsys.readouterr().out
    assert sys.modules["streamer.cli"] is cli
