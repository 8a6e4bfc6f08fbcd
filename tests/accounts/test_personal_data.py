"""Everything Kern keeps about her is in her export and gone after she deletes her account: the
list of personal data (api/accounts/personal_data.py) covers every table, a table that holds
her address in text is on it, and after deletion no row anywhere holds her id or address."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlmodel import Session, col, select

import api.models  # noqa: F401 (every table in the metadata)
from api import i18n
from api.accounts import passwords, personal_data
from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Step, StepKind
from api.db import metadata
from api.enrolment import service as enrolment_service
from api.mail import outbox
from api.mail.service import Message
from api.payments.models import Order, OrderStatus
from api.progress import practice
from tests.factories import (
    PASSWORD,
    agree_to_health_data,
    enable_totp,
    log_in,
    make_course,
    make_user,
    post_form,
)
from tests.smtp import Mailbox

# An id and an address that nothing else in the database can contain by chance, so a plain
# text search over every column finds every trace of her.
HER_ID = 918_273_645
HER_EMAIL = "alice_walk@example.nl"
# With LIKE's "_" taken as a wildcard, Bob's address would match hers.
BOB_EMAIL = "alicexwalk@example.nl"
NOTE = "Betaald per bankoverschrijving"


@dataclass
class Scene:
    alice: User
    bob: User
    instructor: User
    client: TestClient


def browser(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url=str(client.base_url))


def _alice(session: Session) -> User:
    """Alice with an id chosen by the test (the database would otherwise number her)."""
    user = User(
        id=HER_ID,
        name="Alice Walk",
        email=HER_EMAIL,
        password_hash=passwords.hash_password(PASSWORD),
        language="en",
    )
    session.add(user)
    session.flush()
    return user


def _step(session: Session, course: Course) -> Step:
    lesson = session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "les-1-1")
    ).one()
    return session.exec(
        select(Step).where(Step.lesson_id == lesson.id, col(Step.kind) == StepKind.exercise)
    ).one()


def _sign_in_traces(client: TestClient, alice: User, secret: str) -> None:
    """She signs in; then a wrong second-step code, a wrong password and a reset request leave
    rate-limit keys under her id and address, a pending session, a reset link and its mail."""
    # Signing in clears her keys, so it comes first.
    log_in(client, alice, secret=secret)
    half_way = browser(client)
    post_form(half_way, "/login", {"email": HER_EMAIL, "password": PASSWORD})
    assert post_form(half_way, "/login/two-factor", {"code": "000000"}).status_code == 400
    stranger = browser(client)
    wrong = post_form(stranger, "/login", {"email": HER_EMAIL, "password": "nope"})
    assert wrong.status_code == 400
    assert post_form(stranger, "/forgot-password", {"email": HER_EMAIL}).status_code == 200
    assert post_form(client, "/account/verify/resend").status_code == 303


def _account_traces(client: TestClient) -> None:
    """Mail choices, and an address change she has not confirmed yet."""
    saved = post_form(client, "/account/mail", {"weekdays": "0", "times": "08:00"})
    assert saved.status_code == 303
    changed = post_form(
        client, "/account/email", {"email": "alice.new@example.nl", "password": PASSWORD}
    )
    assert changed.status_code == 303


def _course_traces(session: Session, scene: Scene) -> None:
    """A free enrolment with progress and practice, one given by hand with a reason, an order,
    and a mail queued to her address only."""
    free = make_course(session, instructor=scene.instructor)
    paid = make_course(session, instructor=scene.instructor, price_cents=4900)
    assert post_form(scene.client, f"/courses/{free.slug}/enrol").status_code == 303
    post_form(scene.client, f"/courses/{free.slug}/lessons/les-1-1/complete")
    now = datetime.now(UTC)
    agree_to_health_data(session, scene.alice)
    entry = practice.PracticeInput("walk-0001", _step(session, free).id or 0, now, 120, 3, 30)
    practice.log(session, user=scene.alice, entry=entry, now=now)
    enrolment_service.grant_manually(
        session, course=paid, learner=scene.alice, by=scene.instructor, note=NOTE
    )
    session.add(
        Order(
            user_id=HER_ID,
            course_id=paid.id,
            course_title=paid.title,
            status=OrderStatus.paid.value,
            amount_cents=4900,
            subtotal_cents=4900,
            stripe_checkout_session_id="cs_test_walk",
        )
    )
    message = Message(to=HER_EMAIL, subject="Queued before she had an account", text="Hallo")
    outbox.enqueue(session, message, kind="test", user_id=None)
    session.flush()


def _journal_traces(session: Session, scene: Scene) -> None:
    """Two journal entries, one of them shared with the therapist of a course she follows."""
    course = session.exec(select(Course).where(Course.price_cents == 0)).one()
    for text in ("Alleen voor mij", "Voor mijn therapeut"):
        written = post_form(scene.client, "/journal/new", {"text": text, "tension": "4"})
        assert written.status_code == 303
    entry_id = written.headers["location"].rsplit("#entry-", 1)[1]
    shared = post_form(scene.client, f"/journal/{entry_id}/share", {"course": str(course.id)})
    assert shared.status_code == 303


def _bob_traces(client: TestClient) -> None:
    """Bob's own failed login and reset mail, which her deletion must leave alone."""
    stranger = browser(client)
    post_form(stranger, "/login", {"email": BOB_EMAIL, "password": "nope"})
    post_form(stranger, "/forgot-password", {"email": BOB_EMAIL})


