"""The mail "a new part has opened": one mail (and/or push notification) per learner and drip
module, on the day it opens.

A module opens at midnight in Amsterdam (api/catalog/schedule.py), but nobody wants a mail at
00:01: it goes out from 07:00 that day, or later if the worker was down. A module that opened
more than two days ago gets no mail at all, so switching this on, or a worker back after a long
outage, does not flood anyone with old news. That window is far shorter than the outbox keeps
its messages (outbox.KEEP), so the dedupe key of a sent mail is still there whenever the same
occasion could come round again.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, exists, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import schedule
from api.catalog.models import Course, CourseStatus, Lesson, Module, Schedule
from api.clock import local_day, midnight
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.i18n import TIMEZONE
from api.kit.ids import id_of
from api.mail.models import OutboxMessage
from api.push.models import PushSubscription
from api.reminders import notices
from api.reminders.models import MailPreference

# The local time from which the mail about a module that opened today may go out.
SEND_FROM = time(7)
# After this long an opening is old news and is not mailed any more.
TOO_LATE = timedelta(days=2)
# Learners with an active enrolment open published courses and archived ones (catalog.can_see).
OPEN_TO_LEARNERS = (CourseStatus.published.value, CourseStatus.archived.value)


def send_window(opens_at: datetime) -> tuple[datetime, datetime]:
    """From when until when the mail about an opening at `opens_at` may be queued."""
    return datetime.combine(local_day(opens_at), SEND_FROM, tzinfo=TIMEZONE), opens_at + TOO_LATE


def _enrolled_between(now: datetime, unlock_after_days: int) -> tuple[datetime, datetime]:
    """A UTC range of enrolment moments that holds every enrolment whose module with this
    delay may be mailed about at `now` (a little more; the exact check follows in Python)."""
    # Modules that opened today or on one of the TOO_LATE days before.
    last_enrolment_day = local_day(now) - timedelta(days=unlock_after_days)
    first_enrolment_day = last_enrolment_day - timedelta(days=TOO_LATE.days)
    return midnight(first_enrolment_day), midnight(last_enrolment_day + timedelta(days=1))


def _drip_modules() -> tuple[ColumnElement[bool], ...]:
    return (
        col(Course.schedule) == Schedule.drip.value,
        col(Course.status).in_(OPEN_TO_LEARNERS),
        col(Module.unlock_after_days) > 0,
    )


def queue_module_openings(session: Session, settings: Settings, *, now: datetime) -> int:
    """Queue a mail for each drip module that opened for a learner; how many were queued."""
    # The delays in use are few (7, 14, 21… days); each one bounds the enrolments to read by
    # a range of enrolment moments, so the work follows today's openings, not all learners.
    delays = session.exec(
        select(Module.unlock_after_days)
        .join(Course, col(Course.id) == Module.course_id)
        .where(*_drip_modules())
        .distinct()
    ).all()
    if not delays:
        return 0
    in_range = []
    for delay in delays:
        start, end = _enrolled_between(now, delay)
        in_range.append(
            and_(
                col(Module.unlock_after_days) == delay,
                # The drip counts from her cohort's start when she has one (each side of the
                # OR has its own index, so the range stays as narrow as before).
                or_(
                    and_(
                        col(Enrolment.drip_from).is_(None),
                        col(Enrolment.enrolled_at) >= start,
                        col(Enrolment.enrolled_at) < end,
                    ),
                    and_(col(Enrolment.drip_from) >= start, col(Enrolment.drip_from) < end),
                ),
            )
        )
    key = literal("module:") + cast(Enrolment.id, String) + ":" + cast(Module.id, String)
    queued_before = exists().where(col(OutboxMessage.dedupe_key) == key)
    # Someone who chose push only has no mail under `key`, but a push per device of hers
    # (api/push/service.py keys them `<key>:push:<device>`): found by the same unique index.
    pushed_before = exists().where(
        col(PushSubscription.user_id) == Enrolment.user_id,
        col(OutboxMessage.dedupe_key) == key + ":push:" + cast(PushSubscription.id, String),
    )
    first_lesson = (
        select(Lesson.slug)
        .where(Lesson.module_id == Module.id)
        .order_by(col(Lesson.position), col(Lesson.id))
        .limit(1)
        .scalar_subquery()
    )
    # Six columns are more than SQLModel's typed select() takes; SQLAlchemy's does the same.
    rows = session.execute(
        sa_select(Enrolment, User, Course, Module, first_lesson, MailPreference)
        .join(Course, col(Course.id) == Enrolment.course_id)
        .join(Module, col(Module.course_id) == Enrolment.course_id)
        .join(User, col(User.id) == Enrolment.user_id)
        .outerjoin(MailPreference, col(MailPreference.user_id) == Enrolment.user_id)
        .where(
            *_drip_modules(),
            col(Enrolment.status) == EnrolmentStatus.active.value,
            or_(*in_range),
            # No row means notices on (by mail).
            or_(
                col(MailPreference.module_opened).is_(None),
                col(MailPreference.module_opened),
                col(MailPreference.module_opened_push),
            ),
            # An address nobody confirmed may not be hers: no course names to it.
            col(User.email_verified_at).is_not(None),
            ~queued_before,
            ~pushed_before,
        )
        .order_by(col(Enrolment.id), col(Module.position))
    ).all()
    queued = 0
    for enrolment, learner, course, module, lesson_slug, choices in rows:
        start, end = send_window(schedule.opens_at(enrolment.drip_start, module.unlock_after_days))
        if not start <= now <= end:
            continue
        queued += notices.module_opened(
            session,
            settings,
            learner=learner,
            course=course,
            module=module,
            enrolment_id=id_of(enrolment),
            lesson_slug=lesson_slug,
            now=now,
            choices=choices,
        )
    return queued
