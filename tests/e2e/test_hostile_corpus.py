"""A corpus of hostile payloads (tests/e2e/data/hostile.jsonl) through the real gateway and ingestor.

Each one ends in its sensor's dead-letter queue with the expected stage and a readable reason, and in the
dead-letters index the operations dashboard counts; the good messages published between and after them
all arrive; no process dies. Then the operator's view: filter by stage, re-drive, nothing is lost.

The corpus format is described in tools/simulate/hostile.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from finemeca import naming
from finemeca.config import StompSettings
from ingestor.dlq import browse, redrive
from tests.e2e.helpers import dead_letter_records, publish, wait_for_count, wait_for_dead_letters
from tools.simulate.hostile import load_corpus, sample

pytestmark = pytest.mark.e2e
SENSORS = ["devicev01", "air"]


def _good(sensor: str, n: int) -> list[dict[str, Any]]:
    """Good messages, some with the 'NULL'/null values real devices send (Length null was a poison)."""
    base = sample(sensor)
    variants = [{}, {"Length": "NULL", "RSSI": None}, {"SNR": "NULL", "Customer": None}]
    return [{**base, **variants[i % len(variants)], "msgCount": 5000 + i} for i in range(n)]


def test_hostile_corpus_is_dead_lettered_and_good_messages_arrive(start_pipeline, prefix, es_client):
    corpus = load_corpus()
    assert len(corpus) >= 40 and len({(h.sensor, h.body) for h in corpus}) == len(corpus)
    pipeline = start_pipeline(SENSORS)
    for sensor in SENSORS:
        hostile = [h for h in corpus if h.sensor == sensor]
        good = _good(sensor, len(hostile) // 4 + 3)
        mixed: list[dict[str, Any] | bytes] = []
        for i, h in enumerate(hostile):  # hostile ones between good ones, then good ones after them all
            mixed += [h.body, *([good[i // 4]] if i % 4 == 0 else [])]
        publish(prefix, sensor, mixed + good[len(hostile) // 4 + 1 :])
        alias = naming.data_index_alias(sensor, prefix)
        assert wait_for_count(es_client, alias, len(good)) == len(good), f"{sensor}: good messages lost"

    problems = []
    for sensor in SENSORS:
        hostile = [h for h in corpus if h.sensor == sensor]
        letters = {d.body: d for d in wait_for_dead_letters(prefix, sensor, len(hostile))}
        assert len(letters) == len(hostile), f"{sensor}: {len(letters)} dead letters for {len(hostile)}"
        for h in hostile:
            letter = letters.get(h.body)
            if letter is None:
                problems.append(f"{h.name}: not in the DLQ")
            elif letter.stage != h.stage or h.reason.lower() not in letter.reason.lower():
                problems.append(f"{h.name}: stage={letter.stage} reason={letter.reason!r}")
    assert not problems, "\n".join(problems)

    deadline = time.monotonic() + 30
    records = dead_letter_records(es_client, prefix)
    while len(records) < len(corpus) and time.monotonic() < deadline:
        time.sleep(0.5)
        records = dead_letter_records(es_client, prefix)
    assert sorted((r["sensor"], r["stage"]) for r in records) == sorted((h.sensor, h.stage) for h in corpus)
    for proc in pipeline.processes:
        assert proc.alive(), f"{proc.name} died"
        state = proc.health()
        assert state is not None and state["ok"] is True, f"{proc.name}: {state}"

    # the operator's view: filter by stage and reason, re-drive; bad input comes back, nothing is lost
    settings = StompSettings(queue_prefix=prefix)
    gateway_stage = [h for h in corpus if h.sensor == "devicev01" and h.stage == "gateway"]
    assert len(browse("devicev01", settings, stage="gateway", limit=1000)) == len(gateway_stage)
    assert len(browse("devicev01", settings, reason="Temp", stage="validate", limit=1000)) >= 6
    chosen = len(browse("devicev01", settings, reason="msgCount", stage="validate", limit=1000))
    assert chosen >= 5
    assert redrive("devicev01", settings, reason="msgCount", stage="validate") == chosen
    deadline = time.monotonic() + 30
    letters = browse("devicev01", settings, limit=1000, idle_timeout=3)
    back = [d for d in letters if "redriven_at" in d.headers]
    while len(back) < chosen and time.monotonic() < deadline:
        time.sleep(0.5)
        letters = browse("devicev01", settings, limit=1000, idle_timeout=3)
        back = [d for d in letters if "redriven_at" in d.headers]
    assert len(back) == chosen and len(letters) == len([h for h in corpus if h.sensor == "devicev01"])
