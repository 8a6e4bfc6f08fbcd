"""`kern serve`: one worker is plain uvicorn; more are gunicorn workers forked from one
application (api/server.py), under the PID that was started, stopped by SIGTERM."""

import gc
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli, server, web_worker
from api.config import Settings, get_settings
from api.main import create_app
from bench import procstat
from bench.pgcluster import free_port
from tests.conftest import TEST_SECRET_KEY, TEST_VAPID_KEY
from web import templating

# Starts real servers (gunicorn and uvicorn processes).
pytestmark = pytest.mark.slow

MIB = 1024 * 1024
# The settings `kern serve` hands the supervisor (api/cli.py).
_SUPERVISOR = ("--log-level=INFO", "--forwarded-allow-ips=127.0.0.1")
STOP_SECONDS = 30  # what Docker is given (docker-compose.yml); in practice about a second


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def workers(self) -> list[int]:
        return procstat.children(self.process.pid)


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[Running]:
    """`kern serve --workers 2` as in production, in a directory without the checkout's .env."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "VAPID_PRIVATE_KEY": TEST_VAPID_KEY,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "MAIL_WORKER_IN_PROCESS": "false",
        "MEDIA_DIR": str(tmp_path / "media"),
        "MAIL_DIR": str(tmp_path / "mail"),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while not (len(running.workers()) == 2 and _answers(running.base)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_two_workers_each_answer_under_the_pid_that_was_started(two_workers: Running) -> None:
    supervisor = two_workers.process.pid
    # The command replaced itself (same PID, so Docker's and systemd's signals reach it).
    assert "api.server" in procstat.command_line(supervisor)
    workers = two_workers.workers()
    assert len(workers) == 2
    for paused, other in (workers, reversed(workers)):
        # With one worker paused, the other answers every request on its own.
        os.kill(paused, signal.SIGSTOP)
        try:
            for _ in range(5):
                # A new connection each time, so no request rides on one the paused worker holds.
                response = httpx.get(f"{two_workers.base}/healthz", timeout=5)
                assert response.status_code == 200
                assert "server" not in response.headers
        finally:
            os.kill(paused, signal.SIGCONT)
        assert procstat.command_line(other)
    # Pages that need the database answer too (after the pre-fork requests' pool was closed).
    assert httpx.get(f"{two_workers.base}/courses", timeout=10).status_code == 200
    assert "failed" not in two_workers.log.read_text()


def _connections_held(pid: int, port: int) -> int:
    """How many established TCP connections to `port` the process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    held = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            established = fields[3] == "01"
            if local_port == port and established and fields[9] in inodes:
                held += 1
    return held


