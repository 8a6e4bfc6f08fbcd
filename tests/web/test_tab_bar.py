"""The phone's shell: which sections the tab bar offers a learner, an instructor and an admin,
that a visitor gets none, and which of the header's items a phone keeps (kern.css hides the
ones marked `site-nav__wide` below 44rem; wider, they offer the tab bar's sections). How it
looks at 320–430 px is checked in the browser (tests/e2e/test_shell_journey.py)."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource
from tests.factories import enable_totp, log_in, make_course, make_user


def page(client: TestClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    return str(response.text)


def tab_bar(html: str) -> str | None:
    found = re.search(r'<nav class="tab-bar".*?</nav>', html, re.S)
    return found.group(0) if found else None


def tabs(html: str) -> list[str]:
    """The tab bar's addresses in order."""
    bar = tab_bar(html)
    assert bar is not None, "no tab bar on the page"
    return re.findall(r'<a href="([^"]+)"', bar)


def current_tabs(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', tab_bar(html) or "")


def header_items(html: str) -> list[tuple[bool, str]]:
    """The header menu's items: (shown on a phone, what it holds)."""
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    return [
        ("site-nav__wide" not in attributes, body)
        for attributes, body in re.findall(r"<li([^>]*)>(.*?)</li>", nav, re.S)
    ]


def header_links(html: str) -> list[str]:
    """The header menu's addresses, as a laptop shows them."""
    return [href for _, body in header_items(html) for href in re.findall(r'href="([^"]+)"', body)]


def sign_in_instructor(client: TestClient, session: Session, role: Role = Role.instructor) -> User:
    instructor = make_user(session, role=role)
    log_in(client, instructor, secret=enable_totp(session, instructor))
    return instructor


def enrol(session: Session, user: User, course: Course | None = None) -> Enrolment:
    return enrolment_service.grant(
        session,
        user_id=user.id,
        course_id=(course or make_course(session)).id,
        source=EnrolmentSource.manual,
    )


def test_a_learner_has_today_courses_practice_log_and_account(
    client: TestClient, session: Session
) -> None:
    log_in(client, make_user(session))

    html = page(client, "/courses")

    assert tabs(html) == ["/today", "/courses", "/practice", "/account"]
    assert header_links(html) == ["/today", "/courses", "/practice", "/account"]
    labels = re.findall(r'<span class="tab-bar__label">([^<]+)</span>', tab_bar(html) or "")
    assert labels == ["Vandaag", "Cursussen", "Oefenlog", "Account"]
    assert 'class="has-tab-bar"' in html


def test_the_tab_of_the_current_section_is_marked(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)
    course = make_course(session)
    enrol(session, alice, course)

    assert current_tabs(page(client, "/today")) == ["/today"]
    assert current_tabs(page(client, "/today/routine")) == ["/today"]
    assert current_tabs(page(client, "/practice")) == ["/practice"]
    assert current_tabs(page(client, "/journal")) == ["/practice"]
    assert current_tabs(page(client, "/account")) == ["/account"]
    assert current_tabs(page(client, f"/courses/{course.slug}")) == ["/courses"]


def test_an_instructor_who_follows_no_course_has_studio_courses_and_account(
    client: TestClient, session: Session
) -> None:
    sign_in_instructor(client, session)

    html = page(client, "/courses")
    assert tabs(html) == ["/studio", "/courses", "/account"]
    # A laptop's header offers her the same sections, not Vandaag or a practice log.
    assert header_links(html) == ["/courses", "/studio", "/account"]
    assert current_tabs(page(client, "/studio")) == ["/studio"]


def test_an_instructor_who_follows_a_course_also_has_today(
    client: TestClient, session: Session
) -> None:
    enrol(session, sign_in_instructor(client, session))

    html = page(client, "/courses")
    assert tabs(html) == ["/studio", "/today", "/courses", "/account"]
    assert header_links(html) == ["/today", "/courses", "/studio", "/account"]


def test_an_admin_whose_enrolment_ended_has_no_today(client: TestClient, session: Session) -> None:
    admin = sign_in_instructor(client, session, Role.admin)
    enrolment = enrol(session, admin)
    enrolment_service.revoke(session, enrolment=enrolment, by=admin, note="Tried it out.")

    assert tabs(page(client, "/courses")) == ["/studio", "/courses", "/account"]


def test_a_visitor_has_no_tab_bar_and_a_short_header_on_a_phone(client: TestClient) -> None:
    html = page(client, "/courses")

    assert tab_bar(html) is None
    assert "has-tab-bar" not in html
    on_a_phone = [body for shown, body in header_items(html) if shown]
    assert [re.findall(r'href="([^"]+)"', body) for body in on_a_phone] == [
        ["/"],
        ["/courses"],
        ["/login"],
    ]


def test_signed_in_the_phone_header_keeps_only_log_out(
    client: TestClient, session: Session
) -> None:
    log_in(client, make_user(session))

    on_a_phone = [body for shown, body in header_items(page(client, "/today")) if shown]

    assert len(on_a_phone) == 1
    assert 'action="/logout"' in on_a_phone[0]
