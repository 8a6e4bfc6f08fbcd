"""New connections go to the worker that holds the fewest (docs/performance.md#balanced-workers).

All of gunicorn's workers wait on the one listening socket the supervisor opened, and the event
loop of the first to wake takes every connection that is waiting. A burst of new connections
(a browser opening several, a proxy filling its pool, a load test) thus often lands on one
worker: measured with 32 connections, 26 on one worker and 6 on the other. Each worker has one
core, so the requests on the crowded one wait four times as long, and the median and the slow
tail of a page depend on how the connections happened to fall, not on Kern.

Here each worker accepts connections itself, and before each one compares how many it holds
with the others, in a small table the supervisor shares with its workers. It takes them while
no worker holds fewer; one that holds more than the least busy one leaves the next connection
to it for a moment (`DEFER_SECONDS`), and takes it itself only if it is still waiting then. A
stopped or hung worker thus holds each new connection up by that moment, no longer: while it
does not accept, the others take a waiting connection every 10 ms (until gunicorn replaces it,
after its 30 s timeout), which a burst of browsers notices and a steady load does not.

Written here because neither gunicorn nor uvicorn balances its workers (gunicorn leaves it to the
kernel, whose SO_REUSEPORT spreads connections by a hash, at random) and no library adds it to
uvicorn's worker; this is least-connections balancing as proxies do it, for one machine.

This module holds the table, which the supervisor makes and imports without uvicorn; the worker's
side, the server that consults it, is `BalancedServer` in api/web_worker.py.
"""

import mmap
from typing import Any

_COUNTER_BYTES = 8


class Shares:
    """How many connections each worker holds, in memory shared by the supervisor and the
    workers it forks. A worker owns one slot, given by the supervisor before the fork; a free
    slot holds FREE."""

    FREE = -1

    def __init__(self, slots: int) -> None:
        self._memory = mmap.mmap(-1, slots * _COUNTER_BYTES)  # anonymous, shared across fork
        self._counts = memoryview(self._memory).cast("q")
        for slot in range(slots):
            self._counts[slot] = self.FREE
        # The workers' ages by slot: the supervisor's own bookkeeping, not shared.
        self._owners: list[int | None] = [None] * slots

    def claim(self, owner: int) -> int | None:
        """In the supervisor, before a fork: a free slot for the worker `owner` (its age), set
        to no connections; None when every slot is taken (more workers than planned)."""
        for slot, held in enumerate(self._owners):
            if held is None:
                self._owners[slot] = owner
                self._counts[slot] = 0
                return slot
        return None

    def release(self, owner: int) -> None:
        """In the supervisor, when the worker `owner` has exited: its slot is free again, and
        no worker holds back for it."""
        for slot, held in enumerate(self._owners):
            if held == owner:
                self._owners[slot] = None
                self._counts[slot] = self.FREE

    def pre_fork(self, _arbiter: Any, worker: Any) -> None:
        """gunicorn's pre_fork hook: give the supervisor's record of the worker about to be
        forked the table and a slot (which the KernWorker made from it takes over,
        api/web_worker.py)."""
        worker.kern_shares = self
        worker.kern_slot = self.claim(worker.age)

    def child_exit(self, _arbiter: Any, worker: Any) -> None:
        """gunicorn's child_exit hook: the worker has exited."""
        self.release(worker.age)

    def publish(self, slot: int, connections: int) -> None:
        self._counts[slot] = connections

    def fewest(self) -> int:
        """The fewest connections a running worker holds."""
        return min((count for count in self._counts if count != self.FREE), default=0)
