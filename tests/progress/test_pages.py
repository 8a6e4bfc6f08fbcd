"""The pages a learner sees of her progress: the lesson's complete button, the course page's
"continue where you left off", the drip schedule with the clock moved across midnight, the
"Vandaag" page, the practice log with its week chart, and her data export. Texts are asserted in
English (the Dutch catalog gets these strings later)."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import User
from api.catalog.models import Course, Lesson, Step, StepKind
from api.clock import current_time
from api.consent import service as consent_service
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress import practice
from api.progress.models import LessonProgress
from tests.factories import (
    agree_to_health_data,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EN = {"Accept-Language": "en"}
# A Thursday; its week runs from Monday 16 to Sunday 22 November 2026.
THURSDAY = datetime(2026, 11, 19, 10, 0, tzinfo=AMSTERDAM)


def amsterdam(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.fixture
def clock(client: TestClient) -> Iterator[list[datetime]]:
    """The moment the app thinks it is; tests change `clock[0]` to move it."""
    moment = [THURSDAY]
    client.app.dependency_overrides[current_time] = lambda: moment[0]  # type: ignore[attr-defined]
    yield moment
    client.app.dependency_overrides.pop(current_time, None)  # type: ignore[attr-defined]


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    """A learner, signed in, reading in English."""
    user = make_user(session, name="Alice de Vries")
    log_in(client, user)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return user


def get(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, headers=EN, follow_redirects=False)
    assert response.status_code == status, response.text[:500]
    return str(response.text)


def main_of(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def section(html: str, marker: str) -> str:
    """The <section> that starts with `marker` in its opening tag."""
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def enrol(session: Session, user: User, course: Course, at: datetime | None = None) -> None:
    enrolment = enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    if at is not None:
        enrolment.enrolled_at = at
        session.add(enrolment)
        session.flush()


def lesson_of(session: Session, course: Course, slug: str) -> Lesson:
    return session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug)
    ).one()


def step_of(session: Session, course: Course, kind: StepKind, lesson: str = "les-1-1") -> Step:
    found = lesson_of(session, course, lesson)
    return session.exec(select(Step).where(Step.lesson_id == found.id, Step.kind == kind)).one()


def log_practice(
    session: Session,
    user: User,
    step: Step,
    at: datetime,
    *,
    seconds: int = 300,
    note: str = "",
    client_id: str | None = None,
) -> None:
    """Store a practice as her browser would send it, at moment `at` (she agreed to Kern
    keeping it before her first one)."""
    if not consent_service.has_health_consent(user):
        agree_to_health_data(session, user)
    entry = practice.PracticeInput(
        client_id=client_id or f"test-{user.id}-{step.id}-{at.isoformat()}",
        step_id=step.id or 0,
        practised_at=at,
        duration_seconds=seconds,
        sets_done=3,
        reps_done=30,
        effort=2,
        note=note,
    )
    practice.log(session, user=user, entry=entry, now=at)


def lesson_url(course: Course, lesson: str) -> str:
    return f"/courses/{course.slug}/lessons/{lesson}"


# --- complete and undo on the lesson page ------------------------------------------------------


def test_completing_a_lesson_moves_the_progress_bar(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, modules=2, lessons_per_module=3)  # 6 lessons
    enrol(session, alice, course)
    url = lesson_url(course, "les-1-1")

    before = section(get(client, url), 'id="progress"')
    assert "0% of the course" in before
    assert "0 of 6 lessons completed" in before
    assert f'action="{url}/complete"' in before
    assert 'name="csrf_token"' in before

    response = post_form(client, f"{url}/complete")
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}#progress"

    after = section(get(client, url), 'id="progress"')
    assert "17% of the course" in after
    assert "1 of 6 lessons completed" in after
    assert "Completed on 19 November 2026" in after
    assert f'action="{url}/incomplete"' in after
    assert "Not finished after all" in after


def test_after_completing_the_next_lesson_is_the_next_step(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, modules=1, lessons_per_module=2)
    enrol(session, alice, course)
    url = lesson_url(course, "les-1-1")

    post_form(client, f"{url}/complete")

    after = section(get(client, url), 'id="progress"')
    next_button = re.search(r'<a class="[^"]*lesson-progress__next" href="([^"]+)"', after)
    assert next_button is not None
    assert next_button.group(1) == lesson_url(course, "les-1-2")


def test_undo_marks_the_lesson_not_done_again(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, modules=1, lessons_per_module=2)
    enrol(session, alice, course)
    url = lesson_url(course, "les-1-1")
    post_form(client, f"{url}/complete")

    response = post_form(client, f"{url}/incomplete")

    assert response.status_code == 303
    assert response.headers["location"] == f"{url}#progress"
    page = section(get(client, url), 'id="progress"')
    assert "0% of the course" in page
    assert f'action="{url}/complete"' in page
    record = session.exec(select(LessonProgress).where(LessonProgress.user_id == alice.id)).one()
    assert record.completed_at is None


def test_a_form_without_its_csrf_token_changes_nothing(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)

    response = client.post(
        f"{lesson_url(course, 'les-1-1')}/complete", headers=EN, follow_redirects=False
    )

    assert response.status_code == 403
    assert "This form had expired" in response.text
    stored = session.exec(select(LessonProgress).where(LessonProgress.user_id == alice.id)).all()
    assert [row.completed_at for row in stored] == []


def test_visitors_must_log_in_to_complete_a_lesson(client: TestClient, session: Session) -> None:
    course = make_course(session)

    response = post_form(client, f"{lesson_url(course, 'les-1-1')}/complete")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_learner_who_is_not_enrolled_sees_no_progress_on_a_free_lesson(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)

    html = get(client, lesson_url(course, "les-1-1"))

    assert 'id="progress"' not in html
    assert "/complete" not in html
    assert session.exec(select(LessonProgress)).all() == []


def test_steps_carry_their_id_for_the_player(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session, steps_per_lesson=3)
    enrol(session, alice, course)
    exercise = step_of(session, course, StepKind.exercise)

    html = get(client, lesson_url(course, "les-1-1"))

    assert f'data-step-id="{exercise.id}"' in html
    assert 'id="player-config"' in html
    assert "js/player.js" in html


def test_a_lesson_with_only_text_loads_no_player(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session, steps_per_lesson=0)
    enrol(session, alice, course)

    html = get(client, lesson_url(course, "les-1-1"))

    assert "player.js" not in html
    assert "player-config" not in html


def test_her_own_file_video_resumes_where_she_left_off(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, video_provider="file")
    enrol(session, alice, course)
    lesson = lesson_of(session, course, "les-1-2")
    session.add(
        LessonProgress(
            user_id=alice.id or 0,
            lesson_id=lesson.id or 0,
            course_id=course.id or 0,
            video_position_seconds=93,
        )
    )
    session.flush()

    html = get(client, lesson_url(course, "les-1-2"))

    video = re.search(r"<video [^>]*>", html)
    assert video is not None
    assert 'data-resume="93"' in video.group(0)
    assert f'data-position-url="/api/v1{lesson_url(course, "les-1-2")}/position"' in video.group(0)
    assert 'data-csrf="' in video.group(0)
    assert "js/video.js" in html


def test_a_visitors_file_video_saves_no_position(client: TestClient, session: Session) -> None:
    course = make_course(session, video_provider="file")

    html = get(client, lesson_url(course, "les-1-1"))

    assert "data-position-url" not in html


# --- the course page --------------------------------------------------------------------------


def test_the_course_page_offers_to_continue_where_she_left_off(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, modules=2, lessons_per_module=3)
    enrol(session, alice, course)
    post_form(client, f"{lesson_url(course, 'les-1-1')}/complete")
    get(client, lesson_url(course, "les-1-2"))

    main = main_of(get(client, f"/courses/{course.slug}"))

    mine = section(main, 'class="enrol course-progress"')
    assert "1 of 6 lessons completed" in mine
    resume = f'href="{lesson_url(course, "les-1-2")}">Continue where you left off: '
    assert resume + '<span lang="nl">Les 1.2</span>' in mine
    rows = re.findall(r'<li class="lesson-row[^"]*">.*?</li>', main, re.S)
    assert "lesson-row--done" in rows[0]
    assert '<span class="visually-hidden"> (completed)</span>' in rows[0]
    assert "lesson-row--done" not in rows[1]
    assert "33% completed" in main  # week 1: one of three lessons
    assert "0% completed" in main  # week 2


def test_visitors_see_the_enrol_area_not_a_progress(client: TestClient, session: Session) -> None:
    course = make_course(session, drip_days=[0, 7])

    main = main_of(get(client, f"/courses/{course.slug}"))

    assert 'class="enrol" id="enrol"' in main
    assert "Your progress" not in main
    assert "Opens 7 days after you enrol" in main


# --- the drip schedule, with the clock moved -----------------------------------------------------


@pytest.mark.parametrize(
    ("enrolled", "opening", "day"),
    [
        (amsterdam(2026, 11, 2, 15, 0), amsterdam(2026, 11, 9, 0, 0), "9 November 2026"),
        # Across the end of summer time on 25 October: midnight winter time, 23:00 UTC.
        (amsterdam(2026, 10, 20, 10, 0), amsterdam(2026, 10, 27, 0, 0), "27 October 2026"),
    ],
)
def test_week_two_opens_at_midnight_in_amsterdam_on_day_seven(
    client: TestClient,
    session: Session,
    alice: User,
    clock: list[datetime],
    *,
    enrolled: datetime,
    opening: datetime,
    day: str,
) -> None:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    enrol(session, alice, course, at=enrolled)
    url = lesson_url(course, "les-2-1")

    clock[0] = opening - timedelta(minutes=1)  # day 6, 23:59
    locked = client.get(url, headers=EN)
    assert locked.status_code == 403
    assert f"This lesson opens on {day}." in main_of(locked.text)
    assert f'href="/courses/{course.slug}">Back to the course</a>' in locked.text
    assert "Uitleg bij deze les." not in locked.text
    course_page = main_of(get(client, f"/courses/{course.slug}"))
    assert f"Opens on {day}" in course_page
    week_two = course_page.split("Week 2", 1)[1]
    assert "lesson-row--locked" in week_two
    assert "Opens 7 days after you enrol" not in course_page

    clock[0] = opening  # day 7, 00:00
    assert "Uitleg bij deze les." in get(client, url)
    assert f"Opens on {day}" not in get(client, f"/courses/{course.slug}")


def test_the_autumn_opening_is_2300_utc(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    enrol(session, alice, course, at=amsterdam(2026, 10, 20, 10, 0))
    url = lesson_url(course, "les-2-1")

    clock[0] = datetime(2026, 10, 26, 22, 59, tzinfo=UTC)
    assert client.get(url, headers=EN).status_code == 403
    clock[0] = datetime(2026, 10, 26, 23, 0, tzinfo=UTC)
    assert client.get(url, headers=EN).status_code == 200


def test_a_locked_lesson_cannot_be_completed(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, drip_days=[0, 7], free_preview_first=False)
    enrol(session, alice, course, at=amsterdam(2026, 11, 17, 9, 0))

    response = post_form(client, f"{lesson_url(course, 'les-2-1')}/complete")

    assert response.status_code == 403
    assert "This lesson opens on 24 November 2026." in response.text
    assert session.exec(select(LessonProgress)).all() == []


def test_a_locked_lesson_is_never_offered_as_open(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, drip_days=[0, 7], modules=2, lessons_per_module=1)
    enrol(session, alice, course, at=amsterdam(2026, 11, 17, 9, 0))
    post_form(client, f"{lesson_url(course, 'les-1-1')}/complete")
    locked_href = f'href="{lesson_url(course, "les-2-1")}"'

    lesson = get(client, lesson_url(course, "les-1-1"))
    progress = section(lesson, 'id="progress"')
    assert "The next lesson opens on 24 November 2026." in progress
    assert locked_href not in progress
    pager = lesson.split('<nav class="pager"', 1)[1]
    assert '<span class="visually-hidden">Locked: </span>' in pager

    course_page = section(get(client, f"/courses/{course.slug}"), 'class="enrol course-progress"')
    assert "Your next lesson opens on 24 November 2026" in course_page
    assert locked_href not in course_page

    today = main_of(get(client, "/today"))
    card = section(today, 'class="today-card next-card"')
    assert "Opens on 24 November 2026" in card
    assert locked_href not in today


def test_a_learner_who_is_not_enrolled_is_pointed_to_the_enrol_area(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session, price_cents=4900)

    response = client.get(lesson_url(course, "les-1-2"), headers=EN)

    assert response.status_code == 403
    main = main_of(response.text)
    assert "Buy the course to open this lesson." in main
    # The way in is on the lock page itself.
    assert f'action="/courses/{course.slug}/checkout"' in main
    assert "opens soon" not in main
    assert 'id="enrol"' in get(client, f"/courses/{course.slug}")


# --- the "Vandaag" page -------------------------------------------------------------------------


def test_today_asks_visitors_to_log_in(client: TestClient) -> None:
    for url in ("/today", "/practice"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2F{url[1:]}"


def test_today_without_courses_points_to_the_catalog(
    client: TestClient, alice: User, clock: list[datetime]
) -> None:
    main = main_of(get(client, "/today"))

    assert "Good morning, Alice" in main
    assert 'href="/courses">See the courses</a>' in main
    assert "Every day" not in main  # no streak talk before there is anything to practise


def test_today_shows_the_next_lesson_her_practice_and_her_courses(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session, modules=2, lessons_per_module=3, steps_per_lesson=3)
    enrol(session, alice, course)
    post_form(client, f"{lesson_url(course, 'les-1-1')}/complete")
    get(client, lesson_url(course, "les-1-2"))  # opened, not finished
    exercise = step_of(session, course, StepKind.exercise)
    log_practice(session, alice, exercise, THURSDAY - timedelta(hours=1))
    log_practice(session, alice, exercise, THURSDAY - timedelta(minutes=30))

    main = main_of(get(client, "/today"))

    card = section(main, 'class="today-card next-card"')
    assert "Continue with" in card
    assert "Les 1.2" in card
    assert "Week 1" in card
    assert "about 6 minutes" in card
    assert f'href="{lesson_url(course, "les-1-2")}">Open the lesson</a>' in card

    practice_part = section(main, 'aria-labelledby="practice-title"')
    steps = re.findall(r'<li class="step step--(\w+)" data-step-id="(\d+)"', practice_part)
    # The exercise and breathing steps of the two lessons she opened; no text steps.
    assert [kind for kind, _id in steps] == ["exercise", "breathing", "exercise", "breathing"]
    first = practice_part.split('<li class="step', 2)[1]
    assert f'data-step-id="{exercise.id}"' in first
    assert "Done 2 times today" in first
    assert f'href="{lesson_url(course, "les-1-1")}"' in first
    assert "Done" not in practice_part.split('<li class="step', 3)[2]
    assert 'id="player-config"' in get(client, "/today")

    courses = section(main, 'aria-labelledby="courses-title"')
    assert f'href="/courses/{course.slug}"' in courses
    assert "1 of 6 lessons completed" in courses
    assert 'value="17"' in courses


def test_today_shows_an_edited_step_on_her_next_visit_in_her_language(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    """Vandaag keeps each step rendered per course version and language: an edit shows on the
    next visit, and a Dutch reader gets her own words for the same step."""
    course = make_course(session, modules=1, lessons_per_module=2, steps_per_lesson=3)
    enrol(session, alice, course)
    get(client, lesson_url(course, "les-1-1"))
    exercise = step_of(session, course, StepKind.exercise)
    practice_part = section(main_of(get(client, "/today")), 'aria-labelledby="practice-title"')
    assert f'data-step-id="{exercise.id}"' in practice_part
    assert "Nieuwe stap" not in practice_part

    session.execute(
        text("UPDATE lesson_step SET title = 'Nieuwe stap', reps = 7 WHERE id = :id").bindparams(
            id=exercise.id
        )
    )
    session.flush()
    practice_part = section(main_of(get(client, "/today")), 'aria-labelledby="practice-title"')
    assert "Nieuwe stap" in practice_part
    assert 'data-reps="7"' in practice_part
    assert "How to do it" in practice_part

    # The course's address is no content (its version stays), yet the links follow it at once.
    session.execute(
        text("UPDATE course SET slug = 'nieuw-adres' WHERE id = :id").bindparams(id=course.id)
    )
    session.flush()
    practice_part = section(main_of(get(client, "/today")), 'aria-labelledby="practice-title"')
    assert 'href="/courses/nieuw-adres/lessons/les-1-1"' in practice_part
    assert f"/courses/{course.slug}/" not in practice_part

    client.cookies.set(i18n.LOCALE_COOKIE, "nl")
    dutch = client.get("/today").text
    assert "Zo doe je het" in dutch
    assert "How to do it" not in dutch
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    assert "How to do it" in get(client, "/today")


def test_streak_and_week_marks_follow_her_log(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    # Monday, then Wednesday and Thursday (today): a streak of two days.
    for day in (16, 18, 19):
        log_practice(session, alice, step, amsterdam(2026, 11, day, 8, 0))

    week = section(main_of(get(client, "/today")), 'aria-labelledby="week-title"')

    assert "2 days in a row" in week
    assert "You have practised today." in week
    days = re.findall(r'<li class="week__day([^"]*)">(.*?)</li>', week, re.S)
    assert len(days) == 7
    done = [i for i, (classes, _text) in enumerate(days) if "week__day--done" in classes]
    assert done == [0, 2, 3]
    assert "week__day--today" in days[3][0]
    assert "Monday 16 November: practised" in days[0][1]
    assert "Tuesday 17 November: not practised" in days[1][1]
    assert "Thursday 19 November (today): practised" in days[3][1]
    assert "Friday 20 November: still to come" in days[4][1]


def test_the_kept_week_follows_her_log_and_language_on_the_next_request(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    """Her week is rendered once for each week, streak and language and kept: a practice she
    logs shows on the very next request, and another language gets its own words."""
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    log_practice(session, alice, step, amsterdam(2026, 11, 18, 8, 0))  # Wednesday

    def week() -> str:
        return section(main_of(get(client, "/today")), 'aria-labelledby="week-title"')

    before = week()
    assert "A few minutes today is enough to keep it going." in before
    assert "Thursday 19 November (today): not practised" in before

    log_practice(session, alice, step, amsterdam(2026, 11, 19, 8, 0))  # today
    after = week()
    assert "2 days in a row" in after
    assert "Thursday 19 November (today): practised" in after
    assert "2 days practised this week" in main_of(get(client, "/today"))
    assert "Monday 16 November: not practised" in after

    # The same streak, on another week: his own days.
    bob = make_user(session, name="Bob Jansen")
    enrol(session, bob, course)
    for day in (16, 18, 19):
        log_practice(session, bob, step, amsterdam(2026, 11, day, 8, 0))
    bobs_browser = new_browser(client)
    log_in(bobs_browser, bob)
    bobs_browser.cookies.set(i18n.LOCALE_COOKIE, "en")
    his = section(main_of(get(bobs_browser, "/today")), 'aria-labelledby="week-title"')
    assert "2 days in a row" in his
    assert "Monday 16 November: practised" in his
    assert week() == after

    client.cookies.set(i18n.LOCALE_COOKIE, "nl")
    dutch = week()
    assert "donderdag 19 november" in dutch
    assert "Thursday" not in dutch
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    assert week() == after


def test_her_streak_and_week_show_at_a_glance_above_the_first_card(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    for day in (16, 18, 19):  # Monday, Wednesday and Thursday (today)
        log_practice(session, alice, step, amsterdam(2026, 11, day, 8, 0))

    main = main_of(get(client, "/today"))

    above, _below = main.split('class="today-card', 1)
    glance = above.split('<p class="glance">', 1)[1].split("</p>", 1)[0]
    assert "2 days in a row" in glance
    assert "3 days practised this week" in glance
    days = re.findall(r'<span class="glance__day([^"]*)"></span>', glance)
    assert [i for i, classes in enumerate(days) if "--done" in classes] == [0, 2, 3]
    assert "glance__day--today" in days[3]


def test_a_week_without_practice_is_said_plainly_at_a_glance(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    enrol(session, alice, make_course(session))

    glance = main_of(get(client, "/today")).split('<p class="glance">', 1)[1].split("</p>")[0]

    assert "Not practised yet this week" in glance
    assert "in a row" not in glance


def test_without_practice_the_streak_speaks_kindly(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    log_practice(session, alice, step, THURSDAY - timedelta(days=3))  # Monday: the streak broke

    week = section(main_of(get(client, "/today")), 'aria-labelledby="week-title"')

    assert "in a row" not in week
    assert "Every day is a good day to start." in week


def test_today_shows_only_her_own_courses_and_practice(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    hers = make_course(session)
    his = make_course(session)
    bob = make_user(session, name="Bob Jansen")
    enrol(session, alice, hers)
    enrol(session, bob, his)
    enrol(session, bob, hers)
    get(client, lesson_url(hers, "les-1-1"))  # her practice list holds this lesson's steps
    for day in range(5):  # bob practised today and has a streak; alice has neither
        log_practice(
            session, bob, step_of(session, hers, StepKind.exercise), THURSDAY - timedelta(days=day)
        )
        log_practice(
            session, bob, step_of(session, his, StepKind.exercise), THURSDAY - timedelta(days=day)
        )

    main = main_of(get(client, "/today"))

    assert his.title not in main
    assert "in a row" not in main
    assert "week__day--done" not in main
    assert "Stap 1" in main
    assert "Done" not in main


# --- the practice log -------------------------------------------------------------------------


def test_the_log_lists_her_practices_newest_first(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    bob = make_user(session)
    enrol(session, bob, course)
    log_practice(session, alice, step, amsterdam(2026, 11, 17, 8, 5), note="eerste")
    log_practice(session, alice, step, amsterdam(2026, 11, 19, 7, 45), note="derde", seconds=45)
    log_practice(session, alice, step, amsterdam(2026, 11, 18, 21, 0), note="tweede")
    log_practice(session, bob, step, amsterdam(2026, 11, 19, 8, 0), note="van bob")

    main = main_of(get(client, "/practice"))

    notes = re.findall(r'<p class="log-entry__note">([^<]*)</p>', main)
    assert notes == ["derde", "tweede", "eerste"]
    assert "19 November 2026 07:45" in main
    assert "3 sets, 30 repetitions · 45 seconds · effort 2 of 5" in main
    assert "Stap 1" in main
    assert course.title in main


def test_the_log_gives_each_practice_a_valid_time_attribute(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    moment = amsterdam(2026, 11, 19, 7, 45).replace(second=12, microsecond=345678)
    log_practice(session, alice, step, moment)

    main = main_of(get(client, "/practice"))

    assert re.findall(r'<time datetime="([^"]*)"', main) == ["2026-11-19T06:45:12Z"]


def test_the_log_pages_by_fifty(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    for n in range(52):
        log_practice(session, alice, step, THURSDAY - timedelta(hours=n), note=f"nr {n}")

    first = main_of(get(client, "/practice"))
    notes = re.findall(r'<p class="log-entry__note">nr (\d+)</p>', first)
    assert notes == [str(n) for n in range(50)]
    older = re.search(r'<a class="button button--quiet" href="([^"]+)">Older practices</a>', first)
    assert older is not None

    second = main_of(get(client, older.group(1).replace("&amp;", "&")))
    assert re.findall(r'<p class="log-entry__note">nr (\d+)</p>', second) == ["50", "51"]
    assert "Older practices" not in second


def test_the_log_reaches_every_practice_logged_at_the_same_moment_once(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    for n in range(51):
        log_practice(session, alice, step, THURSDAY, note=f"nr {n}", client_id=f"same-{n:04d}")

    first = main_of(get(client, "/practice"))
    older = re.search(r'<a class="button button--quiet" href="([^"]+)">Older practices</a>', first)
    assert older is not None
    second = main_of(get(client, older.group(1).replace("&amp;", "&")))

    pattern = r'<p class="log-entry__note">nr (\d+)</p>'
    seen = re.findall(pattern, first) + re.findall(pattern, second)
    assert sorted(seen, key=int) == [str(n) for n in range(51)]
    assert "Older practices" not in second


def test_the_week_chart_has_a_bar_for_each_day_she_practised(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    step = step_of(session, course, StepKind.exercise)
    log_practice(session, alice, step, amsterdam(2026, 11, 9, 8, 0), seconds=300)
    log_practice(session, alice, step, amsterdam(2026, 11, 11, 8, 0), seconds=400)
    log_practice(session, alice, step, amsterdam(2026, 11, 11, 20, 0), seconds=320)
    log_practice(session, alice, step, amsterdam(2026, 11, 17, 8, 0), seconds=60)  # next week

    # Any day of the week shows that week: here its Thursday.
    main = main_of(get(client, "/practice?week=2026-11-12"))

    chart = main.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in main.split("<svg", 1)[1]
    days = re.findall(r'data-day="([\d-]+)" data-minutes="(\d+)">(.*?)</g>', chart, re.S)
    assert [(day, minutes) for day, minutes, _body in days] == [
        ("2026-11-09", "5"),
        ("2026-11-10", "0"),
        ("2026-11-11", "12"),
        ("2026-11-12", "0"),
        ("2026-11-13", "0"),
        ("2026-11-14", "0"),
        ("2026-11-15", "0"),
    ]
    with_bars = [day for day, _minutes, body in days if "<rect" in body]
    assert with_bars == ["2026-11-09", "2026-11-11"]
    assert '<h2 id="week-title">9 – 15 November 2026</h2>' in main
    assert "In total 17 minutes, on 2 days." in main
    table = main.split('<div class="visually-hidden">', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Wednesday 11 November</th><td>12</td><td>2</td>", table)
    assert 'href="/practice?week=2026-11-02"' in main
    assert 'href="/practice?week=2026-11-16"' in main


def test_the_chart_goes_no_further_than_this_week(
    client: TestClient, alice: User, clock: list[datetime]
) -> None:
    for url in ("/practice", "/practice?week=2027-01-04", "/practice?week=geen-datum"):
        main = main_of(get(client, url))
        assert 'data-day="2026-11-16"' in main, url
        assert "Next week" not in main
        assert 'href="/practice?week=2026-11-09"' in main


def test_an_unreadable_page_link_shows_the_newest_practices(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    log_practice(session, alice, step_of(session, course, StepKind.exercise), THURSDAY, note="nu")

    assert "nu" in get(client, "/practice?cursor=gisteren")


def test_without_practice_the_log_explains_itself(
    client: TestClient, alice: User, clock: list[datetime]
) -> None:
    main = main_of(get(client, "/practice"))

    assert "Nothing logged yet." in main
    assert "No practice logged in this week." in main


# --- navigation and export ----------------------------------------------------------------------


def test_the_menu_starts_with_today_when_signed_in(client: TestClient, alice: User) -> None:
    nav = get(client, "/courses").split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]

    links = re.findall(r'<a href="([^"]+)"', nav)
    assert links[0] == "/today"
    assert "/practice" in links


def test_her_data_export_holds_her_progress_and_practice(
    client: TestClient, session: Session, alice: User, clock: list[datetime]
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    post_form(client, f"{lesson_url(course, 'les-1-1')}/complete")
    log_practice(
        session, alice, step_of(session, course, StepKind.exercise), THURSDAY, note="Ging goed"
    )
    bob = make_user(session)
    enrol(session, bob, course)
    log_practice(
        session, bob, step_of(session, course, StepKind.breathing), THURSDAY, note="van bob"
    )

    for url in ("/account/export", "/api/v1/me/export"):
        data = client.get(url).json()
        [progress] = data["progress"]
        assert (progress["course_slug"], progress["lesson_slug"]) == (course.slug, "les-1-1")
        assert progress["completed_at"].startswith("2026-11-19")
        assert [entry["note"] for entry in data["practice"]] == ["Ging goed"]
