"""A child found within its parent, or NotFound: the module of this course, the step of this
lesson, the lesson with this slug in this outline.

Looking a child up by its id alone would let an id from another course through; every lookup
here checks the parent as well, and answers an unknown id and another parent's child alike, so
the answer never tells whether the other row exists.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Mapped, QueryableAttribute
from sqlmodel import Session, SQLModel

from api.errors import NotFound

Row = TypeVar("Row", bound=SQLModel)
Item = TypeVar("Item")


def child_of(
    session: Session,
    model: type[Row],
    child_id: int,
    *,
    parent_column: Mapped[Any],
    parent_id: int | None,
    message: str,
) -> Row:
    """The `model` row with this id and `parent_id` in `parent_column`; NotFound otherwise."""
    # By primary key, so a row this session already holds costs no statement.
    row = session.get(model, child_id)
    # col() types the column as Mapped; it is the model's attribute, which knows its name.
    key = cast(QueryableAttribute[Any], parent_column).key
    if row is None or parent_id is None or getattr(row, key) != parent_id:
        raise NotFound(message)
    return row


def index_in(items: Sequence[Item], matches: Callable[[Item], bool], *, message: str) -> int:
    """The position of the first loaded item that matches; NotFound(message) when none does."""
    index = next((i for i, item in enumerate(items) if matches(item)), None)
    if index is None:
        raise NotFound(message)
    return index
