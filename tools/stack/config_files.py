"""Configuration files rendered from `tools/stack/templates/*.j2`."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(template: str, target: Path, mode: int = 0o644, **values: object) -> Path:
    """Render `template` into `target` (written atomically, with `mode`) and return `target`."""
    text = _ENV.get_template(template).render(**values)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(target)
    return target
