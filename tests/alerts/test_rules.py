"""Rule schema and loading: precise errors naming file, rule and field; valid rules survive."""

from datetime import timedelta
from pathlib import Path

from alerts.durations import parse_duration
from alerts.rules import load_rule_file, load_rules

GOOD = """
rules:
  - name: leak
    kind: threshold
    sensor: air
    field: pressure
    op: "<"
    other_field: opening_pressure
    debounce: {readings: 3, duration: 1m}
"""


def test_durations():
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration(45) == timedelta(seconds=45)
    assert parse_duration("2d") == timedelta(days=2)


def test_valid_file(tmp_path: Path):
    path = tmp_path / "ok.yml"
    path.write_text(GOOD)
    loaded = load_rule_file(path)
    assert not loaded.problems
    assert loaded.rules[0].debounce.readings == 3


def test_broken_rule_names_file_rule_and_field(tmp_path: Path):
    path = tmp_path / "broken.yml"
    path.write_text(
        GOOD
        + """
  - name: bad
    kind: threshold
    sensor: air
    field: pressure
    op: "<<"
    value: 3
    debounce: {readings: 0}
"""
    )
    loaded = load_rule_file(path)
    assert [r.name for r in loaded.rules] == ["leak"]  # the valid rule of the same file survives
    text = "\n".join(str(p) for p in loaded.problems)
    assert str(path) in text
    assert "rule #2 'bad': field 'op'" in text
    assert "field 'debounce.readings'" in text


def test_yaml_syntax_error_has_line(tmp_path: Path):
    path = tmp_path / "syntax.yml"
    path.write_text("rules:\n  - name: x\n    kind: [threshold\n")
    problems = load_rule_file(path).problems
    assert len(problems) == 1 and "invalid YAML at line" in str(problems[0])


def test_threshold_needs_exactly_one_reference(tmp_path: Path):
    path = tmp_path / "ref.yml"
    path.write_text("name: r\nkind: threshold\nsensor: air\nfield: pressure\nop: '<'\n")
    assert "exactly one of 'value'" in str(load_rule_file(path).problems[0])


def test_unknown_kind_and_duplicates(tmp_path: Path):
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD + "  - {name: y, kind: nope, sensor: air}\n")
    loaded = load_rules([tmp_path])
    text = "\n".join(str(p) for p in loaded.problems)
    assert "duplicate rule name" in text and "b.yml" in text
    assert "field 'kind'" in text or "tag 'nope'" in text
    assert [r.name for r in loaded.rules] == ["leak"]


def test_shipped_rules_are_valid():
    from alerts.rules import default_rule_files

    loaded = load_rules(default_rule_files())
    assert not loaded.problems, loaded.problems
    assert "air-leak" in {r.name for r in loaded.rules}
