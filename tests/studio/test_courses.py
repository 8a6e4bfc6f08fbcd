"""The studio's courses: her list, the course form, publishing, deleting, and the modules.

Ingrid teaches; Olga is another instructor; Lotte is a learner. Staff pages need two-step
verification, so instructors log in with a code. Everyone reads the English texts.
"""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import MAX_PRICE_CENTS, Course, CourseStatus, Lesson, Module
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.errors import FormError
from api.payments.models import Order
from api.progress.models import LessonProgress
from api.security.csrf import HEADER
from api.studio import courses as courses_service
from api.studio.courses import parse_price, slug_from
from tests.factories import csrf_token, enable_totp, field_error, log_in, make_course, make_user
from tests.factories import post_form as post

NEW_COURSE = {
    "title": "Sterke basis: week één",
    "subtitle": "Elke dag tien minuten",
    "slug": "",
    "description": "Een **rustige** opbouw.",
    "price": "€ 49,-",
    "language": "nl",
    "schedule": "drip",
    "outcomes": "Je bekkenbodem vinden\n\n  Rustig ademen  \n",
}


def browser(client: TestClient) -> TestClient:
    """Another browser for the same app, with its own cookies."""
    return TestClient(client.app, base_url=str(client.base_url))


def sign_in(client: TestClient, session: Session, user: User) -> TestClient:
    """Log the browser in as `user`, with a second factor for staff."""
    secret = enable_totp(session, user) if user.role != Role.learner else None
    log_in(client, user, secret=secret)
    return client


@pytest.fixture
def ingrid(session: Session) -> User:
    return make_user(session, name="Ingrid Docent", role=Role.instructor, language="en")


@pytest.fixture
def studio(client: TestClient, session: Session, ingrid: User) -> TestClient:
    """Ingrid's browser, signed in."""
    return sign_in(client, session, ingrid)


def stored(session: Session, slug: str) -> Course | None:
    session.expire_all()
    return session.exec(select(Course).where(Course.slug == slug)).first()


def course_count(session: Session) -> int:
    session.expire_all()
    return len(session.exec(select(Course)).all())


def modules_of(session: Session, course: Course) -> list[tuple[int, str]]:
    """(position, title) of the course's modules, in order."""
    session.expire_all()
    rows = session.exec(
        select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
    ).all()
    return [(row.position, row.title) for row in rows]


def module_ids(session: Session, course: Course) -> list[int]:
    session.expire_all()
    rows = session.exec(
        select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
    ).all()
    return [row.id or 0 for row in rows]


def visited(session: Session, lesson: Lesson, *, completed: bool) -> None:
    """A learner (whose enrolment may since have ended) opened, or finished, the lesson."""
    lotte = make_user(session, name="Lotte")
    assert lotte.id is not None
    assert lesson.id is not None
    now = utcnow()
    session.add(
        LessonProgress(
            user_id=lotte.id,
            lesson_id=lesson.id,
            course_id=lesson.course_id,
            last_visited_at=now - timedelta(days=1),
            completed_at=now if completed else None,
        )
    )
    session.flush()


def input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input id="f-{name}" name="[^"]+" type="[^"]+" value="([^"]*)"', html)
    return match.group(1) if match else None


# --- her list -------------------------------------------------------------------------------


