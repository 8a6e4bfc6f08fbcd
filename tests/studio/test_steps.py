"""A lesson's steps in the studio: Alice adds exercises with the usual dosing, adjusts them within
safe bounds, reorders and deletes them. Texts are asserted in English."""

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, CourseStatus, Lesson, Step
from api.db import utcnow
from api.progress.models import PracticeLog
from api.studio import steps as studio_steps
from tests.factories import field_error, make_course, make_user, post_form
from tests.studio.test_lessons import first_lesson, instructor, url_of


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    return instructor(client, session)


@pytest.fixture
def course(session: Session, alice: User) -> Course:
    # Each lesson has an exercise step (position 0) and a breathing step (position 1).
    return make_course(session, instructor=alice, status=CourseStatus.draft, steps_per_lesson=3)


@pytest.fixture
def lesson(session: Session, course: Course) -> Lesson:
    return first_lesson(session, course)


def steps_of(session: Session, lesson: Lesson) -> list[Step]:
    session.expire_all()
    return list(
        session.exec(select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position)))
    )


def step_url(course: Course, lesson: Lesson, step: Step) -> str:
    return f"{url_of(course, lesson)}/steps/{step.id}"


def exercise_form(**changes: str) -> dict[str, str]:
    form = {
        "title": "Langzaam aanspannen",
        "body": "Span aan alsof je een plas ophoudt.",
        "hold_seconds": "10",
        "relax_seconds": "10",
        "reps": "8",
        "sets": "2",
        "rest_seconds": "60",
        "side": "",
        "cues": "Blijf doorademen\n\n  Billen los  \n",
    }
    return {**form, **changes}


# --- adding -----------------------------------------------------------------------------------


def test_a_new_exercise_starts_with_the_usual_dosing(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    versions = (lesson.version, course.version)

    response = post_form(client, f"{url_of(course, lesson)}/steps", {"kind": "exercise"})

    step = steps_of(session, lesson)[-1]
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"{url_of(course, lesson)}?notice=step-added&edit={step.id}#step-{step.id}"
    )
    assert (step.kind, step.position, step.title) == ("exercise", 3, "Exercise")
    dosing = (step.hold_seconds, step.relax_seconds, step.reps, step.sets, step.rest_seconds)
    assert dosing == (5, 10, 8, 2, 30)
    session.refresh(course)
    assert (lesson.version, course.version) == (versions[0] + 1, versions[1] + 1)
    page = client.get(response.headers["location"]).text
    assert "Tighten for 5 counts, relax for 10 counts — 8 times, 2 sets, 30 seconds rest" in page
    assert "Start gently" in page
    assert re.search(r'<details class="lesson-step__edit" open>\s*<summary>', page)


