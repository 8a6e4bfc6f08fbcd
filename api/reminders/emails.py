"""The practice reminder: a discreet nudge, in her language, queued once per occasion."""

from sqlmodel import Session

from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.mail.compose import compose
from api.mail.outbox import enqueue
from api.reminders.unsubscribe import Topic, make_link

# A reminder may be seen over her shoulder or in a notification: the subject and the first
# lines never name the body, a complaint or a course.
REMINDER_SUBJECT = N_("A moment for yourself")


def practice_reminder(session: Session, settings: Settings, *, user: User, key: str) -> bool:
    """Queue her reminder for one occasion; False when that occasion was queued before."""
    if user.id is None:
        raise ValueError("a reminder needs a stored account")
    stop_url = make_link(settings, user_id=user.id, topic=Topic.reminders)
    message = compose(
        settings,
        user=user,
        subject=REMINDER_SUBJECT,
        template="practice_reminder",
        context={"stop_url": stop_url},
        action=N_("Start today's exercises"),
        unsubscribe_url=stop_url,
    )
    return enqueue(session, message, kind="practice_reminder", user_id=user.id, key=key)
