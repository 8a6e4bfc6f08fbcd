"""Her journal: written, shared one entry at a time, exported and erased."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson
from api.clock import local_day
from api.consent import service as consent_service
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.journal.models import MAX_ENTRY_LENGTH, JournalEntry
from api.kit.ids import id_of
from api.kit.keyset import Cursor, day_cursor, newest_days_first
from api.kit.lookup import child_of

SCALE = (0, 10)
# Control characters but the line break and the tab: PostgreSQL refuses a NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class EntryInput(BaseModel):
    """The write form as typed: plain strings, checked by `check`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    text: str = ""
    tension: str = ""
    pain: str = ""
    day: str = ""


@dataclass(frozen=True)
class EntryValues:
    """A checked entry, ready to store."""

    day: date
    text: str
    tension: int | None
    pain: int | None


@dataclass(frozen=True)
class LessonPrompt:
    """A lesson's invitation to write, with where it comes from."""

    course: Course
    lesson: Lesson

    @property
    def text(self) -> str:
        return self.lesson.journal_prompt or ""


@dataclass(frozen=True)
class EntryRow:
    """An entry as her list shows it: with the course it is shared with and its lesson."""

    entry: JournalEntry
    shared_course: Course | None
    lesson: Lesson | None
    lesson_course: Course | None


# --- checking what she wrote ------------------------------------------------------------------


