"""Screenshots of the main pages for the README: `make screenshots`.

Serves a fresh archive with the seed interviews (``tests/live.py``), features
one quote through the admin as a curator would, and photographs the pages in
Debian's Chromium into ``docs/screenshots/``.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.live import ROOT, STAFF, serve

OUT = ROOT / "docs" / "screenshots"
PODCAST = "/interviews/cyber-norms-in-us-china-relations/"
SHOTS = [
    # (file, address, viewport, colour scheme, full page)
    ("home.png", "/", (1100, 900), "light", False),
    ("search.png", "/search/?q=norms", (1100, 900), "light", False),
    ("interview-arrival.png", PODCAST + "?q=norms#t-20", (1100, 900), "light", False),
    ("quote.png", None, (1100, 900), "light", True),
    ("speaker.png", "/speakers/tim-maurer/", (1100, 900), "light", False),
    ("interview-dark.png", PODCAST + "#t-20", (1100, 800), "dark", False),
    ("interview-phone.png", PODCAST + "#t-6", (390, 844), "light", False),
]


def main(chromium: str = "/usr/bin/chromium") -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as data,
        serve(Path(data), public_url="https://archive.example.org") as site,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(base_url=site)
        page.goto("/admin/login/")
        page.fill("#id_username", STAFF[0])
        page.fill("#id_password", STAFF[1])
        page.click("input[type=submit]")
        page.goto("/admin/archive/turn/?q=lawyers")
        page.check("input[name=_selected_action]")
        page.select_option("select[name=action]", "feature")
        page.click("button[name=index]")
        page.goto(PODCAST)
        quote = page.get_attribute("#t-6 .turn__cite", "href")
        for name, url, (width, height), scheme, full in SHOTS:
            context = browser.new_context(
                base_url=site,
                viewport={"width": width, "height": height},
                color_scheme=scheme,
            )
            shot = context.new_page()
            shot.goto(url or quote)
            shot.wait_for_timeout(300)  # the arrival scroll runs after layout
            shot.screenshot(path=str(OUT / name), full_page=full)
            context.close()
            print(OUT / name)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
