"""The instructor's attention list: who needs attention now, and why.

A learner with an active enrolment is on the list for each event of five kinds: she has not
been active for the course's `inactive_after_days`; her latest check-in is worse than her first
by at least the questionnaire's meaningful change; she reported a warning sign in a check-in;
her question has waited more than 48 hours; she withdrew her health-data consent. Each event has
a key that names it (`inactive:<day of last activity>`, `worse:<measurement id>`,
`warning:<measurement id>`, `question:<thread id>:<waiting since>`, `consent:<withdrawn at>`);
marking a key handled takes that event off the list, and a new event of the same kind has a new
key, so she comes back. The list is read with four statements however many learners there are.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.attention.models import AttentionHandled
from api.catalog.models import Course
from api.clock import local_day
from api.consent import service as consent_service
from api.db import upsert, utcnow
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.errors import FormError, NotFound
from api.i18n import N_
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.messages.models import Message, Thread
from api.progress.models import LessonProgress, PracticeLog
from api.questionnaires import outcomes
from api.questionnaires.models import Measurement, Questionnaire
from api.questionnaires.service import as_decimal, definition_of

# A question waits this long for an answer before it is on the list.
QUESTION_WAIT = timedelta(hours=48)
MAX_NOTE_LENGTH = 300
TABLE = AttentionHandled.__table__  # type: ignore[attr-defined]
_KEY = re.compile(r"^(inactive|worse|warning|question|consent):[0-9A-Za-z:.+\-T]{1,90}$")


class Kind(StrEnum):
    inactive = "inactive"
    worse = "worse"
    warning = "warning"
    question = "question"
    consent = "consent"


KIND_LABELS = {
    Kind.inactive: N_("Not active"),
    Kind.worse: N_("Check-in got worse"),
    Kind.warning: N_("Warning sign reported"),
    Kind.question: N_("Question waiting for an answer"),
    Kind.consent: N_("Consent withdrawn"),
}


@dataclass(frozen=True)
class Reason:
    """One event that puts her on the list: its kind, its key, and since when."""

    kind: Kind
    key: str
    since: datetime
    detail: str = ""

    @property
    def label(self) -> str:
        return _(KIND_LABELS[self.kind])


@dataclass
class Entry:
    """One learner in one course with every reason she needs attention now."""

    course: Course
    enrolment: Enrolment
    learner: User
    last_active_at: datetime
    thread_id: int | None = None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def since(self) -> datetime:
        """The oldest of her reasons: the list shows the longest waiting first."""
        return min(reason.since for reason in self.reasons)


def _moment_key(moment: datetime) -> str:
    """A moment as a key part, the same from SQLite and PostgreSQL: UTC to the second."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latest_of(*columns: Any) -> list[Any]:
    """Per enrolment, the latest moment of each kind of activity, as correlated subqueries."""
    return [column.correlate(Enrolment).scalar_subquery() for column in columns]


def activity_columns() -> list[Any]:
    """Her latest lesson visit, lesson completion, practice, check-in and message in the course
    of the enrolment in the same statement (five scalar subqueries, each on an index)."""
    same = (Enrolment.user_id, Enrolment.course_id)
    return _latest_of(
        select(func.max(col(LessonProgress.last_visited_at))).where(
            LessonProgress.user_id == same[0], LessonProgress.course_id == same[1]
        ),
        select(func.max(col(LessonProgress.completed_at))).where(
            LessonProgress.user_id == same[0], LessonProgress.course_id == same[1]
        ),
        select(func.max(col(PracticeLog.practised_at))).where(
            PracticeLog.user_id == same[0], PracticeLog.course_id == same[1]
        ),
        select(func.max(col(Measurement.taken_at))).where(
            Measurement.user_id == same[0], Measurement.course_id == same[1]
        ),
        select(func.max(col(Message.created_at)))
        .join(Thread, col(Thread.id) == Message.thread_id)
        .where(
            Thread.learner_id == same[0],
            Thread.course_id == same[1],
            col(Message.from_learner),
        ),
    )


def last_active(enrolled_at: datetime, *moments: datetime | None) -> datetime:
    """The latest of her enrolment and her activity."""
    return max(_aware(moment) for moment in (enrolled_at, *moments) if moment is not None)


def _courses_of(viewer: User | None) -> ColumnElement[bool]:
    """The courses whose learners the viewer looks after: her own, an admin's all."""
    if viewer is None or viewer.role == Role.admin:
        return col(Course.id).is_not(None)
    return col(Course.instructor_id) == id_of(viewer)


