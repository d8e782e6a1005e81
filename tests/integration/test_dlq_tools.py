"""DLQ tools at depth on the real ActiveMQ (issue 10, findings 3 and 4).

Before: `dlq list` and `dlq redrive` saw the first 400 dead letters (the broker's browse page), re-drove
them at ~21 msg/s (one confirmed transaction each), and the table printed `:-1:` in ids as an emoji.
"""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from finemeca import naming
from finemeca.config import StompSettings
from finemeca.queue_stats import QueueStatsClient
from finemeca.stomp_link import StompLink
from ingestor.cli import app
from ingestor.dlq import BROWSE_MAX, browse, find, redrive

pytestmark = [pytest.mark.slow]
DEPTH = 10_000
SENSOR = "air"
ORIGINAL = {"mqtt-topic": "t/air/1/2", "gateway-received-at": "1700000000000", "custom-header": "kept"}


@pytest.fixture
def deep_dlq(stomp_settings: StompSettings, unique_name: str) -> StompSettings:
    """A private prefix whose air DLQ holds DEPTH dead letters (one header set, numbered bodies)."""
    settings = stomp_settings.model_copy(update={"queue_prefix": unique_name.replace("-", "")})
    link = StompLink(settings, "dlq-filler")
    link.ensure_connected(give_up_after=15)
    dlq = naming.dead_letter_queue(SENSOR, settings.queue_prefix)
    headers = {
        **ORIGINAL,
        "dlq_reason": "bad value",
        "dlq_stage": "validate",
        "dlq_at": "2026-01-01T00:00:00",
    }
    for start in range(0, DEPTH, 1000):
        tx = link.begin()
        link.send_many([(dlq, b'{"n": %d}' % n, headers) for n in range(start, start + 1000)], transaction=tx)
        link.commit(tx)
    link.close()
    return settings


def _depths(settings: StompSettings) -> dict[str, int]:
    client = QueueStatsClient(settings)
    try:
        return {
            s.name: s.depth
            for s in client.query(f"{settings.queue_prefix}.>", f"DLQ.{settings.queue_prefix}.>")
        }
    finally:
        client.close()


def test_list_and_show_see_every_dead_letter_with_verbatim_ids(deep_dlq: StompSettings):
    letters = browse(SENSOR, deep_dlq, limit=BROWSE_MAX)
    assert len(letters) == DEPTH, f"browse saw {len(letters)} of {DEPTH} dead letters"
    assert [letter.body for letter in letters[:3]] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    last = letters[-1]
    assert ":-1:" in last.message_id  # ActiveMQ ids hold `:-1:`, which rich turned into an emoji

    env = {"STOMP_QUEUE_PREFIX": deep_dlq.queue_prefix, "LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    tsv = runner.invoke(
        app, ["dlq", "list", "--sensor", SENSOR, "--limit", str(BROWSE_MAX), "--format", "tsv"], env=env
    )
    assert tsv.exit_code == 0, tsv.output
    ids = [line.split("\t")[0] for line in tsv.output.splitlines() if line.startswith("ID:")]
    assert len(ids) == DEPTH and ids[-1] == last.message_id
    table = runner.invoke(
        app, ["dlq", "list", "--sensor", SENSOR, "--limit", "3"], env={**env, "COLUMNS": "200"}
    )
    assert letters[0].message_id in table.output, table.output
    assert find(SENSOR, last.message_id, deep_dlq) == last
    queues = runner.invoke(app, ["queues"], env={**env, "COLUMNS": "200"})
    dlq_name = naming.dead_letter_queue(SENSOR, deep_dlq.queue_prefix).removeprefix("/queue/")
    assert queues.exit_code == 0 and any(
        line.split("│")[1:3] == [f" {dlq_name} ", " 10000 "] for line in queues.output.splitlines()
    ), queues.output
    shown = runner.invoke(app, ["dlq", "show", last.message_id, "--sensor", SENSOR], env=env)
    assert shown.exit_code == 0 and '"custom-header": "kept"' in shown.output, shown.output


def test_redrive_moves_every_dead_letter_fast_with_its_headers(deep_dlq: StompSettings):
    started = time.monotonic()
    moved = redrive(SENSOR, deep_dlq)
    rate = moved / (time.monotonic() - started)
    print(f"re-drove {moved} dead letters at {rate:.0f} msg/s")
    assert moved == DEPTH
    data = naming.data_queue(SENSOR, deep_dlq.queue_prefix).removeprefix("/queue/")
    # every ack was taken before DISCONNECT's receipt, but KahaDB removes acked messages asynchronously:
    # the queue statistics settle a moment later on a loaded machine (seen: 148 of 10,000 still counted)
    deadline = time.monotonic() + 30
    while (depths := _depths(deep_dlq)).get(f"DLQ.{data}", 0) and time.monotonic() < deadline:
        time.sleep(1)
    assert depths.get(f"DLQ.{data}", 0) == 0 and depths[data] == DEPTH, depths
    assert rate >= 1_000, f"re-drive at {rate:.0f} msg/s (target 1,000)"

    received = []
    link = StompLink(deep_dlq, "redrive-check", on_message=lambda frame, _g: received.append(frame))
    link.subscribe(
        naming.data_queue(SENSOR, deep_dlq.queue_prefix),
        "check",
        ack="auto",
        headers={"activemq.prefetchSize": "1"},
    )
    link.ensure_connected(give_up_after=15)
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.1)
    link.close()
    headers = received[0].headers
    assert {k: headers.get(k) for k in ORIGINAL} == ORIGINAL
    assert headers["redriven_from_reason"] == "bad value"
    assert not {"dlq_reason", "dlq_stage", "dlq_at"} & set(headers)
