"""The outbox: every email Kern is going to send, written in the transaction that causes it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"  # waiting for its turn (or for the next attempt after a failure)
    sent = "sent"  # handed to the SMTP server (or written to the mail directory)
    failed = "failed"  # refused for good, or still failing after the last attempt


class OutboxMessage(SQLModel, table=True):
    """One rendered email to one recipient, and what became of it."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    # What kind of message it is (welcome, receipt, practice_reminder…): for logs and tests.
    kind: str = Field(max_length=40)
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    recipient: str = Field(max_length=254)
    # A push notification instead of a mail: the browser it goes to (api/push). The subject is
    # then its title, the text its JSON payload and the recipient empty. A subscription that
    # goes takes its waiting pushes with it.
    push_subscription_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("push_subscription.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    subject: str = Field(max_length=300)
    # The bodies are cleared once the message is sent or given up on: they can hold a reset link or
    # say what someone practises, and the outbox is not the place to keep either.
    text_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    html_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # An appointment's .ics, attached to the mail (api/intake); cleared with the bodies.
    calendar: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A file sent along (an invoice PDF), cleared with the bodies.
    attachment_name: str | None = Field(default=None, max_length=120)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Or the reference of a file made when the mail is sent ("invoice:42:nl",
    # api/mail/attachments.py).
    attachment_ref: str | None = Field(default=None, max_length=120)
    # The signed link a mail client's own "unsubscribe" button uses (RFC 2369 / RFC 8058).
    unsubscribe_url: str | None = Field(default=None, max_length=500)
    # Scheduled messages carry one key per learner and occasion ("module:12:3"); the unique
    # index makes a second worker, or a restarted one, unable to queue the same occasion twice.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    status: str = Field(default=OutboxStatus.pending.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # Not before this moment: the first attempt, or the next one after a failure.
    available_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=500)
    # A worker that claims a message leases it until this moment; one that died is replaced
    # after the lease ends. The token makes sure only the claiming worker marks it sent.
    claimed_until: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    claim_token: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (Index("ix_outbox_message_status_available_at", "status", "available_at"),)
