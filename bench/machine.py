"""What the numbers were measured on: the machine, the software versions and the commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from bench import pgcluster, wrk

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("uvicorn", "fastapi", "starlette", "sqlalchemy", "sqlmodel", "psycopg", "jinja2")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def describe() -> dict[str, str]:
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory_total(),
        "kernel": platform.release(),
        "OS": _os_name(),
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
    except OSError:
        return platform.system()


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version()}
    postgres = subprocess.run(  # noqa: S603 (the installed server's binary)
        [str(pgcluster.bin_dir() / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    found["PostgreSQL"] = postgres.stdout.strip().removeprefix("postgres (PostgreSQL) ")
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["wrk"] = wrk.version()
    return found


def commit() -> str:
    """The commit, and whether the checkout had changes on top of it (read-only git)."""
    head = _git("rev-parse", "--short=12", "HEAD")
    if not head:
        return "unknown (not a git checkout)"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{head} (with uncommitted changes)" if dirty else head


def _git(*args: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (read-only git commands)
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