def test_a_new_breathing_exercise_breathes_in_4_and_out_6(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    post_form(client, f"{url_of(course, lesson)}/steps", {"kind": "breathing"})

    step = steps_of(session, lesson)[-1]
    breath = (step.inhale_seconds, step.hold_seconds, step.exhale_seconds, step.cycles)
    assert (step.kind, breath) == ("breathing", (4, 0, 6, 10))
    assert step.reps is None


def test_a_new_text_step_asks_for_its_text(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    post_form(client, f"{url_of(course, lesson)}/steps", {"kind": "text"})

    step = steps_of(session, lesson)[-1]
    assert (step.kind, step.body, step.hold_seconds) == (
        "text",
        "Write the text of this step here.",
        None,
    )


def test_an_unknown_kind_adds_nothing(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    response = post_form(client, f"{url_of(course, lesson)}/steps", {"kind": "video"})
    assert response.status_code == 422
    assert "Choose a text, an exercise or a breathing exercise." in response.text
    assert len(steps_of(session, lesson)) == 3


# --- editing ------------------------------------------------------------------------------------


def test_an_exercise_is_saved_with_its_side_and_one_cue_per_line(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    exercise = steps_of(session, lesson)[0]
    version = lesson.version

    response = post_form(client, step_url(course, lesson, exercise), exercise_form(side="left"))

    assert response.status_code == 303
    assert response.headers["location"].endswith(f"notice=step-saved#step-{exercise.id}")
    session.refresh(exercise)
    assert exercise.title == "Langzaam aanspannen"
    dosing = (
        exercise.hold_seconds,
        exercise.relax_seconds,
        exercise.reps,
        exercise.sets,
        exercise.rest_seconds,
    )
    assert dosing == (10, 10, 8, 2, 60)
    assert (exercise.side, exercise.cues) == ("left", ["Blijf doorademen", "Billen los"])
    session.refresh(lesson)
    assert lesson.version == version + 1


@pytest.mark.parametrize("hold", ["0", "121", "acht", "", "8.5", "-8"])
def test_a_hold_outside_1_to_120_seconds_is_refused_and_nothing_is_saved(
    client: TestClient, session: Session, course: Course, lesson: Lesson, hold: str
) -> None:
    exercise = steps_of(session, lesson)[0]
    before = exercise.model_dump()

    response = post_form(
        client, step_url(course, lesson, exercise), exercise_form(hold_seconds=hold, reps="12")
    )

    assert response.status_code == 422
    key = f"step-{exercise.id}"
    assert field_error(response.text, f"{key}-hold_seconds") == (
        "Enter a whole number from 1 to 120."
    )
    # What she typed stays, in the form that stays open.
    assert f'id="f-{key}-reps" name="reps" type="text" value="12"' in response.text
    assert f'id="f-{key}-hold_seconds" name="hold_seconds" type="text" value="{hold}"' in (
        response.text
    )
    assert re.search(
        rf'id="{key}">.*?<details class="lesson-step__edit" open>', response.text, re.S
    )
    session.expire_all()
    assert steps_of(session, lesson)[0].model_dump() == before


def test_every_wrong_number_is_named_at_once(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    exercise = steps_of(session, lesson)[0]
    response = post_form(
        client,
        step_url(course, lesson, exercise),
        exercise_form(relax_seconds="0", reps="101", sets="21", rest_seconds="601", side="up"),
    )
    key = f"step-{exercise.id}"
    assert response.status_code == 422
    assert (
        field_error(response.text, f"{key}-relax_seconds") == "Enter a whole number from 1 to 120."
    )
    assert field_error(response.text, f"{key}-reps") == "Enter a whole number from 1 to 100."
    assert field_error(response.text, f"{key}-sets") == "Enter a whole number from 1 to 20."
    assert field_error(response.text, f"{key}-rest_seconds") == (
        "Enter a whole number from 0 to 600."
    )
    assert f'id="f-{key}-side-error"' in response.text


def test_an_exercise_needs_a_name(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    exercise = steps_of(session, lesson)[0]
    response = post_form(client, step_url(course, lesson, exercise), exercise_form(title="  "))
    assert response.status_code == 422
    assert field_error(response.text, f"step-{exercise.id}-title")


def test_a_breathing_step_may_pause_0_to_30_seconds(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    breathing = steps_of(session, lesson)[1]
    form = {
        "title": "Rustig ademen",
        "inhale_seconds": "5",
        "hold_seconds": "31",
        "exhale_seconds": "7",
        "cycles": "6",
    }

    refused = post_form(client, step_url(course, lesson, breathing), form)
    assert refused.status_code == 422
    assert field_error(refused.text, f"step-{breathing.id}-hold_seconds") == (
        "Enter a whole number from 0 to 30."
    )

    saved = post_form(client, step_url(course, lesson, breathing), {**form, "hold_seconds": ""})
    assert saved.status_code == 303
    session.refresh(breathing)
    breath = (breathing.inhale_seconds, breathing.hold_seconds, breathing.exhale_seconds)
    assert (breath, breathing.cycles) == ((5, 0, 7), 6)


def test_a_text_step_needs_its_text(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    text = steps_of(session, lesson)[2]
    refused = post_form(client, step_url(course, lesson, text), {"title": "", "body": " "})
    assert refused.status_code == 422
    assert field_error(refused.text, f"step-{text.id}-body") == "Write the text of this step."

    saved = post_form(client, step_url(course, lesson, text), {"body": "Neem de tijd."})
    assert saved.status_code == 303
    session.refresh(text)
    assert text.body == "Neem de tijd."


# --- order and deleting --------------------------------------------------------------------


def test_steps_move_up_and_down_and_the_focus_stays_on_the_button(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    exercise, breathing, text = steps_of(session, lesson)

    response = post_form(client, f"{step_url(course, lesson, text)}/move", {"direction": "up"})

    assert response.status_code == 303
    assert response.headers["location"].endswith(f"focus=step-{text.id}-up")
    moved = steps_of(session, lesson)
    assert [(step.id, step.position) for step in moved] == [
        (exercise.id, 0),
        (text.id, 1),
        (breathing.id, 2),
    ]
    page = client.get(response.headers["location"]).text
    item = page.split(f'id="step-{text.id}"', 1)[1].split("</li>", 1)[0]
    assert re.search(r'value="up"[^>]*autofocus', item)

    post_form(client, f"{step_url(course, lesson, exercise)}/move", {"direction": "down"})
    assert [step.id for step in steps_of(session, lesson)] == [text.id, exercise.id, breathing.id]


def test_moving_a_step_past_the_end_changes_nothing(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    order = [step.id for step in steps_of(session, lesson)]
    last = steps_of(session, lesson)[-1]
    post_form(client, f"{step_url(course, lesson, last)}/move", {"direction": "down"})
    assert [step.id for step in steps_of(session, lesson)] == order
    refused = post_form(client, f"{step_url(course, lesson, last)}/move", {"direction": "left"})
    assert refused.status_code == 422


def test_a_deleted_step_leaves_the_others_numbered_and_practice_logs_kept(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    exercise, breathing, text = steps_of(session, lesson)
    carla = make_user(session, name="Carla")
    log = PracticeLog(
        user_id=carla.id or 0,
        client_id="log-1",
        step_id=exercise.id,
        lesson_id=lesson.id,
        course_id=course.id or 0,
        step_title=exercise.title,
        step_kind="exercise",
        practised_at=utcnow(),
        practised_on=date.today(),
    )
    session.add(log)
    session.flush()
    url = f"{step_url(course, lesson, exercise)}/delete"

    assert post_form(client, url).status_code == 422  # not confirmed
    assert len(steps_of(session, lesson)) == 3

    response = post_form(client, url, {"confirm": "yes"})

    assert response.status_code == 303
    assert [(step.id, step.position) for step in steps_of(session, lesson)] == [
        (breathing.id, 0),
        (text.id, 1),
    ]
    session.refresh(log)
    assert (log.step_id, log.step_title) == (None, "Stap 1")


def test_the_step_list_shows_each_dose_in_order(
    client: TestClient, session: Session, course: Course, lesson: Lesson
) -> None:
    page = client.get(url_of(course, lesson)).text
    exercise = page.index("Tighten for 8 counts")
    breathing = page.index("Breathe in for 4 counts, breathe out for 6 counts — 10 times")
    assert exercise < breathing


def test_the_defaults_match_the_bounds() -> None:
    for kind, numbers in studio_steps.DEFAULTS.items():
        for name, value in numbers.items():
            low, high = studio_steps.NUMBERS[kind][name]
            assert low <= value <= high