def _text(typed: str, errors: dict[str, str]) -> str:
    # Line breaks are hers to keep; only the ends are trimmed and Windows breaks made plain.
    text = _CONTROL.sub("", typed.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        errors["text"] = _("Write something first; a few words are enough.")
    elif len(text) > MAX_ENTRY_LENGTH:
        errors["text"] = _(
            "Keep it under %(num)s characters; you now have %(count)s.",
            num=MAX_ENTRY_LENGTH,
            count=len(text),
        )
    return text


def _scale(typed: str, field: str, errors: dict[str, str]) -> int | None:
    """A number 0–10, or None when she left it out ("not filled in")."""
    text = typed.strip()
    if not text:
        return None
    low, high = SCALE
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    errors[field] = _(
        "Choose a number from %(low)s to %(high)s, or “not filled in”.", low=low, high=high
    )
    return None


def _day(typed: str, today: date, errors: dict[str, str]) -> date:
    text = typed.strip()
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors["day"] = _("Choose a day from the calendar, e.g. today.")
        return today
    if day > today:
        errors["day"] = _("This day has not come yet. Choose today or a day before.")
    return day


def check(data: EntryInput, *, now: datetime) -> EntryValues:
    """The entry's values; FormError naming every field that is wrong."""
    errors: dict[str, str] = {}
    values = EntryValues(
        day=_day(data.day, local_day(now), errors),
        text=_text(data.text, errors),
        tension=_scale(data.tension, "tension", errors),
        pain=_scale(data.pain, "pain", errors),
    )
    if errors:
        raise FormError(errors)
    return values


# --- writing, changing, deleting --------------------------------------------------------------


def entry_of(session: Session, *, user: User, entry_id: int) -> JournalEntry:
    """Her entry with this id; NotFound for anyone else's or an unknown one."""
    return child_of(
        session,
        JournalEntry,
        entry_id,
        parent_column=col(JournalEntry.user_id),
        parent_id=user.id,
        message=_("We could not find this journal entry."),
    )


def lesson_prompt(
    session: Session, *, user: User, slug: str, lesson_slug: str, now: datetime
) -> LessonPrompt | None:
    """The journal prompt of a lesson she may open; None when there is none for her."""
    if not slug or not lesson_slug:
        return None
    try:
        outline, index = catalog.open_lesson(
            session, slug=slug, lesson_slug=lesson_slug, viewer=user, now=now
        )
    except (NotFound, catalog.LessonLocked):
        return None
    lesson = outline.lessons[index]
    if not lesson.journal_prompt:
        return None
    return LessonPrompt(outline.course, lesson)


def write(
    session: Session,
    *,
    user: User,
    values: EntryValues,
    prompt: LessonPrompt | None,
    now: datetime,
) -> JournalEntry:
    """Store a new entry; ConsentRequired without her consent to keeping health data."""
    consent_service.require_health_consent(user)
    entry = JournalEntry(
        user_id=id_of(user),
        day=values.day,
        text=values.text,
        tension=values.tension,
        pain=values.pain,
        prompt=prompt.text if prompt else "",
        lesson_id=prompt.lesson.id if prompt else None,
        written_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def edit(
    session: Session, *, user: User, entry: JournalEntry, values: EntryValues, now: datetime
) -> JournalEntry:
    """Change her entry (a shared one stays shared); ConsentRequired without her consent."""
    consent_service.require_health_consent(user)
    entry.day, entry.text = values.day, values.text
    entry.tension, entry.pain = values.tension, values.pain
    entry.updated_at = now
    session.add(entry)
    session.flush()
    return entry


def remove(session: Session, *, entry: JournalEntry) -> None:
    """Delete her entry for good."""
    session.delete(entry)
    session.flush()


# --- sharing ------------------------------------------------------------------------------------


def share_options(session: Session, *, user: User) -> list[Course]:
    """The courses she is actively enrolled in, whose instructor she may share with (one
    statement)."""
    return list(
        session.exec(
            select(Course)
            .join(Enrolment, col(Enrolment.course_id) == Course.id)
            .where(
                Enrolment.user_id == id_of(user),
                Enrolment.status == EnrolmentStatus.active,
            )
            .order_by(col(Enrolment.enrolled_at), col(Enrolment.id))
        ).all()
    )


def share(
    session: Session, *, user: User, entry: JournalEntry, course_id: int | None, now: datetime
) -> Course:
    """Share the entry with the instructor of a course she is actively enrolled in; with only
    one such course, `course_id` may be left out. FormError when the course is not hers."""
    consent_service.require_health_consent(user)
    courses = share_options(session, user=user)
    if course_id is None and len(courses) == 1:
        course = courses[0]
    else:
        found = [course for course in courses if course.id == course_id]
        if not found:
            raise FormError(
                {"course": _("Choose one of your courses; only their therapists can read it.")}
            )
        course = found[0]
    entry.shared_course_id, entry.shared_at = id_of(course), now
    session.add(entry)
    session.flush()
    return course


def shared_course(session: Session, *, entry: JournalEntry) -> Course | None:
    """The course whose therapist may read the entry; None while it is private."""
    if entry.shared_course_id is None:
        return None
    return session.get(Course, entry.shared_course_id)


def unshare(session: Session, *, entry: JournalEntry) -> None:
    """Make the entry private again: from now on only she reads it."""
    entry.shared_course_id, entry.shared_at = None, None
    session.add(entry)
    session.flush()


def shared_entries(session: Session, *, course_id: int, learner_id: int) -> list[JournalEntry]:
    """The entries this learner shares with the course's instructor, newest first (one
    statement)."""
    return list(
        session.exec(
            select(JournalEntry)
            .where(JournalEntry.user_id == learner_id, JournalEntry.shared_course_id == course_id)
            .order_by(col(JournalEntry.day).desc(), col(JournalEntry.id).desc())
        ).all()
    )


# --- her list ---------------------------------------------------------------------------------

_SharedCourse = aliased(Course)
_LessonCourse = aliased(Course)


def entries(
    session: Session, *, user_id: int, cursor: Cursor | None = None, limit: int = 30
) -> list[EntryRow]:
    """Her entries, newest day first, with their shared course and lesson (one statement)."""
    query = (
        select(JournalEntry, _SharedCourse, Lesson, _LessonCourse)
        .outerjoin(_SharedCourse, col(_SharedCourse.id) == JournalEntry.shared_course_id)
        .outerjoin(Lesson, col(Lesson.id) == JournalEntry.lesson_id)
        .outerjoin(_LessonCourse, col(_LessonCourse.id) == Lesson.course_id)
        .where(JournalEntry.user_id == user_id)
    )
    query = newest_days_first(
        query, day=col(JournalEntry.day), row_id=col(JournalEntry.id), after=cursor
    )
    rows = session.exec(query.limit(limit)).all()
    return [EntryRow(entry, shared, lesson, course) for entry, shared, lesson, course in rows]


def next_cursor(row: EntryRow) -> Cursor:
    """The cursor of the page that follows the one ending with `row`."""
    return day_cursor(row.entry.day, id_of(row.entry))


# --- her data -----------------------------------------------------------------------------------


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every entry she wrote, by day (one statement)."""
    found = session.exec(
        select(JournalEntry)
        .where(JournalEntry.user_id == id_of(user))
        .order_by(col(JournalEntry.day), col(JournalEntry.id))
    ).all()
    return [
        {
            "day": entry.day.isoformat(),
            "text": entry.text,
            "tension": entry.tension,
            "pain": entry.pain,
            "prompt": entry.prompt,
            "shared_with_course_id": entry.shared_course_id,
            "shared_at": entry.shared_at and entry.shared_at.isoformat(),
            "written_at": entry.written_at.isoformat(),
        }
        for entry in found
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete every entry she wrote."""
    session.execute(delete(JournalEntry).where(col(JournalEntry.user_id) == id_of(user)))
