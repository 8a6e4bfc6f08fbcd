"""The catalog, course and lesson pages as a visitor, a learner, an instructor and an admin see
them. Texts are asserted in English (the Dutch catalog gets these strings later)."""

import itertools
import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module, Step
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from tests.factories import enable_totp, log_in, make_course, make_user

EN = {"Accept-Language": "en"}


def in_english(client: TestClient) -> TestClient:
    """Choose English as a person would; a login sets the account's language (Dutch)."""
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return client


def get(client: TestClient, url: str) -> str:
    response = in_english(client).get(url, headers=EN)
    assert response.status_code == 200, response.text[:500]
    return str(response.text)


def main_of(html: str) -> str:
    """The page's own content, without header and footer."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def lesson_of(session: Session, course: Course, slug: str) -> Lesson:
    return session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug)
    ).one()


def signed_in_as(client: TestClient, session: Session, role: Role) -> User:
    """Log in a new person of `role`; staff with the second factor their role requires."""
    user = make_user(session, role=role)
    secret = enable_totp(session, user) if user.needs_totp else None
    log_in(client, user, secret=secret)
    return user


# --- the catalog and the home page -----------------------------------------------------------


def test_the_catalog_lists_published_courses_only(client: TestClient, session: Session) -> None:
    paid = make_course(session, price_cents=4900)
    free = make_course(session)
    draft = make_course(session, status="draft")

    html = get(client, "/courses")

    assert f'href="/courses/{paid.slug}"' in html
    assert f'href="/courses/{free.slug}"' in html
    assert draft.slug not in html
    assert "€49.00" in html
    assert ">Free<" in html


def test_a_course_in_another_language_names_its_language(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    course.language = "nb"
    session.add(course)
    session.commit()
    label = 'Course language: <span lang="nb">Norsk</span>'

    assert label in get(client, "/courses")
    assert label in get(client, f"/courses/{course.slug}")
    # In Norwegian it is her own language: nothing to point out.
    client.cookies.set(i18n.LOCALE_COOKIE, "nb")
    assert '<span lang="nb">Norsk</span>' not in main_of(client.get("/courses").text)


def test_a_cover_image_is_described_in_the_language_of_its_course(
    client: TestClient, session: Session
) -> None:
    # The description is course text: a screen reader reads it in the course's language.
    course = make_course(session)
    course.language, course.cover_image, course.cover_alt = "nb", "cover.png", "Rolige sirkler"
    session.add(course)
    session.commit()
    img = 'alt="Rolige sirkler" lang="nb"'

    assert img in get(client, "/courses")
    assert img in get(client, f"/courses/{course.slug}")


def test_an_empty_catalog_says_so(client: TestClient) -> None:
    assert "There are no courses yet" in get(client, "/courses")


def test_prices_are_in_dutch_format_by_default(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=4900)

    html = client.get(f"/courses/{course.slug}").text

    assert "€\u00a049,00" in html


def test_the_home_page_features_a_course_and_links_to_the_catalog(
    client: TestClient, session: Session
) -> None:
    make_course(session)
    paid = make_course(session, price_cents=2500)

    html = get(client, "/")

    featured = html.split('aria-labelledby="featured-title"', 1)[1].split("</section>", 1)[0]
    assert f'href="/courses/{paid.slug}"' in featured
    assert "€25.00" in featured
    assert re.search(r'<nav class="site-nav".*href="/courses".*</nav>', html, re.S)


def test_the_home_page_without_courses_has_no_featured_section(client: TestClient) -> None:
    assert "featured-title" not in get(client, "/")


def test_the_nav_marks_the_catalog_as_current(client: TestClient, session: Session) -> None:
    course = make_course(session)
    for url in ("/courses", f"/courses/{course.slug}"):
        assert '<a href="/courses" aria-current="page">' in get(client, url)


# --- the course page -------------------------------------------------------------------------


def test_the_course_page_shows_what_a_buyer_needs_to_decide(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, name="Inge de Vries", role=Role.instructor)
    course = make_course(session, instructor=teacher, price_cents=4900, modules=2)

    html = get(client, f"/courses/{course.slug}")
    main = main_of(html)

    assert f'<h1 lang="nl">{course.title}</h1>' in main
    assert "Taught by Inge de Vries" in main
    assert "What you will learn" in main
    for outcome in course.outcomes:
        assert f"<li>{outcome}</li>" in main
    # The description is Markdown, rendered.
    assert "<strong>rustige</strong>" in main
    assert "€49.00" in main
    assert main.count('<li class="module">') == 2
    assert "6 lessons" in main
    assert "5 minutes" in main
    # Questions fold open without JavaScript; answers are Markdown too.
    assert "<details>" in main
    assert "<summary>Hoe lang duurt het?</summary>" in main
    assert "<em>minuten</em>" in main


def test_the_medical_disclaimer_is_on_the_page_and_in_the_footer(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)

    html = get(client, f"/courses/{course.slug}")

    assert 'class="disclaimer"' in main_of(html)
    assert html.count('class="disclaimer"') == 2
    # One landmark for it (the footer's), not two with the same name.
    assert html.count('aria-label="Medical notice"') == 1
    assert '<aside class="disclaimer"' not in main_of(html)


def test_the_enrol_area_asks_a_visitor_to_make_an_account_first(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=4900)

    main = main_of(get(client, f"/courses/{course.slug}"))

    enrol = main.split('<section class="enrol"', 1)[1].split("</section>", 1)[0]
    assert "€49.00" in enrol
    assert f'href="/courses/{course.slug}/lessons/les-1-1">Try the free lesson</a>' in enrol
    assert f'href="/register?next=/courses/{course.slug}"' in enrol
    assert f'href="/login?next=/courses/{course.slug}"' in enrol
    # Buying needs an account: a visitor gets links, not a form that would send her to login.
    assert "<form" not in main


def test_a_course_without_a_free_lesson_offers_no_button(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=4900, free_preview_first=False)

    main = main_of(get(client, f"/courses/{course.slug}"))

    assert "Try the free lesson" not in main
    assert "Create an account to enrol" in main


def test_free_courses_say_free(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=0)
    enrol = main_of(get(client, f"/courses/{course.slug}")).split('class="enrol"', 1)[1]
    assert '<p class="enrol__price">Free</p>' in enrol


def test_a_course_without_lessons_says_they_are_coming(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, modules=0)

    main = main_of(get(client, f"/courses/{course.slug}"))

    assert "The lessons of this course are still being written." in main
    assert "Try the free lesson" not in main


def test_lessons_are_marked_free_or_locked(client: TestClient, session: Session) -> None:
    course = make_course(session, modules=1, lessons_per_module=3)

    main = main_of(get(client, f"/courses/{course.slug}"))

    rows = re.findall(r'<li class="lesson-row[^"]*">.*?</li>', main, re.S)
    assert len(rows) == 3
    assert "Free preview" in rows[0]
    assert "lesson-row--locked" not in rows[0]
    for row in rows[1:]:
        assert "lesson-row--locked" in row
        # The padlock is a picture for the eyes and a word for screen readers.
        assert '<span class="lock" aria-hidden="true"></span>' in row
        assert '<span class="visually-hidden">Locked: </span>' in row


def test_a_drip_course_says_when_each_module_opens(client: TestClient, session: Session) -> None:
    course = make_course(session, modules=2)
    course.schedule = "drip"
    week_two = session.exec(
        select(Module).where(Module.course_id == course.id, Module.position == 1)
    ).one()
    week_two.unlock_after_days = 7
    session.add_all([course, week_two])
    session.flush()

    assert "Opens 7 days after you enrol" in get(client, f"/courses/{course.slug}")


def test_headings_go_in_order(client: TestClient, session: Session) -> None:
    course = make_course(session, video_provider="youtube")
    for url in (f"/courses/{course.slug}", f"/courses/{course.slug}/lessons/les-1-1"):
        levels = [int(level) for level in re.findall(r"<h([1-6])", main_of(get(client, url)))]
        assert levels[0] == 1
        assert levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


# --- drafts and unknown addresses -------------------------------------------------------------


def test_unknown_courses_and_lessons_show_the_not_found_page(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    for url in (
        "/courses/bestaat-niet",
        "/courses/bestaat-niet/lessons/les-1-1",
        f"/courses/{course.slug}/lessons/bestaat-niet",
    ):
        response = in_english(client).get(url, headers=EN)
        assert response.status_code == 404, url
        assert "text/html" in response.headers["content-type"]
        assert "error-page" in response.text


@pytest.mark.parametrize("who", ["anonymous", "learner", "other instructor"])
def test_a_draft_is_not_found_for_the_public(
    who: str, client: TestClient, session: Session
) -> None:
    course = make_course(session, status="draft")
    if who == "learner":
        signed_in_as(client, session, Role.learner)
    elif who == "other instructor":
        signed_in_as(client, session, Role.instructor)

    for url in (f"/courses/{course.slug}", f"/courses/{course.slug}/lessons/les-1-1"):
        assert in_english(client).get(url, headers=EN).status_code == 404, url


@pytest.mark.parametrize("who", ["its instructor", "admin"])
def test_its_instructor_and_admins_preview_a_draft(
    who: str, client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, status="draft")
    if who == "admin":
        signed_in_as(client, session, Role.admin)
    else:
        log_in(client, owner, secret=enable_totp(session, owner))

    for url in (
        f"/courses/{course.slug}",
        f"/courses/{course.slug}/lessons/les-1-1",
        f"/courses/{course.slug}/lessons/les-2-3",  # not a free preview: still open to them
    ):
        html = get(client, url)
        assert "Draft — only you can see this" in html, url


def test_staff_without_their_second_factor_preview_nothing(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, status="draft")
    log_in(client, owner)  # no two-step verification set up yet

    assert in_english(client).get(f"/courses/{course.slug}", headers=EN).status_code == 404


def test_published_courses_show_no_draft_banner(client: TestClient, session: Session) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner)
    log_in(client, owner, secret=enable_totp(session, owner))

    assert "Draft — only you can see this" not in get(client, f"/courses/{course.slug}")


@pytest.mark.parametrize("who", ["its instructor", "admin"])
def test_a_previewed_lesson_leads_back_to_its_editor(
    who: str, client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, status="draft")
    if who == "admin":
        signed_in_as(client, session, Role.admin)
    else:
        log_in(client, owner, secret=enable_totp(session, owner))
    lesson = lesson_of(session, course, "les-1-2")

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-2"))

    editor = f'href="/studio/courses/{course.slug}/lessons/{lesson.id}"'
    assert re.search(editor + r'><span aria-hidden="true">←</span> Back to the editor</a>', main)


@pytest.mark.parametrize("who", ["learner", "other instructor"])
def test_a_learner_sees_no_way_into_the_editor(
    who: str, client: TestClient, session: Session
) -> None:
    course = make_course(session)
    role = Role.learner if who == "learner" else Role.instructor
    signed_in_as(client, session, role)

    html = get(client, f"/courses/{course.slug}/lessons/les-1-1")

    assert "Back to the editor" not in html
    assert "/studio/courses/" not in main_of(html)


# --- locked lessons ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "learner", "other instructor"])
def test_a_locked_lesson_explains_itself_and_leads_back(
    who: str, client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=4900)
    if who == "learner":
        signed_in_as(client, session, Role.learner)
    elif who == "other instructor":
        signed_in_as(client, session, Role.instructor)

    response = in_english(client).get(f"/courses/{course.slug}/lessons/les-1-2", headers=EN)

    assert response.status_code == 403
    main = main_of(response.text)
    assert "Buy the course to open this lesson." in main
    assert "Les 1.2" in main
    assert f'href="/courses/{course.slug}">Back to the course</a>' in main
    assert f'href="/courses/{course.slug}/lessons/les-1-1">Try the free lesson</a>' in main
    # Nothing of the lesson itself leaks into the lock page.
    assert "Uitleg bij deze les." not in response.text


@pytest.mark.parametrize("who", ["its instructor", "admin"])
def test_its_instructor_and_admins_open_every_lesson(
    who: str, client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, price_cents=4900)
    if who == "admin":
        signed_in_as(client, session, Role.admin)
    else:
        log_in(client, owner, secret=enable_totp(session, owner))

    html = get(client, f"/courses/{course.slug}/lessons/les-2-2")
    assert "Uitleg bij deze les." in html
    assert "lesson-row--locked" not in get(client, f"/courses/{course.slug}")


# --- the lesson page -------------------------------------------------------------------------


def test_the_lesson_page_shows_where_you_are(client: TestClient, session: Session) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, modules=2, lessons_per_module=3)
    log_in(client, owner, secret=enable_totp(session, owner))

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-2-1"))

    breadcrumb = main.split('<nav class="breadcrumb"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/courses"' in breadcrumb
    assert f'href="/courses/{course.slug}"' in breadcrumb
    assert 'aria-current="page"' in breadcrumb
    assert "Week 2" in main
    assert "Lesson 4 of 6" in main
    assert '<h1 lang="nl">Les 2.1</h1>' in main
    assert "<p>Uitleg bij deze les.</p>" in main
    assert f'rel="prev" href="/courses/{course.slug}/lessons/les-1-3"' in main
    assert f'rel="next" href="/courses/{course.slug}/lessons/les-2-2"' in main


def test_the_first_and_last_lessons_have_one_neighbour(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, modules=1, lessons_per_module=1)

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-1"))

    assert 'rel="prev"' not in main
    assert 'rel="next"' not in main
    assert "Lesson 1 of 1" in main


def test_a_locked_next_lesson_is_marked(client: TestClient, session: Session) -> None:
    course = make_course(session)

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-1"))

    pager = main.split('<nav class="pager"', 1)[1]
    assert '<span class="visually-hidden">Locked: </span>' in pager


def test_steps_read_as_text_and_carry_their_timing(client: TestClient, session: Session) -> None:
    course = make_course(session, modules=1, lessons_per_module=1, steps_per_lesson=3)

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-1"))

    exercise, breathing, text = re.findall(
        r'<li class="step step--.*?</li>\s*(?=<li class="step|</ol>)', main, re.S
    )
    assert 'data-kind="exercise"' in exercise
    for attribute in ('data-hold="8"', 'data-relax="8"', 'data-reps="10"', 'data-sets="3"'):
        assert attribute in exercise
    assert 'data-rest="30"' in exercise
    assert (
        "Tighten for 8 counts, relax for 8 counts — 10 times, 3 sets, 30 seconds rest" in exercise
    )
    assert "<p>Span je bekkenbodem rustig aan en laat helemaal los.</p>" in exercise
    assert "<li>Blijf doorademen</li>" in exercise
    assert 'data-kind="breathing"' in breathing
    for attribute in ('data-inhale="4"', 'data-exhale="6"', 'data-cycles="10"'):
        assert attribute in breathing
    assert "Breathe in for 4 counts, breathe out for 6 counts — 10 times" in breathing
    assert 'data-kind="text"' in text
    assert "data-hold" not in text
    assert "<p>Lees dit eerst rustig door.</p>" in text


def test_steps_without_a_title_get_one_from_their_kind(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, modules=1, lessons_per_module=1, steps_per_lesson=2)
    for step in session.exec(select(Step)).all():
        step.title = ""
        session.add(step)
    session.flush()

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-1"))

    assert "<h3>Exercise</h3>" in main
    assert "<h3>Breathing</h3>" in main


# --- video ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "player"),
    [
        ("youtube", "https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?"),
        ("vimeo", "https://player.vimeo.com/video/76979871?dnt=1"),
    ],
)
def test_embedded_video_is_a_placeholder_until_play(
    provider: str, player: str, client: TestClient, session: Session
) -> None:
    course = make_course(session, video_provider=provider)

    html = get(client, f"/courses/{course.slug}/lessons/les-1-1")

    # The only mention of the provider is the play link itself: no iframe, image or script
    # from elsewhere, so the browser asks nothing of YouTube or Vimeo before play is pressed.
    sources = re.findall(r'\b(?:src|srcset|poster|data)=["\']([^"\']*)', html)
    assert sources
    assert all(urlsplit(source).hostname in {None, "testserver"} for source in sources), sources
    assert "<iframe" not in html
    link = re.search(r'<a class="video__play" href="([^"]+)"([^>]*)>', html)
    assert link is not None
    assert link.group(1).startswith(player)
    assert 'target="_blank"' in link.group(2)
    assert 'rel="noopener"' in link.group(2)
    assert 'aria-label="Play video: Video bij les 1.1"' in link.group(2)
    assert re.search(r'<script src="/static/js/video\.js\?v=\w+" defer></script>', html)


def test_lessons_without_embedded_video_load_no_script(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    assert "video.js" not in get(client, f"/courses/{course.slug}/lessons/les-1-1")


def test_an_uploaded_video_plays_from_media(client: TestClient, session: Session) -> None:
    course = make_course(session, video_provider="file")

    html = get(client, f"/courses/{course.slug}/lessons/les-1-1")

    assert '<video class="video__file" controls preload="metadata" playsinline' in html
    assert 'src="/media/oefening.mp4"' in html
    assert "video.js" not in html


def test_an_invalid_video_reference_is_left_out(client: TestClient, session: Session) -> None:
    course = make_course(session, video_provider="youtube")
    lesson = lesson_of(session, course, "les-1-1")
    lesson.video_ref = '"><script>alert(1)</script>'
    session.add(lesson)
    session.flush()

    html = get(client, f"/courses/{course.slug}/lessons/les-1-1")

    assert "video__frame" not in html
    assert "<script>alert(1)" not in html


def test_instructor_markdown_cannot_inject_script(client: TestClient, session: Session) -> None:
    course = make_course(session)
    lesson = lesson_of(session, course, "les-1-1")
    lesson.body = (
        '<script>alert(1)</script>\n\n[klik](javascript:alert(1)) <img src=x onerror="alert(1)">'
    )
    session.add(lesson)
    session.flush()

    main = main_of(get(client, f"/courses/{course.slug}/lessons/les-1-1"))

    assert "<script" not in main
    assert 'href="javascript:' not in main
    assert not re.search(r"<[a-z][^>]*\son\w+=", main), "an event handler attribute got through"


@pytest.mark.parametrize("enrolled", [False, True], ids=["visitor", "learner"])
def test_lesson_page_stays_small(client: TestClient, session: Session, enrolled: bool) -> None:
    course = make_course(
        session, modules=6, lessons_per_module=4, steps_per_lesson=5, video_provider="youtube"
    )
    if enrolled:  # her page adds the tab bar, her progress and the player's settings
        learner = make_user(session)
        enrolment_service.grant(
            session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
        )
        log_in(client, learner)
    html = client.get(f"/courses/{course.slug}/lessons/les-1-1").text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)\?v=\w+)"', html)
    # kern.css, kern.js, catalog.css, player.css, player.js, video.js (for her also progress.css
    # and conversations.css); then the browser fetches the manifest and the service worker.
    assert len(assets) == (8 if enrolled else 6)
    page = f"/courses/{course.slug}/lessons/les-1-1"
    # What a phone downloads the first time, as Kern sends it: gzipped, the page too.
    sent = 0
    for path in [page, *assets, "/manifest.webmanifest", "/sw.js"]:
        with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
            sent += len(b"".join(response.iter_raw()))
            assert path != page or response.headers["content-encoding"] == "gzip"
    assert sent < 40_000


def test_a_course_with_a_cover_shows_it_in_the_catalog_and_on_its_page(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    course.cover_image = "0123456789abcdef0123456789abcdef.jpg"
    session.flush()
    src = f'src="/media/{course.cover_image}"'
    assert src in client.get("/courses").text
    assert src in client.get(f"/courses/{course.slug}").text
    bare = make_course(session)
    assert "/media/" not in client.get(f"/courses/{bare.slug}").text
