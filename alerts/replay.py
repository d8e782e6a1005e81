"""`finemeca alerts test`: replay one rule over stored data with in-memory state; sends and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from alerts.evaluate import evaluate_window
from alerts.events import AlertEvent
from alerts.rules import Rule
from alerts.state import Stored


def replay(
    es: Elasticsearch,
    rule: Rule,
    index: str,
    start: datetime,
    end: datetime,
    step: timedelta,
    top_hits: int = 20,
    page_size: int = 2000,
) -> list[AlertEvent]:
    """Every event the rule would have produced over [start, end), evaluated window by window."""
    states: dict[str, Stored] = {}
    events: list[AlertEvent] = []
    generated = datetime.now(UTC)
    cursor = start
    while cursor < end:
        window_end = min(cursor + step, end)
        result = evaluate_window(es, rule, index, states, cursor, window_end, top_hits, page_size)
        for item in result.changed:
            states[item.state.device_key] = item
        events += [AlertEvent.from_change(rule, change, generated) for change in result.changes]
        cursor = window_end
    return events
