"""Who may follow which course: enrol for free, grant after payment or by hand, revoke."""

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.db import utcnow
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from api.errors import AppError, Conflict, FormError
from api.i18n import gettext as _
from api.kit.lookup import child_of
from api.reminders import notices

MAX_NOTE_LENGTH = 500


class NotForSale(AppError):
    """A paid course cannot be joined for free (and the reverse)."""

    status_code = 409
    code = "not_free"


def find(session: Session, *, user_id: int | None, course_id: int | None) -> Enrolment | None:
    """The learner's enrolment in the course, whatever its status."""
    return session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    ).first()


def in_course(session: Session, *, course: Course, enrolment_id: int) -> Enrolment:
    """An enrolment of this course by id; NotFound for another course's or an unknown one."""
    return child_of(
        session,
        Enrolment,
        enrolment_id,
        parent_column=col(Enrolment.course_id),
        parent_id=course.id,
        message=_("We could not find this enrolment."),
    )


def grant(
    session: Session,
    *,
    user_id: int | None,
    course_id: int | None,
    source: EnrolmentSource,
    note: str = "",
    by: User | None = None,
    settings: Settings | None = None,
) -> Enrolment:
    """Give access, once: a second call (even at the same moment) returns the same enrolment.
    With `settings`, the course's instructor hears of a new enrolment by mail."""
    if user_id is None or course_id is None:
        raise ValueError("grant needs a stored learner and course")
    existing = find(session, user_id=user_id, course_id=course_id)
    if existing is None:
        try:
            # A savepoint, so losing the race to a concurrent insert rolls back only this.
            with session.begin_nested():
                existing = Enrolment(
                    user_id=user_id,
                    course_id=course_id,
                    source=source.value,
                    note=note[:MAX_NOTE_LENGTH],
                    changed_by_id=by.id if by else None,
                )
                session.add(existing)
                session.flush()
        except IntegrityError:
            existing = find(session, user_id=user_id, course_id=course_id)
            if existing is None:  # pragma: no cover - the constraint names this row
                raise
        else:
            if settings is not None:
                # Only a new enrolment: access given back (a refund reversed, a revocation
                # undone) is not news to the instructor.
                notices.new_enrolment(session, settings, enrolment=existing, by=by)
            return existing
    if not existing.is_active:
        set_status(
            session, enrolment=existing, status=EnrolmentStatus.active, note=note, by=by,
            source=source,
        )  # fmt: skip
    return existing


def set_status(
    session: Session,
    *,
    enrolment: Enrolment,
    status: EnrolmentStatus,
    note: str = "",
    by: User | None = None,
    source: EnrolmentSource | None = None,
) -> Enrolment:
    """Change an enrolment's status (refund, dispute, revoke, restore)."""
    if enrolment.status != status:
        enrolment.status = status.value
        enrolment.status_changed_at = utcnow()
    if source is not None:
        enrolment.source = source.value
    if note:
        enrolment.note = note[:MAX_NOTE_LENGTH]
    if by is not None:
        enrolment.changed_by_id = by.id
    session.add(enrolment)
    session.flush()
    return enrolment


def enrol_free(
    session: Session, *, user: User, course: Course, settings: Settings | None = None
) -> Enrolment:
    """One click for a free course; a revoked learner is not let back in this way."""
    if not course.is_free:
        raise NotForSale(_("This course is paid; buy it to enrol."))
    if not course.is_published:
        raise Conflict(_("This course is not open for enrolment."))
    existing = find(session, user_id=user.id, course_id=course.id)
    if existing is not None and existing.status == EnrolmentStatus.revoked:
        raise Conflict(_("Your access to this course was ended. Please contact your therapist."))
    return grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.free,
        settings=settings,
    )  # fmt: skip


def grant_manually(
    session: Session,
    *,
    course: Course,
    learner: User,
    by: User,
    note: str,
    settings: Settings | None = None,
) -> Enrolment:
    """An instructor or admin gives access (e.g. paid by bank transfer), with the reason."""
    note = note.strip()
    if not note:
        raise FormError({"note": _("Write down why, e.g. 'paid by bank transfer'.")})
    return grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual,
        note=note, by=by, settings=settings,
    )  # fmt: skip


def revoke(session: Session, *, enrolment: Enrolment, by: User, note: str) -> Enrolment:
    """End access by hand, with the reason."""
    note = note.strip()
    if not note:
        raise FormError({"note": _("Write down why the access ends.")})
    return set_status(
        session, enrolment=enrolment, status=EnrolmentStatus.revoked, note=note, by=by
    )


def of_course(session: Session, *, course: Course) -> list[tuple[Enrolment, User]]:
    """Everyone enrolled in a course with their account, newest first (one statement)."""
    return list(
        session.exec(
            select(Enrolment, User)
            .join(User, col(User.id) == Enrolment.user_id)
            .where(Enrolment.course_id == course.id)
            .order_by(col(Enrolment.enrolled_at).desc())
        ).all()
    )


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her enrolments, with the reason an instructor wrote down for a change by hand."""
    rows = session.exec(
        select(Enrolment, Course)
        .join(Course, col(Course.id) == Enrolment.course_id)
        .where(Enrolment.user_id == user.id)
        .order_by(col(Enrolment.enrolled_at), col(Enrolment.id))
    ).all()
    return [
        {
            "course": course.title,
            "course_slug": course.slug,
            "source": enrolment.source,
            "status": enrolment.status,
            "enrolled_at": enrolment.enrolled_at.isoformat(),
            "status_changed_at": enrolment.status_changed_at.isoformat(),
            "note": enrolment.note,
        }
        for enrolment, course in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete her enrolments, and her name from changes she made to other people's."""
    session.execute(delete(Enrolment).where(col(Enrolment.user_id) == user.id))
    # The foreign key does this too (ON DELETE SET NULL); saying it here keeps the erasure
    # complete on a database that does not enforce foreign keys.
    session.execute(
        update(Enrolment).where(col(Enrolment.changed_by_id) == user.id).values(changed_by_id=None)
    )
