"""`finemeca kibana`: build, validate and import the dashboards."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import SecretStr

from kibana.build import render_ndjson
from kibana.importer import KibanaError, KibanaSettings, import_saved_objects, make_client, wait_until_ready
from kibana.validate import SAVED_OBJECTS, field_source_description, parse_ndjson, validate_file

app = typer.Typer(no_args_is_help=True, help="Kibana saved objects: validate and import.")

FILE_OPTION = typer.Option(SAVED_OBJECTS, "--file", "-f", help="Saved-object NDJSON.")


@app.command()
def build(
    check: bool = typer.Option(False, help="Only check the file is up to date (exit 1 if not)."),
    file: Path = FILE_OPTION,
) -> None:
    """Write kibana/saved_objects.ndjson from kibana/dashboards.py."""
    text = render_ndjson()
    if check:
        if not file.exists() or file.read_text() != text:
            typer.echo(f"{file} is out of date: run `finemeca kibana build`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{file} is up to date")
        return
    file.write_text(text)
    typer.echo(f"wrote {len(text.splitlines())} saved objects to {file}")


@app.command()
def validate(file: Path = FILE_OPTION) -> None:
    """Offline checks: JSON, unique ids, references, fields and types against the index mappings."""
    errors = validate_file(file)
    for error in errors:
        typer.echo(f"ERROR {error}", err=True)
    if errors:
        raise typer.Exit(1)
    objects, _ = parse_ndjson(file.read_text().splitlines())
    for obj in objects:
        if obj["type"] == "index-pattern":
            title = obj["attributes"]["title"]
            typer.echo(f"  data view {title}: fields checked against {field_source_description(title)}")
    typer.echo(f"{file}: {len(objects)} saved objects OK")


@app.command("import")
def import_(
    url: str = typer.Option(None, help="Kibana base URL [env KIBANA_URL, default http://127.0.0.1:5601]."),
    username: str = typer.Option(None, help="[env KIBANA_USERNAME]"),
    password: str = typer.Option(None, help="[env KIBANA_PASSWORD]"),
    timeout: float = typer.Option(
        None, help="Seconds to wait for Kibana [env KIBANA_READY_TIMEOUT, default 300]."
    ),
    file: Path = FILE_OPTION,
    skip_validation: bool = typer.Option(False, help="Import without the offline checks first."),
) -> None:
    """Wait for Kibana, import the saved objects with overwrite, fail if any object failed."""
    overrides: dict[str, object] = {
        "url": url,
        "username": username,
        "password": password,
        "ready_timeout": timeout,
    }
    if password is not None:
        overrides["password"] = SecretStr(password)
    settings = KibanaSettings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if not skip_validation:
        validate(file)
    with make_client(settings) as client:
        try:
            wait_until_ready(client, settings.ready_timeout, settings.ready_interval)
            result = import_saved_objects(
                client,
                file.read_bytes(),
                filename=file.name if file.suffix == ".ndjson" else "finemeca.ndjson",
            )
        except KibanaError as exc:
            typer.echo(f"ERROR {exc}", err=True)
            raise typer.Exit(1) from exc
    for failure in result.failures:
        typer.echo(f"FAILED {failure}", err=True)
    if not result.success:
        typer.echo(
            f"import failed: {len(result.failures)} object(s) failed, {result.success_count} imported",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"imported {result.success_count} saved objects into {settings.url}")
