"""The mail worker: queues scheduled mail and push notifications, answers account requests
(sign-up, reset and sign-in links) and delivers the outbox (mails and pushes), round after round.
Beside it, on a thread of its own so that no mail waits for a long video, it converts uploaded
videos into adaptive streams (api/media/transcode.py), one after another.

`kern worker` runs it as its own process (one per deployment is enough, more are safe); in
development the server runs it on a thread, so `make run` needs nothing else.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.accounts import requests as account_requests
from api.attention.summary import queue_attention_summaries
from api.config import Settings
from api.db import WRITE_INTENT, utcnow
from api.intake.service import queue_reminders as queue_intake_reminders
from api.mail import outbox
from api.media import transcode
from api.payments import plans
from api.ratelimit import service as ratelimit
from api.reminders.modules import queue_module_openings
from api.reminders.practice import queue_practice_reminders

log = logging.getLogger("kern.worker")

# How often the worker looks for due reminders and opened modules; mail waits at most this.
SCHEDULE_EVERY = timedelta(minutes=1)
PURGE_EVERY = timedelta(hours=1)


@dataclass
class Worker:
    """One worker: `run_once` for a single round (tests, `--once`), `run` until stopped."""

    factory: sessionmaker[Session]
    settings: Settings
    poll_seconds: float = 5.0
    clock: Callable[[], datetime] = utcnow
    _scheduled_at: datetime | None = field(default=None, init=False)
    _purged_at: datetime | None = field(default=None, init=False)

    def schedule(self, now: datetime) -> int:
        """Queue the reminders (practice, intake), module mails and weekly summaries due at `now`,
        and pause the payment plans whose grace period is over; how many mails were queued."""
        queued = 0
        jobs = (
            queue_practice_reminders,
            queue_module_openings,
            queue_attention_summaries,
            queue_intake_reminders,
            plans.pause_overdue,
        )
        for job in jobs:
            with self.factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
                queued += job(session, self.settings, now=now)
        return queued

    def run_once(self, now: datetime | None = None) -> outbox.Report:
        """Schedule (when it is time to), answer account requests, then deliver everything due."""
        moment = now or self.clock()
        if self._scheduled_at is None or moment - self._scheduled_at >= SCHEDULE_EVERY:
            self._scheduled_at = moment
            try:
                if queued := self.schedule(moment):
                    log.info("queued %s scheduled mail(s)", queued)
            except Exception:
                # Mail already queued (receipts, reset links) must not wait for a scheduling bug.
                log.exception("scheduling reminders and module mails failed; delivering anyway")
        try:
            # Every round, not every minute: someone is waiting for her link.
            account_requests.answer_waiting(self.factory, self.settings, now=moment)
        except Exception:
            log.exception("answering account requests failed; delivering anyway")
        if self._purged_at is None or moment - self._purged_at >= PURGE_EVERY:
            self._purged_at = moment
            with self.factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
                outbox.purge(session, now=moment)
                ratelimit.purge(session, now=moment)
        # Read the clock again: the links just answered were queued after `moment`, and go out
        # in this round.
        return outbox.deliver_all(self.factory, self.settings, now=now or self.clock())

    def convert_videos(self) -> int:
        """Make the streams of every video waiting for one; how many were done."""
        done = 0
        while transcode.process_next(self.factory, self.settings) is not None:
            done += 1
        return done

    def run(self, stop: threading.Event) -> None:
        """Rounds every `poll_seconds` until `stop` is set; a failing round is logged and the
        next one tries again (the database may be restarting). Videos are converted meanwhile
        on a second thread."""
        log.info("mail worker started (every %ss)", self.poll_seconds)
        videos = threading.Thread(
            target=self._convert_until, args=(stop,), name="kern-video-worker", daemon=True
        )
        videos.start()
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("mail worker round failed; trying again in %ss", self.poll_seconds)
            stop.wait(self.poll_seconds)
        log.info("mail worker stopped")

    def _convert_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.convert_videos()
            except Exception:
                log.exception("converting videos failed; trying again in %ss", self.poll_seconds)
            stop.wait(self.poll_seconds)


def start_in_thread(worker: Worker) -> Callable[[], None]:
    """Run the worker on a daemon thread; returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="kern-mail-worker", daemon=True)
    thread.start()

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=worker.poll_seconds + 15)

    return stop_worker
