"""What one request costs inside Kern, counted instead of timed: `python -m bench.inprocess`.

`make bench` loads a real server with wrk; on a shared 2-core machine its throughput moves by up
to ±30 % from run to run, far more than most of the small optimisations in docs/performance.md
gain. This harness measures those instead. It seeds a private PostgreSQL cluster once, then for
every run clones a fresh database from it and sends the same sequence of requests straight
through the ASGI application, in one process under valgrind's callgrind, and reports per request:

- **instructions**: what the Python process executed for the request (all its threads, the
  event loop and the worker threads; PostgreSQL's own work is not in it). Callgrind counts
  only while the measured requests run (the warm-up and the start are outside it), and the
  same requests on the same data give the same count to within a few hundredths of a percent;
- **statements** and **round trips** to PostgreSQL, from `pg_stat_statements` (with utility
  statements, so a BEGIN, COMMIT or ROLLBACK counts as the round trip it is), and how many new
  connections were opened.

Each optimisation can be switched off for a run (`--without`), by a patch this harness applies
to its own copy of the application; the product has no such switches.

    .venv/bin/python -m bench.inprocess                          # every optimisation, 3 runs each
    .venv/bin/python -m bench.inprocess --trick router-order     # one of them
    .venv/bin/python -m bench.inprocess --probe thread-hop       # what a necessary part costs
    .venv/bin/python -m bench.inprocess --page course --runs 1   # one page as it is
    .venv/bin/python -m bench.inprocess --memory                 # the pre-fork warm-up's memory

The full comparison takes about 25 minutes on an idle development machine; one trick a few.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import mmap
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import SecretStr
from sqlalchemy import create_engine, event
from starlette.requests import Request
from starlette.routing import Route

from api import db, i18n
from api import main as kern_main
from api.catalog import content, lesson_page, markdown
from api.catalog import router as catalog_api
from api.clock import Now
from api.config import Settings
from api.db import SessionDep, request_session
from api.kit.threads import in_thread
from api.practice_identity.cache import IdentityCache
from api.progress import router as progress_api
from api.push.keys import new_private_key
from bench import learners, pgcluster, procstat, scale, servers, variant_server, wrk
from web import templating
from web.pages import catalog
from web.pages import common as common_pages
from web.pages import progress as progress_pages

COURSE = "sterke-basis"
LEARNERS = 800  # in the database; the requests come from the first SIGNED_IN of them
SIGNED_IN = 10
WARM_UP = 40  # requests before counting: every learner's first visit and every cache filled
REQUESTS = 60  # counted requests
# Which pages each optimisation is measured on (the pages it is meant for).
TRICKS: dict[str, tuple[str, ...]] = {
    "autocommit-reads": ("lesson", "course", "today"),
    "commit-skip": ("lesson", "course"),
    "thread-session": ("lesson",),
    "router-order": ("lesson", "today"),
    "no-pre-ping": ("lesson",),
    "content-cache": ("lesson", "course"),
    "rendered-lessons": ("lesson",),
    "rendered-lists": ("course", "catalog"),
    "markdown-cache": ("course",),
    "day-cache": ("today",),
    "static-versions": ("lesson",),
    # Not a saving but a cost: pages gzipped (fewer bytes to send, more instructions).
    "gzip": ("lesson",),
}
# Probes: not optimisations but parts every request needs, taken out (or doubled) in the
# harness's copy only, to see what they cost and so where the next gain could come from.
PROBES: dict[str, tuple[str, ...]] = {
    "kern-middleware": ("lesson",),  # Kern's own ASGI middleware (language, CSRF cookie, ...)
    # The page's hand-off to a worker thread put back (its session and work in the thread, as
    # before the busiest pages read on the event loop): the change is what the loop saves.
    "thread-hop": ("lesson", "today"),
    # The page rendered twice: the change is its template's cost.
    "second-render": ("lesson", "course", "today", "catalog"),
    "second-read": ("lesson",),  # the page's statement run twice: the change is the read's cost
}
PAGES = ("lesson", "course", "today", "catalog", "course-enrolled", "complete", "practice")
# The pages `--memory` loads a server with (as when its figures were measured).
MEMORY_PAGES = ("lesson", "course", "today")


# Callgrind's client requests (valgrind/callgrind.h), issued without a C compiler: the
# "special instruction" sequence valgrind recognises, as a tiny machine-code function. Outside
# valgrind it does nothing (the rotations add up to a full turn, xchg rbx,rbx changes nothing).
_CALLGRIND_BASE = (ord("C") << 24) | (ord("T") << 16)
ZERO_STATS = _CALLGRIND_BASE + 1
START_INSTRUMENTATION = _CALLGRIND_BASE + 4
STOP_INSTRUMENTATION = _CALLGRIND_BASE + 5
_CLIENT_REQUEST = bytes.fromhex(
    "4889f8"  # mov rax, rdi (the argument block)
    "31d2"  # xor edx, edx (the default result)
    "48c1c703" "48c1c70d" "48c1c73d" "48c1c733"  # rol rdi 3, 13, 61, 51: the preamble
    "4887db"  # xchg rbx, rbx: do the request
    "4889d0"  # mov rax, rdx
    "c3"  # ret
)  # fmt: skip
_code: list[mmap.mmap] = []  # the page holding it, made on first use


def client_request(request: int) -> None:
    """Send one of callgrind's requests to valgrind (a no-op when not under valgrind)."""
    if not _code:
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(_CLIENT_REQUEST)
        _code.append(page)
    address = ctypes.addressof(ctypes.c_char.from_buffer(_code[0]))
    call = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(address)
    block = (ctypes.c_ulong * 6)(request, 0, 0, 0, 0, 0)
    call(ctypes.addressof(block))


