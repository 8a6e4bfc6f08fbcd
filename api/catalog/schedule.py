"""The drip schedule: a module opens `unlock_after_days` after enrolment (or, in a course that
runs in cohorts, after her cohort's start), at Amsterdam midnight."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from api.clock import local_day, midnight

if TYPE_CHECKING:
    from api.catalog.models import Course, Module
    from api.enrolment.models import Enrolment


def opens_at(enrolled_at: datetime, unlock_after_days: int) -> datetime:
    """The moment a module opens for a learner who enrolled at `enrolled_at`.

    Counted in Amsterdam calendar days, so a learner who enrols on Monday evening finds week 2
    open on the next Monday morning, whatever the hour she enrolled or a clock change between.
    """
    return midnight(local_day(enrolled_at) + timedelta(days=unlock_after_days))


def module_opens_at(course: "Course", enrolment: "Enrolment", module: "Module") -> datetime | None:
    """When the module opens for her; None when nothing holds it back.

    In a cohort every module waits for the cohort's start (a drip module `unlock_after_days`
    more); without a cohort, only a drip course holds modules back, counted from enrolment.
    """
    drips = course.schedule == "drip"
    if enrolment.drip_from is not None:
        return opens_at(enrolment.drip_from, module.unlock_after_days if drips else 0)
    if not drips:
        return None
    return opens_at(enrolment.enrolled_at, module.unlock_after_days)
