"""Threshold: `field <op> value` or `field <op> other_field` of the same document (air leak:
pressure < opening_pressure), per device.

The test Elasticsearch has no scripting, so two fields are compared in Python. First, per-device
min/max bounds over the new readings (cheap): a device whose lowest pressure clears its highest opening
pressure cannot be breaching. Only the others, and devices not `ok`, have every new reading fetched.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from alerts.lifecycle import Observation, Verdict
from alerts.rule_kinds.base import context_of, parse_time
from alerts.rules import Rule, RuleBase

Operator = Literal["<", "<=", ">", ">=", "==", "!="]


class ThresholdRule(RuleBase):
    """`field <op> value` or `field <op> other_field` of the same document, per device."""

    kind: Literal["threshold"]
    field: str
    op: Operator
    value: float | None = None
    other_field: str | None = None
    hysteresis: float = Field(
        default=0.0, ge=0.0, description="margin the value must clear to count as healthy"
    )

    @model_validator(mode="after")
    def _one_reference(self) -> ThresholdRule:
        if (self.value is None) == (self.other_field is None):
            raise ValueError("set exactly one of 'value' (a constant) or 'other_field' (a document field)")
        if self.op in ("==", "!=") and self.hysteresis:
            raise ValueError("'hysteresis' only applies to <, <=, > and >=")
        return self


COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def judge(rule: ThresholdRule, value: float, reference: float) -> Verdict:
    """BREACH if the condition holds; OK only when the value also clears the hysteresis margin."""
    compare = COMPARE[rule.op]
    if compare(value, reference):
        return Verdict.BREACH
    margin = rule.hysteresis if rule.op in ("<", "<=") else -rule.hysteresis
    return Verdict.MARGINAL if compare(value, reference + margin) else Verdict.OK


def reading(rule: ThresholdRule, doc: dict[str, Any]) -> Observation | None:
    value = doc.get(rule.field)
    reference = doc.get(rule.other_field) if rule.other_field else rule.value
    if not isinstance(value, int | float) or not isinstance(reference, int | float):
        return None  # a missing value ('NULL' from the device) is no evidence either way
    values: dict[str, Any] = {rule.field: value, "op": rule.op}
    values[rule.other_field or "threshold"] = reference
    if isinstance(doc.get(f"{rule.field}_unit"), str):
        values["unit"] = doc[f"{rule.field}_unit"]
    return Observation(
        at=parse_time(doc["@timestamp"]),
        verdict=judge(rule, float(value), float(reference)),
        values=values,
        context=context_of(doc),
    )


def bounds_aggs(rule: ThresholdRule) -> dict[str, Any]:
    aggs: dict[str, Any] = {"v_min": {"min": {"field": rule.field}}, "v_max": {"max": {"field": rule.field}}}
    if rule.other_field:
        aggs["r_min"] = {"min": {"field": rule.other_field}}
        aggs["r_max"] = {"max": {"field": rule.other_field}}
    return aggs


def surely_ok(rule: ThresholdRule, bucket: dict[str, Any]) -> bool:
    """True when no reading of the bucket can breach: the worst value still clears the worst reference."""
    if rule.op in ("==", "!="):
        return False
    low = rule.op in ("<", "<=")
    value = bucket["v_min" if low else "v_max"]["value"]
    reference = bucket["r_max" if low else "r_min"]["value"] if rule.other_field else rule.value
    if value is None or reference is None:
        return True  # no usable reading at all
    return judge(rule, float(value), float(reference)) == Verdict.OK


class ThresholdKind:
    """Judged reading by reading, as they are indexed (see alerts/readings.py)."""

    rule_model: ClassVar[type[ThresholdRule]] = ThresholdRule
    per_reading: ClassVar[bool] = True
    missing_means_breach: ClassVar[bool] = False

    def fields(self, rule: Rule) -> list[str]:
        assert isinstance(rule, ThresholdRule)
        return [rule.field, f"{rule.field}_unit"] + ([rule.other_field] if rule.other_field else [])

    def bounds(self, rule: Rule) -> dict[str, Any]:
        assert isinstance(rule, ThresholdRule)
        return bounds_aggs(rule)

    def may_breach(self, rule: Rule, bucket: dict[str, Any]) -> bool:
        assert isinstance(rule, ThresholdRule)
        return not surely_ok(rule, bucket)

    def judge(self, rule: Rule, doc: dict[str, Any]) -> Observation | None:
        assert isinstance(rule, ThresholdRule)
        return reading(rule, doc)


KIND = ThresholdKind()
