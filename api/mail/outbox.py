"""The transactional outbox: mail is queued in the transaction of the change that causes it and
sent afterwards by a worker, with retries.

A rolled-back change leaves no message; a committed one leaves a message that waits until an
SMTP server takes it. Workers lease a few messages at a time (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite's single writer does the same there), so several can run side by side
without sending anything twice. A worker that dies after the SMTP server accepted a message
but before it marked it sent makes the message go out again once its lease ends: delivery is
at least once, the one guarantee a database and an SMTP server can share.
"""

import logging
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, or_, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.config import Settings
from api.db import WRITE_INTENT, upsert, utcnow
from api.kit.ids import id_of
from api.mail import attachments
from api.mail.models import OutboxMessage, OutboxStatus
from api.mail.service import Attachment, MailError, Message, send
from api.push import delivery as push_delivery

log = logging.getLogger("kern.outbox")
TABLE: Table = OutboxMessage.__table__  # type: ignore[attr-defined]

# How long a claimed message is a worker's own; SMTP_TIMEOUT_SECONDS per message fits many times.
LEASE = timedelta(minutes=5)
BATCH_SIZE = 20
# Waits before the 2nd, 3rd… attempt: about a day and a half in all, then the message fails.
BACKOFF = tuple(
    timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 3 * 60, 6 * 60, 12 * 60, 12 * 60)
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# Sent and failed messages are kept this long (without their bodies), for support.
KEEP = timedelta(days=30)


def enqueue(
    session: Session,
    message: Message,
    *,
    kind: str,
    user_id: int | None,
    key: str | None = None,
    now: datetime | None = None,
    push_subscription_id: int | None = None,
) -> bool:
    """Queue a message in the session's transaction; False when a message with the same `key`
    was queued before (it is then left as it is). With `push_subscription_id` it is a push to
    that device (api/push/service.py), not a mail."""
    moment = now or utcnow()
    values: dict[str, Any] = {
        "kind": kind,
        "user_id": user_id,
        "recipient": message.to,
        "push_subscription_id": push_subscription_id,
        "subject": message.subject,
        "text_body": message.text,
        "html_body": message.html,
        "calendar": message.calendar,
        "unsubscribe_url": message.unsubscribe_url,
        "attachment_name": message.attachment.filename if message.attachment else None,
        "attachment": (
            message.attachment.content
            if message.attachment and message.attachment.ref is None
            else None
        ),
        "attachment_ref": message.attachment.ref if message.attachment else None,
        "dedupe_key": key,
        "status": OutboxStatus.pending.value,
        "created_at": moment,
        "available_at": moment,
        "attempts": 0,
        "last_error": "",
    }
    if key is None:
        session.add(OutboxMessage(**values))
        session.flush()
        return True
    return upsert(session, TABLE, values, keys=["dedupe_key"]) is not None


@dataclass(frozen=True)
class Claimed:
    """A leased message, detached from the session that claimed it."""

    id: int
    kind: str
    message: Message
    attempts: int
    created_at: datetime
    push_subscription_id: int | None = None


@dataclass
class Report:
    """What one round of delivery did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(OutboxMessage.status) == OutboxStatus.pending.value,
        col(OutboxMessage.available_at) <= now,
        or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) <= now),
    )


def claim(session: Session, *, token: str, now: datetime, limit: int) -> list[Claimed]:
    """Lease up to `limit` due messages to the worker holding `token`, oldest first."""
    due = (
        select(OutboxMessage.id)
        .where(*_due(now))
        .order_by(col(OutboxMessage.available_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are passed over instead of waited for.
        due = due.with_for_update(skip_locked=True)
    ids = list(session.exec(due).all())
    if not ids:
        return []
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), *_due(now))
        .values(claimed_until=now + LEASE, claim_token=token)
    )
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.claim_token) == token)
        .order_by(col(OutboxMessage.available_at), col(OutboxMessage.id))
    ).all()
    return [
        Claimed(
            id=id_of(row),
            kind=row.kind,
            attempts=row.attempts,
            created_at=row.created_at,
            push_subscription_id=row.push_subscription_id,
            message=Message(
                to=row.recipient,
                subject=row.subject,
                text=row.text_body or "",
                html=row.html_body,
                unsubscribe_url=row.unsubscribe_url,
                calendar=row.calendar,
                attachment=_attachment_of(row),
            ),
        )
        for row in rows
    ]


def _attachment_of(row: OutboxMessage) -> Attachment | None:
    if not row.attachment_name:
        return None
    if row.attachment_ref is not None:
        return Attachment(row.attachment_name, ref=row.attachment_ref)
    return Attachment(row.attachment_name, row.attachment) if row.attachment is not None else None


def _with_attachment_made(factory: sessionmaker[Session], message: Message) -> Message:
    """The message with the bytes of a file that is made when it is sent (an invoice's PDF)."""
    attachment = message.attachment
    if attachment is None or attachment.ref is None:
        return message
    with factory() as session:
        content = attachments.make(session, attachment.ref)
    if content is None:
        # Nothing could change that on a later try: say so, and keep the mail for support.
        raise MailError(f"the attachment {attachment.ref} cannot be made", permanent=True)
    return replace(message, attachment=replace(attachment, content=content, ref=None))


def _mark_sent(session: Session, claimed: Claimed, *, token: str, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == claimed.id, col(OutboxMessage.claim_token) == token)
        .values(
            status=OutboxStatus.sent.value,
            sent_at=now,
            attempts=claimed.attempts + 1,
            text_body=None,
            html_body=None,
            calendar=None,
            attachment=None,
            attachment_ref=None,
            claimed_until=None,
            claim_token=None,
            last_error="",
        )
    )


