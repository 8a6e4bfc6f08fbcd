"""Her journal as she uses it: she writes (more than once a day, for today or an earlier day),
finds her entries newest day first, changes and deletes them; what she typed stays at 422; her
consent is asked in the same form; a lesson's question comes along; she shares one entry with the
therapist of a course she follows and takes it back; nobody else reaches her entries. English
unless a test reads Dutch."""

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from api import i18n
from api.accounts.models import User
from api.catalog.models import Course, Lesson
from api.clock import current_time
from api.consent.texts import HEALTH_DATA_VERSION
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.journal import service as journal
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from tests.catalog.test_pages_queries import recording
from tests.factories import (
    PASSWORD,
    agree_to_health_data,
    carries_csrf_token,
    field_error,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)

# 19 November 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 19)
PROMPT = "Schrijf drie minuten over wat je vandaag voelde."


@pytest.fixture
def clock(client: TestClient) -> Iterator[list[datetime]]:
    """The moment the app thinks it is; tests change `clock[0]` to move it."""
    moment = [NOW]
    client.app.dependency_overrides[current_time] = lambda: moment[0]  # type: ignore[attr-defined]
    yield moment
    client.app.dependency_overrides.pop(current_time, None)  # type: ignore[attr-defined]


@pytest.fixture
def alice(client: TestClient, session: Session, clock: list[datetime]) -> User:
    user = make_user(session, name="Alice de Vries")
    agree_to_health_data(session, user)
    log_in(client, user)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return user


def enrol(session: Session, user: User, course: Course) -> None:
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )


def entries_of(session: Session, user: User) -> list[JournalEntry]:
    session.expire_all()
    return list(
        session.exec(
            select(JournalEntry)
            .where(JournalEntry.user_id == user.id)
            .order_by(col(JournalEntry.id))
        ).all()
    )


def write(client: TestClient, text: str = "Vandaag voelde ik meer rust.", **fields: str) -> int:
    """Write an entry through the form; its id."""
    response = post_form(client, "/journal/new", {"text": text, "day": TODAY.isoformat(), **fields})
    assert response.status_code == 303, response.text
    match = re.search(r"#entry-(\d+)$", response.headers["location"])
    assert match
    return int(match.group(1))


def textarea(page: str) -> str:
    match = re.search(r'<textarea id="f-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert match
    return html.unescape(match.group(1))


def checked(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="(\d*)" checked', page)
    assert match, f"nothing checked for {name}"
    return match.group(1)


def first_lesson(session: Session, course: Course) -> Lesson:
    return session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).first() or pytest.fail("no lesson")


# --- writing ------------------------------------------------------------------------------------


def test_she_writes_an_entry_and_finds_it_newest_day_first_with_her_line_breaks(
    client: TestClient, session: Session, alice: User
) -> None:
    write(client, "Eerder deze week.", day="2026-11-16", tension="7")
    write(client, "Regel één\nRegel <twee>", tension="3", pain="0")

    page = client.get("/journal").text

    assert page.index("19 November 2026") < page.index("16 November 2026")
    assert "Regel één\nRegel &lt;twee&gt;" in page
    assert "<twee>" not in page
    assert "Tension 3 of 10" in page
    assert "Pain 0 of 10" in page
    assert "Only you can read this" in page
    first, second = entries_of(session, alice)
    assert (first.day, first.tension, first.pain) == (date(2026, 11, 16), 7, None)
    assert (second.day, second.text, second.tension, second.pain) == (
        TODAY,
        "Regel één\nRegel <twee>",
        3,
        0,
    )


def test_more_than_one_entry_a_day_is_kept(
    client: TestClient, session: Session, alice: User
) -> None:
    write(client, "Ochtend")
    write(client, "Avond")

    page = client.get("/journal").text

    assert [entry.text for entry in entries_of(session, alice)] == ["Ochtend", "Avond"]
    assert page.index("Avond") < page.index("Ochtend")


def test_the_form_starts_on_her_amsterdam_day_and_tension_and_pain_not_filled_in(
    client: TestClient, alice: User, clock: list[datetime]
) -> None:
    # 23:30 UTC is already the next day in Amsterdam.
    clock[0] = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)

    page = client.get("/journal/new").text

    assert 'name="day" value="2026-11-20" max="2026-11-20"' in page
    assert checked(page, "tension") == ""
    assert checked(page, "pain") == ""
    assert "Not filled in" in page


def test_a_day_left_empty_is_today(client: TestClient, session: Session, alice: User) -> None:
    write(client, day="")

    assert entries_of(session, alice)[0].day == TODAY


