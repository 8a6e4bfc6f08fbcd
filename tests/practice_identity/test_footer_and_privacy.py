"""The practice in every page's footer (from the worker's copy, at no statement's cost) and in
the privacy statement (read fresh), which every footer links to."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete
from sqlmodel import Session

from api import db
from api.accounts.models import Role
from api.config import Settings
from api.main import create_app
from api.practice_identity.cache import IdentityCache
from api.practice_identity.models import Identity, PracticeIdentity
from tests.catalog.test_pages_queries import recording
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.practice_identity.test_settings import VALID


def footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


@pytest.fixture
def saved(session: Session, client: TestClient) -> Iterator[TestClient]:
    """An admin saved the practice's details in this worker; yields a visitor's browser."""
    admin = make_user(session, role=Role.admin)
    with TestClient(client.app) as admin_browser:
        log_in(admin_browser, admin, secret=enable_totp(session, admin))
        assert post_form(admin_browser, "/studio/practice", VALID).status_code == 303
    return client


def test_every_page_links_the_privacy_statement_in_its_footer(
    session: Session, client: TestClient
) -> None:
    course = make_course(session)
    public = [
        "/",
        "/courses",
        f"/courses/{course.slug}",
        f"/courses/{course.slug}/lessons/les-1-1",
        "/login",
        "/privacy",
        "/bestaat-niet",
    ]
    for url in public:
        assert 'href="/privacy"' in footer(client.get(url).text), url
    log_in(client, make_user(session))
    for url in ("/today", "/practice", "/account", "/account/health-consent"):
        assert 'href="/privacy"' in footer(client.get(url).text), url


def test_after_a_save_the_footer_shows_the_practice_on_every_page(
    session: Session, saved: TestClient
) -> None:
    course = make_course(session)
    for url in ("/", "/courses", f"/courses/{course.slug}/lessons/les-1-1", "/bestaat-niet"):
        shown = footer(saved.get(url).text)
        assert "Bekkenfysio Noord" in shown, url
        assert "Kerkstraat 12, 9711 AB Groningen" in shown, url
        assert "KvK 12345678" in shown, url
        assert "btw NL123456789B01" in shown, url
        assert "praktijk@bekkenfysio-noord.nl" in shown, url


def test_the_footer_costs_the_lesson_page_no_statement(
    session: Session, connection: Connection, saved: TestClient
) -> None:
    """The measured count of tests/catalog/test_pages_queries.py, with the practice shown."""
    course = make_course(session, modules=6, lessons_per_module=4, steps_per_lesson=5)
    url = f"/courses/{course.slug}/lessons/les-1-1"
    saved.get(url)  # the course content is read once per version

    with recording(connection) as seen:
        page = saved.get(url)

    assert page.status_code == 200
    assert "Bekkenfysio Noord" in footer(page.text)
    # The lesson page's one statement (docs/performance.md): none for the footer.
    assert len(seen) == 1, seen


def test_the_privacy_statement_names_the_practice_as_stored_now(saved: TestClient) -> None:
    page = saved.get("/privacy").text

    for shown in (
        "Bekkenfysio Noord",
        "Kerkstraat 12, 9711 AB Groningen, Nederland",
        "praktijk@bekkenfysio-noord.nl",
        "050 123 45 67",
        "12345678",
        "NL123456789B01",
    ):
        assert shown in page, shown


def test_the_dutch_statement_covers_bases_sharing_retention_and_rights(
    client: TestClient,
) -> None:
    page = client.get("/privacy").text

    assert "<h1>Privacyverklaring</h1>" in page
    for basis in ("art. 6 lid 1 sub b", "art. 9 lid 2 sub a", "art. 6 lid 1 sub c", "sub f"):
        assert basis in page, basis
    for part in ("Wie wat ziet", "Hoe lang we gegevens bewaren", "Autoriteit Persoonsgegevens"):
        assert part in page, part
    for link in ("/account/export", "/account/delete", "/account/practice-log/delete"):
        assert f'href="{link}"' in page, link
    assert 'href="/account#health-data"' in page


def test_the_english_statement_is_complete_and_english(client: TestClient) -> None:
    client.cookies.set("kern_lang", "en")
    page = client.get("/privacy").text

    assert "<h1>Privacy statement</h1>" in page
    for basis in ("art. 6(1)(b)", "art. 9(2)(a)", "art. 6(1)(c)", "art. 6(1)(f)"):
        assert basis in page, basis
    for part in ("Who sees what", "How long we keep data", "Autoriteit Persoonsgegevens"):
        assert part in page, part
    assert "Grondslag" not in page
    for link in ("/account/export", "/account/delete", "/account/practice-log/delete"):
        assert f'href="{link}"' in page, link


def test_the_norwegian_statement_is_complete_and_norwegian(client: TestClient) -> None:
    client.cookies.set("kern_lang", "nb")
    page = client.get("/privacy").text

    assert "<h1>Personvernerklæring</h1>" in page
    for basis in ("art. 6 nr. 1 bokstav b", "art. 9 nr. 2 bokstav a", "art. 6 nr. 1 bokstav c"):
        assert basis in page, basis
    for part in ("Hvem ser hva", "Hvor lenge vi lagrer", "Datatilsynet"):
        assert part in page, part
    assert "Legal basis" not in page
    for link in ("/account/export", "/account/delete", "/account/practice-log/delete"):
        assert f'href="{link}"' in page, link


def test_before_an_admin_fills_in_the_details_the_statement_says_so(client: TestClient) -> None:
    page = client.get("/privacy").text

    assert "De praktijk heeft haar gegevens nog niet ingevuld." in page
    assert "KvK" not in footer(page)


# --- other workers: the copy is read from the database, not only set by a save -----------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[None]:
    """The details committed for real (as another worker would have saved them); removed after."""
    with Session(engine) as session:
        session.add(
            PracticeIdentity(
                trading_name="Praktijk Elders",
                street_address="Dorpsweg 3",
                postcode="1234 AB",
                city="Ergens",
                country="Nederland",
                email="info@elders.nl",
                kvk_number="87654321",
            )
        )
        session.commit()
    yield
    with Session(engine) as session:
        session.execute(delete(PracticeIdentity))
        session.commit()


def test_a_worker_shows_details_saved_elsewhere_from_its_first_page(
    committed: None, settings: Settings
) -> None:
    app = create_app(settings)
    with TestClient(app) as browser:
        assert "Praktijk Elders" in footer(browser.get("/").text)


def test_a_refresh_replaces_the_workers_copy(committed: None, engine: Engine) -> None:
    cache = IdentityCache()

    cache.load(engine)

    found = cache.current()
    assert found is not None
    assert found.trading_name == "Praktijk Elders"


def test_a_refresh_that_fails_keeps_the_copy() -> None:
    """A database that cannot be reached for a moment leaves the footer as it was."""
    cache = IdentityCache()
    shown = Identity(**dict.fromkeys(Identity.__dataclass_fields__, "x"))
    cache.store(shown)
    unreachable = db.make_engine("postgresql+psycopg://kern@127.0.0.1:1/kern")

    cache.load(unreachable)

    assert cache.current() is shown
    unreachable.dispose()
