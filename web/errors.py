"""Errors outside /api as a friendly page in the visitor's language (api/errors.py decides
when; JSON for /api stays there)."""

from fastapi import FastAPI, Request
from starlette.responses import Response

from api.errors import set_error_page
from web.templating import render


def error_page(request: Request, *, status_code: int, title: str, message: str) -> Response:
    """The error page, with the visitor's menu when a page had already found her."""
    context = {"status_code": status_code, "title": title, "message": message}
    return render(request, "errors/error.html", context, status_code=status_code)


def install(app: FastAPI) -> None:
    """Answer errors outside /api with the error page."""
    set_error_page(app, error_page)
