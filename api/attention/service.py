"""The instructor's attention list: who needs attention now, and why."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.attention.models import AttentionHandled
from api.kit.ids import id_of


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """What her instructors marked as handled about her, with their notes (one statement)."""
    rows = session.exec(
        select(AttentionHandled)
        .where(AttentionHandled.learner_id == id_of(user))
        .order_by(col(AttentionHandled.handled_at))
    ).all()
    return [
        {
            "course_id": row.course_id,
            "reason": row.reason_key,
            "note": row.note,
            "handled_at": row.handled_at.isoformat(),
        }
        for row in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete the handled marks about her."""
    session.execute(delete(AttentionHandled).where(col(AttentionHandled.learner_id) == id_of(user)))
