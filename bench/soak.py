"""The soak: all six requests in turn at concurrency 32 for ten minutes, memory sampled meanwhile.

Memory growth is measured from the first sample after the warm-up to the last; the issue's
target is no errors and less than 10 % growth.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import servers, wrk

if TYPE_CHECKING:
    from bench.measure import Bench

CONNECTIONS = 32
WARMUP_SECONDS = 30
SAMPLE_SECONDS = 30


def run(bench: Bench) -> dict[str, Any]:
    """Start Kern, warm it up with the mixed requests, then soak for the configured minutes."""
    minutes = bench.options.soak_minutes
    server = bench.start_kern("soak")
    try:
        files = bench.request_files("soak", bench.sample_learners())
        per_page = [wrk.read_requests(path) for path in files.values()]
        mixed = [request for group in zip(*per_page, strict=False) for request in group]
        path = wrk.write_requests(bench.workdir / "soak-mixed.txt", mixed)
        warmup = min(WARMUP_SECONDS, minutes * 6)
        print(f"bench: soak, {warmup:g} s warm-up", flush=True)
        wrk.run(server.base_url, path, connections=CONNECTIONS, seconds=warmup)
        server.wait_idle()  # the soak's connections shared out evenly (Server.wait_idle)
        print(f"bench: soak, {minutes:g} minutes at c={CONNECTIONS}", flush=True)
        return _soak(bench, server, path, minutes)
    finally:
        bench.stop(server)


def _soak(bench: Bench, server: servers.Server, path: Path, minutes: float) -> dict[str, Any]:
    every = min(SAMPLE_SECONDS, minutes * 3)  # every 30 s, or 20 samples in a short soak
    started = time.monotonic()
    samples = [_sample(bench, server, started)]
    process = wrk.start(server.base_url, path, connections=CONNECTIONS, seconds=minutes * 60)
    try:
        while process.poll() is None:
            time.sleep(1)
            if time.monotonic() - started >= len(samples) * every:
                samples.append(_sample(bench, server, started))
        output, errors = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed in the soak:\n{output}\n{errors}")
    samples.append(_sample(bench, server, started))
    result = wrk.parse(output)
    first, last = samples[0], samples[-1]
    return {
        "minutes": minutes,
        "connections": CONNECTIONS,
        "requests": result.requests,
        "rps": round(result.per_second, 1),
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors((200, 201)) + result.unanswered(CONNECTIONS),
        "statuses": {str(status): count for status, count in result.statuses.items()},
        "socket_errors": result.socket_errors,
        "memory_growth": last["kern_pss"] / first["kern_pss"] - 1,
        "postgres_growth": last["postgres_pss"] / first["postgres_pss"] - 1,
        "samples": samples,
    }


def _sample(bench: Bench, server: servers.Server, started: float) -> dict[str, Any]:
    kern = sum(memory.pss for memory in server.memory().values())
    sample = {
        "minute": round((time.monotonic() - started) / 60, 2),
        "kern_pss": kern,
        "postgres_pss": bench.postgres_memory().pss,
    }
    print(f"  soak {sample['minute']:5.1f} min: Kern {kern / 2**20:.1f} MiB PSS", flush=True)
    return sample
