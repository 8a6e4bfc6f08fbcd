"""The pages' Jinja2 environment (gettext and formatting from api.i18n) and page rendering."""

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment
from starlette.responses import HTMLResponse

from api import i18n, middleware
from api.practice_identity.cache import IdentityCache
from api.practice_identity.models import Identity
from api.security import csrf
from web import player

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=256)
def _static_version(path: str) -> str:
    """A short hash of a static file's content (read once per process)."""
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR) or not file.is_file():
        raise ValueError(f"no static file {path!r}")
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """`/static/<path>?v=<content hash>`: a changed file gets a new address, so browsers may keep
    every version for a year (see api.main.VersionedStaticFiles). Cheaper than url_for, which
    searches every route on each call; the hash is worked out once per file and process
    (docs/performance.md#static-file-versions)."""
    if templates.env.auto_reload:
        _static_version.cache_clear()  # while developing, an edited file shows at once
    return f"/static/{path}?v={_static_version(path)}"


@lru_cache(maxsize=1)
def colours() -> tuple[str, str]:
    """The theme (brand green) and background (paper) colours, as kern.css defines them: for the
    browser's toolbar (theme-color) and the installed app's manifest."""
    css = (STATIC_DIR / "css" / "kern.css").read_text()
    found = [re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}});", css) for name in ("green", "paper")]
    theme, background = (match.group(1) if match else "#000000" for match in found)
    return theme, background


def configure(*, development: bool) -> None:
    """Reload changed templates and static files only while developing; in production every
    render would otherwise look at each template's modification time."""
    templates.env.auto_reload = development


def _environment() -> Environment:
    env = i18n.jinja_environment(TEMPLATES_DIR)
    env.globals.update(
        static_url=static_url, player_config_json=player.player_config, colours=colours
    )
    # A day kept as ISO text (in JSON), back to a date for format_day.
    env.filters["iso_day"] = date.fromisoformat
    return env


templates = Jinja2Templates(env=_environment())

# The request's language, decided in api.middleware; pages take it from here with render.
locale_of = middleware.locale_of


def _practice_identity(request: Request) -> Identity | None:
    cache: IdentityCache | None = getattr(request.app.state, "practice_identity", None)
    return cache.current() if cache is not None else None


practice_identity_of = _practice_identity


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the request's language."""
    locale = locale_of(request)
    i18n.current_locale.set(locale)
    page_context = {
        "locale": locale,
        "current_path": request.url.path,
        # Masked afresh for every page, so the page can go gzipped (api/security/csrf.py).
        "csrf_token": csrf.for_page(request),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        # Pages that resolved the visitor show her menu; others (e.g. 404) show the public one.
        "user": getattr(request.state, "header_user", None),
        # The footer's practice details come from this worker's copy: no statement on any page.
        "practice_identity": _practice_identity(request),
        "errors": {},
        "values": {},
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, page_context, status_code=status_code)
    if getattr(request.state, "visitor", None) is not None:
        # Whom this page was made for ("-": nobody): the service worker keeps her lessons for
        # offline use and drops them when another person, or nobody, is signed in.
        header_user = getattr(request.state, "header_user", None)
        response.headers["kern-viewer"] = header_user.viewer if header_user else "-"
    return response
