"""`finemeca <group>` loads only that group: a role's process does not carry every other group's modules."""

from __future__ import annotations

import subprocess
import sys

import typer

import finemeca.cli as cli
from finemeca.cli import build_app


def _imported_by(*args: str) -> str:
    """The `-X importtime` trace of `python -m finemeca.cli <args>` (one line per imported module)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "finemeca.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


def test_a_role_does_not_import_the_other_groups() -> None:
    trace = _imported_by("gateway", "--help")
    modules = {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines() if "|" in line}
    assert "gateway.service" in modules
    for heavy in ("matplotlib", "numpy", "report", "kibana", "ingestor", "tools"):
        assert heavy not in modules, f"`finemeca gateway` imported {heavy}"


def test_without_a_group_every_group_is_there() -> None:
    app = build_app([])
    names = {group.name for group in app.registered_groups}
    assert {"gateway", "ingestor", "report", "stack", "bench"} <= names


def test_the_module_attribute_app_is_the_whole_command() -> None:
    assert isinstance(cli.app, typer.Typer)
    assert len(cli.app.registered_groups) == len(build_app(["--help"]).registered_groups)