def _mark_failed(
    session: Session, claimed: Claimed, *, token: str, now: datetime, error: MailError
) -> bool:
    """Record a failed attempt; True when the message will be tried again."""
    attempts = claimed.attempts + 1
    again = not error.permanent and attempts < MAX_ATTEMPTS
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == claimed.id, col(OutboxMessage.claim_token) == token)
        .values(
            status=(OutboxStatus.pending if again else OutboxStatus.failed).value,
            attempts=attempts,
            available_at=now + BACKOFF[attempts - 1] if again else now,
            last_error=str(error)[:500],
            claimed_until=None,
            claim_token=None,
            # A message given up on keeps its envelope and error for support, not its bodies.
            **(
                {}
                if again
                else {
                    "text_body": None,
                    "html_body": None,
                    "calendar": None,
                    "attachment": None,
                    "attachment_ref": None,
                }
            ),
        )
    )
    return again


def _release(session: Session, *, token: str) -> None:
    """Hand back the messages of a lease that were not tried, for any worker to claim."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.claim_token) == token)
        .values(claimed_until=None, claim_token=None)
    )


def _send(
    factory: sessionmaker[Session], settings: Settings, claimed: Claimed, *, now: datetime
) -> None:
    """Hand the message to the SMTP server, or a push to the push service of its device."""
    if claimed.push_subscription_id is None:
        send(settings, _with_attachment_made(factory, claimed.message))
        return
    push_delivery.send(
        factory,
        settings,
        kind=claimed.kind,
        subscription_id=claimed.push_subscription_id,
        payload=claimed.message.text,
        queued_at=claimed.created_at,
        now=now,
    )


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
) -> Report:
    """Send the messages that are due, one short transaction to claim them and one per result."""
    moment = now or utcnow()
    token = secrets.token_hex(16)
    report = Report()
    # A slow server must not make the batch outlast its lease, or another worker would claim
    # and send the rest too: past half the lease, what is left is handed back instead.
    deadline = time.monotonic() + LEASE.total_seconds() / 2
    # A plain read first: an idle worker polling every few seconds should not take SQLite's
    # write lock (and make a learner's request wait) when nothing is due.
    with factory() as session:
        if session.exec(select(OutboxMessage.id).where(*_due(moment)).limit(1)).first() is None:
            return report
    with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
        batch = claim(session, token=token, now=moment, limit=limit)
    for index, claimed in enumerate(batch):
        if time.monotonic() > deadline:
            with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
                _release(session, token=token)
            log.warning(
                "mail is slow to send; %s message(s) left for the next round", len(batch) - index
            )
            break
        try:
            try:
                _send(factory, settings, claimed, now=moment)
            except MailError:
                raise
            except Exception as unexpected:  # a bug must not leave the message leased forever
                raise MailError(f"unexpected {type(unexpected).__name__}: {unexpected}") from None
        except MailError as error:
            with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
                again = _mark_failed(session, claimed, token=token, now=moment, error=error)
            if again:
                report.retried += 1
                log.warning("%s mail %s not sent, will retry: %s", claimed.kind, claimed.id, error)
            else:
                report.failed += 1
                log.error("%s mail %s failed for good: %s", claimed.kind, claimed.id, error)
            continue
        with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
            _mark_sent(session, claimed, token=token, now=moment)
        report.sent += 1
        log.info("%s mail %s sent", claimed.kind, claimed.id)
    return report


def deliver_all(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> Report:
    """Deliver rounds until nothing due is left (a message that failed waits for its time)."""
    total = Report()
    while True:
        report = deliver_due(factory, settings, now=now)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        if report.handled == 0:
            return total


def purge(session: Session, *, now: datetime) -> int:
    """Forget sent and failed messages older than KEEP; how many."""
    result = session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.status).in_([OutboxStatus.sent.value, OutboxStatus.failed.value]),
            col(OutboxMessage.created_at) < now - KEEP,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
