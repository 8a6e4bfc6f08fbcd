"""The notices: "a new part of your course has opened" for a learner, and "someone enrolled"
for the instructor, rendered in the recipient's language and queued in the outbox."""

from datetime import datetime

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course, Module
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentSource
from api.i18n import N_
from api.mail.compose import queue
from api.mail.unsubscribe import Topic
from api.push import service as push
from api.reminders.models import MailPreference

# A push notification is read on a lock screen: it names no course.
MODULE_PUSH = N_("A new part of your course is ready")


def module_opened(
    session: Session,
    settings: Settings,
    *,
    learner: User,
    course: Course,
    module: Module,
    enrolment_id: int,
    lesson_slug: str | None,
    now: datetime,
    choices: MailPreference | None = None,
) -> int:
    """Tell her a new part of her course is open, with a link straight to its first lesson, by
    mail and/or push as she chose (`choices`; None: by mail); how many were newly queued."""
    path = f"/courses/{course.slug}" + (f"/lessons/{lesson_slug}" if lesson_slug else "")
    key = f"module:{enrolment_id}:{module.id}"
    pushed = 0
    if choices is not None and choices.module_opened_push:
        pushed = push.queue(
            session,
            user=learner,
            kind="module_opened",
            body=MODULE_PUSH,
            path=path,
            key=key,
            now=now,
        )
    if choices is not None and not choices.module_opened:
        return pushed
    link = settings.base_url + path
    return pushed + queue(
        session,
        settings,
        user=learner,
        # Read on a lock screen or a shared computer: it says nothing about the body.
        subject=N_("A new part of your course is ready"),
        template="module_opened",
        context={"course": course, "module": module, "link": link},
        action=N_("Open the new part"),
        key=key,
        stop=Topic.modules,
        now=now,
    )


def new_enrolment(
    session: Session, settings: Settings, *, enrolment: Enrolment, by: User | None
) -> bool:
    """Tell the instructor someone enrolled in her course, unless she gave the access herself,
    enrolled herself, or turned these mails off; whether a mail was queued."""
    course = session.get(Course, enrolment.course_id)
    if course is None or course.instructor_id == enrolment.user_id:
        return False
    if by is not None and by.id == course.instructor_id:
        return False
    instructor = session.get(User, course.instructor_id)
    learner = session.get(User, enrolment.user_id)
    if instructor is None or instructor.id is None or learner is None:
        return False
    preference = session.get(MailPreference, instructor.id)
    if preference is not None and not preference.new_enrolment:
        return False
    return queue(
        session,
        settings,
        user=instructor,
        # The learner's name stays out of the subject, which phones show on the lock screen.
        subject=N_("A new learner in %(title)s"),
        subject_values={"title": course.title},
        template="new_enrolment",
        # Her name, the course and how she came in; never her email, notes or anything she
        # recorded about her body.
        context={
            "learner_name": learner.name,
            "course": course,
            "source": EnrolmentSource(enrolment.source).value,
        },
        action=N_("See your learners"),
        key=f"enrolment:{enrolment.id}",
        stop=Topic.enrolments,
    )
