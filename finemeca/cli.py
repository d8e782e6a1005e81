"""`finemeca` command line: one entry point; each engine and tool contributes its own sub-command group.

The groups are found through the `finemeca.commands` entry points declared in `pyproject.toml`, so the
core never imports an engine. A group whose package is not installed (the production image ships no
`tools/`) is left out of the command. `finemeca <group> ...` loads only that group: a role started as
`finemeca gateway run` does not carry the modules of every other group (with all of them, the report's
matplotlib and numpy included, each role was 113 MB resident before its first message; the gateway
alone needs 46 MB, the ingestor 61 MB).
"""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points

import typer

from finemeca.secrets_check import PlaceholderSecretError, enforce_secrets_policy

COMMANDS_GROUP = "finemeca.commands"


def _new_app() -> typer.Typer:
    return typer.Typer(
        name="finemeca",
        help="Finemeca IoT ingestion stack: sensors -> MQTT -> ActiveMQ -> Elasticsearch -> dashboards and alerts.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        callback=_refuse_placeholder_secrets,
    )


def _refuse_placeholder_secrets() -> None:
    """In production (FINEMECA_REQUIRE_SECRETS=1) no role starts with an empty or placeholder secret."""
    try:
        enforce_secrets_policy()
    except PlaceholderSecretError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


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


def build_app(args: list[str] | None = None) -> typer.Typer:
    """The command with every group, or only the group `args[0]` names when it names one."""
    entries = sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name)
    wanted = [e for e in entries if args and e.name == args[0]] or entries
    app = _new_app()
    for entry in wanted:
        sub_app = _load(entry)
        if sub_app is not None:
            app.add_typer(sub_app, name=entry.name)
    return app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # `from finemeca.cli import app`: the whole command (tests, docs)
        return build_app()
    raise AttributeError(name)


def main() -> None:
    build_app(sys.argv[1:])()


if __name__ == "__main__":
    main()
