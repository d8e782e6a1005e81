"""The layer contract (pyproject.toml [tool.importlinter], run by `make lint`) holds on the real tree and
fails on an upward or sideways import.

Each breakage is made in a copy of the packages, checked with `lint-imports --config` on a copy of the
project's own contract: the test proves the real contract catches it, not a look-alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sensors", "finemeca", "gateway", "ingestor", "alerts", "kibana", "statuspage", "report", "tools")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}  # the copy shadows the installed packages
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("*.py[co]", "__pycache__")
        )
    return copy


def test_the_real_tree_keeps_every_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "expected"),
    [
        (
            "ingestor/prepare.py",
            "import gateway.screening",
            "ingestor.prepare -> gateway.screening",
        ),  # sideways
        ("alerts/history.py", "import kibana.lens", "alerts.history -> kibana.lens"),  # sideways
        ("report/job.py", "import alerts.mailer.render", "report.job -> alerts.mailer.render"),  # sideways
        ("finemeca/naming.py", "import tools.demo", "finemeca.naming -> tools.demo"),  # upward from the core
        (
            "finemeca/batching.py",
            "import ingestor.bulk",
            "finemeca.batching -> ingestor.bulk",
        ),  # core -> engine
        ("sensors/base.py", "import finemeca.naming", "sensors.base -> finemeca.naming"),  # plugin -> core
        (
            "gateway/screening.py",
            "import tools.simulate",
            "gateway.screening -> tools.simulate",
        ),  # engine -> tools
        ("sensors/fields.py", "import elasticsearch", "sensors.fields -> elasticsearch"),  # plugin -> client
    ],
)
def test_an_upward_or_sideways_import_breaks_the_contract(
    project: Path, module: str, bad_import: str, expected: str
) -> None:
    target = project / module
    original = target.read_text()
    target.write_text(original + f"\n{bad_import}  # injected by test_layers\n")
    try:
        result = _lint(project)
    finally:
        target.write_text(original)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout, result.stdout + result.stderr
    assert "BROKEN" in result.stdout


def test_a_function_local_import_does_not_dodge_the_contract(project: Path) -> None:
    target = project / "statuspage" / "settings.py"
    original = target.read_text()
    target.write_text(original + "\n\ndef _sneaky() -> None:\n    import alerts.rules  # noqa: F401\n")
    try:
        result = _lint(project)
    finally:
        target.write_text(original)
    assert result.returncode != 0
    assert "statuspage.settings -> alerts.rules" in result.stdout
