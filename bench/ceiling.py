"""The ceiling: a bare FastAPI app rendering one Jinja2 page, served like Kern.

What Kern's pages reach is reported as a share of this page's throughput on the same server
settings: it is the cost of FastAPI, Jinja2, gunicorn and uvicorn alone, without a database or
middleware.

    gunicorn 'bench.ceiling:create_app()' --config python:bench.ceiling_gunicorn \
        --workers 2 --worker-class api.web_worker.KernWorker

BENCH_CEILING_BYTES sets the page's size (about the size of Kern's lesson page; default 12,000).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
DEFAULT_BYTES = 12_000
TEXT = (
    "Adem rustig in door je neus en voel hoe je buik en flanken ruimer worden. Laat bij "
    "het uitademen je schouders zakken en je bekkenbodem ontspannen; span daarna zacht aan "
    "& tel tot vier."
)


def _context(sections: int) -> dict[str, Any]:
    return {
        "title": "Les 3: de bekkenbodem vinden",
        "navigation": [
            {"href": "/courses", "label": "Cursussen"},
            {"href": "/today", "label": "Vandaag"},
            {"href": "/account", "label": "Account"},
        ],
        "sections": [{"heading": f"Stap {n}", "text": TEXT} for n in range(sections)],
        "footer": "Kern · oefenen voor bekkenbodem en houding",
    }


def _sections_for(size: int) -> int:
    """How many sections make the page about `size` bytes long."""
    template = TEMPLATES.get_template("ceiling.html")
    empty = len(template.render(_context(0)).encode())
    one = len(template.render(_context(1)).encode()) - empty
    return max(1, round((size - empty) / one))


def create_app() -> FastAPI:
    context = _context(_sections_for(int(os.environ.get("BENCH_CEILING_BYTES", DEFAULT_BYTES))))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "ceiling.html", context)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
