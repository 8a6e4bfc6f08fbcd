"""Keyset pages on a (moment, id) cursor: the cursor reads back exactly, anything else reads as
no cursor, and paging through rows that share a moment (or a day) reaches every row once, newest
first."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from api.journal.models import JournalEntry
from api.kit.ids import MAX_ID, id_of
from api.kit.keyset import Cursor, day_cursor, newest_days_first, newest_first
from api.progress.models import PracticeLog
from tests.factories import make_course, make_user

MOMENT = datetime(2026, 11, 16, 8, 0, 0, 123456, tzinfo=UTC)
MAX_PAGES = 20


def test_a_cursor_is_microseconds_since_1970_a_dot_and_the_id() -> None:
    cursor = Cursor(MOMENT, 42)

    assert str(cursor) == "1794816000123456.42"
    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    "at",
    [
        MOMENT,
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("row_id", [1, 42, MAX_ID])
def test_a_cursor_reads_back_as_itself(at: datetime, row_id: int) -> None:
    assert Cursor.parse(str(Cursor(at, row_id))) == Cursor(at, row_id)


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "x.1",
        "1.x",
        "1.0",
        "1.-5",
        "-1.5",
        "1.5.5",
        "１.2",  # a full-width digit is a digit to Python, not to a URL
        f"1.{MAX_ID + 1}",
        "1." + "9" * 11,
        "9" * 19 + ".1",
        "999999999999999999.1",  # past the year 9999
        "12",
        "gisteren",
    ],
)
def test_anything_else_reads_as_no_cursor(text: str) -> None:
    assert Cursor.parse(text) is None


def store_logs(session: Session, moments: list[datetime]) -> int:
    """Logs of one learner at these moments; her id."""
    learner = make_user(session)
    course = make_course(session, modules=1, lessons_per_module=1)
    for number, moment in enumerate(moments):
        session.add(
            PracticeLog(
                user_id=id_of(learner),
                client_id=f"log-{number:04d}",
                course_id=id_of(course),
                step_kind="exercise",
                practised_at=moment,
                practised_on=date(2026, 11, 16),
            )
        )
    session.flush()
    return id_of(learner)


def page_through(session: Session, user_id: int, size: int) -> list[list[PracticeLog]]:
    """Every page of her logs, newest first, each from the cursor of the one before."""
    pages: list[list[PracticeLog]] = []
    cursor: Cursor | None = None
    # More pages than rows would mean a page came back again: stop rather than loop.
    for _page in range(MAX_PAGES):
        query = newest_first(
            select(PracticeLog).where(PracticeLog.user_id == user_id),
            at=col(PracticeLog.practised_at),
            row_id=col(PracticeLog.id),
            after=cursor,
        )
        rows = list(session.exec(query.limit(size)))
        if not rows:
            return pages
        pages.append(rows)
        # Through the text a client hands back, as the practice list's next_cursor goes.
        cursor = Cursor.parse(str(Cursor(rows[-1].practised_at, id_of(rows[-1]))))
    return pages


@pytest.mark.parametrize("size", [1, 2, 3, 10])
def test_paging_reaches_every_row_once_when_moments_are_shared(session: Session, size: int) -> None:
    later = MOMENT + timedelta(microseconds=1)
    earlier = MOMENT - timedelta(seconds=1)
    user_id = store_logs(session, [MOMENT, later, MOMENT, earlier, MOMENT, later])

    pages = page_through(session, user_id, size)

    rows = [row for page in pages for row in page]
    assert len(rows) == 6
    assert len({row.id for row in rows}) == 6
    # Newest first; among logs of one moment, the highest id first.
    keys = [(row.practised_at, id_of(row)) for row in rows]
    assert keys == sorted(keys, reverse=True)
    assert [len(page) for page in pages[:-1]] == [size] * (len(pages) - 1)


def test_without_a_cursor_the_newest_row_comes_first(session: Session) -> None:
    user_id = store_logs(session, [MOMENT - timedelta(days=1), MOMENT, MOMENT - timedelta(days=2)])

    query = newest_first(
        select(PracticeLog).where(PracticeLog.user_id == user_id),
        at=col(PracticeLog.practised_at),
        row_id=col(PracticeLog.id),
    )

    assert [row.client_id for row in session.exec(query)] == ["log-0001", "log-0000", "log-0002"]


@pytest.mark.parametrize("size", [1, 2, 4])
def test_paging_by_day_reaches_every_row_once_when_days_are_shared(
    session: Session, size: int
) -> None:
    learner = make_user(session)
    days = [date(2026, 11, 16), date(2026, 11, 18), date(2026, 11, 16), date(2026, 11, 17)]
    for number, day in enumerate(days * 2):
        session.add(JournalEntry(user_id=id_of(learner), day=day, text=f"dag {number}"))
    session.flush()
    rows: list[JournalEntry] = []
    cursor: Cursor | None = None
    for _page in range(MAX_PAGES):
        query = newest_days_first(
            select(JournalEntry).where(JournalEntry.user_id == id_of(learner)),
            day=col(JournalEntry.day),
            row_id=col(JournalEntry.id),
            after=cursor,
        )
        found = list(session.exec(query.limit(size)))
        if not found:
            break
        rows.extend(found)
        cursor = Cursor.parse(str(day_cursor(found[-1].day, id_of(found[-1]))))

    assert len({row.id for row in rows}) == len(rows) == 8
    keys = [(row.day, id_of(row)) for row in rows]
    assert keys == sorted(keys, reverse=True)