# The switches: each takes Kern's modules as they are and patches this process's copy.

EACH_REQUEST: list[Callable[[], None]] = []  # what a switch does before every request


def _without(trick: str) -> Callable[[Any], None] | None:
    """Patch what must be patched before the application is built; returns what to patch after."""
    if trick == "autocommit-reads":

        def no_read_bind(app: Any) -> None:
            app.state.sessionmaker.read_bind = None

        return no_read_bind
    if trick == "commit-skip":
        _replace(db, "_nothing_to_send", lambda _session, _autocommit: False)
    elif trick == "thread-session":
        _lesson_route_with_session_dependency()
    elif trick == "router-order":
        # The daily pages' routers behind all the others, as before they were moved up.
        daily = [common_pages.busiest, catalog.router, progress_pages.router, progress_api.router]
        others = [router for router in kern_main.ROUTERS if all(router is not d for d in daily)]
        _replace(kern_main, "ROUTERS", (*others, *daily))
    elif trick == "no-pre-ping":

        def with_pre_ping(*args: Any, **kwargs: Any) -> Any:
            return create_engine(*args, **{**kwargs, "pool_pre_ping": True})

        _replace(db, "create_engine", with_pre_ping)
    elif trick == "content-cache":
        # Read afresh by every request (once, though a lesson page asks twice).
        EACH_REQUEST.append(content._cache.clear)
    elif trick == "rendered-lessons":
        EACH_REQUEST.append(catalog._lessons.clear)
    elif trick == "rendered-lists":
        EACH_REQUEST.extend((catalog._course_lists.clear, catalog._lesson_lists.clear))
    elif trick == "markdown-cache":
        plain = markdown.render_markdown.__wrapped__
        _replace(catalog, "render_markdown", plain)
        _replace(catalog_api, "render_markdown", plain)
    elif trick in ("day-cache", "static-versions", "gzip"):
        _replace(*_swapped(trick))
    elif trick in PROBES:
        return _probe(trick)
    elif trick != "none":
        raise SystemExit(f"unknown trick {trick!r}; known: {', '.join(TRICKS)}")
    return None


def _swapped(trick: str) -> tuple[object, str, object]:
    """The tricks that are one name replaced: where, which, and by what."""
    if trick == "day-cache":
        return i18n, "_format_day_as", i18n._format_day_as.__wrapped__
    if trick == "static-versions":
        return templating, "_static_version", templating._static_version.__wrapped__
    return kern_main, "CompressionMiddleware", _Uncompressed


