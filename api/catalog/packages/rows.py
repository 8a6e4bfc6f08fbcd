"""Small writes an import makes: rows by id deleted in one statement, attributes set only where
they differ."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, col


def delete_ids(session: Session, model: type[SQLModel], column: Any, ids: Sequence[int]) -> None:
    """Delete the rows whose `column` is one of `ids`, in one statement."""
    if ids:
        session.execute(delete(model).where(col(column).in_(ids)))


def assign(row: SQLModel, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
