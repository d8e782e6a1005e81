"""`finemeca docs screenshots` draws the golden alert mail in the real headless Chromium: docs/alert-mail.png
comes from the mail the tests check, not from an old layout nobody can regenerate."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from tools.screenshots import ALERT_MAIL_PNG, GOLDEN_MAIL, app


def test_alert_mail_picture_is_the_golden_mail_cropped(tmp_path: Path):
    out = tmp_path / "alert-mail.png"
    result = CliRunner().invoke(app, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    with Image.open(out) as shot:
        rgb = shot.convert("RGB")
    assert rgb.width == 760 and 300 < rgb.height < 1500, rgb.size  # cropped to the mail, not the window
    red_header = rgb.getpixel((rgb.width // 2, 40))
    assert red_header == (192, 57, 43), red_header  # the alert's header band (#c0392b) was drawn
    assert "#c0392b" in GOLDEN_MAIL.read_text().lower()
    with Image.open(ALERT_MAIL_PNG) as committed:
        # the README's picture is this command's output (a few px of slack for font hinting; the old layout
        # was 38 px shorter)
        assert committed.width == rgb.width and abs(committed.height - rgb.height) <= 10, (
            committed.size,
            rgb.size,
        )
