"""Practice reminders: on the days and at the times she chose, a discreet nudge by mail, by
push notification or both.

Each due preference row is locked while it is handled (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite's single writer does the same there), and its message is keyed by the occasion, so a
second worker or a restart never queues the same reminder twice. Every handled row moves on to
its next occasion, whether a mail went out or not.
"""

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.clock import local_day
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.i18n import TIMEZONE
from api.progress.models import PracticeLog
from api.push import service as push
from api.reminders import emails
from api.reminders.models import MailPreference
from api.reminders.service import next_occurrence, times_of

BATCH_SIZE = 200
# A reminder this late (the worker was down) is skipped: "practise now" at midnight for an
# 18:00 reminder would be a nuisance, not a help.
TOO_LATE = timedelta(hours=2)


def occasion_key(user_id: int, due: datetime) -> str:
    """The outbox key of one reminder: her id and the Amsterdam day and time it was due."""
    local = due.astimezone(TIMEZONE)
    return f"reminder:{user_id}:{local.date().isoformat()}T{local:%H:%M}"


def _due(session: Session, now: datetime) -> list[MailPreference]:
    query = (
        select(MailPreference)
        .where(col(MailPreference.next_reminder_at) <= now)
        .order_by(col(MailPreference.next_reminder_at))
        .limit(BATCH_SIZE)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is handling right now are left to it instead of waited for.
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())


def _practised(session: Session, user_ids: list[int], days: set[date]) -> set[tuple[int, date]]:
    """Which of these people practised on which of these Amsterdam days."""
    rows = session.exec(
        select(col(PracticeLog.user_id), col(PracticeLog.practised_on))
        .where(col(PracticeLog.user_id).in_(user_ids), col(PracticeLog.practised_on).in_(days))
        .distinct()
    ).all()
    return {(user_id, day) for user_id, day in rows}


def _enrolled(session: Session, user_ids: list[int]) -> set[int]:
    """Which of these people follow at least one course."""
    rows = session.exec(
        select(col(Enrolment.user_id))
        .where(
            col(Enrolment.user_id).in_(user_ids),
            col(Enrolment.status) == EnrolmentStatus.active.value,
        )
        .distinct()
    ).all()
    return set(rows)


def _queue_timely(
    session: Session,
    settings: Settings,
    timely: dict[int, datetime],
    choices: dict[int, MailPreference],
) -> int:
    """Queue the reminders of these people (user id: due moment) who still need one: they
    follow a course and have not practised yet that day. Three reads for the whole batch, and
    one for the devices of each who chose push notifications."""
    practised = _practised(session, list(timely), {local_day(due) for due in timely.values()})
    enrolled = _enrolled(session, list(timely))
    users = {
        user.id: user for user in session.exec(select(User).where(col(User.id).in_(list(timely))))
    }
    queued = 0
    for user_id, due in sorted(timely.items()):
        user = users.get(user_id)
        if user and user_id in enrolled and (user_id, local_day(due)) not in practised:
            key = occasion_key(user_id, due)
            if choices[user_id].reminder_mail:
                queued += emails.practice_reminder(session, settings, user=user, key=key)
            if choices[user_id].reminder_push:
                queued += push.queue(
                    session,
                    user=user,
                    kind="practice_reminder",
                    body=emails.REMINDER_PUSH,
                    path="/today",
                    key=key,
                )
    return queued


def _handle(session: Session, settings: Settings, rows: list[MailPreference], now: datetime) -> int:
    """Queue the reminders of one batch that are still worth sending; advance every row."""
    # Late occasions are skipped, so only the days of timely ones need looking up.
    timely = {
        row.user_id: due
        for row in rows
        if (due := row.next_reminder_at) is not None and now - due <= TOO_LATE
    }
    choices = {row.user_id: row for row in rows}
    queued = _queue_timely(session, settings, timely, choices) if timely else 0
    for row in rows:
        # After `now` as well as after `due`, so a row that was late does not come back
        # for each occasion it missed.
        row.next_reminder_at = next_occurrence(row.reminder_weekdays, times_of(row), after=now)
        session.add(row)
    session.flush()
    return queued


def queue_practice_reminders(session: Session, settings: Settings, *, now: datetime) -> int:
    """Queue the reminders that are due; how many were queued."""
    queued = 0
    while True:
        rows = _due(session, now)
        if rows:
            queued += _handle(session, settings, rows, now)
        # Every handled row now lies after `now`, so the next read returns only new rows.
        if len(rows) < BATCH_SIZE:
            return queued
