"""The public self-test: one question per screen without JavaScript, her result, the advice with
a warning sign, the anonymous tally, and keeping the result as her first measurement."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.config import Settings
from api.db import utcnow
from api.questionnaires import selftest
from api.questionnaires.models import Measurement, Questionnaire, SelfTestTally
from tests.factories import (
    PASSWORD,
    agree_to_health_data,
    enable_totp,
    field_error,
    log_in,
    make_course,
    make_user,
    post_form,
    sign_up,
)
from tests.questionnaires.selftest_helpers import (
    CALM_COURSE,
    LOW,
    MIDDLE,
    SLUG,
    definition,
    form_of,
    fresh_definitions,  # noqa: F401 (a fixture)
    make_self_test,
    submit,
    take,
)
from tests.smtp import Mailbox, link_path

pytestmark = pytest.mark.usefixtures("fresh_definitions")

KEEP = f"/test/{SLUG}/keep"
CHECKED = r'value="(\d+)"[^>]*checked'
CONFIRM = f"/test/{SLUG}/keep/confirm"


def tallies(session: Session) -> list[tuple[int, bool, int]]:
    rows = session.exec(select(SelfTestTally)).all()
    return sorted((row.band_index, row.warning, row.count) for row in rows)


def measurements(session: Session) -> list[Measurement]:
    return list(session.exec(select(Measurement)).all())


def token_of(result_page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', result_page)
    assert match, "no keep button"
    return match.group(1)


def questions_in(html: str) -> str:
    match = re.search(r'id="selftest-progress">([^<]*)<', html)
    assert match, html[:500]
    return match.group(1)


# --- the screens ---------------------------------------------------------------------------


def test_the_first_screen_shows_the_title_a_safe_intro_and_a_start_button(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)

    page = client.get(f"/test/{SLUG}")

    assert page.status_code == 200
    assert '<h1 lang="nl">Rugtest</h1>' in page.text
    assert "<strong>Neem je tijd.</strong>" in page.text
    assert "<script>alert(1)" not in page.text
    assert "5 vragen, één voor één" in page.text
    assert 'name="go" value="start"' in page.text


def test_one_question_per_screen_with_progress(client: TestClient, session: Session) -> None:
    make_self_test(session)

    first = submit(client, client.get(f"/test/{SLUG}"), go="start")
    second = submit(client, first, {"pain": "6"})

    assert questions_in(first.text) == "Vraag 1 van 5"
    assert first.text.count('type="radio"') == 11
    assert "geen last" in first.text
    assert "heel veel last" in first.text
    assert 'value="back"' not in first.text  # nothing before the first question
    assert questions_in(second.text) == "Vraag 2 van 5"
    assert '<progress max="5" value="2"' in second.text
    assert "Hoe lang heb je er al last van?" in second.text
    assert "Vorige" in second.text
    assert "Volgende" in second.text


def test_going_back_and_forth_keeps_every_answer(client: TestClient, session: Session) -> None:
    make_self_test(session)
    page = submit(client, client.get(f"/test/{SLUG}"), go="start")
    page = submit(client, page, {"pain": "7"})
    page = submit(client, page, {"since": "2"})
    page = submit(client, page, {"worse": ["0", "1"]})

    # Back twice, without answering the warning sign: everything before it stays.
    page = submit(client, page, go="back")
    assert questions_in(page.text) == "Vraag 3 van 5"
    assert re.findall(CHECKED, page.text) == ["0", "1"]
    page = submit(client, page, {"worse": ["1"]}, go="back")
    assert questions_in(page.text) == "Vraag 2 van 5"
    assert re.findall(CHECKED, page.text) == ["2"]
    page = submit(client, page, go="back")
    assert re.findall(CHECKED, page.text) == ["7"]

    # And forward again: the changed choice is the one kept.
    page = submit(client, page)
    page = submit(client, page)
    assert re.findall(CHECKED, page.text) == ["1"]
    assert dict(form_of(page.text)[1])["q-pain"] == "7"


def test_a_missing_or_invalid_answer_shows_the_same_screen_again_at_422(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)
    first = submit(client, client.get(f"/test/{SLUG}"), go="start")

    missing = submit(client, first)
    out_of_range = submit(client, first, {"pain": "11"})

    assert missing.status_code == 422
    assert questions_in(missing.text) == "Vraag 1 van 5"
    assert "Beantwoord deze vraag." in missing.text
    assert out_of_range.status_code == 422
    assert "Kies een getal van 0 tot 10." in out_of_range.text
    assert tallies(session) == []


def test_an_answer_lost_on_the_way_asks_that_question_again(
    client: TestClient, session: Session
) -> None:
    """An altered page that drops an earlier answer: the result waits for it."""
    make_self_test(session)
    action = f"/test/{SLUG}"
    data = {"at": "4", "go": "next", "q-pain": "3", "q-since": "1", "q-numb": "no"}
    client.get(action)

    response = post_form(client, action, {**data, "q-since": "9"})

    assert response.status_code == 422
    assert questions_in(response.text) == "Vraag 2 van 5"
    assert "Kies een van de opties." in response.text
    assert tallies(session) == []


def test_an_unknown_or_unpublished_test_is_not_found(client: TestClient, session: Session) -> None:
    make_self_test(session, status="draft")

    assert client.get(f"/test/{SLUG}").status_code == 404
    assert client.get("/test/bestaat-niet").status_code == 404
    assert client.get("/test/Niet%00Geldig").status_code == 404


def test_its_instructor_may_try_a_draft_and_her_result_is_not_counted(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    make_self_test(session, instructor=owner, status="draft")
    log_in(client, owner, secret=enable_totp(session, owner))

    result = take(client)

    assert result.status_code == 200
    assert "Matige klachten" in result.text
    assert tallies(session) == []


def test_a_draft_without_questions_says_so_to_its_instructor(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    make_self_test(
        session, instructor=owner, status="draft", definition_=definition(items=[], bands=[])
    )
    log_in(client, owner, secret=enable_totp(session, owner))

    started = post_form(client, f"/test/{SLUG}", {"go": "start"})

    assert started.status_code == 404
    assert "Deze test heeft nog geen vragen." in started.text


# --- the result ----------------------------------------------------------------------------


def test_the_result_shows_her_score_band_and_suggested_course_and_is_counted_once(
    client: TestClient, session: Session
) -> None:
    questionnaire = make_self_test(session)

    result = take(client)

    assert result.status_code == 200
    assert "Je score is 7, op een schaal van 0 tot 16." in result.text
    assert "Matige klachten" in result.text
    assert "Begin rustig." in result.text
    assert 'class="course-card"' in result.text
    assert "49,00" in result.text
    assert "Bewaar mijn uitslag" in result.text
    assert 'class="disclaimer"' in result.text
    assert tallies(session) == [(1, False, 1)]
    assert measurements(session) == []
    assert session.get(Questionnaire, questionnaire.id) is not None


def test_a_band_suggesting_an_unpublished_course_shows_no_card(
    client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    make_course(session, instructor=owner, slug=CALM_COURSE, status="draft")
    make_self_test(session, instructor=owner)

    result = take(client, answers=LOW)

    assert "Weinig klachten" in result.text
    assert "<em>houdt zich</em>" in result.text
    assert 'class="course-card"' not in result.text


def test_a_band_suggests_only_the_instructors_own_course(
    client: TestClient, session: Session
) -> None:
    make_course(session, slug=CALM_COURSE)  # another instructor's
    make_self_test(session)

    assert 'class="course-card"' not in take(client, answers=LOW).text


def test_a_warning_sign_gives_the_doctor_advice_instead_of_any_course(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)

    result = take(client, answers={**MIDDLE, "numb": "yes"})

    assert result.status_code == 200
    assert "Ga eerst naar je huisarts" in result.text
    assert "Voel je je kruis of liezen minder?" in result.text
    assert 'class="disclaimer"' in result.text
    assert 'class="course-card"' not in result.text
    assert "/courses/" not in result.text.split('id="main"')[1]
    assert "€" not in result.text
    assert "koop" not in result.text.lower()
    assert "Matige klachten" not in result.text
    assert tallies(session) == [(1, True, 1)]


def test_the_result_is_in_english_for_an_english_visitor(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)
    client.headers["Accept-Language"] = "en"

    result = take(client, answers={**MIDDLE, "numb": "yes"})

    assert "Your score is 7, on a scale from 0 to 16." in result.text
    assert "Please see your doctor first" in result.text


# --- keeping the result --------------------------------------------------------------------


def keep_signed_in(client: TestClient, result_page: str) -> str:
    """Press "Bewaar mijn uitslag"; the keep page it leads to."""
    kept = post_form(client, KEEP, {"token": token_of(result_page)})
    assert kept.status_code == 303, kept.text[:300]
    assert kept.headers["location"] == KEEP
    cookie = kept.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert f"Path={KEEP}" in cookie
    page = client.get(KEEP)
    assert page.status_code == 200, page.text[:300]
    return str(page.text)


def test_signed_in_without_consent_she_is_asked_for_it_before_anything_is_kept(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)
    alice = make_user(session, name="Alice")
    log_in(client, alice)
    confirm_page = keep_signed_in(client, take(client).text)
    assert 'name="agree"' in confirm_page
    token = token_of(confirm_page)

    unticked = post_form(client, CONFIRM, {"token": token, "version": "x"})
    assert unticked.status_code == 422
    assert field_error(unticked.text, "agree")
    assert measurements(session) == []

    action, fields = form_of(confirm_page)
    data = {**dict(fields), "agree": "yes"}
    kept = post_form(client, action, data)
    again = post_form(client, action, data)

    assert kept.status_code == again.status_code == 200
    assert "Je uitslag is bewaard" in kept.text
    assert 'href="/practice#measurements"' in kept.text
    assert 'class="course-card"' in kept.text
    [measurement] = measurements(session)
    assert measurement.user_id == alice.id
    assert measurement.course_id is None
    assert measurement.occasion.startswith("self-test:")
    assert (measurement.score, measurement.band_title, measurement.warning) == (
        7,
        "Matige klachten",
        False,
    )
    assert measurement.answers == {
        "pain": 2,
        "since": 1,
        "worse": [0, 1],
        "numb": False,
        "note": "Vooral 's ochtends",
    }
    session.refresh(alice)
    assert alice.health_consent_version is not None
    assert tallies(session) == [(1, False, 1)]  # keeping is not a second result


def test_signed_in_with_consent_she_only_confirms(client: TestClient, session: Session) -> None:
    make_self_test(session)
    alice = agree_to_health_data(session, make_user(session))
    log_in(client, alice)
    confirm_page = keep_signed_in(client, take(client, answers={**MIDDLE, "numb": "yes"}).text)
    assert 'name="agree"' not in confirm_page

    kept = post_form(client, CONFIRM, {"token": token_of(confirm_page)})

    assert kept.status_code == 200
    assert 'class="course-card"' not in kept.text  # a warning sign: a doctor, not a course
    assert "Ga eerst naar je huisarts" in kept.text
    [measurement] = measurements(session)
    assert measurement.warning is True


def test_a_stranger_keeps_her_result_by_signing_up(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    make_self_test(session)
    result = take(client)

    pressed = post_form(client, KEEP, {"token": token_of(result.text)})
    assert pressed.status_code == 303
    account_page = client.get(KEEP)
    assert account_page.status_code == 200
    assert f'href="/register?next=/test/{SLUG}/keep"' in account_page.text
    assert f'href="/login?next=/test/{SLUG}/keep"' in account_page.text
    assert measurements(session) == []

    signed_up = sign_up(client, name="Sanne", email="sanne@example.nl", next=KEEP)
    assert signed_up.status_code == 200
    [message] = mailbox.wait_for(1)
    confirmed = post_form(client, link_path(message))
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == KEEP

    confirm_page = client.get(KEEP)
    assert confirm_page.status_code == 200
    action, fields = form_of(confirm_page.text)
    kept = post_form(client, action, {**dict(fields), "agree": "yes"})

    assert kept.status_code == 200
    sanne = session.exec(select(User).where(User.email == "sanne@example.nl")).one()
    [measurement] = measurements(session)
    assert measurement.user_id == sanne.id
    assert "kern_self_test" not in client.cookies


def test_a_stranger_with_an_account_logs_in_and_keeps_it(
    client: TestClient, session: Session
) -> None:
    make_self_test(session)
    bea = agree_to_health_data(session, make_user(session, email="bea@example.nl"))
    post_form(client, KEEP, {"token": token_of(take(client).text)})

    login = post_form(client, "/login", {"email": bea.email, "password": PASSWORD, "next": KEEP})
    assert login.headers["location"] == KEEP
    kept = post_form(client, CONFIRM, {"token": token_of(client.get(KEEP).text)})

    assert kept.status_code == 200
    assert [m.user_id for m in measurements(session)] == [bea.id]


def test_an_altered_or_expired_token_keeps_nothing_and_says_so(
    client: TestClient, session: Session, settings: Settings
) -> None:
    questionnaire = make_self_test(session)
    alice = agree_to_health_data(session, make_user(session))
    token = token_of(take(client).text)
    body, signature = token.split(".")
    altered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    expired = selftest.keep_token(
        settings,
        questionnaire=questionnaire,
        answers={"pain": 1, "since": 0, "numb": False},
        nonce="oud",
        now=utcnow() - timedelta(days=2),
    )
    log_in(client, alice)

    for bad in (altered, expired, "", "geen.token"):
        pressed = post_form(client, KEEP, {"token": bad})
        confirmed = post_form(client, CONFIRM, {"token": bad})
        assert pressed.status_code == confirmed.status_code == 400, bad
        assert "Deze uitslag kan niet meer bewaard worden" in confirmed.text
    client.cookies.set("kern_self_test", altered, path=KEEP)
    assert client.get(KEEP).status_code == 400
    assert measurements(session) == []


def test_a_token_of_another_test_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    make_self_test(session)
    other = make_self_test(session, slug="andere-test")
    alice = agree_to_health_data(session, make_user(session))
    log_in(client, alice)
    token = selftest.keep_token(
        settings,
        questionnaire=other,
        answers={"pain": 1, "since": 0, "numb": False},
        nonce="n1",
        now=utcnow(),
    )

    assert post_form(client, CONFIRM, {"token": token}).status_code == 400
    assert session.exec(select(func.count()).select_from(Measurement)).one() == 0
