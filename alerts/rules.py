"""Alert rules: pydantic schema and YAML loading with errors that name the file, the rule and the field.

A rule file holds `rules: [...]` (or a single rule mapping). Each rule is validated on its own, so one
broken rule is reported precisely and every other rule keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from alerts.durations import Duration
from alerts.flapping import Flapping
from alerts.rule_kinds import KINDS, rule_model
from finemeca.errors import ConfigurationError
from sensors.registry import available_sensors, get_sensor

RULE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,79}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Debounce(_Strict):
    """Fire only once the breach held for `readings` consecutive readings and lasted `duration`."""

    readings: int = Field(default=1, ge=1)
    duration: Duration = timedelta(0)


class Resolve(_Strict):
    """Hysteresis against flapping: recover only after `readings` healthy readings lasting `duration`,
    and never before the alert has been firing for `min_firing`."""

    readings: int = Field(default=1, ge=1)
    duration: Duration = timedelta(0)
    min_firing: Duration = timedelta(0)


class Reminders(_Strict):
    """While firing, remind after `first`, then each interval times `factor`, capped at `max`."""

    enabled: bool = True
    first: Duration = timedelta(hours=1)
    factor: float = Field(default=2.0, ge=1.0)
    max: Duration = timedelta(hours=24)

    def interval(self, number: int) -> timedelta:
        """Delay before reminder `number` (1-based) counted from the previous notification."""
        seconds = self.first.total_seconds() * self.factor ** (number - 1)
        return timedelta(seconds=min(seconds, self.max.total_seconds()))


class RuleBase(_Strict):
    """What every rule has; a kind's model adds its own keys (see alerts/README.md, "Add a rule kind")."""

    kind: str
    name: str = Field(pattern=RULE_NAME_PATTERN)
    sensor: str = Field(min_length=1)
    description: str = ""
    severity: Literal["info", "warning", "critical"] = "warning"
    enabled: bool = True
    index: str | None = Field(
        default=None, description="read this index/alias instead of the sensor's data alias"
    )
    filter: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="term filters applied to every query, e.g. {customer: acme}"
    )
    debounce: Debounce = Debounce()
    resolve: Resolve = Resolve()
    reminders: Reminders = Reminders()
    flapping: Flapping = Flapping()
    recipients: list[str] = Field(default_factory=list)


# Every rule is a `Rule`: the kind module's own model (e.g. `ThresholdRule` in rule_kinds/threshold.py)
# subclasses it and narrows `kind` to its name. Parsing picks the model from `kind` (rule_kinds registry).
Rule = RuleBase


def rule_adapter() -> TypeAdapter[Rule]:
    """Validator for one rule of any registered kind (a union discriminated on `kind`)."""
    return _adapter_for(tuple(sorted(KINDS.items())))


@cache
def _adapter_for(kinds: tuple[tuple[str, str], ...]) -> TypeAdapter[Rule]:
    models = tuple(rule_model(name) for name, _ in kinds)
    union = models[0] if len(models) == 1 else Union[models]  # noqa: UP007 - built at run time
    adapter: TypeAdapter[Rule] = TypeAdapter(Annotated[union, Field(discriminator="kind")])  # type: ignore[arg-type]
    return adapter


@dataclass
class RuleProblem:
    """One precise error: file, rule position/name, field path, message."""

    path: Path
    message: str
    rule: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = str(self.path)
        if self.rule:
            where += f": rule {self.rule}"
        if self.field:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)


class RuleFileError(ConfigurationError):
    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in KINDS]  # drop the union tag pydantic inserts
    return ".".join(parts) or "(rule)"


def _validate_one(path: Path, index: int, raw: object) -> tuple[Rule | None, list[RuleProblem]]:
    label = f"#{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        label += f" '{raw['name']}'"
    try:
        return rule_adapter().validate_python(raw), []
    except ValidationError as exc:
        problems = [
            RuleProblem(path, err["msg"], rule=label, field=_field_path(tuple(err["loc"])))
            for err in exc.errors(include_url=False)
        ]
        return None, problems


def load_rule_file(path: Path) -> RuleSet:
    """Validate every rule of one YAML file; problems are collected, never raised."""
    result = RuleSet()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(RuleProblem(path, f"cannot read: {exc}"))
        return result
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        result.problems.append(RuleProblem(path, f"invalid YAML{where}: {reason}"))
        return result
    if document is None:
        return result
    if isinstance(document, dict) and "rules" in document:
        document = document["rules"]
    entries = document if isinstance(document, list) else [document]
    for index, raw in enumerate(entries):
        rule, problems = _validate_one(path, index, raw)
        result.problems.extend(problems)
        if rule is not None:
            result.rules.append(rule)
            result.sources[rule.name] = path
    return result


def rule_files(path: Path) -> list[Path]:
    """A file itself, or every *.yml / *.yaml file of a directory (sorted, non-recursive)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    return [path]


def default_rule_files(sensors: list[str] | None = None) -> list[Path]:
    """The `rules.yml` each sensor folder ships (all sensors unless a list is given)."""

    files = []
    for name in sensors or list(available_sensors()):
        rules_file = get_sensor(name).rules_file()
        if rules_file is not None:
            files.append(rules_file)
    return files


def load_rules(paths: list[Path]) -> RuleSet:
    """Load many files/directories; duplicate rule names are problems of the later file."""
    merged = RuleSet()
    for root in paths:
        if not root.exists():
            merged.problems.append(RuleProblem(root, "no such file or directory"))
            continue
        for path in rule_files(root):
            loaded = load_rule_file(path)
            merged.problems.extend(loaded.problems)
            for rule in loaded.rules:
                if rule.name in merged.sources:
                    merged.problems.append(
                        RuleProblem(
                            path,
                            f"duplicate rule name, already defined in {merged.sources[rule.name]}",
                            rule=f"'{rule.name}'",
                            field="name",
                        )
                    )
                    continue
                merged.rules.append(rule)
                merged.sources[rule.name] = path
    return merged
