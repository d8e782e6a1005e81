"""`finemeca stack up | down | status | logs | start | stop | mail`."""

from __future__ import annotations

import time
from collections import deque
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tools.stack import mailbox, manager, secure
from tools.stack.activemq_pair import ActiveMqPair
from tools.stack.es_cluster import EsCluster
from tools.stack.service import ServiceError, ServiceStatus
from tools.stack.settings import StackSettings

app = typer.Typer(
    no_args_is_help=True, help="Local stack: Mosquitto, ActiveMQ, Elasticsearch, SMTP as plain processes."
)
mail_app = typer.Typer(no_args_is_help=True, help="Read the mails the SMTP sink stored.")
app.add_typer(mail_app, name="mail")
cluster_app = typer.Typer(
    no_args_is_help=True, help="A local multi-node Elasticsearch cluster (failover tests, capacity runs)."
)
app.add_typer(cluster_app, name="cluster")
mqpair_app = typer.Typer(
    no_args_is_help=True, help="An ActiveMQ primary/standby pair on one shared store (failover tests)."
)
app.add_typer(mqpair_app, name="mqpair")
console = Console()

Only = Annotated[
    list[str] | None,
    typer.Option("--only", "-o", help=f"Service(s) to act on: {', '.join(manager.SERVICE_NAMES)}."),
]


