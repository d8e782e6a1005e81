"""Small builders for Kibana 8.19 saved objects: data views, Lens visualizations, dashboards.

They produce exactly the JSON Kibana exports (Lens `formBased` datasource, by-reference dashboard
panels), so `kibana/saved_objects.ndjson` stays readable as code. Ids are uuid5 of a readable name:
re-importing overwrites the same objects instead of duplicating them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from finemeca import naming

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "lens": "8.9.0", "dashboard": "8.7.0"}
RECORDS = "___records___"  # Lens' pseudo-field for count()

SavedObject = dict[str, Any]
Column = dict[str, Any]


object_id = naming.kibana_object_id


def saved_object(
    kind: str, obj_id: str, attributes: dict[str, Any], references: list[dict[str, str]]
) -> SavedObject:
    return {
        "id": obj_id,
        "type": kind,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": TYPE_MIGRATION_VERSION[kind],
        "managed": False,
    }


def data_view(title: str, time_field: str | None, name: str | None = None) -> SavedObject:
    attributes: dict[str, Any] = {
        "title": title,
        "name": name or title,
        "fields": "[]",
        "runtimeFieldMap": "{}",
    }
    if time_field:
        attributes["timeFieldName"] = time_field
    return saved_object("index-pattern", object_id("index-pattern", title), attributes, [])


# ---- Lens columns ----------------------------------------------------------------------------


def date_histogram(field_name: str = "@timestamp", interval: str = "auto") -> Column:
    return {
        "label": field_name,
        "dataType": "date",
        "operationType": "date_histogram",
        "sourceField": field_name,
        "isBucketed": True,
        "scale": "interval",
        "params": {"interval": interval, "includeEmptyRows": True, "dropPartials": False},
    }


def terms(
    field_name: str,
    size: int = 10,
    label: str | None = None,
    data_type: str = "string",
    order_by: str | None = None,
    direction: str = "desc",
    other_bucket: bool = False,
    rank: Column | None = None,
) -> Column:
    """Top `size` values of a field, ranked by the metric column `order_by`, or by `rank` (Lens' custom
    ranking: a metric that is not shown), else alphabetically; `other_bucket` groups the rest into
    "Other" so stacked totals stay whole."""
    order: dict[str, Any] = {"type": "alphabetical", "fallback": True}
    if order_by:
        order = {"type": "column", "columnId": order_by}
    elif rank:
        order = {"type": "custom"}
    column: Column = {
        "label": label or f"Top {size} values of {field_name}",
        "customLabel": label is not None,
        "dataType": data_type,
        "operationType": "terms",
        "sourceField": field_name,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": order,
            "orderDirection": direction if order_by or rank else "asc",
            "otherBucket": other_bucket,
            "missingBucket": False,
            "parentFormat": {"id": "terms"},
            "include": [],
            "exclude": [],
            "includeIsRegex": False,
            "excludeIsRegex": False,
        },
    }
    if rank:
        column["params"]["orderAgg"] = rank
    return column


def metric(
    operation: str, field_name: str, label: str, empty_as_null: bool = True, data_type: str | None = None
) -> Column:
    """average / sum / min / max / median / unique_count (min/max also on dates)."""
    data_type = data_type or ("date" if field_name == "@timestamp" else "number")
    params: dict[str, Any] = {"emptyAsNull": empty_as_null}
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type,
        "operationType": operation,
        "sourceField": field_name,
        "isBucketed": False,
        "scale": "ratio",
        "params": params,
    }


def count(label: str, time_scale: str | None = None, empty_as_null: bool = True) -> Column:
    """Document count; `time_scale` ("s", "m", "h", "d") normalises it per unit of the bucket, so an
    auto interval of 10 minutes still reads "per minute"; `empty_as_null=False` draws empty buckets as 0."""
    column: Column = {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "sourceField": RECORDS,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": empty_as_null},
    }
    if time_scale:
        column["timeScale"] = time_scale
    return column


def last_value(
    field_name: str, label: str, data_type: str = "number", sort_field: str = "@timestamp"
) -> Column:
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type,
        "operationType": "last_value",
        "sourceField": field_name,
        "isBucketed": False,
        "scale": "ratio" if data_type == "number" else "ordinal",
        "filter": {"query": f'"{field_name}": *', "language": "kuery"},
        "params": {"sortField": sort_field, "showArrayValues": True},
    }


def msg_count_gaps(column_id: str, label: str = "Missing messages") -> dict[str, Column]:
    """Formula `max(msg_count) - min(msg_count) + 1 - count()`: messages the device numbered but we never got.

    Lens stores a formula as the formula column plus its hidden parts (X0.. sub-columns and a math column).
    """
    text = "max(msg_count) - min(msg_count) + 1 - count()"
    x0, x1, x2, x3 = (f"{column_id}X{i}" for i in range(4))
    part = f"Part of {label}"

    def node(name: str, args: list[Any], end: int) -> dict[str, Any]:
        return {
            "type": "function",
            "name": name,
            "args": args,
            "location": {"min": 0, "max": end},
            "text": text[:end],
        }

    ast = node("subtract", [node("add", [node("subtract", [x0, x1], 31), 1], 35), x2], len(text))
    hidden = {"customLabel": True, "label": part, "isBucketed": False, "scale": "ratio", "dataType": "number"}
    return {
        x0: {**hidden, "operationType": "max", "sourceField": "msg_count", "params": {"emptyAsNull": False}},
        x1: {**hidden, "operationType": "min", "sourceField": "msg_count", "params": {"emptyAsNull": False}},
        x2: {**hidden, "operationType": "count", "sourceField": RECORDS, "params": {"emptyAsNull": False}},
        x3: {**hidden, "operationType": "math", "params": {"tinymathAst": ast}, "references": [x0, x1, x2]},
        column_id: {
            "label": label,
            "customLabel": True,
            "dataType": "number",
            "operationType": "formula",
            "isBucketed": False,
            "scale": "ratio",
            "params": {
                "formula": text,
                "isFormulaBroken": False,
                "format": {"id": "number", "params": {"decimals": 0}},
            },
            "references": [x3],
        },
    }


def difference_formula(
    column_id: str, left: tuple[str, str], right: tuple[str, str], label: str, decimals: int = 2
) -> dict[str, Column]:
    """Formula `<op>(field) - <op>(field)` (e.g. `min(pressure) - max(opening_pressure)`), stored as Lens
    does: the formula column, its two hidden metric parts and the math column joining them."""
    text = f"{left[0]}({left[1]}) - {right[0]}({right[1]})"
    x0, x1, x2 = (f"{column_id}X{i}" for i in range(3))
    part = f"Part of {label}"
    hidden = {"customLabel": True, "label": part, "isBucketed": False, "scale": "ratio", "dataType": "number"}
    ast = {
        "type": "function",
        "name": "subtract",
        "args": [x0, x1],
        "location": {"min": 0, "max": len(text)},
        "text": text,
    }
    return {
        x0: {**hidden, "operationType": left[0], "sourceField": left[1], "params": {"emptyAsNull": True}},
        x1: {**hidden, "operationType": right[0], "sourceField": right[1], "params": {"emptyAsNull": True}},
        x2: {**hidden, "operationType": "math", "params": {"tinymathAst": ast}, "references": [x0, x1]},
        column_id: {
            "label": label,
            "customLabel": True,
            "dataType": "number",
            "operationType": "formula",
            "isBucketed": False,
            "scale": "ratio",
            "params": {
                "formula": text,
                "isFormulaBroken": False,
                "format": {"id": "number", "params": {"decimals": decimals}},
            },
            "references": [x2],
        },
    }


# ---- Lens visualizations -----------------------------------------------------------------------


@dataclass
class Layer:
    """One Lens layer on one data view. `columns` keeps insertion order (= columnOrder)."""

    name: str
    data_view_title: str
    columns: dict[str, Column] = field(default_factory=dict)
    x: str | None = None
    splits: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    series_type: str = "line"

    @property
    def split(self) -> str | None:
        """The chart's break-down column (a table shows every split as a row key)."""
        return self.splits[0] if self.splits else None

    @property
    def layer_id(self) -> str:
        return object_id("lens-layer", self.name)

    def col(self, key: str) -> str:
        return object_id("lens-column", f"{self.name}:{key}")

    def add(self, key: str, column: Column | dict[str, Column], role: str = "metric") -> str:
        col_id = self.col(key)
        if "operationType" in column:
            self.columns[col_id] = column
        else:  # a formula: several columns, the visible one is `col_id`
            self.columns.update(column)
        if role == "x":
            self.x = col_id
        elif role == "split":
            self.splits.append(col_id)
        elif role == "metric":
            self.metrics.append(col_id)
        return col_id

    def datasource(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "columnOrder": list(self.columns),
            "incompleteColumns": {},
            "sampling": 1,
        }

    def reference(self) -> dict[str, str]:
        return {
            "type": "index-pattern",
            "id": object_id("index-pattern", self.data_view_title),
            "name": f"indexpattern-datasource-layer-{self.layer_id}",
        }


