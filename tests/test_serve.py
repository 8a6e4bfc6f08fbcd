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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli, server
from api.config import Settings, get_settings
from api.main import create_app
from bench import procstat
from bench.pgcluster import free_port
from tests.conftest import TEST_SECRET_KEY, TEST_VAPID_KEY
from web import templating

# Starts real servers (gunicorn and uvicorn processes).
pytestmark = pytest.mark.slow

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
    command = _exec_command(monkeypatch, "--host", "::", "--port", "8123", "--workers", "3")
    assert command == ["-m", "api.server", "--host=::", "--port=8123", "--workers=3"]


def test_gunicorn_preloads_and_keeps_uvicorns_options() -> None:
    settings = Settings(_env_file=None, log_level="WARNING")
    config = server.KernServer(settings, bind=server.bind_address("::", 8123), workers=2).cfg
    assert config.bind == ["[::]:8123"]
    assert config.workers == 2
    assert config.preload_app
    assert config.worker_class is server.KernWorker
    assert config.timeout == 30
    assert config.graceful_timeout <= 30
    assert config.control_socket_disable
    assert config.forwarded_allow_ips == ["127.0.0.1"]
    options = server.KernWorker.CONFIG_KWARGS
    assert options["access_log"] is False
    assert options["server_header"] is False
    assert options["proxy_headers"] is True
    assert options["ws"] == "none"  # Kern has no WebSocket routes


def test_the_proxy_whose_forwarded_address_is_believed_is_a_setting() -> None:
    # Behind the compose file's proxy, Kern sees the visitor's address only through it.
    settings = Settings(_env_file=None, forwarded_allow_ips="*")
    config = server.KernServer(settings, bind=server.bind_address("::", 8123), workers=2).cfg
    assert config.forwarded_allow_ips == ["*"]


def test_the_supervisor_warms_the_application_before_the_fork(settings: Settings) -> None:
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
from api import server
app = FastAPI()
if sys.argv[1] == "supervisor-imported":
    server.import_worker_modules(app)
before = set(sys.modules)
config = Config(app, log_config=None, **server.KernWorker.CONFIG_KWARGS)
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


def test_the_supervisor_imports_what_a_worker_would_import_as_it_starts() -> None:
    # Imported before the fork, the event loop and the protocols are shared by the workers
    # instead of copied into each (docs/performance.md#one-application-forked-after-a-warm-up).
    assert {"uvloop", "uvicorn.protocols.http.httptools_impl", "uvicorn.lifespan.on"} <= (
        _imported_by_a_starting_worker("alone")
    )
    assert _imported_by_a_starting_worker("supervisor-imported") == set()


def test_no_worker_loads_a_websocket_library() -> None:
    assert not any(
        name.startswith(("websockets", "wsproto", "uvicorn.protocols.websockets."))
        for name in _imported_by_a_starting_worker("alone")
    )


def test_the_supervisor_freezes_what_it_built_before_the_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warmed: list[FastAPI] = []
    monkeypatch.setattr(server, "create_app", lambda _settings: FastAPI())
    monkeypatch.setattr(server, "warm", warmed.append)
    imported: list[FastAPI] = []
    monkeypatch.setattr(server, "import_worker_modules", imported.append)
    settings = Settings(_env_file=None, log_level="WARNING")
    supervisor = server.KernServer(settings, bind=server.bind_address("::", 8123), workers=2)
    try:
        app = supervisor.load()
        # The collector no longer visits (and so writes to) what the workers share.
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert warmed == [app]
    assert imported == [app]
