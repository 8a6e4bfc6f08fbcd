"""The check-in as she meets it: the first card on Vandaag (with the clock moved), one page of
questions without script, what she typed kept at 422, her consent asked in the same form, a
double submit stored once, the doctor advice after a warning sign, and her charts with the
change in words. English unless a test reads Dutch."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api import i18n
from api.accounts.models import User
from api.catalog.models import Course
from api.clock import current_time
from api.consent.texts import HEALTH_DATA_VERSION
from api.questionnaires.models import Measurement, Questionnaire
from tests.factories import agree_to_health_data, log_in, make_course, make_user, post_form
from tests.questionnaires.checkin_factories import (
    add_check_in,
    answers,
    enrol_at,
    make_questionnaire,
)

ENROLLED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(client: TestClient) -> Iterator[list[datetime]]:
    """The moment the app thinks it is; tests change `clock[0]` to move it."""
    moment = [ENROLLED + timedelta(hours=1)]
    client.app.dependency_overrides[current_time] = lambda: moment[0]  # type: ignore[attr-defined]
    yield moment
    client.app.dependency_overrides.pop(current_time, None)  # type: ignore[attr-defined]


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    user = make_user(session, name="Alice de Vries")
    log_in(client, user)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return user


@pytest.fixture
def course(session: Session) -> Course:
    return make_course(session, modules=2, lessons_per_module=2)


@pytest.fixture
def questionnaire(session: Session, course: Course) -> Questionnaire:
    questionnaire = make_questionnaire(session, course)
    add_check_in(session, course, questionnaire, "enrolment")
    add_check_in(session, course, questionnaire, "every", position=1, every_days=14)
    return questionnaire


@dataclass(frozen=True)
class Scene:
    """The course with its check-ins, and the clock the app reads."""

    course: Course
    questionnaire: Questionnaire
    clock: list[datetime]


@pytest.fixture
def scene(course: Course, questionnaire: Questionnaire, clock: list[datetime]) -> Scene:
    return Scene(course, questionnaire, clock)


def url_of(course: Course, questionnaire: Questionnaire, when: str) -> str:
    return f"/courses/{course.slug}/check-ins/q{questionnaire.id}-{when}"


def stored(session: Session, user: User) -> list[Measurement]:
    return list(
        session.exec(
            select(Measurement)
            .where(Measurement.user_id == user.id)
            .order_by(col(Measurement.taken_at))
        ).all()
    )


def test_the_due_check_in_is_the_first_card_on_vandaag_and_the_clock_brings_the_next(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, clock = scene.course, scene.questionnaire, scene.clock
    agree_to_health_data(session, alice)
    enrol_at(session, alice, course, ENROLLED)
    baseline = url_of(course, questionnaire, "enrolment")

    page = client.get("/today").text
    card = page.index("Check-in: how are you now?")
    assert card < page.index("Start with"), "the check-in comes before the next lesson"
    assert f'href="{baseline}"' in page
    assert "about 2 minutes" in page

    sent = post_form(client, baseline, answers())
    assert sent.status_code == 303
    assert sent.headers["location"] == "/today?notice=check-in-saved"
    page = client.get(sent.headers["location"]).text
    assert "Thank you, your check-in is saved." in page
    assert "Check-in: how are you now?" not in page

    clock[0] = ENROLLED + timedelta(days=15)
    assert f'href="{url_of(course, questionnaire, "every-14-1")}"' in client.get("/today").text


def test_every_question_is_on_one_page_as_plain_form_inputs(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, _clock = scene.course, scene.questionnaire, scene.clock
    enrol_at(session, alice, course, ENROLLED)

    page = client.get(url_of(course, questionnaire, "enrolment")).text

    assert page.count('type="radio" name="bother"') == 11
    assert "0 = geen last" in page
    assert "10 = heel veel last" in page
    assert page.count('type="radio" name="how-often"') == 4
    assert 'name="numb" value="yes"' in page
    assert 'name="numb" value="no"' in page
    assert '<textarea id="q-note" name="note"' in page
    assert "<script" not in page.split("<main", 1)[1]


def test_a_missing_answer_is_refused_with_what_she_chose_kept(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, _clock = scene.course, scene.questionnaire, scene.clock
    agree_to_health_data(session, alice)
    enrol_at(session, alice, course, ENROLLED)
    form = answers(bother=4, note="Vooral 's avonds")
    del form["back-pain"]

    refused = post_form(client, url_of(course, questionnaire, "enrolment"), form)

    assert refused.status_code == 422
    assert 'id="q-back-pain-error">Please answer this question.' in refused.text
    assert 'name="bother" value="4" checked' in refused.text
    assert "Vooral &#39;s avonds</textarea>" in refused.text
    assert stored(session, alice) == []


def test_without_consent_her_answers_wait_for_the_tick_and_then_are_stored_once(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, _clock = scene.course, scene.questionnaire, scene.clock
    enrol_at(session, alice, course, ENROLLED)
    url = url_of(course, questionnaire, "enrolment")
    assert 'name="agree"' in client.get(url).text

    refused = post_form(client, url, answers(bother=3))

    assert refused.status_code == 409
    assert "Tick the box to let Kern keep your check-in." in refused.text
    assert 'name="bother" value="3" checked' in refused.text
    assert stored(session, alice) == []

    with_tick = {**answers(bother=3), "agree": "yes", "version": HEALTH_DATA_VERSION}
    first = post_form(client, url, with_tick)
    again = post_form(client, url, with_tick)

    assert first.status_code == again.status_code == 303
    session.refresh(alice)
    assert alice.health_consent_version == HEALTH_DATA_VERSION
    assert [m.answers["bother"] for m in stored(session, alice)] == [3]


def test_a_warning_sign_ends_with_the_advice_to_see_a_doctor_and_nothing_to_buy(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, _clock = scene.course, scene.questionnaire, scene.clock
    agree_to_health_data(session, alice)
    enrol_at(session, alice, course, ENROLLED)
    url = url_of(course, questionnaire, "enrolment")

    sent = post_form(client, url, answers(numb="yes"))

    assert sent.status_code == 303
    assert sent.headers["location"] == url
    page = client.get(url).text
    assert "Please see your doctor first" in page
    assert "Your check-in is saved" in page
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "checkout" not in main
    assert "€" not in main
    assert stored(session, alice)[0].warning is True


def test_a_check_in_not_due_or_of_a_course_she_does_not_follow_is_not_found(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, _clock = scene.course, scene.questionnaire, scene.clock
    assert client.get(url_of(course, questionnaire, "enrolment")).status_code == 404
    enrol_at(session, alice, course, ENROLLED)
    assert client.get(url_of(course, questionnaire, "every-14-1")).status_code == 404
    assert client.get(url_of(course, questionnaire, "end")).status_code == 404
    assert client.get(f"/courses/{course.slug}/check-ins/nonsense").status_code == 404


def fill_three_times(
    client: TestClient, course: Course, questionnaire: Questionnaire, clock: list[datetime]
) -> None:
    """Baseline 2+6+7 = 15, then two periods later 1+4+5 = 10 and 1+3+4 = 8."""
    post_form(client, url_of(course, questionnaire, "enrolment"), answers(2, 6, 7))
    clock[0] = ENROLLED + timedelta(days=15)
    post_form(client, url_of(course, questionnaire, "every-14-1"), answers(1, 4, 5))
    clock[0] = ENROLLED + timedelta(days=29)
    post_form(client, url_of(course, questionnaire, "every-14-2"), answers(1, 3, 4))


def test_her_progress_page_charts_each_measure_with_the_change_in_words(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, clock = scene.course, scene.questionnaire, scene.clock
    agree_to_health_data(session, alice)
    enrol_at(session, alice, course, ENROLLED)
    fill_three_times(client, course, questionnaire, clock)

    page = client.get("/practice").text

    assert "Your score on Bekkenbodem check-in went from 15 to 8." in page
    assert "That is at least 3 points, the change counted as meaningful, in the better" in page
    assert "Your lekken went from 8 to 4." in page
    assert "Your pijn went from 7 to 4." in page
    assert page.count('<figure class="measure-chart"') == 3
    assert page.count('class="measure-chart__dot') == 9
    assert '<th scope="row">17 November 2026</th><td>10</td>' in page

    client.cookies.set(i18n.LOCALE_COOKIE, "nl")
    dutch = client.get("/practice").text
    assert "Je pijn ging van 7 naar 4." in dutch
    assert "Lager is hier beter." in dutch


def test_a_small_change_is_called_less_than_the_meaningful_change(
    client: TestClient, session: Session, alice: User, scene: Scene
) -> None:
    course, questionnaire, clock = scene.course, scene.questionnaire, scene.clock
    agree_to_health_data(session, alice)
    enrol_at(session, alice, course, ENROLLED)
    post_form(client, url_of(course, questionnaire, "enrolment"), answers(2, 6, 7))
    page = client.get("/practice").text
    assert "First score on Bekkenbodem check-in: 15." in page

    clock[0] = ENROLLED + timedelta(days=15)
    post_form(client, url_of(course, questionnaire, "every-14-1"), answers(2, 6, 9))

    page = client.get("/practice").text
    assert "Your score on Bekkenbodem check-in went from 15 to 17." in page
    assert (
        "That is less than 3 points, the change counted as meaningful. Lower is better here."
        in page
    )
