"""`finemeca docs screenshots`: the README's alert-mail picture, rendered from the golden mail.

The golden HTML (tests/alerts/golden/, what the mailer sends, checked by tests/alerts/test_golden_mails.py)
is drawn by headless Chromium and cropped to the mail. docs/status-page.png and docs/weekly-report.png
come from their browser tests (`FINEMECA_UPDATE_SCREENSHOT=1`), which need a running page or mail.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import typer
from PIL import Image, ImageChops

REPO = Path(__file__).resolve().parent.parent
GOLDEN_MAIL = REPO / "tests" / "alerts" / "golden" / "fired.html"
ALERT_MAIL_PNG = REPO / "docs" / "alert-mail.png"
CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")
MARGIN = 16  # background kept under the mail

app = typer.Typer(no_args_is_help=True, help="Pictures of the docs.")


def find_chromium() -> str:
    for name in CHROMIUMS:
        if found := shutil.which(name):
            return found
    raise typer.BadParameter(
        "headless Chromium not found: install it (Debian: sudo apt-get install -y chromium)"
    )


def render_html(html: Path, out: Path, width: int, max_height: int = 3000) -> None:
    """Screenshot of `html` at `width` px, cropped under its last non-background row."""
    with tempfile.TemporaryDirectory(prefix="finemeca-shot-") as profile:
        shot = Path(profile) / "shot.png"
        done = subprocess.run(
            [
                find_chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{max_height}",
                f"--screenshot={shot}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not shot.exists():
            raise RuntimeError(f"Chromium could not render {html}: {done.stderr[-1000:]}")
        with Image.open(shot) as image:
            rgb = image.convert("RGB")
    background = rgb.getpixel((rgb.width - 1, rgb.height - 1))
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, background)).getbbox()
    bottom = min(rgb.height, (box[3] if box else rgb.height) + MARGIN)
    out.parent.mkdir(parents=True, exist_ok=True)
    rgb.crop((0, 0, rgb.width, bottom)).save(out, optimize=True)


@app.command()
def screenshots(
    golden: Path = typer.Option(GOLDEN_MAIL, exists=True, dir_okay=False, help="the mail's HTML part"),
    out: Path = typer.Option(ALERT_MAIL_PNG, help="where the picture goes"),
    width: int = typer.Option(760, min=320, help="window width, px"),
) -> None:
    """Regenerate docs/alert-mail.png from the golden alert mail (headless Chromium)."""
    typer.echo(f"rendering {golden} in headless Chromium ...")
    render_html(golden, out, width)
    with Image.open(out) as image:
        typer.echo(f"wrote {out} ({image.width} x {image.height} px)")
