"""Conversations between a learner and her course's instructor: asking, replying, read marks,
her unread answers, the instructor's inbox, and her data in the export."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson
from api.consent import service as consent_service
from api.db import json_rows, moment_from_json
from api.errors import FormError, NotFound, TooManyAttempts
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import id_of
from api.messages.models import MAX_MESSAGE_LENGTH, Message, Thread
from api.ratelimit import service as ratelimit
from api.ratelimit.service import Limit

# A learner writes a question now and then; these stop a script or a stuck key from filling her
# therapist's inbox (and mailbox), far above what a person types.
PER_HOUR = Limit(20, timedelta(hours=1))
PER_DAY = Limit(60, timedelta(days=1))


class TooManyMessages(TooManyAttempts):
    """Over the message limit: she is told how long to wait, and her text stays in the form."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        minutes = max(1, -(-retry_after // 60))
        self.message = ngettext(
            "You have sent many messages in a short time. Please wait %(num)s minute and send "
            "this one again; your text is still here.",
            "You have sent many messages in a short time. Please wait %(num)s minutes and send "
            "this one again; your text is still here.",
            minutes,
        )
        self.args = (self.message,)


def _rate_key(user: User) -> str:
    # Ends in ":account:<id>", so her export lists these counts and deleting her forgets them.
    return f"message{ratelimit.ACCOUNT_MARK}{id_of(user)}"


def clean_body(text: str) -> str:
    """Her text as stored: line endings made one kind, outer blank space dropped; FormError
    when nothing is left or it is too long."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise FormError({"body": _("Write your message first.")})
    if len(body) > MAX_MESSAGE_LENGTH:
        raise FormError(
            {
                "body": _(
                    "Your message is %(length)s characters long; at most %(max)s fit. Shorten "
                    "it a little, or send it in two parts.",
                    length=len(body),
                    max=MAX_MESSAGE_LENGTH,
                )
            }
        )
    return body


# --- her side -----------------------------------------------------------------------------------


def thread_of(session: Session, *, course: Course, learner: User) -> Thread | None:
    """Her conversation about this course, if she ever wrote (one statement)."""
    return session.exec(
        select(Thread).where(Thread.course_id == id_of(course), Thread.learner_id == id_of(learner))
    ).first()


@dataclass(frozen=True)
class Sent:
    """A stored message, with whether the other side should hear of it by mail."""

    thread: Thread
    message: Message
    notify: bool


def ask(
    session: Session,
    *,
    learner: User,
    outline: catalog.CourseOutline,
    body: str,
    lesson: Lesson | None,
    now: datetime,
) -> Sent:
    """Store her message in her conversation about the course (made on her first), after the
    checks: an active enrolment, her health-data consent, the length and the rate limits."""
    if not outline.enrolled:
        raise NotFound(_("You can ask a question in a course you follow."))
    text = clean_body(body)
    consent_service.require_health_consent(learner)
    key = _rate_key(learner)
    waits = [
        wait
        for limit in (PER_HOUR, PER_DAY)
        if (wait := ratelimit.retry_after(session, key=key, limit=limit, now=now))
    ]
    if waits:
        raise TooManyMessages(max(waits))
    thread = thread_of(session, course=outline.course, learner=learner)
    if thread is None:
        thread = Thread(course_id=id_of(outline.course), learner_id=id_of(learner), created_at=now)
        notify = True
    else:
        # One mail until her therapist opened the conversation: more messages in a row are
        # found together there.
        notify = not _unread(thread.instructor_read_at, thread.awaiting_reply_since)
    thread.last_message_at = now
    thread.awaiting_reply_since = thread.awaiting_reply_since or now
    thread.learner_read_at = now
    session.add(thread)
    session.flush()
    message = Message(
        thread_id=id_of(thread),
        author_id=id_of(learner),
        from_learner=True,
        body=text,
        lesson_id=lesson.id if lesson else None,
        created_at=now,
    )
    session.add(message)
    ratelimit.record(session, key, now=now)
    session.flush()
    return Sent(thread, message, notify)


def _unread(read_at: datetime | None, since: datetime | None) -> bool:
    """Whether something written at `since` is still unread by someone who read at `read_at`."""
    return since is not None and (read_at is None or read_at < since)


def mark_read_by_learner(session: Session, *, thread: Thread, now: datetime) -> None:
    """She opened her conversation: every answer in it is read."""
    if thread.learner_read_at is None or thread.learner_read_at < thread.last_message_at:
        thread.learner_read_at = now
        session.add(thread)
        session.flush()


def unread_for_learner(thread: Thread) -> bool:
    """Whether the latest message is her therapist's and she has not read it yet."""
    return thread.awaiting_reply_since is None and _unread(
        thread.learner_read_at, thread.last_message_at
    )


@dataclass(frozen=True)
class Shown:
    """A message as a conversation shows it, with the lesson it was asked from."""

    message: Message
    lesson: Lesson | None
    author: User | None


