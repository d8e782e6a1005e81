"""Which rules run: the defaults each sensor folder ships plus extra directories from ALERTS_RULES_DIRS."""

from __future__ import annotations

from pathlib import Path

from alerts.rules import RuleSet, default_rule_files, load_rules
from alerts.settings import AlertSettings


def rule_sources(settings: AlertSettings, extra: list[Path] | None = None) -> list[Path]:
    paths = [] if settings.no_default_rules else default_rule_files(settings.sensor_list())
    return paths + settings.rule_paths() + list(extra or [])


def load_catalog(settings: AlertSettings, extra: list[Path] | None = None) -> RuleSet:
    ruleset = load_rules(rule_sources(settings, extra))
    wanted = settings.sensor_list()
    if wanted:
        ruleset.rules = [r for r in ruleset.rules if r.sensor in wanted]
    return ruleset
