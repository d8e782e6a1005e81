"""The Finemeca dashboards, as code. `finemeca kibana build` writes them to `kibana/saved_objects.ndjson`.

Each sensor describes its own dashboard as data (`sensors/<name>/dashboard.yml`, schema in
`kibana/spec.py`); this module builds every registered sensor's description, plus the cross-sensor
operations dashboard. Nothing here names a sensor: a new sensor's panels appear on the next build.

Field names follow docs/CONTRACTS.md; `finemeca kibana validate` checks every one against the index
mappings, so a renamed field fails the build instead of showing an empty panel in Kibana.
"""

from __future__ import annotations

from typing import Any

from finemeca import naming
from kibana.lens import (
    Column,
    Control,
    Layer,
    Panel,
    SavedObject,
    count,
    dashboard,
    data_table,
    data_view,
    date_histogram,
    difference_formula,
    last_value,
    metric,
    metric_value,
    msg_count_gaps,
    terms,
    xy_chart,
)
from kibana.spec import ColumnSpec, DashboardSpec, DashboardSpecError, PanelSpec, load_dashboard_spec
from sensors.base import SensorPlugin
from sensors.registry import all_plugins

PREFIX = naming.DEFAULT_PREFIX
ALERTS_HISTORY = naming.alerts_history_index(PREFIX)
ALERTS_STATE = naming.alerts_state_index(PREFIX)
DEADLETTERS = naming.deadletter_index(PREFIX)
QUEUE_DEPTH = naming.queue_depth_index_pattern(PREFIX)
SHARED_SOURCES = {"alerts-history": ALERTS_HISTORY, "alerts-state": ALERTS_STATE, "deadletters": DEADLETTERS}
RED, GREEN = "#E7664C", "#54B399"


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
    views.append(data_view(QUEUE_DEPTH, "@timestamp", "Finemeca queue depth"))
    views.append(data_view(ALERTS_STATE, None, "Finemeca alert states (now)"))
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
        order_by = layer.col(spec.order_by) if spec.order_by else None
        rank = None
        if spec.rank_by:
            op, _, ranked = spec.rank_by.rstrip(")").partition("(")
            rank = metric(op, ranked, spec.rank_by)
        return terms(
            field_name,
            spec.size,
            spec.label,
            order_by=order_by,
            direction=spec.order,
            other_bucket=spec.other_bucket,
            rank=rank,
        )
    if spec.op == "count":
        return count(label, time_scale=spec.time_scale, empty_as_null=spec.empty_as_null)
    if spec.op == "last_value":
        return last_value(field_name, label, data_type=spec.data_type, sort_field=spec.sort_field)
    if spec.op == "msg_count_gaps":
        return msg_count_gaps(layer.col(spec.key), label or "Missing messages")
    if spec.op == "min_margin":
        return difference_formula(
            layer.col(spec.key), ("min", field_name), ("max", spec.other_field or ""), label
        )
    data_type = "date" if spec.data_type == "date" else None  # None: date for @timestamp, else number
    return metric(spec.op, field_name, label, empty_as_null=spec.empty_as_null, data_type=data_type)


def red_below(threshold: float) -> dict[str, Any]:
    """Lens palette: cells below `threshold` red, the rest green."""
    stops = [{"color": RED, "stop": threshold}, {"color": GREEN, "stop": threshold + 1}]
    return {
        "type": "palette",
        "name": "custom",
        "params": {
            "name": "custom",
            "reverse": False,
            "rangeType": "number",
            "rangeMin": None,
            "rangeMax": None,
            "progression": "fixed",
            "stops": stops,
            "colorStops": [{"color": RED, "stop": None}, {"color": GREEN, "stop": threshold}],
            "continuity": "all",
            "maxSteps": 5,
        },
    }


