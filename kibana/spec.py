"""Schema of a sensor's dashboard description (`sensors/<name>/dashboard.yml`), and its loading.

A sensor describes its panels as data; `kibana/dashboards.py` turns every registered sensor's
description into Lens objects and a dashboard, so adding a sensor never touches `kibana/`.

Panel sources are symbolic, never index names: `data` (the sensor's own data), a key of the plugin's
`extra_indices()` (declared under `data_views`), or a shared index (`alerts-history`, `alerts-state`,
`deadletters`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Operation = Literal[
    "date_histogram",
    "terms",
    "average",
    "sum",
    "min",
    "max",
    "median",
    "unique_count",
    "count",
    "last_value",
    "msg_count_gaps",
    "min_margin",
]
BUCKET_ROLES = {"date_histogram": "x", "terms": "split"}
FIELDLESS = {"count", "msg_count_gaps"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One Lens column. `date_histogram` is the x axis, `terms` the split (rows of a table), the rest metrics.

    `min_margin` is the formula `min(field) - max(other_field)`: the worst margin in each bucket (a dip
    below a limit is not averaged away)."""

    key: str = Field(pattern=r"^[a-z0-9_]+$", description="stable name inside the layer (part of the id)")
    op: Operation
    field: str | None = None
    label: str | None = None
    size: int = Field(default=10, ge=1, le=1000, description="terms: number of buckets")
    order_by: str | None = Field(
        default=None, description="terms: key of the metric column to rank by (descending); else alphabetical"
    )
    rank_by: str | None = Field(
        default=None,
        pattern=r"^(min|max|average|sum)\([A-Za-z0-9_@.]+\)$",
        description="terms: rank by a metric not shown, e.g. 'min(pressure)' (Lens custom ranking)",
    )
    order: Literal["asc", "desc"] = "desc"
    other_bucket: bool = Field(default=False, description="terms: group the rest into 'Other'")
    other_field: str | None = Field(default=None, description="min_margin: the limit field")
    empty_as_null: bool = Field(default=True, description="metrics: False draws empty buckets as 0")
    interval: str = Field(default="auto", description="date_histogram interval")
    time_scale: Literal["s", "m", "h", "d"] | None = Field(
        default=None, description="count/sum: normalise per second/minute/hour/day of the bucket"
    )
    data_type: Literal["number", "string", "boolean", "date"] = "number"
    sort_field: str = Field(default="@timestamp", description="last_value: the date field deciding 'last'")

    @property
    def role(self) -> str:
        return BUCKET_ROLES.get(self.op, "metric")

    @model_validator(mode="after")
    def _field_when_needed(self) -> ColumnSpec:
        if self.op not in FIELDLESS and self.op != "date_histogram" and not self.field:
            raise ValueError(f"operation {self.op!r} needs a 'field'")
        if (self.op == "min_margin") != (self.other_field is not None):
            raise ValueError("'other_field' goes with (and only with) operation 'min_margin'")
        return self


class LayerSpec(_Strict):
    name: str | None = Field(default=None, description="layer name (part of the id); default: panel title")
    source: str = "data"
    series: Literal["line", "bar", "bar_stacked", "area"] = "line"
    columns: list[ColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_x_and_split(self) -> LayerSpec:
        if sum(column.role == "x" for column in self.columns) > 1:
            raise ValueError("at most one x column per layer")
        keys = [column.key for column in self.columns]
        if len(keys) != len(set(keys)):
            raise ValueError("column keys must be unique within a layer")
        metrics = {column.key for column in self.columns if column.role == "metric"}
        for column in self.columns:
            if column.order_by is not None and column.order_by not in metrics:
                raise ValueError(
                    f"column {column.key!r} ranks by {column.order_by!r}, not a metric of this layer"
                )
        return self


class PanelSpec(_Strict):
    title: str = Field(min_length=1)
    chart: Literal["xy", "table", "metric"]
    description: str = ""
    query: str = Field(default="", description="KQL query of the panel")
    w: int = Field(default=24, ge=1, le=48, description="width on Kibana's 48-column grid")
    h: int = Field(default=12, ge=1)
    fitting: Literal["None", "Zero", "Linear", "Carry", "Lookahead"] = Field(
        default="Linear", description="xy: how gaps between points are drawn"
    )
    sort_by: str | None = Field(default=None, description="table: key of the column ordering the rows")
    sort_direction: Literal["asc", "desc"] = "desc"
    red_below: dict[str, float] = Field(
        default_factory=dict, description="table: column key -> value under which the cell turns red"
    )
    layers: list[LayerSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _single_layer_charts(self) -> PanelSpec:
        if self.chart != "xy" and len(self.layers) != 1:
            raise ValueError(f"a {self.chart} has exactly one layer")
        keys = {column.key for layer in self.layers for column in layer.columns}
        for key in [self.sort_by, *self.red_below] if self.sort_by else list(self.red_below):
            if key not in keys:
                raise ValueError(f"column {key!r} is not in the panel")
        return self


class DataViewSpec(_Strict):
    """A data view on one of the plugin's extra indices."""

    index: str = Field(description="key of the plugin's extra_indices()")
    time_field: str | None = "@timestamp"
    name: str


class ControlSpec(_Strict):
    """A filter control (options list) on a field of the sensor's data."""

    field: str
    label: str


class DashboardSpec(_Strict):
    description: str
    time_from: str = "now-24h"
    controls: list[ControlSpec] = Field(default_factory=list)
    data_views: list[DataViewSpec] = Field(default_factory=list)
    rows: list[list[PanelSpec]] = Field(min_length=1)

    @model_validator(mode="after")
    def _rows_fit_the_grid(self) -> DashboardSpec:
        for number, row in enumerate(self.rows, start=1):
            if not row:
                raise ValueError(f"row {number} is empty")
            if sum(panel.w for panel in row) > 48:
                raise ValueError(f"row {number} is wider than Kibana's 48-column grid")
        return self


class DashboardSpecError(ValueError):
    """A dashboard.yml that does not parse or validate; the message names the file and the field."""


def load_dashboard_spec(path: Path) -> DashboardSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return DashboardSpec.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise DashboardSpecError(f"{path}: cannot read the dashboard description: {exc}") from exc
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise DashboardSpecError(f"{path}: {details}") from exc
