"""This worker's copy of the practice's identity, for the footer of every page.

Every page shows the practice in its footer, the lesson page too, and the lesson page may not
spend a statement on it (tests/catalog/test_pages_queries.py). So no page reads it: each worker
process keeps a copy, read when it starts and again every REFRESH_SECONDS by a thread of its own
on a connection of its own, never inside a request. A save replaces the saving worker's copy as
soon as it is committed; the other workers show it within REFRESH_SECONDS.

Why not check a version on each request, as the course content cache does? That works there
because the page reads the course row anyway; no row is read by every page (an anonymous
catalog visit reads only courses), so a version check would be a statement on every page. A
minute's delay for a change an admin makes once a year is the cheaper trade. Pages that must be
exact (the privacy statement, later invoices) read the row in their own request.
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from api.practice_identity.models import SINGLETON_ID, Identity, PracticeIdentity

log = logging.getLogger("kern.practice_identity")

REFRESH_SECONDS = 60.0


class IdentityCache:
    """The identity as last read or saved; None until then, or when none was filled in."""

    def __init__(self) -> None:
        self._identity: Identity | None = None
        self._lock = threading.Lock()

    def current(self) -> Identity | None:
        with self._lock:
            return self._identity

    def store(self, identity: Identity | None) -> None:
        with self._lock:
            self._identity = identity

    def load(self, engine: Engine) -> None:
        """Read the stored identity on a connection of its own; keep the copy when that fails."""
        try:
            with Session(engine) as session:
                row = session.get(PracticeIdentity, SINGLETON_ID)
                identity = Identity.of(row) if row is not None else None
        except Exception as error:
            # A footer is never worth failing a worker for: it keeps what it had.
            log.warning("practice identity not refreshed: %s", str(error).partition("\n")[0])
            return
        self.store(identity)

    def keep_fresh(self, engine: Engine, *, seconds: float = REFRESH_SECONDS) -> Callable[[], None]:
        """Reload every `seconds` on a daemon thread; returns the function that stops it."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(seconds):
                self.load(engine)

        thread = threading.Thread(target=run, name="kern-practice-identity", daemon=True)
        thread.start()

        def stop_refreshing() -> None:
            stop.set()
            thread.join(timeout=5)

        return stop_refreshing