def lens_of(plugin: SensorPlugin, spec: DashboardSpec, panel: PanelSpec) -> SavedObject:
    layers = []
    for layer_spec in panel.layers:
        layer = Layer(layer_spec.name or panel.title, source_view(plugin, spec, layer_spec.source))
        layer.series_type = layer_spec.series
        for column_spec in layer_spec.columns:
            layer.add(column_spec.key, column(column_spec, layer), role=column_spec.role)
        layers.append(layer)
    first = layers[0]
    if panel.chart == "table":
        sort_by = first.col(panel.sort_by) if panel.sort_by else None
        colors = {first.col(key): red_below(value) for key, value in panel.red_below.items()}
        return data_table(
            panel.title, first, panel.description, panel.query, sort_by, panel.sort_direction, colors or None
        )
    if panel.chart == "metric":
        return metric_value(panel.title, first, panel.description, panel.query)
    return xy_chart(panel.title, layers, panel.description, query=panel.query, fitting=panel.fitting)


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
    controls = [Control(sensor_view(plugin.name), c.field, c.label) for c in spec.controls]
    return dashboard(title, spec.description, rows, time_from=spec.time_from, controls=controls), lenses


def queue_depth_chart(kind: str, title: str, description: str) -> SavedObject:
    """Depth per sensor over time from the ingestors' samples (`kind` `data` or `dlq`); a gap is a time
    no ingestor could read the broker."""
    layer = Layer(title, QUEUE_DEPTH)
    layer.add("time", date_histogram(), role="x")
    layer.add("sensor", terms("sensor", 20, "Sensor", order_by=layer.col("depth")), role="split")
    layer.add("depth", metric("max", "depth", "Messages waiting (max)"))
    return xy_chart(title, [layer], description, query=f'kind : "{kind}"', fitting="None")


