"""The mails queued for and sent to a person: the dates and subjects in her data export, and
their removal when she deletes her account."""

from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.mail.models import OutboxMessage


def _hers(user: User) -> ColumnElement[bool]:
    # By account and by address: a mail queued before an account existed, or one that lost its
    # account link, still carries her address.
    return or_(
        col(OutboxMessage.user_id) == user.id,
        func.lower(col(OutboxMessage.recipient)) == user.email.lower(),
    )


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """When each mail to her was sent (or queued) and its subject; never the body or links.
    Push notifications are listed with her devices (api/push/service.py)."""
    rows = session.exec(
        select(OutboxMessage)
        .where(_hers(user), col(OutboxMessage.push_subscription_id).is_(None))
        .order_by(col(OutboxMessage.id))
    ).all()
    return [
        {"date": (row.sent_at or row.created_at).isoformat(), "subject": row.subject}
        for row in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete every mail and push to her, queued or sent: the queue would otherwise keep her
    address."""
    session.execute(delete(OutboxMessage).where(_hers(user)))
