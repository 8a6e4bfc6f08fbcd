"""Whose progress and practice a viewer may read: her own, or, for the course's instructor
and admins, that of a learner enrolled in the course.

Every reading route asks here, so the rule lives in one place. A refusal is the same 404
whether the learner does not exist, is not enrolled or is simply not the viewer's to see, so
the API never tells anyone who has an account.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.service import CourseOutline
from api.enrolment.models import Enrolment
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.kit.ids import id_of


@dataclass(frozen=True)
class Reading:
    """The learner whose data is read, and the course as she sees it (her enrolment, her
    drip dates)."""

    learner: User
    outline: CourseOutline

    @property
    def learner_id(self) -> int:
        return id_of(self.learner)


def _no_learner() -> NotFound:
    return NotFound(_("We could not find this learner in this course."))


def course_reading(
    session: Session, *, slug: str, viewer: User, learner_id: int | None, now: datetime
) -> Reading:
    """The viewer's own course, or a learner's when the viewer may preview the course and the
    learner has an enrolment in it (whatever its status); NotFound otherwise."""
    outline = catalog.outline(session, slug=slug, viewer=viewer, now=now)
    if learner_id is None or learner_id == viewer.id:
        return Reading(viewer, outline)
    if not catalog.can_preview(viewer, outline.course):
        raise _no_learner()
    row = session.exec(
        select(User, Enrolment)
        .join(Enrolment, col(Enrolment.user_id) == User.id)
        .where(User.id == learner_id, Enrolment.course_id == outline.course.id)
    ).first()
    if row is None:
        raise _no_learner()
    learner, enrolment = row
    # Her outline, not the instructor's: modules open by her enrolment date.
    return Reading(learner, replace(outline, enrolment=enrolment))


def practice_reading(
    session: Session,
    *,
    viewer: User,
    course_slug: str | None,
    learner_id: int | None,
    now: datetime,
) -> tuple[int, int | None]:
    """Whose practice log to list, and of which course (None: all of hers)."""
    if course_slug is None:
        if learner_id is not None and learner_id != viewer.id:
            # An instructor sees a learner only through a course they teach.
            raise FormError({"course": _("Choose the course whose practice you want to see.")})
        return id_of(viewer), None
    reading = course_reading(
        session, slug=course_slug, viewer=viewer, learner_id=learner_id, now=now
    )
    return reading.learner_id, reading.outline.course.id