def _probe(probe: str) -> Callable[[Any], None] | None:
    """A probe's patch, as `_without` applies a trick's."""
    if probe == "kern-middleware":

        def without_middleware(app: Any) -> None:
            app.user_middleware[:] = []

        return without_middleware
    if probe == "thread-hop":

        async def in_a_thread(request: Request, build: Any, *args: Any) -> Any:
            def work() -> Any:
                with request_session(request) as session:
                    return build(request, session, *args)

            return await in_thread(work)

        _replace(catalog, "read_on_loop", in_a_thread)
        _replace(progress_pages, "read_on_loop", in_a_thread)
        return None
    if probe == "second-render":
        render = templating.render

        def twice(*args: Any, **kwargs: Any) -> Any:
            render(*args, **kwargs)
            return render(*args, **kwargs)

        _replace(catalog, "render", twice)
        _replace(progress_pages, "render", twice)
    if probe == "second-read":
        read = lesson_page.read

        def read_twice(*args: Any, **kwargs: Any) -> Any:
            read(*args, **kwargs)
            return read(*args, **kwargs)

        _replace(lesson_page, "read", read_twice)
    return None


class _Uncompressed:
    """In place of api.compression.CompressionMiddleware: every response as it is (pages still
    carry their CSRF token masked)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _replace(owner: object, name: str, value: object) -> None:
    """Patch this process's copy of Kern (never a file)."""
    setattr(owner, name, value)


def _lesson_route_with_session_dependency() -> None:
    """The lesson page as it was before it opened its own session in its worker thread: the
    session from SessionDep (made and ended on the event loop), the page built in a thread."""
    path = "/courses/{slug}/lessons/{lesson_slug}"

    async def show_lesson(
        request: Request, session: SessionDep, now: Now, slug: str, lesson_slug: str
    ) -> HTMLResponse:
        return await run_in_threadpool(
            catalog._lesson_response, request, session, now, slug, lesson_slug
        )

    # This module's annotations are strings; FastAPI must see the real types.
    show_lesson.__annotations__ = {
        "request": Request, "session": SessionDep, "now": Now, "slug": str,
        "lesson_slug": str, "return": HTMLResponse,
    }  # fmt: skip

    routes = common_pages.busiest.routes
    index = next(
        n for n, route in enumerate(routes) if isinstance(route, Route) and route.path == path
    )
    common_pages.busiest.add_api_route(
        path, show_lesson, methods=["GET"], response_class=HTMLResponse
    )
    routes[index] = routes.pop()


# One measured run (in its own process, usually under valgrind).


@dataclass
class Counted:
    page: str
    trick: str
    requests: int
    instructions: int | None
    statements: float
    round_trips: float
    connections: float
    statuses: list[int]


def _settings(url: str, secret_key: str, workdir: Path) -> Settings:
    return Settings(
        _env_file=None,
        app_env="production",
        database_url=url,
        secret_key=SecretStr(secret_key),
        base_url="http://127.0.0.1:8000",
        log_level="WARNING",
        mail_worker_in_process=False,
        media_dir=workdir / "media",
        mail_dir=workdir / "mail",
    )


def measure(args: argparse.Namespace) -> Counted:
    """Build the application, warm it up, then send the counted requests."""
    workdir = Path(args.workdir)
    after = _without(args.trick)
    # The footer's refresh thread would wake at its own times and add to some counts only.
    _replace(IdentityCache, "keep_fresh", lambda _self, _engine, **_: lambda: None)
    app = kern_main.create_app(_settings(args.url, args.secret_key, workdir))
    if after is not None:
        after(app)
    requests = wrk.read_requests(Path(args.requests_file))
    connects, pings = [0], [0]
    event.listen(app.state.engine, "connect", lambda *_: connects.__setitem__(0, connects[0] + 1))
    # A pre-ping is an empty statement (";"), which pg_stat_statements does not record.
    dialect = app.state.engine.dialect
    do_ping = dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return bool(do_ping(dbapi_connection))

    dialect.do_ping = counted_ping
    plain_url = args.url.replace("postgresql+psycopg://", "postgresql://")

    async def run() -> tuple[list[int], dict[str, int], int]:
        statuses = []
        async with app.router.lifespan_context(app):
            for number in range(args.warm_up):
                statuses.append(await send(app, requests[number % len(requests)], number))
            with psycopg.connect(plain_url, autocommit=True) as stats:
                stats.execute("SELECT pg_stat_statements_reset()")
                connects[0] = pings[0] = 0
                client_request(ZERO_STATS)
                client_request(START_INSTRUMENTATION)
                for number in range(args.warm_up, args.warm_up + args.requests):
                    statuses.append(await send(app, requests[number % len(requests)], number))
                client_request(STOP_INSTRUMENTATION)
                opened = connects[0]
                counts = _statement_counts(stats)
                counts["round_trips"] += pings[0]
        return statuses, counts, opened

    statuses, counts, opened = asyncio.run(run())
    # A refusal (a 403, a redirect to the login page) would look like a cheap request.
    wanted = learners.PAGES[args.page]
    if set(statuses) - set(wanted):
        raise RuntimeError(f"{args.page} answered {sorted(set(statuses))}, not only {wanted}")
    return Counted(
        page=args.page,
        trick=args.trick,
        requests=args.requests,
        instructions=None,
        statements=counts["statements"] / args.requests,
        round_trips=counts["round_trips"] / args.requests,
        connections=opened / args.requests,
        statuses=sorted(set(statuses)),
    )


