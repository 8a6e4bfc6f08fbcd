"""Ids at the edge: every id a route reads from its path or query is a whole number from 1 to
the largest INTEGER column value; a page asked for any other number is the 404 page, the JSON
API names the field in a 422."""

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from api.accounts.models import Role
from api.catalog.models import Course
from api.kit.ids import MAX_ID, Id, id_of
from tests.factories import enable_totp, log_in, make_course, make_user, post_form

# PostgreSQL's INTEGER holds -2**31 … 2**31 - 1; Kern's ids count up from 1.
LARGEST_INTEGER = 2_147_483_647
# Numbers no row can have: zero, negative, one past the column's range, past 64 bits (which
# SQLite cannot even bind).
IMPOSSIBLE = ["0", "-1", str(LARGEST_INTEGER + 1), "99999999999999999999999"]


def id_params(app: FastAPI) -> list[tuple[str, str, str, Any]]:
    """(method, path, parameter, its field) of every path or query parameter named like an id."""
    found: list[tuple[str, str, str, Any]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        params = route.dependant.path_params + route.dependant.query_params
        for method in sorted(context.methods or ()):
            found.extend(
                (method, context.path or "", param.name, param)
                for param in params
                if param.name.endswith("_id")
            )
    return found


def is_number(param: Any) -> bool:
    annotation = str(param.field_info.annotation)
    return "int" in annotation


def test_an_id_is_a_whole_number_from_one_to_the_largest_integer_column_value() -> None:
    ids = TypeAdapter(Id)

    assert MAX_ID == LARGEST_INTEGER
    assert ids.validate_python(1) == 1
    assert ids.validate_python(MAX_ID) == MAX_ID
    for wrong in (0, -1, MAX_ID + 1, 10**23):
        with pytest.raises(ValidationError):
            ids.validate_python(wrong)


def test_every_numeric_id_a_route_reads_is_bounded_like_an_id(app: FastAPI) -> None:
    params = [found for found in id_params(app) if is_number(found[3])]
    bounded = re.compile(rf"Ge\(ge=1\).*Le\(le={MAX_ID}\)")

    # The studio's module, lesson, step and enrolment ids, her sessions, the API's learner_id.
    assert {name for _method, _path, name, _param in params} >= {
        "module_id",
        "lesson_id",
        "step_id",
        "enrolment_id",
        "session_id",
        "learner_id",
    }
    for method, path, name, param in params:
        info = param.field_info
        declared = f"{info.metadata} {info.annotation}"
        assert bounded.search(declared), f"{method} {path}: {name} is not an Id ({declared})"


def signed_in_instructor_course(client: TestClient, session: Session) -> str:
    """Ingrid, an instructor signed in in `client`; the slug of a course of hers."""
    ingrid = make_user(session, role=Role.instructor)
    log_in(client, ingrid, secret=enable_totp(session, ingrid))
    return make_course(session, instructor=ingrid).slug


def ask(client: TestClient, method: str, url: str) -> Response:
    return client.get(url) if method == "GET" else post_form(client, url)


@pytest.mark.parametrize("number", IMPOSSIBLE)
def test_a_page_address_with_an_id_no_row_can_have_is_the_404_page(
    app: FastAPI, client: TestClient, session: Session, number: str
) -> None:
    slug = signed_in_instructor_course(client, session)
    pages = [
        (method, path)
        for method, path, name, param in id_params(app)
        if is_number(param) and not path.startswith("/api/") and f"{{{name}}}" in path
    ]
    assert len(pages) >= 15

    for method, path in pages:
        url = re.sub(r"\{\w+_id\}", number, path).replace("{slug}", slug)
        response = ask(client, method, url)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        assert "Pagina niet gevonden" in response.text, f"{method} {url}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/modules/{id}/delete"),
        ("GET", "/lessons/{id}"),
        ("POST", "/lessons/{id}/steps/{id}/move"),
        ("POST", "/learners/{id}/revoke"),
    ],
)
def test_the_largest_id_is_looked_up_and_simply_not_found(
    client: TestClient, session: Session, method: str, path: str
) -> None:
    slug = signed_in_instructor_course(client, session)
    url = f"/studio/courses/{slug}" + path.replace("{id}", str(MAX_ID))

    response = ask(client, method, url)

    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text


@pytest.mark.parametrize("number", IMPOSSIBLE)
def test_an_api_id_out_of_range_is_a_422_that_names_the_field(
    client: TestClient, session: Session, number: str
) -> None:
    log_in(client, make_user(session))

    response = client.get("/api/v1/practice", params={"learner_id": number})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert set(response.json()["fields"]) == {"learner_id"}


def test_the_id_of_a_stored_row_is_its_id(session: Session) -> None:
    course = make_course(session)
    stored = session.get(Course, course.id)

    assert stored is course
    assert id_of(course) == course.id
    assert id_of(course) >= 1


def test_the_id_of_a_row_never_stored_is_an_error_not_zero(session: Session) -> None:
    unsaved = Course(slug="nog-niet-bewaard", title="Nog niet bewaard", instructor_id=1)

    with pytest.raises(ValueError, match="Course has no id"):
        id_of(unsaved)

    # Once flushed, the same object has its id.
    unsaved.instructor_id = id_of(make_user(session, role=Role.instructor))
    session.add(unsaved)
    session.flush()
    assert id_of(unsaved) == unsaved.id


def test_the_api_description_states_the_id_bounds_and_what_the_id_is_for(
    client: TestClient,
) -> None:
    description = client.get("/api/openapi.json").json()
    parameters = description["paths"]["/api/v1/practice"]["get"]["parameters"]
    learner_id = next(param for param in parameters if param["name"] == "learner_id")

    assert learner_id["required"] is False
    assert learner_id["description"].startswith("Read this learner's data")
    number = next(kind for kind in learner_id["schema"]["anyOf"] if kind["type"] == "integer")
    assert (number["minimum"], number["maximum"]) == (1, MAX_ID)
