"""The catalog's list and a course's list of lessons are rendered once and kept
(web/fragments.py): what any visitor sees must still be what the database holds on the very
next request, and nobody may see another visitor's part."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.accounts.models import Role
from api.catalog.models import InstructorProfile
from api.clock import local_day
from api.cohorts import service as cohorts
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from api.questionnaires.models import Questionnaire
from api.questionnaires.service import stored_definition
from tests.factories import (
    carries_csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)
from tests.questionnaires.test_definition import pain_test


def _catalog_card(html: str, title: str) -> str:
    """The text of the catalog's card for the course called `title`."""
    start = html.index(f">{title}</a>")
    return html[start : html.index("</article>", start)]


def test_the_catalog_shows_a_changed_course_or_teacher_on_the_next_request(
    session: Session, client: TestClient
) -> None:
    teacher = make_user(session, role=Role.instructor, name="Marit Jansen")
    course = make_course(session, instructor=teacher, price_cents=4900)
    make_course(session)
    assert "Marit Jansen" in _catalog_card(client.get("/courses").text, course.title)

    for change, shown in (
        ("UPDATE course SET title = 'Sterk na de bevalling' WHERE id = :id", None),
        ("UPDATE course SET price_cents = 0 WHERE id = :id", "Gratis"),
        ("UPDATE course SET subtitle = 'Tien minuten per dag' WHERE id = :id", "Tien minuten"),
        ("UPDATE user_account SET name = 'Marit de Vries' WHERE id = :teacher", "Marit de Vries"),
    ):
        session.execute(text(change), {"id": course.id, "teacher": teacher.id})
        session.flush()
        card = _catalog_card(client.get("/courses").text, "Sterk na de bevalling")
        if shown is not None:
            assert shown in card, change
    assert "49" not in card
    assert "Marit Jansen" not in card


def test_the_catalog_list_is_kept_per_language(session: Session, client: TestClient) -> None:
    make_course(session)
    for _round in range(2):
        assert "Gratis" in client.get("/courses", headers={"Accept-Language": "nl"}).text
        english = client.get("/courses", headers={"Accept-Language": "en"}).text
        assert "Free" in english
        assert "Gratis" not in english


def test_a_changed_lesson_list_shows_on_the_next_request(
    session: Session, client: TestClient
) -> None:
    course = make_course(session, modules=2, lessons_per_module=2)
    url = f"/courses/{course.slug}"
    assert "Les 2.2" in client.get(url).text
    session.expunge(course)  # keeps the slug it had

    for change, shown in (
        ("UPDATE lesson SET title = 'Ademen in zijlig' WHERE slug = 'les-2-2' AND course_id = :id",
         "Ademen in zijlig"),
        ("UPDATE course_module SET title = 'Tweede week' WHERE position = 1 AND course_id = :id",
         "Tweede week"),
        ("UPDATE lesson SET estimated_minutes = 17 WHERE slug = 'les-1-2' AND course_id = :id",
         "17 minuten"),
        # The list's links carry the course's address, which is the course row's, not content.
        ("UPDATE course SET slug = 'rustig-sterk' WHERE id = :id", "/courses/rustig-sterk/lessons"),
    ):  # fmt: skip
        session.execute(text(change), {"id": course.id})
        session.flush()
        page = client.get("/courses/rustig-sterk" if "SET slug" in change else url).text
        assert shown in page, change
    assert "Les 2.2" not in page
    assert f"/courses/{course.slug}/" not in page  # no link to the old address is left


def test_a_new_free_preview_opens_in_the_list_at_once(session: Session, client: TestClient) -> None:
    course = make_course(session, modules=1, lessons_per_module=2)
    url = f"/courses/{course.slug}"
    assert client.get(url).text.count("Op slot") == 1  # les 1.2; les 1.1 is free to try

    session.execute(
        text("UPDATE lesson SET free_preview = true WHERE course_id = :id"), {"id": course.id}
    )
    session.flush()
    page = client.get(url).text
    assert "Op slot" not in page
    assert page.count("Gratis proefles") == 2


