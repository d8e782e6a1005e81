"""ActiveMQ without a single point of failure: a primary/standby pair on one shared KahaDB store
(`tools/stack/activemq_pair.py`). kill -9 the primary while the real gateway and ingestor stream through
it -> the standby takes the store lock and serves, both clients fail over (`STOMP_HOSTS`), and every
message is indexed exactly once. Prints the time until the standby served and the redeliveries."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from finemeca import naming
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, simulated_stream, wait_for_health
from tools.stack.activemq_pair import ActiveMqPair
from tools.stack.settings import StackSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.failover]
SENSOR = "air"
MESSAGES = 12_000
RATE = 600.0


@pytest.fixture
def mq_pair() -> Iterator[ActiveMqPair]:
    pair = ActiveMqPair(StackSettings())
    pair.down()  # a fresh pair: broker a must be the primary
    pair.up()
    yield pair
    pair.down()


def test_primary_killed_under_load_standby_takes_over(start_pipeline, prefix, es_client, mq_pair):
    primary, standby = mq_pair.brokers()
    assert primary.healthy() and not standby.healthy(), "broker b should be waiting on the store lock"
    stream = simulated_stream(prefix, SENSOR, MESSAGES, devices=50, seed=31)
    alias = naming.data_index_alias(SENSOR, prefix)
    # STOMP_PORT alone would pin the clients to the primary: only STOMP_HOSTS lets them find the standby
    pipeline = start_pipeline([SENSOR], STOMP_PORT=str(primary.port), STOMP_HOSTS=mq_pair.stomp_hosts())
    gateway, ingestor = pipeline.get("gateway", SENSOR), pipeline.get("ingestor", SENSOR)

    publisher = BackgroundPublisher(stream.items, rate=RATE).start()
    publisher.wait_sent(MESSAGES // 3)
    wait_for_health(ingestor, lambda s: int(s.get("indexed", 0)) > 0, timeout=60)
    killed_at = time.monotonic()
    primary.kill()
    while not standby.healthy():
        assert time.monotonic() < killed_at + 120, "the standby never took over the store"
        time.sleep(0.2)
    serving_at = time.monotonic()
    forwarded = int(gateway.health().get("forwarded", 0))  # type: ignore[union-attr,call-overload]
    wait_for_health(gateway, lambda s: int(s.get("forwarded", 0)) > forwarded, timeout=120)
    resumed_at = time.monotonic()
    publisher.join()
    stream_done = time.monotonic()
    assert_exactly_once(es_client, alias, stream.ids, timeout=240)
    indexed = time.monotonic()
    state = ingestor.health() or {}
    print(
        f"[activemq kill -9] standby served {serving_at - killed_at:.1f}s after the kill, the gateway "
        f"forwarded again after {resumed_at - killed_at:.1f}s; all {MESSAGES} indexed once "
        f"{indexed - stream_done:.1f}s after the last publish; ingestor: indexed {state.get('indexed')}, "
        f"redelivered duplicates {state.get('duplicates')}"
    )
    assert int(state.get("indexed", 0)) + int(state.get("duplicates", 0)) >= MESSAGES  # type: ignore[call-overload]
