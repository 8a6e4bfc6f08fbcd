"""Domain errors that carry their HTTP status, and the handlers that answer them.

Under /api an error is JSON, shaped here. Elsewhere it is a page, which the web layer renders:
it installs its page with `set_error_page` (web/errors.py), so that nothing here imports web.
An application without one answers JSON everywhere.
"""

import logging
from typing import Any, Protocol, cast
from urllib.parse import urlencode

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import i18n
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import path_id_out_of_range
from api.middleware import locale_of, loggable_path

log = logging.getLogger("kern.errors")


class ErrorPublic(BaseModel):
    """How every API error looks: a code to act on and a sentence to show."""

    error: str
    detail: str


class InvalidPublic(ErrorPublic):
    """A refused input (`invalid`, 422); `fields` maps each wrong field to what is wrong with
    it, the shape _handle_validation_error and FormError answer with."""

    fields: dict[str, str] = Field(default_factory=dict)


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


# For the API description of every route that reads the database.
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorPublic,
        "description": "The database cannot be reached for a moment (unavailable); "
        "try again after Retry-After seconds",
    }
}


class DatabaseUnavailable(AppError):
    """The database cannot be reached for now (restarting, down, out of connections)."""

    status_code = 503
    code = "unavailable"
    # A PostgreSQL restart takes a few seconds; a client that waits this long and tries again
    # usually gets through, and the practice player's retries back off from here.
    retry_after_seconds = 5

    def __init__(self) -> None:
        super().__init__(
            _("Kern cannot be reached for a moment. Please try again in a few seconds."),
            headers={"Retry-After": str(self.retry_after_seconds)},
        )


# PostgreSQL errors that say "the server is not there just now" rather than "this statement is
# wrong": shutting down, starting up, crashed, a broken connection, no connection slot left, or
# a statement that did not end within DB_STATEMENT_TIMEOUT (waiting for a migration's lock, say).
_SERVER_AWAY = (
    psycopg.errors.QueryCanceled,
    psycopg.errors.AdminShutdown,
    psycopg.errors.CrashShutdown,
    psycopg.errors.CannotConnectNow,
    psycopg.errors.ConnectionException,
    psycopg.errors.TooManyConnections,
)


def _is_unreachable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True  # the connection died mid-use; SQLAlchemy then renews the pool's others
    if isinstance(error, _SERVER_AWAY):
        return True
    # psycopg has no SQLSTATE for a refused or lost connection: the server never answered.
    return isinstance(error, psycopg.OperationalError) and error.sqlstate is None


def database_unreachable(error: BaseException) -> bool:
    """Whether `error`, or an error it wraps or was raised while handling, says the database
    cannot be reached.

    The telling error can sit a few links down: SQLAlchemy wraps the driver's, and the session
    dependency rolls back when a route fails, so an error raised there carries the disconnect
    as its context.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _is_unreachable(current):
            return True
        links = [current.__cause__, current.__context__]
        if isinstance(current, sa_exc.DBAPIError):
            links.append(current.orig)
        if isinstance(current, BaseExceptionGroup):
            links.extend(current.exceptions)
        pending.extend(link for link in links if link is not None)
    return False


class ErrorPage(Protocol):
    """Renders the page a person sees for an error outside /api."""

    def __call__(
        self, request: Request, *, status_code: int, title: str, message: str
    ) -> Response: ...


def set_error_page(app: FastAPI, page: ErrorPage) -> None:
    """Show errors outside /api with `page` (the web layer's, installed by the app factory)."""
    app.state.error_page = page


def _error_page(request: Request) -> ErrorPage | None:
    # A Request built from a bare scope (an ASGI app outside Starlette's) has no app to ask.
    app = request.scope.get("app")
    return cast(ErrorPage | None, getattr(app.state, "error_page", None) if app else None)


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
    if status_code == 503:
        return _("Not available right now"), _("Please try again in a few seconds.")
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
    page = _error_page(request)
    if page is None or _wants_json(request):
        body: dict[str, object] = {"error": code, "detail": message or sentence}
        if fields:
            body["fields"] = fields
        return JSONResponse(body, status_code=status_code)
    return page(request, status_code=status_code, title=title, message=message or sentence)


def app_error_response(request: Request, error: AppError) -> Response:
    """How `error` is answered: JSON under /api, otherwise a page or a redirect (for code
    outside the exception handlers, such as a middleware, as well as for them)."""
    location = error.location()
    response: Response
    if location and not _wants_json(request):
        response = RedirectResponse(location, status_code=303)
    else:
        fields = error.fields if isinstance(error, FormError) else None
        response = _error_response(request, error.status_code, error.message, error.code, fields)
    response.headers.update(error.headers)
    return response


async def _handle_app_error(request: Request, exc: Exception) -> Response:
    return app_error_response(request, cast(AppError, exc))


async def _handle_http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)
    codes = {404: "not_found", 405: "method_not_allowed", 403: "forbidden"}
    response = _error_response(request, exc.status_code, None, codes.get(exc.status_code, "error"))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request)
    return response


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path; Starlette's 405 names only the first
    matching route's, and FastAPI nests included routers, so each route is asked to match."""

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)

    return ", ".join(method for method in _METHODS if served(method))


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
    if path_id_out_of_range(exc.errors()):
        # A page address with an id no row can have names no page: the 404 an unknown id gets.
        return _error_response(request, 404, None, "not_found")
    return _error_response(request, 422, _("Some fields are not valid."), "invalid")


class UnexpectedErrorMiddleware:
    """Turn a crash into the friendly 500 answer *inside* the middleware stack, and a database
    that cannot be reached into a 503 with Retry-After.

    Starlette's own handler for `Exception` runs outside every middleware, so its responses
    would miss the security headers; catching here keeps them. The 503 is decided here rather
    than by an exception handler because this is the one place every error reaches: those
    raised in routes, in dependencies (the visitor's session lookup) and in the session
    dependency's commit, which runs after the route returned.
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
        except Exception as error:
            request = Request(scope)
            if not database_unreachable(error):
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                if started:
                    raise
                response = _error_response(request, 500, None, "server_error")
                await response(scope, receive, send)
                return
            # An outage fails every request alike: one line each, not a traceback each.
            log.warning(
                "database unreachable on %s %s: %s",
                request.method,
                loggable_path(request.url.path),
                str(error).partition("\n")[0][:300],
            )
            if started:
                raise
            response = await _handle_app_error(request, DatabaseUnavailable())
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer expected errors as JSON under /api and as a friendly page elsewhere."""
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
