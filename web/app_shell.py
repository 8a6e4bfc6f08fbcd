"""What makes Kern installable and usable offline: the web app manifest and the service worker
(web/static/js/sw.js) with the files it keeps from the start."""

import hashlib
import json
from typing import Any

from api.i18n import gettext as _
from web.templating import STATIC_DIR, TEMPLATES_DIR, colours, static_url

START_URL = "/today"
OFFLINE_URL = "/offline"
WORKER_SOURCE = STATIC_DIR / "js" / "sw.js"
OFFLINE_TEMPLATES = (
    "offline.html",
    "base.html",
    "partials/site_header.html",
    "partials/menu_links.html",
    "partials/site_footer.html",
    "partials/disclaimer.html",
    "partials/footer_practice.html",
    "partials/language.html",
    "partials/tab_bar.html",
)

# The files every kept page needs, stored when the service worker is installed; the lesson's
# and Vandaag's own styles are among them, so the first lesson she opens works offline at once.
SHELL_FILES = (
    "css/kern.css",
    "css/catalog.css",
    "css/conversations.css",
    "css/journal.css",
    "css/player.css",
    "css/progress.css",
    "js/kern.js",
    "js/player.js",
    "js/video.js",
    "img/kern.svg",
    "img/app/icon-192.png",
)
ICONS = (
    ("img/app/icon-192.png", "192x192", "any"),
    ("img/app/icon-512.png", "512x512", "any"),
    ("img/app/maskable-192.png", "192x192", "maskable"),
    ("img/app/maskable-512.png", "512x512", "maskable"),
)


def manifest(locale: str) -> dict[str, Any]:
    """The web app manifest in her language."""
    theme, background = colours()
    return {
        "id": START_URL,
        "name": "Kern",
        "short_name": "Kern",
        "description": _(
            "Guided courses for the pelvic floor, breathing and posture, to follow at home."
        ),
        "lang": locale,
        "dir": "ltr",
        "start_url": START_URL,
        "scope": "/",
        "display": "standalone",
        "theme_color": theme,
        "background_color": background,
        "icons": [
            {"src": static_url(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }


def worker_script() -> bytes:
    """sw.js with the current addresses of the shell's files written above it. A changed file
    changes the script, and a changed script is how a browser learns to update its copies."""
    shell = {
        "SHELL": [static_url(path) for path in SHELL_FILES],
        "OFFLINE_URL": OFFLINE_URL,
        "ICON": static_url("img/app/icon-192.png"),
    }
    source = WORKER_SOURCE.read_bytes()
    # The offline page is kept when the worker is installed: a change to it makes a new worker.
    pages = b"".join((TEMPLATES_DIR / name).read_bytes() for name in OFFLINE_TEMPLATES)
    version = hashlib.sha256(json.dumps(shell).encode() + source + pages).hexdigest()[:12]
    lines = [f"var {name} = {json.dumps(value)};" for name, value in shell.items()]
    lines.append(f'var VERSION = "{version}";')
    return ("\n".join(lines) + "\n").encode() + source
