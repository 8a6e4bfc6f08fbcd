"""The practice log: what the learner practised, stored once however often her browser sends it,
and read back as a list, a week and a streak."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, case, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson, Step, StepKind
from api.clock import local_day, week_start
from api.consent import service as consent_service
from api.db import Upsert, json_rows
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.kit.keyset import Cursor, newest_first
from api.progress.models import MAX_NOTE_LENGTH, PracticeLog

TABLE: Table = PracticeLog.__table__  # type: ignore[attr-defined]

# A log may arrive late (it waited offline in the browser), but not from far in the past, and a
# phone's clock may run a little ahead of the server's.
OLDEST_ACCEPTED = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=10)
# Streaks are counted over at most this many days, which keeps the query small; a longer
# streak shows as this number.
STREAK_WINDOW_DAYS = 366


@dataclass(frozen=True)
class PracticeInput:
    """A practice as the browser reports it."""

    client_id: str
    step_id: int
    practised_at: datetime
    duration_seconds: int
    sets_done: int
    reps_done: int
    effort: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PracticeEntry:
    """A logged practice with the course and lesson it belongs to, for lists."""

    log: PracticeLog
    course_title: str
    course_slug: str
    course_language: str
    lesson_slug: str | None


def _when(practised_at: datetime, now: datetime) -> datetime:
    if practised_at.tzinfo is None:
        raise FormError({"practised_at": _("Give the time with its time zone.")})
    if practised_at > now + CLOCK_SKEW or practised_at < now - OLDEST_ACCEPTED:
        raise FormError(
            {
                "practised_at": _(
                    "This practice has a time we cannot accept; check the clock of your device."
                )
            }
        )
    return min(practised_at, now)


# What a logged practice comes back as: its row (read by attribute, as an ORM object would be).
Logged = Row[Any]

# Built once: logging a practice is one of the two busiest writes. A repeat of a client id
# inserts nothing and returns no row.
_LOG = Upsert(TABLE, keys=["user_id", "client_id"], returning=list(TABLE.c))
_STORED = sa_select(*TABLE.c).where(
    TABLE.c.user_id == bindparam("user_id"), TABLE.c.client_id == bindparam("client_id")
)


def log(
    session: Session, *, user: User, entry: PracticeInput, now: datetime
) -> tuple[Logged, bool]:
    """Store a practice of a step she may open; a repeat of the same client id returns the
    stored one. Returns the log and whether it is new. Without her consent to keeping health
    data nothing is stored, a repeat included: ConsentRequired."""
    return _log(
        session,
        user=user,
        entry=entry,
        now=now,
        open_step=lambda: catalog.open_step(session, step_id=entry.step_id, viewer=user, now=now),
    )


def log_read(
    session: Session,
    *,
    user: User,
    entry: PracticeInput,
    now: datetime,
    step: catalog.StepRow | None,
) -> tuple[Logged, bool]:
    """`log` for a step that the statement reading her session found already (None: no such
    step), by the same rules."""
    return _log(
        session,
        user=user,
        entry=entry,
        now=now,
        open_step=lambda: catalog.opened_step(step, viewer=user, now=now),
    )


def _log(
    session: Session,
    *,
    user: User,
    entry: PracticeInput,
    now: datetime,
    open_step: Callable[[], tuple[catalog.CourseOutline, Lesson, Step]],
) -> tuple[Logged, bool]:
    # Checked on the account row the session lookup read: no statement of its own.
    consent_service.require_health_consent(user)
    try:
        _outline, lesson, opened = open_step()
    except (NotFound, catalog.LessonLocked):
        # A repeat of a log stored before the step was deleted or the enrolment ended is still
        # that stored log: the browser must hear that it arrived, not that it was refused.
        stored = _stored(session, user=user, client_id=entry.client_id)
        if stored is None:
            raise
        return stored, False
    if opened.kind == StepKind.text:
        raise FormError({"step_id": _("Only exercises and breathing can be logged.")})
    practised_at = _when(entry.practised_at, now)
    row = _LOG(
        session,
        {
            "user_id": user.id,
            "client_id": entry.client_id,
            "step_id": opened.id,
            "lesson_id": lesson.id,
            "course_id": lesson.course_id,
            "step_title": opened.title[:200],
            "step_kind": opened.kind,
            "practised_at": practised_at,
            "practised_on": local_day(practised_at),
            "duration_seconds": entry.duration_seconds,
            "sets_done": entry.sets_done,
            "reps_done": entry.reps_done,
            "effort": entry.effort,
            "note": entry.note.strip()[:MAX_NOTE_LENGTH],
            "created_at": now,
        },
    )
    if row is not None:
        return row, True
    # The insert met an existing row, so this finds it.
    stored = _stored(session, user=user, client_id=entry.client_id)
    assert stored is not None  # noqa: S101 (the row that refused the insert)
    return stored, False


def _stored(session: Session, *, user: User, client_id: str) -> Logged | None:
    return session.execute(_STORED, {"user_id": user.id, "client_id": client_id}).first()


def next_cursor(entry: PracticeEntry) -> Cursor:
    """The cursor of the page that follows the one ending with `entry`."""
    # Several logs can share a moment (one practice of two steps sent together), so the id
    # is part of the cursor: the moment alone would skip some.
    return Cursor(entry.log.practised_at, id_of(entry.log))


def entries(
    session: Session,
    *,
    user_id: int,
    course_id: int | None = None,
    before: datetime | None = None,
    cursor: Cursor | None = None,
    limit: int = 50,
) -> list[PracticeEntry]:
    """Her logs, newest first (by moment, then id), optionally of one course, before a moment
    and after a page's cursor (one statement)."""
    # Five columns are more than SQLModel's typed select() takes; SQLAlchemy's does the same.
    query = (
        sa_select(
            PracticeLog, col(Course.title), col(Course.slug), col(Course.language), col(Lesson.slug)
        )
        .join(Course, col(Course.id) == PracticeLog.course_id)
        .outerjoin(Lesson, col(Lesson.id) == PracticeLog.lesson_id)
        .where(col(PracticeLog.user_id) == user_id)
    )
    if course_id is not None:
        query = query.where(col(PracticeLog.course_id) == course_id)
    if before is not None:
        query = query.where(col(PracticeLog.practised_at) < before)
    query = newest_first(
        query, at=col(PracticeLog.practised_at), row_id=col(PracticeLog.id), after=cursor
    )
    rows = session.execute(query.limit(limit)).all()
    return [PracticeEntry(*row) for row in rows]


