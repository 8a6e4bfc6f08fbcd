"""How long a burst of new connections onto idle workers waits for its first answers.

    .venv/bin/python -m bench.burst                       # 128 connections, 5 rounds
    .venv/bin/python -m bench.burst --connections 32 --rounds 10

Starts Kern (`kern serve --workers 2`, on a private PostgreSQL cluster with 200 learners) and
the ceiling as `make bench` does, then for each: opens the connections at once, sends
`GET /healthz` on each and records when each answer starts, from the first connection's
opening. The answer is trivial, so what is measured is how fast the two workers take the
connections in (docs/performance.md#balanced-workers). It prints the median, the 90th
percentile and the slowest answer per round.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import tempfile
import time
from pathlib import Path

from bench import pgcluster, run, servers
from bench.measure import Bench


def burst(port: int, connections: int) -> list[float]:
    """Seconds from the first connection's opening to each connection's first answer."""
    selector = selectors.DefaultSelector()
    started = time.monotonic()
    clients = []
    try:
        for number in range(connections):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            client.setblocking(False)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            clients.append(client)
            selector.register(client, selectors.EVENT_READ, number)
        answered: dict[int, float] = {}
        while len(answered) < connections:
            ready = selector.select(timeout=10)
            if not ready:
                raise RuntimeError(f"{connections - len(answered)} connections got no answer")
            for key, _events in ready:
                answered[key.data] = time.monotonic() - started
                selector.unregister(key.fileobj)
        return sorted(answered.values())
    finally:
        for client in clients:
            client.close()
        selector.close()


def _line(name: str, seconds: list[float]) -> str:
    def ms(share: float) -> float:
        return seconds[min(len(seconds) - 1, int(len(seconds) * share))] * 1000

    return f"{name:<8} median {ms(0.5):6.1f} ms   p90 {ms(0.9):6.1f} ms   slowest {ms(1):6.1f} ms"


def _rounds(name: str, server: servers.Server, connections: int, rounds: int) -> None:
    for _ in range(rounds):
        servers.wait_idle(server.port)
        print(_line(name, burst(server.port, connections)), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--connections", type=int, default=128, help="connections per burst")
    parser.add_argument("--rounds", type=int, default=5, help="bursts per server")
    args = parser.parse_args(argv)
    with (
        pgcluster.Cluster() as cluster,
        Bench(run.parse_args(["--learners", "200"]), cluster, Path(tempfile.mkdtemp())) as bench,
    ):
        bench.fresh_database(200)
        kern = bench.start_kern("burst")
        _rounds("kern", kern, args.connections, args.rounds)
        bench.stop(kern)
        ceiling = bench.start_ceiling(bench.ceiling_bytes)
        _rounds("ceiling", ceiling, args.connections, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
