"""The Finemeca dashboards, as code. `finemeca kibana build` writes them to `kibana/saved_objects.ndjson`.

Field names follow docs/CONTRACTS.md; `finemeca kibana validate` checks every one against the index
mappings, so a renamed field fails the build instead of showing an empty panel in Kibana.
"""

from __future__ import annotations

from finemeca import naming
from kibana.lens import (
    Layer,
    Panel,
    SavedObject,
    count,
    dashboard,
    data_table,
    data_view,
    date_histogram,
    last_value,
    metric,
    msg_count_gaps,
    terms,
    xy_chart,
)

SENSORS = ("air", "centrale", "devicev01")  # a new sensor: add it here, then `finemeca kibana build`
CENTRALE_DAILY = naming.extra_index("centrale-daily")
ALERTS_HISTORY = naming.alerts_history_index()
DEADLETTERS = naming.deadletter_index()


def sensor_view(sensor: str) -> str:
    return f"{naming.data_index_alias(sensor)}*"


def data_views() -> list[SavedObject]:
    views = [data_view(sensor_view(s), "@timestamp", f"Finemeca {s} data") for s in SENSORS]
    views.append(data_view(CENTRALE_DAILY, "day", "Finemeca centrale daily consumption"))
    views.append(data_view(ALERTS_HISTORY, "@timestamp", "Finemeca alerts history"))
    views.append(data_view(DEADLETTERS, "@timestamp", "Finemeca dead letters"))
    return views


def _over_time(
    title: str, view: str, fields: list[tuple[str, str]], split: str, description: str = ""
) -> SavedObject:
    layer = Layer(title, view)
    layer.add("time", date_histogram(), role="x")
    layer.add("split", terms(split, size=20, label=split), role="split")
    for field_name, label in fields:
        layer.add(field_name, metric("average", field_name, label))
    return xy_chart(title, [layer], description)


def air_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    view = sensor_view("air")
    pressure = _over_time(
        "Air: pressure vs opening pressure per line",
        view,
        [("pressure", "Pressure (bar)"), ("opening_pressure", "Opening pressure (bar)")],
        "line",
        "Below the opening pressure the valve leaks.",
    )
    state = Layer("Air: current state per line", view)
    state.add("line", terms("line", size=100, label="Line"), role="split")
    state.add("pressure", last_value("pressure", "Pressure (bar)"))
    state.add("opening", last_value("opening_pressure", "Opening pressure (bar)"))
    state.add("leak", last_value("leak", "Leak", data_type="boolean"))
    state.add("seen", metric("max", "@timestamp", "Last reading"))
    current = data_table("Air: current state per line", state, "Latest reading of every line.")
    leaks = Layer("Air: leak events", ALERTS_HISTORY)
    leaks.add("time", date_histogram(), role="x")
    leaks.add("line", terms("line", size=20, label="Line"), role="split")
    leaks.add("events", count("Leak events"))
    leaks.series_type = "bar_stacked"
    events = xy_chart(
        "Air: leak events",
        [leaks],
        "Leak alerts fired by the alert job (finemeca-alerts-history).",
        query='sensor : "air" and kind : "fired"',
    )
    lenses = [pressure, current, events]
    board = dashboard(
        "Finemeca: air",
        "Compressed-air lines: pressure, opening pressure, leaks.",
        [[Panel(pressure, w=48, h=14)], [Panel(current, w=24, h=14), Panel(events, w=24, h=14)]],
    )
    return board, lenses


def centrale_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    daily = Layer("Centrale: daily consumption", CENTRALE_DAILY)
    daily.add("day", date_histogram("day", interval="1d"), role="x")
    daily.add("meter", terms("device_key", size=20, label="Meter"), role="split")
    daily.add("kwh", metric("sum", "consumption_kwh", "Consumption (kWh)"))
    daily.series_type = "bar_stacked"
    consumption = xy_chart(
        "Centrale: daily consumption", [daily], "Difference of two energy-index readings per day."
    )
    power = _over_time(
        "Centrale: power per meter", sensor_view("centrale"), [("power_kw", "Power (kW)")], "device_key"
    )
    board = dashboard(
        "Finemeca: centrale",
        "Electricity meters: daily consumption and power.",
        [[Panel(consumption, w=48, h=14)], [Panel(power, w=48, h=14)]],
        time_from="now-30d",
    )
    return board, [consumption, power]