def test_each_visitor_sees_her_own_list_of_lessons(session: Session, client: TestClient) -> None:
    """A visitor, the course's instructor and an enrolled learner each get their own list, in
    either order: the kept list is only for those who may open the same lessons."""
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher, modules=1, lessons_per_module=3)
    learner = make_user(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    url = f"/courses/{course.slug}"
    instructor_browser = new_browser(client)
    learner_browser = new_browser(client)
    log_in(instructor_browser, teacher, secret=enable_totp(session, teacher))
    log_in(learner_browser, learner)
    post_form(learner_browser, f"{url}/lessons/les-1-1/complete", {})

    for _round in range(2):
        visitor = client.get(url).text
        assert visitor.count("Op slot") == 2
        assert "(voltooid)" not in visitor
        preview = instructor_browser.get(url).text
        assert "Op slot" not in preview
        assert "(voltooid)" not in preview
        hers = learner_browser.get(url).text
        assert "Op slot" not in hers
        assert hers.count("(voltooid)") == 1


def _menu(html: str) -> str:
    return html[html.index('<nav class="site-nav"') : html.index("</nav>")]


def test_each_visitor_gets_the_menu_of_her_role_and_section(
    session: Session, client: TestClient
) -> None:
    """The menus are rendered once per role and section: a visitor, a learner and an
    instructor each see their own, in either order, with the page they are on marked."""
    teacher = make_user(session, role=Role.instructor)
    learner = make_user(session)
    course = make_course(session, instructor=teacher)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    instructor_browser = new_browser(client)
    learner_browser = new_browser(client)
    log_in(instructor_browser, teacher, secret=enable_totp(session, teacher))
    log_in(learner_browser, learner)

    for _round in range(2):
        visitor = _menu(client.get("/courses").text)
        assert 'href="/login"' in visitor
        assert 'href="/courses" aria-current="page"' in visitor
        assert "/logout" not in visitor
        hers = learner_browser.get("/courses").text
        assert 'href="/today"' in _menu(hers)
        assert 'href="/studio"' not in hers
        assert 'href="/login"' not in _menu(hers)
        assert 'href="/courses" aria-current="page"' in _menu(hers)
        assert 'href="/practice" aria-current="page"' in learner_browser.get("/practice").text
        studio = instructor_browser.get("/courses").text
        assert 'href="/studio"' in _menu(studio)
        assert 'href="/practice"' not in studio


def test_what_the_course_page_says_about_the_course_shows_changed_on_the_next_request(
    session: Session, client: TestClient
) -> None:
    teacher = make_user(session, role=Role.instructor, name="Marit Jansen")
    course = make_course(session, instructor=teacher)
    url = f"/courses/{course.slug}"
    assert "rustige" in client.get(url).text

    course.description = "Een **stevige** opbouw."
    course.outcomes = ["Sterker uitademen"]
    course.faq = [{"question": "Mag ik pauzeren?", "answer": "Ja, *altijd*."}]
    course.testimonials = [
        {"name": "Fenna", "text": "Het hielp mij echt.", "permission_on": "2026-11-01"}
    ]
    session.add(course)
    session.add(
        InstructorProfile(
            user_id=id_of(teacher), bio="Twintig jaar bekkentherapeut.", credentials="MSc"
        )
    )
    session.flush()
    page = client.get(url).text
    shown = ["<strong>stevige</strong>", "Sterker uitademen", "Mag ik pauzeren?", "<em>altijd</em>"]
    shown += ["Het hielp mij echt.", "Fenna", "Twintig jaar", "MSc"]
    for text_shown in shown:
        assert text_shown in page, text_shown
    assert "rustige" not in page
    assert "Hoe lang duurt het?" not in page

    session.execute(
        text("UPDATE user_account SET name = 'Marit de Vries' WHERE id = :id"), {"id": teacher.id}
    )
    session.flush()
    page = client.get(url).text
    assert "Marit de Vries" in page
    assert "Marit Jansen" not in page


def test_a_lessons_way_in_and_out_shows_a_change_on_the_next_request(
    session: Session, client: TestClient
) -> None:
    """A lesson's breadcrumb, length, journal card and pager are rendered once per course version
    and language: a change to the course's own row (its title, its address) or to its lessons
    shows on the very next request."""
    course = make_course(session, modules=1, lessons_per_module=3)
    learner = make_user(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    log_in(client, learner)
    session.expunge(course)  # keeps the slug it had

    def lesson(slug: str = course.slug) -> str:
        page = client.get(f"/courses/{slug}/lessons/les-1-2")
        assert page.status_code == 200
        text: str = page.text
        return text

    first = lesson()
    assert "Les 1.3" in first.split('<nav class="pager"', 1)[1]
    assert "journal-card" not in first
    for change, shown in (
        ("UPDATE course SET title = 'Sterk na de bevalling' WHERE id = :id",
         '">Sterk na de bevalling</a></li>'),
        ("UPDATE lesson SET title = 'Zijlig ademen' WHERE slug = 'les-1-3' AND course_id = :id",
         '<span lang="nl">Zijlig ademen</span></span>'),
        ("UPDATE lesson SET estimated_minutes = 17 WHERE slug = 'les-1-2' AND course_id = :id",
         "ongeveer 17 minuten"),
        ("UPDATE lesson SET journal_prompt = 'Wat voelde je?' WHERE slug = 'les-1-2' "
         "AND course_id = :id", "Wat voelde je?</p>"),
        ("UPDATE course SET slug = 'rustig-sterk' WHERE id = :id",
         'rel="next" href="/courses/rustig-sterk/lessons/les-1-3"'),
    ):  # fmt: skip
        session.execute(text(change), {"id": course.id})
        session.flush()
        page = lesson("rustig-sterk" if "SET slug" in change else course.slug)
        assert shown in page, change
    assert f"/courses/{course.slug}/" not in page  # no link to the old address is left
    assert course.title not in page


def _body(html: str) -> str:
    """The course page's body (catalog/course_body.html): what lies between the menu and the
    footer."""
    return html[html.index('<main id="main"') : html.index('<footer class="site-footer"')]


def test_a_visitors_course_page_shows_each_change_on_the_next_request(
    session: Session, client: TestClient
) -> None:
    """Someone who is not signed in gets the course page's body kept for what it shows
    (`public_body` in web/pages/catalog.py): every change is there on the very next request."""
    teacher = make_user(session, role=Role.instructor, name="Marit Jansen")
    course = make_course(session, instructor=teacher, price_cents=4900, modules=1)
    url = f"/courses/{course.slug}"
    for _round in range(2):
        body = _body(client.get(url).text)
        assert body.count("€\u00a049,00") == 2  # the enrol area and the buy bar (a no-break space)
        assert "Door Marit Jansen" in body
        assert "Probeer de gratis les" in body
        assert "Past deze cursus bij je?" not in body

    changes = (
        ("UPDATE course SET price_cents = 2900 WHERE id = :id", "€\u00a029,00", "€\u00a049,00"),
        ("UPDATE course SET title = 'Sterk na de bevalling' WHERE id = :id", "Sterk na de", None),
        ("UPDATE course SET subtitle = 'Tien minuten' WHERE id = :id", "Tien minuten", "Elke dag"),
        ("UPDATE course SET cover_image = 'omslag.jpg' WHERE id = :id", "/media/omslag.jpg", None),
        (
            "UPDATE user_account SET name = 'Marit de Vries' WHERE id = :teacher",
            "Door Marit de",
            "Jansen",
        ),
        ("UPDATE lesson SET free_preview = false WHERE course_id = :id", None, "gratis les"),
        ("UPDATE lesson SET estimated_minutes = 20 WHERE course_id = :id", "60 minuten", None),
    )
    for change, shown, gone in changes:
        session.execute(text(change), {"id": course.id, "teacher": teacher.id})
        session.flush()
        body = _body(client.get(url).text)
        assert shown is None or shown in body, change
        assert gone is None or gone not in body, change

    # A self-test published for the course invites her to it.
    test = Questionnaire(
        course_id=id_of(course),
        slug="pijntest",
        title="Pijntest",
        language="nl",
        status="published",
        self_test=True,
        definition=stored_definition(pain_test()),
    )
    session.add(test)
    session.flush()
    assert 'href="/test/pijntest"' in _body(client.get(url).text)

    # Back from the payment page without paying: only that page says nothing was charged.
    assert "niets afgeschreven" in _body(client.get(f"{url}?checkout=cancelled").text)
    assert "niets afgeschreven" not in _body(client.get(url).text)

    # In groups: the places left follow the seats taken.
    course.in_cohorts = True
    session.add(course)
    group = cohorts.create(
        session,
        course=course,
        data=cohorts.CohortInput(
            starts_on=local_day(utcnow()) + timedelta(days=7),
            capacity=3,
            opens_on=None,
            closes_on=None,
        ),
    )
    assert "nog 3 plaatsen vrij" in _body(client.get(url).text)
    group.taken = 2
    session.add(group)
    session.flush()
    body = _body(client.get(url).text)
    assert "nog 1 plaats vrij" in body
    assert "nog 3 plaatsen" not in body


def test_the_kept_course_body_is_only_for_visitors_who_are_not_signed_in(
    session: Session, client: TestClient
) -> None:
    """A learner who may buy, an enrolled learner and a visitor each get their own way in, in
    either order; the kept body carries nobody's form."""
    course = make_course(session, price_cents=4900)
    learner = make_user(session)
    enrolled = make_user(session)
    enrolment_service.grant(
        session, user_id=enrolled.id, course_id=course.id, source=EnrolmentSource.manual
    )
    url = f"/courses/{course.slug}"
    buyer_browser = new_browser(client)
    enrolled_browser = new_browser(client)
    log_in(buyer_browser, learner)
    log_in(enrolled_browser, enrolled)

    for _round in range(2):
        visitor = _body(client.get(url).text)
        assert "Maak een account om je in te schrijven" in visitor
        assert "csrf_token" not in visitor
        buyer = buyer_browser.get(url).text
        assert 'action="/courses/' + course.slug + '/checkout"' in buyer
        assert carries_csrf_token(buyer_browser, buyer)
        assert "Maak een account" not in _body(buyer)
        hers = _body(enrolled_browser.get(url).text)
        assert "Je voortgang" in hers
        assert "Maak een account" not in hers
        english = _body(client.get(url, headers={"Accept-Language": "en"}).text)
        assert "Create an account to enrol" in english
