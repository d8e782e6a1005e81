"""A broken rule file gives a precise error; the other rules keep running."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.clock import ManualClock
from alerts.scheduler import Scheduler
from tests.alerts.conftest import air_doc, index_docs, write_rule

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_broken_file_reported_others_run(es, job, air_index, unique_name, tmp_path: Path):
    rules_dir = tmp_path / "rules"
    write_rule(
        rules_dir,
        f"name: low-{unique_name}\nkind: threshold\nsensor: air\nindex: {air_index}\n"
        "field: pressure\nop: '<'\nvalue: 5\n",
        "good.yml",
    )
    broken = write_rule(
        rules_dir,
        f"name: broken-{unique_name}\nkind: threshold\nsensor: air\nfield: pressure\nop: '<'\nvalue: 5\n"
        "debounce: {readings: -1}\n",
        "broken.yml",
    )
    write_rule(rules_dir, "rules:\n  - name: x\n    kind: [\n", "syntax.yml")
    index_docs(es, air_index, [air_doc(1, T0 + timedelta(minutes=m), 4.0, m) for m in range(5)])

    scheduler = Scheduler(job, ManualClock(T0 + timedelta(minutes=6)), extra_rules=[rules_dir])
    report = scheduler.run_once()
    assert [e.rule for e in report.events] == [f"low-{unique_name}"]
    problems = scheduler.health()["rule_problems"]
    assert any(str(broken) in p and "field 'debounce.readings'" in p for p in problems), problems
    assert any(
        "syntax.yml" in p and "invalid YAML at line" in p and "column" in p and "syntax.yml" in p
        for p in problems
    ), problems

    result = subprocess.run(
        [".venv/bin/finemeca", "alerts", "validate", str(rules_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"ok    low-{unique_name}" in result.stdout
    assert "broken.yml: rule #1 'broken-" in result.stdout and "debounce.readings" in result.stdout
