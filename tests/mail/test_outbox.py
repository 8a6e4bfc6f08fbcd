"""The outbox against real SMTP servers: nothing from a rolled-back change, retries with backoff
after a temporary failure, no retries after a permanent one, leases, and forgetting old mail."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User
from api.accounts.requests import answer_waiting
from api.config import Settings
from api.mail import outbox, service
from api.mail.models import OutboxMessage, OutboxStatus
from api.mail.outbox import BACKOFF, LEASE, MAX_ATTEMPTS, Report, claim, deliver_all, enqueue
from api.mail.service import Message
from api.worker import Worker
from tests.factories import PASSWORD, post_form
from tests.mail.servers import NO_SUCH_USER, TroubledServer
from tests.smtp import Mailbox, SmtpServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def note(subject: str = "Je oefening van vandaag") -> Message:
    return Message(
        to="anna@example.nl", subject=subject, text="Hallo Anna,\n", html="<p>Hallo Anna,</p>"
    )


def rows(session: Session) -> list[OutboxMessage]:
    """The outbox as the database has it now (not as this session last saw it)."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    return list(session.exec(query.execution_options(populate_existing=True)).all())


def subjects(server: SmtpServer) -> list[str]:
    return [str(message["Subject"]) for message in server.messages]


class Crash(Exception):
    """Whatever makes a change fail after its mail was queued."""


@pytest.fixture
def troubled(settings: Settings) -> Iterator[TroubledServer]:
    """A server the test makes busy or refusing; the outbox sends to it."""
    with TroubledServer() as server:
        settings.smtp_url = server.url
        yield server


# --- a rolled-back change sends nothing ------------------------------------------------------


def test_a_rolled_back_transaction_sends_nothing_and_a_committed_one_its_mail(
    outbox_sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    def change_that_fails() -> None:
        with outbox_sessions() as session, session.begin():
            assert enqueue(session, note("Teruggedraaid"), kind="test", user_id=None)
            raise Crash

    with pytest.raises(Crash):
        change_that_fails()
    with outbox_sessions() as session, session.begin():
        enqueue(session, note("Vastgelegd"), kind="test", user_id=None)

    assert mailbox.deliver() == Report(sent=1)
    assert subjects(mailbox.server) == ["Vastgelegd"]


def test_a_sign_up_whose_answer_fails_after_queueing_its_mail_sends_nothing_until_it_is_answered(
    client: TestClient, session: Session, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued_before_the_crash: list[str] = []
    send_verification = accounts_service.send_verification

    def queue_then_crash(worker_session: Session, *args: Any, **kwargs: Any) -> None:
        # The worker made the account and queued the mail; the crash rolls back both.
        send_verification(worker_session, *args, **kwargs)
        queued_before_the_crash.extend(row.kind for row in rows(worker_session))
        raise Crash("the database went away")

    monkeypatch.setattr(accounts_service, "send_verification", queue_then_crash)
    response = post_form(
        client, "/register", {"name": "Anna", "email": "anna@example.nl", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert mailbox.deliver() == Report()
    assert queued_before_the_crash == ["verify_email"]
    assert session.exec(select(User)).all() == []
    assert rows(session) == []
    assert mailbox.server.messages == []

    # The sign-up waited; the next round answers it.
    monkeypatch.undo()
    [message] = mailbox.wait_for(1)
    assert message["To"] == "anna@example.nl"
    assert len(session.exec(select(User)).all()) == 1


# --- temporary failures: retried later, with backoff -----------------------------------------


def test_a_busy_server_gets_the_message_again_after_the_backoff_and_once_only(
    session: Session, outbox_sessions: sessionmaker[Session], settings: Settings
) -> None:
    with TroubledServer(failures=1) as server:
        settings.smtp_url = server.url
        enqueue(session, note(), kind="test", user_id=None, now=T0)

        assert deliver_all(outbox_sessions, settings, now=T0) == Report(retried=1)
        [row] = rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
        assert row.available_at == T0 + BACKOFF[0]
        assert "451" in row.last_error
        assert (row.claim_token, row.claimed_until) == (None, None)
        assert server.messages == []

        assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[0] - SECOND) == Report()
        assert server.attempts == 1

        assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[0]) == Report(sent=1)
        assert deliver_all(outbox_sessions, settings, now=T0 + timedelta(days=3)) == Report()

        assert subjects(server) == ["Je oefening van vandaag"]
        [row] = rows(session)
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.sent, 2, "")
        assert row.sent_at == T0 + BACKOFF[0]


def test_a_server_that_is_down_gets_the_message_once_it_is_back(
    session: Session, outbox_sessions: sessionmaker[Session], settings: Settings
) -> None:
    with SmtpServer() as stopped:
        settings.smtp_url = stopped.url  # nothing listens there once the block ends
    enqueue(session, note(), kind="test", user_id=None, now=T0)

    assert deliver_all(outbox_sessions, settings, now=T0) == Report(retried=1)
    [row] = rows(session)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert row.available_at == T0 + BACKOFF[0]
    assert "could not send mail" in row.last_error

    with SmtpServer() as server:
        settings.smtp_url = server.url
        assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[0] - SECOND) == Report()
        assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[0]) == Report(sent=1)
        assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[1] * 2) == Report()
        assert subjects(server) == ["Je oefening van vandaag"]


