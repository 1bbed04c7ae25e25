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

from PIL import Image

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


def colour_pixels(screenshot: Path, colour: str) -> int:
    """How many pixels of the screenshot are exactly `colour` ("#rrggbb")."""
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(screenshot).convert("RGB")
    return sum(n for n, rgb in image.getcolors(maxcolors=1 << 24) or [] if rgb == wanted)


def distinct_colours(screenshot: Path) -> int:
    image = Image.open(screenshot).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 24) or [])


def inked_share(screenshot: Path, background: tuple[int, int, int] = (255, 255, 255)) -> float:
    """The share of the screenshot's pixels that are neither white nor the page's grey."""
    image = Image.open(screenshot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24) or []
    blank = {background, (246, 247, 249)}
    inked = sum(n for n, rgb in colours if rgb not in blank)
    return inked / (image.width * image.height)
