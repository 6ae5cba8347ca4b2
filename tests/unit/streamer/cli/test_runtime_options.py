"""``--runtime`` and ``--embed-threads``: parsed into Settings, bad values refused at once."""

from __future__ import annotations

import argparse

import pytest

from streamer import cli
from streamer.cli.options import add_pipeline_options, settings_from_args
from streamer.config import ConfigError


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_pipeline_options(p)
    return p.parse_args(list(argv))


def test_runtime_and_threads_reach_the_settings():
    s = settings_from_args(_args("--runtime", "onnx", "--embed-threads", "2", "--web-port", "1"))
    assert (s.runtime, s.embed_threads) == ("onnx", 2)


def test_the_default_runtime_is_auto():
    s = settings_from_args(_args("--web-port", "1"))
    assert (s.runtime, s.embed_threads) == ("auto", 0)


def test_an_unknown_runtime_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--runtime", "tensorrt"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--runtime: invalid choice: 'tensorrt'" in err
    assert "'onnx-int8'" in err


def test_eval_refuses_an_unknown_runtime_too(capsys, tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["eval", str(tmp_path / "x.jsonl"), "--runtime", "int4"])
    assert "invalid choice: 'int4'" in capsys.readouterr().err


@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_onnx_on_an_explicit_gpu_stops_the_start_with_the_reason(runtime):
    with pytest.raises(ConfigError, match="runs on the CPU only"):
        settings_from_args(_args("--runtime", runtime, "--device", "cuda", "--web-port", "1"))


def test_the_cli_reports_it_without_a_traceback(capsys):
    assert cli.main(["run", "--runtime", "onnx", "--device", "cuda:0", "--web-port", "1"]) == 1
    assert "--runtime: runtime onnx runs on the CPU only" in capsys.readouterr().err


def test_negative_threads_are_refused():
    with pytest.raises(ConfigError, match="--embed-threads"):
        settings_from_args(_args("--embed-threads", "-1", "--web-port", "1"))