def _enrolments(session: Session, viewer: User | None) -> dict[tuple[int, int], Entry]:
    """Every active enrolment in the viewer's courses, with her account, her latest activity
    and her thread (one statement)."""
    rows = session.execute(
        sa_select(
            Enrolment,
            Course,
            User,
            col(Thread.id),
            col(Thread.awaiting_reply_since),
            *activity_columns(),
        )
        .join(Course, col(Course.id) == Enrolment.course_id)
        .join(User, col(User.id) == Enrolment.user_id)
        .outerjoin(
            Thread,
            and_(
                col(Thread.learner_id) == Enrolment.user_id,
                col(Thread.course_id) == Enrolment.course_id,
            ),
        )
        .where(col(Enrolment.status) == EnrolmentStatus.active.value, _courses_of(viewer))
    ).all()
    found: dict[tuple[int, int], Entry] = {}
    for enrolment, course, learner, thread_id, awaiting, *moments in rows:
        entry = Entry(
            course, enrolment, learner, last_active(enrolment.enrolled_at, *moments), thread_id
        )
        if awaiting is not None:
            entry.reasons.append(
                Reason(Kind.question, f"question:{thread_id}:{_moment_key(awaiting)}", awaiting)
            )
        found[(enrolment.user_id, enrolment.course_id)] = entry
    return found


def _check_ins(session: Session, viewer: User | None) -> list[Any]:
    """Per learner, course and questionnaire: her first and latest check-in and every one with
    a warning sign, ranked in the database (one statement)."""
    partition = (
        col(Measurement.user_id),
        col(Measurement.course_id),
        col(Measurement.questionnaire_id),
    )
    ranked = (
        sa_select(
            col(Measurement.id).label("id"),
            col(Measurement.user_id).label("user_id"),
            col(Measurement.course_id).label("course_id"),
            col(Measurement.questionnaire_id).label("questionnaire_id"),
            col(Measurement.score).label("score"),
            col(Measurement.warning).label("warning"),
            col(Measurement.taken_at).label("taken_at"),
            func.row_number()
            .over(partition_by=partition, order_by=(col(Measurement.taken_at), col(Measurement.id)))
            .label("rank"),
            func.row_number()
            .over(
                partition_by=partition,
                order_by=(col(Measurement.taken_at).desc(), col(Measurement.id).desc()),
            )
            .label("back"),
        )
        .join(Course, col(Course.id) == Measurement.course_id)
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == Measurement.user_id,
                col(Enrolment.course_id) == Measurement.course_id,
                col(Enrolment.status) == EnrolmentStatus.active.value,
            ),
        )
        .where(_courses_of(viewer))
        .subquery()
    )
    return list(
        session.execute(
            sa_select(ranked, Questionnaire)
            .join(Questionnaire, col(Questionnaire.id) == ranked.c.questionnaire_id)
            .where(or_(ranked.c.rank == 1, ranked.c.back == 1, ranked.c.warning))
            .order_by(ranked.c.taken_at, ranked.c.id)
        ).all()
    )


def _add_check_ins(found: dict[tuple[int, int], Entry], rows: Iterable[Any]) -> None:
    """Her warning signs, and a latest check-in worse than her first by the meaningful change."""
    firsts: dict[tuple[int, int, int], Decimal] = {}
    for row in rows:
        entry = found.get((row.user_id, row.course_id))
        if entry is None:
            continue
        if row.warning:
            key = f"warning:{row.id}"
            entry.reasons.append(Reason(Kind.warning, key, _aware(row.taken_at)))
        score = as_decimal(row.score)
        if row.rank == 1:
            firsts[(row.user_id, row.course_id, row.questionnaire_id)] = score
        if row.back == 1 and row.rank > 1:
            first = firsts.get((row.user_id, row.course_id, row.questionnaire_id))
            definition = definition_of(row.Questionnaire)
            if first is not None and outcomes.change(first, score, definition) is (
                outcomes.Change.worse
            ):
                detail = row.Questionnaire.title
                entry.reasons.append(
                    Reason(Kind.worse, f"worse:{row.id}", _aware(row.taken_at), detail)
                )


