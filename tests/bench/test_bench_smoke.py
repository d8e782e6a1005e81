"""`finemeca bench all --quick` end to end against the real local stack, so the bench code cannot rot."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.bench.cli import app

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]


def test_quick_bench_writes_the_report(stack, tmp_path: Path):
    output = tmp_path / "BENCHMARKS.md"
    # --peer: Telegraf runs too (built into .cache/bin on first use, about a minute)
    result = CliRunner().invoke(app, ["all", "--quick", "--peer", "--output", str(output)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = output.read_text()
    assert "## Pipeline" in report and "## Alerts" in report and "| Elasticsearch | 8." in report
    assert "| **lost** (expected ids missing) | 0 (0.00 %) |" in report
    assert (
        "ours / naive" in report and "ours / Telegraf = " in report and "ours / Telegraf = n/a" not in report
    )
    assert "| telegraf: CPU s per 1,000 msgs |" in report
