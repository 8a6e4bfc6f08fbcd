"""The servers under test, each started as its own process group so it can be stopped whole."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import procstat

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        """The worker processes: the supervisor's children that run the app."""
        return [
            pid
            for pid in procstat.children(self.pid)
            if "resource_tracker" not in procstat.command_line(pid)
        ]

    def cpu_seconds(self) -> float:
        return procstat.tree_cpu_seconds(self.pid)

    def memory(self) -> dict[str, procstat.Memory]:
        """Per process: the supervisor and each worker."""
        found = {"supervisor": procstat.memory(self.pid)}
        for number, pid in enumerate(self.workers(), start=1):
            found[f"worker {number}"] = procstat.memory(pid)
        return found

    def wait_idle(self, timeout_seconds: float = 5) -> bool:
        """Wait until the server holds no connection (`wait_idle`)."""
        return wait_idle(self.port, timeout_seconds)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, *, grace_seconds: float = 15) -> None:
        """SIGTERM to the group (the workers finish their requests), SIGKILL when it takes too
        long."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def start(
    name: str,
    argv: list[str],
    *,
    port: int,
    env: dict[str, str],
    log: Path,
    workers: int,
    timeout_seconds: float = 60,
) -> Server:
    """Start the server in a new session and wait until /healthz answers and all workers run."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own arguments)
            argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, port, log)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        if len(server.workers()) >= workers and _answers(f"{server.base_url}/healthz"):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(
        f"{name} did not answer within {timeout_seconds:.0f} s:\n{server.log_tail()}"
    )


def wait_idle(port: int, timeout_seconds: float = 5) -> bool:
    """Wait until the server on `port` holds no connection; whether it came to that in time.

    wrk stops with requests in flight: for 10-30 ms after it exits, a worker is still answering
    them and holds their connections, and each worker takes a share of new connections by those
    it holds (api/worker_balance.py). A run started then put most of its connections on the
    worker that had finished first (8 and 0 of 8, 19 and 13 of 32) for its whole length, which
    moved its median by up to a third."""
    deadline = time.monotonic() + timeout_seconds
    while procstat.connections_held(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
