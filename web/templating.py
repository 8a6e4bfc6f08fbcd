"""Jinja2 set up once: gettext, Dutch formatting and the helpers every template may use."""

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from api import i18n
from api.practice_identity.cache import IdentityCache
from api.practice_identity.models import Identity
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
    searches every route on each call."""
    if templates.env.auto_reload:
        _static_version.cache_clear()  # while developing, an edited file shows at once
    return f"/static/{path}?v={_static_version(path)}"


def configure(*, development: bool) -> None:
    """Reload changed templates and static files only while developing; in production every
    render would otherwise look at each template's modification time."""
    templates.env.auto_reload = development


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    """Newstyle gettext (escaped placeholders), skipping `%` when there is nothing to fill."""
    text = i18n.translate(message)
    # Texts come from our own catalogs, as with Jinja's gettext; placeholders are escaped by `%`.
    result = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    if variables or "%" in text:
        return result % variables
    return result


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The callables read the locale from a context variable, so one shared environment serves
    # every request in its own language without re-installing translations per render.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        # Jinja fills the placeholders itself (with `num` for plurals), so it gets the bare
        # translation functions.
        i18n.translate,
        i18n.translate_plural,
        newstyle=True,
    )
    # Jinja's own newstyle gettext formats every text with `%`, through Markup's escaping, even
    # when there is nothing to fill in; most texts on a page have no placeholder.
    env.globals["gettext"] = _gettext
    env.globals.update(
        format_price=i18n.format_price,
        format_day=i18n.format_day,
        format_moment=i18n.format_moment,
        language_names=i18n.LANGUAGE_NAMES,
        static_url=static_url,
        player_config_json=player.player_config,
    )
    return env


templates = Jinja2Templates(env=_environment())


def locale_of(request: Request) -> str:
    """The locale chosen for this request (by the middleware, or negotiated now)."""
    locale = getattr(request.state, "locale", None)
    if isinstance(locale, str):
        return locale
    return i18n.pick_locale(
        choice=request.cookies.get(i18n.LOCALE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


def _practice_identity(request: Request) -> Identity | None:
    cache: IdentityCache | None = getattr(request.app.state, "practice_identity", None)
    return cache.current() if cache is not None else None


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the request's language."""
    locale = locale_of(request)
    i18n.current_locale.set(locale)
    page_context = {
        "locale": locale,
        "current_path": request.url.path,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        # Pages that resolved the visitor show her menu; others (e.g. 404) show the public one.
        "user": getattr(request.state, "header_user", None),
        # The footer's practice details come from this worker's copy: no statement on any page.
        "practice_identity": _practice_identity(request),
        "errors": {},
        "values": {},
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page_context, status_code=status_code)