def devicev01_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    view = sensor_view("devicev01")
    charts = [
        _over_time("Devicev01: temperature", view, [("temperature", "Temperature (°C)")], "device_key"),
        _over_time("Devicev01: pressure", view, [("pressure_hpa", "Pressure (hPa)")], "device_key"),
        _over_time("Devicev01: humidity", view, [("humidity", "Humidity (%)")], "device_key"),
    ]
    board = dashboard(
        "Finemeca: devicev01",
        "Weather-type devices: temperature, pressure, humidity.",
        [[Panel(chart, w=48, h=12)] for chart in charts],
    )
    return board, charts


def operations_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    rate_layers = []
    for sensor in SENSORS:
        layer = Layer(f"Operations: messages per minute: {sensor}", sensor_view(sensor))
        layer.add("time", date_histogram(interval="1m"), role="x")
        layer.add("count", count(sensor))
        rate_layers.append(layer)
    rate = xy_chart(
        "Operations: messages per minute per sensor", rate_layers, "Documents indexed per minute."
    )
    radio_tables = []
    for sensor in SENSORS:
        layer = Layer(f"Operations: radio and gaps: {sensor}", sensor_view(sensor))
        layer.add("device", terms("device_key", size=100, label="Device"), role="split")
        layer.add("rssi", metric("average", "rssi", "RSSI (dBm)"))
        layer.add("snr", metric("average", "snr", "SNR (dB)"))
        layer.add("messages", count("Messages"))
        layer.add("gaps", msg_count_gaps(layer.col("gaps")))
        layer.add("seen", metric("max", "@timestamp", "Last seen"))
        radio_tables.append(
            data_table(
                f"Operations: radio and msgCount gaps: {sensor}",
                layer,
                "Missing messages = max(msgCount) - min(msgCount) + 1 - received (approximate across a counter reset).",
            )
        )
    dead = Layer("Operations: dead letters", DEADLETTERS)
    dead.add("time", date_histogram(), role="x")
    dead.add("stage", terms("stage", size=10, label="Stage"), role="split")
    dead.add("count", count("Dead-lettered"))
    dead.series_type = "bar_stacked"
    dead_by_sensor = Layer("Operations: dead letters per sensor", DEADLETTERS)
    dead_by_sensor.add("sensor", terms("sensor", size=20, label="Sensor"), role="split")
    dead_by_sensor.add("count", count("Dead-lettered"))
    dead_by_sensor.add("last", metric("max", "@timestamp", "Last"))
    dead_chart = xy_chart(
        "Operations: dead-lettered messages", [dead], "Messages the ingestor could not index."
    )
    dead_table = data_table("Operations: dead-lettered per sensor", dead_by_sensor)
    lenses = [rate, *radio_tables, dead_chart, dead_table]
    board = dashboard(
        "Finemeca: operations",
        "Pipeline health: message rates, radio quality, lost messages, dead letters.",
        [
            [Panel(rate, w=48, h=12)],
            *[[Panel(table, w=48, h=12)] for table in radio_tables],
            [Panel(dead_chart, w=32, h=12), Panel(dead_table, w=16, h=12)],
        ],
    )
    return board, lenses


def all_objects() -> list[SavedObject]:
    """Every saved object, dependencies first (data views, then Lens, then dashboards)."""
    boards, lenses = [], []
    for build in (air_dashboard, centrale_dashboard, devicev01_dashboard, operations_dashboard):
        board, board_lenses = build()
        boards.append(board)
        lenses.extend(board_lenses)
    return [*data_views(), *lenses, *boards]
