"""Request bodies are refused over their route's limit before they are read.

Starlette reads a JSON or form body whole into memory, and Stripe's webhook must read its body
whole to check the signature: without a limit one anonymous request of hundreds of megabytes
grows a worker by as much. So every body is checked here, before any route, dependency or the
CSRF check (which reads a form for its token) sees it: by the length the request declares, and
for a body sent in chunks without one, by counting while it is read, stopping at the limit.

Only the upload routes take large bodies; they check their own limit, from the declared length,
before reading (web/pages/studio/uploads.py), and stream the file to disk.
"""

import contextlib
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import AppError, ErrorPublic, app_error_response
from api.i18n import gettext as _

KIB = 1024
# The JSON API takes small documents: a practice log, a position, a completion.
API_LIMIT = 64 * KIB
# Stripe's events are a few kilobytes; its documentation allows for up to about 500 KB.
WEBHOOK_LIMIT = 1024 * KIB
# The largest form is a lesson or course text of at most 50,000 characters, URL-encoded.
FORM_LIMIT = 256 * KIB
WEBHOOK_PATH = "/stripe/webhook"


class BodyTooLarge(AppError):
    """A request body over its route's limit; nothing of it was used."""

    status_code = 413
    code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _(
                "This request is larger than Kern accepts here (at most %(kb)s KB), so it was "
                "not read. Nothing was saved.",
                kb=limit // KIB,
            ),
            headers={"Connection": "close"},
        )


class _Overflow(HTTPException):
    """Raised to whatever reads past the limit. An HTTPException, because FastAPI and the
    exception handlers let one pass quietly; the answer it gets is replaced by the 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """Answer 413 to a request whose body is over its route's limit, without reading it."""

    def __init__(self, app: ASGIApp, *, uploads: Sequence[re.Pattern[str]]) -> None:
        self.app = app
        self.uploads = tuple(uploads)

    def limit_for(self, path: str) -> int | None:
        """The most a body to `path` may hold; None for an upload route (it checks its own)."""
        if path.startswith("/api/"):
            return API_LIMIT
        if path == WEBHOOK_PATH:
            return WEBHOOK_LIMIT
        if path.startswith("/studio/") and any(rule.fullmatch(path) for rule in self.uploads):
            return None
        return FORM_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, counted = _body_of(scope)
        limit = self.limit_for(scope["path"]) if declared or counted else None
        if limit is None:
            await self.app(scope, receive, send)
        elif declared is not None and declared > limit:
            await refuse(scope, receive, send, limit)
        elif counted:
            await self._counting(scope, receive, send, limit)
        else:
            # The server reads no more than the declared length, which is within the limit.
            await self.app(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body on while counting it; past the limit, stop and answer 413 instead."""
        received = 0
        over = False
        started = False

        async def receive_counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _Overflow
            return message

        async def send_unless_over(message: Message) -> None:
            nonlocal started
            if over:
                return  # the application's answer to the overflow; the 413 replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        # Should a reader outside the exception handlers meet the overflow, it ends here.
        with contextlib.suppress(_Overflow):
            await self.app(scope, receive_counted, send_unless_over)
        if over and not started:
            await refuse(scope, receive, send, limit)


def _body_of(scope: Scope) -> tuple[int | None, bool]:
    """The declared length (None: none, or not a number) and whether the body must be counted
    as it arrives (sent in chunks, or with a length that is not a number)."""
    declared: int | None = None
    counted = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit():
                declared = int(value)
            else:
                counted = True
        elif name == b"transfer-encoding":
            counted = True
    return declared, counted


async def refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Answer 413: JSON for the API and the webhook, a short page in her language elsewhere.

    `Connection: close` tells the server not to read on to the next request through the rest
    of this body.
    """
    request = Request(scope)
    error = BodyTooLarge(limit)
    response: Response
    if scope["path"].startswith("/api/") or scope["path"] == WEBHOOK_PATH:
        body = ErrorPublic(error=error.code, detail=error.message)
        response = JSONResponse(body.model_dump(), status_code=error.status_code)
        response.headers.update(error.headers)
    else:
        response = app_error_response(request, error)
    await response(scope, receive, send)
