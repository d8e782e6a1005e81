"""The Finemeca dashboards, as code. `finemeca kibana build` writes them to `kibana/saved_objects.ndjson`.

Each sensor describes its own dashboard as data (`sensors/<name>/dashboard.yml`, schema in
`kibana/spec.py`); this module builds every registered sensor's description, plus the cross-sensor
operations dashboard. Nothing here names a sensor: a new sensor's panels appear on the next build.

Field names follow docs/CONTRACTS.md; `finemeca kibana validate` checks every one against the index
mappings, so a renamed field fails the build instead of showing an empty panel in Kibana.
"""

from __future__ import annotations

from finemeca import naming
from kibana.lens import (
    Column,
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
from kibana.spec import ColumnSpec, DashboardSpec, DashboardSpecError, PanelSpec, load_dashboard_spec
from sensors.base import SensorPlugin
from sensors.registry import all_plugins

PREFIX = naming.DEFAULT_PREFIX
ALERTS_HISTORY = naming.alerts_history_index(PREFIX)
DEADLETTERS = naming.deadletter_index(PREFIX)
SHARED_SOURCES = {"alerts-history": ALERTS_HISTORY, "deadletters": DEADLETTERS}


def sensor_view(sensor: str) -> str:
    return f"{naming.data_index_alias(sensor, PREFIX)}*"


def sensor_specs() -> list[tuple[SensorPlugin, DashboardSpec]]:
    """Every registered sensor that ships a dashboard.yml, in registry order."""
    specs = []
    for plugin in all_plugins():
        path = plugin.dashboard_file()
        if path is not None:
            specs.append((plugin, load_dashboard_spec(path)))
    return specs


def data_views(specs: list[tuple[SensorPlugin, DashboardSpec]]) -> list[SavedObject]:
    views = [data_view(sensor_view(p.name), "@timestamp", f"Finemeca {p.name} data") for p in all_plugins()]
    for plugin, spec in specs:
        for view in spec.data_views:
            if view.index not in plugin.extra_indices():
                raise DashboardSpecError(
                    f"sensors/{plugin.name}/dashboard.yml: data view {view.index!r} is not one of the "
                    f"plugin's extra_indices() ({', '.join(plugin.extra_indices()) or 'none'})"
                )
            views.append(data_view(naming.extra_index(view.index, PREFIX), view.time_field, view.name))
    views.append(data_view(ALERTS_HISTORY, "@timestamp", "Finemeca alerts history"))
    views.append(data_view(DEADLETTERS, "@timestamp", "Finemeca dead letters"))
    return views


def source_view(plugin: SensorPlugin, spec: DashboardSpec, source: str) -> str:
    """Data view title of a panel source: `data`, one of the sensor's data views, or a shared index."""
    if source == "data":
        return sensor_view(plugin.name)
    if source in {view.index for view in spec.data_views}:
        return naming.extra_index(source, PREFIX)
    if source in SHARED_SOURCES:
        return SHARED_SOURCES[source]
    known = ["data", *(v.index for v in spec.data_views), *SHARED_SOURCES]
    raise DashboardSpecError(
        f"sensors/{plugin.name}/dashboard.yml: unknown source {source!r} (known: {', '.join(known)})"
    )


def column(spec: ColumnSpec, layer: Layer) -> Column | dict[str, Column]:
    field_name = spec.field or ""
    label = spec.label or field_name
    if spec.op == "date_histogram":
        return date_histogram(spec.field or "@timestamp", interval=spec.interval)
    if spec.op == "terms":
        return terms(field_name, size=spec.size, label=spec.label)
    if spec.op == "count":
        return count(label)
    if spec.op == "last_value":
        return last_value(field_name, label, data_type=spec.data_type)
    if spec.op == "msg_count_gaps":
        return msg_count_gaps(layer.col(spec.key), label or "Missing messages")
    return metric(spec.op, field_name, label)


def lens_of(plugin: SensorPlugin, spec: DashboardSpec, panel: PanelSpec) -> SavedObject:
    layers = []
    for layer_spec in panel.layers:
        layer = Layer(layer_spec.name or panel.title, source_view(plugin, spec, layer_spec.source))
        layer.series_type = layer_spec.series
        for column_spec in layer_spec.columns:
            layer.add(column_spec.key, column(column_spec, layer), role=column_spec.role)
        layers.append(layer)
    if panel.chart == "table":
        return data_table(panel.title, layers[0], panel.description)
    return xy_chart(panel.title, layers, panel.description, query=panel.query)


def sensor_dashboard(plugin: SensorPlugin, spec: DashboardSpec) -> tuple[SavedObject, list[SavedObject]]:
    rows, lenses = [], []
    for row in spec.rows:
        built = []
        for panel in row:
            lens = lens_of(plugin, spec, panel)
            lenses.append(lens)
            built.append(Panel(lens, w=panel.w, h=panel.h))
        rows.append(built)
    title = naming.sensor_dashboard_title(plugin.name)
    return dashboard(title, spec.description, rows, time_from=spec.time_from), lenses


def operations_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    rate_layers = []
    for sensor in (p.name for p in all_plugins()):
        layer = Layer(f"Operations: messages per minute: {sensor}", sensor_view(sensor))
        layer.add("time", date_histogram(interval="1m"), role="x")
        layer.add("count", count(sensor))
        rate_layers.append(layer)
    rate = xy_chart(
        "Operations: messages per minute per sensor", rate_layers, "Documents indexed per minute."
    )
    radio_tables = []
    for sensor in (p.name for p in all_plugins()):
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
    clock_tables = []
    for sensor in (p.name for p in all_plugins()):
        layer = Layer(f"Operations: device clocks off: {sensor}", sensor_view(sensor))
        layer.add("device", terms("device_key", size=50, label="Device"), role="split")
        layer.add("readings", count("Skewed readings"))
        layer.add("min", metric("min", "clock_skew_s", "Min skew (s)"))
        layer.add("max", metric("max", "clock_skew_s", "Max skew (s)"))
        layer.add("last", metric("max", "received_at", "Last received", data_type="date"))
        clock_tables.append(
            data_table(
                f"Operations: device clocks off: {sensor}",
                layer,
                "Devices whose readings were flagged clock_skewed: |device Time - gateway receive time| over "
                "INGESTOR_CLOCK_SKEW_TOLERANCE (skew > 0: device clock ahead). Kept as sent: fix the clock.",
                query="clock_skewed: true",
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
    lenses = [rate, *radio_tables, *clock_tables, dead_chart, dead_table]
    board = dashboard(
        "Finemeca: operations",
        "Pipeline health: message rates, radio quality, lost messages, device clocks, dead letters.",
        [
            [Panel(rate, w=48, h=12)],
            *[[Panel(table, w=48, h=12)] for table in radio_tables],
            [Panel(table, w=max(48 // len(clock_tables), 12), h=10) for table in clock_tables],
            [Panel(dead_chart, w=32, h=12), Panel(dead_table, w=16, h=12)],
        ],
    )
    return board, lenses


def all_objects() -> list[SavedObject]:
    """Every saved object, dependencies first (data views, then Lens, then dashboards)."""
    specs = sensor_specs()
    boards, lenses = [], []
    for board, board_lenses in [*(sensor_dashboard(p, spec) for p, spec in specs), operations_dashboard()]:
        boards.append(board)
        lenses.extend(board_lenses)
    return [*data_views(specs), *lenses, *boards]
