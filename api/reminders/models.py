"""What a person wants to receive by mail: practice reminders and the optional notices."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

# Reminder days as bits, Monday first, as date.weekday() counts them.
ALL_WEEKDAYS = 0b1111111
MAX_REMINDER_TIMES = 3


class MailPreference(SQLModel, table=True):
    """One person's mail choices; without a row: no reminders, notices on."""

    __tablename__ = "mail_preference"

    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )
    # Bit d set: remind on weekday d (Monday = bit 0). 0 means no reminders.
    reminder_weekdays: int = Field(default=0)
    # Up to MAX_REMINDER_TIMES local times, "HH:MM" joined by commas, e.g. "08:00,19:30".
    reminder_times: str = Field(default="", max_length=20)
    # The next reminder moment in UTC, kept up to date on every change and after every
    # reminder, so the worker finds what is due with one indexed range read. None: off.
    next_reminder_at: datetime | None = Field(
        default=None, sa_column=moment(nullable=True, index=True)
    )
    # A learner hears when a drip module opens; an instructor when someone enrols.
    module_opened: bool = Field(default=True)
    new_enrolment: bool = Field(default=True)
    # Both sides hear of a new message in a conversation (never its text); an instructor gets a
    # weekly count of what waits on her attention list.
    new_message: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    attention_summary: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    # The same three as a push notification on her devices (api/push), next to or instead of
    # the mail; practice reminders can go by push only (reminder_mail off).
    reminder_mail: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    reminder_push: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    module_opened_push: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    new_message_push: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # She answered Vandaag's one-time offer to set a practice reminder ("Nee, dank je").
    reminder_offer_closed: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())