@pytest.fixture
def scene(client: TestClient, session: Session, mailbox: Mailbox) -> Scene:
    """Alice has used every part of Kern that keeps something about a person; Bob a few."""
    alice = _alice(session)
    bob = make_user(session, name="Bob", email=BOB_EMAIL)
    instructor = make_user(session, role=Role.instructor)
    secret = enable_totp(session, alice)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    built = Scene(alice, bob, instructor, client)
    _sign_in_traces(client, alice, secret)
    _account_traces(client)
    _course_traces(session, built)
    _journal_traces(session, built)
    _bob_traces(client)
    mailbox.deliver()
    return built


def _rows(session: Session) -> Iterator[tuple[Table, dict[str, Any]]]:
    session.flush()
    for table in metadata.sorted_tables:
        for row in session.execute(table.select()).mappings():
            yield table, dict(row)


def _columns_holding_her(session: Session) -> set[str]:
    """Every "table.column" with a value that is her id or contains her id or address."""
    found = set()
    for table, row in _rows(session):
        for name, value in row.items():
            text = str(value).lower()
            if value == HER_ID or str(HER_ID) in text or HER_EMAIL in text:
                found.add(f"{table.name}.{name}")
    return found


# --- the list covers every table --------------------------------------------------------------


def test_every_table_is_exported_and_erased_or_excused_with_a_reason() -> None:
    assert personal_data.unaccounted(metadata) == []


def test_a_new_table_that_points_at_an_account_is_reported() -> None:
    copy = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(copy)
    Table(
        "wearable_pairing",
        copy,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("user_account.id")),
    )
    Table("consent_text", copy, Column("id", Integer, primary_key=True), Column("body", String))

    problems = personal_data.unaccounted(copy)

    assert any(line.startswith("wearable_pairing.user_id:") for line in problems)
    assert any(line.startswith("consent_text:") for line in problems)


def _erase_nothing(session: Session, *, user: User) -> None:
    """An eraser for a holding that only exists in a test."""


def test_a_listed_column_that_does_not_exist_is_reported() -> None:
    account = personal_data.HOLDINGS[0]
    stale = personal_data.Holding("gone", ("gone_table.user_id",), account.export, _erase_nothing)

    problems = personal_data.unaccounted(metadata, (*personal_data.HOLDINGS, stale))

    assert "gone_table.user_id: listed, but there is no such column" in problems


def test_every_column_that_holds_her_id_or_address_is_on_the_list(
    session: Session, scene: Scene
) -> None:
    listed = {column for holding in personal_data.HOLDINGS for column in holding.columns}

    found = _columns_holding_her(session)

    # Her address in the mail queue and the rate-limit keys is found, not only foreign keys.
    assert {"outbox_message.recipient", "rate_limit_hit.key", "enrolment.user_id"} <= found
    assert found - listed == set()


# --- the export ------------------------------------------------------------------------------