def _fail(exc: ServiceError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


def _table(rows: list[ServiceStatus]) -> Table:
    table = Table("service", "url", "pid", "health", "RSS")
    for row in rows:
        health = "[green]healthy[/green]" if row.healthy else "[red]down[/red]"
        if row.healthy and not row.managed:
            health += " (not started by us)"
        rss = f"{row.rss_bytes / 2**20:.0f} MiB" if row.rss_bytes else "-"
        table.add_row(row.name, row.url, str(row.pid or "-"), health, rss)
    return table


Secure = Annotated[
    bool,
    typer.Option(
        "--secure", help="Auth everywhere + HTTPS for Elasticsearch; client env in <STACK_DIR>/secure.env."
    ),
]


def _settings(secure_mode: bool) -> StackSettings:
    settings = StackSettings()
    return settings.model_copy(update={"secure": True}) if secure_mode else settings


@app.command()
def up(only: Only = None, secure_mode: Secure = False) -> None:
    """Start (installing what is missing) every service not yet healthy, wait until all are ready."""
    started = time.monotonic()
    settings = _settings(secure_mode)
    try:
        rows = manager.up(only, settings)
    except ServiceError as exc:
        raise _fail(exc) from exc
    console.print(_table(rows))
    console.print(f"stack ready in {time.monotonic() - started:.1f}s")
    if settings.secure:
        console.print(f"clients: set -a; . {secure.env_file(settings)}; set +a")


@app.command()
def down(only: Only = None) -> None:
    """Stop the services `up` started (SIGTERM, wait, SIGKILL)."""
    stopped = manager.down(only)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@app.command()
def status(only: Only = None) -> None:
    """Each service: URL, pid, health, resident memory. Exit code 1 when one is not healthy."""
    rows = manager.status(only)
    console.print(_table(rows))
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


@app.command()
def start(service: str, secure_mode: Secure = False) -> None:
    """Start one service and wait until it is ready."""
    try:
        console.print(_table([manager.start_service(service, _settings(secure_mode))]))
    except ServiceError as exc:
        raise _fail(exc) from exc


@app.command()
def stop(service: str) -> None:
    """Stop one service started by `finemeca stack up`."""
    try:
        stopped = manager.stop_service(service)
    except ServiceError as exc:
        raise _fail(exc) from exc
    console.print(f"{service}: {'stopped' if stopped else 'was not running (no live pid file)'}")


@app.command()
def logs(
    service: str, lines: Annotated[int, typer.Option("--lines", "-n", help="Last N lines.")] = 50
) -> None:
    """Print the end of a service's log file."""
    try:
        (svc,) = manager.services([service])
    except ServiceError as exc:
        raise _fail(exc) from exc
    if not svc.log_file.exists():
        console.print(f"no log yet: {svc.log_file}")
        raise typer.Exit(1)
    with svc.log_file.open(errors="replace") as handle:
        for line in deque(handle, maxlen=lines):
            typer.echo(line, nl=False)


@mail_app.command("list")
def mail_list() -> None:
    """Stored mails, oldest first."""
    table = Table()
    table.add_column("#", no_wrap=True)
    table.add_column("date", no_wrap=True)
    for header in ("from", "to"):
        table.add_column(header, max_width=28, no_wrap=True, overflow="ellipsis")
    table.add_column("subject", overflow="fold")
    for number, message in enumerate(mailbox.list_messages(), start=1):
        table.add_row(
            str(number),
            str(message["Date"] or ""),
            str(message["From"] or ""),
            str(message["X-Envelope-To"] or message["To"] or ""),
            str(message["Subject"] or ""),
        )
    console.print(table)


@mail_app.command("show")
def mail_show(number: Annotated[int, typer.Argument(help="Number from `mail list` (1 = oldest).")]) -> None:
    """Print one stored mail as received."""
    files = mailbox.message_files()
    if not 1 <= number <= len(files):
        console.print(f"no mail #{number} ({len(files)} stored)")
        raise typer.Exit(1)
    typer.echo(files[number - 1].read_text(errors="replace"))


@mail_app.command("clear")
def mail_clear() -> None:
    """Delete every stored mail."""
    console.print(f"deleted {mailbox.clear()} mail(s)")


Nodes = Annotated[int, typer.Option("--nodes", "-n", min=2, help="Elasticsearch nodes.")]
HttpPort = Annotated[
    int | None, typer.Option(help="HTTP port of node 1 (node i: + i - 1); default STACK_CLUSTER_ES_PORT.")
]
TransportPort = Annotated[
    int | None, typer.Option(help="transport port of node 1; default STACK_CLUSTER_ES_TRANSPORT_PORT.")
]


def _cluster(nodes: int, http_port: int | None, transport_port: int | None) -> EsCluster:
    settings = StackSettings()
    return EsCluster(
        settings,
        nodes,
        http_port or settings.cluster_es_port,
        transport_port or settings.cluster_es_transport_port,
        settings.cluster_es_heap,
    )


@cluster_app.command("up")
def cluster_up(nodes: Nodes = 3, http_port: HttpPort = None, transport_port: TransportPort = None) -> None:
    """Start the nodes (STACK_CLUSTER_ES_HEAP each, 256m) and wait until each answers; prints ES_URLS for the clients."""
    started = time.monotonic()
    cluster = _cluster(nodes, http_port, transport_port)
    console.print(f"starting {nodes} Elasticsearch nodes...")
    try:
        rows = cluster.up()
    except ServiceError as exc:
        raise _fail(exc) from exc
    console.print(_table(rows))
    console.print(f"cluster ready in {time.monotonic() - started:.1f}s; ES_URLS={','.join(cluster.urls())}")


@cluster_app.command("down")
def cluster_down(nodes: Nodes = 3, http_port: HttpPort = None, transport_port: TransportPort = None) -> None:
    """Stop the cluster's nodes (data stays under <STACK_DIR>/es-cluster/)."""
    stopped = _cluster(nodes, http_port, transport_port).down()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@cluster_app.command("status")
def cluster_status(
    nodes: Nodes = 3, http_port: HttpPort = None, transport_port: TransportPort = None
) -> None:
    """Each node: URL, pid, health, resident memory. Exit code 1 when one is down."""
    rows = _cluster(nodes, http_port, transport_port).status()
    console.print(_table(rows))
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


@mqpair_app.command("up")
def mqpair_up() -> None:
    """Start broker a (primary, waits until it serves) and broker b (standby on the store lock)."""
    pair = ActiveMqPair(StackSettings())
    console.print("starting the ActiveMQ pair (ports from STACK_PAIR_STOMP_PORT)...")
    try:
        rows = pair.up()
    except ServiceError as exc:
        raise _fail(exc) from exc
    console.print(_table(rows))
    console.print(f"the standby answers only once the primary is gone; STOMP_HOSTS={pair.stomp_hosts()}")


@mqpair_app.command("down")
def mqpair_down() -> None:
    """Stop both brokers (the shared store stays under <STACK_DIR>/activemq-pair/)."""
    stopped = ActiveMqPair(StackSettings()).down()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@mqpair_app.command("status")
def mqpair_status() -> None:
    """Both brokers: the primary answers, the standby runs but does not (it waits on the lock)."""
    console.print(_table(ActiveMqPair(StackSettings()).status()))
