"""Offline checks of the saved-object NDJSON, shared by `finemeca kibana validate` and the tests.

Kibana would import a dashboard whose field does not exist and show an empty panel; these checks
catch that before: every line parses, ids are unique, every reference resolves, and every field a
Lens column uses exists in the index mapping with a type that fits the operation.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from finemeca import naming
from sensors.registry import available_sensors, get_sensor

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
SAVED_OBJECTS = PACKAGE_DIR / "saved_objects.ndjson"
EXPECTED_FIELDS = PACKAGE_DIR / "expected_fields.json"
RECORDS = "___records___"
SENSOR_VIEW = re.compile(rf"^{naming.DEFAULT_PREFIX}-(?P<sensor>[a-z0-9_]+)-data\*?$")
GRID_COLUMNS = 48

NUMBER = {
    "long",
    "integer",
    "short",
    "byte",
    "double",
    "float",
    "half_float",
    "scaled_float",
    "unsigned_long",
}
DATE = {"date", "date_nanos"}
KEYWORD = {"keyword", "constant_keyword", "wildcard"}
AGGREGATABLE = NUMBER | DATE | KEYWORD | {"boolean", "ip"}
FITTING_TYPES: dict[str, set[str]] = {
    "average": NUMBER,
    "sum": NUMBER,
    "median": NUMBER,
    "standard_deviation": NUMBER,
    "percentile": NUMBER,
    "percentile_rank": NUMBER,
    "range": NUMBER,
    "min": NUMBER | DATE,
    "max": NUMBER | DATE,
    "date_histogram": DATE,
    "terms": NUMBER | KEYWORD | {"boolean", "ip"},
    "unique_count": AGGREGATABLE,
    "last_value": AGGREGATABLE,
    "count": AGGREGATABLE,
}
FIELDLESS_OPERATIONS = {
    "formula",
    "math",
    "static_value",
    "time_range",
    "differences",
    "moving_average",
    "cumulative_sum",
    "counter_rate",
}

# Facts from Kibana 8.19's source the builders rely on: the migration versions each saved-object type
# is at (an older one makes Kibana run migrations on import), the metrics `terms` may rank by
# (`isSortableByColumn`: no formula, no formula part, no last_value) and the data-view reference name
# of a control (`controlGroup_<id>:optionsListDataView`).
CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {"index-pattern": "8.0.0", "lens": "8.9.0", "dashboard": "8.7.0"}
RANKABLE = {"count", "average", "sum", "min", "max", "median", "unique_count", "standard_deviation"}

Fields = dict[str, str]
FieldSource = Callable[[str], Fields | None]


def lens_data_type(es_type: str) -> str:
    if es_type in NUMBER:
        return "number"
    if es_type in DATE:
        return "date"
    if es_type in KEYWORD or es_type == "text":
        return "string"
    return es_type  # boolean, ip


def flatten_mapping(mapping: dict[str, Any]) -> Fields:
    """`{"a.b": "keyword", ...}` from an index mapping (wrapped in `mappings` or not), multi-fields included."""
    mapping = mapping.get("mappings", mapping)
    fields: Fields = {}
    aliases: dict[str, str] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            path = f"{prefix}{name}"
            if "properties" in spec:
                walk(spec["properties"], f"{path}.")
                continue
            es_type = spec.get("type", "object")
            if es_type == "alias":
                aliases[path] = spec["path"]
            fields[path] = es_type
            for sub, sub_spec in spec.get("fields", {}).items():
                fields[f"{path}.{sub}"] = sub_spec.get("type", "keyword")

    walk(mapping.get("properties", {}), "")
    for path, target in aliases.items():
        fields[path] = fields.get(target, "alias")
    return fields


def default_field_source(title: str) -> Fields | None:
    """Fields behind a data view: the sensor plugin's mapping, else a mapping file or expected_fields.json."""
    match = SENSOR_VIEW.match(title)
    if match:
        return flatten_mapping(get_sensor(match["sensor"]).index_mappings())
    extra = _sensor_extra_index(title)
    if extra is not None:
        return flatten_mapping(extra)
    expected = json.loads(EXPECTED_FIELDS.read_text()).get(title)
    if expected is None:
        return None
    mapping_file = _first_mapping_file(expected)
    if mapping_file:
        return flatten_mapping(json.loads(mapping_file.read_text()))
    python_mapping = _python_mapping(expected)
    if python_mapping is not None:
        return flatten_mapping(python_mapping)
    return dict(expected["fields"])


