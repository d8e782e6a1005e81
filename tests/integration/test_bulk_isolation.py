"""One bad document never holds back its batch: the real Elasticsearch, the ingestor's bulk writer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.prepare import Incoming, Prepared

pytestmark = pytest.mark.integration


@pytest.fixture
def index(es_settings: ElasticsearchSettings, unique_name: str) -> Iterator[tuple[Elasticsearch, str]]:
    es = make_client(es_settings, serializer=OrjsonSerializer())  # the ingestor's client
    name = f"{unique_name}-bulk"
    es.indices.create(
        index=name,
        mappings={"dynamic": "strict", "properties": {"n": {"type": "long"}, "s": {"type": "keyword"}}},
    )
    yield es, name
    es.indices.delete(index=name)
    es.close()


def _item(index: str, doc_id: str, document: dict[str, object]) -> Prepared:
    return Prepared(Incoming(doc_id[:20], 1, b"{}", {}), index, doc_id, document)


def test_unserialisable_and_refused_items_are_rejected_alone(index):
    es, name = index
    good = [_item(name, f"good-{i}", {"n": i, "s": "ok"}) for i in range(6)]
    too_big = _item(name, "int-2-70", {"n": 2**70})  # the poison: escapes 64-bit
    surrogate = _item(name, "surrogate", {"s": "\ud800"})  # not encodable as UTF-8
    long_id = _item(name, "x" * 600, {"n": 1})  # Elasticsearch refuses the whole request for it
    mapping = _item(name, "mapping", {"n": "not a number"})  # an ordinary per-item refusal
    batch = [*good[:2], too_big, *good[2:4], surrogate, long_id, *good[4:], mapping]

    outcome = bulk.write(es, batch, RetryPolicy(initial=0.1, max_attempts=3))

    assert sorted(p.doc_id for p in outcome.created) == sorted(p.doc_id for p in good)
    reasons = {p.doc_id[:10]: reason for p, reason in outcome.rejected}
    assert set(reasons) == {"int-2-70", "surrogate", "x" * 10, "mapping"}
    assert "64-bit" in reasons["int-2-70"]
    assert "surrogate" in reasons["surrogate"]
    assert "HTTP 400" in reasons["x" * 10] and "too long" in reasons["x" * 10]
    assert "[n]" in reasons["mapping"]
    es.indices.refresh(index=name)
    assert es.count(index=name)["count"] == len(good)
