"""What her therapist sees of a withdrawal (that it happened, never why), and her consents in her
data export and gone with her account."""

import csv
import io

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import Role
from api.consent.models import Consent
from api.consent.texts import HEALTH_DATA_VERSION
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.i18n import translations
from tests.consent.conftest import NOW, Learner, consents_of, enrolled_learner
from tests.factories import PASSWORD, csrf_token, enable_totp, log_in, make_user, post_form

MARKER = "Toestemming voor oefenlog ingetrokken"
# What she might try to tell the form: it has no such field, and nothing keeps it.
PRIVATE_REASON = "Mijn partner kijkt mee op mijn telefoon"


def agree(learner: Learner) -> None:
    response = post_form(
        learner.client,
        "/account/health-consent",
        {"agree": "yes", "version": HEALTH_DATA_VERSION},
    )
    assert response.status_code == 303


def withdraw(learner: Learner) -> None:
    response = post_form(
        learner.client, "/account/health-consent/withdraw", {"reason": PRIVATE_REASON}
    )
    assert response.status_code == 303


def therapist_browser(session: Session, client: TestClient, learner: Learner) -> TestClient:
    """The course's instructor, signed in in a browser of her own."""
    instructor = session.get(type(learner.user), learner.course.instructor_id)
    assert instructor is not None
    browser = TestClient(client.app)
    log_in(browser, instructor, secret=enable_totp(session, instructor))
    return browser


def test_her_therapist_sees_that_she_withdrew_and_not_why(
    session: Session, client: TestClient, lotte: Learner
) -> None:
    with TestClient(client.app) as other_browser:
        femke = enrolled_learner(session, other_browser, name="Femke")
    # Femke follows Lotte's course too, and agreed; Lotte agreed and then withdrew.
    enrolment_service.grant(
        session, user_id=femke.user.id, course_id=lotte.course.id, source=EnrolmentSource.free
    )
    agree(femke)
    agree(lotte)
    withdraw(lotte)

    with therapist_browser(session, client, lotte) as therapist:
        page = therapist.get(f"/studio/courses/{lotte.course.slug}/learners").text
        sheet = therapist.get(f"/studio/courses/{lotte.course.slug}/learners.csv")

    lotte_row = page[page.index(lotte.user.email) :].split("</tr>")[0]
    femke_row = page[page.index(femke.user.email) :].split("</tr>")[0]
    assert MARKER in lotte_row
    assert MARKER not in femke_row
    assert PRIVATE_REASON not in page
    rows = {
        row["E-mail"]: row
        for row in csv.DictReader(io.StringIO(sheet.content[3:].decode()), delimiter=";")
    }
    assert rows[lotte.user.email]["Toestemming oefenlog"] == "ingetrokken"
    assert rows[femke.user.email]["Toestemming oefenlog"] == ""
    assert PRIVATE_REASON not in sheet.text


def test_no_reason_is_kept_anywhere_with_the_withdrawal(session: Session, lotte: Learner) -> None:
    agree(lotte)
    withdraw(lotte)

    export = lotte.client.get("/account/export").text
    [consent] = consents_of(session, lotte.user)

    assert PRIVATE_REASON not in export
    assert PRIVATE_REASON not in repr(consent.model_dump())


def test_a_learner_who_never_agreed_carries_no_marker(
    session: Session, client: TestClient, lotte: Learner
) -> None:
    with therapist_browser(session, client, lotte) as therapist:
        page = therapist.get(f"/studio/courses/{lotte.course.slug}/learners").text

    assert lotte.user.email in page
    assert MARKER not in page


def test_her_export_holds_her_consents_with_version_and_moments(lotte: Learner) -> None:
    agree(lotte)
    withdraw(lotte)
    agree(lotte)

    for url in ("/account/export", "/api/v1/me/export"):
        consents = lotte.client.get(url).json()["consents"]
        assert consents == [
            {
                "kind": "health_data",
                "text_version": HEALTH_DATA_VERSION,
                "language": "nl",
                "given_at": NOW.isoformat(),
                "withdrawn_at": NOW.isoformat(),
            },
            {
                "kind": "health_data",
                "text_version": HEALTH_DATA_VERSION,
                "language": "nl",
                "given_at": NOW.isoformat(),
                "withdrawn_at": None,
            },
        ], url


def test_deleting_her_account_removes_her_consents(
    session: Session, client: TestClient, lotte: Learner
) -> None:
    agree(lotte)
    with TestClient(client.app) as other_browser:
        femke = enrolled_learner(session, other_browser, name="Femke")
        agree(femke)
    user_id = lotte.user.id
    word = translations("nl").ugettext("DELETE")

    response = post_form(
        lotte.client, "/account/delete", {"password": PASSWORD, "confirmation": word}
    )

    assert response.status_code == 200
    session.expire_all()
    left = session.exec(select(Consent).where(col(Consent.user_id) == user_id)).all()
    assert left == []
    assert len(consents_of(session, femke.user)) == 1


def test_the_consent_api_is_only_for_signed_in_people(client: TestClient) -> None:
    csrf = csrf_token(client)
    assert client.get("/api/v1/me/consents/health-data").status_code == 401
    response = client.post(
        "/api/v1/me/consents/health-data",
        json={"version": HEALTH_DATA_VERSION, "agree": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 401


def test_an_instructor_of_another_course_sees_no_learners_or_markers(
    session: Session, client: TestClient, lotte: Learner
) -> None:
    agree(lotte)
    withdraw(lotte)
    stranger = make_user(session, role=Role.instructor)
    with TestClient(client.app) as browser:
        log_in(browser, stranger, secret=enable_totp(session, stranger))
        page = browser.get(f"/studio/courses/{lotte.course.slug}/learners")

    assert page.status_code == 403
    assert MARKER not in page.text
