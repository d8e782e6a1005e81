"""Bulk outcome classification (pure) and the retry loop's stop and health behaviour.

The loop runs against a real Elasticsearch client pointed at a closed port (connection refused): no mock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from finemeca.config import ElasticsearchSettings
from finemeca.errors import StopRequested
from finemeca.es import make_client
from finemeca.retry import RetryPolicy
from ingestor.bulk import classify, describe_item_error, write
from ingestor.prepare import Incoming, Prepared


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "created"),
        (201, "created"),
        (409, "duplicate"),  # create of an existing _id: indexed before, a success
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
        (400, "reject"),  # mapping error: dead-letter
        (404, "reject"),
        (413, "reject"),
        (0, "reject"),  # no status at all: never retried forever
    ],
)
def test_classify(status: int, verdict: str) -> None:
    assert classify(status, None) == verdict


def test_item_errors_are_described_with_their_cause() -> None:
    error = {
        "type": "document_parsing_exception",
        "reason": "[1:42] failed to parse field [pressure] of type [float]",
        "caused_by": {"type": "number_format_exception", "reason": 'For input string: "high"'},
    }
    assert describe_item_error(error) == (
        "document_parsing_exception: [1:42] failed to parse field [pressure] of type [float] "
        '(caused by number_format_exception: For input string: "high")'
    )
    assert (
        describe_item_error({"type": "strict_dynamic_mapping_exception"})
        == "strict_dynamic_mapping_exception: "
    )
    assert describe_item_error("plain text") == "plain text"


def _prepared(n: int) -> list[Prepared]:
    return [
        Prepared(Incoming(f"ack-{i}", 1, b"{}", {}), "finemeca-air-data-2022.04.17", f"id-{i}", {"n": i})
        for i in range(n)
    ]


@pytest.fixture
def unreachable_es() -> Iterator[Elasticsearch]:
    """A real client whose every request is refused (nothing listens on port 1)."""
    client = make_client(ElasticsearchSettings(url="http://127.0.0.1:1", request_timeout=2))
    yield client.options(max_retries=0)
    client.close()


def test_unreachable_elasticsearch_marks_health_then_stops_without_indexing(
    unreachable_es: Elasticsearch,
) -> None:
    stop = threading.Event()
    unavailable: list[int] = []

    def on_unavailable() -> None:
        unavailable.append(1)
        if len(unavailable) == 2:
            stop.set()  # e.g. SIGTERM while Elasticsearch is down

    with pytest.raises(StopRequested):
        write(unreachable_es, _prepared(3), RetryPolicy(initial=0.01, cap=0.02), stop, on_unavailable)
    assert len(unavailable) == 2  # health went red on each failed attempt, while the loop waited


def test_nothing_to_write_needs_no_request(unreachable_es: Elasticsearch) -> None:
    outcome = write(unreachable_es, [], RetryPolicy(initial=0.01, max_attempts=1))
    assert (outcome.created, outcome.duplicates, outcome.rejected, outcome.retries) == ([], [], [], 0)
