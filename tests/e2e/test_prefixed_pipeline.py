"""Non-default prefixes end to end: MQTT topics, ActiveMQ queues and Elasticsearch indices all renamed,
through gateway, ingestor, the alert job and the mailer (real processes), to a leak mail.

Before the alert job and the mailer derived their queue and index names from STOMP_QUEUE_PREFIX /
ES_INDEX_PREFIX they used `finemeca.alerts` / `finemeca-alerts-*` whatever the prefixes: a deployment with
other prefixes (whose ActiveMQ and Elasticsearch roles only grant the prefixed names) lost every alert.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from finemeca import naming
from sensors.air.simulator import AirSimulator
from sensors.simulation import Episode
from tests.alerts.conftest import wait_until
from tests.e2e.helpers import publish, wait_for_count
from tools.stack import mailbox as mail_reader

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KIBANA = "https://kibana.plant.example"


def test_alerts_and_mail_follow_non_default_prefixes(start_pipeline, prefix, es_client, mailbox: Path):
    queue_prefix, index_prefix = f"{prefix}q", f"{prefix}i"  # distinct: a mixed-up prefix shows
    # Three air lines, one reading every 30 s over the last 12 minutes; line-1 (10-100) leaks for 6 minutes.
    now = datetime.now(UTC)
    start = now - timedelta(minutes=12)
    leak = Episode("10-100", now - timedelta(minutes=8), now - timedelta(minutes=2))
    simulator = AirSimulator(3, seed=3, start=start, leaks=[leak], radio_loss=0.0)
    payloads = [m.payload for m in itertools.islice(simulator, 3 * 24)]  # 24 ticks of 30 s
    assert any(p["idDevice"] == 100 and p["Pres"] < p["PresOpen"] for p in payloads), "no leak simulated"

    pipeline = start_pipeline(
        ["air"],
        STOMP_QUEUE_PREFIX=queue_prefix,
        ES_INDEX_PREFIX=index_prefix,
        ALERTS_SENSORS="air",
        ALERTS_INTERVAL="2s",
        ALERTS_FIRST_LOOKBACK="15m",
        KIBANA_PUBLIC_URL=KIBANA,
        MAILER_DEFAULT_RECIPIENTS=f"ops+{prefix}@example.com",
    )
    published = publish(prefix, "air", payloads)
    wait_for_count(es_client, naming.data_index_alias("air", index_prefix), published, timeout=90)
    # The readings are back-dated: the job starts once they are indexed (its first window covers them).
    jobs = [pipeline.add("alerts", ["alerts", "run"]), pipeline.add("mailer", ["mailer", "run"])]
    for proc in jobs:
        proc.start()
    pipeline.wait_healthy(procs=jobs)

    def leak_mails() -> list[object]:
        return [
            m
            for m in mail_reader.list_messages(mailbox)
            if m["X-Finemeca-Rule"] == "air-leak"
            and m["X-Finemeca-Device"] == "10-100"
            and m["X-Finemeca-Event-Kind"] == "fired"
            and prefix in str(m["To"])
        ]

    mails = wait_until(leak_mails, timeout=120, what="the leak mail of 10-100")
    body = mails[0].get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert f"{KIBANA}/app/dashboards#/view/{naming.sensor_dashboard_id('air')}" in body

    es_client.indices.refresh(index=f"{index_prefix}-*")
    for index in (
        naming.alerts_state_index(index_prefix),
        naming.alerts_history_index(index_prefix),
        naming.alerts_sent_index(index_prefix),
    ):
        assert es_client.indices.exists(index=index), f"{index} missing: a component ignored ES_INDEX_PREFIX"
    sent = es_client.count(index=naming.alerts_sent_index(index_prefix))["count"]
    assert sent >= 1
    for proc in pipeline.processes:
        assert proc.alive(), f"{proc.name} died"