def smtp_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the recipient of every message handed to an SMTP server, sent or not."""
    tried: list[str] = []
    deliver = service._deliver

    def spy(url: str, email: EmailMessage) -> None:
        tried.append(str(email["To"]))
        deliver(url, email)

    monkeypatch.setattr(service, "_deliver", spy)
    return tried


def test_a_sign_up_while_the_server_is_down_succeeds_and_its_mail_goes_out_once_it_is_back(
    client: TestClient,
    session: Session,
    outbox_sessions: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried = smtp_attempts(monkeypatch)
    with SmtpServer() as stopped:
        settings.smtp_url = stopped.url  # nothing listens there once the block ends

    response = post_form(
        client, "/register", {"name": "Anna", "email": "anna@example.nl", "password": PASSWORD}
    )

    # The request stores her sign-up; the worker makes the account and queues the mail, and
    # sending it fails without undoing either.
    assert response.status_code == 200
    assert tried == []
    assert answer_waiting(outbox_sessions, settings) == 1
    [row] = rows(session)
    assert (row.kind, row.status, row.attempts) == ("verify_email", OutboxStatus.pending, 0)
    queued = row.available_at

    assert deliver_all(outbox_sessions, settings, now=queued) == Report(retried=1)
    [row] = rows(session)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert row.available_at == queued + BACKOFF[0]
    assert "could not send mail" in row.last_error

    with SmtpServer() as server:
        settings.smtp_url = server.url
        assert deliver_all(outbox_sessions, settings, now=queued + BACKOFF[0] - SECOND) == Report()
        assert deliver_all(outbox_sessions, settings, now=queued + BACKOFF[0]) == Report(sent=1)
        assert deliver_all(outbox_sessions, settings, now=queued + timedelta(days=3)) == Report()
        [message] = server.messages
    assert message["To"] == "anna@example.nl"
    assert tried == ["anna@example.nl"] * 2


def test_the_waits_grow_and_the_message_fails_after_the_last_attempt(
    session: Session, outbox_sessions: sessionmaker[Session], settings: Settings
) -> None:
    with TroubledServer(failures=MAX_ATTEMPTS) as server:
        settings.smtp_url = server.url
        enqueue(session, note(), kind="test", user_id=None, now=T0)
        moment = T0
        for attempt, wait in enumerate(BACKOFF, start=1):
            assert deliver_all(outbox_sessions, settings, now=moment) == Report(retried=1)
            [row] = rows(session)
            assert (row.attempts, row.available_at) == (attempt, moment + wait)
            moment += wait

        assert deliver_all(outbox_sessions, settings, now=moment) == Report(failed=1)
        assert deliver_all(outbox_sessions, settings, now=moment + timedelta(days=7)) == Report()

        [row] = rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.failed, MAX_ATTEMPTS)
        assert "451" in row.last_error
        assert server.attempts == MAX_ATTEMPTS
        assert server.messages == []
    # About a day and a half of trying before the message is given up.
    assert timedelta(days=1) < moment - T0 < timedelta(days=2)


def test_a_refused_recipient_fails_at_once_without_retries(
    session: Session, outbox_sessions: sessionmaker[Session], settings: Settings
) -> None:
    with TroubledServer(rcpt_reply=NO_SUCH_USER) as server:
        settings.smtp_url = server.url
        enqueue(session, note(), kind="test", user_id=None, now=T0)

        assert deliver_all(outbox_sessions, settings, now=T0) == Report(failed=1)
        assert deliver_all(outbox_sessions, settings, now=T0 + timedelta(days=3)) == Report()

        [row] = rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.failed, 1)
        assert "550" in row.last_error
        assert server.attempts == 0


def test_one_failing_message_does_not_hold_up_the_others(
    session: Session,
    outbox_sessions: sessionmaker[Session],
    settings: Settings,
    troubled: TroubledServer,
) -> None:
    troubled.failures = 1
    for subject in ("Eerste", "Tweede", "Derde"):
        enqueue(session, note(subject), kind="test", user_id=None, now=T0)

    assert deliver_all(outbox_sessions, settings, now=T0) == Report(sent=2, retried=1)
    assert subjects(troubled) == ["Tweede", "Derde"]
    assert deliver_all(outbox_sessions, settings, now=T0 + BACKOFF[0]) == Report(sent=1)
    assert subjects(troubled) == ["Tweede", "Derde", "Eerste"]


# --- leases: a worker that died -------------------------------------------------------------


def test_a_message_leased_by_a_worker_that_died_goes_out_once_its_lease_ends(
    session: Session, outbox_sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    enqueue(session, note(), kind="test", user_id=None, now=T0)
    with outbox_sessions() as dead_worker, dead_worker.begin():
        [claimed] = claim(dead_worker, token="dead-worker", now=T0, limit=10)
    # …and it never sends the message nor marks it.

    assert mailbox.deliver(now=T0 + LEASE - SECOND) == Report()
    assert mailbox.server.messages == []

    assert mailbox.deliver(now=T0 + LEASE) == Report(sent=1)
    assert mailbox.deliver(now=T0 + LEASE + timedelta(hours=1)) == Report()
    assert subjects(mailbox.server) == ["Je oefening van vandaag"]
    [row] = rows(session)
    assert (row.id, row.status, row.claim_token) == (claimed.id, OutboxStatus.sent, None)


def test_a_claimed_message_is_not_claimed_again_during_its_lease(
    session: Session, outbox_sessions: sessionmaker[Session]
) -> None:
    enqueue(session, note("Eerste"), kind="test", user_id=None, now=T0)
    enqueue(session, note("Tweede"), kind="test", user_id=None, now=T0)
    with outbox_sessions() as worker, worker.begin():
        first = claim(worker, token="a", now=T0, limit=1)
    with outbox_sessions() as worker, worker.begin():
        second = claim(worker, token="b", now=T0, limit=10)
        third = claim(worker, token="c", now=T0, limit=10)

    assert [claimed.message.subject for claimed in first] == ["Eerste"]
    assert [claimed.message.subject for claimed in second] == ["Tweede"]
    assert third == []


def test_a_slow_server_is_given_no_more_of_a_batch_than_half_its_lease_allows(
    session: Session,
    outbox_sessions: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each message takes longer than half the lease: one is sent, the others are handed back.
    monkeypatch.setattr(outbox, "LEASE", timedelta(seconds=0.4))
    with TroubledServer(delay=0.3) as server:
        settings.smtp_url = server.url
        for subject in ("Eerste", "Tweede", "Derde"):
            enqueue(session, note(subject), kind="test", user_id=None, now=T0)

        assert outbox.deliver_due(outbox_sessions, settings, now=T0) == Report(sent=1)
        _, *rest = rows(session)
        assert [(row.status, row.claim_token) for row in rest] == [(OutboxStatus.pending, None)] * 2
        assert subjects(server) == ["Eerste"]

        # Handed back, not leased: the next round takes them at once.
        assert outbox.deliver_due(outbox_sessions, settings, now=T0) == Report(sent=1)
        assert subjects(server) == ["Eerste", "Tweede"]


# --- what is kept ---------------------------------------------------------------------------


def test_a_sent_message_keeps_no_body(session: Session, mailbox: Mailbox) -> None:
    enqueue(session, note(), kind="test", user_id=None)

    assert mailbox.deliver() == Report(sent=1)

    [row] = rows(session)
    assert (row.status, row.text_body, row.html_body) == (OutboxStatus.sent, None, None)
    assert row.subject == "Je oefening van vandaag"
    [message] = mailbox.server.messages
    assert message.get_body(preferencelist=("plain",)) is not None


def test_purge_forgets_old_sent_and_failed_messages_only(
    session: Session, outbox_sessions: sessionmaker[Session]
) -> None:
    old, recent = T0 - outbox.KEEP - SECOND, T0 - outbox.KEEP + SECOND
    for subject, created, status in [
        ("old sent", old, OutboxStatus.sent),
        ("old failed", old, OutboxStatus.failed),
        ("old pending", old, OutboxStatus.pending),
        ("recent sent", recent, OutboxStatus.sent),
        ("recent failed", recent, OutboxStatus.failed),
    ]:
        enqueue(session, note(subject), kind="test", user_id=None, now=created)
        [row] = [row for row in rows(session) if row.subject == subject]
        row.status = status
        session.add(row)
    session.flush()

    with outbox_sessions() as worker, worker.begin():
        assert outbox.purge(worker, now=T0) == 2

    assert [row.subject for row in rows(session)] == ["old pending", "recent sent", "recent failed"]


def test_a_message_queued_twice_under_one_key_is_sent_once(
    session: Session, mailbox: Mailbox
) -> None:
    assert enqueue(session, note("Module 2 is open"), kind="test", user_id=None, key="module:1:2")
    assert not enqueue(session, note("Module 2 again"), kind="test", user_id=None, key="module:1:2")

    assert mailbox.deliver() == Report(sent=1)
    assert subjects(mailbox.server) == ["Module 2 is open"]


def test_a_worker_round_forgets_old_mail_and_delivers_what_is_due(
    session: Session, outbox_sessions: sessionmaker[Session], mailbox: Mailbox, settings: Settings
) -> None:
    enqueue(session, note("Lang geleden"), kind="test", user_id=None, now=T0 - outbox.KEEP * 2)
    [old] = rows(session)
    old.status = OutboxStatus.sent
    session.add(old)
    enqueue(session, note("Nu"), kind="test", user_id=None, now=T0)
    session.flush()

    assert Worker(outbox_sessions, settings).run_once(now=T0) == Report(sent=1)

    assert [row.subject for row in rows(session)] == ["Nu"]
    assert subjects(mailbox.server) == ["Nu"]