def conversation(session: Session, *, thread: Thread) -> list[Shown]:
    """Every message of the thread, oldest first, with its lesson and author (one statement)."""
    rows = session.exec(
        select(Message, Lesson, User)
        .outerjoin(Lesson, col(Lesson.id) == Message.lesson_id)
        .outerjoin(User, col(User.id) == Message.author_id)
        .where(Message.thread_id == id_of(thread))
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    return [Shown(message, lesson, author) for message, lesson, author in rows]


@dataclass(frozen=True, slots=True)
class UnreadAnswer:
    """A conversation with an answer she has not read, for a card on "Vandaag" (read with the
    rest of the page through `unread_answers_json`)."""

    course_title: str
    course_slug: str
    course_language: str
    last_message_at: datetime


_answered_course = aliased(Course)


def unread_answers_json(user_id: Any) -> Any:
    """Her conversations whose latest message is an unread answer, as a `json_rows` subquery
    for a page that reads them beside its own rows; read with `unread_answers_from_json`."""
    return (
        sa_select(
            json_rows(
                _answered_course.title,
                _answered_course.slug,
                _answered_course.language,
                Thread.last_message_at,
            )
        )
        .select_from(Thread)
        .join(_answered_course, col(_answered_course.id) == Thread.course_id)
        .where(
            col(Thread.learner_id) == user_id,
            col(Thread.awaiting_reply_since).is_(None),
            or_(
                col(Thread.learner_read_at).is_(None),
                col(Thread.learner_read_at) < col(Thread.last_message_at),
            ),
        )
        .scalar_subquery()
    )


def unread_answers_from_json(rows: list[list[Any]] | None) -> list[UnreadAnswer]:
    """The cards of `unread_answers_json`, newest first."""
    cards = [
        UnreadAnswer(title, slug, language, moment)
        for title, slug, language, at in rows or ()
        if (moment := moment_from_json(at)) is not None
    ]
    return sorted(cards, key=lambda card: card.last_message_at, reverse=True)


# --- the instructor's side ----------------------------------------------------------------------


def _taught_by(viewer: User) -> Any:
    """Threads of the viewer's courses; an admin's: every course's."""
    if viewer.role == Role.admin:
        return True
    return col(Course.instructor_id) == id_of(viewer)


@dataclass(frozen=True)
class InboxRow:
    """One conversation in the instructor's inbox."""

    thread: Thread
    course: Course
    learner: User

    @property
    def waiting(self) -> bool:
        return self.thread.awaiting_reply_since is not None

    @property
    def unread(self) -> bool:
        return _unread(self.thread.instructor_read_at, self.thread.awaiting_reply_since)


def inbox(session: Session, *, viewer: User) -> list[InboxRow]:
    """The conversations of her courses: those waiting for an answer first, the longest
    waiting on top, then the rest by their latest message (one statement)."""
    waiting = col(Thread.awaiting_reply_since)
    rows = session.exec(
        select(Thread, Course, User)
        .join(Course, col(Course.id) == Thread.course_id)
        .join(User, col(User.id) == Thread.learner_id)
        .where(_taught_by(viewer))
        .order_by(waiting.is_(None), waiting, col(Thread.last_message_at).desc(), col(Thread.id))
    ).all()
    return [InboxRow(thread, course, learner) for thread, course, learner in rows]


def waiting_count(session: Session, *, viewer: User) -> int:
    """How many conversations of her courses wait for an answer (one statement)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Thread)
            .join(Course, col(Course.id) == Thread.course_id)
            .where(_taught_by(viewer), col(Thread.awaiting_reply_since).is_not(None))
        ).one()
    )


def studio_thread(session: Session, *, viewer: User, slug: str, thread_id: int) -> InboxRow:
    """The conversation, when the viewer teaches its course or is an admin; NotFound for
    everyone else, who need not know it exists (one statement)."""
    row = session.exec(
        select(Thread, Course, User)
        .join(Course, col(Course.id) == Thread.course_id)
        .join(User, col(User.id) == Thread.learner_id)
        .where(Thread.id == thread_id, Course.slug == slug)
    ).first()
    if row is None or not catalog.can_preview(viewer, row[1]):
        raise NotFound(_("We could not find this conversation."))
    return InboxRow(*row)


def mark_read_by_instructor(session: Session, *, thread: Thread, now: datetime) -> None:
    """The instructor opened the conversation: her messages in it are read."""
    if thread.instructor_read_at is None or thread.instructor_read_at < thread.last_message_at:
        thread.instructor_read_at = now
        session.add(thread)
        session.flush()


def reply(session: Session, *, thread: Thread, author: User, body: str, now: datetime) -> Sent:
    """Store the instructor's answer; the conversation no longer waits."""
    text = clean_body(body)
    # One mail until she opened the conversation: a second answer in a row is found with it.
    answered_unread = thread.awaiting_reply_since is None and _unread(
        thread.learner_read_at, thread.last_message_at
    )
    message = Message(
        thread_id=id_of(thread), author_id=id_of(author), from_learner=False, body=text,
        created_at=now,
    )  # fmt: skip
    thread.last_message_at = now
    thread.awaiting_reply_since = None
    thread.instructor_read_at = now
    session.add_all([thread, message])
    session.flush()
    return Sent(thread, message, notify=not answered_unread)


# --- her data -----------------------------------------------------------------------------------


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her conversations, each with every message both ways, oldest first (one statement)."""
    rows = session.exec(
        select(Thread, Course, Message)
        .join(Course, col(Course.id) == Thread.course_id)
        .join(Message, col(Message.thread_id) == Thread.id)
        .where(Thread.learner_id == id_of(user))
        .order_by(col(Thread.id), col(Message.created_at), col(Message.id))
    ).all()
    threads: dict[int, dict[str, Any]] = {}
    for thread, course, message in rows:
        entry = threads.setdefault(
            id_of(thread),
            {"course": course.title, "course_slug": course.slug, "messages": []},
        )
        entry["messages"].append(
            {
                "from": "you" if message.from_learner else "instructor",
                "text": message.body,
                "lesson_id": message.lesson_id,
                "sent_at": message.created_at.isoformat(),
            }
        )
    return list(threads.values())


def erase(session: Session, *, user: User) -> None:
    """Delete her conversations (their messages go with them)."""
    session.execute(delete(Thread).where(col(Thread.learner_id) == id_of(user)))
