"""`finemeca status-page run`: the live air-status web page."""

from __future__ import annotations

import typer
import uvicorn

from finemeca.logs import configure_logging
from statuspage.app import create_app
from statuspage.settings import StatusPageSettings

app = typer.Typer(no_args_is_help=True, help="Live air-line status web page.")


@app.command()
def run(
    port: int = typer.Option(None, help="HTTP port [env STATUS_PAGE_PORT, default 8080]."),
    host: str = typer.Option(None, help="Bind address [env STATUS_PAGE_HOST, default 0.0.0.0]."),
) -> None:
    """Serve the page; it reads Elasticsearch (env ES_*) and pushes updates by server-sent events."""
    configure_logging(role="status-page")
    overrides = {"port": port, "host": host}
    settings = StatusPageSettings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
