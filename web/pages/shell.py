"""The installable app's own addresses: its manifest, its service worker and the page shown
offline when a page was not kept on the device (web/app_shell.py, web/static/js/sw.js)."""

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api import i18n
from api.accounts.access import VisitorDep
from web import app_shell
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


@router.get("/manifest.webmanifest")
def show_manifest(request: Request, lang: str | None = None) -> Response:
    """The web app manifest; `lang` (from the page's link) because a browser fetches it
    without cookies, and so without her choice of language."""
    locale = lang if lang in i18n.LOCALES else locale_of(request)
    i18n.current_locale.set(locale)
    body = json.dumps(app_shell.manifest(locale), ensure_ascii=False, separators=(",", ":"))
    return Response(
        body,
        media_type="application/manifest+json",
        headers={"cache-control": "public, max-age=86400"},
    )


@router.get("/sw.js")
def show_service_worker() -> Response:
    """The service worker, at the root so that it may look after every page. `no-cache`: the
    browser asks each time whether it changed, so a new version reaches her on her next visit."""
    return Response(
        app_shell.worker_script(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache"},
    )


@router.get(app_shell.OFFLINE_URL, response_class=HTMLResponse)
def show_offline(request: Request, _visitor: VisitorDep) -> HTMLResponse:
    """What the service worker shows for a page it did not keep, with her menu and tab bar. The
    worker keeps two copies: nobody's, asked for without cookies when it is installed, and hers
    among her kept pages, dropped with them when she logs out or someone else signs in."""
    return render(request, "offline.html")
