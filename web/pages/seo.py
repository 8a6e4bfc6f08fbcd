"""For search engines: `/sitemap.xml` with the public articles and courses, and `/robots.txt`."""

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from api.articles import service as articles
from api.clock import Now
from api.db import SessionDep
from web.pages.common import settings_of

router = APIRouter(include_in_schema=False)

# Pages for signed-in people, forms and the API: nothing there for a search engine.
DISALLOWED = ("/studio", "/account", "/api/", "/today", "/checkout", "/login", "/register")


@router.get("/sitemap.xml")
def sitemap(request: Request, session: SessionDep, now: Now) -> Response:
    """Every public page worth finding: the home page, the catalog, articles and courses."""
    base = settings_of(request).base_url.rstrip("/")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for entry in articles.sitemap_entries(session, now=now):
        modified = (
            f"<lastmod>{entry.modified.date().isoformat()}</lastmod>" if entry.modified else ""
        )
        lines.append(f"  <url><loc>{escape(base + entry.path)}</loc>{modified}</url>")
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", media_type="application/xml")


@router.get("/robots.txt", response_class=PlainTextResponse)
def robots(request: Request) -> str:
    """Where the sitemap is, and the parts of Kern that are not for search engines."""
    base = settings_of(request).base_url.rstrip("/")
    rules = "\n".join(f"Disallow: {path}" for path in DISALLOWED)
    return f"User-agent: *\n{rules}\n\nSitemap: {base}/sitemap.xml\n"
