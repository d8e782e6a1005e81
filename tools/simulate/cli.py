"""`finemeca simulate`: simulated sensors publishing to MQTT (QoS 1), and example messages."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from finemeca.config import MqttSettings
from sensors.registry import available_sensors, get_sensor
from sensors.simulation import Episode, as_utc
from tools.simulate.publisher import MqttPublisher, PublishError, PublishStats, encode, interleave

app = typer.Typer(no_args_is_help=True, help="Simulated sensors publishing to MQTT.")
console = Console(stderr=True)

SensorOption = Annotated[
    list[str] | None,
    typer.Option("--sensor", "-s", help=f"Sensor to simulate (repeatable): {', '.join(available_sensors())}"),
]


def _sensors(sensor: list[str] | None, all_sensors: bool) -> list[str]:
    names = list(available_sensors()) if all_sensors else list(sensor or [])
    if not names:
        raise typer.BadParameter("give --sensor NAME (repeatable) or --all")
    unknown = [name for name in names if name not in available_sensors()]
    if unknown:
        raise typer.BadParameter(f"unknown sensor(s) {unknown}; known: {', '.join(available_sensors())}")
    return names


def _start(start: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(start)) if start else None


@app.command()
def run(
    sensor: SensorOption = None,
    all_sensors: Annotated[bool, typer.Option("--all", help="Simulate every sensor at once.")] = False,
    devices: Annotated[int, typer.Option(min=1, help="Devices per sensor.")] = 20,
    rate: Annotated[
        float, typer.Option(min=0, help="Messages per second in total; 0 = as fast as possible.")
    ] = 50,
    duration: Annotated[float | None, typer.Option(min=0, help="Seconds to publish (default 10 s).")] = None,
    count: Annotated[
        int | None, typer.Option(min=1, help="Messages to publish (instead of --duration).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same messages.")] = 0,
    start: Annotated[
        str | None, typer.Option(help="Simulated time of the first message (ISO, UTC if naive).")
    ] = None,
    period: Annotated[
        float, typer.Option(min=0.001, help="Simulated seconds between two messages of a device.")
    ] = 30,
    leak: Annotated[
        list[str] | None,
        typer.Option(
            help="Force a leak on an air device '<idGateway>-<idDevice>' for the whole run (repeatable)."
        ),
    ] = None,
    silent: Annotated[
        list[str] | None,
        typer.Option(help="Silence a device '<idGateway>-<idDevice>' for the whole run (repeatable)."),
    ] = None,
    ack_timeout: Annotated[float, typer.Option(help="Seconds to wait for the last PUBACKs.")] = 60,
) -> None:
    """Publish simulated messages to MQTT (QoS 1) on finemeca/<sensor>/<idGateway>/<idDevice>."""
    names = _sensors(sensor, all_sensors)
    settings = MqttSettings()  # type: ignore[call-arg]
    if count is None and duration is None:
        duration = 10.0
    first = _start(start) or as_utc(None)
    forever = first + timedelta(days=36500)
    leaks = [Episode(key, first, forever) for key in leak or []]
    silences = [Episode(key, first, forever) for key in silent or []]
    streams = []
    for name in names:
        options: dict[str, object] = {"silences": silences, "period_s": period}
        if name == "air":
            options["leaks"] = leaks
        messages = get_sensor(name).simulate(devices, seed, first, **options)  # type: ignore[call-arg]
        streams.append(encode(name, messages, settings.topic_prefix))
    items = streams[0] if len(streams) == 1 else interleave(*streams)

    target = f"{settings.host}:{settings.port}"
    console.print(
        f"[bold]simulate[/] {', '.join(names)}: {devices} devices each -> mqtt://{target} "
        f"({'max' if not rate else f'{rate:g}'} msg/s, "
        f"{f'{count} messages' if count else f'{duration:g} s'})"
    )
    try:
        publisher = MqttPublisher(settings)
        publisher.connect()
    except PublishError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc

    with _progress() as progress:
        task = progress.add_task("publishing", total=count or duration, sent=0, acked=0, rate=0.0)

        def show(stats: PublishStats) -> None:
            done = stats.sent if count else min(stats.elapsed, duration or 0)
            progress.update(task, completed=done, sent=stats.sent, acked=stats.acked, rate=stats.rate)

        try:
            publisher.publish_all(items, rate=rate or None, count=count, duration=duration, on_progress=show)
            all_acked = publisher.wait_for_acks(ack_timeout, on_progress=show)
        except KeyboardInterrupt:
            all_acked = publisher.wait_for_acks(min(ack_timeout, 10), on_progress=show)
        finally:
            publisher.close()
    stats = publisher.stats
    for error in stats.errors[:10]:
        console.print(f"[red]error:[/] {error}")
    console.print(
        f"sent {stats.sent}, acked {stats.acked}, refused {stats.failed}, "
        f"{stats.rate:,.0f} msg/s acknowledged over {stats.elapsed:.1f} s"
    )
    if not all_acked or stats.failed:
        console.print(
            f"[red]{stats.pending} messages not acknowledged by {target} within {ack_timeout:g} s[/]"
        )
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn(
            "sent {task.fields[sent]:>9,}  acked {task.fields[acked]:>9,}  {task.fields[rate]:>7,.0f} msg/s"
        ),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def sample(
    sensor: SensorOption = None,
    all_sensors: Annotated[bool, typer.Option("--all", help="Examples of every sensor.")] = False,
    count: Annotated[int, typer.Option(min=1, help="Messages per sensor.")] = 3,
    devices: Annotated[int, typer.Option(min=1)] = 3,
    seed: Annotated[int, typer.Option()] = 0,
    start: Annotated[str | None, typer.Option(help="Simulated time (ISO, UTC if naive).")] = None,
) -> None:
    """Print example messages as JSON lines (one MQTT payload per line)."""
    for name in _sensors(sensor, all_sensors):
        for message in itertools.islice(get_sensor(name).simulate(devices, seed, _start(start)), count):
            typer.echo(json.dumps(message.payload))
