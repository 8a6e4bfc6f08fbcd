"""Her mail choices: practice reminder days and times, the optional notices, and stopping them.

Reminder times are wall-clock times in Amsterdam. The next reminder is kept as one UTC moment,
`next_reminder_at`, recomputed whenever she saves or a reminder goes out, so the worker finds
what is due with one indexed read and never converts times zone by zone.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, or_
from sqlmodel import Session, col

from api.accounts.models import Role, User
from api.db import upsert
from api.errors import FormError
from api.i18n import TIMEZONE
from api.i18n import gettext as _
from api.mail.unsubscribe import Topic
from api.reminders.models import ALL_WEEKDAYS, MAX_REMINDER_TIMES, MailPreference

TABLE: Table = MailPreference.__table__  # type: ignore[attr-defined]

# What <input type="time"> sends ("08:30", or "08:30:00" with a step), and what a browser
# without a time picker lets her type ("8:30", "8.30").
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?::\d{2})?")

# How each kind reaches her besides the notices' own mail switches (module_opened, new_message):
# reminders by mail, and the three kinds as push notifications.
CHANNELS = ("reminder_mail", "reminder_push", "module_opened_push", "new_message_push")

# The column each unsubscribe topic switches off.
_NOTICE_COLUMNS = {
    Topic.modules: "module_opened",
    Topic.enrolments: "new_enrolment",
    Topic.messages: "new_message",
    Topic.attention: "attention_summary",
}


def get(session: Session, *, user_id: int) -> MailPreference:
    """Her stored choices, or the defaults (no reminders, notices on) when she has none;
    a default is not added to the session."""
    return session.get(MailPreference, user_id) or MailPreference(user_id=user_id)


def weekdays_of(preference: MailPreference) -> list[int]:
    """The chosen reminder days, Monday = 0."""
    return [day for day in range(7) if preference.reminder_weekdays & (1 << day)]


def times_of(preference: MailPreference) -> list[str]:
    """The chosen reminder times, "HH:MM", earliest first."""
    return [part for part in preference.reminder_times.split(",") if part]


def is_stopped(preference: MailPreference) -> bool:
    """True when she has days and times but stopped the reminders with the link in a mail."""
    return bool(preference.reminder_weekdays and preference.reminder_times) and (
        preference.next_reminder_at is None
    )


def receives_enrolment_notices(user: User) -> bool:
    """Only the people who run courses hear about new enrolments."""
    return user.role in (Role.instructor, Role.admin)


def _local_moment(day: date, hhmm: str) -> datetime:
    """`hhmm` on `day` in Amsterdam as a UTC moment.

    A time that does not exist (02:30 on the night the clocks go forward) is read with
    zoneinfo's fold=0 rule, i.e. with the offset from before the change: it lands an hour
    later on the clock (03:30), as if the clock had been moved on with her. A time that occurs
    twice (02:30 on the night the clocks go back) is its first occurrence only, so she is
    reminded once.
    """
    hours, minutes = (int(part) for part in hhmm.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=TIMEZONE)
    return local.astimezone(UTC)


def next_occurrence(weekdays: int, times: Sequence[str], *, after: datetime) -> datetime | None:
    """The first chosen weekday and time strictly after `after`, in UTC; None when no day or
    no time is chosen."""
    if not weekdays & ALL_WEEKDAYS or not times:
        return None
    today = after.astimezone(TIMEZONE).date()
    # Eight days: today's times may all have passed, and the only chosen day may be today.
    for offset in range(8):
        day = today + timedelta(days=offset)
        if not weekdays & (1 << day.weekday()):
            continue
        # The earliest of the day's moments, not the first in clock order: a skipped time
        # moves an hour later and may pass another chosen time.
        moments = [moment for hhmm in times if (moment := _local_moment(day, hhmm)) > after]
        if moments:
            return min(moments)
    return None


def _parse_time(value: str) -> str | None:
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def _weekday_bits(values: Iterable[str], errors: dict[str, str]) -> int:
    bits = 0
    for value in values:
        if not (value.isascii() and value.isdigit() and int(value) < 7):
            errors["weekdays"] = _("Choose the days from the list.")
            return 0
        bits |= 1 << int(value)
    return bits


def _times(values: Iterable[str], errors: dict[str, str]) -> list[str]:
    times: set[str] = set()
    for value in values:
        if not value.strip():
            continue  # an empty time field is simply not used
        parsed = _parse_time(value)
        if parsed is None:
            errors["times"] = _("Write each time as hours and minutes, for example 08:30.")
            return []
        times.add(parsed)
    if len(times) > MAX_REMINDER_TIMES:
        errors["times"] = _("Choose at most %(count)s times.", count=MAX_REMINDER_TIMES)
    return sorted(times)


def validate_reminders(weekdays: Iterable[str], times: Iterable[str]) -> tuple[int, list[str]]:
    """The weekday bits and sorted "HH:MM" times from the form, or a FormError; both empty
    means no reminders."""
    errors: dict[str, str] = {}
    bits = _weekday_bits(weekdays, errors)
    chosen = _times(times, errors)
    if not errors and bits and not chosen:
        errors["times"] = _("Choose a time for your reminder, or untick the days.")
    if not errors and chosen and not bits:
        errors["weekdays"] = _("Choose at least one day for your reminder, or clear the times.")
    if errors:
        raise FormError(errors)
    return bits, chosen


def _forget_loaded(session: Session, user_id: int) -> None:
    """The upsert bypassed the ORM: a row it loaded before is read again when next used."""
    loaded = session.identity_map.get(session.identity_key(MailPreference, user_id))
    if loaded is not None:
        session.expire(loaded)


def save(
    session: Session,
    *,
    user: User,
    weekdays: Iterable[str],
    times: Iterable[str],
    module_opened: bool,
    new_enrolment: bool,
    now: datetime,
    new_message: bool | None = None,
    attention_summary: bool = True,
    channels: Mapping[str, bool] | None = None,
) -> MailPreference:
    """Check and store her choices in one statement; the next reminder is computed from `now`.
    `channels` sets any of CHANNELS (mail or push per kind); the others keep what is stored."""
    if user.id is None:
        raise ValueError("mail choices need a stored account")
    bits, chosen = validate_reminders(weekdays, times)
    asked = receives_enrolment_notices(user)
    values = {
        "user_id": user.id,
        "reminder_weekdays": bits,
        "reminder_times": ",".join(chosen),
        "next_reminder_at": next_occurrence(bits, chosen, after=now),
        "module_opened": module_opened,
        # The form does not offer this choice to learners: a new row gets the default and a
        # stored choice is kept.
        "new_enrolment": new_enrolment if asked else True,
        "attention_summary": attention_summary if asked else True,
        "updated_at": now,
    }
    # None keeps what is stored (a new row gets the default: on).
    if new_message is not None:
        values["new_message"] = new_message
    for name, on in (channels or {}).items():
        if name not in CHANNELS:
            raise ValueError(f"not a channel choice: {name}")
        values[name] = on
    kept = {"user_id"} if asked else {"user_id", "new_enrolment", "attention_summary"}
    upsert(
        session,
        TABLE,
        values,
        keys=["user_id"],
        update=lambda _table, excluded: {
            name: excluded[name] for name in values if name not in kept
        },
    )
    _forget_loaded(session, user.id)
    return get(session, user_id=user.id)


def _set(session: Session, *, user_id: int, now: datetime, **changes: Any) -> None:
    """Change some columns of her row, creating it with the defaults first if needed."""
    # A new row starts from the model's defaults (no reminders, notices on).
    values = {**MailPreference(user_id=user_id, updated_at=now).model_dump(), **changes}
    columns = [*changes, "updated_at"]
    upsert(
        session,
        TABLE,
        values,
        keys=["user_id"],
        update=lambda _table, excluded: {name: excluded[name] for name in columns},
    )
    _forget_loaded(session, user_id)


_PREFERENCE = MailPreference.__table__  # type: ignore[attr-defined]


def offers_reminder_sql(user_id: Any) -> Any:
    """Whether Vandaag still offers her a practice reminder, as an SQL expression for a page
    that asks it beside its own rows: the same rule as `offers_reminder`."""
    return ~exists().where(
        _PREFERENCE.c.user_id == user_id,
        or_(_PREFERENCE.c.reminder_weekdays != 0, _PREFERENCE.c.reminder_offer_closed.is_(True)),
    )


def offers_reminder(session: Session, *, user_id: int) -> bool:
    """Whether Vandaag still offers her to set a practice reminder: she has none set and has
    not said no to the offer (one statement)."""
    preference = get(session, user_id=user_id)
    return not preference.reminder_weekdays and not preference.reminder_offer_closed


def close_reminder_offer(session: Session, *, user_id: int, now: datetime) -> None:
    """She does not want the reminder offer: it is not shown again."""
    _set(session, user_id=user_id, now=now, reminder_offer_closed=True)


def has_account(session: Session, *, user_id: int) -> bool:
    """Whether an unsubscribe link's account still exists."""
    return session.get(User, user_id) is not None