def _python_mapping(expected: dict[str, Any]) -> dict[str, Any] | None:
    """`module:ATTRIBUTE` holding a mapping dict in code (e.g. the ingestor's dead-letter index)."""
    for spec in expected.get("python_mappings", []):
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, attribute):
            return dict(getattr(module, attribute))
    return None


def _sensor_extra_index(title: str) -> dict[str, Any] | None:
    """Mappings of an extra index a sensor plugin declares (e.g. `centrale-daily`), if any."""
    for sensor in available_sensors():
        for name, mappings in get_sensor(sensor).extra_indices().items():
            if title == naming.extra_index(name):
                return mappings
    return None


def _first_mapping_file(expected: dict[str, Any]) -> Path | None:
    for pattern in expected.get("mapping_files", []):
        for path in sorted(REPO_DIR.glob(pattern)):
            return path
    return None


def field_source_description(title: str) -> str:
    match = SENSOR_VIEW.match(title)
    if match:
        return f"sensors/{match['sensor']}/mapping.json"
    if _sensor_extra_index(title) is not None:
        return "a sensor plugin's extra_indices()"
    expected = json.loads(EXPECTED_FIELDS.read_text()).get(title, {})
    mapping_file = _first_mapping_file(expected)
    if mapping_file:
        return str(mapping_file.relative_to(REPO_DIR))
    if _python_mapping(expected) is not None:
        return " or ".join(expected["python_mappings"])
    return "kibana/expected_fields.json"