def _lens(
    title: str,
    vis_type: str,
    layers: list[Layer],
    visualization: dict[str, Any],
    description: str,
    query: str = "",
) -> SavedObject:
    state = {
        "visualization": visualization,
        "query": {"query": query, "language": "kuery"},
        "filters": [],
        "datasourceStates": {
            "formBased": {"layers": {layer.layer_id: layer.datasource() for layer in layers}}
        },
        "internalReferences": [],
        "adHocDataViews": {},
    }
    attributes = {"title": title, "description": description, "visualizationType": vis_type, "state": state}
    return saved_object("lens", object_id("lens", title), attributes, [layer.reference() for layer in layers])


def xy_chart(
    title: str,
    layers: list[Layer],
    description: str = "",
    legend: str = "right",
    query: str = "",
    fitting: str = "Linear",
) -> SavedObject:
    vis_layers = []
    for layer in layers:
        vis_layer: dict[str, Any] = {
            "layerId": layer.layer_id,
            "layerType": "data",
            "seriesType": layer.series_type,
            "accessors": layer.metrics,
            "xAccessor": layer.x,
            "palette": {"type": "palette", "name": "default"},
        }
        if layer.split:
            vis_layer["splitAccessor"] = layer.split
        vis_layers.append(vis_layer)
    settings = {"x": True, "yLeft": True, "yRight": True}
    visualization = {
        "legend": {"isVisible": True, "position": legend, "legendSize": "auto"},
        "valueLabels": "hide",
        "fittingFunction": fitting,
        "emphasizeFitting": True,
        "preferredSeriesType": layers[0].series_type,
        "axisTitlesVisibilitySettings": settings,
        "tickLabelsVisibilitySettings": settings,
        "gridlinesVisibilitySettings": settings,
        "yLeftExtent": {"mode": "full"},
        "yRightExtent": {"mode": "full"},
        "layers": vis_layers,
    }
    return _lens(title, "lnsXY", layers, visualization, description, query)


