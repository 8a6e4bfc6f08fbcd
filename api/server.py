"""Kern's production server for more than one worker: gunicorn with uvicorn's worker class.

`kern serve --workers N` (N > 1) replaces itself with `python -m api.server`. The difference with
`uvicorn --workers N` is memory: here the supervisor builds the application once, warms what a
request would otherwise load lazily, and only then forks the workers, so the code, templates and
locale data of all processes share the same physical pages (copy-on-write) instead of each worker
importing and building its own copy (docs/performance.md#one-application-forked-after-a-warm-up).
"""

import argparse
import asyncio
import gc
import logging
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from sqlalchemy.engine import make_url
from starlette.types import Message
from uvicorn.config import Config
from uvicorn_worker import UvicornWorker

from api import i18n
from api.config import Settings, get_settings
from api.mail import templating as mail_templating
from api.main import create_app
from api.worker_balance import BalancedServer, Shares
from web import player, templating

# gunicorn stops a worker that has not checked in for this long (a request stuck on the CPU),
# and gives workers this long to finish their requests on SIGTERM. Docker's stop_grace_period
# for the web service (docker-compose.yml) is longer, so it never kills a worker mid-request.
WORKER_TIMEOUT_SECONDS = 30
GRACEFUL_SECONDS = 25

# The workers' heartbeat files (made with mkstemp and unlinked at once): on tmpfs where there is
# one, as gunicorn advises; a container's /tmp is an overlay on disk, where a heartbeat can stall.
HEARTBEAT_DIR = Path("/dev/shm")  # noqa: S108

log = logging.getLogger("kern.server")


