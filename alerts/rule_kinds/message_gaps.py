"""Message gaps: radio losses seen as msgCount jumps over the trailing window `over` (judged at window end).

The counter wraps at `modulus`; a jump back of more than half the modulus is read as a device reboot
(counter reset), not as a loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any, ClassVar

from elasticsearch import Elasticsearch

from alerts.lifecycle import Observation, Verdict
from alerts.rule_kinds.base import (
    DeviceObservations,
    context_of,
    device_buckets,
    hits_oldest_first,
    latest_hits,
    time_filter,
)
from alerts.rules import MessageGapsRule


def count_lost(counters: Sequence[int], modulus: int) -> int:
    """Messages missing between consecutive counters (time order), across wrap-around, ignoring resets."""
    lost = 0
    for previous, current in pairwise(counters):
        step = (current - previous) % modulus
        if 1 < step <= modulus // 2:
            lost += step - 1
    return lost


def judge_gaps(rule: MessageGapsRule, counters: Sequence[int]) -> tuple[Verdict, dict[str, Any]]:
    lost = count_lost(counters, rule.modulus)
    ratio = lost / (lost + len(counters)) if counters else 0.0
    breach = lost >= rule.min_lost and ratio > rule.max_loss_ratio
    values = {"lost": lost, "received": len(counters), "loss_ratio": round(ratio, 4)}
    return (Verdict.BREACH if breach else Verdict.OK), values


class MessageGapsKind:
    missing_means_breach: ClassVar[bool] = False

    def observations(
        self,
        es: Elasticsearch,
        rule: Any,
        index: str,
        start: datetime,
        end: datetime,
        top_hits: int,
        page_size: int,
    ) -> DeviceObservations:
        query = time_filter(rule, end - rule.over, end)
        sub_aggs = {"latest": latest_hits(100, [rule.counter_field])}
        for bucket in device_buckets(es, index, query, sub_aggs, page_size):
            docs = hits_oldest_first(bucket)
            counters = [
                int(d[rule.counter_field]) for d in docs if isinstance(d.get(rule.counter_field), int)
            ]
            if len(counters) < 2:
                continue
            verdict, values = judge_gaps(rule, counters)
            yield (
                bucket["key"]["device_key"],
                [Observation(at=end, verdict=verdict, values=values, context=context_of(docs[-1]))],
            )