INVALID = {
    "empty": ({"text": "  \n "}, "text", "Write something first; a few words are enough."),
    "too long": ({"text": "a" * 5001}, "text", "Keep it under 5000 characters"),
    "future day": ({"day": "2026-11-20"}, "day", "This day has not come yet."),
    "not a day": ({"day": "gisteren"}, "day", "Choose a day from the calendar"),
    "tension 11": ({"tension": "11"}, "tension", "Choose a number from 0 to 10"),
    "pain -1": ({"pain": "-1"}, "pain", "Choose a number from 0 to 10"),
    "pain as words": ({"pain": "veel"}, "pain", "Choose a number from 0 to 10"),
}


@pytest.mark.parametrize("case", INVALID.keys())
def test_a_refused_entry_keeps_what_she_typed_and_stores_nothing(
    client: TestClient, session: Session, alice: User, case: str
) -> None:
    changes, field, message = INVALID[case]
    typed = {"text": "Mijn <b>tekst</b>\nmet twee regels", "day": "2026-11-18", "tension": "4"}
    typed.update(changes)

    response = post_form(client, "/journal/new", typed)

    assert response.status_code == 422
    assert message in (field_error(response.text, field) or "")
    assert textarea(response.text) == typed["text"]
    assert f'name="day" value="{typed["day"]}"' in response.text
    if typed["tension"] in [str(n) for n in range(11)]:
        assert checked(response.text, "tension") == typed["tension"]
    assert entries_of(session, alice) == []


# --- her consent --------------------------------------------------------------------------------


@pytest.fixture
def without_consent(client: TestClient, session: Session, clock: list[datetime]) -> User:
    user = make_user(session, name="Carla")
    log_in(client, user)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return user


def test_without_consent_the_form_asks_for_it_and_keeps_what_she_wrote(
    client: TestClient, session: Session, without_consent: User
) -> None:
    assert "May Kern keep your journal?" in client.get("/journal/new").text

    response = post_form(
        client, "/journal/new", {"text": "Nog niet bewaard", "version": HEALTH_DATA_VERSION}
    )

    assert response.status_code == 409
    assert "Tick the box to let Kern keep your journal." in (
        field_error(response.text, "agree") or ""
    )
    assert textarea(response.text) == "Nog niet bewaard"
    assert entries_of(session, without_consent) == []


def test_consent_given_in_the_form_is_recorded_with_the_entry(
    client: TestClient, session: Session, without_consent: User
) -> None:
    write(client, "Met toestemming", agree="yes", version=HEALTH_DATA_VERSION)

    session.refresh(without_consent)
    assert without_consent.health_consent_version == HEALTH_DATA_VERSION
    assert [entry.text for entry in entries_of(session, without_consent)] == ["Met toestemming"]
    assert "May Kern keep your journal?" not in client.get("/journal/new").text


def test_a_consent_to_an_old_text_is_refused_and_nothing_is_kept(
    client: TestClient, session: Session, without_consent: User
) -> None:
    response = post_form(
        client, "/journal/new", {"text": "Oude tekst", "agree": "yes", "version": "2020-01-01"}
    )

    assert response.status_code == 409
    assert "The text has changed" in (field_error(response.text, "agree") or "")
    assert entries_of(session, without_consent) == []


def test_an_invalid_entry_records_no_consent_either(
    client: TestClient, session: Session, without_consent: User
) -> None:
    response = post_form(
        client, "/journal/new", {"text": "", "agree": "yes", "version": HEALTH_DATA_VERSION}
    )

    assert response.status_code == 422
    session.refresh(without_consent)
    assert without_consent.health_consent_version is None
    assert 'name="agree" value="yes" checked' in response.text


# --- changing and deleting ----------------------------------------------------------------------


def test_she_changes_her_entry_and_a_refused_change_keeps_what_she_typed(
    client: TestClient, session: Session, alice: User
) -> None:
    entry_id = write(client, "Eerste versie", tension="5")
    page = client.get(f"/journal/{entry_id}/edit").text
    assert textarea(page) == "Eerste versie"
    assert checked(page, "tension") == "5"

    refused = post_form(client, f"/journal/{entry_id}/edit", {"text": "Nieuw", "pain": "12"})
    assert refused.status_code == 422
    assert textarea(refused.text) == "Nieuw"
    saved = post_form(
        client,
        f"/journal/{entry_id}/edit",
        {"text": "Tweede versie", "day": "2026-11-17", "tension": "", "pain": "2"},
    )

    assert saved.status_code == 303
    [entry] = entries_of(session, alice)
    assert (entry.text, entry.day, entry.tension, entry.pain) == (
        "Tweede versie",
        date(2026, 11, 17),
        None,
        2,
    )


