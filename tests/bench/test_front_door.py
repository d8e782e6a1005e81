"""`finemeca bench front-door` against a real private Mosquitto: each step's PUBACKed rate is recorded
while the offline session's backlog grows, and the report section is patched into the output."""

from pathlib import Path

import pytest

from tools.bench import front_door

pytestmark = [pytest.mark.integration]


def test_backlog_steps_are_measured_on_a_private_broker(stack, tmp_path: Path):
    steps = front_door.measure(100, 3_000, 3, tmp_path / "broker")
    assert [step.queued for step in steps] == [1_000, 2_000, 3_000]
    assert all(step.rate > 0 for step in steps)
    assert not (tmp_path / "broker").exists()  # the private broker's folder is removed


def test_section_lists_every_setting_per_step_and_replaces_itself(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(front_door, "SECTION_FILE", tmp_path / "front_door.md")
    results = {
        1000: [front_door.BacklogStep(10, 900.0), front_door.BacklogStep(20, 800.0)],
        100: [front_door.BacklogStep(10, 90.0), front_door.BacklogStep(20, 80.0)],
    }
    section = front_door.markdown_section(results, "finemeca bench front-door")
    assert (
        "| messages queued | saves every 100 changes, msg/s | saves every 1,000 changes, msg/s |" in section
    )
    assert "| 20 | 80 | 800 |" in section
    output = tmp_path / "BENCHMARKS.md"
    output.write_text("# Benchmarks\n\n## Pipeline\n\nx\n\n## What limits throughput\n\ny\n")
    front_door.write_section(section, output)
    front_door.write_section(section, output)  # a second run replaces, never appends
    text = output.read_text()
    assert text.count(front_door.SECTION_TITLE) == 1
    assert text.index("## Pipeline") < text.index(front_door.SECTION_TITLE) < text.index("## What limits")
