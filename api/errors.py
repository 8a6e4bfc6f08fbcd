"""Domain errors that carry their HTTP status, and the handlers that show them to people."""

import logging
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from api import i18n
from api.i18n import gettext as _
from web.templating import locale_of, render

log = logging.getLogger("kern.errors")


class AppError(Exception):
    """An expected failure with a message a person can act on."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _default_message(status_code: int) -> tuple[str, str]:
    """A title and a sentence for a status, in the current language."""
    if status_code == 404:
        return _("Page not found"), _(
            "We could not find this page. The link may be old, or the address mistyped."
        )
    if status_code == 405:
        return _("Not possible here"), _("This page cannot be used in this way.")
    if status_code == 403:
        return _("No access"), _("You do not have access to this page.")
    if status_code >= 500:
        return _("Something went wrong"), _(
            "Something went wrong on our side. Nothing you entered has been lost; "
            "please try again in a moment."
        )
    return _("That did not work"), _("Please check what you entered and try again.")


def _error_response(request: Request, status_code: int, message: str | None, code: str) -> Response:
    i18n.current_locale.set(locale_of(request))
    title, sentence = _default_message(status_code)
    if _wants_json(request):
        return JSONResponse({"error": code, "detail": message or sentence}, status_code=status_code)
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": title, "message": message or sentence},
        status_code=status_code,
    )


async def _handle_app_error(request: Request, exc: Exception) -> Response:
    exc = cast(AppError, exc)
    return _error_response(request, exc.status_code, exc.message, exc.code)


async def _handle_http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)
    codes = {404: "not_found", 405: "method_not_allowed", 403: "forbidden"}
    response = _error_response(request, exc.status_code, None, codes.get(exc.status_code, "error"))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _handle_validation_error(request: Request, exc: Exception) -> Response:
    exc = cast(RequestValidationError, exc)
    if _wants_json(request):
        fields = [
            {"field": ".".join(str(part) for part in error["loc"][1:]), "problem": error["msg"]}
            for error in exc.errors()
        ]
        return JSONResponse(
            {"error": "invalid", "detail": _("Some fields are not valid."), "fields": fields},
            status_code=422,
        )
    return _error_response(request, 422, _("Some fields are not valid."), "invalid")


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(request, 500, None, "server_error")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as JSON under /api and as a friendly page elsewhere."""
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(Exception, _handle_unexpected)
