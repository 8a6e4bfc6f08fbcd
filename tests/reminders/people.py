"""People with reminders: a learner in a course who chose days and times."""

from datetime import UTC, datetime
from email.message import EmailMessage

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course
from api.clock import local_day
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from api.progress.models import PracticeLog
from api.reminders import service
from api.reminders.models import MailPreference
from tests.factories import make_course, make_user
from tests.smtp import Mailbox

# A Wednesday in November: Amsterdam is UTC+1.
MONDAY_TO_SUNDAY = [str(day) for day in range(7)]
SAVED_AT = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 07:00 in Amsterdam
DUE = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam


def enrol(session: Session, user: User, course: Course, status: str = "active") -> Enrolment:
    assert user.id is not None
    assert course.id is not None
    enrolment = Enrolment(
        user_id=user.id, course_id=course.id, source=EnrolmentSource.free, status=status
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def learner_with_reminders(
    session: Session,
    *,
    language: str = "nl",
    weekdays: list[str] | None = None,
    times: list[str] | None = None,
    status: str = EnrolmentStatus.active,
    course: Course | None = None,
) -> tuple[User, Course]:
    """A learner in a course with reminders every day at 08:00 (saved at SAVED_AT)."""
    learner = make_user(session, language=language)
    course = course or make_course(session)
    enrol(session, learner, course, status)
    service.save(
        session,
        user=learner,
        weekdays=MONDAY_TO_SUNDAY if weekdays is None else weekdays,
        times=["08:00"] if times is None else times,
        module_opened=True,
        new_enrolment=True,
        now=SAVED_AT,
    )
    return learner, course


def preference(session: Session, user: User) -> MailPreference:
    """Her stored row, read fresh."""
    assert user.id is not None
    session.expire_all()
    row = session.get(MailPreference, user.id)
    assert row is not None
    return row


def log_practice(session: Session, user: User, course: Course, at: datetime) -> None:
    assert user.id is not None
    assert course.id is not None
    session.add(
        PracticeLog(
            user_id=user.id,
            client_id=f"test-{user.id}-{at.isoformat()}",
            course_id=course.id,
            step_kind="exercise",
            practised_at=at,
            practised_on=local_day(at),
        )
    )
    session.flush()


def mail_to(mailbox: Mailbox, *people: User) -> list[EmailMessage]:
    """What these people received, after the worker delivered what is due; mail to anyone else
    (a test that commits may leave some behind) is not theirs to count."""
    addresses = {person.email for person in people}
    return [message for message in mailbox.messages if message["To"] in addresses]