def parse_ndjson(lines: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    objects, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not JSON: {exc}")
            continue
        if not isinstance(obj, dict) or not {"id", "type", "attributes"} <= obj.keys():
            errors.append(f"line {number}: a saved object needs id, type and attributes")
            continue
        objects.append(obj)
    return objects, errors


def validate_objects(
    objects: list[dict[str, Any]], field_source: FieldSource = default_field_source
) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for obj in objects:
        if obj["id"] in seen:
            errors.append(f"{obj['type']} {obj['id']}: duplicate id")
        seen.add(obj["id"])
    by_key = {(obj["type"], obj["id"]): obj for obj in objects}
    for obj in objects:
        where = f"{obj['type']} {obj['id']} ({obj['attributes'].get('title', '?')})"
        for ref in obj.get("references", []):
            if (ref.get("type"), ref.get("id")) not in by_key:
                errors.append(
                    f"{where}: reference {ref.get('name')} -> {ref.get('type')} {ref.get('id')} not in the set"
                )
        if obj.get("coreMigrationVersion") != CORE_MIGRATION_VERSION:
            errors.append(
                f"{where}: coreMigrationVersion {obj.get('coreMigrationVersion')!r}, expected {CORE_MIGRATION_VERSION}"
            )
        expected_version = TYPE_MIGRATION_VERSIONS.get(obj["type"])
        if expected_version and obj.get("typeMigrationVersion") != expected_version:
            errors.append(
                f"{where}: typeMigrationVersion {obj.get('typeMigrationVersion')!r}, expected {expected_version}"
            )
        checker = _CHECKERS.get(obj["type"])
        if checker:
            errors.extend(f"{where}: {e}" for e in checker(obj, by_key, field_source))
    return errors


def validate_file(path: Path = SAVED_OBJECTS, field_source: FieldSource = default_field_source) -> list[str]:
    objects, errors = parse_ndjson(path.read_text().splitlines())
    return errors + validate_objects(objects, field_source)


def _fields_for(title: str, field_source: FieldSource) -> tuple[Fields | None, str | None]:
    try:
        fields = field_source(title)
    except (KeyError, FileNotFoundError) as exc:
        return None, f"no mapping for data view {title!r}: {exc}"
    if fields is None:
        return None, f"no mapping known for data view {title!r}"
    return fields, None


def _check_data_view(obj: dict[str, Any], _: dict[Any, Any], field_source: FieldSource) -> list[str]:
    title, time_field = obj["attributes"].get("title"), obj["attributes"].get("timeFieldName")
    fields, error = _fields_for(title, field_source)
    if error or fields is None:
        return [error or "no fields"]
    if time_field and fields.get(time_field) not in DATE:
        return [f"time field {time_field!r} is {fields.get(time_field, 'missing')}, not a date"]
    return []


def _check_column(col_id: str, column: dict[str, Any], columns: dict[str, Any], fields: Fields) -> list[str]:
    errors = []
    operation = column.get("operationType")
    for ref in column.get("references", []):
        if ref not in columns:
            errors.append(f"column {col_id} references missing column {ref}")
    if operation in FIELDLESS_OPERATIONS:
        return errors
    if operation not in FITTING_TYPES:
        return [*errors, f"column {col_id}: unknown operation {operation!r}"]
    source = column.get("sourceField")
    if operation == "count" and source == RECORDS:
        return errors
    if source not in fields:
        return [*errors, f"column {column.get('label')!r}: field {source!r} does not exist in the mapping"]
    es_type = fields[source]
    if es_type not in FITTING_TYPES[operation]:
        errors.append(
            f"column {column.get('label')!r}: {operation} on {source!r} of type {es_type} does not fit"
        )
    elif operation not in {"count", "unique_count"} and column.get("dataType") != lens_data_type(es_type):
        errors.append(
            f"column {column.get('label')!r}: dataType {column.get('dataType')} but {source!r} is {es_type}"
        )
    if operation == "terms":
        errors.extend(_check_ranking(column, columns, fields))
    sort_field = column.get("params", {}).get("sortField")
    if operation == "last_value" and fields.get(sort_field) not in DATE:
        errors.append(
            f"column {column.get('label')!r}: last_value sortField {sort_field!r} is not a date field"
        )
    return errors


def _check_ranking(column: dict[str, Any], columns: dict[str, Any], fields: Fields) -> list[str]:
    """A terms column ranks by a metric Lens can sort by, or by a custom metric on a fitting field."""
    params = column.get("params", {})
    order = params.get("orderBy", {})
    label = column.get("label")
    if order.get("type") == "column":
        target = columns.get(order.get("columnId"), {})
        referenced = any(order.get("columnId") in c.get("references", []) for c in columns.values())
        if target.get("operationType") not in RANKABLE or referenced:
            return [f"column {label!r}: ranks by {order.get('columnId')}, which Lens cannot rank by"]
    if order.get("type") == "custom":
        rank = params.get("orderAgg") or {}
        field_type = fields.get(rank.get("sourceField", ""))
        if rank.get("operationType") not in RANKABLE or field_type not in FITTING_TYPES.get(
            rank.get("operationType", ""), set()
        ):
            return [
                f"column {label!r}: custom ranking {rank.get('operationType')} on {rank.get('sourceField')!r} does not fit"
            ]
    return []


def _visualization_accessors(state: dict[str, Any], vis_type: str) -> dict[str, list[str]]:
    """Column ids the visualization shows, per layer id."""
    vis = state.get("visualization", {})
    if vis_type == "lnsXY":
        return {
            layer["layerId"]: [
                c
                for c in [*layer.get("accessors", []), layer.get("xAccessor"), layer.get("splitAccessor")]
                if c
            ]
            for layer in vis.get("layers", [])
            if layer.get("layerType", "data") == "data"
        }
    if vis_type == "lnsDatatable":
        return {vis["layerId"]: [c["columnId"] for c in vis.get("columns", [])]}
    if vis_type == "lnsMetric":
        return {vis["layerId"]: [c for c in (vis.get("metricAccessor"), vis.get("breakdownByAccessor")) if c]}
    return {}


def _check_lens(obj: dict[str, Any], by_key: dict[Any, Any], field_source: FieldSource) -> list[str]:
    attributes = obj["attributes"]
    state = attributes.get("state", {})
    layers = state.get("datasourceStates", {}).get("formBased", {}).get("layers", {})
    refs = {ref["name"]: ref for ref in obj.get("references", [])}
    errors: list[str] = []
    if not layers:
        errors.append("no formBased layer")
    for layer_id, layer in layers.items():
        ref = refs.get(f"indexpattern-datasource-layer-{layer_id}")
        view = by_key.get(("index-pattern", ref["id"])) if ref else None
        if view is None:
            errors.append(f"layer {layer_id} has no data view reference in the set")
            continue
        fields, error = _fields_for(view["attributes"]["title"], field_source)
        if error or fields is None:
            errors.append(error or "no fields")
            continue
        columns = layer.get("columns", {})
        if set(layer.get("columnOrder", [])) != set(columns):
            errors.append(f"layer {layer_id}: columnOrder does not list exactly its columns")
        for col_id, column in columns.items():
            errors.extend(_check_column(col_id, column, columns, fields))
    for layer_id, accessors in _visualization_accessors(
        state, attributes.get("visualizationType", "")
    ).items():
        if layer_id not in layers:
            errors.append(f"visualization layer {layer_id} has no datasource layer")
            continue
        errors.extend(
            f"visualization shows missing column {a}"
            for a in accessors
            if a not in layers[layer_id]["columns"]
        )
    return errors


def _check_dashboard(obj: dict[str, Any], by_key: dict[Any, Any], field_source: FieldSource) -> list[str]:
    try:
        panels = json.loads(obj["attributes"].get("panelsJSON", "[]"))
    except json.JSONDecodeError as exc:
        return [f"panelsJSON is not JSON: {exc}"]
    ref_names = {ref["name"] for ref in obj.get("references", [])}
    errors, indices = [], set()
    for panel in panels:
        index, grid = panel.get("panelIndex"), panel.get("gridData", {})
        if index in indices:
            errors.append(f"duplicate panelIndex {index}")
        indices.add(index)
        if grid.get("x", 0) + grid.get("w", 0) > GRID_COLUMNS:
            errors.append(f"panel {index} overflows the {GRID_COLUMNS}-column grid")
        if min(grid.get("x", -1), grid.get("y", -1)) < 0 or min(grid.get("w", 0), grid.get("h", 0)) < 1:
            errors.append(f"panel {index}: grid position/size out of bounds {grid}")
        ref_name = panel.get("panelRefName")
        if ref_name and f"{index}:{ref_name}" not in ref_names:
            errors.append(f"panel {index}: no reference named {index}:{ref_name}")
        if not ref_name and "attributes" not in panel.get("embeddableConfig", {}):
            errors.append(f"panel {index}: neither by reference nor by value")
    return errors + _check_controls(obj, by_key, field_source)


def _check_controls(obj: dict[str, Any], by_key: dict[Any, Any], field_source: FieldSource) -> list[str]:
    group = obj["attributes"].get("controlGroupInput")
    if not group:
        return []
    refs = {ref["name"]: ref for ref in obj.get("references", [])}
    errors = []
    for control_id, control in json.loads(group.get("panelsJSON", "{}")).items():
        ref = refs.get(f"controlGroup_{control_id}:optionsListDataView")
        view = by_key.get(("index-pattern", ref["id"])) if ref else None
        if view is None:
            errors.append(
                f"control {control_id}: no data view reference controlGroup_{control_id}:optionsListDataView"
            )
            continue
        fields, error = _fields_for(view["attributes"]["title"], field_source)
        name = control.get("explicitInput", {}).get("fieldName")
        if fields is not None and fields.get(name) not in AGGREGATABLE:
            errors.append(
                f"control {control_id}: field {name!r} is not an aggregatable field of {view['attributes']['title']}"
            )
        elif error:
            errors.append(error)
    return errors


_CHECKERS: dict[str, Callable[[dict[str, Any], dict[Any, Any], FieldSource], list[str]]] = {
    "index-pattern": _check_data_view,
    "lens": _check_lens,
    "dashboard": _check_dashboard,
}