class KernWorker(UvicornWorker):  # type: ignore[misc]  # gunicorn and uvicorn-worker lack types
    """uvicorn inside gunicorn, with the options `kern serve` gives plain uvicorn."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012 (read-only, as in UvicornWorker)
        **UvicornWorker.CONFIG_KWARGS,
        "access_log": False,  # Kern logs each request itself, without query strings
        "server_header": False,
        "proxy_headers": True,  # trusted from forwarded_allow_ips (below) only
        # Kern has no WebSocket routes: no worker needs a WebSocket library in its memory
        # (uvicorn's "auto" imports one); an upgrade request is answered as plain HTTP.
        "ws": "none",
    }

    # Set by the supervisor before the fork (Shares.pre_fork): the table of connections
    # the workers hold, and this worker's slot in it.
    kern_shares: Shares | None = None
    kern_slot: int | None = None

    async def _serve(self) -> None:
        """UvicornWorker's own, with a server that takes a new connection only when no other
        worker holds fewer (api/worker_balance.py)."""
        if self.kern_shares is None or self.kern_slot is None or self.config.is_ssl:
            await super()._serve()
            return
        self.config.app = self.wsgi
        server = BalancedServer(config=self.config, shares=self.kern_shares, slot=self.kern_slot)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def import_worker_modules(app: FastAPI) -> None:
    """Import before the fork what a uvicorn worker imports as it starts: its event loop
    (uvloop), its HTTP parser (httptools) and the lifespan protocol, as its own configuration
    chooses them. Imported by each worker after the fork, they would be a private copy in each;
    imported here, the workers share them
    (docs/performance.md#one-application-forked-after-a-warm-up)."""
    config = Config(app, log_config=None, **KernWorker.CONFIG_KWARGS)
    config.get_loop_factory()  # imports the event loop's module; makes no loop
    config.load()  # imports the protocols; its wrapped application is thrown away


def warm(app: FastAPI) -> None:
    """Load before the fork what the first requests would load in each worker on their own:
    every template compiled, both catalogs, Babel's locale data, the static files' hashes."""
    for environment in (templating.templates.env, mail_templating.templates):
        if not environment.auto_reload:  # in development a template is read again when changed
            for name in environment.list_templates():
                environment.get_template(name)
    for path in sorted(templating.STATIC_DIR.rglob("*")):
        if path.is_file():
            templating.static_url(path.relative_to(templating.STATIC_DIR).as_posix())
    example = datetime.now(i18n.TIMEZONE)
    for locale in i18n.LOCALES:
        token = i18n.current_locale.set(locale)
        try:
            i18n.translations(locale)
            i18n.format_price(4900)
            i18n.format_day(example)
            i18n.format_moment(example)
            player.player_config("", "", "", None)
        finally:
            i18n.current_locale.reset(token)
    rehearse(app)
    # Starlette builds its middleware stack on the first request. Built anew after the
    # rehearsal, none of its parts keeps state from this process's event loop.
    app.middleware_stack = app.build_middleware_stack()


# Pages anyone may open; between them they run most of what a learner's request runs.
REHEARSED_PAGES = ("/", "/courses", "/api/v1/courses", "/login", "/healthz", "/kern-no-such-page")
# Python 3.11 rewrites a function's bytecode in place after its first few calls (the adaptive
# interpreter); done here, the rewritten code is shared instead of copied into each worker.
REHEARSALS = 12


def rehearse(app: FastAPI) -> None:
    """Send a few anonymous requests through the application before the fork, so that what the
    first requests build or rewrite (caches, compiled statements, specialised bytecode) is in
    memory the workers share. Without a database it is skipped: that costs only the sharing."""
    settings: Settings = app.state.settings
    if not _database_listens(settings.database_url):
        log.warning("database not reachable before the fork; the workers warm up by themselves")
        return
    logging.disable(logging.INFO)  # no access log lines for these
    try:
        failed = asyncio.run(_rehearse(app))
    except Exception:  # the workers start all the same; their requests say what is wrong
        log.warning("requests before the fork failed", exc_info=True)
    else:
        if failed:
            log.warning("requests before the fork failed: %s", ", ".join(failed))
    finally:
        logging.disable(logging.NOTSET)
        # The parent's connections must not outlive the fork: each worker opens its own.
        app.state.engine.dispose()


def _database_listens(url: str) -> bool:
    """Whether the database server accepts connections; asked with a short time-out, because a
    driver's first connection to an unreachable host can wait for minutes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or not parsed.host:
        return True  # a file, or a local socket: no waiting either way
    try:
        socket.create_connection((parsed.host, parsed.port or 5432), timeout=3).close()
    except OSError:
        return False
    return True


async def _rehearse(app: FastAPI) -> list[str]:
    """The pages that did not answer as expected, as `path status`."""
    failed = []
    for round_number in range(REHEARSALS):
        language = i18n.LOCALES[round_number % len(i18n.LOCALES)]
        for path in REHEARSED_PAGES:
            status = await _get(app, path, language)
            if status >= 500 and round_number == 0:
                failed.append(f"{path} {status}")
    return failed


async def _get(app: FastAPI, path: str, language: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"accept-language", language.encode())],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 80),
        "state": {},
    }

    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, send)
    return status


class KernServer(BaseApplication):  # type: ignore[misc]  # gunicorn lacks types
    """gunicorn configured in code (its "custom application"), without a config file."""

    def __init__(self, settings: Settings, *, bind: str, workers: int) -> None:
        self.settings = settings
        self.application: FastAPI | None = None
        # Room for the new workers a reload (SIGHUP) starts before the old ones have left.
        self.shares = Shares(2 * workers)
        self.options: dict[str, Any] = {
            "bind": [bind],
            "workers": workers,
            "worker_class": KernWorker,
            "preload_app": True,
            "timeout": WORKER_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_SECONDS,
            # uvicorn's default; gunicorn's own (2 s) would close idle browser connections early.
            "keepalive": 5,
            "forwarded_allow_ips": settings.forwarded_allow_ips,
            "loglevel": settings.log_level.lower(),
            "proc_name": "kern",
            # gunicorn >= 25 opens a control socket (and a thread) for `gunicornc`; Kern is
            # stopped and restarted by signals from Docker or systemd, so it needs none.
            "control_socket_disable": True,
        }
        if HEARTBEAT_DIR.is_dir():
            self.options["worker_tmp_dir"] = str(HEARTBEAT_DIR)
        super().__init__(prog="kern serve")

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("pre_fork", self.shares.pre_fork)
        self.cfg.set("post_fork", self._post_fork)
        self.cfg.set("child_exit", self.shares.child_exit)

    def _post_fork(self, _arbiter: Any, _worker: Any) -> None:
        if self.application is not None:
            # A connection opened before the fork would be shared by every worker; dispose
            # (close=False) gives this worker a pool of its own and leaves any such socket to
            # the parent (SQLAlchemy's "Using Connection Pools with Multiprocessing").
            self.application.state.engine.dispose(close=False)

    def load(self) -> FastAPI:
        # No collection while the application is built: objects it frees leave holes in pages
        # that the workers would fill later, copying those pages.
        gc.disable()
        app = create_app(self.settings)
        import_worker_modules(app)
        warm(app)
        self.application = app
        # The collector writes to every object it visits (its bookkeeping sits in the object's
        # header) and would so copy, page by page, what the workers share with this process.
        # Frozen, what exists now is never visited again; what comes later is collected.
        gc.freeze()
        gc.enable()
        return app


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    server = KernServer(
        get_settings(), bind=bind_address(args.host, args.port), workers=args.workers
    )
    server.run()


if __name__ == "__main__":
    main()