def _statement_counts(stats: psycopg.Connection[Any]) -> dict[str, int]:
    rows = stats.execute(
        "SELECT query, calls FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT LIKE '%pg_stat_statements%'"
    ).fetchall()
    utility = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "RESET")
    total = sum(calls for _query, calls in rows)
    bookkeeping = sum(calls for query, calls in rows if query.strip().upper().startswith(utility))
    return {"statements": total - bookkeeping, "round_trips": total}


async def send(app: Any, request: Any, number: int) -> int:
    """One request through the ASGI application; returns its status. As in load.lua, a
    `{client_id}` in the body becomes an id of this request alone (here its number, so every
    run sends the same bytes); a completion is sent again as it is."""
    for hook in EACH_REQUEST:
        hook()
    path, _, query = request.path.partition("?")
    headers = [(b"host", b"127.0.0.1:8000")]
    headers += [(name.lower().encode(), value.encode()) for name, value in request.headers.items()]
    body = (request.body or "").replace("{client_id}", f"inprocess-{number:04}").encode()
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def reply(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, reply)
    return status


# The comparison: a seeded template database, then runs on fresh copies of it.


@dataclass
class Setup:
    cluster: pgcluster.Cluster
    secret_key: str
    workdir: Path
    request_files: dict[str, Path]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.cluster.port}/{database}"


@contextmanager
def prepared(learners: int) -> Iterator[Setup]:
    """A private cluster with a seeded template database and the request files."""
    settings = dict(pgcluster.SMALL_SERVER)
    settings["pg_stat_statements.track_utility"] = "on"
    workdir = Path(tempfile.mkdtemp(prefix="kern-inprocess-"))
    with pgcluster.Cluster(settings=settings) as cluster:
        cluster.create_database("kern_template")
        setup = Setup(cluster, secrets.token_urlsafe(48), workdir, {})
        env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": setup.url("kern_template"),
            "SECRET_KEY": setup.secret_key,
            "PYTHONPATH": str(servers.ROOT),
        }
        print(f"inprocess: seeding {learners:,} learners", flush=True)
        for argv in (
            [str(servers.BIN / "kern"), "db", "upgrade"],
            [str(servers.BIN / "python"), "-m", "bench.seed", "--learners", str(learners)],
        ):
            subprocess.run(argv, cwd=workdir, env=env, check=True, capture_output=True)  # noqa: S603
        setup.request_files = _request_files(setup)
        cluster.psql("kern_template", "VACUUM (ANALYZE)")  # as bench/measure.py does, and why
        try:
            yield setup
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _request_files(setup: Setup) -> dict[str, Path]:
    settings = _settings(setup.url("kern_template"), setup.secret_key, setup.workdir)
    engine = db.make_engine(settings.database_url, pool_size=1)
    try:
        with db.make_sessionmaker(engine)() as session:
            ids = scale.sample_learners(session, COURSE, SIGNED_IN)
    finally:
        engine.dispose()
    now = learners.fresh_now()
    signed_in = learners.prepare(settings, course_slug=COURSE, user_ids=ids, now=now)
    files = {}
    for page in PAGES:
        found = learners.requests_for(
            page, signed_in, course_slug=COURSE, settings=settings, now=now
        )
        files[page] = wrk.write_requests(setup.workdir / f"{page}.txt", found)
    return files