def data_table(
    title: str,
    layer: Layer,
    description: str = "",
    query: str = "",
    sort_by: str | None = None,
    direction: str = "desc",
    colors: dict[str, dict[str, Any]] | None = None,
) -> SavedObject:
    """Rows = the split columns, then the metrics; `sort_by` orders the rows shown; `colors` maps a
    column id to a Lens palette (cell background by value, e.g. leaks in red)."""
    visible = [*layer.splits, *layer.metrics]
    columns: list[dict[str, Any]] = []
    for col_id in visible:
        entry: dict[str, Any] = {"columnId": col_id, "isTransposed": False}
        if colors and col_id in colors:
            entry.update({"colorMode": "cell", "palette": colors[col_id]})
        columns.append(entry)
    visualization: dict[str, Any] = {"layerId": layer.layer_id, "layerType": "data", "columns": columns}
    if sort_by:
        visualization["sorting"] = {"columnId": sort_by, "direction": direction}
    return _lens(title, "lnsDatatable", [layer], visualization, description, query)


def metric_value(title: str, layer: Layer, description: str = "", query: str = "") -> SavedObject:
    """One big number (Lens `lnsMetric`): the layer's first metric."""
    visualization = {"layerId": layer.layer_id, "layerType": "data", "metricAccessor": layer.metrics[0]}
    return _lens(title, "lnsMetric", [layer], visualization, description, query)


