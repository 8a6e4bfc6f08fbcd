"""Her practice is health data: Kern stores it only after she agreed, records what she agreed to
and when, stops when she withdraws, and deletes what exists when she asks."""

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api.consent.models import ConsentKind
from api.consent.texts import HEALTH_DATA_VERSION
from tests.catalog.test_pages_queries import recording
from tests.consent.conftest import NOW, Learner, consents_of, enrolled_learner, fresh, logs_of
from tests.factories import csrf_token, post_form

CONSENT_API = "/api/v1/me/consents/health-data"


def agree_in_player(learner: Learner, version: str = HEALTH_DATA_VERSION) -> int:
    """Tick the box in the player's question and press the button; the answer's status."""
    response = learner.client.post(
        CONSENT_API,
        json={"version": version, "agree": True},
        headers={"X-CSRF-Token": csrf_token(learner.client)},
    )
    return int(response.status_code)


def test_without_consent_the_practice_api_refuses_in_dutch_and_stores_nothing(
    session: Session, lotte: Learner
) -> None:
    refused = lotte.practise("eerste-oefening")

    assert refused.status_code == 409
    assert refused.json()["error"] == "consent_required"
    assert "toestemming" in refused.json()["detail"]
    assert logs_of(session, lotte.user) == 0


def test_after_she_agrees_the_same_practice_is_stored(session: Session, lotte: Learner) -> None:
    assert lotte.practise("eerste-oefening").status_code == 409

    assert agree_in_player(lotte) == 201
    stored = lotte.practise("eerste-oefening")  # the player sends what it kept

    assert stored.status_code == 201
    assert logs_of(session, lotte.user) == 1


def test_the_consent_records_the_text_version_language_and_moment(
    session: Session, lotte: Learner
) -> None:
    lotte.client.cookies.set("kern_lang", "en")
    agree_in_player(lotte)

    [consent] = consents_of(session, lotte.user)
    assert consent.kind == ConsentKind.health_data
    assert consent.text_version == HEALTH_DATA_VERSION
    assert consent.language == "en"
    assert consent.given_at == NOW
    assert consent.withdrawn_at is None
    assert fresh(session, lotte.user).health_consent_version == HEALTH_DATA_VERSION


def test_only_her_own_tick_counts_as_agreement(session: Session, lotte: Learner) -> None:
    token = {"X-CSRF-Token": csrf_token(lotte.client)}
    for body in ({"version": HEALTH_DATA_VERSION}, {"version": HEALTH_DATA_VERSION, "agree": 0}):
        response = lotte.client.post(CONSENT_API, json=body, headers=token)
        assert response.status_code == 422, body

    assert consents_of(session, lotte.user) == []
    assert lotte.practise("na-weigering").status_code == 409


def test_agreeing_to_a_text_that_has_changed_is_refused(session: Session, lotte: Learner) -> None:
    response_status = agree_in_player(lotte, version="2020-01-01")

    assert response_status == 409
    assert consents_of(session, lotte.user) == []


def test_consent_to_an_older_text_no_longer_lets_practice_be_stored(
    session: Session, lotte: Learner
) -> None:
    agree_in_player(lotte)
    user = fresh(session, lotte.user)
    user.health_consent_version = "2020-01-01"  # as if the text changed since she agreed
    session.add(user)
    session.flush()

    assert lotte.practise("na-nieuwe-tekst").json()["error"] == "consent_required"


def test_withdrawing_on_the_account_page_stops_storing(session: Session, lotte: Learner) -> None:
    agree_in_player(lotte)
    assert lotte.practise("voor-intrekken").status_code == 201

    withdrawn = post_form(lotte.client, "/account/health-consent/withdraw")
    refused = lotte.practise("na-intrekken")

    assert withdrawn.status_code == 303
    assert refused.status_code == 409
    assert refused.json()["error"] == "consent_required"
    assert logs_of(session, lotte.user) == 1  # what was stored stays until she deletes it
    [consent] = consents_of(session, lotte.user)
    assert consent.withdrawn_at == NOW
    assert fresh(session, lotte.user).health_consent_version is None


def test_a_repeat_of_a_stored_practice_is_refused_too_after_withdrawal(
    session: Session, lotte: Learner
) -> None:
    """Nothing about her practice is processed without consent, not even a repeat's answer."""
    agree_in_player(lotte)
    assert lotte.practise("al-bewaard").status_code == 201
    post_form(lotte.client, "/account/health-consent/withdraw")

    assert lotte.practise("al-bewaard").status_code == 409


def test_agreeing_again_after_withdrawing_keeps_the_history(
    session: Session, lotte: Learner
) -> None:
    agree_in_player(lotte)
    post_form(lotte.client, "/account/health-consent/withdraw")
    agree_in_player(lotte)

    first, second = consents_of(session, lotte.user)
    assert first.withdrawn_at == NOW
    assert second.withdrawn_at is None
    assert lotte.practise("weer-toegestaan").status_code == 201


def test_agreeing_twice_records_one_consent(session: Session, lotte: Learner) -> None:
    assert agree_in_player(lotte) == 201
    assert agree_in_player(lotte) == 201

    assert len(consents_of(session, lotte.user)) == 1


def test_withdrawing_is_hers_alone(session: Session, client: TestClient, lotte: Learner) -> None:
    agree_in_player(lotte)
    with TestClient(client.app) as other_browser:
        femke = enrolled_learner(session, other_browser, name="Femke")
        agree_in_player(femke)

        post_form(lotte.client, "/account/health-consent/withdraw")

        assert femke.practise("femke-oefent").status_code == 201
    assert lotte.practise("lotte-oefent").status_code == 409