def one_run(setup: Setup, page: str, trick: str, *, callgrind: bool) -> Counted:
    """A fresh copy of the template database, and one measured process on it."""
    setup.cluster.psql("postgres", "DROP DATABASE IF EXISTS kern_run")
    setup.cluster.psql("postgres", "CREATE DATABASE kern_run TEMPLATE kern_template")
    out = setup.workdir / "callgrind.out"
    argv = [
        str(servers.BIN / "python"), "-m", "bench.inprocess", "measure",
        "--url", setup.url("kern_run"), f"--secret-key={setup.secret_key}",
        "--workdir", str(setup.workdir), "--requests-file", str(setup.request_files[page]),
        "--page", page, "--trick", trick,
    ]  # fmt: skip
    if callgrind:
        argv = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=yes",
            f"--callgrind-out-file={out}", "--dump-line=no", "--compress-strings=no", *argv,
        ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(servers.ROOT)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"measure {page} {trick} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    counted = Counted(**json.loads(done.stdout.strip().splitlines()[-1]))
    if callgrind:
        counted.instructions = _instructions(out) // counted.requests
        out.unlink()
    return counted


def _instructions(out: Path) -> int:
    for line in out.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def compare(args: argparse.Namespace) -> None:
    # `--page` alone: those pages with every optimisation on; with `--trick`, off as well.
    measures = TRICKS | PROBES
    chosen = args.trick or args.probe
    tricks = [chosen] if chosen else ([] if args.page else list(TRICKS))
    pages = args.page or PAGES
    plan = [
        (page, "none") for page in pages if args.page or any(page in measures[t] for t in tricks)
    ]
    plan += [(page, trick) for trick in tricks for page in measures[trick] if page in pages]
    results: dict[tuple[str, str], list[Counted]] = {}
    with prepared(args.learners) as setup:
        # Interleaved rounds: each round runs every case once.
        for round_number in range(args.runs):
            for page, trick in plan:
                counted = one_run(setup, page, trick, callgrind=not args.no_callgrind)
                results.setdefault((page, trick), []).append(counted)
                print(
                    f"round {round_number + 1}  {page:7} without {trick:17} "
                    f"instr/req {counted.instructions or 0:>11,}  "
                    f"statements {counted.statements:.2f}  round trips {counted.round_trips:.2f}  "
                    f"new connections {counted.connections:.2f}  statuses {counted.statuses}",
                    flush=True,
                )
    print(report(results))
    if args.json:
        Path(args.json).write_text(
            json.dumps({f"{p} {t}": [asdict(c) for c in cs] for (p, t), cs in results.items()})
        )


def report(results: dict[tuple[str, str], list[Counted]]) -> str:
    """A Markdown table: each trick's page against the same page with every trick on."""
    lines = [
        "| switched off | page | instructions/request | change | noise | statements | "
        "round trips |",
        "|---|---|---|---|---|---|---|",
    ]
    for (page, trick), runs in results.items():
        counts = [run.instructions or 0 for run in runs]
        mean = statistics.mean(counts)
        noise = (max(counts) - min(counts)) / mean if mean else 0.0
        base = results.get((page, "none"))
        change = ""
        if base and trick != "none":
            base_mean = statistics.mean(run.instructions or 0 for run in base)
            change = f"{(mean - base_mean) / base_mean:+.1%}" if base_mean else ""
        lines.append(
            f"| {trick} | {page} | {mean:,.0f} | {change} | ±{noise / 2:.2%} | "
            f"{runs[0].statements:.2f} | {runs[0].round_trips:.2f} |"
        )
    return "\n".join(lines)


# The pre-fork warm-up: memory of `kern serve --workers 2` with and without it.
MEMORY_VARIANTS = variant_server.VARIANTS


