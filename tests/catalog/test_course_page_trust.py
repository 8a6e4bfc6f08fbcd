"""What the course page shows to earn trust (the instructor's profile, testimonials, data for
search engines and sharing) and the certificate of completion, without costing statements."""

import io
import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts import personal_data
from api.accounts.models import Role, User
from api.catalog import service as catalog
from api.catalog.models import Course, InstructorProfile
from api.certificates import service as certificates
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress import service as progress_service
from api.studio import testimonials
from tests.catalog.test_pages_queries import Measure, statements  # noqa: F401 (a fixture)
from tests.factories import (
    csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)
from tests.pdfs import pdf_text
from tests.studio.test_other_instructor import PNG

HOSTILE = "Rust </script><script>alert(1)</script> & 'adem'"


def test_profile_and_testimonials_cost_no_statement(session: Session, statements: Measure) -> None:  # noqa: F811
    bare = make_course(session)
    rich = make_course(session, price_cents=4900)
    session.add(
        InstructorProfile(user_id=rich.instructor_id, bio="**Ik** help je.", credentials="BIG 123")
    )
    rich.testimonials = [
        {"name": f"Deelnemer {n}", "text": "Fijn.", "permission_on": "2026-11-01"}
        for n in range(12)
    ]
    session.add(rich)
    session.flush()
    for url in ("/courses/{slug}", "/courses/{slug}/lessons/les-1-1"):
        statements(url.format(slug=bare.slug))  # content read once per version
        statements(url.format(slug=rich.slug))
        assert len(statements(url.format(slug=bare.slug))) == len(
            statements(url.format(slug=rich.slug))
        )


def test_course_data_is_escaped_and_absolute(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=4900)
    course.title = HOSTILE
    session.add(course)
    session.flush()

    html = client.get(f"/courses/{course.slug}").text

    [block] = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    data = json.loads(block)
    assert data["name"] == HOSTILE
    assert data["offers"]["price"] == "49.00"
    assert data["offers"]["priceCurrency"] == "EUR"
    assert "<" not in block
    assert "&" not in block
    assert re.search(r'<meta property="og:image" content="https?://[^"]+">', html)
    assert f'<meta property="og:url" content="http://testserver/courses/{course.slug}">' in html


def test_a_testimonial_needs_the_participants_permission(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner)
    log_in(client, owner, secret=enable_totp(session, owner))
    url = f"/studio/courses/{course.slug}/testimonials"
    words = {"testimonial_name": "Els", "testimonial_text": "Ik til weer zonder zorgen."}

    refused = post_form(client, url, words)
    added = post_form(client, url, {**words, "testimonial_permission": "on"})

    assert refused.status_code == 422
    assert "Ik til weer zonder zorgen." in refused.text  # what she typed stays
    assert added.status_code == 303
    session.refresh(course)
    [item] = course.testimonials or []
    assert item["name"] == "Els"
    assert date.fromisoformat(item["permission_on"])
    assert "Ik til weer zonder zorgen." in client.get(f"/courses/{course.slug}").text


def test_testimonials_refuse_a_missing_name_and_remove_by_place(session: Session) -> None:
    course = make_course(session)
    testimonials.add(
        session, course=course, name="An", text="Goed.", permission=True, today=date(2026, 12, 1)
    )
    testimonials.remove(session, course=course, number=1)
    assert course.testimonials is None


def _finish(session: Session, learner: User, course: Course) -> catalog.CourseOutline:
    outline = catalog.outline(session, slug=course.slug, viewer=learner)
    for lesson in outline.lessons:
        progress_service.complete(session, user_id=learner.id or 0, lesson=lesson, now=utcnow())
    return outline


def test_a_certificate_waits_for_every_lesson_and_goes_with_her_account(
    client: TestClient, session: Session
) -> None:
    learner = make_user(session, name="Sanne Smit")
    course = make_course(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.free
    )
    outline = catalog.outline(session, slug=course.slug, viewer=learner)
    with pytest.raises(certificates.NotFinished):
        certificates.issue(
            session, user=learner, outline=outline, completed=0, name="S", now=utcnow()
        )
    outline = _finish(session, learner, course)
    made = certificates.issue(
        session,
        user=learner,
        outline=outline,
        completed=outline.lesson_count,
        name="Sanne S.",
        now=utcnow(),
    )
    check = client.get(f"/certificates/{made.code}")
    assert check.status_code == 200
    assert "Sanne S." in check.text
    assert learner.email not in check.text
    other = make_user(session)
    log_in(client, other)
    assert client.get(f"/certificates/{made.code}/pdf").status_code == 404

    assert personal_data.export(session, user=learner)["certificates"][0]["name"] == "Sanne S."
    personal_data.erase(session, user=learner)
    assert client.get(f"/certificates/{made.code}").status_code == 404


def test_a_name_in_any_european_alphabet_is_printed_on_the_certificate(
    client: TestClient, session: Session
) -> None:
    learner = make_user(session)
    course = make_course(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.free
    )
    _finish(session, learner, course)
    log_in(client, learner)
    name = "Łucja Zoë Sørås-Ødegård"

    made = post_form(client, f"/courses/{course.slug}/certificate", {"name": name})

    assert made.status_code == 303, made.text[:500]
    [certificate] = certificates.mine(session, user=learner)
    response = client.get(f"/certificates/{certificate.code}/pdf")
    assert response.status_code == 200
    assert name in pdf_text(response.content)


def test_hours_are_rounded_to_half_hours() -> None:
    assert [str(certificates.hours_of(m)) for m in (5, 44, 45, 148)] == ["0.5", "0.5", "1", "2.5"]


def test_her_profile_photo_shows_to_every_visitor(client: TestClient, session: Session) -> None:
    owner = make_user(session, role=Role.instructor, name="Inge")
    course = make_course(session, instructor=owner)
    log_in(client, owner, secret=enable_totp(session, owner))
    form = {
        "csrf_token": csrf_token(client),
        "photo_alt": "Inge bij het raam",
        "credentials": "BIG 19012345601",
        "bio": "Ik werk **rustig**.<script>x()</script>",
    }
    photo = {"photo": ("inge.png", io.BytesIO(PNG), "image/png")}

    saved = client.post("/studio/profile", data=form, files=photo, follow_redirects=False)

    assert saved.status_code == 303
    page = new_browser(client).get(f"/courses/{course.slug}").text
    [name] = re.findall(
        r'class="teacher__photo" src="/media/([^"]+)" alt="Inge bij het raam"', page
    )
    assert "BIG 19012345601" in page
    assert "<strong>rustig</strong>" in page
    assert "<script>x()" not in page
    assert new_browser(client).get(f"/media/{name}").status_code == 200
