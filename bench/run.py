"""`make bench`: Kern under load on a private PostgreSQL, empty and at scale, beside a bare ceiling.

    .venv/bin/python -m bench.run [--learners 100000] [--duration 10] [--quick] [--soak]

See bench/README.md for what is measured and how long it takes.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import machine, pgcluster, report, soak, wrk
from bench.learners import PAGES
from bench.measure import Bench

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCRATCH = RESULTS / "tmp"  # ignored by git: request files, server logs, quick runs


@dataclass(frozen=True)
class Options:
    learners: int
    empty_learners: int
    sessions: int
    course: str
    duration: float
    warmup: float
    connections: tuple[int, ...]
    pages: tuple[str, ...]
    soak: bool
    soak_only: bool
    soak_minutes: float
    output: Path
    keep: bool
    server_env: dict[str, str]
    command: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=100_000, help="learners seeded at scale")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each")
    parser.add_argument(
        "--connections", default="8,32,128", help="concurrency levels, comma-separated"
    )
    parser.add_argument("--pages", default=",".join(PAGES), help="pages to load, comma-separated")
    parser.add_argument("--empty-learners", type=int, default=800, help="learners when empty")
    parser.add_argument("--sessions", type=int, default=200, help="learners whose cookies rotate")
    parser.add_argument("--course", default="sterke-basis", help="the course the learners follow")
    parser.add_argument("--quick", action="store_true", help="2,000 learners, 3 s runs (develop)")
    parser.add_argument("--soak", action="store_true", help="then soak at c=32 (10 minutes)")
    parser.add_argument("--soak-only", action="store_true", help="seed, then only the soak")
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--output", type=Path, help="results folder (default bench/results)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for Kern's processes, e.g. DB_POOL_SIZE=10 (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep server logs and request files")
    args = parser.parse_args(argv)
    if args.quick:
        args.learners, args.duration, args.warmup = min(args.learners, 2000), 3, 1
    connections = tuple(int(value) for value in args.connections.split(",") if value.strip())
    pages = tuple(page.strip() for page in args.pages.split(",") if page.strip())
    if unknown := set(pages) - set(PAGES):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))} (known: {', '.join(PAGES)})")
    official = (
        not args.quick
        and not args.env
        and args.learners == 100_000
        and args.duration >= 10
        and len(pages) == len(PAGES)
    )
    return Options(
        learners=args.learners,
        empty_learners=args.empty_learners,
        sessions=args.sessions,
        course=args.course,
        duration=args.duration,
        warmup=args.warmup,
        connections=connections,
        pages=pages,
        soak=args.soak or args.soak_only,
        soak_only=args.soak_only,
        soak_minutes=args.soak_minutes,
        # Development runs go where git does not look, so they never replace a real result.
        output=args.output or (RESULTS if official else SCRATCH),
        keep=args.keep,
        server_env=dict(_pair(parser, value) for value in args.env),
        command=" ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
    )


def _pair(parser: argparse.ArgumentParser, value: str) -> tuple[str, str]:
    name, sep, setting = value.partition("=")
    if not sep or not name:
        parser.error(f"--env takes NAME=VALUE, not {value!r}")
    return name.upper(), setting


def _stop_on_sigterm() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C does, so the clean-up below still runs."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


def _run(options: Options, results: dict[str, Any], workdir: Path) -> float:
    """Every step, with the cluster removed and the servers stopped however it ends."""
    with pgcluster.Cluster() as cluster, Bench(options, cluster, workdir) as bench:
        results["pages"] = list(bench.pages)
        if not options.soak_only:
            bench.fresh_database(options.empty_learners)
            results["phases"].append(bench.phase("empty"))
        seed_seconds = bench.fresh_database(options.learners)
        if not options.soak_only:
            results["phases"].append(bench.phase("scale"))
        if options.soak:
            results["soak"] = soak.run(bench)
        results["transfer"] = bench.transfer
        results["settings"] = bench.settings_used()
    return seed_seconds


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    wrk.ensure_installed()
    _stop_on_sigterm()
    started, clock = datetime.now().astimezone(), time.monotonic()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=SCRATCH))
    results: dict[str, Any] = {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "versions": machine.versions(),
        "commit": machine.commit(),
        "pages": [],
        "phases": [],
    }
    print(f"bench: working in {workdir}", flush=True)
    try:
        seed_seconds = _run(options, results, workdir)
    except BaseException as exc:
        how = "stopped" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        print(f"bench: {how}; server logs and request files are in {workdir}", file=sys.stderr)
        raise
    if options.keep:
        print(f"bench: server logs and request files are in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    minutes = (time.monotonic() - clock) / 60
    results["summary"] = (
        f"`{options.command}` at commit {results['commit']}, started {results['started_at']}; "
        f"took {minutes:.0f} min, of which seeding {options.learners:,} learners "
        f"{seed_seconds / 60:.1f} min."
    )
    stem = results["date"] + ("-soak" if options.soak_only else "")
    markdown, raw = report.write(results, options.output, stem)
    print(f"bench: wrote {markdown} and {raw}")
    for target in report.targets(results):
        verdict = "met    " if target["met"] else "NOT MET"
        print(f"  {verdict} {target['target']}: {target['measured']}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
