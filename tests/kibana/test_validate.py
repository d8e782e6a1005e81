"""Offline validation of the dashboards: the committed NDJSON, and that each check catches its fault."""

from __future__ import annotations

import copy
import json

import pytest

from kibana.build import render_ndjson
from kibana.validate import (
    SAVED_OBJECTS,
    field_source_description,
    flatten_mapping,
    parse_ndjson,
    validate_file,
    validate_objects,
)

FIELDS = {
    "finemeca-air-data*": {
        "@timestamp": "date",
        "line": "keyword",
        "device_key": "keyword",
        "device_name": "keyword",
        "gateway_id": "integer",
        "ingest_lag_ms": "long",
        "pressure": "float",
        "opening_pressure": "float",
        "leak": "boolean",
        "msg_count": "long",
        "rssi": "float",
        "snr": "float",
        "clock_skew_s": "float",
        "received_at": "date",
    }
}


def objects() -> list[dict]:
    objs, errors = parse_ndjson(render_ndjson().splitlines())
    assert errors == []
    return objs


def air_only(objs: list[dict]) -> list[dict]:
    """The air data view and the Lens objects on it only, so a fake field source is enough."""
    view_id = next(o["id"] for o in objs if o["attributes"].get("title") == "finemeca-air-data*")
    keep = [o for o in objs if o["id"] == view_id]
    keep += [
        o
        for o in objs
        if o["type"] == "lens" and o["references"] and all(r["id"] == view_id for r in o["references"])
    ]
    return keep


def test_committed_ndjson_is_built_from_dashboards_py():
    assert SAVED_OBJECTS.read_text() == render_ndjson(), "run `finemeca kibana build`"


def test_committed_ndjson_validates_against_real_mappings():
    assert validate_file() == []


def test_every_data_view_is_checked_against_a_real_mapping():
    """Not the fallback list: the mapping the ingestor / alert job really installs."""
    views = [o["attributes"]["title"] for o in objects() if o["type"] == "index-pattern"]
    assert {
        v: field_source_description(v) for v in views if "expected_fields" in field_source_description(v)
    } == {}


def test_expected_objects_are_present():
    objs = objects()
    titles = {o["attributes"]["title"] for o in objs if o["type"] == "dashboard"}
    assert titles == {"Finemeca: air", "Finemeca: centrale", "Finemeca: devicev01", "Finemeca: operations"}
    views = {
        o["attributes"]["title"]: o["attributes"].get("timeFieldName")
        for o in objs
        if o["type"] == "index-pattern"
    }
    assert views["finemeca-air-data*"] == "@timestamp"
    assert {"finemeca-centrale-daily", "finemeca-alerts-history", "finemeca-deadletters"} <= views.keys()


def test_fake_field_source_accepts_air_objects():
    assert validate_objects(air_only(objects()), FIELDS.get) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {k: v for k, v in FIELDS["finemeca-air-data*"].items() if k != "opening_pressure"},
            "does not exist",
        ),
        ({**FIELDS["finemeca-air-data*"], "pressure": "keyword"}, "min on 'pressure' of type keyword"),
        ({**FIELDS["finemeca-air-data*"], "@timestamp": "keyword"}, "not a date"),
        ({**FIELDS["finemeca-air-data*"], "line": "text"}, "terms on 'line' of type text"),
    ],
)
def test_field_errors_are_reported(fields, expected):
    errors = validate_objects(air_only(objects()), {"finemeca-air-data*": fields}.get)
    assert any(expected in e for e in errors), errors


def test_unresolved_reference_duplicate_id_and_bad_line():
    objs = air_only(objects())
    lens = copy.deepcopy(objs[1])
    lens["references"][0]["id"] = "missing"
    errors = validate_objects([*objs, lens], FIELDS.get)
    assert any("duplicate id" in e for e in errors)
    assert any("not in the set" in e for e in errors)
    _, parse_errors = parse_ndjson(['{"id": "x"', json.dumps({"id": "y"})])
    assert len(parse_errors) == 2


def test_dashboard_panel_without_reference_is_reported():
    objs = objects()
    board = copy.deepcopy(next(o for o in objs if o["type"] == "dashboard"))
    board["references"] = board["references"][1:]
    errors = validate_objects([o for o in objs if o["id"] != board["id"]] + [board])
    assert any("no reference named" in e for e in errors), errors


def test_visualization_must_show_existing_columns():
    objs = air_only(objects())
    lens = next(o for o in objs if o["attributes"].get("visualizationType") == "lnsXY")
    lens["attributes"]["state"]["visualization"]["layers"][0]["accessors"].append("ghost")
    assert any("missing column ghost" in e for e in validate_objects(objs, FIELDS.get))


def test_flatten_mapping_handles_objects_multi_fields_and_aliases():
    mapping = {
        "mappings": {
            "properties": {
                "a": {"properties": {"b": {"type": "float"}}},
                "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                "ts": {"type": "alias", "path": "@timestamp"},
                "@timestamp": {"type": "date"},
            }
        }
    }
    assert flatten_mapping(mapping) == {
        "a.b": "float",
        "name": "text",
        "name.raw": "keyword",
        "ts": "date",
        "@timestamp": "date",
    }


def test_kibana_source_facts_are_checked():
    """Migration versions, grid bounds, what terms may rank by, control references (Kibana 8.19)."""
    objs = objects()
    board = copy.deepcopy(next(o for o in objs if o["attributes"].get("title") == "Finemeca: air"))
    lens = copy.deepcopy(
        next(o for o in objs if o["attributes"].get("title") == "Air: current state per line")
    )
    others = [o for o in objs if o["id"] not in (board["id"], lens["id"])]
    lens["typeMigrationVersion"] = "7.10.0"
    layer = next(iter(lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()))
    terms = next(c for c in layer["columns"].values() if c["operationType"] == "terms")
    formula = next(col_id for col_id, c in layer["columns"].items() if c["operationType"] == "formula")
    terms["params"]["orderBy"] = {"type": "column", "columnId": formula}
    panels = json.loads(board["attributes"]["panelsJSON"])
    panels[0]["gridData"]["h"] = 0
    board["attributes"]["panelsJSON"] = json.dumps(panels)
    controls = json.loads(board["attributes"]["controlGroupInput"]["panelsJSON"])
    first, second = list(controls)[:2]
    controls[second]["explicitInput"]["fieldName"] = "no_such_field"
    board["attributes"]["controlGroupInput"]["panelsJSON"] = json.dumps(controls)
    board["references"] = [r for r in board["references"] if first not in r["name"]]
    errors = "\n".join(validate_objects([*others, lens, board]))
    assert "typeMigrationVersion '7.10.0'" in errors
    assert "which Lens cannot rank by" in errors
    assert "grid position/size out of bounds" in errors
    assert f"no data view reference controlGroup_{first}" in errors
    assert "field 'no_such_field' is not an aggregatable field" in errors
    assert validate_objects(objs) == []
