"""`finemeca` command line: one entry point; each engine and tool contributes its own sub-command group.

The groups are found through the `finemeca.commands` entry points declared in `pyproject.toml`, so the
core never imports an engine. A group whose package is not installed (the production image ships no
`tools/`) is left out of the command.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import typer

from finemeca.secrets_check import PlaceholderSecretError, enforce_secrets_policy

COMMANDS_GROUP = "finemeca.commands"

app = typer.Typer(
    name="finemeca",
    help="Finemeca IoT ingestion stack: sensors -> MQTT -> ActiveMQ -> Elasticsearch -> dashboards and alerts.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _load(entry: EntryPoint) -> typer.Typer | None:
    try:
        loaded = entry.load()
    except ModuleNotFoundError as exc:
        top_package = entry.value.split(".", 1)[0]
        if exc.name is not None and exc.name.split(".", 1)[0] == top_package:
            return None  # that package is not installed here (e.g. the tools in the production image)
        raise
    if not isinstance(loaded, typer.Typer):
        raise TypeError(f"entry point {entry.name} = {entry.value} is not a typer.Typer")
    return loaded


for _entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
    _sub_app = _load(_entry)
    if _sub_app is not None:
        app.add_typer(_sub_app, name=_entry.name)


@app.callback()
def _refuse_placeholder_secrets() -> None:
    """In production (FINEMECA_REQUIRE_SECRETS=1) no role starts with an empty or placeholder secret."""
    try:
        enforce_secrets_policy()
    except PlaceholderSecretError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    app()


if __name__ == "__main__":
    main()
