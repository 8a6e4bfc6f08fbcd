"""The table of connections the workers hold (api/worker_balance.py): what a worker compares
itself with before it takes a new connection; and the worker's server that consults it
(api/web_worker.py)."""

import asyncio
import os
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from api import web_worker
from api.worker_balance import Shares


def test_a_worker_compares_itself_with_the_least_busy_running_worker() -> None:
    shares = Shares(3)
    first, second = shares.claim(owner=1), shares.claim(owner=2)
    assert (first, second) == (0, 1)
    shares.publish(0, 9)
    shares.publish(1, 4)
    # The third slot has no worker: it holds nothing back.
    assert shares.fewest() == 4


def test_the_slot_of_a_worker_that_exited_goes_to_its_successor_with_no_connections() -> None:
    shares = Shares(2)
    shares.claim(owner=1)
    shares.claim(owner=2)
    shares.publish(0, 7)
    shares.publish(1, 3)
    shares.release(owner=2)
    assert shares.fewest() == 7  # a worker that is gone does not make the other wait
    assert shares.claim(owner=3) == 1
    assert shares.fewest() == 0
    # More workers than slots (gunicorn's TTIN): the extra one takes connections unbalanced.
    assert shares.claim(owner=4) is None


def test_the_table_is_shared_with_forked_workers() -> None:
    shares = Shares(2)
    shares.claim(owner=1)
    slot = shares.claim(owner=2)
    assert slot is not None
    child = os.fork()
    if child == 0:  # the worker: publish and leave at once
        shares.publish(slot, 5)
        shares.publish(0, 8)
        os._exit(0)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert shares.fewest() == 5


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def _ask(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return client


def test_a_worker_that_left_connections_to_another_takes_them_once_it_is_no_longer_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a burst, a worker ahead of the other leaves the waiting connections to it; once the
    other has taken its share and is ahead in turn, the first takes the next at once, not
    after its whole wait (otherwise a burst onto idle workers goes in two at a time per worker
    and wait: 128 connections took 330 ms to be answered)."""
    monkeypatch.setattr(web_worker, "DEFER_SECONDS", 600.0)  # no taking it after the wait
    shares = Shares(2)
    ours, other = shares.claim(owner=1), shares.claim(owner=2)
    assert ours is not None
    assert other is not None
    shares.publish(other, 0)
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(_hello, lifespan="off", log_level="warning")
    server = web_worker.BalancedServer(config=config, shares=shares, slot=ours)
    serving = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[listening]),))
    serving.start()
    try:
        while not server.started:
            assert serving.is_alive()
            time.sleep(0.01)
        first = _ask(port)
        assert first.recv(4096).startswith(b"HTTP/1.1 200")  # it held none: it took this one

        second = _ask(port)  # it holds one and the other none: left to the other
        second.settimeout(0.5)
        with pytest.raises(TimeoutError):
            second.recv(4096)

        shares.publish(other, 3)  # the other took three meanwhile
        second.settimeout(10)
        assert second.recv(4096).startswith(b"HTTP/1.1 200")
        first.close()
        second.close()
    finally:
        server.should_exit = True
        serving.join(timeout=10)
        listening.close()
