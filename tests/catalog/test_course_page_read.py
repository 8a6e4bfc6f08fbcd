"""The course page and the catalog read her session with the page's data in one statement
(api/catalog/course_pages.py): what they find must be as current as a separate session lookup
would be. A logout, an expired session, a revoked enrolment and an edit show on the very next
request."""

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from api.accounts.models import AuthSession, Role, User
from api.catalog.models import Course
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from tests.factories import log_in, make_course, make_user, post_form

PROGRESS = "Je voortgang"
ACCOUNT_MENU = 'href="/account"'


def setup(session: Session, client: TestClient) -> tuple[User, Course, str]:
    """Alice, signed in and enrolled in a course, and the address of its page."""
    alice = make_user(session)
    course = make_course(session, price_cents=4900)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=course.id, source=EnrolmentSource.manual
    )
    log_in(client, alice)
    return alice, course, f"/courses/{course.slug}"


def expire_sessions_of(session: Session, user: User) -> None:
    row = session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    row.expires_at = row.created_at
    session.add(row)
    session.flush()


def test_a_logout_and_an_expired_session_show_on_the_next_course_page(
    client: TestClient, session: Session
) -> None:
    alice, _course, url = setup(session, client)
    assert PROGRESS in client.get(url).text

    post_form(client, "/logout", {})
    page = client.get(url).text
    assert PROGRESS not in page
    assert "Maak een account" in page  # the enrol area asks a stranger to make an account

    log_in(client, alice)
    assert PROGRESS in client.get(url).text
    expire_sessions_of(session, alice)
    assert PROGRESS not in client.get(url).text
    session.expire_all()
    # The course page removed the expired session, as every other page does.
    assert session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all() == []


def test_a_logout_and_an_expired_session_show_on_the_next_catalog(
    client: TestClient, session: Session
) -> None:
    alice, _course, _url = setup(session, client)
    assert ACCOUNT_MENU in client.get("/courses").text

    post_form(client, "/logout", {})
    assert ACCOUNT_MENU not in client.get("/courses").text

    log_in(client, alice)
    assert ACCOUNT_MENU in client.get("/courses").text
    expire_sessions_of(session, alice)
    assert ACCOUNT_MENU not in client.get("/courses").text
    session.expire_all()
    assert session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all() == []


def test_a_revoked_enrolment_shows_on_the_next_course_page(
    client: TestClient, session: Session
) -> None:
    alice, course, url = setup(session, client)
    assert PROGRESS in client.get(url).text

    enrolment = enrolment_service.find(session, user_id=id_of(alice), course_id=id_of(course))
    assert enrolment is not None
    admin = make_user(session, role=Role.admin)
    enrolment_service.revoke(session, enrolment=enrolment, by=admin, note="Terugbetaald")
    session.flush()

    page = client.get(url).text
    assert PROGRESS not in page
    assert "Je toegang tot deze cursus is beëindigd" in page


def test_an_edited_course_shows_on_the_next_course_page_and_catalog(
    client: TestClient, session: Session
) -> None:
    _alice, course, url = setup(session, client)
    client.get(url)
    client.get("/courses")

    course.title = "Nieuwe naam"
    session.add(course)
    session.flush()
    assert "Nieuwe naam" in client.get(url).text
    assert "Nieuwe naam" in client.get("/courses").text

    # Its content (kept per version in each worker) too: the triggers raise its version.
    session.execute(
        text("UPDATE lesson SET title = 'Nieuwe les' WHERE course_id = :id").bindparams(
            id=id_of(course)
        )
    )
    session.flush()
    assert "Nieuwe les" in client.get(url).text

    course.status = "draft"
    session.add(course)
    session.flush()
    assert client.get(url).status_code == 404
    assert "Nieuwe naam" not in client.get("/courses").text


def test_the_catalog_lists_the_newest_course_first(client: TestClient, session: Session) -> None:
    """The order of `list_published` (and of the JSON API), though JSON has none."""
    courses = [make_course(session) for _ in range(4)]
    # The same moment for two of them: then the newer id first.
    courses[1].published_at = courses[2].published_at = courses[3].published_at
    courses[0].published_at = None
    for course in courses:
        session.add(course)
    session.flush()
    page = client.get("/courses").text
    api = [item["slug"] for item in client.get("/api/v1/courses").json()]

    shown = sorted(
        (course.slug for course in courses), key=lambda slug: page.index(f'"/courses/{slug}"')
    )
    assert shown == api
    assert shown[-1] == courses[0].slug  # not yet published: last
