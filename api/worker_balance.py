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
"""

import asyncio
import logging
import mmap
import socket
from typing import Any

from uvicorn.server import Server

log = logging.getLogger("kern.server")

# How long a worker with more connections than another leaves a new one for it: long enough
# for a busy event loop to come round (Python hands the GIL over every 5 ms), short enough not
# to be noticed when the other worker does not take it.
DEFER_SECONDS = 0.01
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
        """gunicorn's pre_fork hook: give the worker about to be forked the table and a slot
        (read by KernWorker, api/server.py)."""
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


class BalancedServer(Server):
    """uvicorn's server, accepting from gunicorn's sockets one connection at a time, and only
    when no other worker holds fewer (or after `DEFER_SECONDS`)."""

    def __init__(self, config: Any, *, shares: Shares, slot: int) -> None:
        super().__init__(config=config)
        self.shares = shares
        self.slot = slot
        self._listening: list[socket.socket] = []
        self._deferred: set[int] = set()
        # Connections being handed to uvicorn (asyncio keeps only weak references to tasks).
        self._handing: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # The lifespan and the server's state as uvicorn sets them up, without its own
        # listening (which would take every waiting connection at once).
        await super().startup(sockets=[])
        if not self.started or not sockets:
            return
        loop = asyncio.get_running_loop()
        for sock in sockets:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._ready, sock)
            self._listening.append(sock)
        self.shares.publish(self.slot, 0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_listening()
        await super().shutdown(sockets=sockets)

    async def on_tick(self, counter: int) -> bool:
        # Connections close without telling the table; ten times a second it is brought up
        # to date, so another worker does not hold back for connections long gone.
        self.shares.publish(self.slot, len(self.server_state.connections) + len(self._handing))
        should_exit: bool = await super().on_tick(counter)
        return should_exit

    def _stop_listening(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._listening:
            loop.remove_reader(sock.fileno())
        self._listening = []
        # A worker that is stopping takes no more connections: none should wait for it.
        self.shares.publish(self.slot, Shares.FREE)

    def _ready(self, sock: socket.socket) -> None:
        """Connections wait on `sock`: take them while no other worker holds fewer, and leave
        the rest a moment to a less busy one (after which this worker takes the next itself)."""
        loop = asyncio.get_running_loop()
        fd = sock.fileno()
        waited = fd in self._deferred
        self._deferred.discard(fd)
        while True:
            # Those still being handed to uvicorn are not among its connections yet.
            held = len(self.server_state.connections) + len(self._handing)
            self.shares.publish(self.slot, held)
            if not waited and held > self.shares.fewest():
                self._deferred.add(fd)
                loop.remove_reader(fd)
                loop.call_later(DEFER_SECONDS, self._listen_again, sock)
                return
            waited = False
            try:
                connection, _address = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return  # none left: another worker took it, or the client gave up
            except OSError:
                # Out of file descriptors or memory, as asyncio's own accept logs it; the
                # connection stays queued for when there is room again.
                log.exception("could not accept a connection")
                loop.remove_reader(fd)
                loop.call_later(1.0, self._listen_again, sock)
                return
            connection.setblocking(False)
            task = loop.create_task(loop.connect_accepted_socket(self._protocol, connection))
            self._handing.add(task)
            task.add_done_callback(self._handed)

    def _handed(self, task: asyncio.Task[Any]) -> None:
        self._handing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The client went away before its connection was set up: nothing to answer.
            log.debug("connection lost while accepted", exc_info=task.exception())

    def _listen_again(self, sock: socket.socket) -> None:
        if sock in self._listening:
            asyncio.get_running_loop().add_reader(sock.fileno(), self._ready, sock)

    def _protocol(self) -> asyncio.Protocol:
        """uvicorn's protocol for a connection, made as its own server makes it."""
        # uvicorn types the class as a bare asyncio.Protocol; its own server calls it the same.
        make: Any = self.config.http_protocol_class
        protocol: asyncio.Protocol = make(
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=asyncio.get_running_loop(),
        )
        return protocol
