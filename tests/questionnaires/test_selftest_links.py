"""Where a stranger finds the self-tests: the home page, the catalog and the course pages they
concern, those in her language first, in one statement."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api.accounts.models import Role
from tests.catalog.test_pages_queries import recording
from tests.factories import make_course, make_user
from tests.questionnaires.selftest_helpers import (
    CALM_COURSE,
    fresh_definitions,  # noqa: F401 (a fixture)
    make_self_test,
)

pytestmark = pytest.mark.usefixtures("fresh_definitions")


def invited(html: str) -> list[str]:
    """The self-tests the page's invitation links to, in order."""
    section = html.split('class="selftest-cta"')
    if len(section) < 2:
        return []
    return re.findall(r'href="/test/([a-z0-9-]+)"', section[1].split("</section>")[0])


def test_the_home_page_and_the_catalog_invite_to_published_self_tests_in_her_language_first(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    make_self_test(session, instructor=owner, slug="back-test", title="Back test", language="en")
    make_self_test(session, instructor=owner, slug="pijntest", title="Pijntest")
    make_self_test(session, instructor=owner, slug="concept", title="Concept", status="draft")
    hidden_course = make_course(session, instructor=owner, status="draft")
    make_self_test(session, instructor=owner, slug="verborgen", course=hidden_course)

    for path in ("/", "/courses"):
        dutch = client.get(path, headers={"Accept-Language": "nl"})
        english = client.get(path, headers={"Accept-Language": "en"})

        assert invited(dutch.text) == ["pijntest", "back-test"], path
        assert invited(english.text) == ["back-test", "pijntest"], path
        assert 'lang="nl">Pijntest</a>' in dutch.text


def test_without_a_published_self_test_there_is_no_invitation(
    client: TestClient, session: Session
) -> None:
    make_self_test(session, status="draft")

    assert 'class="selftest-cta"' not in client.get("/").text
    assert 'class="selftest-cta"' not in client.get("/courses").text


def test_a_course_page_invites_to_the_tests_it_carries_or_that_suggest_it(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    carrier = make_course(session, instructor=owner)
    calm = make_course(session, instructor=owner, slug=CALM_COURSE)
    other = make_course(session, instructor=owner)
    make_self_test(session, instructor=owner, course=carrier)

    assert invited(client.get(f"/courses/{carrier.slug}").text) == ["rugtest"]
    assert invited(client.get(f"/courses/{calm.slug}").text) == ["rugtest"]
    assert invited(client.get(f"/courses/{other.slug}").text) == []


def test_a_course_page_follows_an_edit_of_the_bands_on_the_next_request(
    client: TestClient, session: Session
) -> None:
    """The course page reads a self-test's bands from the column the database generates from its
    definition: an edited definition is what the next request sees."""
    owner = make_user(session, role=Role.instructor)
    make_course(session, instructor=owner, slug=CALM_COURSE)
    suggested = make_course(session, instructor=owner)
    test = make_self_test(session, instructor=owner)
    assert invited(client.get(f"/courses/{CALM_COURSE}").text) == ["rugtest"]
    assert invited(client.get(f"/courses/{suggested.slug}").text) == []

    test.definition = {
        **test.definition,
        "bands": [
            {
                **band,
                "course": suggested.slug
                if band.get("course") == CALM_COURSE
                else band.get("course"),
            }
            for band in test.definition["bands"]
        ],
    }
    session.add(test)
    session.flush()

    assert invited(client.get(f"/courses/{CALM_COURSE}").text) == []
    assert invited(client.get(f"/courses/{suggested.slug}").text) == ["rugtest"]


def test_the_home_page_finds_the_self_tests_in_one_statement(
    client: TestClient, session: Session, connection: Connection
) -> None:
    make_course(session)

    with recording(connection) as without:
        client.get("/")
    owner = make_user(session, role=Role.instructor)
    for number in range(3):
        make_self_test(session, instructor=owner, slug=f"test-{number}")
    with recording(connection) as with_three:
        page = client.get("/")

    assert len(invited(page.text)) == 3
    # The featured course and the self-tests; a visitor without a session costs nothing more.
    assert len(without) == len(with_three) == 2, with_three
