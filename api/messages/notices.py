"""The mails about a new message: to the instructor when she asked, to her when the answer
came, by mail and/or push notification as she chose. They say only that there is a message,
never what it says or who wrote it, because a phone shows a mail's first lines and a push on its
lock screen; the link opens the conversation."""

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.i18n import N_
from api.mail.compose import queue
from api.mail.unsubscribe import Topic
from api.messages.service import Sent
from api.push import service as push
from api.reminders.models import MailPreference


def _send(
    session: Session,
    settings: Settings,
    *,
    sent: Sent,
    to: User,
    path: str,
    mail: tuple[str, str, str],
    push_text: str,
) -> bool:
    """Queue the mail (`mail`: subject, template, button label) and/or the push notification
    (`push_text`), as the other side chose, unless she still has an unread message from this
    one; whether anything was queued."""
    if not sent.notify or to.id is None:
        return False
    choices = session.get(MailPreference, to.id)
    key = f"message:{sent.message.id}"
    pushed = 0
    if choices is not None and choices.new_message_push:
        kind = mail[1]
        pushed = push.queue(
            session,
            user=to,
            kind=kind,
            body=push_text,
            path=path,
            key=key,
            now=sent.message.created_at,
        )
    if choices is not None and not choices.new_message:
        return pushed > 0
    subject, template, action = mail
    link = settings.base_url + path
    return queue(
        session,
        settings,
        user=to,
        subject=subject,
        template=template,
        action=action,
        context={"link": link},
        key=key,
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
        path=f"/studio/courses/{course.slug}/questions/{sent.thread.id}",
        mail=(N_("New question in Kern"), "new_question", N_("Open the question")),
        push_text=N_("A learner asked you a question"),
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
        path=f"/courses/{course.slug}/questions",
        mail=(N_("You have a new message in Kern"), "new_answer", N_("Open the message")),
        push_text=N_("You have an answer from your therapist"),
    )