def memory(args: argparse.Namespace) -> None:
    rows: dict[str, list[dict[str, float]]] = {}
    with prepared(args.learners) as setup:
        for round_number in range(args.runs):
            for variant in MEMORY_VARIANTS:
                found = _serve_and_load(setup, variant)
                rows.setdefault(variant, []).append(found)
                print(f"round {round_number + 1}  without {variant:10} {found}", flush=True)
    print("| switched off | worker PSS MiB | worker USS MiB | supervisor PSS MiB | total PSS MiB |")
    print("|---|---|---|---|---|")
    for variant, runs in rows.items():
        cells = [
            statistics.mean(run[key] for run in runs)
            for key in ("worker_pss", "worker_uss", "supervisor_pss", "total_pss")
        ]
        totals = [run["total_pss"] for run in runs]
        shown = " | ".join(f"{cell:.1f}" for cell in cells)
        print(f"| {variant} | {shown} (±{(max(totals) - min(totals)) / 2:.1f}) |")


def _serve_and_load(setup: Setup, variant: str) -> dict[str, float]:
    setup.cluster.psql("postgres", "DROP DATABASE IF EXISTS kern_run")
    setup.cluster.psql("postgres", "CREATE DATABASE kern_run TEMPLATE kern_template")
    port = pgcluster.free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": setup.url("kern_run"),
        "SECRET_KEY": setup.secret_key,
        "VAPID_PRIVATE_KEY": new_private_key(),
        "BASE_URL": "http://127.0.0.1:8000",
        "LOG_LEVEL": "WARNING",
        "MAIL_WORKER_IN_PROCESS": "false",
        "MEDIA_DIR": str(setup.workdir / "media"),
        "MAIL_DIR": str(setup.workdir / "mail"),
        "PYTHONPATH": str(servers.ROOT),
    }
    argv = [
        str(servers.BIN / "python"), "-m", "bench.variant_server", "--without", variant,
        "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    server = servers.start(
        "kern", argv, port=port, env=env, log=setup.workdir / "serve.log", workers=2
    )
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for _round in range(5):
                for page in MEMORY_PAGES:
                    for request in wrk.read_requests(setup.request_files[page]):
                        response = client.request(
                            request.method, request.path, headers=request.headers
                        )
                        if response.status_code != 200:
                            raise RuntimeError(f"{page}: {response.status_code}")
        time.sleep(1)
        workers = [_uss_and_pss(pid) for pid in server.workers()]
        supervisor = _uss_and_pss(server.pid)
    finally:
        server.stop()
    mib = 1024 * 1024
    return {
        "worker_pss": statistics.mean(pss for _uss, pss in workers) / mib,
        "worker_uss": statistics.mean(uss for uss, _pss in workers) / mib,
        "supervisor_pss": supervisor[1] / mib,
        "total_pss": (supervisor[1] + sum(pss for _uss, pss in workers)) / mib,
    }


def _uss_and_pss(pid: int) -> tuple[int, int]:
    """Private (unique) and proportional set size in bytes, from /proc/<pid>/smaps_rollup."""
    values = procstat.rollup(pid)
    return values.get("Private_Clean", 0) + values.get("Private_Dirty", 0), values.get("Pss", 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inprocess",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--trick", choices=list(TRICKS), help="only this optimisation")
    parser.add_argument(
        "--probe", choices=list(PROBES), help="what this necessary part of a request costs"
    )
    parser.add_argument(
        "--page",
        action="append",
        choices=PAGES,
        help="only this page (may be repeated); without --trick, with every optimisation on",
    )
    parser.add_argument("--runs", type=int, default=3, help="rounds of every case (3)")
    parser.add_argument("--learners", type=int, default=LEARNERS)
    parser.add_argument("--memory", action="store_true", help="the pre-fork warm-up's memory")
    parser.add_argument("--no-callgrind", action="store_true", help="statements only, fast")
    parser.add_argument("--json", help="also write the raw results here")
    commands = parser.add_subparsers(dest="command")
    one = commands.add_parser("measure", help="one run (started by the comparison)")
    one.add_argument("--url", required=True)
    one.add_argument("--secret-key", required=True)
    one.add_argument("--workdir", required=True)
    one.add_argument("--requests-file", required=True)
    one.add_argument("--page", required=True)
    one.add_argument("--trick", default="none")
    one.add_argument("--warm-up", type=int, default=WARM_UP)
    one.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args(argv)
    if args.command == "measure":
        print(json.dumps(asdict(measure(args))))
    elif args.memory:
        memory(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
