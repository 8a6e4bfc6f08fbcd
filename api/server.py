"""Kern's production server for more than one worker: gunicorn with uvicorn's worker class.

`kern serve --workers N` (N > 1) replaces itself with `python -m api.server`. The difference with
`uvicorn --workers N` is memory: the application is built once, warmed (what a request would
otherwise load lazily) and only then are the workers forked from it, so the code, templates and
locale data of all workers share the same physical pages (copy-on-write) instead of each worker
importing and building its own copy (docs/performance.md#one-application-forked-after-a-warm-up).

It is built in a zygote, a short-lived child of gunicorn's supervisor, and not in the supervisor
itself: every page a worker writes to (Python 3.11 writes the reference count of each object a
request touches) is copied for that worker, and a page that every worker has copied would stay
in the process that built it as a third copy nobody uses. The zygote forks the workers and
exits, so that copy goes with it; the workers become the supervisor's children (it is their
subreaper) and gunicorn supervises them as its own
(docs/performance.md#the-application-built-in-a-zygote).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import logging
import os
import select
import signal
import socket
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer
from gunicorn.workers.base import Worker

from api.worker_balance import Shares

# What builds and serves the application (FastAPI, pydantic, SQLAlchemy, Kern's modules and
# settings, uvicorn and asyncio) is imported by the zygote only, never by the supervisor: the
# supervisor keeps what it imports for as long as it runs, and a page of it that the workers
# write to is then kept a third time (docs/performance.md#the-application-built-in-a-zygote).
if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import Message

    from api.config import Settings

# gunicorn stops a worker that has not checked in for this long (a request stuck on the CPU),
# and gives workers this long to finish their requests on SIGTERM. Docker's stop_grace_period
# for the web service (docker-compose.yml) is longer, so it never kills a worker mid-request.
WORKER_TIMEOUT_SECONDS = 30
GRACEFUL_SECONDS = 25

# The workers' heartbeat files (made with mkstemp and unlinked at once): on tmpfs where there is
# one, as gunicorn advises; a container's /tmp is an overlay on disk, where a heartbeat can stall.
HEARTBEAT_DIR = Path("/dev/shm")  # noqa: S108

log = logging.getLogger("kern.server")


def import_worker_modules(app: FastAPI) -> None:
    """Import before the fork what a uvicorn worker imports as it starts: its event loop
    (uvloop), its HTTP parser (httptools) and the lifespan protocol, as its own configuration
    chooses them. Imported by each worker after the fork, they would be a private copy in each;
    imported here, the workers share them
    (docs/performance.md#one-application-forked-after-a-warm-up)."""
    from uvicorn.config import Config  # noqa: PLC0415 (the zygote's: module docstring)

    from api.web_worker import KernWorker  # noqa: PLC0415

    config = Config(app, log_config=None, **KernWorker.CONFIG_KWARGS)
    config.get_loop_factory()  # imports the event loop's module; makes no loop
    config.load()  # imports the protocols; its wrapped application is thrown away


def warm(app: FastAPI) -> None:
    """Load before the fork what the first requests would load in each worker on their own:
    every template compiled, both catalogs, Babel's locale data, the static files' hashes and
    gzipped copies."""
    from api import i18n  # noqa: PLC0415 (the zygote's, not the supervisor's: module docstring)
    from api.mail import templating as mail_templating  # noqa: PLC0415
    from web import player, templating  # noqa: PLC0415

    for environment in (templating.templates.env, mail_templating.templates):
        if not environment.auto_reload:  # in development a template is read again when changed
            for name in environment.list_templates():
                environment.get_template(name)
    for path in sorted(templating.STATIC_DIR.rglob("*")):
        if path.is_file():
            templating.static_url(path.relative_to(templating.STATIC_DIR).as_posix())
    app.state.static_files.pack_all()
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
    import asyncio  # noqa: PLC0415 (the zygote's: module docstring)

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
    from sqlalchemy.engine import make_url  # noqa: PLC0415 (the zygote's: module docstring)

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
    from api import i18n  # noqa: PLC0415 (the zygote's: module docstring)

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


# prctl's option that makes a process the subreaper of its descendants (linux/prctl.h).
_PR_SET_CHILD_SUBREAPER = 36


# How long the supervisor waits for a zygote to build the application and fork the workers
# (some seconds; a rehearsal that waits for the database waits at most a few more).
ZYGOTE_SECONDS = 120


def _reports(reading: int, zygote: int) -> bytes:
    """What the zygote writes to `reading` until it closes it: one line per worker it forked,
    with its pid. A zygote that takes longer than ZYGOTE_SECONDS is killed."""
    deadline = time.monotonic() + ZYGOTE_SECONDS
    received = b""
    with os.fdopen(reading, "rb", buffering=0) as reports:
        while True:
            ready, _, _ = select.select([reports], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                log.error("the zygote took more than %d s; stopped", ZYGOTE_SECONDS)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(zygote, signal.SIGKILL)
                return received
            chunk = reports.read(4096)
            if not chunk:
                return received
            received += chunk


def become_subreaper() -> bool:
    """Make this process the one its orphaned descendants are handed to (Linux); whether it is.

    The standard library has no prctl; it is one call into the C library."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


class WorkerRecord(Worker):  # type: ignore[misc]  # gunicorn lacks types
    """What the supervisor keeps of a worker: its age, pid, heartbeat file and slot in the
    connection table. The worker itself (api/web_worker.py, uvicorn's) is made from it in the
    process that runs it, so that the supervisor needs neither uvicorn nor asyncio (module
    docstring)."""


class KernArbiter(Arbiter):  # type: ignore[misc]  # gunicorn lacks types
    """gunicorn's supervisor, with its workers forked from a zygote that built the application
    (module docstring; docs/performance.md#the-application-built-in-a-zygote).

    gunicorn forks each worker from the supervisor, and with `preload_app` the supervisor holds
    the application. Here the supervisor holds none: to start workers it forks a zygote, which
    builds and warms the application, forks the workers from it and exits. Being their
    subreaper, the supervisor then has the workers as its own children; it made their `Worker`
    records (heartbeat file, slot) itself before the zygote, so it watches, signals and reaps
    them as gunicorn does any worker. A worker that dies is replaced by a new zygote, which
    builds the application anew.
    """

    # Workers the first call of a reload's spawn_worker started for the calls that follow it.
    _started_ahead = 0
    _reloading = False

    def start(self) -> None:
        super().start()
        if not become_subreaper():  # gunicorn's run reports a RuntimeError and exits
            raise RuntimeError("more than one worker needs Linux (a subreaper for the workers)")

    def spawn_workers(self) -> None:
        missing = self.num_workers - len(self.WORKERS)
        if missing > 0:
            self._spawn(missing)

    def reload(self) -> None:
        self._reloading = True
        try:
            super().reload()
        finally:
            self._reloading = False
            self._started_ahead = 0

    def spawn_worker(self) -> None:
        """gunicorn's reload (SIGHUP) starts its new workers with one call each; the first
        starts them all from one zygote, so they share their application as at the start."""
        if self._started_ahead > 0:
            self._started_ahead -= 1
        elif self._reloading:
            self._spawn(self.cfg.workers)
            self._started_ahead = self.cfg.workers - 1
        else:
            self._spawn(1)

    def _spawn(self, count: int) -> None:
        """Start `count` workers from one zygote; HaltServer when it could not build them."""
        workers = []
        for _ in range(count):
            self.worker_age += 1
            worker = self.worker_class(
                self.worker_age, self.pid, self.LISTENERS, self.app, self.timeout / 2.0,
                self.cfg, self.log,
            )  # fmt: skip
            self.cfg.pre_fork(self, worker)
            workers.append(worker)
        # What the supervisor has made so far, its own collector no longer visits (it would
        # write to each object, copying the pages the zygote and the workers share with it).
        gc.freeze()
        reading, writing = os.pipe()
        zygote = os.fork()
        if zygote == 0:
            os.close(reading)
            self._zygote(workers, writing)  # never returns
        os.close(writing)
        started = [int(line) for line in _reports(reading, zygote).split()]
        # gunicorn's SIGCHLD handler may have reaped it first, as a child it does not know.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(zygote, 0)
        for worker, pid in zip(workers, started, strict=False):
            worker.pid = pid
            self.WORKERS[pid] = worker
            self._stats["workers_spawned"] += 1
        for worker in workers[len(started) :]:
            worker.tmp.close()
            self.cfg.child_exit(self, worker)
        if len(started) < count:
            raise HaltServer("the application could not be built", self.APP_LOAD_ERROR)

    def _zygote(self, workers: list[Any], writing: int) -> None:
        """In the zygote: build the application, fork each worker from it, say their pids and
        leave. Nothing may leave it but os._exit: it runs inside the supervisor's own loop, whose
        handling of an error would stop the workers."""
        # The supervisor's handlers are not the zygote's (they would reap its workers as its own).
        for number in (*self.SIGNALS, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        try:
            for sibling in self.WORKERS.values():  # as gunicorn's own fork does
                sibling.tmp.close()
            util._setproctitle(f"zygote [{self.proc_name}]")
            self.app.wsgi()  # KernServer.load: built, warmed and frozen here
        except BaseException:
            self.log.exception("The application could not be built")
            os._exit(self.APP_LOAD_ERROR)
        for worker in workers:
            try:
                pid = os.fork()
            except BaseException:
                self.log.exception("A worker could not be forked")
                os._exit(self.WORKER_BOOT_ERROR)
            if pid == 0:
                os.close(writing)
                for sibling in workers:
                    if sibling is not worker:
                        sibling.tmp.close()
                # Ends in sys.exit, which leaves through gunicorn's own loop, as in any worker
                # gunicorn forks itself.
                self._run_worker(worker)
            try:
                os.write(writing, b"%d\n" % pid)
            except BaseException:  # the supervisor is gone; so will its workers be
                os._exit(self.WORKER_BOOT_ERROR)
        os._exit(0)

    def _run_worker(self, record: WorkerRecord) -> None:
        """What gunicorn's own spawn_worker does in a worker it has forked (gunicorn 27), with
        the worker made from the supervisor's record of it."""
        from api.web_worker import from_record  # noqa: PLC0415 (the zygote's: module docstring)

        record.pid = os.getpid()
        worker: Any = record  # until the worker is made: what `finally` closes
        try:
            worker = from_record(record)
            util._setproctitle(f"worker [{self.proc_name}]")
            self.log.info("Booting worker with pid: %s", worker.pid)
            self.cfg.post_fork(self, worker)
            worker.init_process()
            sys.exit(0)
        except SystemExit:
            raise
        except Exception:
            self.log.exception("Exception in worker process")
            sys.exit(-1 if worker.booted else self.WORKER_BOOT_ERROR)
        finally:
            self.log.info("Worker exiting (pid: %s)", worker.pid)
            try:
                worker.tmp.close()
                self.cfg.worker_exit(self, worker)
            except Exception:
                self.log.warning("Exception during worker exit", exc_info=True)


class KernServer(BaseApplication):  # type: ignore[misc]  # gunicorn lacks types
    """gunicorn configured in code (its "custom application"), without a config file."""

    def __init__(
        self, *, bind: str, workers: int, log_level: str, forwarded_allow_ips: str,
        settings: Settings | None = None,
    ) -> None:  # fmt: skip
        """`settings` for the application; without, the zygote reads them from the environment
        (as `kern serve` left it), so that the supervisor needs no pydantic."""
        self.settings = settings
        self.application: FastAPI | None = None
        # Room for the new workers a reload (SIGHUP) starts before the old ones have left.
        self.shares = Shares(2 * workers)
        self.options: dict[str, Any] = {
            "bind": [bind],
            "workers": workers,
            # The supervisor's records; each worker is a KernWorker (api/web_worker.py).
            "worker_class": WorkerRecord,
            # Built by a zygote instead, not by the supervisor (KernArbiter).
            "preload_app": False,
            "timeout": WORKER_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_SECONDS,
            # uvicorn's default; gunicorn's own (2 s) would close idle browser connections early.
            "keepalive": 5,
            "forwarded_allow_ips": forwarded_allow_ips,
            "loglevel": log_level.lower(),
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

    def run(self) -> None:
        """gunicorn's own run, with Kern's supervisor."""
        try:
            KernArbiter(self).run()
        except RuntimeError as error:
            print(f"\nError: {error}\n", file=sys.stderr)
            sys.exit(1)

    def load(self) -> FastAPI:
        """The application, built in the zygote (KernArbiter), which then forks the workers."""
        from api.config import get_settings  # noqa: PLC0415 (the zygote's: module docstring)
        from api.main import create_app  # noqa: PLC0415

        # No collection while the application is built: objects it frees leave holes in pages
        # that the workers would fill later, copying those pages.
        gc.disable()
        app = create_app(self.settings or get_settings())
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
    # From Kern's settings, which `kern serve` has read (the supervisor does not load them):
    # given, not defaulted here, so that they cannot differ from what the settings say.
    parser.add_argument("--log-level", required=True)
    parser.add_argument("--forwarded-allow-ips", required=True)
    args = parser.parse_args(argv)
    server = KernServer(
        bind=bind_address(args.host, args.port),
        workers=args.workers,
        log_level=args.log_level,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    server.run()


if __name__ == "__main__":
    main()