def test_the_account_page_offers_to_delete_her_log_after_withdrawal(
    session: Session, lotte: Learner
) -> None:
    agree_in_player(lotte)
    assert lotte.practise("oefening-een").status_code == 201
    assert lotte.practise("oefening-twee").status_code == 201
    post_form(lotte.client, "/account/health-consent/withdraw")

    page = lotte.client.get("/account?notice=consent-withdrawn").text
    confirm = lotte.client.get("/account/practice-log/delete").text

    assert "Je toestemming is ingetrokken." in page
    assert "Er staan 2 oefeningen in je oefenlog." in page
    assert 'href="/account/practice-log/delete"' in page
    assert "alle 2 oefeningen" in confirm
    assert logs_of(session, lotte.user) == 2  # the offer itself deletes nothing


def test_the_confirmed_deletion_removes_her_practice_log_and_nobody_elses(
    session: Session, client: TestClient, lotte: Learner
) -> None:
    agree_in_player(lotte)
    assert lotte.practise("oefening-een").status_code == 201
    with TestClient(client.app) as other_browser:
        femke = enrolled_learner(session, other_browser, name="Femke")
        agree_in_player(femke)
        assert femke.practise("oefening-van-femke").status_code == 201

    deleted = post_form(lotte.client, "/account/practice-log/delete")

    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/account?notice=practice-log-deleted#health-data"
    assert logs_of(session, lotte.user) == 0
    assert logs_of(session, femke.user) == 1
    assert "Je oefenlog is verwijderd." in lotte.client.get(deleted.headers["location"]).text


def test_the_account_page_shows_when_she_agreed_and_lets_her_withdraw(
    session: Session, lotte: Learner
) -> None:
    before = lotte.client.get("/account").text
    agree_in_player(lotte)
    after = lotte.client.get("/account").text

    assert "Kern bewaart je oefeningen nu niet" in before
    assert 'href="/account/health-consent"' in before
    assert "Je gaf op 3 december 2026 toestemming" in after
    assert 'action="/account/health-consent/withdraw"' in after


# --- the page without JavaScript ----------------------------------------------------------------


def test_the_consent_page_explains_and_its_box_is_not_ticked(lotte: Learner) -> None:
    page = lotte.client.get("/account/health-consent").text

    assert "Mag Kern bewaren wat je over je lichaam vastlegt?" in page
    for words in ("Wat we bewaren", "Waarom", "Wie het ziet", "Hoe lang"):
        assert words in page
    [checkbox] = re.findall(r"<input[^>]*type=\"checkbox\"[^>]*>", page)
    assert "checked" not in checkbox
    assert 'href="/privacy"' in page


def test_the_consent_page_refuses_an_unticked_box_with_a_message(
    session: Session, lotte: Learner
) -> None:
    response = post_form(lotte.client, "/account/health-consent", {"version": HEALTH_DATA_VERSION})

    assert response.status_code == 422
    assert "Vink het vakje aan als je toestemming geeft." in response.text
    assert consents_of(session, lotte.user) == []


def test_the_consent_page_takes_her_back_to_her_lesson(session: Session, lotte: Learner) -> None:
    lesson = f"/courses/{lotte.course.slug}/lessons/les-1-1"
    form = {"agree": "yes", "version": HEALTH_DATA_VERSION, "next": lesson}

    response = post_form(lotte.client, "/account/health-consent", form)

    assert response.status_code == 303
    assert response.headers["location"] == lesson
    assert len(consents_of(session, lotte.user)) == 1


def test_the_consent_page_does_not_send_her_to_another_site(lotte: Learner) -> None:
    form = {"agree": "yes", "version": HEALTH_DATA_VERSION, "next": "//elders.example/"}

    response = post_form(lotte.client, "/account/health-consent", form)

    assert response.headers["location"] == "/"


# --- the guided player --------------------------------------------------------------------------


def player_config(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="player-config">(.*?)</script>', html)
    assert match is not None
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_the_player_knows_to_ask_before_sending_and_stops_asking_after(
    lotte: Learner,
) -> None:
    lesson = f"/courses/{lotte.course.slug}/lessons/les-1-1"

    before = player_config(lotte.client.get(lesson).text)
    agree_in_player(lotte)
    after = player_config(lotte.client.get(lesson).text)

    assert before["consent"] == {
        "url": CONSENT_API,
        "page": "/account/health-consent",
        "needed": True,
    }
    assert after["consent"] == {
        "url": CONSENT_API,
        "page": "/account/health-consent",
        "needed": False,
    }


def test_the_player_gets_the_question_in_her_language(lotte: Learner) -> None:
    answer = lotte.client.get(CONSENT_API, headers={"Accept-Language": "en"})
    lotte.client.cookies.set("kern_lang", "en")
    english = lotte.client.get(CONSENT_API).json()

    assert answer.status_code == 200
    assert english["given"] is False
    assert english["text"]["version"] == HEALTH_DATA_VERSION
    assert english["text"]["title"] == "May Kern keep what you record about your body?"
    assert [point["label"] for point in english["text"]["points"]] == [
        "What we keep",
        "Why",
        "Who sees it",
        "How long",
    ]


def test_a_refused_practice_costs_only_the_session_lookup(
    connection: Connection, lotte: Learner
) -> None:
    """The consent check reads the account row the session lookup brings: no statement."""
    csrf_token(lotte.client)
    with recording(connection) as seen:
        assert lotte.practise("zonder-toestemming").status_code == 409

    assert len(seen) == 1, seen
    assert "auth_session" in seen[0]
