"""Running wrk with bench/load.lua: the request files it replays, and the summary it prints."""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("load.lua")
MARKER = "BENCH-JSON "
THREADS = 2
# An answer that takes longer than this counts as an error (wrk's "timeout"): a page that takes
# 5 s is a failure by any measure. Shorter runs get half their length, so a server that stops
# answering is noticed within the run instead of looking like a run without errors.
MAX_TIMEOUT_SECONDS = 5


def timeout_seconds(run_seconds: float) -> int:
    return max(1, min(MAX_TIMEOUT_SECONDS, int(run_seconds / 2)))


@dataclass(frozen=True)
class Request:
    """One request as load.lua replays it; `{client_id}` in the body is made unique per request."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    def line(self) -> str:
        parts = [self.method, self.path, "-" if self.body is None else self.body]
        parts += [f"{name}: {value}" for name, value in self.headers.items()]
        if any("\t" in part or "\n" in part for part in parts):
            raise ValueError(f"tab or newline in a request for {self.path}")
        return "\t".join(parts)


def write_requests(path: Path, requests: Iterable[Request]) -> Path:
    lines = [request.line() for request in requests]
    if not lines:
        raise ValueError(f"no requests for {path.name}")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_requests(path: Path) -> list[Request]:
    """The requests of a request file, back as objects (for checks and the ceiling)."""
    found = []
    for line in path.read_text().splitlines():
        method, target, body, *headers = line.split("\t")
        pairs = dict(header.split(": ", 1) for header in headers)
        found.append(Request(method, target, pairs, None if body == "-" else body))
    return found


@dataclass(frozen=True)
class Result:
    """What one wrk run measured; latencies in milliseconds."""

    requests: int
    seconds: float
    bytes: int
    socket_errors: dict[str, int]
    statuses: dict[int, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    wrk_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def unexpected(self, expected: Iterable[int]) -> int:
        """Responses with a status other than the expected ones (a redirect to the login page
        counts: the learner's cookie did not work)."""
        allowed = set(expected)
        return sum(seen for status, seen in self.statuses.items() if status not in allowed)

    def errors(self, expected: Iterable[int]) -> int:
        return sum(self.socket_errors.values()) + self.unexpected(expected)

    @property
    def silent(self) -> bool:
        """No answer at all in the whole run (a stalled server, not a fast one)."""
        return self.requests == 0

    def unanswered(self, connections: int) -> int:
        """Connections that cannot all have had an answer: fewer answers than connections in a
        whole run means a stalled server. (wrk's own timeout count stays 0 when no answer
        comes back before the run ends.)"""
        return max(0, connections - self.requests)


def parse(output: str) -> Result:
    """The summary line load.lua's done() prints."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError(f"wrk printed no summary:\n{output[-2000:]}")
    errors = dict(data["errors"])
    # wrk's "status" error counts answers of 400 and above, which the statuses already hold.
    errors.pop("status", None)
    latency = data["latency_us"]
    return Result(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        bytes=int(data["bytes"]),
        socket_errors={name: int(count) for name, count in errors.items()},
        statuses={int(status): int(count) for status, count in data["statuses"].items()},
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        max_ms=latency["max"] / 1000,
    )


def command(base_url: str, requests_file: Path, *, connections: int, seconds: float) -> list[str]:
    return [
        "wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", f"{timeout_seconds(seconds)}s", "-s", str(SCRIPT), base_url,
        "--", str(requests_file), secrets.token_hex(4),
    ]  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(base_url: str, requests_file: Path, *, connections: int, seconds: float) -> Result:
    """Run wrk to the end and return its summary, with the CPU wrk itself used."""
    before = _children_cpu()
    done = subprocess.run(  # noqa: S603 (our own arguments)
        command(base_url, requests_file, connections=connections, seconds=seconds),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse(done.stdout)
    return Result(**{**result.__dict__, "wrk_cpu_seconds": _children_cpu() - before})


def start(
    base_url: str, requests_file: Path, *, connections: int, seconds: float
) -> subprocess.Popen[str]:
    """Start wrk in the background (for the soak, which samples memory meanwhile)."""
    return subprocess.Popen(  # noqa: S603 (our own arguments)
        command(base_url, requests_file, connections=connections, seconds=seconds),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ensure_installed() -> None:
    """wrk from Debian's package when it is missing and we may install it; else a clear exit."""
    if shutil.which("wrk"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("bench: installing wrk with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],  # noqa: S607
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        if shutil.which("wrk"):
            return
    raise SystemExit("bench: wrk is not installed; install it with `sudo apt-get install wrk`.")


def version() -> str:
    if not shutil.which("wrk"):
        return "not installed"
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "unknown"
