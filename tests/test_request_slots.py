"""A worker runs a bounded number of requests at once, so a burst queues instead of leaving
every thread waiting for a database connection that the waiting requests hold."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from api.middleware import RequestSlots
from bench.pgcluster import free_port
from tests.conftest import TEST_SECRET_KEY

# Starts a real server and sends it bursts of requests.
pytestmark = pytest.mark.slow

T = TypeVar("T")


class Counting:
    """An app that answers after `release` is set and counts how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        await self.release.wait()
        self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _request(app: RequestSlots, path: str = "/courses") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET"}, receive, send)
    return sent


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a scenario in an event loop of its own, on its own thread: Playwright's sync API
    leaves a loop running on the main thread after the browser tests."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, scenario()).result()


def test_no_more_than_the_slots_run_at_once_and_every_request_is_answered() -> None:
    async def scenario() -> tuple[int, int, list[list[Message]]]:
        inner = Counting()
        app = RequestSlots(inner, slots=3)
        requests = [asyncio.create_task(_request(app)) for _ in range(10)]
        await asyncio.sleep(0.05)
        waiting_while_blocked = inner.running
        inner.release.set()
        answers = await asyncio.gather(*requests)
        return waiting_while_blocked, inner.most, answers

    running, most, answers = run(scenario)
    assert running == most == 3
    assert all(answer[0]["status"] == 200 for answer in answers)


def test_static_files_and_the_liveness_check_do_not_queue() -> None:
    async def scenario() -> int:
        inner = Counting()
        app = RequestSlots(inner, slots=1)
        busy = [asyncio.create_task(_request(app)) for _ in range(3)]
        free = [asyncio.create_task(_request(app, path)) for path in ("/healthz", "/static/x")]
        await asyncio.sleep(0.05)
        running = inner.running
        inner.release.set()
        await asyncio.gather(*busy, *free)
        return running

    assert run(scenario) == 3  # one page, and both free paths beside it


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def small_pool_server(database_url: str) -> Iterator[str]:
    """A real server on the suite's database with a pool of two connections (PostgreSQL's; an
    SQLite engine keeps SQLAlchemy's default pool)."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DB_POOL_SIZE": "2",
        "LOG_LEVEL": "WARNING",
        "MAIL_WORKER_IN_PROCESS": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", "1"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # A bound for waiting, not a measurement: on a busy machine (the suite runs on every
        # core) the server may take a while to start.
        deadline = time.monotonic() + 60
        while not _answers(f"{base}/healthz"):
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("the server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a stalled server does not finish its requests
            server.kill()
            server.wait()


def test_a_burst_larger_than_the_pool_is_answered_in_full(small_pool_server: str) -> None:
    # 60 at once against 2 connections: before RequestSlots, every thread waited for a
    # connection held by a request that waited for a thread, until the pool gave up (30 s).
    def get(_: int) -> int:
        return httpx.get(f"{small_pool_server}/courses", timeout=20).status_code

    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = list(pool.map(get, range(120)))
    assert statuses == [200] * 120
