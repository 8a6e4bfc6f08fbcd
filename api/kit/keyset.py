"""Keyset pages, newest first, on a (moment, id) or a (day, id) cursor: the next page starts
after the last row shown, however many rows arrive meanwhile, and rows that share a moment are
neither skipped nor shown twice, because the id breaks the tie.

A cursor is text a client hands back: whole microseconds since 1970, a dot, the id. Anything
else reads as no cursor at all (None), and the caller decides what that means.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Mapped

from api.kit.ids import MAX_ID

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Microseconds up to the year 9999 take 18 digits; an id at most 10.
_MOMENT_DIGITS = 18
_ID_DIGITS = 10

# Any SELECT, SQLModel's included, which the answer keeps the type of.
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's moment and id."""

    at: datetime
    id: int

    def __str__(self) -> str:
        # Whole microseconds since 1970 and the id: exact, and safe in a URL as it is.
        return f"{(self.at - _EPOCH) // _MICROSECOND}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor | None":
        """The cursor written by str(), or None for anything else."""
        moment, _, id_text = text.partition(".")
        if not (moment.isascii() and moment.isdigit() and id_text.isascii() and id_text.isdigit()):
            return None
        if len(moment) > _MOMENT_DIGITS or len(id_text) > _ID_DIGITS:
            return None
        if not 0 < int(id_text) <= MAX_ID:
            return None
        try:
            return cls(_EPOCH + int(moment) * _MICROSECOND, int(id_text))
        except OverflowError:  # past the year 9999
            return None


def newest_first(
    query: Query,
    *,
    at: Mapped[datetime],
    row_id: Mapped[int | None],
    after: Cursor | None = None,
) -> Query:
    """The query ordered newest first by (at, row_id), from just after the cursor on."""
    if after is not None:
        query = query.where(or_(at < after.at, and_(at == after.at, row_id < after.id)))
    return query.order_by(at.desc(), row_id.desc())


def day_cursor(day: date, row_id: int) -> Cursor:
    """The cursor of a row kept by calendar day rather than by moment (midnight UTC of it)."""
    return Cursor(datetime.combine(day, time(0), tzinfo=UTC), row_id)


def newest_days_first(
    query: Query,
    *,
    day: Mapped[date],
    row_id: Mapped[int | None],
    after: Cursor | None = None,
) -> Query:
    """The query ordered newest day first, then by row_id, from just after the cursor on."""
    # The cursor's day is compared as a date: a DATE column compared with a moment would
    # differ between the two databases (SQLite compares the text).
    if after is not None:
        last = after.at.astimezone(UTC).date()
        query = query.where(or_(day < last, and_(day == last, row_id < after.id)))
    return query.order_by(day.desc(), row_id.desc())