def stop(session: Session, *, user_id: int, topic: Topic, now: datetime) -> bool:
    """Stop one kind of mail for her at once; False when there is no such account. Reminder
    days and times are kept, so she can turn them on again with one click."""
    if session.get(User, user_id) is None:
        return False
    if topic is Topic.reminders:
        _set(session, user_id=user_id, now=now, next_reminder_at=None)
    else:
        _set(session, user_id=user_id, now=now, **{_NOTICE_COLUMNS[topic]: False})
    return True


def resume(session: Session, *, user_id: int, topic: Topic, now: datetime) -> bool:
    """Turn one kind of mail on again; reminders continue on her saved days and times. False
    when there is no such account."""
    if session.get(User, user_id) is None:
        return False
    if topic is Topic.reminders:
        preference = get(session, user_id=user_id)
        upcoming = next_occurrence(preference.reminder_weekdays, times_of(preference), after=now)
        _set(session, user_id=user_id, now=now, next_reminder_at=upcoming)
    else:
        _set(session, user_id=user_id, now=now, **{_NOTICE_COLUMNS[topic]: True})
    return True


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def export(session: Session, *, user: User) -> dict[str, Any] | None:
    """Her mail choices as stored, for her export; None when she never made any."""
    preference = session.get(MailPreference, user.id)
    if preference is None:
        return None
    return {
        "reminder_days": [_DAY_NAMES[day] for day in weekdays_of(preference)],
        "reminder_times": times_of(preference),
        "reminders_stopped": is_stopped(preference),
        "next_reminder_at": preference.next_reminder_at and preference.next_reminder_at.isoformat(),
        "module_opened": preference.module_opened,
        "new_enrolment": preference.new_enrolment,
        "new_message": preference.new_message,
        "attention_summary": preference.attention_summary,
        "reminder_offer_closed": preference.reminder_offer_closed,
        **{name: getattr(preference, name) for name in CHANNELS},
        "updated_at": preference.updated_at.isoformat(),
    }


def erase(session: Session, *, user: User) -> None:
    """Delete her mail choices."""
    session.execute(delete(MailPreference).where(col(MailPreference.user_id) == user.id))