def _burst_split(base: str, workers: list[int], size: int) -> list[int]:
    """Open `size` connections at once, each with a request answered, and count how many each
    worker holds (fewest first); then close them and wait until the workers hold none."""
    port = int(base.rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(size)]
    try:
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        held = sorted(_connections_held(pid, port) for pid in workers)
    finally:
        for client in clients:
            client.close()
    deadline = time.monotonic() + 5
    while any(_connections_held(pid, port) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    return held


def test_a_burst_of_connections_is_shared_out_evenly_among_the_workers(
    two_workers: Running,
) -> None:
    # Without balancing, the worker that woke first took most of a burst (26 of 32 in a load
    # test): its requests then waited four times as long as the other's. A worker that gets no
    # core for longer than the balancing's wait (DEFER_SECONDS) leaves its share to the other,
    # as it should; on a machine busy with the rest of the suite that can happen to one burst,
    # so the workers get three. Without balancing all three came out uneven (10-6 to 12-4).
    workers = two_workers.workers()
    splits = []
    for _ in range(3):
        held = _burst_split(two_workers.base, workers, 16)
        assert sum(held) == 16, held
        splits.append(held)
        if held[1] - held[0] <= 2:
            break
    assert splits[-1][1] - splits[-1][0] <= 2, splits


def test_sigterm_stops_the_supervisor_and_its_workers(two_workers: Running) -> None:
    workers = two_workers.workers()
    started = time.monotonic()
    two_workers.process.send_signal(signal.SIGTERM)
    assert two_workers.process.wait(timeout=STOP_SECONDS) == 0
    assert time.monotonic() - started < STOP_SECONDS
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its supervisor"
        time.sleep(0.1)


def _serving(running: Running, excluding: Collection[int] = ()) -> list[int]:
    """Wait until the supervisor's children are two workers that share what their zygote built
    (the zygote gone), none of them in `excluding`; their pids."""
    deadline = time.monotonic() + 60
    while True:
        workers = running.workers()
        # A worker forked from the zygote shares tens of MiB with its sibling; the zygote itself,
        # still building, shares only the supervisor's few.
        if (
            len(workers) == 2
            and not set(workers) & set(excluding)
            and all(procstat.rollup(pid).get("Shared_Dirty", 0) > 20 * MIB for pid in workers)
        ):
            return workers
        assert running.process.poll() is None, running.log.read_text()
        assert time.monotonic() < deadline, (workers, running.log.read_text())
        time.sleep(0.2)


def _answers_alone(running: Running, worker: int, other: int) -> None:
    """With `other` paused, `worker` answers pages on its own."""
    os.kill(other, signal.SIGSTOP)
    try:
        for path in ("/healthz", "/courses"):
            response = httpx.get(f"{running.base}{path}", timeout=10)
            assert response.status_code == 200, path
    finally:
        os.kill(other, signal.SIGCONT)


def test_the_supervisor_holds_no_application_and_the_workers_share_theirs(
    two_workers: Running,
) -> None:
    # The zygote that built the application has gone; the workers are the supervisor's own
    # children (docs/performance.md#the-application-built-in-a-zygote).
    workers = _serving(two_workers)
    supervisor = procstat.rollup(two_workers.process.pid)
    for pid in workers:
        worker = procstat.rollup(pid)
        # Only gunicorn in the supervisor: a fraction of a worker's memory.
        assert supervisor["Rss"] * 2 < worker["Rss"], (supervisor, worker)
    # Nor has it imported a worker's own libraries since it started: their compiled parts
    # would be mapped.
    mapped = Path(f"/proc/{two_workers.process.pid}/maps").read_text()
    for library in ("_asyncio.", "uvloop", "httptools", "pydantic_core", "psycopg"):
        assert library not in mapped
    assert "uvloop" in Path(f"/proc/{workers[0]}/maps").read_text()


def test_the_supervisor_loads_no_application_code() -> None:
    # What the supervisor imports it keeps for as long as it runs (module docstring).
    probe = (
        "import sys, api.server; "
        "print(' '.join(name for name in ('fastapi', 'pydantic', 'sqlalchemy', 'jinja2', "
        "'api.config', 'api.main', 'web', 'uvicorn', 'asyncio') if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.stdout.split() == []


def test_a_worker_that_dies_is_replaced_by_one_that_answers(two_workers: Running) -> None:
    dying, surviving = _serving(two_workers)
    os.kill(dying, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        workers = two_workers.workers()
        if (
            dying not in workers
            and len(workers) == 2
            and not procstat.children(next(pid for pid in workers if pid != surviving))
        ):
            # The new worker, forked from a zygote of its own that has gone (it built the
            # application anew, so shares little with the surviving one).
            break
        assert time.monotonic() < deadline, (workers, two_workers.log.read_text())
        time.sleep(0.2)
    replacement = next(pid for pid in workers if pid != surviving)
    _answers_alone(two_workers, replacement, surviving)
    assert surviving in two_workers.workers()


def test_a_reload_starts_both_new_workers_from_one_zygote(two_workers: Running) -> None:
    old = set(_serving(two_workers))
    two_workers.process.send_signal(signal.SIGHUP)
    # Two new workers that share what one zygote built; the old ones have left.
    new = _serving(two_workers, excluding=old)
    for worker, other in (new, reversed(new)):
        _answers_alone(two_workers, worker, other)
    assert not any(Path(f"/proc/{pid}").exists() for pid in old)


def test_the_supervisor_stops_when_the_application_cannot_be_built(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        # A driver SQLAlchemy does not have: the zygote's create_app fails.
        "DATABASE_URL": "postgresql+nosuchdriver://postgres@127.0.0.1/kern",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "VAPID_PRIVATE_KEY": TEST_VAPID_KEY,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_DIR": str(tmp_path / "media"),
        "MAIL_DIR": str(tmp_path / "mail"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.server", f"--port={port}", "--workers=2", *_SUPERVISOR],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=STOP_SECONDS * 2,
        check=False,
    )
    # gunicorn's exit status for an application that failed to load, as with preload_app.
    assert done.returncode == 4, done.stderr
    assert "The application could not be built" in done.stderr
    assert "nosuchdriver" in done.stderr


def _exec_command(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> list[str]:
    """The command `kern serve` would replace itself with."""
    replaced: list[str] = []
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    # `kern serve` sets MALLOC_ARENA_MAX for the command it becomes: in a copy here, so the
    # test's own environment is left as it was.
    environment = {name: value for name, value in os.environ.items() if name != "MALLOC_ARENA_MAX"}
    monkeypatch.setattr(os, "environ", environment)
    monkeypatch.setattr(os, "execv", lambda _path, argv: replaced.extend(argv))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve", *arguments])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    return replaced[1:]


def test_one_worker_is_plain_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    command = _exec_command(monkeypatch, "--port", "8123")
    assert command[:3] == ["-m", "uvicorn", "api.main:create_app"]
    # Explicit, or uvicorn would read WEB_CONCURRENCY itself.
    assert "--workers=1" in command
    assert {"--port=8123", "--no-access-log", "--no-server-header", "--proxy-headers"} <= set(
        command
    )
    assert "--ws=none" in command  # Kern has no WebSocket routes


def test_the_server_it_becomes_links_mails_to_the_port_it_listens_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    _exec_command(monkeypatch, "--port", "8101")

    # The command inherits this environment and builds its settings from it.
    assert (os.environ["HOST"], os.environ["PORT"]) == ("127.0.0.1", "8101")
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8101"


def test_more_workers_are_gunicorn_forking_from_one_application(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.2")
    command = _exec_command(monkeypatch, "--host", "::", "--port", "8123", "--workers", "3")
    # The two settings the supervisor needs come from Kern's settings, as arguments: the
    # supervisor itself loads no settings (nor pydantic).
    assert command == [
        "-m", "api.server", "--host=::", "--port=8123", "--workers=3",
        "--log-level=WARNING", "--forwarded-allow-ips=10.0.0.2",
    ]  # fmt: skip


def test_gunicorn_keeps_uvicorns_options_and_leaves_the_building_to_a_zygote() -> None:
    config = server.KernServer(
        bind=server.bind_address("::", 8123),
        workers=2,
        log_level="WARNING",
        forwarded_allow_ips="127.0.0.1",
    ).cfg
    assert config.bind == ["[::]:8123"]
    assert config.workers == 2
    assert config.loglevel == "warning"
    assert not config.preload_app  # the zygote builds it (KernArbiter), not the supervisor
    # The supervisor keeps records; each worker is made a KernWorker where it runs.
    assert config.worker_class is server.WorkerRecord
    assert config.timeout == 30
    assert config.graceful_timeout <= 30
    assert config.control_socket_disable
    assert config.forwarded_allow_ips == ["127.0.0.1"]
    options = web_worker.KernWorker.CONFIG_KWARGS
    assert options["access_log"] is False
    assert options["server_header"] is False
    assert options["proxy_headers"] is True
    assert options["ws"] == "none"  # Kern has no WebSocket routes


def test_the_proxy_whose_forwarded_address_is_believed_is_a_setting() -> None:
    # Behind the compose file's proxy, Kern sees the visitor's address only through it.
    config = server.KernServer(
        bind=server.bind_address("::", 8123), workers=2, log_level="INFO", forwarded_allow_ips="*"
    ).cfg
    assert config.forwarded_allow_ips == ["*"]


def test_the_zygote_warms_the_application_before_the_fork(settings: Settings) -> None:
    # What the workers then share instead of each building its own copy
    # (docs/performance.md#one-application-forked-after-a-warm-up).
    app = create_app(settings)
    try:
        server.warm(app)
        page_templates = templating.templates.env
        compiled = {template.name for template in page_templates.cache.values()}  # type: ignore[union-attr]
        assert set(page_templates.list_templates()) <= compiled
        # Rebuilt after the rehearsal, so that no part of it keeps this process's event loop.
        assert app.middleware_stack is not None
        assert TestClient(app).get("/courses").status_code == 200
    finally:
        app.state.engine.dispose()


# What a uvicorn worker runs as it starts (uvicorn_worker's UvicornWorker.run and _serve),
# in a fresh interpreter after the supervisor's imports: the modules it imports then.
_WORKER_START = """
import sys
from fastapi import FastAPI
from uvicorn.config import Config
from api import server, web_worker
app = FastAPI()
if sys.argv[1] == "zygote-imported":
    server.import_worker_modules(app)
before = set(sys.modules)
config = Config(app, log_config=None, **web_worker.KernWorker.CONFIG_KWARGS)
config.get_loop_factory()
config.load()
print(" ".join(sorted(set(sys.modules) - before)))
"""


def _imported_by_a_starting_worker(mode: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER_START, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return set(done.stdout.split())


def test_the_zygote_imports_what_a_worker_would_import_as_it_starts() -> None:
    # Imported before the fork, the event loop and the protocols are shared by the workers
    # instead of copied into each (docs/performance.md#one-application-forked-after-a-warm-up).
    assert {"uvloop", "uvicorn.protocols.http.httptools_impl", "uvicorn.lifespan.on"} <= (
        _imported_by_a_starting_worker("alone")
    )
    assert _imported_by_a_starting_worker("zygote-imported") == set()


def test_no_worker_loads_a_websocket_library() -> None:
    assert not any(
        name.startswith(("websockets", "wsproto", "uvicorn.protocols.websockets."))
        for name in _imported_by_a_starting_worker("alone")
    )


def test_the_zygote_freezes_what_it_built_before_the_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warmed: list[FastAPI] = []
    monkeypatch.setattr("api.main.create_app", lambda _settings: FastAPI())
    monkeypatch.setattr(server, "warm", warmed.append)
    imported: list[FastAPI] = []
    monkeypatch.setattr(server, "import_worker_modules", imported.append)
    settings = Settings(_env_file=None, log_level="WARNING")
    zygote = server.KernServer(
        bind=server.bind_address("::", 8123),
        workers=2,
        log_level=settings.log_level,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        settings=settings,
    )
    try:
        app = zygote.load()
        # The collector no longer visits (and so writes to) what the workers share.
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert warmed == [app]
    assert imported == [app]