def test_after_withdrawing_consent_a_change_asks_for_it_again_and_keeps_her_text(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    entry_id = write(client, "Voor het intrekken")
    assert post_form(client, "/account/health-consent/withdraw").status_code == 303

    assert "May Kern keep your journal?" in client.get(f"/journal/{entry_id}/edit").text
    refused = post_form(client, f"/journal/{entry_id}/edit", {"text": "Na het intrekken"})

    assert refused.status_code == 409
    assert textarea(refused.text) == "Na het intrekken"
    assert entries_of(session, alice)[0].text == "Voor het intrekken"
    # Her entries stay hers to read and take back, but are not shared anew.
    assert "Share with your therapist" not in client.get("/journal").text
    assert post_form(client, f"/journal/{entry_id}/share").status_code == 409
    assert entries_of(session, alice)[0].shared_course_id is None


def test_an_entry_is_deleted_only_after_its_confirmation(
    client: TestClient, session: Session, alice: User
) -> None:
    entry_id = write(client)

    unconfirmed = post_form(client, f"/journal/{entry_id}/delete")
    assert unconfirmed.status_code == 422
    assert "Nothing was deleted" in unconfirmed.text
    assert len(entries_of(session, alice)) == 1
    deleted = post_form(client, f"/journal/{entry_id}/delete", {"confirm": "yes"})

    assert deleted.status_code == 303
    assert entries_of(session, alice) == []
    assert "The entry is deleted." in client.get(deleted.headers["location"]).text


# --- a lesson's question ------------------------------------------------------------------------


def test_a_lesson_question_leads_to_the_form_and_stays_with_the_entry(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    lesson = first_lesson(session, course)
    lesson.journal_prompt = PROMPT
    session.add(lesson)
    session.flush()
    session.refresh(course)  # the content version the trigger bumped

    lesson_page = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").text
    link = f"/journal/new?course={course.slug}&amp;lesson={lesson.slug}"
    assert link in lesson_page
    assert PROMPT in lesson_page
    form = client.get(html.unescape(link)).text
    assert form.index(PROMPT) < form.index('id="f-text"')
    assert f'name="lesson" value="{lesson.slug}"' in form

    write(client, "Ik voelde mijn adem zakken.", course=course.slug, lesson=lesson.slug)

    [entry] = entries_of(session, alice)
    assert (entry.prompt, entry.lesson_id) == (PROMPT, lesson.id)
    listed = client.get("/journal").text
    assert PROMPT in listed
    assert f'href="/courses/{course.slug}/lessons/{lesson.slug}"' in listed


def test_no_question_comes_from_a_lesson_she_may_not_open(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)  # she is not enrolled
    lesson = session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "les-1-2")
    ).one()
    lesson.journal_prompt = "Geheime vraag"
    session.add(lesson)
    session.flush()

    form = client.get(f"/journal/new?course={course.slug}&lesson=les-1-2").text
    write(client, course=course.slug, lesson="les-1-2")

    assert "Geheime vraag" not in form
    [entry] = entries_of(session, alice)
    assert (entry.prompt, entry.lesson_id) == ("", None)


def test_a_lesson_without_a_question_shows_no_journal_card(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)

    page = client.get(f"/courses/{course.slug}/lessons/les-1-1").text

    assert "/journal/new?" not in page


# --- sharing ------------------------------------------------------------------------------------


