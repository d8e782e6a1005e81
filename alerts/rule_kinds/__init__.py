"""The rule kinds, one line each: kind name -> module that defines `KIND` (a `RuleKind`).

A kind module holds everything about the kind: its pydantic rule model (a `Rule` subclass whose
`kind` is `Literal["<name>"]`) and its evaluator. Adding a kind = that module + one line here
(recipe: alerts/README.md). A module outside this package works too: any importable module path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing only: the kind modules import the rule schema, which imports this registry
    from alerts.rule_kinds.base import RuleKind
    from alerts.rules import Rule

KINDS: dict[str, str] = {
    "threshold": "alerts.rule_kinds.threshold",
    "silent_device": "alerts.rule_kinds.silent_device",
    "message_gaps": "alerts.rule_kinds.message_gaps",
}


def get_kind(name: str) -> RuleKind:
    if name not in KINDS:
        raise KeyError(f"unknown rule kind {name!r}; known: {', '.join(sorted(KINDS))}")
    kind: RuleKind | None = getattr(importlib.import_module(KINDS[name]), "KIND", None)
    evaluates = (
        hasattr(kind, "judge") if getattr(kind, "per_reading", False) else hasattr(kind, "observations")
    )
    if kind is None or not hasattr(kind, "rule_model") or not evaluates:
        raise TypeError(
            f"{KINDS[name]} must define KIND = <RuleKind: rule_model + per_reading and judge() (per reading) "
            "or observations() (time-driven)>"
        )
    declared = kind.rule_model.model_fields["kind"].annotation
    if getattr(declared, "__args__", None) != (name,):
        raise TypeError(f"{KINDS[name]}: {kind.rule_model.__name__}.kind must be Literal[{name!r}]")
    return kind


def rule_model(name: str) -> type[Rule]:
    return get_kind(name).rule_model


def kind_for(rule: Rule) -> RuleKind:
    return get_kind(rule.kind)
