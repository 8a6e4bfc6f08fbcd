"""A private, throw-away PostgreSQL cluster on its own port, for the benchmark and fault tests.

The benchmark needs settings the shared server does not have (pg_stat_statements, a small
server's memory), and the outage tests must stop and start PostgreSQL without touching the
server other tests use. Debian ships the server binaries; this wraps initdb and pg_ctl.
There is no library for this in the Python world that works without Docker (testing.postgresql
is unmaintained), hence these few lines.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
# A small server's settings (2 cores; Kern and PostgreSQL together in 250 MiB), the same as
# docker-compose.yml's db service (tests/bench/test_pgcluster.py keeps the two in step).
# - shared_buffers: PostgreSQL's own cache, counted in its memory once touched, which it all is
#   after a while. The operating system's page cache (not counted, given back when memory is
#   short) holds the rest of the database. At 100,000 learners, interleaved runs of the lesson,
#   Vandaag and mark-complete requests were as fast with 16 MB as with 64 MB (within noise).
# - max_logical_replication_workers=0: no logical replication launcher (a process that only
#   waits for subscriptions, which Kern has none of).
# fsync stays on: the outage tests check that acknowledged writes survive a restart.
SERVER = {
    "shared_buffers": "16MB",
    "work_mem": "4MB",
    "max_connections": "60",
    "max_logical_replication_workers": "0",
}
# The benchmark's cluster: the server's settings plus statement counts, on loopback only.
SMALL_SERVER = {
    **SERVER,
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track_utility": "off",
    "pg_stat_statements.max": "1000",
    "listen_addresses": "127.0.0.1",
    "logging_collector": "off",
}


def bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries."""
    versions = sorted((p for p in PG_ROOT.glob("*/bin/pg_ctl")), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root; run its tools as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    return []


@dataclass
class Cluster:
    """One cluster in a temporary directory: `start()`, `stop()`, `restart()`, `remove()`."""

    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=lambda: dict(SMALL_SERVER))
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kern-pg-")))

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kern"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (fixed binaries, our own arguments)
            [*_as_postgres(), *args], check=check, capture_output=True, text=True
        )

    def init(self) -> Cluster:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run(
            str(bin_dir() / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        lines = [f"{key} = '{value}'" for key, value in self.settings.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.directory}'"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")
        return self

    def start(self, *, wait_seconds: float = 30) -> Cluster:
        self._run(
            str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-l",
            str(self.directory / "server.log"), "-w", "-t", str(int(wait_seconds)), "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, *, down_seconds: float = 0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def create_database(self, name: str = "kern") -> None:
        self.psql("postgres", f"CREATE DATABASE {name}")
        self.psql(name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def psql(self, database: str, sql: str) -> str:
        done = self._run(
            str(bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
        )  # fmt: skip
        return done.stdout.strip()

    def pids(self) -> list[int]:
        """The postmaster and all its children (backends, checkpointer, ...)."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
        rest = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [postmaster, *rest]

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(
                str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
                check=False,
            )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.init().start()

    def __exit__(self, *_exc: object) -> None:
        self.remove()
