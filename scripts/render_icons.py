"""Draw the app icons (PNG) from their SVG in web/static/img/app with Chromium.

Run by hand after changing an SVG, then commit the PNGs:
    .venv/bin/python scripts/render_icons.py
"""

import os
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

APP_IMAGES = Path(__file__).resolve().parents[1] / "web" / "static" / "img" / "app"
# (source, size in px, target): the manifest's two sizes of each purpose and Apple's home-screen
# icon, which iOS rounds itself (so it is the full-bleed drawing).
ICONS = (
    ("icon.svg", 192, "icon-192.png"),
    ("icon.svg", 512, "icon-512.png"),
    ("maskable.svg", 192, "maskable-192.png"),
    ("maskable.svg", 512, "maskable-512.png"),
    ("maskable.svg", 180, "apple-touch-icon.png"),
)


def main() -> None:
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for source, size, target in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (APP_IMAGES / source).read_text().replace("<svg ", '<svg width="100%" ')
            page.set_content(f'<body style="margin:0;background:transparent">{svg}</body>')
            page.screenshot(path=APP_IMAGES / target, omit_background=True)
            page.close()
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
