"""The mails about a new message: to the instructor when she asked, to her when the answer
came. They say only that there is a message, never what it says or who wrote it, because a
phone shows a mail's first lines on its lock screen; the link opens the conversation."""

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.i18n import N_
from api.mail.compose import queue
from api.mail.unsubscribe import Topic
from api.messages.service import Sent
from api.reminders.models import MailPreference


def _wants(session: Session, person: User) -> bool:
    preference = session.get(MailPreference, person.id)
    return preference is None or preference.new_message


def _send(
    session: Session,
    settings: Settings,
    *,
    sent: Sent,
    to: User,
    link: str,
    mail: tuple[str, str, str],
) -> bool:
    """Queue the mail (`mail`: subject, template, button label) unless the other side still has
    an unread message from this one, or turned these mails off."""
    if not sent.notify or to.id is None or not _wants(session, to):
        return False
    subject, template, action = mail
    return queue(
        session,
        settings,
        user=to,
        subject=subject,
        template=template,
        action=action,
        context={"link": link},
        key=f"message:{sent.message.id}",
        stop=Topic.messages,
        now=sent.message.created_at,
    )


def question_asked(session: Session, settings: Settings, *, sent: Sent, course: Course) -> bool:
    """Tell the course's instructor a question waits for her; whether a mail was queued."""
    instructor = session.get(User, course.instructor_id)
    if instructor is None:
        return False
    return _send(
        session,
        settings,
        sent=sent,
        to=instructor,
        link=f"{settings.base_url}/studio/courses/{course.slug}/questions/{sent.thread.id}",
        mail=(N_("New question in Kern"), "new_question", N_("Open the question")),
    )


def answered(
    session: Session, settings: Settings, *, sent: Sent, course: Course, learner: User
) -> bool:
    """Tell her an answer waits in her conversation; whether a mail was queued."""
    return _send(
        session,
        settings,
        sent=sent,
        to=learner,
        link=f"{settings.base_url}/courses/{course.slug}/questions",
        mail=(N_("You have a new message in Kern"), "new_answer", N_("Open the message")),
    )
