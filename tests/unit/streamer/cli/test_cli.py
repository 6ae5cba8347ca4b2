from __future__ import annotations

import sys

import pytest

from streamer import cli


def test_cli_lists_every_command_module_under_its_own_name():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = [m.rsplit(".", 1)[1] for m in cli.COMMANDS]
    assert list(sub.choices) == names
    assert names == [
        "demo",
        "run",
        "worker",
        "produce",
        "topics",
        "trending",
        "alerts",
        "serve",
        "migrate",
        "eval",
        "interests",
    ]


def test_a_missing_command_module_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", ("streamer.cli.not_written_yet",))
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


def test_an_api_beyond_loopback_needs_a_token(monkeypatch, capsys):
    monkeypatch.delenv("TOPICTRACK_API_TOKEN", raising=False)
    code = cli.main(["serve", "--web-host", "0.0.0.0", "--store", "chdb:/nonexistent/x"])
    assert code == 1
    assert "--api-token" in capsys.readouterr().err