def test_she_shares_an_entry_with_her_therapist_and_takes_it_back(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    private_id = write(client, "Alleen voor mij")
    shared_id = write(client, "Voor mijn therapeut")

    page = client.get("/journal").text
    assert page.count("Share with your therapist") == 2
    shared = post_form(client, f"/journal/{shared_id}/share", {"course": str(course.id)})
    assert shared.status_code == 303

    page = client.get(shared.headers["location"]).text
    assert "Shared: your therapist can now read this entry." in page
    assert "Shared with your therapist of" in page
    assert course.title in page
    entries = journal.shared_entries(session, course_id=id_of(course), learner_id=id_of(alice))
    assert [entry.id for entry in entries] == [shared_id]
    assert session.get(JournalEntry, private_id).shared_course_id is None  # type: ignore[union-attr]

    unshared = post_form(client, f"/journal/{shared_id}/unshare")
    assert unshared.status_code == 303
    assert journal.shared_entries(session, course_id=id_of(course), learner_id=id_of(alice)) == []
    assert "No longer shared" in client.get(unshared.headers["location"]).text


def test_with_several_courses_she_chooses_whose_therapist_reads_it(
    client: TestClient, session: Session, alice: User
) -> None:
    first, second = make_course(session), make_course(session)
    enrol(session, alice, first)
    enrol(session, alice, second)
    entry_id = write(client)

    page = client.get("/journal").text
    assert f'<option value="{second.id}"' in page
    post_form(client, f"/journal/{entry_id}/share", {"course": str(second.id)})

    assert journal.shared_entries(session, course_id=id_of(second), learner_id=id_of(alice))
    assert not journal.shared_entries(session, course_id=id_of(first), learner_id=id_of(alice))


def test_she_can_share_only_with_a_course_she_actively_follows(
    client: TestClient, session: Session, alice: User
) -> None:
    followed, other, ended = make_course(session), make_course(session), make_course(session)
    enrol(session, alice, followed)
    enrol(session, alice, ended)
    enrolment = enrolment_service.find(session, user_id=alice.id, course_id=ended.id)
    assert enrolment is not None
    enrolment_service.set_status(session, enrolment=enrolment, status=EnrolmentStatus.refunded)
    entry_id = write(client)

    for course in (other, ended):
        refused = post_form(client, f"/journal/{entry_id}/share", {"course": str(course.id)})
        assert refused.status_code == 422
        assert "Choose one of your courses" in refused.text
    assert entries_of(session, alice)[0].shared_course_id is None
    assert f'<option value="{ended.id}"' not in client.get("/journal").text


def test_without_a_course_there_is_nothing_to_share_with(
    client: TestClient, session: Session, alice: User
) -> None:
    write(client)

    assert "Share with your therapist" not in client.get("/journal").text


# --- nobody else --------------------------------------------------------------------------------


def test_another_learner_reaches_none_of_her_entries(
    client: TestClient, session: Session, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    entry_id = write(client, "Van Alice")
    bob = make_user(session, name="Bob")
    agree_to_health_data(session, bob)
    enrol(session, bob, course)
    other = new_browser(client)
    log_in(other, bob, PASSWORD)

    assert other.get(f"/journal/{entry_id}/edit").status_code == 404
    for action, form in (
        ("edit", {"text": "Van Bob"}),
        ("share", {"course": str(course.id)}),
        ("unshare", {}),
        ("delete", {"confirm": "yes"}),
    ):
        response = post_form(other, f"/journal/{entry_id}/{action}", form)
        assert response.status_code == 404, action
    assert "Van Alice" not in other.get("/journal").text
    [entry] = entries_of(session, alice)
    assert (entry.text, entry.shared_course_id) == ("Van Alice", None)


# --- the list, paged ----------------------------------------------------------------------------


def _many(session: Session, user: User, count: int) -> None:
    for number in range(count):
        session.add(
            JournalEntry(
                user_id=id_of(user),
                day=TODAY - timedelta(days=number // 2),
                text=f"Notitie {number}",
            )
        )
    session.flush()


def test_a_long_journal_is_paged_and_every_entry_shown_once(
    client: TestClient, session: Session, alice: User
) -> None:
    _many(session, alice, 45)

    first = client.get("/journal").text
    match = re.search(r'href="(/journal\?cursor=[^"]+)"', first)
    assert match
    second = client.get(html.unescape(match.group(1))).text

    shown = re.findall(r"Notitie (\d+)<", first) + re.findall(r"Notitie (\d+)<", second)
    assert sorted(int(number) for number in shown) == list(range(45))
    assert "Older entries" not in second
    assert "Back to the newest entries" in second


def test_the_journal_costs_the_same_statements_with_few_or_many_entries(
    client: TestClient, session: Session, connection: Connection, alice: User
) -> None:
    course = make_course(session)
    enrol(session, alice, course)
    _many(session, alice, 2)

    def count() -> int:
        with recording(connection) as seen:
            assert client.get("/journal").status_code == 200
        return len(seen)

    few = count()
    _many(session, alice, 40)
    for entry in entries_of(session, alice)[::3]:
        entry.shared_course_id = course.id
        session.add(entry)
    session.flush()

    # The session lookup, her entries with their courses and lessons, her courses to share with.
    assert few == count() == 3


def test_every_journal_form_carries_the_csrf_token(
    client: TestClient, session: Session, alice: User
) -> None:
    enrol(session, alice, make_course(session))
    entry_id = write(client)
    shared_id = write(client)
    post_form(client, f"/journal/{shared_id}/share")

    for url in ("/journal", "/journal/new", f"/journal/{entry_id}/edit"):
        page = client.get(url).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', page, re.S)
        assert forms, url
        for form in forms:
            assert carries_csrf_token(client, form), url


# --- on her other pages -------------------------------------------------------------------------


def test_vandaag_and_the_practice_log_lead_to_the_journal(
    client: TestClient, session: Session, alice: User
) -> None:
    enrol(session, alice, make_course(session))

    assert 'href="/journal"' in client.get("/today").text
    assert 'href="/journal"' in client.get("/practice").text


def test_the_journal_reads_in_dutch(client: TestClient, session: Session, alice: User) -> None:
    client.cookies.set(i18n.LOCALE_COOKIE, "nl")
    write(client)

    page = client.get("/journal").text

    assert "Mijn dagboek" in page
    assert "Alleen jij kunt dit lezen" in page
    assert "Niet ingevuld" in client.get("/journal/new").text
