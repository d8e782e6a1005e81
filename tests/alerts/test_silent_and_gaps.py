"""Silent-device and message-gap rules fire on induced gaps, and only for the faulty devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.catalog import load_catalog
from tests.alerts.conftest import air_doc, index_docs, write_rule

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_silent_and_gap_rules(es, job, air_index, unique_name, tmp_path: Path):
    write_rule(
        tmp_path / "rules",
        f"""
rules:
  - {{name: silent-{unique_name}, kind: silent_device, sensor: air, index: {air_index}, after: 10m, lookback: 1d}}
  - name: gaps-{unique_name}
    kind: message_gaps
    sensor: air
    index: {air_index}
    max_loss_ratio: 0.3
    min_lost: 3
    over: 15m
    modulus: 256
""",
    )
    docs = []
    for minute in range(60):
        at = T0 + timedelta(minutes=minute)
        docs.append(air_doc(1, at, 6.0, minute))  # healthy
        if minute < 20:
            docs.append(air_doc(2, at, 6.0, minute))  # goes silent at 0:20
        counter = (250 + (minute if minute < 10 else 10 + 3 * (minute - 10))) % 256  # loses 2 of 3 from 0:10
        docs.append(air_doc(3, at, 6.0, counter))
    index_docs(es, air_index, docs)

    rules = load_catalog(job.settings, [tmp_path / "rules"]).rules
    events = []
    for step in range(0, 10):
        events += job.run_cycle(rules, T0 + timedelta(minutes=5 * step)).events
    fired = {(e.rule.split("-")[0], e.device_key, e.at - T0) for e in events if e.kind == "fired"}
    assert fired == {
        ("silent", "170-2", timedelta(minutes=30)),  # last seen 0:19, > 10 min at the 0:30 evaluation
        ("gaps", "170-3", timedelta(minutes=15)),  # counter wrapped at 256 on the way: no false loss
    }
    silent = next(e for e in events if e.rule.startswith("silent"))
    assert silent.values["last_seen"].startswith("2026-03-03T09:19")
