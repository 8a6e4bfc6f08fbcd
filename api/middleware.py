"""Plain ASGI middleware: the request's language, a log line per request, and how many requests
run at once."""

import asyncio
import logging
import re
import time

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import i18n

access_log = logging.getLogger("kern.access")

# Email links carry their secret in the path (/reset-password/<token>); a log line must not
# hand a working link to whoever reads the logs.
_SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{32,}")


def loggable_path(path: str) -> str:
    """The path with long random segments (tokens) replaced."""
    return _SECRET_SEGMENT.sub("/…", path)


def locale_of(request: HTTPConnection) -> str:
    """The locale chosen for this request (by LocaleMiddleware, or negotiated now)."""
    locale = getattr(request.state, "locale", None)
    if isinstance(locale, str):
        return locale
    return i18n.pick_locale(
        choice=request.cookies.get(i18n.LOCALE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


class LocaleMiddleware:
    """Choose the language once per request and make it available to every layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = cookie_parser(headers.get("cookie", ""))
        locale = i18n.pick_locale(
            choice=cookies.get(i18n.LOCALE_COOKIE),
            accept_language=headers.get("accept-language"),
        )
        scope.setdefault("state", {})["locale"] = locale
        token = i18n.current_locale.set(locale)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.current_locale.reset(token)


class AccessLogMiddleware:
    """Log method, path, status and duration; never the query string, which may hold tokens."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            path = loggable_path(scope["path"])
            access_log.info("%s %s %s %.1fms", scope["method"], path, status, elapsed_ms)


class RequestSlots:
    """Let at most `slots` requests of this worker process run at once; the others wait their
    turn in the event loop, in order of arrival.

    Each running request may hold a pooled database connection from its first dependency to its
    last statement, and FastAPI runs the dependencies and the route in separate thread-pool
    calls. Without a bound, a burst of requests takes every thread while waiting for a
    connection, and the requests holding the connections wait for a thread: nothing answers
    until the pool's timeout (seen at 128 connections in the benchmark). With at most half the
    pool's connections in use, no request waits for one. A slot is given back when the response
    starts: the request's session has closed by then (SessionDep), and a long download holds no
    slot. Static files and the liveness check do not wait for a slot.
    """

    FREE_PATHS = ("/static/", "/healthz")

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.FREE_PATHS):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # made inside the server's event loop
            self._semaphore = asyncio.Semaphore(self.slots)
        semaphore = self._semaphore
        await semaphore.acquire()
        held = True

        async def send_and_release(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and held:
                held = False
                semaphore.release()
            await send(message)

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            if held:
                semaphore.release()
