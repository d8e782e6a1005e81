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


def terms(field_name: str, size: int = 10, label: str | None = None, data_type: str = "string") -> Column:
    return {
        "label": label or f"Top {size} values of {field_name}",
        "customLabel": label is not None,
        "dataType": data_type,
        "operationType": "terms",
        "sourceField": field_name,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": {"type": "alphabetical", "fallback": True},
            "orderDirection": "asc",
            "otherBucket": False,
            "missingBucket": False,
            "parentFormat": {"id": "terms"},
            "include": [],
            "exclude": [],
            "includeIsRegex": False,
            "excludeIsRegex": False,
        },
    }


def metric(operation: str, field_name: str, label: str, data_type: str = "") -> Column:
    """average / sum / min / max / median on a number field (min/max also on dates: `data_type="date"`)."""
    data_type = data_type or ("date" if field_name == "@timestamp" else "number")
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type,
        "operationType": operation,
        "sourceField": field_name,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": True},
    }


def count(label: str) -> Column:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "sourceField": RECORDS,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": True},
    }


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


# ---- Lens visualizations -----------------------------------------------------------------------


@dataclass
class Layer:
    """One Lens layer on one data view. `columns` keeps insertion order (= columnOrder)."""

    name: str
    data_view_title: str
    columns: dict[str, Column] = field(default_factory=dict)
    x: str | None = None
    split: str | None = None
    metrics: list[str] = field(default_factory=list)
    series_type: str = "line"

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
            self.split = col_id
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
    title: str, layers: list[Layer], description: str = "", legend: str = "right", query: str = ""
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
        "fittingFunction": "Linear",
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


def data_table(title: str, layer: Layer, description: str = "", query: str = "") -> SavedObject:
    visible = [layer.split, *layer.metrics] if layer.split else layer.metrics
    visualization = {
        "layerId": layer.layer_id,
        "layerType": "data",
        "columns": [{"columnId": col_id, "isTransposed": False} for col_id in visible],
    }
    return _lens(title, "lnsDatatable", [layer], visualization, description, query)


# ---- Dashboards --------------------------------------------------------------------------------


@dataclass
class Panel:
    lens: SavedObject
    w: int = 24
    h: int = 12


def dashboard(
    title: str, description: str, rows: list[list[Panel]], time_from: str = "now-24h"
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
    return saved_object("dashboard", object_id("dashboard", title), attributes, references)
