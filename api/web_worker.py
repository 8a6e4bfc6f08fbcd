"""The worker gunicorn runs for Kern: uvicorn's, with Kern's options, and a server that takes a
new connection only when no other worker holds fewer (api/worker_balance.py).

Imported by the zygote that forks the workers (api/server.py), never by the supervisor: what
the supervisor imports it keeps for as long as it runs, and uvicorn's and asyncio's pages, which
every worker writes to, would be kept there a third time
(docs/performance.md#the-application-built-in-a-zygote).
"""

import asyncio
import logging
import socket
import sys
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from api.worker_balance import Shares

log = logging.getLogger("kern.server")

# How long a worker with more connections than another leaves a new one for it: long enough
# for a busy event loop to come round (Python hands the GIL over every 5 ms), short enough not
# to be noticed when the other worker does not take it.
DEFER_SECONDS = 0.01
# How often a worker that left waiting connections to another looks whether it is still ahead:
# in a burst the other takes its share within a millisecond or two and is then ahead itself.
RECHECK_SECONDS = 0.001


class KernWorker(UvicornWorker):  # type: ignore[misc]  # gunicorn and uvicorn-worker lack types
    """uvicorn inside gunicorn, with the options `kern serve` gives plain uvicorn."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012 (read-only, as in UvicornWorker)
        **UvicornWorker.CONFIG_KWARGS,
        "access_log": False,  # Kern logs each request itself, without query strings
        "server_header": False,
        "proxy_headers": True,  # trusted from forwarded_allow_ips (below) only
        # Kern has no WebSocket routes: no worker needs a WebSocket library in its memory
        # (uvicorn's "auto" imports one); an upgrade request is answered as plain HTTP.
        "ws": "none",
    }

    # The table of connections the workers hold, and this worker's slot in it: given to the
    # supervisor's record before the fork (Shares.pre_fork) and taken over by `from_record`.
    kern_shares: Shares | None = None
    kern_slot: int | None = None

    async def _serve(self) -> None:
        """UvicornWorker's own, with a server that takes a new connection only when no other
        worker holds fewer (api/worker_balance.py)."""
        if self.kern_shares is None or self.kern_slot is None or self.config.is_ssl:
            await super()._serve()
            return
        self.config.app = self.wsgi
        server = BalancedServer(config=self.config, shares=self.kern_shares, slot=self.kern_slot)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def from_record(record: Any) -> KernWorker:
    """The worker for the supervisor's record of it (api/server.py, `WorkerRecord`), made in
    the process that will run it. The supervisor watches the record's heartbeat file and gave
    it a slot in the connection table: the worker keeps both."""
    worker = KernWorker(
        record.age, record.ppid, record.sockets, record.app, record.timeout, record.cfg, record.log
    )
    worker.tmp.close()  # its own new heartbeat file, which nobody watches
    worker.tmp = record.tmp
    worker.kern_shares = record.kern_shares
    worker.kern_slot = record.kern_slot
    worker.pid = record.pid
    return worker


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
        self.shares.publish(self.slot, self._held())
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
            held = self._held()
            self.shares.publish(self.slot, held)
            if not waited and held > self.shares.fewest():
                self._deferred.add(fd)
                loop.remove_reader(fd)
                deadline = loop.time() + DEFER_SECONDS
                loop.call_later(RECHECK_SECONDS, self._recheck, sock, deadline)
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

    def _held(self) -> int:
        """The connections this worker holds, with those still being handed to uvicorn (not
        among its connections yet)."""
        return len(self.server_state.connections) + len(self._handing)

    def _recheck(self, sock: socket.socket, deadline: float) -> None:
        """While this worker leaves the waiting connections to another: listen again once no
        worker holds fewer (the other has taken its share), or at `deadline` take the next one
        itself. Waiting out the whole deadline each time, a burst onto idle workers went in at
        two connections per worker per deadline, both leaving the rest to the other: 128 new
        connections took 330 ms to be answered."""
        if sock not in self._listening:
            return
        loop = asyncio.get_running_loop()
        if loop.time() >= deadline:
            self._listen_again(sock)  # still marked deferred: takes the next one itself
        elif self._held() <= self.shares.fewest():
            self._deferred.discard(sock.fileno())
            self._listen_again(sock)
        else:
            loop.call_later(RECHECK_SECONDS, self._recheck, sock, deadline)

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
