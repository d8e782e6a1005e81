"""A corpus of malformed messages: each ends in the dead-letter queue with a readable reason; nothing dies."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from finemeca import naming
from finemeca.config import StompSettings
from ingestor.dlq import browse, redrive
from tests.e2e.helpers import publish, wait_for_count

pytestmark = pytest.mark.e2e
GOOD: dict[str, Any] = json.loads(Path("sensors/devicev01/sample.json").read_text())


def _with(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def _without(*keys: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD.items() if k not in keys}).encode()


# (name, raw MQTT payload, stage expected, words expected in the reason)
CORPUS: list[tuple[str, bytes, str, str]] = [
    ("not JSON", b"hello sensor", "gateway", "not JSON"),
    ("empty", b"", "gateway", "empty"),
    ("whitespace only", b"   \n", "gateway", "empty"),
    ("not UTF-8", b"\xff\xfe\x00garbage", "gateway", "UTF-8"),
    ("truncated JSON", b'{"idGateway": 170, "idDevice"', "gateway", "not JSON"),
    ("JSON array", b"[1, 2, 3]", "gateway", "object"),
    ("JSON string", b'"Temp=14"', "gateway", "object"),
    ("JSON number", b"42", "gateway", "object"),
    ("huge", _with(Padding="x" * 70_000), "gateway", "exceeds"),
    ("missing idGateway", _without("idGateway"), "validate", "idGateway"),
    ("missing idDevice", _without("idDevice"), "validate", "idDevice"),
    ("missing Time", _without("Time"), "validate", "Time"),
    ("missing msgCount", _without("msgCount"), "validate", "msgCount"),
    ("id not a number", _with(idDevice="abc"), "validate", "idDevice"),
    ("negative msgCount", _with(msgCount=-5), "validate", "msgCount"),
    ("Time not a date", _with(Time="yesterday"), "validate", "Time"),
    ("Time impossible day", _with(Time="2022-02-30 10:00:00"), "validate", "Time"),
    ("Time clock unset", _with(Time="1970-01-01 00:00:07"), "validate", "Time"),
    ("Temp text", _with(Temp="hot"), "validate", "Temp"),
    ("Temp boolean", _with(Temp=True), "validate", "Temp"),
    ("Temp object", _with(Temp={"value": 14}), "validate", "Temp"),
    (
        "Temp NaN",
        b'{"idGateway": 170, "idDevice": 100, "Time": "2022-04-09 15:05:06", "msgCount": 9, "Temp": NaN}',
        "validate",
        "Temp",
    ),
    ("Temp absurd", _with(Temp=1e9), "validate", "Temp"),
    ("unknown unit", _with(**{"Temp-U": "furlong"}), "validate", "unit"),
    ("unknown field", _with(Vibration=3.2), "validate", "Vibration"),
]


def test_malformed_corpus_is_dead_lettered_with_reasons(start_pipeline, prefix, es_client):
    assert len(CORPUS) >= 20
    pipeline = start_pipeline(["devicev01"])
    good = [_with(msgCount=1000 + i) for i in range(5)]
    payloads: list[bytes] = []
    for i, (_name, raw, _stage, _words) in enumerate(CORPUS):
        payloads.append(raw)
        if i % 5 == 0:
            payloads.append(good[i // 5])
    publish(prefix, "devicev01", payloads)

    alias = naming.data_index_alias("devicev01", prefix)
    assert wait_for_count(es_client, alias, len(good)) == len(good), "good messages must still get through"
    settings = StompSettings(queue_prefix=prefix)
    deadline = time.monotonic() + 30
    letters = browse("devicev01", settings, limit=1000)
    while len(letters) < len(CORPUS) and time.monotonic() < deadline:
        time.sleep(0.5)
        letters = browse("devicev01", settings, limit=1000)
    assert len(letters) == len(CORPUS)

    by_body = {letter.body: letter for letter in letters}
    problems = []
    for name, raw, stage, words in CORPUS:
        letter = by_body.get(raw[:65_536])
        if letter is None:
            problems.append(f"{name}: not in the DLQ")
        elif letter.stage != stage or words.lower() not in letter.reason.lower():
            problems.append(f"{name}: stage={letter.stage} reason={letter.reason!r}")
    assert not problems, "\n".join(problems)
    for proc in pipeline.processes:
        assert proc.alive(), f"{proc.name} died"
        assert proc.health()["ok"] is True

    # the operator's view: filter by stage, then re-drive; bad input comes back to the DLQ, nothing is lost
    assert len(browse("devicev01", settings, stage="gateway", limit=1000)) == 9
    assert len(browse("devicev01", settings, reason="Temp", stage="validate", limit=1000)) >= 4
    assert redrive("devicev01", settings, reason="msgCount", stage="validate") == 2
    time.sleep(3)
    assert len(browse("devicev01", settings, limit=1000)) == len(CORPUS)
    es_client.indices.refresh(index=f"{prefix}-deadletters")
    assert es_client.count(index=f"{prefix}-deadletters")["count"] >= len(CORPUS) - 9