def _handled(session: Session, viewer: User | None) -> set[tuple[int, int, str]]:
    """The (learner, course, key) marked handled in the viewer's courses (one statement)."""
    rows = session.execute(
        sa_select(
            col(AttentionHandled.learner_id),
            col(AttentionHandled.course_id),
            col(AttentionHandled.reason_key),
        )
        .join(Course, col(Course.id) == AttentionHandled.course_id)
        .where(_courses_of(viewer))
    ).all()
    return {(learner_id, course_id, key) for learner_id, course_id, key in rows}


def _add_time_reasons(entry: Entry, now: datetime) -> None:
    """Inactivity and withdrawn consent, which need no statement of their own."""
    quiet_for = timedelta(days=entry.course.inactive_after_days)
    if now - entry.last_active_at >= quiet_for:
        day = local_day(entry.last_active_at).isoformat()
        entry.reasons.append(Reason(Kind.inactive, f"inactive:{day}", entry.last_active_at))
    if consent_service.health_consent_withdrawn(entry.learner):
        withdrawn = _aware(entry.learner.health_consent_withdrawn_at or now)
        key = f"consent:{_moment_key(withdrawn)}"
        entry.reasons.append(Reason(Kind.consent, key, withdrawn))


def waiting(session: Session, *, viewer: User | None, now: datetime) -> list[Entry]:
    """Everyone in the viewer's courses (None: every course) who needs attention now, longest
    waiting first, each with her reasons not marked handled (four statements)."""
    found = _enrolments(session, viewer)
    if not found:
        return []
    _add_check_ins(found, _check_ins(session, viewer))
    handled = _handled(session, viewer)
    entries = []
    for (learner_id, course_id), entry in found.items():
        # A question counts only once it has waited 48 hours.
        entry.reasons = [
            reason
            for reason in entry.reasons
            if reason.kind != Kind.question or now - reason.since > QUESTION_WAIT
        ]
        _add_time_reasons(entry, now)
        entry.reasons = [
            reason
            for reason in sorted(entry.reasons, key=lambda reason: reason.since)
            if (learner_id, course_id, reason.key) not in handled
        ]
        if entry.reasons:
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry.since, id_of(entry.enrolment)))


def kind_of(reason_key: str) -> str:
    """The label of the kind of reason a stored key names ("worse:12" → "Check-in got worse")."""
    kind = reason_key.partition(":")[0]
    return _(KIND_LABELS[Kind(kind)]) if kind in Kind.__members__ else reason_key


def count_by_kind(entries: Iterable[Entry]) -> dict[Kind, int]:
    """How many learners wait for each kind of reason."""
    counts = dict.fromkeys(Kind, 0)
    for entry in entries:
        for kind in {reason.kind for reason in entry.reasons}:
            counts[kind] += 1
    return counts


def mark_handled(
    session: Session,
    *,
    viewer: User,
    enrolment_id: int,
    reason_key: str,
    note: str,
    now: datetime,
) -> AttentionHandled | None:
    """Mark one reason of one learner handled, with an optional note; NotFound for an
    enrolment outside the viewer's courses; None when it was marked before."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_LENGTH:
        raise FormError(
            {"note": _("Keep the note to at most %(max)s characters.", max=MAX_NOTE_LENGTH)}
        )
    if not _KEY.match(reason_key):
        raise NotFound(_("We could not find this reason on your attention list."))
    enrolment = session.exec(
        select(Enrolment)
        .join(Course, col(Course.id) == Enrolment.course_id)
        .where(Enrolment.id == enrolment_id, _courses_of(viewer))
    ).first()
    if enrolment is None:
        raise NotFound(_("We could not find this learner in your courses."))
    row = upsert(
        session,
        TABLE,
        {
            "course_id": enrolment.course_id,
            "learner_id": enrolment.user_id,
            "reason_key": reason_key,
            "note": note,
            "handled_by_id": id_of(viewer),
            "handled_at": now or utcnow(),
        },
        keys=["course_id", "learner_id", "reason_key"],
    )
    return None if row is None else AttentionHandled.model_validate(dict(row._mapping))


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """What her instructors marked as handled about her, with their notes (one statement)."""
    rows = session.exec(
        select(AttentionHandled)
        .where(AttentionHandled.learner_id == id_of(user))
        .order_by(col(AttentionHandled.handled_at))
    ).all()
    return [
        {
            "course_id": row.course_id,
            "reason": row.reason_key,
            "note": row.note,
            "handled_at": row.handled_at.isoformat(),
        }
        for row in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete the handled marks about her."""
    session.execute(delete(AttentionHandled).where(col(AttentionHandled.learner_id) == id_of(user)))
