"""The weekly summary for instructors: on Monday morning (Amsterdam), how many of her learners
wait on her attention list, per reason, with a link to the list. It carries counts only: no
names and nothing about anyone's body, since a mail may be read on a lock screen or forwarded.

Each person gets it once per week: the outbox's dedupe key names her and the week's Monday, and
the outbox keeps a sent mail's key far longer than a week (outbox.KEEP). Nothing waiting, no mail.
"""

from datetime import datetime, time

from sqlalchemy import String, cast, exists, literal, or_
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.attention import service as attention
from api.clock import week_start
from api.config import Settings
from api.i18n import N_, TIMEZONE
from api.kit.ids import id_of
from api.mail.compose import queue
from api.mail.models import OutboxMessage
from api.mail.unsubscribe import Topic
from api.reminders.models import MailPreference

# The summary goes out from this time on Monday, and not after that Monday ends.
SEND_FROM = time(7)


def _week_key(now: datetime) -> str | None:
    """The week's Monday when `now` is Monday morning or later that Monday; else None."""
    local = now.astimezone(TIMEZONE)
    if local.weekday() != 0 or local.time() < SEND_FROM:
        return None
    return week_start(local.date()).isoformat()


def _recipients(session: Session, *, instructor_ids: set[int], monday: str) -> list[User]:
    """Instructors with learners waiting, and admins, who want the summary, have a confirmed
    address and did not get it this week (one statement)."""
    key = literal("attention:") + cast(User.id, String) + literal(f":{monday}")
    return list(
        session.exec(
            select(User)
            .outerjoin(MailPreference, col(MailPreference.user_id) == User.id)
            .where(
                or_(col(User.id).in_(instructor_ids), col(User.role) == Role.admin.value),
                col(User.role).in_((Role.instructor.value, Role.admin.value)),
                or_(
                    col(MailPreference.attention_summary).is_(None),
                    col(MailPreference.attention_summary),
                ),
                col(User.email_verified_at).is_not(None),
                ~exists().where(col(OutboxMessage.dedupe_key) == key),
            )
            .order_by(col(User.id))
        ).all()
    )


def queue_attention_summaries(session: Session, settings: Settings, *, now: datetime) -> int:
    """On Monday morning, queue the week's summary for everyone with learners waiting; how many
    were queued (a fixed number of statements, and one insert per mail)."""
    monday = _week_key(now)
    if monday is None:
        return 0
    entries = attention.waiting(session, viewer=None, now=now)
    if not entries:
        return 0
    by_instructor: dict[int, list[attention.Entry]] = {}
    for entry in entries:
        by_instructor.setdefault(entry.course.instructor_id, []).append(entry)
    queued = 0
    for person in _recipients(session, instructor_ids=set(by_instructor), monday=monday):
        mine = entries if person.role == Role.admin else by_instructor.get(id_of(person), [])
        if not mine:
            continue
        counts = attention.count_by_kind(mine)
        queued += queue(
            session,
            settings,
            user=person,
            subject=N_("Your attention list this week"),
            template="attention_summary",
            context={
                "learners": len(mine),
                "counts": [
                    (attention.KIND_LABELS[kind], count) for kind, count in counts.items() if count
                ],
            },
            action=N_("Open the attention list"),
            key=f"attention:{id_of(person)}:{monday}",
            stop=Topic.attention,
            now=now,
        )
    return queued