def test_the_studio_lists_her_courses_with_status_and_learners(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    mine = make_course(session, instructor=ingrid, status=CourseStatus.draft)
    lotte = make_user(session, name="Lotte")
    enrolment_service.grant(
        session, user_id=lotte.id, course_id=mine.id, source=EnrolmentSource.free
    )
    theirs = make_course(session)

    page = studio.get("/studio")

    assert page.status_code == 200
    assert mine.title in page.text
    assert theirs.title not in page.text
    assert "Draft" in page.text
    assert '<td data-label="Learners">1</td>' in page.text
    for link in ("", "/learners", "/insight"):
        assert f'href="/studio/courses/{mine.slug}{link}"' in page.text
    assert 'href="/studio/courses/new"' in page.text
    assert 'href="/studio/import"' in page.text


def test_an_admin_sees_every_course(client: TestClient, session: Session) -> None:
    one, other = make_course(session), make_course(session, status=CourseStatus.draft)
    sign_in(client, session, make_user(session, role=Role.admin, language="en"))

    page = client.get("/studio")

    assert one.title in page.text
    assert other.title in page.text


# --- creating a course ----------------------------------------------------------------------


def test_a_new_course_is_her_draft_with_a_slug_made_from_the_title(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    response = post(studio, "/studio/courses/new", NEW_COURSE)

    assert response.status_code == 303
    assert response.headers["location"] == "/studio/courses/sterke-basis-week-een?notice=created"
    course = stored(session, "sterke-basis-week-een")
    assert course is not None
    assert course.instructor_id == ingrid.id
    assert course.status == CourseStatus.draft
    assert course.published_at is None
    assert course.price_cents == 4900
    assert course.schedule == "drip"
    assert course.outcomes == ["Je bekkenbodem vinden", "Rustig ademen"]
    assert studio.get(response.headers["location"]).status_code == 200


def test_a_second_course_with_the_same_title_gets_its_own_address(
    studio: TestClient, session: Session
) -> None:
    post(studio, "/studio/courses/new", NEW_COURSE)

    response = post(studio, "/studio/courses/new", NEW_COURSE)

    assert response.headers["location"].startswith("/studio/courses/sterke-basis-week-een-2?")


def test_an_admin_who_creates_a_course_owns_it(client: TestClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    sign_in(client, session, admin)

    post(client, "/studio/courses/new", {**NEW_COURSE, "slug": "van-de-beheerder"})

    course = stored(session, "van-de-beheerder")
    assert course is not None
    assert course.instructor_id == admin.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "   "),
        ("slug", "taken-course"),
        ("slug", "../x"),
        ("slug", "new"),
        ("price", "-5"),
        ("price", "abc"),
        ("price", "10000,01"),
        ("language", "xx"),
        ("schedule", "sometimes"),
    ],
)
def test_bad_input_keeps_what_she_typed_and_saves_nothing(
    studio: TestClient, session: Session, field: str, value: str
) -> None:
    make_course(session, slug="taken-course")
    before = course_count(session)

    response = post(
        studio, "/studio/courses/new", {**NEW_COURSE, "slug": "mijn-cursus", field: value}
    )

    assert response.status_code == 422
    assert field_error(response.text, field)
    assert course_count(session) == before
    if field != "title":
        assert input_value(response.text, "title") == NEW_COURSE["title"]
    assert "Een **rustige** opbouw." in response.text


def test_every_wrong_field_is_named_at_once(studio: TestClient) -> None:
    response = post(
        studio, "/studio/courses/new", {**NEW_COURSE, "title": "", "slug": "A B", "price": "x"}
    )

    assert response.status_code == 422
    assert all(field_error(response.text, name) for name in ("title", "slug", "price"))


def test_a_path_in_the_slug_is_refused_with_a_clear_message(studio: TestClient) -> None:
    response = post(studio, "/studio/courses/new", {**NEW_COURSE, "slug": "../../etc"})

    assert field_error(response.text, "slug") == (
        "Use only lowercase letters a–z, digits and single hyphens, 3 to 80 characters, "
        "for example sterke-basis."
    )
    assert input_value(response.text, "slug") == "../../etc"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("49", 4900),
        ("49,00", 4900),
        ("49.95", 4995),
        ("€ 49,-", 4900),
        ("€49", 4900),
        ("49,5", 4950),
        ("1.250,00", 125000),
        ("1,250.00", 125000),
        ("1.250", 125000),
        ("49 euro", 4900),
        ("0", 0),
        ("", 0),
        ("10.000", MAX_PRICE_CENTS),
    ],
)
def test_prices_are_read_as_dutch_people_type_them(typed: str, cents: int) -> None:
    assert parse_price(typed) == cents


@pytest.mark.parametrize(
    "typed", ["-1", "€ -49", "abc", "49,999", "10.000,01", "99999999999999", "0,10", "4 9"]
)
def test_impossible_prices_are_refused_with_a_message(typed: str) -> None:
    with pytest.raises(FormError) as refused:
        parse_price(typed)

    assert refused.value.fields["price"]


