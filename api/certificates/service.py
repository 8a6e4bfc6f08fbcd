"""Certificates of completion: made when every lesson is done, checked by their public code.

The study time printed on a certificate is the sum of the estimated minutes of the course's
lessons (each lesson's reading, video and its exercises done once), rounded to the nearest
half hour and at least half an hour. Practising at home between lessons is not counted:
nobody can vouch for it.
"""

import secrets
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.service import CourseOutline
from api.certificates.models import Certificate
from api.errors import AppError, NotFound
from api.i18n import gettext as _
from api.kit.ids import id_of

MAX_NAME = 120
# 16 random bytes: a code nobody guesses, short enough to type from paper.
CODE_BYTES = 16


class NotFinished(AppError):
    """A certificate asked for before every lesson is complete."""

    status_code = 409
    code = "course_not_finished"


def hours_of(minutes: int) -> Decimal:
    """Study time in hours: to the nearest half hour, at least half an hour (see above)."""
    halves = (Decimal(minutes) / 30).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(halves, Decimal(1)) / 2


def clean_name(text: str) -> str:
    """Her name as she wants it printed; FormError-ready ValueError with the reason."""
    name = " ".join(text.split())
    if not name:
        raise ValueError(_("Fill in the name to print on the certificate."))
    if len(name) > MAX_NAME:
        raise ValueError(_("A name of at most %(num)s characters, please.", num=MAX_NAME))
    return name


def of_course(session: Session, *, user: User, course_id: int) -> Certificate | None:
    """Her certificate for this course, if she made one (one statement)."""
    return session.exec(
        select(Certificate).where(
            Certificate.user_id == id_of(user), Certificate.course_id == course_id
        )
    ).first()


def issue(
    session: Session,
    *,
    user: User,
    outline: CourseOutline,
    completed: int,
    name: str,
    now: datetime,
) -> Certificate:
    """Her certificate with `name` on it; the one she has is renamed, keeping code and date."""
    if not outline.enrolled or not outline.lesson_count or completed < outline.lesson_count:
        raise NotFinished(_("The certificate is there once you have completed every lesson."))
    course = outline.course
    found = of_course(session, user=user, course_id=id_of(course))
    certificate = found or Certificate(
        code=secrets.token_hex(CODE_BYTES),
        user_id=id_of(user),
        course_id=id_of(course),
        name=name,
        course_title=course.title,
        instructor_name=outline.instructor.name,
        minutes=outline.total_minutes,
        issued_at=now,
    )
    certificate.name = name
    session.add(certificate)
    session.flush()
    return certificate


def by_code(session: Session, *, code: str) -> Certificate:
    """The certificate with this code, or NotFound (also after her account was deleted)."""
    if not code.isalnum() or len(code) > 64:
        raise NotFound(_("There is no certificate with this code."))
    found = session.exec(select(Certificate).where(Certificate.code == code.lower())).first()
    if found is None:
        raise NotFound(_("There is no certificate with this code."))
    return found


def own(session: Session, *, user: User, code: str) -> Certificate:
    """Her own certificate with this code; NotFound for anyone else's."""
    found = by_code(session, code=code)
    if found.user_id != user.id:
        raise NotFound(_("There is no certificate with this code."))
    return found


def mine(session: Session, *, user: User) -> list[Certificate]:
    """Her certificates, newest first (one statement)."""
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.user_id == id_of(user))
            .order_by(col(Certificate.issued_at).desc(), col(Certificate.id).desc())
        ).all()
    )


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her certificates as printed."""
    return [
        {
            "code": item.code,
            "course_id": item.course_id,
            "course": item.course_title,
            "name": item.name,
            "instructor": item.instructor_name,
            "minutes": item.minutes,
            "issued_at": item.issued_at.isoformat(),
        }
        for item in mine(session, user=user)
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete her certificates: their verification addresses answer "not found" from then on."""
    session.execute(delete(Certificate).where(col(Certificate.user_id) == id_of(user)))
