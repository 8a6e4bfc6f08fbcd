"""The steps of a benchmark run: seed, start the servers, load each page, read the counters."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg

from api import db
from api.config import Settings
from api.push.keys import new_private_key
from bench import ceiling, learners, pgcluster, procstat, scale, servers, transfer, wrk
from bench.learners import PAGES, Learner
from bench.wrk import Request

if TYPE_CHECKING:
    from bench.run import Options

WORKERS = 2  # a 2-core server
_SQL_CALLS = (
    "select coalesce(sum(calls), 0) from pg_stat_statements "
    "where query not ilike '%pg_stat_statements%'"
)


class Bench:
    """One run: the private cluster, Kern, the ceiling, and what was measured."""

    def __init__(self, options: Options, cluster: pgcluster.Cluster, workdir: Path) -> None:
        self.options = options
        self.pages = options.pages
        self.cluster = cluster
        self.workdir = workdir
        self.port = pgcluster.free_port()
        self.vapid_private_key = new_private_key()
        self.settings = Settings(
            _env_file=None,  # pydantic-settings' own argument: not the checkout's .env
            app_env="production",
            database_url=cluster.url,
            secret_key=secrets.token_urlsafe(48),
            vapid_private_key=self.vapid_private_key,
            base_url=f"http://127.0.0.1:{self.port}",
            log_level="WARNING",
            mail_worker_in_process=False,
        ).check()
        self.ceiling: servers.Server | None = None
        self.ceiling_bytes = ceiling.DEFAULT_BYTES  # until the lesson page is measured
        self.transfer: dict[str, Any] | None = None
        self._stats: psycopg.Connection[Any] | None = None
        self._servers: list[servers.Server] = []

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *_exc: object | TracebackType) -> None:
        for server in self._servers:
            server.stop()
        if self._stats is not None:
            self._stats.close()

    # The database

    def env(self, app_env: str) -> dict[str, str]:
        """The environment of Kern's processes: only the settings chosen here, none inherited."""
        names = {name.upper() for name in Settings.model_fields}
        names |= {"HOST", "PORT", "WEB_CONCURRENCY"}
        env = {key: value for key, value in os.environ.items() if key.upper() not in names}
        env.update(
            APP_ENV=app_env,
            DATABASE_URL=self.settings.database_url,
            SECRET_KEY=self.settings.secret_key.get_secret_value(),
            VAPID_PRIVATE_KEY=self.vapid_private_key,
            BASE_URL=self.settings.base_url,
            LOG_LEVEL=self.settings.log_level,
            MAIL_WORKER_IN_PROCESS="false",
            MAIL_DIR=str(self.workdir / "mail"),
            MEDIA_DIR=str(self.workdir / "media"),
        )
        env.update(self.options.server_env)
        return env

    def kern(self, *args: str, app_env: str = "development", show: bool = False) -> None:
        """Run a `kern` command; seeding runs as development (demo data is refused elsewhere)."""
        self._run([str(servers.BIN / "kern"), *args], app_env=app_env, show=show)

    def seed(self, learners: int) -> None:
        """Fill the database with the benchmark's own command (bench/seed.py)."""
        argv = [str(servers.BIN / "python"), "-m", "bench.seed", "--learners", str(learners)]
        self._run(argv, app_env="development", show=True)

    def _run(self, argv: list[str], *, app_env: str, show: bool) -> None:
        command = " ".join(argv[1:]) if argv[0].endswith("python") else "kern " + " ".join(argv[1:])
        print(f"bench: {command}", flush=True)
        # The checkout on the path, so `-m bench.seed` runs from the work folder too.
        env = {**self.env(app_env), "PYTHONPATH": str(servers.ROOT)}
        done = subprocess.run(  # noqa: S603 (our own arguments)
            argv,
            cwd=self.workdir,  # away from the checkout's .env
            env=env,
            capture_output=not show,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            output = "" if show else f"\n{done.stdout}\n{done.stderr}"
            raise RuntimeError(f"`{command}` failed ({done.returncode}){output}")

    @property
    def stats(self) -> psycopg.Connection[Any]:
        if self._stats is None:
            url = f"postgresql://postgres@127.0.0.1:{self.cluster.port}/kern"
            self._stats = psycopg.connect(url, autocommit=True)
        return self._stats

    def close_stats(self) -> None:
        """Close the statistics connection and wait until its backend has gone."""
        if self._stats is None:
            return
        backend = self._stats.info.backend_pid
        self._stats.close()
        self._stats = None
        deadline = time.monotonic() + 5
        while Path(f"/proc/{backend}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with self.stats.cursor() as cursor:
            cursor.execute(query.encode())
            return cursor.fetchall() if cursor.description else []

    def fresh_database(self, learners: int) -> float:
        """A new database with the schema and `learners` learners; returns the seconds it took.

        Both phases are seeded the same way (same courses, same seed), so they differ only in
        the number of learners and what those did; `python -m bench.seed` fills an empty database.
        """
        started = time.monotonic()
        if self._stats is not None:
            self._stats.close()
            self._stats = None
        self.cluster.psql("postgres", "DROP DATABASE IF EXISTS kern")
        self.cluster.create_database()
        self.kern("db", "upgrade", app_env="production")
        self.seed(learners)
        # The seed vacuums and analyses what it filled; this covers the rest. The course rows
        # above all: the triggers that bump a course's content version on every lesson and step
        # the seed adds leave some hundred dead versions of each, which PostgreSQL would step
        # over on every page until autovacuum came by in the middle of a measurement.
        self.sql("VACUUM (ANALYZE)")
        # And written out: seeding 100,000 learners writes about a gigabyte of WAL, and the
        # checkpoint that volume starts is spread over minutes (checkpoint_completion_target),
        # so it was still writing and syncing while the measurements of this phase ran. In
        # make bench of 2026-12-06 mark complete's median at c=32 came out 1.53x the empty
        # database's, with a p99 of 275 ms in a shorter run; the server's log showed the seed's
        # checkpoint going on throughout. A server in use has no such backlog: it is the seed's.
        self.sql("CHECKPOINT")
        return time.monotonic() - started

    def data(self) -> dict[str, Any]:
        rows = {
            name: int(count)
            for name, count in self.sql(
                "select relname, greatest(reltuples, 0)::bigint from pg_class "
                "where relkind = 'r' and relnamespace = 'public'::regnamespace "
                "order by reltuples desc"
            )
        }
        learners = self.sql("select count(*) from user_account where role = 'learner'")[0][0]
        size = self.sql("select pg_database_size('kern')")[0][0]
        return {"learners": int(learners), "rows": rows, "database_bytes": int(size)}

    # The servers

    def start_kern(self, phase: str) -> servers.Server:
        argv = [str(servers.BIN / "kern"), "serve", "--host", "127.0.0.1", "--port",
                str(self.port), "--workers", str(WORKERS)]  # fmt: skip
        server = servers.start(
            "kern", argv, port=self.port, env=self.env("production"),
            log=self.workdir / f"kern-{phase}.log", workers=WORKERS,
        )  # fmt: skip
        self._servers.append(server)
        return server

    def start_ceiling(self, page_bytes: int) -> servers.Server:
        port = pgcluster.free_port()
        # The server Kern runs under with more than one worker (api/server.py): gunicorn with
        # Kern's uvicorn worker class and its balancing of new connections among the workers,
        # so the ceiling differs from Kern only in the application.
        argv = [str(servers.BIN / "python"), "-m", "gunicorn", "bench.ceiling:create_app()",
                "--config", "python:bench.ceiling_gunicorn",
                "--chdir", str(servers.ROOT), "--bind", f"127.0.0.1:{port}",
                "--workers", str(WORKERS), "--worker-class", "api.web_worker.KernWorker",
                "--log-level", "warning", "--no-control-socket"]  # fmt: skip
        env = {**self.env("production"), "BENCH_CEILING_BYTES": str(page_bytes)}
        server = servers.start(
            "ceiling", argv, port=port, env=env, log=self.workdir / "ceiling.log", workers=WORKERS
        )
        self._servers.append(server)
        return server

    def stop(self, server: servers.Server) -> None:
        server.stop()
        self._servers.remove(server)

    # Measuring

    def postgres_cpu(self) -> float:
        pids = self.cluster.pids()
        return procstat.tree_cpu_seconds(pids[0]) if pids else 0.0

    def postgres_memory(self) -> procstat.Memory:
        # The benchmark's own connection (for pg_stat_statements) is a backend of ~8 MiB that a
        # deployment has not: closed first, and opened again when next needed.
        self.close_stats()
        pids = self.cluster.pids()
        return procstat.tree_memory(pids[0]) if pids else procstat.Memory()

    def measure(
        self, server: servers.Server, page: str, requests: Path, connections: int, phase: str
    ) -> dict[str, Any]:
        """Warm up, then one measured wrk run with the server's and PostgreSQL's counters."""
        options = self.options
        # Each run starts on an idle server, its connections shared out evenly (wait_idle).
        server.wait_idle()
        wrk.run(server.base_url, requests, connections=connections, seconds=options.warmup)
        server.wait_idle()
        self.sql("select pg_stat_statements_reset()")
        cpu, pg_cpu = server.cpu_seconds(), self.postgres_cpu()
        result = wrk.run(
            server.base_url, requests, connections=connections, seconds=options.duration
        )
        cpu, pg_cpu = server.cpu_seconds() - cpu, self.postgres_cpu() - pg_cpu
        calls = int(self.sql(_SQL_CALLS)[0][0])
        done, silent = max(result.requests, 1), result.silent
        expected = PAGES.get(page, (200,))
        run: dict[str, Any] = {
            "page": page,
            "connections": connections,
            "requests": result.requests,
            "seconds": round(result.seconds, 3),
            "rps": round(result.per_second, 1),
            "p50_ms": result.p50_ms,
            "p90_ms": result.p90_ms,
            "p99_ms": result.p99_ms,
            "mean_ms": result.mean_ms,
            "max_ms": result.max_ms,
            "errors": result.errors(expected) + result.unanswered(connections),
            "socket_errors": result.socket_errors,
            "statuses": {str(status): count for status, count in result.statuses.items()},
            # Per request only where requests were answered.
            "sql_per_request": None if page == "ceiling" or silent else round(calls / done, 2),
            "server_cpu_ms": None if silent else round(cpu * 1000 / done, 3),
            "pg_cpu_ms": None if page == "ceiling" or silent else round(pg_cpu * 1000 / done, 3),
            "wrk_cpu_ms": round(result.wrk_cpu_seconds * 1000 / done, 3),
        }
        print(
            f"  {phase:<5} {page:<8} c={connections:<3} {run['rps']:>7.0f} req/s  "
            f"p50 {run['p50_ms']:7.1f} ms  p99 {run['p99_ms']:7.1f} ms  "
            f"SQL/req {_show(run['sql_per_request'])}  CPU/req {_show(run['server_cpu_ms'])} ms  "
            f"errors {run['errors']}",
            flush=True,
        )
        return run

    def sample_learners(self) -> list[Learner]:
        """Sessions for learners actively enrolled in the course (bench.scale picks them)."""
        engine = db.make_engine(self.settings.database_url, pool_size=1)
        try:
            with db.make_sessionmaker(engine)() as session:
                ids = scale.sample_learners(session, self.options.course, self.options.sessions)
        finally:
            engine.dispose()
        found = learners.prepare(
            self.settings, course_slug=self.options.course, user_ids=ids, now=learners.fresh_now()
        )
        if not found:
            raise RuntimeError(f"no learner enrolled in {self.options.course} to log in with")
        return found

    def request_files(self, phase: str, signed_in: list[Learner]) -> dict[str, Path]:
        now = learners.fresh_now()
        files = {}
        for page in self.pages:
            found = learners.requests_for(
                page, signed_in, course_slug=self.options.course, settings=self.settings, now=now
            )
            files[page] = wrk.write_requests(self.workdir / f"{phase}-{page}.txt", found)
        return files

    def phase(self, name: str) -> dict[str, Any]:
        """Every page at every concurrency, the ceiling first at each; then the memory."""
        data = self.data()
        server = self.start_kern(name)
        try:
            signed_in = self.sample_learners()
            files = self.request_files(name, signed_in)
            for page, path in files.items():
                try:
                    learners.check(server.base_url, page, wrk.read_requests(path))
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\nKern's log ends:\n{server.log_tail(8)}") from None
            if self.transfer is None and "lesson" in files:
                self.transfer = transfer.measure(
                    server.base_url, wrk.read_requests(files["lesson"])[0]
                )
                self.ceiling_bytes = int(self.transfer["html_bytes"])
            if self.ceiling is None:
                self.ceiling = self.start_ceiling(self.ceiling_bytes)
            ceiling_file = wrk.write_requests(
                self.workdir / f"{name}-ceiling.txt",
                [
                    Request("GET", "/", r.headers)
                    for r in wrk.read_requests(files.get("lesson", files[self.pages[0]]))
                ],
            )
            runs = []
            for connections in self.options.connections:
                runs.append(self.measure(self.ceiling, "ceiling", ceiling_file, connections, name))
                for page in self.pages:
                    runs.append(self.measure(server, page, files[page], connections, name))
            memory = self.memory(server)
        finally:
            self.stop(server)
        return {
            "name": name,
            "title": "Empty database" if name == "empty" else f"{data['learners']:,} learners",
            "learners": data["learners"],
            "data": _describe(data, len(signed_in)),
            "rows": data["rows"],
            "database_bytes": data["database_bytes"],
            "sessions": len(signed_in),
            "runs": runs,
            "memory": memory,
        }

    def memory(self, server: servers.Server) -> dict[str, Any]:
        processes = {f"kern {name}": memory for name, memory in server.memory().items()}
        postgres = self.postgres_memory()
        pg_count = len(self.cluster.pids())
        processes[f"PostgreSQL ({pg_count} processes)"] = postgres
        deployment = sum(memory.pss for memory in processes.values())
        if self.ceiling is not None:
            for name, memory in self.ceiling.memory().items():
                processes[f"ceiling {name} (not counted)"] = memory
        return {
            "processes": {
                name: {"rss": memory.rss, "pss": memory.pss} for name, memory in processes.items()
            },
            "deployment_pss": deployment,
        }

    def settings_used(self) -> dict[str, Any]:
        options = self.options
        levels = "/".join(map(str, options.connections))
        pool = options.server_env.get("DB_POOL_SIZE", self.settings.db_pool_size)
        pg = ", ".join(f"{key}={value}" for key, value in pgcluster.SMALL_SERVER.items()
                       if key not in ("listen_addresses", "logging_collector"))  # fmt: skip
        return {
            "connections": list(options.connections),
            "duration": options.duration,
            "warmup": options.warmup,
            "learners": options.learners,
            "course": options.course,
            "described": [
                f"Kern: `kern serve --workers {WORKERS}` (gunicorn, preloaded, with uvicorn "
                "workers that share out new connections: api/server.py), APP_ENV=production, "
                "LOG_LEVEL=WARNING (no access log lines), "
                f"DB_POOL_SIZE={pool} per worker; no mail worker process; "
                "Stripe not configured."
                + "".join(
                    f" {name}={value}."
                    for name, value in options.server_env.items()
                    if name != "DB_POOL_SIZE"
                ),
                f"PostgreSQL: a private cluster (bench/pgcluster.py) with {pg}; fsync on.",
                f"Ceiling: bench/ceiling.py, one `async def` FastAPI route rendering a Jinja2 page "
                f"of about {self.ceiling_bytes:,} bytes (the lesson page's size), under the "
                f"same gunicorn, worker class and balancing (bench/ceiling_gunicorn.py) with "
                f"{WORKERS} workers, loaded with the same "
                "headers and cookies.",
                f"Load: {wrk.version()} on loopback, 2 threads, c={levels}, "
                f"{options.duration:g} s per run after a {options.warmup:g} s warm-up at the same "
                f"concurrency; an answer slower than {wrk.timeout_seconds(options.duration)} s is "
                "an error (timeout). Requests carry a phone browser's Accept "
                "headers (gzip allowed). Signed-in requests rotate through the sampled learners' "
                "sessions (opened with sessions.start, not /login), each on lessons and steps she "
                f"may open in `{options.course}`; catalog and course page anonymous, with a CSRF "
                "cookie as a returning visitor has. Mark complete is `PUT .../completion`, log "
                "practice `POST /api/v1/practice` with a new client_id each time.",
                "SQL/req: pg_stat_statements calls (BEGIN/COMMIT and other utility statements "
                "not counted) over the run / requests completed. CPU/req: user + system time of "
                "the server's processes (and PostgreSQL's) over the run / requests completed. "
                "Requests in flight when wrk stops add a little to both.",
                "Memory: RSS and PSS from /proc/<pid>/smaps_rollup after the phase's load; the "
                "deployment total adds PSS, which splits shared pages instead of counting them "
                "in every process.",
                "Errors: socket errors (connect, read, write, timeout), every answer with "
                "another status than the page's success (200; 201 for a new practice), and in a "
                "run with fewer answers than connections the connections left without one (a "
                "stalled server; wrk counts no timeout when nothing comes back before it stops).",
            ],
        }


def _describe(data: dict[str, Any], sessions: int) -> str:
    rows = data["rows"]
    biggest = ", ".join(f"{name} {count:,}" for name, count in list(rows.items())[:5])
    return (
        f"{data['learners']:,} learners; {sum(rows.values()):,} rows in all ({biggest}); "
        f"database {data['database_bytes'] / 2**20:,.0f} MiB. The signed-in load rotates "
        f"through {sessions} learners' sessions."
    )


def _show(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.2f}"
