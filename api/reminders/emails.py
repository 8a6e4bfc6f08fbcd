"""The practice reminder: a discreet nudge, in her language, queued once per occasion."""

from sqlmodel import Session

from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.mail.compose import queue
from api.mail.unsubscribe import Topic

# A reminder may be seen over her shoulder or in a notification: the subject and the first
# lines never name the body, a complaint or a course.
REMINDER_SUBJECT = N_("A moment for yourself")
# The push notification's one line, under the title "Kern".
REMINDER_PUSH = N_("Time for your exercises")


def practice_reminder(session: Session, settings: Settings, *, user: User, key: str) -> bool:
    """Queue her reminder for one occasion; False when that occasion was queued before."""
    return queue(
        session,
        settings,
        user=user,
        subject=REMINDER_SUBJECT,
        template="practice_reminder",
        action=N_("Start today's exercises"),
        key=key,
        stop=Topic.reminders,
    )
