"""The practice's identity: one set of details an admin edits in the studio, checked the way a
Dutch practice's details must be, and refused to everyone else."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role, User
from api.practice_identity import service as identity_service
from api.practice_identity.models import Identity, PracticeIdentity
from tests.factories import enable_totp, field_error, log_in, make_user, post_form

VALID = {
    "trading_name": "Bekkenfysio Noord",
    "street_address": "Kerkstraat 12",
    "postcode": "9711 ab",
    "city": "Groningen",
    "country": "Nederland",
    "email": "Praktijk@Bekkenfysio-Noord.nl",
    "phone": "050 123 45 67",
    "kvk_number": "1234 5678",
    "vat_number": "nl 1234.56789.b01",
}


def signed_in(session: Session, client: TestClient, role: Role) -> User:
    user = make_user(session, role=role)
    log_in(client, user, secret=enable_totp(session, user) if user.needs_totp else None)
    return user


@pytest.fixture
def admin(session: Session, client: TestClient) -> User:
    return signed_in(session, client, Role.admin)


def test_an_admin_saves_the_details_tidied(
    session: Session, client: TestClient, admin: User
) -> None:
    response = post_form(client, "/studio/practice", VALID)

    assert response.status_code == 303
    assert response.headers["location"] == "/studio/practice?notice=saved"
    assert identity_service.read(session) == Identity(
        trading_name="Bekkenfysio Noord",
        street_address="Kerkstraat 12",
        postcode="9711 AB",
        city="Groningen",
        country="Nederland",
        email="praktijk@bekkenfysio-noord.nl",
        phone="050 123 45 67",
        kvk_number="12345678",
        vat_number="NL123456789B01",
    )
    page = client.get(response.headers["location"]).text
    assert "De praktijkgegevens zijn opgeslagen." in page
    assert 'value="Bekkenfysio Noord"' in page


def test_saving_again_changes_the_one_row(
    session: Session, client: TestClient, admin: User
) -> None:
    post_form(client, "/studio/practice", VALID)
    post_form(client, "/studio/practice", VALID | {"trading_name": "Bekkenfysio Stad"})

    session.expire_all()
    row = session.get(PracticeIdentity, 1)
    assert row is not None
    assert row.trading_name == "Bekkenfysio Stad"
    assert identity_service.read(session) is not None


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("kvk_number", "1234567", "Een KvK-nummer heeft precies 8 cijfers"),
        ("kvk_number", "1234567A", "Een KvK-nummer heeft precies 8 cijfers"),
        ("kvk_number", "", "Vul het KvK-nummer in."),
        ("vat_number", "NL123456789B1", "Een Nederlands btw-id is NL, 9 cijfers, de letter B"),
        ("vat_number", "DE123456789", "Een Nederlands btw-id is NL, 9 cijfers, de letter B"),
        ("postcode", "97111", "Vul een Nederlandse postcode in"),
        ("email", "praktijk-at-noord.nl", "Dit is geen geldig e-mailadres"),
        ("trading_name", "   ", "Vul dit veld in."),
        ("phone", "bel me", "Gebruik alleen cijfers, spaties"),
    ],
)
@pytest.mark.usefixtures("admin")
def test_a_wrong_field_is_refused_with_a_dutch_message_and_the_form_keeps_the_input(
    session: Session, client: TestClient, field: str, typed: str, message: str
) -> None:
    form = VALID | {field: typed}

    response = post_form(client, "/studio/practice", form)

    assert response.status_code == 422
    error = field_error(response.text, field)
    assert error is not None
    assert error.startswith(message), error
    assert 'value="Kerkstraat 12"' in response.text
    assert f'value="{typed}"' in response.text
    assert identity_service.read(session) is None  # nothing half-saved


def test_a_foreign_practice_keeps_its_own_postcode(
    session: Session, client: TestClient, admin: User
) -> None:
    form = VALID | {"country": "België", "postcode": "B-2000", "city": "Antwerpen"}

    assert post_form(client, "/studio/practice", form).status_code == 303
    found = identity_service.read(session)
    assert found is not None
    assert found.postcode == "B-2000"


@pytest.mark.parametrize("role", [Role.learner, Role.instructor])
def test_only_an_admin_may_see_or_change_the_details(
    session: Session, client: TestClient, role: Role
) -> None:
    signed_in(session, client, role)

    shown = client.get("/studio/practice")
    changed = post_form(client, "/studio/practice", VALID)

    assert shown.status_code == 403
    assert changed.status_code == 403
    assert identity_service.read(session) is None


def test_the_studio_shows_admins_the_way_to_the_details(
    session: Session, client: TestClient, admin: User
) -> None:
    assert 'href="/studio/practice"' in client.get("/studio").text


def test_instructors_do_not_see_the_way_to_the_details(
    session: Session, client: TestClient
) -> None:
    signed_in(session, client, Role.instructor)
    assert 'href="/studio/practice"' not in client.get("/studio").text