@dataclass(frozen=True)
class DayTotal:
    day: date
    count: int
    seconds: int


def week(session: Session, *, user_id: int, monday: date) -> list[DayTotal]:
    """Practices and seconds practised on each day of the week starting on `monday`, Monday
    to Sunday (one statement)."""
    rows = session.exec(
        select(
            col(PracticeLog.practised_on),
            func.count(col(PracticeLog.id)),
            func.coalesce(func.sum(PracticeLog.duration_seconds), 0),
        )
        .where(
            PracticeLog.user_id == user_id,
            col(PracticeLog.practised_on) >= monday,
            col(PracticeLog.practised_on) <= monday + timedelta(days=6),
        )
        .group_by(col(PracticeLog.practised_on))
    ).all()
    totals: dict[date, tuple[int, int]] = {day: (count, int(secs)) for day, count, secs in rows}
    days = [monday + timedelta(days=i) for i in range(7)]
    return [DayTotal(day, *totals.get(day, (0, 0))) for day in days]


@dataclass(frozen=True)
class PracticeSummary:
    """What "Vandaag" shows of her practice: the days she practised within the streak window,
    and how often she did each step today."""

    days: set[date]
    done_today: dict[int, int]


# One row per earlier day she practised, and one per step she did today (with its count); built
# once, as "Vandaag" runs it on every visit.
_TODAY_STEP = case((TABLE.c.practised_on == bindparam("today"), TABLE.c.step_id))


def _summary_of_user(user_id: Any) -> Any:
    return (
        sa_select(TABLE.c.practised_on, _TODAY_STEP, func.count())
        .where(TABLE.c.user_id == user_id, TABLE.c.practised_on > bindparam("since"))
        .group_by(TABLE.c.practised_on, _TODAY_STEP)
    )


_SUMMARY = _summary_of_user(bindparam("user_id"))


def summary_json(user_id: Any) -> Any:
    """The same rows as a `json_rows` subquery, for "Vandaag", which reads them with its
    courses; `user_id` is a parameter or an uncorrelated expression (the rows are grouped in a
    subquery of their own, which cannot see the outer statement)."""
    rows = _summary_of_user(user_id).subquery()
    return sa_select(json_rows(*rows.c)).select_from(rows).scalar_subquery()


def summary_params(now: datetime) -> dict[str, Any]:
    """The summary's parameters besides her id (also of a statement with `summary_json`)."""
    today = local_day(now)
    return {"today": today, "since": today - timedelta(days=STREAK_WINDOW_DAYS)}


def summary(session: Session, *, user_id: int, now: datetime) -> PracticeSummary:
    """Her practice days and today's count per step (one statement)."""
    rows = session.connection().execute(_SUMMARY, {"user_id": user_id, **summary_params(now)})
    return _summary_of(rows)


def summary_from_json(rows: list[list[Any]] | None) -> PracticeSummary:
    """The summary from `summary_json`'s rows."""
    return _summary_of(
        (date.fromisoformat(day), step_id, count) for day, step_id, count in rows or ()
    )


def _summary_of(rows: Iterable[Any]) -> PracticeSummary:
    days: set[date] = set()
    done: dict[int, int] = {}
    for practised_on, step_id, count in rows:
        days.add(practised_on)
        if step_id is not None:  # one row per step today (grouped by day and step)
            done[step_id] = count
    return PracticeSummary(days, done)


def streak(days: set[date], today: date) -> int:
    """Days in a row with practice, ending today, or yesterday when today is still open."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def this_week(days: set[date], today: date) -> list[tuple[date, bool]]:
    """Monday to Sunday of the current week, each with whether she practised."""
    monday = week_start(today)
    return [(monday + timedelta(days=i), monday + timedelta(days=i) in days) for i in range(7)]


def export(session: Session, *, user_id: int) -> list[dict[str, Any]]:
    """All her logs, for the data export."""
    return [
        {
            "course": entry.course_title,
            "step": entry.log.step_title,
            "kind": entry.log.step_kind,
            "practised_at": entry.log.practised_at.isoformat(),
            "duration_seconds": entry.log.duration_seconds,
            "sets_done": entry.log.sets_done,
            "reps_done": entry.log.reps_done,
            "effort": entry.log.effort,
            "note": entry.log.note,
        }
        for entry in entries(session, user_id=user_id, limit=1_000_000)
    ]


def count(session: Session, *, user_id: int) -> int:
    """How many practices she has in her log (one statement)."""
    return int(session.exec(select(func.count()).where(col(PracticeLog.user_id) == user_id)).one())


def erase(session: Session, *, user_id: int) -> int:
    """Delete her whole practice log, at her request; how many logs went."""
    result = session.execute(delete(PracticeLog).where(col(PracticeLog.user_id) == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
