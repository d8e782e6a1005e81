"""`finemeca alerts test`: replay one rule over stored data with in-memory state; sends and stores nothing.

The same core as the live job (`SliceEvaluator`): the data is followed in the order it was indexed
(`ingested_at` in [start, end), one slice per `step`), so a replay shows exactly what the job would have
said, including the dated `occurred` events of late data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from alerts.evaluate import SliceEvaluator, TimePolicy
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
    times: TimePolicy | None = None,
) -> list[AlertEvent]:
    """Every event the rule would have produced over [start, end), evaluated slice by slice."""
    evaluator = SliceEvaluator(es, rule, index, times or TimePolicy())
    states: dict[str, Stored] = {}
    events: list[AlertEvent] = []
    generated = datetime.now(UTC)
    cursor = start
    while cursor < end:
        slice_end = min(cursor + step, end)
        result = evaluator.evaluate(states, cursor, slice_end, slice_end)
        for item in result.changed:
            states[item.state.device_key] = item
        events += [AlertEvent.from_change(rule, change, generated) for change in result.changes]
        cursor = slice_end
    return events
