"""Headless Chromium for tests: the DOM of a page after its scripts ran, and whether its images decode."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def chromium() -> str | None:
    """The Chromium executable, or None when it is not installed (tests/install_system.sh installs it)."""
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def dump_dom(page: Path, budget_ms: int = 15000) -> str:
    """The DOM of ``page`` after ``budget_ms`` of (virtual) time for its scripts."""
    executable = chromium()
    if executable is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
{images}
<script>
window.addEventListener("load", function () {{
  for (const img of document.querySelectorAll("img")) {{
    img.setAttribute("data-natural-width", String(img.naturalWidth));
    img.setAttribute("data-natural-height", String(img.naturalHeight));
    img.setAttribute("data-complete", String(img.complete));
  }}
  document.body.setAttribute("data-probed", "yes");
}});
</script></body></html>
"""


def image_sizes(data_uris: dict[str, str], workdir: Path) -> dict[str, tuple[int, int]]:
    """Chromium's natural width and height of each image (by name), loaded from its data URI."""
    images = "\n".join(
        f'<img id="img{index}" data-name="{html.escape(name)}" src="{html.escape(uri)}">'
        for index, (name, uri) in enumerate(sorted(data_uris.items()))
    )
    page = workdir / "probe.html"
    page.write_text(PROBE.format(images=images), encoding="utf-8")
    dom = dump_dom(page)
    assert 'data-probed="yes"' in dom, "the probe page's script did not run"
    sizes = {}
    for tag in re.findall(r"<img [^>]*>", dom):
        name = html.unescape(re.search(r'data-name="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        width = re.search(r'data-natural-width="(\d+)"', tag)
        height = re.search(r'data-natural-height="(\d+)"', tag)
        sizes[name] = (int(width.group(1)) if width else 0, int(height.group(1)) if height else 0)
    return sizes
