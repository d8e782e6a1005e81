"""docs/RELIABILITY.md from the outcomes of `finemeca reliability run`."""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from tools.reliability.mqtt_durability import DurabilityResult
from tools.reliability.suite import Outcome
from tools.stack.settings import MOSQUITTO_AUTOSAVE_CHANGES


def _lost(o: Outcome) -> str:
    return f"{o.lost} (≤ {o.loss_window})" if o.loss_window else str(o.lost)


def _suite(rows: list[Outcome]) -> list[str]:
    lines = [
        "| fault | load | acked | lost (window) | duplicated | stuck | recovery, s | STOMP reconnects |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for o in rows:
        lines.append(
            f"| {o.name} | {o.load} | {o.acked:,} | {_lost(o)} | {o.duplicated} | {o.stuck} | "
            f"{o.recovery_s} | {o.reconnects} |"
        )
    return lines


def _soak(o: Outcome) -> list[str]:
    return [
        "| measure | value |",
        "|---|---:|",
        f"| good messages PUBACKed | {o.acked:,} |",
        f"| lost (documented window: unsaved changes + 1 per kill -9 of Mosquitto) | {_lost(o)} |",
        f"| duplicated documents | {o.duplicated} |",
        f"| stuck in the data queue at the end | {o.stuck} |",
        f"| hostile payloads published / in the DLQ (at least once: a kill between the dead-letter copy and "
        f"the ack, or a redelivery by a restarted Mosquitto, may repeat one) | {o.hostile} / {o.dead_lettered} |",
        f"| STOMP reconnects (all) / spurious (not within 60 s of an ActiveMQ restart) | "
        f"{o.reconnects} / {o.spurious_reconnects} |",
        f"| faults injected | {len(o.faults)}: {', '.join(o.faults)} |",
    ]


def _durability(rows: list[DurabilityResult]) -> list[str]:
    lines = [
        "| Mosquitto setting | messages PUBACKed to the offline session | publish rate, msg/s | "
        "lost at kill -9 |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        setting = (
            f"`autosave_on_changes true`, `autosave_interval {r.autosave_changes}`"
            if r.autosave_changes
            else "`autosave_interval 30` (seconds, the old local setting)"
        )
        lines.append(f"| {setting} | {r.published:,} | {r.rate:,.0f} | {r.lost:,} |")
    return lines


def markdown(
    command: str, suite: list[Outcome], soak: Outcome | None, durability: list[DurabilityResult]
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Reliability",
        "",
        f"Written by `{command}` on {when} ({platform.node()}, {platform.processor() or platform.machine()}); "
        "re-run it to refresh. Everything runs against the local stack (`finemeca stack up`): real "
        "Mosquitto, ActiveMQ and Elasticsearch, gateway and ingestor as their own processes, each run in a "
        "private namespace. *Lost* = PUBACKed by Mosquitto but never searchable; *duplicated* = the same "
        "document twice or a document nobody published; *stuck* = left in the data queue after the drain; "
        "*recovery* = from the fault until every role is healthy again.",
        "",
    ]
    if durability:
        every_change = next((f"{r.rate:,.0f}" for r in durability if r.autosave_changes == 1), "?")
        parts += [
            "## The MQTT front door: kill -9 of Mosquitto",
            "",
            "Mosquitto 2.0 keeps messages in memory and writes its whole store at each save. Each row: a "
            "private broker, an offline persistent session, N QoS 1 messages PUBACKed to it, `kill -9` "
            "right after the last PUBACK, restart, count what the session still gets.",
            "",
            *_durability(durability),
            "",
            f"Both configs save every {MOSQUITTO_AUTOSAVE_CHANGES} changes (`autosave_on_changes true`, "
            f"`autosave_interval {MOSQUITTO_AUTOSAVE_CHANGES}`). The bound per `kill -9`: the changes not "
            "saved yet plus the last message acknowledged to each publishing connection (Mosquitto sends a "
            "PUBACK before the save that follows it in the same loop iteration); the old 30/60 s timer lost "
            "everything since the last save. Saving after every change narrows the bound to one per "
            f"connection, but the whole store is rewritten per save: {every_change} msg/s while 5,000 queue "
            "up for an offline gateway, and about 1,000 msg/s with the gateway online "
            "(docs/BENCHMARKS.md), a tenth of what the pipeline carries. "
            "Each save also rewrites every message still queued, so a small N makes a backlog expensive: "
            "while ActiveMQ or the gateway is down, saving every 100 changes took the intake from ~8,900 "
            "msg/s at 10,000 queued to below 1,000 at 100,000, every 1,000 changes kept ~7,000-9,000 msg/s "
            "(`finemeca bench front-door`, docs/BENCHMARKS.md). "
            f"{MOSQUITTO_AUTOSAVE_CHANGES:,} changes is one second of traffic at 1,000 msg/s (ten seconds for "
            "a site of 1,000 devices publishing every 10 s, which can set 100: at 100 msg/s a backlog of "
            "a million messages still drains). Change it with `MOSQUITTO_AUTOSAVE_CHANGES` (deploy, "
            "stack.env) or `STACK_MOSQUITTO_AUTOSAVE_CHANGES` (local stack).",
            "",
        ]
    if suite:
        parts += [
            "## Fault suite",
            "",
            *_suite(suite),
            "",
            "*(window)*: a kill -9 of Mosquitto may lose its unsaved changes and the last message it "
            "acknowledged (see above); "
            "every other fault must lose nothing. STOMP reconnects are expected only when ActiveMQ itself "
            "restarts; a frozen broker (SIGSTOP) must keep every link.",
            "",
        ]
    if soak:
        parts += [
            f"## Soak ({soak.name})",
            "",
            "Cycles of a busy phase, the hostile corpus, one fault of the rotation (ActiveMQ restart, kill -9 "
            "of Mosquitto, the ingestor and the gateway, Elasticsearch stopped 20 s), more traffic and an "
            "idle phase of heart-beats only.",
            "",
            *_soak(soak),
            "",
            "The full soak is `finemeca reliability run --skip-suite --soak-minutes 30` (about 35 minutes, "
            "the local stack to itself: it restarts Mosquitto, ActiveMQ and Elasticsearch).",
            "",
        ]
    return "\n".join(parts)