def test_her_export_holds_each_kind_of_data_she_left(scene: Scene) -> None:
    data = scene.client.get("/account/export").json()

    assert data["account"]["email"] == HER_EMAIL
    assert data["account"]["recovery_codes_left"] == 10
    assert {link["purpose"] for link in data["account"]["email_links"]} >= {
        "reset_password",
        "change_email",
    }
    assert "alice.new@example.nl" in [link["new_email"] for link in data["account"]["email_links"]]
    assert len(data["devices"]["sessions"]) == 2  # this browser, and one half-way through login
    [manual] = [item for item in data["enrolments"] if item["source"] == "manual"]
    assert manual["note"] == NOTE
    assert {item["source"] for item in data["enrolments"]} == {"free", "manual"}
    assert data["mail_preferences"]["reminder_days"] == ["monday"]
    assert data["mail_preferences"]["reminder_times"] == ["08:00"]
    assert [order["amount_cents"] for order in data["orders"]] == [4900]
    assert len(data["progress"]) == 1
    assert len(data["practice"]) == 1
    assert {"login", "reset", "2fa", "verify"} <= {a["kind"] for a in data["counted_attempts"]}
    private, shared = data["journal"]
    assert (private["text"], private["tension"], private["shared_with_course_id"]) == (
        "Alleen voor mij",
        4,
        None,
    )
    assert shared["text"] == "Voor mijn therapeut"
    assert shared["shared_with_course_id"] is not None
    assert datetime.fromisoformat(shared["shared_at"])


def test_her_export_lists_the_mails_to_her_by_date_and_subject_only(scene: Scene) -> None:
    mails = scene.client.get("/account/export").json()["mails"]

    subjects = [mail["subject"] for mail in mails]
    assert "Queued before she had an account" in subjects
    assert any("password" in subject.lower() for subject in subjects)
    assert all(set(mail) == {"date", "subject"} for mail in mails)
    assert all(datetime.fromisoformat(mail["date"]) for mail in mails)


def test_her_export_has_a_place_for_every_holding(scene: Scene) -> None:
    data = scene.client.get("/api/v1/me/export").json()

    for holding in personal_data.HOLDINGS:
        place: Any = data
        for part in holding.key.split("."):
            assert part in place, holding.key
            place = place[part]


def test_her_export_holds_nothing_of_bob(scene: Scene) -> None:
    text = scene.client.get("/account/export").text.lower()

    assert BOB_EMAIL not in text
    assert "bob" not in text


# --- deletion --------------------------------------------------------------------------------


def test_after_deletion_no_row_anywhere_holds_her_id_or_address(
    session: Session, scene: Scene
) -> None:
    assert _columns_holding_her(session)  # the walk finds her before

    response = post_form(
        scene.client, "/account/delete", {"password": PASSWORD, "confirmation": "DELETE"}
    )

    assert response.status_code == 200
    session.expire_all()
    assert _columns_holding_her(session) == set()
    # What the law keeps stays, without her: the order.
    [order] = session.exec(select(Order)).all()
    assert (order.user_id, order.amount_cents) == (None, 4900)


def test_deleting_her_leaves_bobs_rate_limits_and_mails(session: Session, scene: Scene) -> None:
    def bobs() -> list[str]:
        return sorted(
            f"{table.name}.{name}"
            for table, row in _rows(session)
            for name, value in row.items()
            if BOB_EMAIL in str(value).lower()
        )

    before = bobs()

    post_form(scene.client, "/account/delete", {"password": PASSWORD, "confirmation": "DELETE"})

    assert "rate_limit_hit.key" in before
    assert "outbox_message.recipient" in before
    assert bobs() == before


def test_an_instructor_who_still_runs_courses_is_told_to_hand_them_over(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, role=Role.instructor, language="en")
    course = make_course(session, instructor=teacher)
    log_in(client, teacher, secret=enable_totp(session, teacher))
    client.cookies.set(i18n.LOCALE_COOKIE, "en")

    response = post_form(
        client, "/account/delete", {"password": PASSWORD, "confirmation": "DELETE"}
    )

    assert response.status_code == 422
    assert "You still run courses" in response.text
    session.expire_all()
    assert session.get(User, teacher.id) is not None
    assert session.get(Course, course.id) is not None
