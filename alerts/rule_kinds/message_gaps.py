"""Message gaps: radio losses seen as msgCount jumps over the trailing window `over` (judged at window end).

The counter wraps at `modulus`; a jump back of more than half the modulus is read as a device reboot
(counter reset), not as a loss. Per-device count/min/max first: without a wrap, lost = max - min + 1 -
count exactly, so only devices that may exceed the limit (or wrapped, or are alerting) are read in detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise
from typing import Any, ClassVar, Literal

from pydantic import Field

from alerts.durations import Duration
from alerts.lifecycle import Observation, Verdict
from alerts.rule_kinds.base import (
    DeviceObservations,
    Window,
    context_of,
    device_buckets,
    readings_of,
    time_filter,
)
from alerts.rules import RuleBase


class MessageGapsRule(RuleBase):
    """Radio losses: msgCount jumps over the trailing window `over` above `max_loss_ratio`."""

    kind: Literal["message_gaps"]
    max_loss_ratio: float = Field(gt=0.0, lt=1.0)
    over: Duration = timedelta(minutes=15)
    min_lost: int = Field(default=1, ge=1)
    counter_field: str = "msg_count"
    modulus: int = Field(default=65536, ge=2, description="the counter wraps to 0 after modulus - 1")


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


def may_breach(rule: MessageGapsRule, bucket: dict[str, Any]) -> bool:
    low, high, count = bucket["c_min"]["value"], bucket["c_max"]["value"], bucket["doc_count"]
    if low is None or high is None or count < 2:
        return False
    if high - low >= rule.modulus // 2:
        return True  # wrapped or reset inside the window: look closer
    lost = int(high - low + 1 - count)
    return lost >= rule.min_lost and lost / (lost + count) > rule.max_loss_ratio


class MessageGapsKind:
    rule_model: ClassVar[type[MessageGapsRule]] = MessageGapsRule
    per_reading: ClassVar[bool] = False
    missing_means_breach: ClassVar[bool] = False

    def observations(self, window: Window) -> DeviceObservations:
        rule = window.rule
        assert isinstance(rule, MessageGapsRule)
        query = time_filter(rule, window.end - rule.over, window.end)
        bounds = {
            "c_min": {"min": {"field": rule.counter_field}},
            "c_max": {"max": {"field": rule.counter_field}},
        }
        candidates = [
            bucket["key"]["device_key"]
            for bucket in device_buckets(window.es, window.index, query, bounds, window.page_size)
            if bucket["key"]["device_key"] in window.watch or may_breach(rule, bucket)
        ]
        for device_key, docs in readings_of(window, query, candidates, 100, [rule.counter_field]):
            counters = [
                int(d[rule.counter_field]) for d in docs if isinstance(d.get(rule.counter_field), int)
            ]
            if len(counters) < 2:
                continue
            verdict, values = judge_gaps(rule, counters)
            yield (
                device_key,
                [Observation(at=window.end, verdict=verdict, values=values, context=context_of(docs[-1]))],
            )


KIND = MessageGapsKind()