def test_slugs_are_made_from_any_title() -> None:
    assert slug_from("Sterke basis, week 1!") == "sterke-basis-week-1"
    assert slug_from("Ontspannen ademen — één") == "ontspannen-ademen-een"
    assert slug_from("Yo") == "cursus-yo"
    assert slug_from("😊") == "cursus"
    assert len(slug_from("lang " * 40)) <= 80


# --- editing a course -----------------------------------------------------------------------


def edit_form(course: Course, **changes: str) -> dict[str, str]:
    return {
        "title": course.title,
        "subtitle": course.subtitle,
        "slug": course.slug,
        "description": course.description,
        "price": "0",
        "language": course.language,
        "schedule": course.schedule,
        "outcomes": "\n".join(course.outcomes),
        **changes,
    }


def test_saving_the_course_changes_it_and_its_version(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    version, updated_at = course.version, course.updated_at

    response = post(
        studio,
        f"/studio/courses/{course.slug}",
        edit_form(course, title="Nieuwe titel", price="49,95", slug="nieuwe-titel"),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/studio/courses/nieuwe-titel?notice=saved#details"
    saved = stored(session, "nieuwe-titel")
    assert saved is not None
    assert (saved.title, saved.price_cents) == ("Nieuwe titel", 4995)
    assert saved.version == version + 1
    assert saved.updated_at > updated_at


def test_saving_without_changes_keeps_the_version(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    version = course.version

    response = post(studio, f"/studio/courses/{course.slug}", edit_form(course))

    assert "notice=unchanged" in response.headers["location"]
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.version == version


def test_a_bad_edit_shows_the_typed_values_and_changes_nothing(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    before = course.model_dump()

    response = post(
        studio,
        f"/studio/courses/{course.slug}",
        edit_form(course, title="Getypte titel", price="abc"),
    )

    assert response.status_code == 422
    assert field_error(response.text, "price")
    assert input_value(response.text, "title") == "Getypte titel"
    assert input_value(response.text, "price") == "abc"
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.model_dump() == before


def test_the_preview_button_shows_the_description_without_saving(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    before = course.model_dump()

    response = post(
        studio,
        f"/studio/courses/{course.slug}",
        {**edit_form(course, description="## Welkom\n\nAdem *rustig*."), "action": "preview"},
    )

    assert response.status_code == 200
    assert "<h2>Welkom</h2>" in response.text
    assert "<em>rustig</em>" in response.text
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.model_dump() == before


def test_the_preview_of_a_new_course_saves_nothing(studio: TestClient, session: Session) -> None:
    before = course_count(session)

    response = post(studio, "/studio/courses/new", {**NEW_COURSE, "action": "preview"})

    assert response.status_code == 200
    assert "<strong>rustige</strong>" in response.text
    assert course_count(session) == before


def test_the_live_preview_is_sanitised(studio: TestClient) -> None:
    text = "**Adem** <script>alert(1)</script> [klik](javascript:alert(2))"

    response = studio.post(
        "/studio/preview", data={"text": text}, headers={HEADER: csrf_token(studio)}
    )

    assert response.status_code == 200
    assert "<strong>Adem</strong>" in response.text
    assert "<script" not in response.text
    assert 'href="javascript' not in response.text


def test_the_live_preview_needs_the_csrf_header(studio: TestClient) -> None:
    response = studio.post("/studio/preview", data={"text": "hoi"})

    assert response.status_code == 403


# --- status ---------------------------------------------------------------------------------


def test_a_course_without_lessons_cannot_be_published(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, status=CourseStatus.draft, modules=1)
    session.exec(select(Lesson).where(Lesson.course_id == course.id))
    for lesson in session.exec(select(Lesson).where(Lesson.course_id == course.id)).all():
        session.delete(lesson)
    session.flush()

    response = post(studio, f"/studio/courses/{course.slug}/status", {"status": "published"})

    assert response.status_code == 409
    assert "Add at least one lesson before you publish the course." in response.text
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.status == CourseStatus.draft


def test_publishing_puts_the_course_in_the_catalog_and_draft_takes_it_out(
    studio: TestClient, client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, status=CourseStatus.draft)
    visitor = browser(client)
    assert course.title not in visitor.get("/courses").text

    response = post(studio, f"/studio/courses/{course.slug}/status", {"status": "published"})

    assert response.headers["location"] == f"/studio/courses/{course.slug}?notice=published"
    published = stored(session, course.slug)
    assert published is not None
    first_published_at = published.published_at
    assert first_published_at is not None
    assert course.title in visitor.get("/courses").text

    post(studio, f"/studio/courses/{course.slug}/status", {"status": "draft"})
    assert course.title not in visitor.get("/courses").text
    assert visitor.get(f"/courses/{course.slug}").status_code == 404

    post(studio, f"/studio/courses/{course.slug}/status", {"status": "published"})
    again = stored(session, course.slug)
    assert again is not None
    assert again.published_at == first_published_at


def test_an_archived_course_leaves_the_catalog_and_stays_open_to_her_learners(
    studio: TestClient, client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    lotte = make_user(session, name="Lotte")
    enrolment_service.grant(
        session, user_id=lotte.id, course_id=course.id, source=EnrolmentSource.free
    )

    response = post(studio, f"/studio/courses/{course.slug}/status", {"status": "archived"})

    assert response.status_code == 303
    visitor, learner = browser(client), sign_in(browser(client), session, lotte)
    assert course.title not in visitor.get("/courses").text
    assert visitor.get(f"/courses/{course.slug}").status_code == 404
    assert learner.get(f"/courses/{course.slug}").status_code == 200


def test_back_to_draft_is_refused_while_learners_follow_the_course(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    lotte = make_user(session)
    enrolment_service.grant(
        session, user_id=lotte.id, course_id=course.id, source=EnrolmentSource.free
    )

    response = post(studio, f"/studio/courses/{course.slug}/status", {"status": "draft"})

    assert response.status_code == 409
    assert "Archive it instead" in response.text
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.status == CourseStatus.published


def test_an_unknown_status_is_refused(studio: TestClient, session: Session, ingrid: User) -> None:
    course = make_course(session, instructor=ingrid)

    response = post(studio, f"/studio/courses/{course.slug}/status", {"status": "gone"})

    assert response.status_code == 422
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.status == CourseStatus.published


# --- deleting a course ----------------------------------------------------------------------


def test_a_course_nobody_used_is_deleted_after_confirmation(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, status=CourseStatus.draft)
    course_id = course.id
    page = studio.get(f"/studio/courses/{course.slug}/delete")
    assert 'name="confirm"' in page.text

    unconfirmed = post(studio, f"/studio/courses/{course.slug}/delete")
    assert unconfirmed.status_code == 422
    assert field_error(unconfirmed.text, "confirm")
    assert stored(session, course.slug) is not None

    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["location"] == "/studio?notice=deleted"
    assert stored(session, course.slug) is None
    assert not session.exec(select(Module).where(Module.course_id == course_id)).all()
    assert not session.exec(select(Lesson).where(Lesson.course_id == course_id)).all()


def test_a_course_with_enrolments_cannot_be_deleted_and_archive_is_offered(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    lotte = make_user(session)
    enrolment_service.grant(
        session, user_id=lotte.id, course_id=course.id, source=EnrolmentSource.free
    )

    page = studio.get(f"/studio/courses/{course.slug}/delete")
    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    for html in (page.text, response.text):
        assert f'action="/studio/courses/{course.slug}/status"' in html
        assert 'name="status" value="archived"' in html
        assert 'name="confirm"' not in html
    assert response.status_code == 409
    assert stored(session, course.slug) is not None


def test_a_course_with_progress_of_a_former_learner_cannot_be_deleted(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).first()
    assert lesson is not None
    visited(session, lesson, completed=True)

    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    assert response.status_code == 409
    assert stored(session, course.slug) is not None


def test_a_paid_course_with_an_order_is_never_deleted(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, price_cents=4900)
    session.add(
        Order(
            course_id=course.id,
            course_title=course.title,
            status="expired",
            amount_cents=4900,
            stripe_checkout_session_id="cs_test_studio_delete",
        )
    )
    session.flush()

    response = post(studio, f"/studio/courses/{course.slug}/delete", {"confirm": "yes"})

    assert response.status_code == 409
    assert "orders are kept for the accounts" in response.text
    assert stored(session, course.slug) is not None


# --- modules --------------------------------------------------------------------------------


def test_the_course_page_lists_modules_lessons_and_where_to_go_next(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, modules=2, lessons_per_module=2)
    course.cover_image = "omslag.webp"
    session.add(course)
    session.flush()
    lessons = session.exec(select(Lesson).where(Lesson.course_id == course.id)).all()
    [first_module, _second] = module_ids(session, course)

    page = studio.get(f"/studio/courses/{course.slug}")

    assert page.status_code == 200
    for lesson in lessons:
        assert f'href="/studio/courses/{course.slug}/lessons/{lesson.id}"' in page.text
    assert page.text.count('<td data-label="Free preview">yes</td>') == 1
    assert f'href="/studio/courses/{course.slug}/modules/{first_module}/lessons/new"' in page.text
    assert f'href="/courses/{course.slug}"' in page.text
    assert f'action="/studio/courses/{course.slug}/cover"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="image"' in page.text
    assert 'src="/media/omslag.webp"' in page.text


def test_a_new_module_goes_at_the_end_and_opens_a_week_after_the_last(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, drip_days=[0, 7])
    version = course.version
    page = studio.get(f"/studio/courses/{course.slug}")
    assert input_value(page.text, "new-module-unlock_after_days") == "14"

    response = post(
        studio, f"/studio/courses/{course.slug}/modules", {"title": "Week 3", "summary": "Kracht"}
    )

    assert response.status_code == 303
    assert modules_of(session, course) == [(0, "Week 1"), (1, "Week 2"), (2, "Week 3")]
    new = session.get(Module, module_ids(session, course)[2])
    assert new is not None
    assert new.unlock_after_days == 14
    assert response.headers["location"].endswith(f"#module-{new.id}")
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.version == version + 1


@pytest.mark.parametrize(
    ("field", "value"), [("title", ""), ("unlock_after_days", "-1"), ("unlock_after_days", "x")]
)
def test_a_module_with_bad_input_is_not_added(
    studio: TestClient, session: Session, ingrid: User, field: str, value: str
) -> None:
    course = make_course(session, instructor=ingrid, drip_days=[0, 7])
    before = modules_of(session, course)

    response = post(
        studio,
        f"/studio/courses/{course.slug}/modules",
        {"title": "Week 3", "summary": "Kracht", "unlock_after_days": "14", field: value},
    )

    assert response.status_code == 422
    assert field_error(response.text, f"new-module-{field}")
    assert "Kracht" in response.text
    assert modules_of(session, course) == before


def test_a_module_is_edited_in_place(studio: TestClient, session: Session, ingrid: User) -> None:
    course = make_course(session, instructor=ingrid, drip_days=[0, 7])
    first, _second = module_ids(session, course)
    version = course.version

    response = post(
        studio,
        f"/studio/courses/{course.slug}/modules/{first}",
        {"title": "Week 1 — Bewustwording", "summary": "Voelen", "unlock_after_days": "0"},
    )

    assert response.status_code == 303
    assert modules_of(session, course) == [(0, "Week 1 — Bewustwording"), (1, "Week 2")]
    saved = stored(session, course.slug)
    assert saved is not None
    assert saved.version == version + 1


def test_a_bad_module_edit_is_shown_in_that_module_and_changes_nothing(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    first, _second = module_ids(session, course)

    response = post(
        studio,
        f"/studio/courses/{course.slug}/modules/{first}",
        {"title": "Getypt", "unlock_after_days": "9999"},
    )

    assert response.status_code == 422
    assert field_error(response.text, f"module-{first}-unlock_after_days")
    assert input_value(response.text, f"module-{first}-title") == "Getypt"
    assert modules_of(session, course) == [(0, "Week 1"), (1, "Week 2")]


def test_modules_move_up_and_down_and_the_button_keeps_the_focus(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, modules=3, lessons_per_module=1)
    first, second, third = module_ids(session, course)

    response = post(
        studio, f"/studio/courses/{course.slug}/modules/{third}/move", {"direction": "up"}
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert location == f"/studio/courses/{course.slug}?focus=module-{third}-up"
    assert module_ids(session, course) == [first, third, second]
    page = studio.get(location)
    assert re.search(rf'id="module-{third}-up"[^>]*autofocus', page.text)

    post(studio, f"/studio/courses/{course.slug}/modules/{first}/move", {"direction": "down"})
    assert module_ids(session, course) == [third, first, second]
    assert [position for position, _title in modules_of(session, course)] == [0, 1, 2]


def test_moving_the_first_module_up_changes_nothing(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    ids = module_ids(session, course)

    response = post(
        studio, f"/studio/courses/{course.slug}/modules/{ids[0]}/move", {"direction": "up"}
    )

    assert response.status_code == 303
    assert module_ids(session, course) == ids
    # At the top the up button is disabled, so the down button takes the focus.
    page = studio.get(response.headers["location"])
    assert re.search(rf'id="module-{ids[0]}-down"[^>]*autofocus', page.text)


def test_deleting_a_module_closes_the_gap(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, modules=3)
    first, second, third = module_ids(session, course)
    page = studio.get(f"/studio/courses/{course.slug}/modules/{second}/delete")
    assert "Les 2.1" in page.text

    response = post(studio, f"/studio/courses/{course.slug}/modules/{second}/delete")

    assert response.status_code == 303
    assert module_ids(session, course) == [first, third]
    assert [position for position, _title in modules_of(session, course)] == [0, 1]
    assert not session.exec(select(Lesson).where(Lesson.module_id == second)).all()


def test_a_module_with_learner_progress_is_not_deleted(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    first, _second = module_ids(session, course)
    lesson = session.exec(select(Lesson).where(Lesson.module_id == first)).first()
    assert lesson is not None
    visited(session, lesson, completed=False)

    page = studio.get(f"/studio/courses/{course.slug}/modules/{first}/delete")
    response = post(studio, f"/studio/courses/{course.slug}/modules/{first}/delete")

    assert "cannot be deleted" in page.text
    assert response.status_code == 409
    assert module_ids(session, course)[0] == first


def test_a_module_of_another_course_is_not_found(
    studio: TestClient, session: Session, ingrid: User
) -> None:
    mine = make_course(session, instructor=ingrid)
    other_course = make_course(session, instructor=ingrid)
    [foreign, _] = module_ids(session, other_course)
    before = modules_of(session, other_course)

    for path, data in [
        (f"/modules/{foreign}", {"title": "Overgenomen"}),
        (f"/modules/{foreign}/move", {"direction": "down"}),
        (f"/modules/{foreign}/delete", {}),
    ]:
        assert post(studio, f"/studio/courses/{mine.slug}{path}", data).status_code == 404
    assert studio.get(f"/studio/courses/{mine.slug}/modules/{foreign}/delete").status_code == 404
    assert modules_of(session, other_course) == before


# --- who may --------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/studio/courses/{slug}"),
    ("POST", "/studio/courses/{slug}"),
    ("POST", "/studio/courses/{slug}/status"),
    ("GET", "/studio/courses/{slug}/delete"),
    ("POST", "/studio/courses/{slug}/delete"),
    ("POST", "/studio/courses/{slug}/modules"),
    ("POST", "/studio/courses/{slug}/modules/{module_id}"),
    ("POST", "/studio/courses/{slug}/modules/{module_id}/move"),
    ("GET", "/studio/courses/{slug}/modules/{module_id}/delete"),
    ("POST", "/studio/courses/{slug}/modules/{module_id}/delete"),
]
FORM = {
    "title": "Overgenomen",
    "slug": "overgenomen",
    "price": "1",
    "status": "archived",
    "direction": "down",
    "confirm": "yes",
}


def snapshot(session: Session, course: Course) -> list[object]:
    session.expire_all()
    modules = session.exec(select(Module).where(Module.course_id == course.id)).all()
    saved = session.get(Course, course.id)
    return [saved.model_dump() if saved else None, sorted(str(m.model_dump()) for m in modules)]


def answers(client: TestClient, course: Course, module_id: int) -> dict[str, int]:
    result = {}
    for method, template in ROUTES:
        url = template.format(slug=course.slug, module_id=module_id)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = post(client, url, FORM)
        result[f"{method} {template}"] = response.status_code
    return result


def test_another_instructor_is_refused_every_course_route_and_nothing_changes(
    client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, status=CourseStatus.draft)
    sign_in(client, session, make_user(session, role=Role.instructor, name="Olga"))
    before = snapshot(session, course)

    got = answers(client, course, module_ids(session, course)[0])

    assert got == dict.fromkeys(got, 403)
    assert snapshot(session, course) == before
    assert course.title not in client.get("/studio").text


def test_a_learner_is_refused_the_studio(
    client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    sign_in(client, session, make_user(session, name="Lotte"))
    before = snapshot(session, course)

    got = answers(client, course, module_ids(session, course)[0])
    got["GET /studio"] = client.get("/studio").status_code
    got["GET /studio/courses/new"] = client.get("/studio/courses/new").status_code
    got["POST /studio/courses/new"] = post(client, "/studio/courses/new", NEW_COURSE).status_code
    got["POST /studio/preview"] = post(client, "/studio/preview", {"text": "hoi"}).status_code

    assert got == dict.fromkeys(got, 403)
    assert snapshot(session, course) == before


def test_anonymous_visitors_are_sent_to_the_login(
    client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid)
    before = snapshot(session, course)

    page = client.get(f"/studio/courses/{course.slug}", follow_redirects=False)
    form = post(client, f"/studio/courses/{course.slug}/status", {"status": "archived"})
    studio_home = client.get("/studio", follow_redirects=False)

    assert page.status_code == studio_home.status_code == form.status_code == 303
    assert page.headers["location"] == f"/login?next=%2Fstudio%2Fcourses%2F{course.slug}"
    assert form.headers["location"].startswith("/login")
    assert snapshot(session, course) == before


def test_an_instructor_without_two_step_verification_is_sent_to_set_it_up(
    client: TestClient, session: Session
) -> None:
    log_in(client, make_user(session, role=Role.instructor))

    response = client.get("/studio", follow_redirects=False)

    assert response.headers["location"] == "/account/two-factor"


def test_an_address_that_cannot_be_a_course_is_not_found(studio: TestClient) -> None:
    for slug in ("ab%00c", "..%2Fx", "geen-cursus"):
        assert studio.get(f"/studio/courses/{slug}").status_code == 404
    assert post(studio, "/studio/courses/ab%00c/modules", {"title": "x"}).status_code == 404


@pytest.mark.parametrize("module_id", ["0", "-1", "2147483648", "99999999999999999999999"])
def test_a_module_number_no_module_can_have_is_not_found(
    studio: TestClient, session: Session, ingrid: User, module_id: str
) -> None:
    course = make_course(session, instructor=ingrid)
    base = f"/studio/courses/{course.slug}/modules/{module_id}"

    assert studio.get(f"{base}/delete").status_code == 404
    assert post(studio, f"{base}/move", {"direction": "up"}).status_code == 404
    assert post(studio, base, {"title": "Week"}).status_code == 404


def test_a_slug_taken_at_the_same_moment_is_a_form_error_and_changes_nothing(
    studio: TestClient, session: Session, ingrid: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_course(session, instructor=ingrid, slug="eerste-cursus")
    second = make_course(session, instructor=ingrid, slug="tweede-cursus")
    before = second.model_dump()
    # As if the other request saved its slug between this one's check and its write.
    monkeypatch.setattr(courses_service, "_slug_taken", lambda *_args: False)

    response = post(
        studio,
        f"/studio/courses/{second.slug}",
        edit_form(second, title="Andere titel", slug=first.slug),
    )

    assert response.status_code == 422
    assert field_error(response.text, "slug")
    saved = stored(session, "tweede-cursus")
    assert saved is not None
    assert saved.model_dump() == before
