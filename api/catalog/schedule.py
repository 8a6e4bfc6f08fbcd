"""The drip schedule: a module opens `unlock_after_days` after enrolment, at Amsterdam midnight."""

from datetime import datetime, timedelta

from api.clock import local_day, midnight


def opens_at(enrolled_at: datetime, unlock_after_days: int) -> datetime:
    """The moment a module opens for a learner who enrolled at `enrolled_at`.

    Counted in Amsterdam calendar days, so a learner who enrols on Monday evening finds week 2
    open on the next Monday morning, whatever the hour she enrolled or a clock change between.
    """
    return midnight(local_day(enrolled_at) + timedelta(days=unlock_after_days))
