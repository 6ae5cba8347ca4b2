"""``workers``' public names: all there, documented with examples, and light to import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import workers


def test_every_public_name_resolves_and_has_a_runnable_example() -> None:
    assert sorted(workers.__all__) == sorted(workers._EXPORTS)
    for name in workers.__all__:
        obj = getattr(workers, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert "Examples\n--------" in doc and ">>> from workers import" in doc, name


def test_unknown_names_are_attribute_errors() -> None:
    try:
        workers.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("workers.NoSuchThing resolved")


def test_the_public_api_does_not_import_torch_or_transformers() -> None:
    code = (
        "import sys\n"
        "from workers import *\n"
        "from workers import TopicTrackEngine, AlertDetector\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
