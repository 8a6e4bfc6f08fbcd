"""The studio's lesson pages: Alice writes lessons in her course, pastes video links, saves
safely with two tabs open, reorders and deletes; Bob (another instructor) and Carla (a learner)
can do none of it to her course. Texts are asserted in English (Alice uses Kern in English)."""

import html
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, CourseStatus, Lesson, Module, Step
from api.config import Settings
from api.db import utcnow
from api.errors import NotFound
from api.media.storage import LocalStorage
from api.progress.models import LessonProgress, PracticeLog
from api.studio import lessons
from tests.factories import (
    carries_csrf_token,
    enable_totp,
    field_error,
    log_in,
    make_course,
    make_user,
    post_form,
)


def instructor(client: TestClient, session: Session, name: str = "Alice") -> User:
    """An instructor with two-step verification, signed in in `client`, using Kern in English."""
    user = make_user(session, name=name, role=Role.instructor, language="en")
    log_in(client, user, secret=enable_totp(session, user))
    return user


def modules_of(session: Session, course: Course) -> list[Module]:
    return list(
        session.exec(
            select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
        )
    )


def lessons_in(session: Session, module: Module) -> list[Lesson]:
    session.expire_all()
    return list(
        session.exec(
            select(Lesson).where(Lesson.module_id == module.id).order_by(col(Lesson.position))
        )
    )


def first_lesson(session: Session, course: Course) -> Lesson:
    return lessons_in(session, modules_of(session, course)[0])[0]


def url_of(course: Course, lesson: Lesson) -> str:
    return f"/studio/courses/{course.slug}/lessons/{lesson.id}"


def new_url(course: Course, module: Module) -> str:
    return f"/studio/courses/{course.slug}/modules/{module.id}/lessons/new"


def lesson_form(lesson: Lesson, **changes: str) -> dict[str, str]:
    """The edit form as the page fills it, with `changes` typed over it."""
    return {**lessons.form_values(lesson), "lesson_slug": lesson.slug, **changes}


def input_value(page: str, element_id: str) -> str:
    """The value an input shows (unescaped)."""
    match = re.search(rf'<input id="{element_id}"[^>]*\svalue="([^"]*)"', page)
    assert match, f"no input {element_id}"
    return html.unescape(match.group(1))


