"""`finemeca gateway run --sensor <name>`."""

from __future__ import annotations

import typer

from finemeca.logs import configure_logging
from gateway.service import run_gateway
from sensors.registry import available_sensors

app = typer.Typer(no_args_is_help=True, help="MQTT -> ActiveMQ forwarder for one sensor.")


@app.command()
def run(
    sensor: str = typer.Option(..., envvar="SENSOR", help=f"sensor kind: {', '.join(available_sensors())}"),
) -> None:
    """Forward the sensor's MQTT messages to its ActiveMQ queue (settings: MQTT_*, STOMP_*, GATEWAY_*)."""
    if sensor not in available_sensors():
        raise typer.BadParameter(f"unknown sensor {sensor!r}; known: {', '.join(available_sensors())}")

    configure_logging(role="gateway", sensor=sensor)
    run_gateway(sensor)
