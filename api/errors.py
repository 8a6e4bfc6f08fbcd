"""Domain errors that carry their HTTP status, and the handlers that show them to people."""

import logging
from typing import cast
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import i18n
from api.i18n import gettext as _
from api.i18n import ngettext
from web.templating import locale_of, render

log = logging.getLogger("kern.errors")


class AppError(Exception):
    """An expected failure with a message a person can act on."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        if status_code is not None:
            self.status_code = status_code

    def location(self) -> str | None:
        """Where a browser should be sent instead of seeing an error page."""
        return None


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class FormError(AppError):
    """Input that fails a rule; `fields` maps a form field to what is wrong with it."""

    status_code = 422
    code = "invalid"

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or next(iter(fields.values()), ""))
        self.fields = fields


class LoginRequired(AppError):
    status_code = 401
    code = "login_required"

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(_("Please log in first."))
        self.next_path = next_path

    def location(self) -> str | None:
        return "/login?" + urlencode({"next": self.next_path})


class TwoFactorRequired(AppError):
    """Instructors and admins must set up a second factor before anything else."""

    status_code = 403
    code = "two_factor_required"

    def __init__(self) -> None:
        super().__init__(_("Set up two-step verification to continue."))

    def location(self) -> str | None:
        return "/account/two-factor"


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            ngettext(
                "Too many attempts. For your safety, please wait %(num)s minute and try again.",
                "Too many attempts. For your safety, please wait %(num)s minutes and try again.",
                minutes,
            ),
            headers={"Retry-After": str(retry_after)},
        )


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


def _error_response(
    request: Request,
    status_code: int,
    message: str | None,
    code: str,
    fields: dict[str, str] | None = None,
) -> Response:
    i18n.current_locale.set(locale_of(request))
    title, sentence = _default_message(status_code)
    if _wants_json(request):
        body: dict[str, object] = {"error": code, "detail": message or sentence}
        if fields:
            body["fields"] = fields
        return JSONResponse(body, status_code=status_code)
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": title, "message": message or sentence},
        status_code=status_code,
    )


async def _handle_app_error(request: Request, exc: Exception) -> Response:
    exc = cast(AppError, exc)
    location = exc.location()
    response: Response
    if location and not _wants_json(request):
        response = RedirectResponse(location, status_code=303)
    else:
        fields = exc.fields if isinstance(exc, FormError) else None
        response = _error_response(request, exc.status_code, exc.message, exc.code, fields)
    response.headers.update(exc.headers)
    return response


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
        fields = {
            ".".join(str(part) for part in error["loc"][1:]): str(error["msg"])
            for error in exc.errors()
        }
        return JSONResponse(
            {"error": "invalid", "detail": _("Some fields are not valid."), "fields": fields},
            status_code=422,
        )
    return _error_response(request, 422, _("Some fields are not valid."), "invalid")


class UnexpectedErrorMiddleware:
    """Turn a crash into the friendly 500 answer *inside* the middleware stack.

    Starlette's own handler for `Exception` runs outside every middleware, so its responses
    would miss the security headers; catching here keeps them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            request = Request(scope)
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            if started:
                raise
            response = _error_response(request, 500, None, "server_error")
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer expected errors as JSON under /api and as a friendly page elsewhere."""
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