def textarea_value(page: str, element_id: str) -> str:
    match = re.search(rf'<textarea id="{element_id}"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {element_id}"
    return html.unescape(match.group(1))


def hidden_version(page: str) -> str:
    match = re.search(r'<input type="hidden" name="version" value="(\d+)">', page)
    assert match
    return match.group(1)


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    return instructor(client, session)


@pytest.fixture
def course(session: Session, alice: User) -> Course:
    return make_course(session, instructor=alice, status=CourseStatus.draft)


# --- creating ------------------------------------------------------------------------------------


def test_a_new_lesson_goes_at_the_end_of_its_module(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[0]
    version = course.version
    assert client.get(new_url(course, module)).status_code == 200

    response = post_form(
        client,
        new_url(course, module),
        {
            "title": "Adem in, adem uit",
            "body": "Leg een hand op je **buik**.",
            "estimated_minutes": "7",
            "free_preview": "on",
        },
    )

    assert response.status_code == 303
    lesson = lessons_in(session, module)[-1]
    assert response.headers["location"] == f"{url_of(course, lesson)}?notice=created"
    assert (lesson.title, lesson.slug, lesson.position) == (
        "Adem in, adem uit",
        "adem-in-adem-uit",
        3,
    )
    assert (lesson.estimated_minutes, lesson.free_preview, lesson.video_provider) == (7, True, None)
    session.refresh(course)
    assert course.version == version + 1
    page = client.get(response.headers["location"]).text
    assert "The lesson has been added." in page


def test_a_lesson_needs_a_title_and_sensible_minutes(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[0]

    response = post_form(
        client,
        new_url(course, module),
        {"title": " ", "body": "Mijn tekst", "estimated_minutes": "vijf"},
    )

    assert response.status_code == 422
    assert field_error(response.text, "title") == "Give the lesson a title."
    assert field_error(response.text, "estimated_minutes") == "Enter a whole number from 1 to 240."
    assert textarea_value(response.text, "f-body") == "Mijn tekst"
    assert len(lessons_in(session, module)) == 3


@pytest.mark.parametrize("minutes", ["0", "241", "-3", "7.5"])
def test_minutes_outside_1_to_240_are_refused(
    client: TestClient, session: Session, course: Course, minutes: str
) -> None:
    module = modules_of(session, course)[0]
    response = post_form(
        client, new_url(course, module), {"title": "Rust", "estimated_minutes": minutes}
    )
    assert response.status_code == 422
    assert "1 to 240" in (field_error(response.text, "estimated_minutes") or "")
    assert input_value(response.text, "f-estimated_minutes") == minutes


def test_a_title_that_makes_a_taken_slug_gets_a_number(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[1]
    for _ in range(2):
        response = post_form(
            client, new_url(course, module), {"title": "Les 1 1", "estimated_minutes": "5"}
        )
        assert response.status_code == 303
    slugs = [lesson.slug for lesson in lessons_in(session, module)[-2:]]
    assert slugs == ["les-1-1-2", "les-1-1-3"]  # make_course's first lesson is les-1-1


def test_a_typed_slug_another_lesson_of_the_course_uses_is_refused(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[0]
    response = post_form(
        client,
        new_url(course, module),
        {"title": "Nieuw", "lesson_slug": "les-2-1", "estimated_minutes": "5"},
    )
    assert response.status_code == 422
    assert "already uses this web address" in (field_error(response.text, "slug") or "")
    assert input_value(response.text, "f-slug") == "les-2-1"
    assert len(lessons_in(session, module)) == 3


def test_the_same_slug_may_be_used_in_another_course(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    make_course(session, instructor=alice)  # also has a lesson les-1-1
    own = make_course(session, instructor=alice, modules=1, lessons_per_module=0)
    module = modules_of(session, own)[0]
    response = post_form(
        client,
        new_url(own, module),
        {"title": "Eerste", "lesson_slug": "les-1-1", "estimated_minutes": "5"},
    )
    assert response.status_code == 303
    assert [lesson.slug for lesson in lessons_in(session, module)] == ["les-1-1"]


@pytest.mark.parametrize("typed", ["Adem/Rustig", "a", "adem--rustig", "adem_rustig"])
def test_a_slug_that_is_not_a_slug_is_refused_with_an_example(
    client: TestClient, session: Session, course: Course, typed: str
) -> None:
    lesson = first_lesson(session, course)
    response = post_form(
        client, url_of(course, lesson), lesson_form(lesson, title="Adem rustig", lesson_slug=typed)
    )
    assert response.status_code == 422
    assert "adem-rustig" in (field_error(response.text, "slug") or "")
    session.refresh(lesson)
    assert (lesson.title, lesson.slug) == ("Les 1.1", "les-1-1")


def test_the_preview_button_shows_the_text_without_saving(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    response = post_form(
        client,
        url_of(course, lesson),
        lesson_form(lesson, body="Heel **rustig**", action="preview"),
    )
    assert response.status_code == 200
    assert "<strong>rustig</strong>" in response.text
    assert textarea_value(response.text, "f-body") == "Heel **rustig**"
    session.refresh(lesson)
    assert lesson.body == "Uitleg bij deze les."


# --- editing and video -----------------------------------------------------------------------


def test_saving_a_lesson_bumps_its_version_and_the_courses(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    before = (lesson.version, course.version, course.updated_at)

    response = post_form(
        client,
        url_of(course, lesson),
        lesson_form(lesson, title="Welkom", body="Fijn dat je er bent.", lesson_slug="welkom"),
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{url_of(course, lesson)}?notice=saved"
    session.refresh(lesson)
    session.refresh(course)
    assert (lesson.title, lesson.slug, lesson.body) == ("Welkom", "welkom", "Fijn dat je er bent.")
    assert lesson.version == before[0] + 1
    assert course.version == before[1] + 1
    assert course.updated_at > before[2]


@pytest.mark.parametrize(
    "case",
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s&list=PL1", "youtube", "dQw4w9WgXcQ"),
        ("https://m.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "youtube", "dQw4w9WgXcQ"),
        ("youtu.be/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/live/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("  https://vimeo.com/76979871  ", "vimeo", "76979871"),
        ("https://vimeo.com/channels/staffpicks/76979871", "vimeo", "76979871"),
        ("https://player.vimeo.com/video/76979871?h=abc", "vimeo", "76979871"),
    ],
)
def test_each_usual_video_link_is_stored_as_provider_and_id(
    client: TestClient, session: Session, course: Course, case: tuple[str, str, str]
) -> None:
    url, provider, ref = case
    lesson = first_lesson(session, course)
    response = post_form(
        client, url_of(course, lesson), lesson_form(lesson, video_url=url, video_title="Uitleg")
    )
    assert response.status_code == 303
    session.refresh(lesson)
    assert (lesson.video_provider, lesson.video_ref, lesson.video_title) == (
        provider,
        ref,
        "Uitleg",
    )
    page = client.get(url_of(course, lesson)).text
    assert ref in page


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/oefening.mp4",
        "https://www.youtube.com/watch?v=kort",
        "https://www.youtube.com/channel/UC123",
        "https://vimeo.com/about",
        "javascript:alert(1)",
        "<iframe src=x>",
    ],
)
def test_an_unknown_video_link_is_refused_and_what_she_typed_stays(
    client: TestClient, session: Session, course: Course, url: str
) -> None:
    lesson = first_lesson(session, course)
    response = post_form(
        client, url_of(course, lesson), lesson_form(lesson, title="Nieuwe titel", video_url=url)
    )
    assert response.status_code == 422
    message = field_error(response.text, "video_url") or ""
    assert "YouTube" in message
    assert "Vimeo" in message
    assert input_value(response.text, "f-video_url") == url
    assert input_value(response.text, "f-title") == "Nieuwe titel"
    session.refresh(lesson)
    assert (lesson.title, lesson.video_provider) == ("Les 1.1", None)


def test_the_journal_question_is_saved_shown_again_and_removed_when_emptied(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    question = "Schrijf drie minuten over wat je vandaag voelde."

    saved = post_form(client, url_of(course, lesson), lesson_form(lesson, journal_prompt=question))

    assert saved.status_code == 303
    session.refresh(lesson)
    assert lesson.journal_prompt == question
    assert input_value(client.get(url_of(course, lesson)).text, "f-journal_prompt") == question
    emptied = post_form(client, url_of(course, lesson), lesson_form(lesson, journal_prompt="  "))
    assert emptied.status_code == 303
    session.refresh(lesson)
    assert lesson.journal_prompt is None


def test_a_journal_question_over_300_characters_is_refused_and_kept(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    question = "Schrijf " + "lang " * 60

    response = post_form(
        client, url_of(course, lesson), lesson_form(lesson, title="Nieuw", journal_prompt=question)
    )

    assert response.status_code == 422
    assert field_error(response.text, "journal_prompt") == (
        "Keep the question under 300 characters."
    )
    assert input_value(response.text, "f-journal_prompt") == question
    session.refresh(lesson)
    assert (lesson.title, lesson.journal_prompt) == ("Les 1.1", None)


def test_a_journal_question_saved_in_another_tab_is_shown_under_its_name(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    url = url_of(course, lesson)
    version = hidden_version(client.get(url).text)
    post_form(client, url, lesson_form(lesson, journal_prompt="Vraag uit tab één", version=version))

    second = post_form(
        client, url, lesson_form(lesson, journal_prompt="Vraag uit tab twee", version=version)
    )

    assert second.status_code == 409
    assert "<h3>Journal question (optional)</h3>" in second.text
    assert "Vraag uit tab één" in second.text
    assert input_value(second.text, "f-journal_prompt") == "Vraag uit tab twee"


def test_an_empty_link_removes_a_youtube_video(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session, instructor=alice, video_provider="youtube")
    lesson = first_lesson(session, course)
    page = client.get(url_of(course, lesson)).text
    assert input_value(page, "f-video_url") == "https://www.youtube.com/watch?v=aBcDeFgHiJk"

    response = post_form(client, url_of(course, lesson), lesson_form(lesson, video_url=""))

    assert response.status_code == 303
    session.refresh(lesson)
    assert (lesson.video_provider, lesson.video_ref) == (None, None)


def test_an_uploaded_video_stays_until_she_removes_or_replaces_it(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session, instructor=alice, video_provider="file")
    lesson = first_lesson(session, course)
    page = client.get(url_of(course, lesson)).text
    assert "oefening.mp4" in page
    assert 'enctype="multipart/form-data"' in page
    assert f'action="{url_of(course, lesson)}/video"' in page

    post_form(client, url_of(course, lesson), lesson_form(lesson, title="Andere titel"))
    session.refresh(lesson)
    assert (lesson.title, lesson.video_provider, lesson.video_ref) == (
        "Andere titel",
        "file",
        "oefening.mp4",
    )

    post_form(client, url_of(course, lesson), lesson_form(lesson, remove_video="on"))
    session.refresh(lesson)
    assert lesson.video_provider is None


# --- two tabs --------------------------------------------------------------------------------


def test_the_second_of_two_tabs_is_told_and_nothing_is_overwritten(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    url = url_of(course, lesson)
    first_tab = hidden_version(client.get(url).text)
    second_tab = hidden_version(client.get(url).text)
    assert first_tab == second_tab

    first = post_form(client, url, lesson_form(lesson, body="Tekst uit tab één", version=first_tab))
    second = post_form(
        client,
        url,
        lesson_form(
            lesson, title="Titel uit tab twee", body="Tekst uit tab twee", version=second_tab
        ),
    )

    assert first.status_code == 303
    assert second.status_code == 409
    session.refresh(lesson)
    assert (lesson.title, lesson.body) == ("Les 1.1", "Tekst uit tab één")
    assert lesson.version == int(first_tab) + 1
    page = second.text
    assert "This lesson has been changed elsewhere in the meantime" in page
    # Her text stays in the form; the saved text is shown next to it.
    assert textarea_value(page, "f-body") == "Tekst uit tab twee"
    assert input_value(page, "f-title") == "Titel uit tab twee"
    assert "Tekst uit tab één" in page
    # Saving again, having seen the saved version, is her choice and works.
    assert hidden_version(page) == str(lesson.version)
    again = post_form(
        client, url, lesson_form(lesson, body="Tekst uit tab twee", version=hidden_version(page))
    )
    assert again.status_code == 303
    session.refresh(lesson)
    assert lesson.body == "Tekst uit tab twee"


def test_a_step_change_makes_an_open_lesson_form_out_of_date(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    url = url_of(course, lesson)
    open_form = hidden_version(client.get(url).text)

    post_form(client, f"{url}/steps", {"kind": "text"})
    response = post_form(client, url, lesson_form(lesson, title="Later", version=open_form))

    assert response.status_code == 409
    session.refresh(lesson)
    assert lesson.title == "Les 1.1"


def test_a_save_from_an_old_version_loses_even_when_this_session_read_that_version(
    session: Session, course: Course, settings: Settings
) -> None:
    lesson = first_lesson(session, course)
    # Another request saves in between: the row changes, this session's copy still says 1.
    session.execute(
        update(Lesson)
        .where(col(Lesson.id) == lesson.id)
        .values(title="Van elders", version=2)
        .execution_options(synchronize_session=False)
    )
    assert lesson.version == 1

    with pytest.raises(lessons.LessonChanged) as refused:
        lessons.save(
            session,
            course=course,
            lesson=lesson,
            data=lessons.LessonInput(title="Van hier", estimated_minutes="5"),
            version="1",
            storage=LocalStorage(settings.media_dir),
        )

    assert refused.value.current.title == "Van elders"
    session.expire_all()
    assert session.get(Lesson, lesson.id).title == "Van elders"  # type: ignore[union-attr]


# --- order and deleting --------------------------------------------------------------------


def test_lessons_move_up_and_down_within_their_module(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[0]
    first, second, third = lessons_in(session, module)

    response = post_form(client, f"{url_of(course, third)}/move", {"direction": "up"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("?notice=moved&focus=lesson-up")
    assert [row.id for row in lessons_in(session, module)] == [first.id, third.id, second.id]
    # The page comes back with the focus on the button she pressed.
    page = client.get(response.headers["location"]).text
    assert re.search(r'value="up"[^>]*autofocus', page)

    post_form(client, f"{url_of(course, first)}/move", {"direction": "up"})  # already first
    post_form(client, f"{url_of(course, first)}/move", {"direction": "down"})
    moved = lessons_in(session, module)
    assert [row.id for row in moved] == [third.id, first.id, second.id]
    assert [row.position for row in moved] == [0, 1, 2]
    # At the top the up button is off, so the focus goes to the down button.
    page = client.get(response.headers["location"]).text
    assert re.search(r'value="down"[^>]*autofocus', page)


def test_a_lesson_is_deleted_only_after_confirmation(
    client: TestClient, session: Session, course: Course
) -> None:
    module = modules_of(session, course)[0]
    first, second, third = (row.id for row in lessons_in(session, module))
    url = f"/studio/courses/{course.slug}/lessons/{second}"

    unconfirmed = post_form(client, f"{url}/delete")
    assert unconfirmed.status_code == 409
    assert len(lessons_in(session, module)) == 3

    response = post_form(client, f"{url}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/studio/courses/{course.slug}?notice=lesson-deleted"
    remaining = lessons_in(session, module)
    assert [(row.id, row.position) for row in remaining] == [(first, 0), (third, 1)]
    assert session.exec(select(Step).where(Step.lesson_id == second)).all() == []


def test_a_lesson_learners_have_opened_or_practised_cannot_be_deleted(
    client: TestClient, session: Session, course: Course
) -> None:
    carla = make_user(session, name="Carla")
    opened, practised = lessons_in(session, modules_of(session, course)[0])[:2]
    session.add(
        LessonProgress(
            user_id=carla.id or 0,
            lesson_id=opened.id or 0,
            course_id=course.id or 0,
            last_visited_at=utcnow(),
        )
    )
    session.add(
        PracticeLog(
            user_id=carla.id or 0,
            client_id="log-1",
            lesson_id=practised.id,
            course_id=course.id or 0,
            step_kind="exercise",
            practised_at=utcnow(),
            practised_on=date.today(),
        )
    )
    session.flush()

    for lesson in (opened, practised):
        response = post_form(client, f"{url_of(course, lesson)}/delete", {"confirm": "yes"})
        assert response.status_code == 409
        assert "Learners have already opened or practised this lesson" in response.text
        assert session.get(Lesson, lesson.id) is not None


def test_view_as_learner_opens_the_draft_lesson_as_she_will_see_it(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    page = client.get(url_of(course, lesson)).text
    link = f'href="/courses/{course.slug}/lessons/{lesson.slug}"'
    assert link in page
    assert client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").status_code == 200


# --- ids and people that do not belong -----------------------------------------------------


def test_ids_of_another_course_are_not_found_and_nothing_changes(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    other = make_course(session, instructor=alice)
    foreign = first_lesson(session, other)
    foreign_module = modules_of(session, other)[0]
    foreign_step = session.exec(select(Step).where(Step.lesson_id == foreign.id)).first()
    assert foreign_step is not None
    own = first_lesson(session, course)
    base = f"/studio/courses/{course.slug}"
    before = (foreign.title, foreign.version, foreign.position, foreign_step.hold_seconds)

    answers = [
        client.get(f"{base}/lessons/{foreign.id}").status_code,
        client.get(f"{base}/modules/{foreign_module.id}/lessons/new").status_code,
        post_form(client, f"{base}/modules/{foreign_module.id}/lessons/new", {"title": "X"}),
        post_form(client, f"{base}/lessons/{foreign.id}", lesson_form(foreign, title="X")),
        post_form(client, f"{base}/lessons/{foreign.id}/move", {"direction": "down"}),
        post_form(client, f"{base}/lessons/{foreign.id}/delete", {"confirm": "yes"}),
        post_form(client, f"{base}/lessons/{foreign.id}/steps", {"kind": "text"}),
        post_form(
            client, f"{base}/lessons/{own.id}/steps/{foreign_step.id}", {"hold_seconds": "5"}
        ),
        post_form(
            client, f"{base}/lessons/{own.id}/steps/{foreign_step.id}/move", {"direction": "down"}
        ),
        post_form(
            client, f"{base}/lessons/{own.id}/steps/{foreign_step.id}/delete", {"confirm": "yes"}
        ),
        client.get(f"{base}/lessons/999999").status_code,
        client.get(f"{base}/lessons/{2**40}").status_code,
        post_form(client, f"{base}/lessons/{own.id}/steps/{2**40}/move", {"direction": "up"}),
    ]

    assert [a if isinstance(a, int) else a.status_code for a in answers] == [404] * len(answers)
    session.expire_all()
    foreign = session.get(Lesson, foreign.id)  # type: ignore[assignment]
    step = session.get(Step, foreign_step.id)
    assert foreign is not None
    assert step is not None
    assert (foreign.title, foreign.version, foreign.position, step.hold_seconds) == before
    assert len(session.exec(select(Step).where(Step.lesson_id == foreign.id)).all()) == 2
    with pytest.raises(NotFound):
        lessons.lesson_of(session, course=course, lesson_id=foreign.id or 0)


def every_route(
    course: Course, lesson: Lesson, module: Module, step: Step
) -> list[tuple[str, str]]:
    base = f"/studio/courses/{course.slug}"
    lesson_url = f"{base}/lessons/{lesson.id}"
    step_url = f"{lesson_url}/steps/{step.id}"
    return [
        ("GET", f"{base}/modules/{module.id}/lessons/new"),
        ("POST", f"{base}/modules/{module.id}/lessons/new"),
        ("GET", lesson_url),
        ("POST", lesson_url),
        ("POST", f"{lesson_url}/move"),
        ("POST", f"{lesson_url}/delete"),
        ("POST", f"{lesson_url}/steps"),
        ("POST", step_url),
        ("POST", f"{step_url}/move"),
        ("POST", f"{step_url}/delete"),
    ]


FORM = {
    "title": "Overgenomen",
    "body": "Overgenomen",
    "estimated_minutes": "5",
    "version": "1",
    "direction": "down",
    "kind": "exercise",
    "hold_seconds": "5",
    "confirm": "yes",
}


def snapshot(session: Session, course: Course) -> list[object]:
    session.expire_all()
    lesson_rows = session.exec(select(Lesson).where(Lesson.course_id == course.id)).all()
    ids = [row.id for row in lesson_rows]
    step_rows = session.exec(select(Step).where(col(Step.lesson_id).in_(ids))).all()
    fresh = session.get(Course, course.id)
    assert fresh is not None
    return [
        fresh.version,
        sorted((row.model_dump() for row in lesson_rows), key=lambda row: row["id"]),
        sorted((row.model_dump() for row in step_rows), key=lambda row: row["id"]),
    ]


@pytest.mark.parametrize("role", [Role.instructor, Role.learner])
def test_another_instructor_and_a_learner_are_refused_everywhere(
    client: TestClient, session: Session, course: Course, role: Role
) -> None:
    lesson = first_lesson(session, course)
    module = modules_of(session, course)[0]
    step = session.exec(select(Step).where(Step.lesson_id == lesson.id)).first()
    assert step is not None
    client.cookies.clear()
    bob = make_user(session, name="Bob", role=role, language="en")
    log_in(client, bob, secret=enable_totp(session, bob) if bob.needs_totp else None)
    before = snapshot(session, course)

    for method, url in every_route(course, lesson, module, step):
        response = (
            client.get(url, follow_redirects=False)
            if method == "GET"
            else post_form(client, url, FORM)
        )
        assert response.status_code == 403, (method, url)
        assert lesson.body not in response.text

    assert snapshot(session, course) == before


def test_anonymous_visitors_are_sent_to_the_login(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    module = modules_of(session, course)[0]
    step = session.exec(select(Step).where(Step.lesson_id == lesson.id)).first()
    assert step is not None
    client.cookies.clear()
    before = snapshot(session, course)

    for method, url in every_route(course, lesson, module, step):
        response = (
            client.get(url, follow_redirects=False)
            if method == "GET"
            else post_form(client, url, FORM)
        )
        assert response.status_code == 303, (method, url)
        assert response.headers["location"].startswith("/login?next="), (method, url)

    assert snapshot(session, course) == before


def test_every_form_on_the_lesson_pages_carries_the_csrf_token(
    client: TestClient, session: Session, course: Course
) -> None:
    lesson = first_lesson(session, course)
    module = modules_of(session, course)[0]
    for url in (url_of(course, lesson), new_url(course, module)):
        page = client.get(url).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', page, re.S)
        assert forms
        for form in forms:
            assert carries_csrf_token(client, form)


def test_an_admin_may_edit_any_instructors_lesson(client: TestClient, session: Session) -> None:
    course = make_course(session, status=CourseStatus.draft)  # another instructor's
    lesson = first_lesson(session, course)
    admin = make_user(session, name="Dina", role=Role.admin, language="en")
    log_in(client, admin, secret=enable_totp(session, admin))

    assert client.get(url_of(course, lesson)).status_code == 200
    response = post_form(client, url_of(course, lesson), lesson_form(lesson, title="Nagekeken"))

    assert response.status_code == 303
    session.refresh(lesson)
    assert lesson.title == "Nagekeken"
