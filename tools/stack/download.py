"""Downloads into the cache with a progress bar and a checksum published next to the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from tools.stack.service import ServiceError


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_verified(url: str, target: Path, timeout: float = 60.0) -> Path:
    """Download `url` to `target` unless already there with the sha1 published at `<url>.sha1`."""
    expected_file = target.with_name(target.name + ".sha1")
    if (
        target.exists()
        and expected_file.exists()
        and sha1_of(target) == _first_word(expected_file.read_text())
    ):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with httpx.Client(follow_redirects=True, timeout=timeout) as client:
        expected = _first_word(client.get(url + ".sha1").raise_for_status().text)
        partial = target.with_name(target.name + ".part")
        with client.stream("GET", url) as response, partial.open("wb") as out:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn())
            with Progress(*columns, TransferSpeedColumn(), transient=True) as progress:
                task = progress.add_task(f"downloading {target.name}", total=total)
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    progress.update(task, advance=len(chunk))
    actual = sha1_of(partial)
    if actual != expected:
        partial.unlink()
        raise ServiceError(f"checksum mismatch for {url}: sha1 {actual}, Maven Central says {expected}")
    partial.replace(target)
    expected_file.write_text(expected + "\n")
    return target


def _first_word(text: str) -> str:
    return text.split()[0].strip().lower() if text.strip() else ""
