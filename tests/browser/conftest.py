"""Browser tests: Debian's chromium driven by playwright-python, no browser download.

Outside CI they skip, with the reason, when ``chromium`` is not installed;
``.ci/run`` installs it and sets ``TOPICTRACK_REQUIRE_BROWSER=1``, which turns
that skip into a failure, so the browser tests cannot silently vanish.
Screenshots go to ``$TOPICTRACK_ARTIFACTS`` (default: the test's tmp folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Flags that let chromium run headless as root in a container, with no network calls.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module.

    Module scope, not session: playwright's sync API runs an event loop in
    this thread while it is open, and later tests that call ``asyncio.run``
    (the API and webhook unit tests) would find it running.
    """
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("TOPICTRACK_REQUIRE_BROWSER") == "1":
            pytest.fail("TOPICTRACK_REQUIRE_BROWSER=1 but chromium is not installed")
        pytest.skip("chromium not installed (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def artifacts(tmp_path) -> Path:
    d = Path(os.environ.get("TOPICTRACK_ARTIFACTS") or tmp_path / "artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d
