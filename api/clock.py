"""The time a request happens at, and the Amsterdam calendar that drip and streaks follow.

Routes take the moment from the `Now` dependency and hand it to services, so tests can move
the clock (across an unlock at midnight, or a daylight-saving change) by overriding one function.
"""

import inspect
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Request

from api.db import utcnow
from api.i18n import TIMEZONE


async def current_time() -> datetime:
    """The moment this request is handled, as an aware UTC datetime (`async`: FastAPI would
    hand a plain function to a thread, which costs more than the call)."""
    return utcnow()


Now = Annotated[datetime, Depends(current_time)]


async def now_of(request: Request) -> datetime:
    """The moment as `Now` gives it, for a page served without FastAPI's dependencies
    (web/pages/common.py `page`): a test that overrides `current_time` moves this clock too."""
    provider = request.app.dependency_overrides.get(current_time, current_time)
    moment = provider()
    if inspect.isawaitable(moment):
        moment = await moment
    if not isinstance(moment, datetime):
        raise TypeError(f"current_time gave {moment!r}, not a datetime")
    return moment


def local_day(moment: datetime) -> date:
    """The calendar day in Amsterdam on which the moment falls."""
    return moment.astimezone(TIMEZONE).date()


def midnight(day: date) -> datetime:
    """The first moment of the day in Amsterdam (daylight saving included)."""
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


def week_start(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())
