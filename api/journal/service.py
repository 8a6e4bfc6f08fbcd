"""Her journal: written, shared one entry at a time, exported and erased."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.journal.models import JournalEntry
from api.kit.ids import id_of


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every entry she wrote, by day (one statement)."""
    entries = session.exec(
        select(JournalEntry)
        .where(JournalEntry.user_id == id_of(user))
        .order_by(col(JournalEntry.day), col(JournalEntry.id))
    ).all()
    return [
        {
            "day": entry.day.isoformat(),
            "text": entry.text,
            "tension": entry.tension,
            "pain": entry.pain,
            "prompt": entry.prompt,
            "shared_with_course_id": entry.shared_course_id,
            "shared_at": entry.shared_at and entry.shared_at.isoformat(),
            "written_at": entry.written_at.isoformat(),
        }
        for entry in entries
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete every entry she wrote."""
    session.execute(delete(JournalEntry).where(col(JournalEntry.user_id) == id_of(user)))
