"""Dutch by default, English or Norwegian on request, each language's number and date formats,
and catalogs that translate every message."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api import i18n
from tests.factories import post_form
from web.charts import week_period


def test_home_page_is_dutch_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="nl">' in response.text
    assert "Sterker vanuit je kern" in response.text


def test_browser_preferring_english_gets_english(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert '<html lang="en">' in response.text
    assert "Stronger from your core" in response.text


def test_own_choice_wins_over_the_browser(client: TestClient) -> None:
    response = post_form(client, "/language", {"language": "en", "next": "/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.cookies.get(i18n.LOCALE_COOKIE) == "en"
    page = client.get("/", headers={"Accept-Language": "nl"})
    assert '<html lang="en">' in page.text


def test_the_language_form_shows_her_language_and_returns_to_the_page(client: TestClient) -> None:
    """The footer is kept per language (partials/site_footer.html); the page the form returns
    to is outside it, tied to the form by its `form` attribute."""
    for language, path in (("en", "/courses"), ("nb", "/login"), ("nl", "/courses")):
        for _round in range(2):
            html = client.get(path, headers={"Accept-Language": language}).text
            assert f'<option value="{language}" selected' in html
            assert html.count(" selected ") == 1
            assert '<form class="language" id="language-form"' in html
            assert f'name="next" value="{path}" form="language-form"' in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_language_form_only_returns_to_a_local_page(client: TestClient, target: str) -> None:
    response = post_form(client, "/language", {"language": "nl", "next": target})
    assert response.headers["location"] == "/"


def test_unknown_language_choice_is_ignored(client: TestClient) -> None:
    response = post_form(client, "/language", {"language": "xx"})
    assert i18n.LOCALE_COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "nl"),
        ("en", "en"),
        ("de-DE,en;q=0.8", "en"),
        ("fr,de", "nl"),
        ("nl-BE,en;q=0.9", "nl"),
        ("en;q=0.2,nl;q=0.8", "nl"),
        ("en;q=bogus", "nl"),
        ("nb", "nb"),
        ("no", "nb"),
        ("nb-NO", "nb"),
        ("no-NO,en;q=0.5", "nb"),
        ("nn-NO,en;q=0.5", "nb"),
        ("en;q=0.5,no;q=0.9", "nb"),
    ],
)
def test_locale_negotiation(header: str | None, expected: str) -> None:
    assert i18n.pick_locale(choice=None, accept_language=header) == expected
    # Asked again, as the next request of the same browser asks, the answer is the same.
    assert i18n.pick_locale(choice=None, accept_language=header) == expected


def test_a_long_accept_language_is_negotiated_too_and_not_kept() -> None:
    header = ",".join(f"x{n:03};q=0.{n % 9 + 1}" for n in range(60)) + ",en;q=0.95"
    assert len(header) > 200
    kept = i18n._browser_locale.cache_info().currsize

    assert i18n.pick_locale(choice=None, accept_language=header) == "en"
    assert i18n._browser_locale.cache_info().currsize == kept


def test_prices_and_dates_in_dutch_format() -> None:
    token = i18n.current_locale.set("nl")
    try:
        assert i18n.format_price(4900) == "€\u00a049,00"  # a no-break space keeps € with the amount
        assert i18n.format_day(date(2026, 11, 21)) == "21 november 2026"
        # 23:30 UTC on 21 November is already the 22nd in Amsterdam.
        assert i18n.format_day(datetime(2026, 11, 21, 23, 30, tzinfo=UTC)) == "22 november 2026"
    finally:
        i18n.current_locale.reset(token)


def test_prices_in_english_format() -> None:
    token = i18n.current_locale.set("en")
    try:
        assert i18n.format_price(4900) == "€49.00"
    finally:
        i18n.current_locale.reset(token)


def test_prices_and_dates_in_norwegian_format() -> None:
    token = i18n.current_locale.set("nb")
    try:
        assert i18n.format_price(4900) == "49,00\u00a0€"
        assert i18n.format_day(date(2026, 11, 21)) == "21. november 2026"
        assert i18n.format_moment(datetime(2026, 11, 21, 13, 5, tzinfo=UTC)) == (
            "21. november 2026 14:05"
        )
        assert i18n.format_number(3.5) == "3,5"
    finally:
        i18n.current_locale.reset(token)


def test_the_switch_offers_each_language_in_its_own_name(client: TestClient) -> None:
    page = client.get("/").text
    for code, name in (("nl", "Nederlands"), ("en", "English"), ("nb", "Norsk")):
        assert f'<option value="{code}"' in page
        assert f'lang="{code}">{name}</option>' in page


def test_norwegian_chosen_and_by_the_browser(client: TestClient) -> None:
    by_browser = client.get("/", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert '<html lang="nb">' in by_browser.text
    assert "Sterkere fra kjernen" in by_browser.text
    post_form(client, "/language", {"language": "nb", "next": "/"})
    assert '<html lang="nb">' in client.get("/", headers={"Accept-Language": "nl"}).text


def test_days_are_written_in_each_language_even_when_remembered() -> None:
    # Days are formatted once per language and kept; the second language must not get the
    # first one's words.
    day = date(2026, 11, 23)
    for locale, long, weekday, short in (
        ("nl", "23 november 2026", "maandag 23 november", "ma"),
        ("en", "23 November 2026", "Monday 23 November", "Mon"),
        ("nb", "23. november 2026", "mandag 23. november", "man."),
        ("nl", "23 november 2026", "maandag 23 november", "ma"),
    ):
        token = i18n.current_locale.set(locale)
        try:
            assert i18n.format_day(day) == long
            assert i18n.format_day_as(day, "EEEE d MMMM") == weekday
            assert i18n.format_day_as(day, "EEE") == short
        finally:
            i18n.current_locale.reset(token)


def test_prices_are_written_in_each_language_even_when_remembered() -> None:
    # Prices are formatted once per amount, currency and language and kept; another language, or
    # another amount, must not get the first one's text.
    for locale, price, other in (
        ("nl", "€\u00a049,00", "€\u00a012,50"),
        ("en", "€49.00", "€12.50"),
        ("nb", "49,00\u00a0€", "12,50\u00a0€"),
        ("nl", "€\u00a049,00", "€\u00a012,50"),
    ):
        token = i18n.current_locale.set(locale)
        try:
            assert i18n.format_price(4900) == price
            assert i18n.format_price(1250) == other
            assert i18n.format_price(4900, "NOK") != price
        finally:
            i18n.current_locale.reset(token)


@pytest.mark.parametrize(
    ("locale", "monday", "expected"),
    [
        ("nl", date(2026, 11, 16), "16 – 22 november 2026"),
        ("nl", date(2026, 11, 30), "30 november – 6 december 2026"),
        ("nl", date(2026, 12, 28), "28 december 2026 – 3 januari 2027"),
        ("en", date(2026, 11, 30), "30 November – 6 December 2026"),
        ("nb", date(2026, 11, 16), "16. – 22. november 2026"),
        ("nb", date(2026, 11, 30), "30. november – 6. desember 2026"),
    ],
)
def test_a_week_is_named_by_its_days_in_the_request_language(
    locale: str, monday: date, expected: str
) -> None:
    token = i18n.current_locale.set(locale)
    try:
        assert week_period(monday) == expected
    finally:
        i18n.current_locale.reset(token)


def test_a_language_choice_no_browser_sends_is_refused_in_her_language(client: TestClient) -> None:
    response = post_form(client, "/language", {"language": "nederlands", "next": "/"})
    assert response.status_code == 422
    assert "Gebruik hoogstens 8 tekens." in response.text
    assert i18n.LOCALE_COOKIE not in response.cookies


# A valid HTML date or global date-and-time string, as Kern writes them: seconds, in UTC.
HTML_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 19, 7, 45, 12, 345678, tzinfo=ZoneInfo("Europe/Amsterdam")),
         "2026-11-19T06:45:12Z"),
        (datetime(2026, 11, 19, 6, 45, 12, 345678), "2026-11-19T06:45:12Z"),  # stored as UTC
        (datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/Amsterdam")), "2026-06-30T22:30:00Z"),
        (date(2026, 11, 19), "2026-11-19"),
    ],
)  # fmt: skip
def test_a_time_attribute_has_seconds_and_its_zone(value: date | datetime, expected: str) -> None:
    assert i18n.html_time(value) == expected
    assert HTML_TIME.match(i18n.html_time(value))


LOCALE_DIR = Path(i18n.__file__).resolve().parent.parent / "web" / "locale"


def _catalog(name: str) -> Catalog:
    with (LOCALE_DIR / name).open("rb") as file:
        return read_po(file)


def _translated(message: Message) -> bool:
    string = message.string
    forms = list(string) if isinstance(string, (tuple, list)) else [string or ""]
    return all(form.strip() for form in forms)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_is_translated_in_every_language(locale: str) -> None:
    """`make messages` keeps each catalog in step with the texts in the code; each text needs its
    translation, which must fill in the same placeholders. English msgids are the English
    texts, so an English translation may stay empty (gettext shows the msgid)."""
    template = _catalog("messages.pot")
    catalog = _catalog(f"{locale}/LC_MESSAGES/messages.po")
    wanted = {message.id for message in template if message.id}
    present = {message.id for message in catalog if message.id}
    assert sorted(wanted - present, key=str) == [], f"run `make messages` ({locale})"
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert fuzzy == []
    if locale != "en":
        missing = [message.id for message in catalog if message.id and not _translated(message)]
        assert not missing, f"{len(missing)} texts lack a translation in {locale}: {missing[:5]}"
    # Babel's checks: a translation has the msgid's placeholders, a plural its forms.
    assert [(message.id, errors) for message, errors in catalog.check()] == []
    # A `%` where the English has none would be taken for a placeholder when the text is shown.
    stray = [message.id for message in catalog if message.id and _stray_percent(message)]
    assert stray == []


def _stray_percent(message: Message) -> bool:
    ids = message.id if isinstance(message.id, (tuple, list)) else [message.id]
    string = message.string
    forms = list(string) if isinstance(string, (tuple, list)) else [string or ""]
    return not any("%" in text for text in ids) and any("%" in form for form in forms)


def test_texts_in_templates_escape_what_they_fill_in_inside_blocks_and_loops() -> None:
    """`_` and `ngettext` fill their placeholders escaped in a page, wherever they stand
    (inside a block or loop with variables of its own too), and leave a plain text template's
    values as they are; `num` is the count unless a value of that name is given."""
    env = i18n.jinja_environment(Path("/nonexistent"))
    source = (
        "{% set who = name %}{% for n in [1, 2] %}{% set x = n %}"
        "{{ _('Good morning, %(name)s', name=who) }}|"
        "{{ ngettext('%(num)s day in a row', '%(num)s days in a row', x) }}|"
        "{% endfor %}{{ ngettext('%(num)s minute', '%(num)s minutes', 3, num='<b>') }}"
    )
    token = i18n.current_locale.set("en")
    try:
        page = env.from_string(source).render(name="<Ann & Bo>")
        env.autoescape = False
        plain = env.from_string(source).render(name="<Ann & Bo>")
    finally:
        i18n.current_locale.reset(token)
    assert page == (
        "Good morning, &lt;Ann &amp; Bo&gt;|1 day in a row|"
        "Good morning, &lt;Ann &amp; Bo&gt;|2 days in a row|&lt;b&gt; minutes"
    )
    assert plain == (
        "Good morning, <Ann & Bo>|1 day in a row|Good morning, <Ann & Bo>|2 days in a row|"
        "<b> minutes"
    )
