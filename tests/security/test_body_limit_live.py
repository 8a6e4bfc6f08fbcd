"""The body limits on a real server (`kern serve`, uvicorn), over a plain socket.

The test client collects a body before it hands it to the application, so it cannot show that
Kern stops reading. Here the attacker's requests go over TCP as an attacker sends them: a head
declaring 300 MB, and a body sent chunk after chunk without a declared length. Kern answers 413
at once, closes the connection and reads no further, so the sender gets stuck long before the
end (only the sockets' buffers take more).
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.security.body_limit import API_LIMIT, FORM_LIMIT, WEBHOOK_LIMIT
from bench.pgcluster import free_port
from tests.conftest import TEST_SECRET_KEY

MB = 1024 * 1024
ATTACK = 300 * MB
CHUNK = 64 * 1024


@dataclass
class Server:
    port: int
    log: Path


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kern serve` with one uvicorn worker on a free port, on the test database."""
    folder = tmp_path_factory.mktemp("body-limit")
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "MAIL_WORKER_IN_PROCESS": "false",
        "MEDIA_DIR": str(folder / "media"),
        "MAIL_DIR": str(folder / "mail"),
    }
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield Server(port, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Exchange:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the server let us send before it answered and hung up


def request(port: int, head: str, body: Iterable[bytes] = ()) -> Exchange:
    """Send `head`, then the chunks of `body` until the server has answered; what came back."""
    answer = bytearray()
    answered = threading.Event()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:

        def read() -> None:
            try:
                while data := connection.recv(65536):
                    answer.extend(data)
                    if b"\r\n\r\n" in answer:
                        answered.set()
            except OSError:
                pass  # the server reset the connection after its answer
            answered.set()

        reader = threading.Thread(target=read)
        reader.start()
        connection.sendall(head.encode())
        sent = 0
        for chunk in body:
            if answered.is_set():
                break
            try:
                connection.sendall(chunk)
            except OSError:
                break  # it hung up: the rest of the body is not wanted
            sent += len(chunk)
        reader.join(timeout=30)
    top, _, rest = bytes(answer).partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return Exchange(int(lines[0].split()[1]), headers, rest, sent)


def chunked(total: int) -> Iterator[bytes]:
    """`total` bytes of white space in chunked transfer encoding, one chunk at a time."""
    for _ in range(total // CHUNK):
        yield b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_declared_300_mb_body_is_refused_before_a_byte_of_it_is_sent(server: Server) -> None:
    head = (
        "POST /api/v1/practice HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {ATTACK}\r\n\r\n"
    )

    answer = request(server.port, head)

    assert answer.status == 413
    assert answer.headers["connection"] == "close"
    assert json.loads(answer.body)["error"] == "too_large"
    assert _healthy(server.port)


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/api/v1/practice", "application/json", API_LIMIT),
        ("/stripe/webhook", "application/json", WEBHOOK_LIMIT),
        ("/login", "application/x-www-form-urlencoded", FORM_LIMIT),
    ],
)
def test_a_chunked_300_mb_body_is_cut_off_once_it_passes_the_limit(
    server: Server, path: str, content_type: str, limit: int
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )

    answer = request(server.port, head, chunked(ATTACK))

    assert answer.status == 413
    assert answer.headers["connection"] == "close"
    if path == "/login":
        assert answer.headers["content-type"].startswith("text/html")
    else:
        assert json.loads(answer.body)["error"] == "too_large"
    # Kern stopped reading past the limit; what went further only filled the sockets' buffers.
    assert limit < answer.sent < 32 * MB
    assert _healthy(server.port)
    assert "Traceback" not in server.log.read_text()