# ---- Dashboards --------------------------------------------------------------------------------


@dataclass
class Control:
    """An options-list filter control on top of a dashboard (e.g. customer, line, gateway)."""

    data_view_title: str
    field_name: str
    title: str


def control_group(
    dashboard_title: str, controls: list[Control]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """`controlGroupInput` attribute and its data-view references (`controlGroup_<id>:optionsListDataView`,
    the name Kibana extracts the control's dataViewId to)."""
    panels: dict[str, Any] = {}
    references = []
    for order, control in enumerate(controls):
        control_id = object_id("control", f"{dashboard_title}:{control.field_name}")
        panels[control_id] = {
            "order": order,
            "width": "medium",
            "grow": True,
            "type": "optionsListControl",
            "explicitInput": {
                "id": control_id,
                "fieldName": control.field_name,
                "title": control.title,
                "searchTechnique": "prefix",
                "selectedOptions": [],
                "sort": {"by": "_count", "direction": "desc"},
            },
        }
        references.append(
            {
                "type": "index-pattern",
                "id": object_id("index-pattern", control.data_view_title),
                "name": f"controlGroup_{control_id}:optionsListDataView",
            }
        )
    ignore = {
        "ignoreFilters": False,
        "ignoreQuery": False,
        "ignoreTimerange": False,
        "ignoreValidations": False,
    }
    group = {
        "controlStyle": "oneLine",
        "chainingSystem": "HIERARCHICAL",
        "showApplySelections": False,
        "panelsJSON": json.dumps(panels, separators=(",", ":")),
        "ignoreParentSettingsJSON": json.dumps(ignore, separators=(",", ":")),
    }
    return group, references


@dataclass
class Panel:
    lens: SavedObject
    w: int = 24
    h: int = 12


def dashboard(
    title: str,
    description: str,
    rows: list[list[Panel]],
    time_from: str = "now-24h",
    controls: list[Control] | None = None,
) -> SavedObject:
    """Panels laid out row by row on Kibana's 48-column grid, each a by-reference Lens object."""
    panels: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    y = 0
    for row in rows:
        x = 0
        for panel in row:
            index = object_id("panel", f"{title}:{panel.lens['id']}")
            panels.append(
                {
                    "type": "lens",
                    "gridData": {"x": x, "y": y, "w": panel.w, "h": panel.h, "i": index},
                    "panelIndex": index,
                    "embeddableConfig": {"enhancements": {}},
                    "panelRefName": f"panel_{index}",
                }
            )
            references.append({"type": "lens", "id": panel.lens["id"], "name": f"{index}:panel_{index}"})
            x += panel.w
        y += max(panel.h for panel in row)
    attributes = {
        "title": title,
        "description": description,
        "panelsJSON": json.dumps(panels, separators=(",", ":")),
        "optionsJSON": json.dumps(
            {"useMargins": True, "syncColors": False, "syncCursor": True, "hidePanelTitles": False}
        ),
        "timeRestore": True,
        "timeFrom": time_from,
        "timeTo": "now",
        "refreshInterval": {"pause": False, "value": 30_000},
        "version": 1,
        "kibanaSavedObjectMeta": {
            "searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})
        },
    }
    if controls:
        attributes["controlGroupInput"], control_refs = control_group(title, controls)
        references += control_refs
    return saved_object("dashboard", object_id("dashboard", title), attributes, references)
