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
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from api import i18n, middleware
from api.practice_identity.cache import IdentityCache
from api.practice_identity.models import Identity
from api.security import csrf
from web import player
from web.fragments import Fragments

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
    every version for a year (see api.static_files.VersionedStaticFiles). Cheaper than url_for,
    which searches every route on each call; the hash is worked out once per file and process
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


def render_part(name: str, context: dict[str, Any], locale: str) -> Markup:
    """Template `name` rendered in `locale`, as markup to put into a page."""
    token = i18n.current_locale.set(locale)
    try:
        html = templates.get_template(name).render(context)
    finally:
        i18n.current_locale.reset(token)
    return Markup(html)  # noqa: S704 (the template escaped what it put in)


# The parts around every page's content (menus, footer) by what they show: a few dozen in all.
_kept_parts = Fragments(limit=256)


@pass_context
def kept(context: Context, name: str, **values: Any) -> Markup:
    """`{{ kept("partials/x.html", a=..., b=...) }}`: template `name` rendered with only these
    values (and the environment's globals) in the page's language, once per process for each
    combination of them (docs/performance.md#rendered-fragments). The values are its whole key,
    so they must be plain and hashable, and nothing of one visitor: a role, a flag, a section.
    A form in the part writes `{{ csrf_token }}`: that is the token's slot, which `render` fills
    with the page's own masked token."""
    locale = context["locale"]
    key = (name, locale, tuple(sorted(values.items())))
    return _kept_parts.get(
        key, lambda: render_part(name, {**values, "csrf_token": csrf.SLOT}, locale)
    )


def section_of(path: str) -> str:
    """Which part of Kern a page belongs to, for the menus' "you are here"."""
    if path == "/today" or path.startswith("/today/"):
        return "today"
    if path == "/practice" or path.startswith("/journal"):
        return "practice"
    for prefix in ("/courses", "/studio", "/account"):
        if path.startswith(prefix):
            return prefix[1:]
    return {"/": "home", "/login": "login", "/register": "register"}.get(path, "")


def _environment() -> Environment:
    env = i18n.jinja_environment(TEMPLATES_DIR)
    env.globals.update(
        static_url=static_url, player_config_json=player.player_config, colours=colours, kept=kept
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
    page_context = {**_page_values(request, locale), **(context or {})}
    html = templates.get_template(name).render(page_context)
    response = HTMLResponse(csrf.fill(html, request), status_code=status_code)
    if getattr(request.state, "visitor", None) is not None:
        # Whom this page was made for ("-": nobody): the service worker keeps her lessons for
        # offline use and drops them when another person, or nobody, is signed in.
        header_user = getattr(request.state, "header_user", None)
        response.headers["kern-viewer"] = header_user.viewer if header_user else "-"
    return response


def render_for(request: Request, name: str, context: Mapping[str, Any]) -> Markup:
    """Template `name` as a part of the page `request` gets, rendered for this visitor with
    what `render` gives every page; `render` then puts it into the page as it is."""
    locale = locale_of(request)
    return render_part(name, {**_page_values(request, locale), **context}, locale)


def path_of(request: Request) -> str:
    """`request.url.path`, without building and parsing the whole address for it (1.5 % of the
    lesson page's time in a worker under load; docs/performance.md#the-pages-path). Starlette
    escapes `?`, `#` and `\\` in it, and a leading `//`: such a path takes its way."""
    path: str = request.scope["path"]
    if "?" in path or "#" in path or "\\" in path or path.startswith("//"):
        return request.url.path
    return path


def _page_values(request: Request, locale: str) -> dict[str, Any]:
    """What every page's templates may read besides the page's own context."""
    path = path_of(request)
    return {
        "locale": locale,
        "current_path": path,
        "section": section_of(path),
        # A slot that `csrf.fill` fills with the token masked afresh for this page, so the page
        # can go gzipped (api/security/csrf.py) and kept parts can hold forms.
        "csrf_token": csrf.SLOT,
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        # Pages that resolved the visitor show her menu; others (e.g. 404) show the public one.
        "user": getattr(request.state, "header_user", None),
        # The footer's practice details come from this worker's copy: no statement on any page.
        "practice_identity": _practice_identity(request),
        "errors": {},
        "values": {},
        "request": request,
    }
