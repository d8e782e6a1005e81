"""dashboard.yml mistakes are refused with the file and the field named (kibana/spec.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kibana.spec import DashboardSpecError, load_dashboard_spec
from sensors.registry import all_plugins

PANEL = """
description: test
rows:
  - - title: "T"
      chart: {chart}
      w: {w}
      layers:
        - columns:
            - {{key: time, op: date_histogram}}
            - {{key: split, op: terms, field: line, order_by: {order_by}}}
            - {{key: value, op: {op}}}
"""


@pytest.mark.parametrize(
    ("chart", "w", "order_by", "op", "message"),
    [
        ("xy", 48, "value", "average", "operation 'average' needs a 'field'"),
        ("xy", 49, "value", "count", "less than or equal to 48"),
        ("xy", 48, "ghost", "count", "ranks by 'ghost', not a metric of this layer"),
        ("pie", 48, "value", "count", "rows.0.0.chart"),
    ],
)
def test_a_broken_description_names_the_file_and_the_field(tmp_path: Path, chart, w, order_by, op, message):
    path = tmp_path / "dashboard.yml"
    path.write_text(PANEL.format(chart=chart, w=w, order_by=order_by, op=op))
    with pytest.raises(DashboardSpecError) as error:
        load_dashboard_spec(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_every_sensor_description_loads():
    for plugin in all_plugins():
        path = plugin.dashboard_file()
        assert path is not None, f"{plugin.name} has no dashboard.yml"
        assert load_dashboard_spec(path).rows
