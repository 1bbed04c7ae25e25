"""Look at a report in a real browser: Debian's headless Chromium, no network, no profile.

`scripts/setup` installs the `chromium` package; without it these checks fail
(they never skip), because "the report renders" is part of what we ship.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from hubchaos.report.plots import COLOURS

CHROMIUM = "/usr/bin/chromium"
BROWSER_TIMEOUT_S = 90
WINDOW = (1200, 8000)  # tall enough for the whole report in one screenshot

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

# Reports forbid scripts; the probe copy drops that rule and records, once the page
# has loaded, whether each image was decoded by the browser.
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
_PROBE = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    img.dataset.decoded = String(img.complete && img.naturalWidth > 0);
    img.dataset.width = String(img.naturalWidth);
  }
  document.body.dataset.probed = "yes";
});
</script>
</body>"""


def chromium_binary() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    assert found, (
        "Chromium is not installed: `apt-get install -y chromium` (scripts/setup does it); "
        "the report must be checked in a real browser"
    )
    return found


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="hubchaos-chromium-") as profile:
        return subprocess.run(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT_S,
            check=False,
        )


@dataclass
class Rendering:
    dom: str  # the DOM of the report as loaded (no script ran in it)
    probed_dom: str  # the DOM of the probe copy, with data-decoded on every <img>
    screenshot: Path


def render(html: Path, work_dir: Path) -> Rendering:
    """Load `html` in headless Chromium: its DOM, a screenshot, and which images decoded."""
    url = html.resolve().as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    screenshot = work_dir / f"{html.stem}.png"
    shot = _chromium(f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={screenshot}", url)
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    probe = work_dir / f"{html.stem}.probe.html"
    probe.write_text(_CSP.sub("", html.read_text()).replace("</body>", _PROBE, 1))
    probed = _chromium("--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri())
    assert probed.returncode == 0, probed.stderr[-2000:]
    return Rendering(dom.stdout, probed.stdout, screenshot)


def _colours(screenshot: Path) -> list[tuple[int, Any]]:
    """(pixel count, (r, g, b)) for every colour in the screenshot."""
    with Image.open(screenshot) as image:
        rgb = image.convert("RGB")
    return list(rgb.getcolors(maxcolors=rgb.width * rgb.height) or [])


def colour_pixels(screenshot: Path, colour: str) -> int:
    """How many pixels of the screenshot are exactly `colour` ("#rrggbb")."""
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(n for n, rgb in _colours(screenshot) if rgb == wanted)


def distinct_colours(screenshot: Path) -> int:
    return len(_colours(screenshot))


def inked_share(screenshot: Path) -> float:
    """The share of the screenshot's pixels that are neither white nor the page's grey."""
    colours = _colours(screenshot)
    blank = {(255, 255, 255), (246, 247, 249)}
    return sum(n for n, rgb in colours if rgb not in blank) / sum(n for n, _ in colours)


SECTION_IDS = (
    "summary",
    "timeline",
    "graphs",
    "hypothesis",
    "detection",
    "deviations",
    "score",
    "cleanup",
)
# a colour only that plot draws, so its pixels prove the plot was painted
PLOT_COLOURS = {
    "pool": "waiting",
    "database": "connections",
    "latency": "latency",
    "errors": "errors",
    "alerts": "firing",
}


def check_rendering(rendering: Rendering, title: str) -> None:
    """What every rendered report must show; shared with the end-to-end tests."""
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in rendering.dom, section
    assert f"<h1>{title}</h1>" in rendering.dom
    figures = re.findall(r'<figure class="plot" id="plot-(\w+)">\s*<img src="data:', rendering.dom)
    assert figures == list(PLOT_COLOURS)
    assert 'data-probed="yes"' in rendering.probed_dom
    decoded = re.findall(r'data-decoded="(\w+)" data-width="(\d+)"', rendering.probed_dom)
    assert len(decoded) == len(PLOT_COLOURS)
    assert all(ok == "true" and int(width) > 100 for ok, width in decoded), decoded

    with Image.open(rendering.screenshot) as image:
        assert image.size == WINDOW
    assert distinct_colours(rendering.screenshot) > 500  # text, tables and plots, not a blank
    assert inked_share(rendering.screenshot) > 0.05
    for plot, colour in PLOT_COLOURS.items():
        assert colour_pixels(rendering.screenshot, COLOURS[colour]) > 50, plot
