"""What each panel shows, read from the built Lens state (issue 12 items 1-6): the numbers an operator
reads must mean what the title says. Offline; `test_scenario.py` runs the same panels on real data."""

from __future__ import annotations

from typing import Any

import pytest

from kibana.dashboards import all_objects

LENSES = [o for o in all_objects() if o["type"] == "lens"]
SORTABLE = {"count", "average", "sum", "min", "max", "median", "unique_count"}


def lens(title: str) -> dict[str, Any]:
    return next(o for o in LENSES if o["attributes"]["title"] == title)


def columns(obj: dict[str, Any]) -> list[dict[str, Any]]:
    layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return [column for layer in layers.values() for column in layer["columns"].values()]


def test_1_leak_events_count_the_leak_rule_only():
    query = lens("Air: leak events")["attributes"]["state"]["query"]["query"]
    assert 'rule : "air-leak"' in query and 'kind : "fired"' in query


def test_2_message_rate_is_per_minute_whatever_the_bucket():
    rate = lens("Operations: messages per minute per sensor")
    counts = [c for c in columns(rate) if c["operationType"] == "count"]
    assert counts and all(c.get("timeScale") == "m" for c in counts)
    histograms = [c for c in columns(rate) if c["operationType"] == "date_histogram"]
    assert histograms and all(c["params"]["interval"] == "auto" for c in histograms)


def test_3_an_outage_drops_to_zero_instead_of_being_bridged():
    rate = lens("Operations: messages per minute per sensor")
    assert all(c["params"]["emptyAsNull"] is False for c in columns(rate) if c["operationType"] == "count")
    assert rate["attributes"]["state"]["visualization"]["fittingFunction"] != "Linear"


@pytest.mark.parametrize("obj", LENSES, ids=lambda o: o["attributes"]["title"])
def test_4_every_split_is_ranked_by_a_metric_and_stacks_keep_the_rest(obj):
    layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    stacked = {
        layer["layerId"]
        for layer in obj["attributes"]["state"]["visualization"].get("layers", [])
        if layer.get("seriesType") == "bar_stacked"
    }
    for layer_id, layer in layers.items():
        for column in layer["columns"].values():
            if column["operationType"] != "terms":
                continue
            order = column["params"]["orderBy"]
            if order["type"] == "custom":  # ranked by a metric that is not shown
                assert column["params"]["orderAgg"]["operationType"] in SORTABLE, column["label"]
            else:  # a metric column Lens can rank by: not a formula, not a part of one, not last_value
                assert order["type"] == "column", column["label"]
                target = layer["columns"][order["columnId"]]
                assert target["operationType"] in SORTABLE and not target["label"].startswith("Part of")
            if layer_id in stacked:
                assert column["params"]["otherBucket"] is True, column["label"]


def test_4_tables_show_every_device_of_a_fleet_not_the_first_100():
    for obj in LENSES:
        if obj["attributes"]["visualizationType"] != "lnsDatatable":
            continue
        for column in columns(obj):
            if column["operationType"] == "terms" and column["sourceField"] in ("device_name", "line"):
                assert column["params"]["size"] >= 500, obj["attributes"]["title"]


def test_5_people_read_device_names_not_keys():
    splits = [
        (obj["attributes"]["title"], c["sourceField"])
        for obj in LENSES
        for c in columns(obj)
        if c["operationType"] == "terms"
    ]
    assert [s for s in splits if s[1] == "device_key"] == []


def test_6_pressure_is_one_paired_series_per_line_and_keeps_dips():
    margin = lens("Air: pressure margin above opening pressure per line")
    visible = [c for c in columns(margin) if not c["label"].startswith("Part of")]
    formulas = [c for c in visible if c["operationType"] == "formula"]
    assert [f["params"]["formula"] for f in formulas] == ["min(pressure) - max(opening_pressure)"]
    assert len(margin["attributes"]["state"]["visualization"]["layers"][0]["accessors"]) == 1
    averaged = [
        (obj["attributes"]["title"], c["sourceField"])
        for obj in LENSES
        for c in columns(obj)
        if c["operationType"] == "average" and c.get("sourceField") in ("pressure", "opening_pressure")
    ]
    assert averaged == []


def test_sensor_dashboards_have_filter_controls_for_site_name_and_gateway():
    import json

    for board in (
        o
        for o in all_objects()
        if o["type"] == "dashboard" and o["attributes"]["title"] != "Finemeca: operations"
    ):
        controls = json.loads(board["attributes"]["controlGroupInput"]["panelsJSON"]).values()
        fields = {c["explicitInput"]["fieldName"] for c in controls}
        assert {"customer", "gateway_id"} <= fields and fields & {"line", "device_name"}, board["attributes"][
            "title"
        ]
