"""The import contracts in pyproject.toml hold, and each one fails when broken.

Each case copies the packages to a scratch folder, adds one forbidden import
and runs ``lint-imports`` there: the contract that forbids it must report
BROKEN, and the command must fail. (``make test`` runs it on the real tree.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120
    )


def scratch_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("streamer", "workers", "schemas"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_real_tree_keeps_every_contract() -> None:
    res = lint_imports(REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("workers/engines.py", "import streamer.config", "workers is pure compute"),
        ("workers/topic_engine.py", "import faust", "workers is pure compute"),
        ("streamer/store/sql.py", "import streamer.cli.options", "rooms are layered"),
        ("streamer/api/routes.py", "import streamer.pipeline.tracker", "rooms are layered"),
        ("streamer/store/sql.py", "import faust", "store and api know no Faust"),
        ("streamer/config.py", "import streamer.store.tables", "shared modules"),
        ("streamer/pipeline/codec.py", "import streamer.pipeline.tracker", "no import cycles"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    root = scratch_copy(tmp_path)
    with open(root / module, "a", encoding="utf-8") as f:
        f.write(f"\n{forbidden}  # noqa: E402\n")
    res = lint_imports(root)
    assert res.returncode != 0, res.stdout
    assert "Broken contracts" in res.stdout, res.stdout
    broken_section = res.stdout[res.stdout.index("Broken contracts") :]
    assert contract in broken_section, res.stdout
    # The report names the offending module (relative to its package for cycles).
    assert forbidden.split()[-1].rsplit(".", 1)[-1] in broken_section
