"""Opens a report page in a real browser (headless Chromium) and says whether it rendered:
every picture loaded, no console error. Used by the tests; the report itself has no scripts.

The page is checked through a copy beside it (same folder, so its relative picture paths
resolve the same way) with a small script added, which marks on <body> how many pictures
loaded and which did not once the page has finished loading; --dump-dom prints the marked DOM.
"""

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
_CHECKED_SUFFIX = ".browser-check.html"
_MARKER_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (image) { return !(image.complete && image.naturalWidth > 0); });
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-images-broken", broken.map(function (image) {
    return image.getAttribute("src"); }).join(" "));
});
</script>"""
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--virtual-time-budget=15000")
# Chromium's console lines (with --enable-logging=stderr) that mean the page did not render right.
_PAGE_ERRORS = re.compile(r"Failed to load resource|Uncaught|net::ERR_|Not allowed to load local resource")


@dataclasses.dataclass(frozen=True)
class Rendered:
    images: int                 # <img> elements on the page
    broken: tuple               # src of those that did not load
    console_errors: tuple       # Chromium's console lines reporting a page error
    screenshot: str             # PNG of the page as rendered


def find_chromium():
    """The Chromium executable on PATH, or None."""
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def render(page, screenshot, chromium=None, window=(1280, 4000), timeout=180):
    """Renders `page` (an HTML file) headless; writes its screenshot to `screenshot`."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")
    checked = page + _CHECKED_SUFFIX
    with open(page, encoding="utf-8") as f:
        html = f.read()
    with open(checked, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", _MARKER_SCRIPT + "</body>"))
    try:
        with tempfile.TemporaryDirectory(prefix="tinyface-chromium-") as profile:
            flags = [chromium, *_FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"]
            dom = subprocess.run([*flags, "--enable-logging=stderr", "--v=0", "--dump-dom",
                                  "file://" + os.path.abspath(checked)],
                                 capture_output=True, text=True, timeout=timeout, check=True)
            subprocess.run([*flags, f"--screenshot={os.path.abspath(screenshot)}",
                            "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=timeout, check=True)
    finally:
        os.remove(checked)
    body = re.search(r"<body([^>]*)>", dom.stdout)
    images = re.search(r'data-images="(\d+)"', body.group(1)) if body else None
    if images is None:
        raise RuntimeError(f"the page never finished loading in Chromium: {dom.stderr[-2000:]}")
    broken = re.search(r'data-images-broken="([^"]*)"', body.group(1)).group(1).split()
    errors = tuple(line for line in dom.stderr.splitlines() if _PAGE_ERRORS.search(line))
    return Rendered(int(images.group(1)), tuple(broken), errors, screenshot)
