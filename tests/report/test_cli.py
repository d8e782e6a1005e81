"""`finemeca report weekly` itself: --week backfills a given week, --dry-run writes files and sends nothing."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from finemeca.cli import app
from tests.report.conftest import WEEK

pytestmark = pytest.mark.integration


@pytest.fixture
def env(known_week, es_settings, tmp_path):
    config = tmp_path / "report.yml"
    config.write_text(yaml.safe_dump(known_week.config.model_dump(mode="json", exclude_none=True)))
    return {
        "REPORT_CONFIG": str(config),
        "REPORT_INDEX_PREFIX": known_week.prefix,
        "REPORT_SENT_INDEX": f"{known_week.prefix}-cli-sent",
        "REPORT_AIR_INTERVAL_S": "600",
        "ES_URL": es_settings.url,
        "LOG_LEVEL": "WARNING",
    }


def test_week_and_dry_run_write_the_files_and_record_nothing(es, known_week, env, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "weekly", "--week", WEEK, "--dry-run", str(out)], env=env)
    assert result.exit_code == 0, result.output
    stem = f"{known_week.customer}-{WEEK}"
    assert f"{known_week.customer} {WEEK}: written {out / stem}.html" in result.output
    text = (out / f"{stem}.txt").read_text()
    assert "line-1: 2 leak(s); total 4 h 40 min" in text and "ELECTRICITY DURING LEAK HOURS" in text
    assert (out / f"{stem}.eml").read_bytes().startswith(b"Subject: Weekly leak report 2026-W47")
    assert not es.indices.exists(index=env["REPORT_SENT_INDEX"])  # a dry run claims nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-47"], "week '2026-47' is not an ISO week like 2026-W47"),
        (["--week", "2026-W54"], "week '2026-W54' does not exist"),
        (["--customer", "nobody"], "unknown customer(s) ['nobody']"),
    ],
)
def test_bad_arguments_are_named(env, args, message, tmp_path):
    result = CliRunner().invoke(app, ["report", "weekly", *args, "--dry-run", str(tmp_path)], env=env)
    assert result.exit_code == 2
    assert message in result.output
