"""A child within its parent: the module of this course is found; another course's module, an
unknown id and a lesson slug the outline does not hold are NotFound with the caller's words."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from api.catalog.models import Course, Module
from api.errors import NotFound
from api.kit.ids import MAX_ID
from api.kit.lookup import child_of, index_in
from tests.factories import make_course

MESSAGE = "Deze module bestaat niet."


def modules_of(session: Session, course: Course) -> list[Module]:
    query = select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
    return list(session.exec(query))


def module_in(session: Session, course: Course, module_id: int) -> Module:
    return child_of(
        session,
        Module,
        module_id,
        parent_column=col(Module.course_id),
        parent_id=course.id,
        message=MESSAGE,
    )


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends inside the block."""
    sent: list[str] = []
    connection = session.connection()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_the_child_of_its_parent_is_found(session: Session) -> None:
    course = make_course(session)
    second = modules_of(session, course)[1]

    assert module_in(session, course, second.id or 0) is second


def test_a_child_of_another_parent_is_not_found_with_the_callers_message(
    session: Session,
) -> None:
    mine, theirs = make_course(session), make_course(session)
    their_module = modules_of(session, theirs)[0]

    with pytest.raises(NotFound) as refused:
        module_in(session, mine, their_module.id or 0)

    assert refused.value.message == MESSAGE
    assert refused.value.status_code == 404


def test_an_id_no_row_has_is_not_found(session: Session) -> None:
    course = make_course(session)

    with pytest.raises(NotFound):
        module_in(session, course, MAX_ID)


def test_a_child_the_session_holds_costs_no_statement(session: Session) -> None:
    course = make_course(session)
    module = modules_of(session, course)[0]

    with counted(session) as sent:
        found = module_in(session, course, module.id or 0)

    assert found is module
    assert sent == []


def test_the_position_of_a_loaded_child_is_found_by_what_it_matches() -> None:
    slugs = ["adem-rustig", "knijpen", "ontspannen"]

    assert index_in(slugs, lambda slug: slug == "knijpen", message=MESSAGE) == 1
    with pytest.raises(NotFound) as refused:
        index_in(slugs, lambda slug: slug == "springen", message=MESSAGE)
    assert refused.value.message == MESSAGE
