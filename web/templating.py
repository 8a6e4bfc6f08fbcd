"""Jinja2 set up once: gettext, Dutch formatting and the helpers every template may use."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from api import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


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
    env.globals.update(
        format_price=i18n.format_price,
        format_day=i18n.format_day,
        format_moment=i18n.format_moment,
        language_names=i18n.LANGUAGE_NAMES,
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


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
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
        "errors": {},
        "values": {},
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page_context, status_code=status_code)
