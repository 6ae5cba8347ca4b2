"""The read commands' shared path (streamer/cli/options.py: worker first, else the store)."""

from __future__ import annotations

import socket

from streamer import cli


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
