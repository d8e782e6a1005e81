"""Sections of docs/BENCHMARKS.md written by their own `finemeca bench` command: each is kept in a file
beside its code (the full report embeds it) and patched into the report in place."""

from __future__ import annotations

from pathlib import Path


def write_section(section: str, title: str, section_file: Path, output: Path) -> None:
    """Save `section` (starting with `title`) to `section_file` and replace or insert it in `output`."""
    section_file.write_text(section)
    text = output.read_text() if output.exists() else "# Benchmarks\n\n"
    if title in text:
        head, _, rest = text.partition(title)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + section + ("\n" + tail if tail else "")
    elif "## What limits throughput" in text:
        head, _, rest = text.partition("## What limits throughput")
        text = head + section + "\n## What limits throughput" + rest
    else:
        text = text.rstrip() + "\n\n" + section
    output.write_text(text)