def operations_dashboard() -> tuple[SavedObject, list[SavedObject]]:
    sensors = [p.name for p in all_plugins()]
    rate_layers = []
    for sensor in sensors:
        layer = Layer(f"Operations: messages per minute: {sensor}", sensor_view(sensor))
        layer.add("time", date_histogram(), role="x")  # auto interval, normalised per minute below
        layer.add("count", count(sensor, time_scale="m", empty_as_null=False))  # an outage drops to 0
        rate_layers.append(layer)
    rate = xy_chart(
        "Operations: messages per minute per sensor",
        rate_layers,
        "Documents indexed per minute (each bar's count divided by its length in minutes).",
        fitting="Zero",
    )
    lag_layers = []
    for sensor in sensors:
        layer = Layer(f"Operations: ingestion lag: {sensor}", sensor_view(sensor))
        layer.add("time", date_histogram(), role="x")
        layer.add("lag", metric("max", "ingest_lag_ms", f"{sensor} (max ms)"))
        lag_layers.append(layer)
    lag = xy_chart(
        "Operations: ingestion lag",
        lag_layers,
        "Gateway receive to ingestor, in ms (ingested_at - received_at), worst message per interval.",
        fitting="None",
    )
    queue_depth = queue_depth_chart(
        "data",
        "Operations: queue depth per sensor",
        "Messages waiting in each sensor's ActiveMQ queue (highest sample per interval; sampled by the "
        "ingestor every INGESTOR_QUEUE_DEPTH_SAMPLE_S). Growing: the ingestor does not keep up or is down.",
    )
    dlq_depth = queue_depth_chart(
        "dlq",
        "Operations: dead-letter queue depth per sensor",
        "Messages waiting in each sensor's DLQ (highest sample per interval): inspect and re-drive them "
        "with `finemeca ingestor dlq`.",
    )
    radio_tables = []
    for sensor in sensors:
        layer = Layer(f"Operations: radio and gaps: {sensor}", sensor_view(sensor))
        gaps = layer.col("gaps")
        layer.add("device", terms("device_name", 500, "Device", order_by=layer.col("messages")), role="split")
        layer.add("rssi", metric("average", "rssi", "RSSI (dBm)"))
        layer.add("snr", metric("average", "snr", "SNR (dB)"))
        layer.add("messages", count("Messages"))
        layer.add("gaps", msg_count_gaps(gaps))
        layer.add("seen", metric("max", "@timestamp", "Last seen"))
        layer.add("key", last_value("device_key", "Device key", data_type="string"))
        radio_tables.append(
            data_table(
                f"Operations: radio and msgCount gaps: {sensor}",
                layer,
                "Worst first: missing messages = max(msgCount) - min(msgCount) + 1 - received (approximate "
                "across a counter reset). Up to 500 devices (ranked by messages received).",
                sort_by=gaps,
            )
        )
    gateway_tables = []
    for sensor in sensors:
        layer = Layer(f"Operations: per gateway: {sensor}", sensor_view(sensor))
        layer.add(
            "gateway",
            terms("gateway_id", 100, "Gateway", data_type="number", order_by=layer.col("messages")),
            role="split",
        )
        layer.add("messages", count("Messages"))
        layer.add("devices", metric("unique_count", "device_key", "Devices", data_type="number"))
        layer.add("seen", metric("max", "@timestamp", "Last message"))
        layer.add("lag", metric("max", "ingest_lag_ms", "Max lag (ms)"))
        gateway_tables.append(
            data_table(f"Operations: per gateway: {sensor}", layer, "Messages and devices per gateway.")
        )
    silent = Layer("Operations: silent devices", ALERTS_STATE)
    silent.add(
        "device",
        terms("context.device_name", 500, "Device", order_by=silent.col("since"), direction="asc"),
        role="split",
    )
    silent.add("rule", terms("rule", 50, "Rule", order_by=silent.col("since"), direction="asc"), role="split")
    silent.add("since", metric("min", "fired_at", "Silent alert since", data_type="date"))
    silent.add("key", last_value("device_key", "Device key", data_type="string", sort_field="updated_at"))
    silent_table = data_table(
        "Operations: silent devices",
        silent,
        "Devices whose silent_device rule fires now (no message for longer than the rule's `after`), oldest first.",
        query='status : "firing" and rule : *silent*',
        sort_by=silent.col("since"),
        direction="asc",
    )
    clock_tables = []
    for sensor in sensors:
        layer = Layer(f"Operations: device clocks off: {sensor}", sensor_view(sensor))
        layer.add("device", terms("device_name", 500, "Device", order_by=layer.col("readings")), role="split")
        layer.add("readings", count("Skewed readings"))
        layer.add("min", metric("min", "clock_skew_s", "Min skew (s)"))
        layer.add("max", metric("max", "clock_skew_s", "Max skew (s)"))
        layer.add("last", metric("max", "received_at", "Last received", data_type="date"))
        layer.add("key", last_value("device_key", "Device key", data_type="string"))
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
    dead.add(
        "stage", terms("stage", 10, "Stage", order_by=dead.col("count"), other_bucket=True), role="split"
    )
    dead.add("count", count("Dead-lettered"))
    dead.series_type = "bar_stacked"
    dead_by_reason = Layer("Operations: dead letters per sensor", DEADLETTERS)
    dead_by_reason.add(
        "sensor", terms("sensor", 20, "Sensor", order_by=dead_by_reason.col("count")), role="split"
    )
    dead_by_reason.add(
        "stage", terms("stage", 10, "Stage", order_by=dead_by_reason.col("count")), role="split"
    )
    dead_by_reason.add(
        "reason",
        terms("reason.keyword", 20, "Reason", order_by=dead_by_reason.col("count"), other_bucket=True),
        role="split",
    )
    dead_by_reason.add("count", count("Dead-lettered"))
    dead_by_reason.add("last", metric("max", "@timestamp", "Last"))
    dead_chart = xy_chart(
        "Operations: dead-lettered messages", [dead], "Messages the ingestor could not index.", fitting="Zero"
    )
    dead_table = data_table(
        "Operations: dead-lettered per sensor", dead_by_reason, "By sensor, stage and reason, most first."
    )
    lenses = [
        rate,
        lag,
        queue_depth,
        dlq_depth,
        *radio_tables,
        *gateway_tables,
        *clock_tables,
        silent_table,
        dead_chart,
        dead_table,
    ]
    board = dashboard(
        "Finemeca: operations",
        "Pipeline health: message rates, ingestion lag, queue depths, radio quality, lost messages, gateways, device clocks, "
        "silent devices, dead letters.",
        [
            [Panel(rate, w=24, h=12), Panel(lag, w=24, h=12)],
            [Panel(queue_depth, w=24, h=12), Panel(dlq_depth, w=24, h=12)],
            *[[Panel(table, w=48, h=12)] for table in radio_tables],
            [Panel(table, w=48 // len(gateway_tables), h=10) for table in gateway_tables],
            [Panel(table, w=48 // len(clock_tables), h=10) for table in clock_tables],
            [Panel(silent_table, w=48, h=10)],
            [Panel(dead_chart, w=24, h=12), Panel(dead_table, w=24, h=12)],
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
