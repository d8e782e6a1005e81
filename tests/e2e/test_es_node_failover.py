"""A 3-node local Elasticsearch cluster (`finemeca stack cluster`, 256m heaps): kill -9 the node holding
the primary of the day's index while the real gateway and ingestor write to it -> every document is
indexed once (the replica is promoted, clients use the other node URLs). Prints the stall it caused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import cast

import pytest
from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client, wait_until_healthy
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, count, simulated_stream
from tools.stack.es_cluster import EsCluster
from tools.stack.settings import StackSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.failover]
SENSOR = "air"
MESSAGES = 12_000
RATE = 600.0


@pytest.fixture(scope="module")
def es_cluster() -> Iterator[EsCluster]:
    """Started here (real servers, a few minutes on a busy machine), stopped at the end of the module."""
    cluster = EsCluster.from_settings(StackSettings(), nodes=3)
    cluster.up()
    client = make_client(ElasticsearchSettings(urls=",".join(cluster.urls())))
    wait_until_healthy(client, timeout=180, status="green")
    client.close()
    yield cluster
    cluster.down()


@pytest.fixture
def cluster_client(es_cluster: EsCluster, prefix: str) -> Iterator[Elasticsearch]:
    client = make_client(ElasticsearchSettings(urls=",".join(es_cluster.urls()), request_timeout=60))
    yield client
    client.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
    client.close()


def _primary_node(es: Elasticsearch, alias: str) -> str:
    shards = cast(list[dict[str, str]], es.cat.shards(index=alias, format="json", h="prirep,state,node").body)
    primaries = [s["node"] for s in shards if s["prirep"] == "p" and s["state"] == "STARTED"]
    assert primaries, f"no started primary for {alias}: {shards}"
    return str(primaries[0])


def test_a_node_killed_under_load_loses_nothing(start_pipeline, prefix, es_cluster, cluster_client):
    urls = ",".join(es_cluster.urls())
    stream = simulated_stream(prefix, SENSOR, MESSAGES, devices=50, seed=21)
    alias = naming.data_index_alias(SENSOR, prefix)
    start_pipeline([SENSOR], ES_URL=urls, ES_URLS=urls)

    publisher = BackgroundPublisher(stream.items, rate=RATE).start()
    publisher.wait_sent(MESSAGES // 3)
    deadline = time.monotonic() + 60
    while count(cluster_client, alias) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    # a steady state: the day's index has its replica started (in the seconds after an index is created,
    # writes acknowledged by the primary alone are only on that node until it comes back: docs/scaling.md)
    health = cluster_client.cluster.health(index=alias, wait_for_status="green", timeout="120s")
    assert not health["timed_out"], f"the day's index never got its replica: {health}"
    replicas = cluster_client.indices.get_settings(index=alias, name="index.number_of_replicas")
    assert all(s["settings"]["index"]["number_of_replicas"] == "1" for s in replicas.values()), (
        f"the day's index has no replica on a 3-node cluster: {replicas}"
    )
    victim_name = _primary_node(cluster_client, alias)
    victim = next(n for n in es_cluster.all_nodes() if n.node_name == victim_name)
    before = count(cluster_client, alias)
    killed_at = time.monotonic()
    victim.kill()

    # how long indexing stalled: until the count moves again through the surviving nodes
    survivors = make_client(
        ElasticsearchSettings(
            urls=",".join(n.url for n in es_cluster.all_nodes() if n is not victim), request_timeout=60
        )
    )
    resumed_at = None
    while time.monotonic() < killed_at + 120:
        if count(survivors, alias) > before + 100:
            resumed_at = time.monotonic()
            break
        time.sleep(0.5)
    publisher.join()
    stream_done = time.monotonic()
    assert_exactly_once(survivors, alias, stream.ids, timeout=240)
    indexed = time.monotonic()
    health = survivors.cluster.health()
    survivors.close()
    print(
        f"[es node kill -9] killed {victim_name} (primary of {alias}); indexing resumed "
        f"{(resumed_at or indexed) - killed_at:.1f}s later; all {MESSAGES} indexed once "
        f"{indexed - stream_done:.1f}s after the last publish; cluster {health['status']} with "
        f"{health['number_of_nodes']} nodes"
    )
    victim.start()  # back for the next run; the module fixture stops it with the others
    victim.wait_ready()
