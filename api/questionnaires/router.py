"""JSON endpoints for check-ins: her measures in a course, her due check-ins, and sending one.

The course's instructor and admins read a learner's through `learner_id`, by the same rule as
her progress (api/progress/access.py); only she sends her own check-ins.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.accounts.access import RequireUser
from api.accounts.schemas import SIGNED_IN_ERRORS
from api.clock import Now
from api.db import SessionDep
from api.errors import ErrorPublic, InvalidPublic, NotFound
from api.i18n import gettext as _
from api.kit.ids import QueryId
from api.progress import access
from api.progress import service as progress_service
from api.questionnaires import checkins, outcomes
from api.questionnaires.models import Measurement, Questionnaire
from api.questionnaires.schemas import (
    CheckInCreate,
    CheckInResultPublic,
    DueCheckInPublic,
    MeasurementPublic,
    MeasurementsPublic,
    MeasurePublic,
    PointPublic,
    SeriesPublic,
)

router = APIRouter(prefix="/api/v1", tags=["check-ins"])

READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **SIGNED_IN_ERRORS,
    404: {"model": ErrorPublic, "description": "No such course or learner (not_found)"},
    422: {"model": InvalidPublic, "description": "Input that breaks a rule (invalid)"},
}
SEND_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    400: {"model": ErrorPublic, "description": "The body cannot be read (error)"},
    403: {
        "model": ErrorPublic,
        "description": "A missing CSRF token: csrf; staff without two-step verification: "
        "two_factor_required",
    },
    404: {
        "model": ErrorPublic,
        "description": "No such course, or no check-in of this key open to her (not_found)",
    },
    409: {
        "model": ErrorPublic,
        "description": "She has not agreed to Kern keeping her health data, or withdrew "
        "(consent_required); nothing is stored, keep the answers and ask her first",
    },
    422: {
        "model": InvalidPublic,
        "description": "An answer missing or not an answer to its question: `fields` has a "
        "message per question key (invalid)",
    },
}

LearnerId = Annotated[
    QueryId, Query(description="Read this learner's data (the course's instructor or admins)")
]


def _measurement(measurement: Measurement) -> MeasurementPublic:
    return MeasurementPublic(
        occasion=measurement.occasion,
        taken_at=measurement.taken_at,
        score=measurement.score,
        subscores=measurement.subscores,
        band=measurement.band_title,
        warning_sign=measurement.warning,
    )


def _series(series: outcomes.Series) -> SeriesPublic:
    definition = series.definition
    return SeriesPublic(
        questionnaire_slug=series.questionnaire.slug,
        title=series.questionnaire.title,
        language=series.questionnaire.language,
        better=definition.better.value,
        meaningful_change=float(definition.meaningful_change),
        change=series.change.value if series.change else None,
        measures=[
            MeasurePublic(
                key=measure.key,
                title=measure.title,
                min=float(measure.low),
                max=float(measure.high),
                points=[
                    PointPublic(taken_at=p.taken_at, value=float(p.value)) for p in measure.points
                ],
            )
            for measure in series.measures
        ],
        measurements=[_measurement(m) for m in series.measurements],
    )


@router.get("/courses/{slug}/measurements", responses=READ_ERRORS)
def read_measurements(
    session: SessionDep, user: RequireUser, now: Now, slug: str, learner_id: LearnerId = None
) -> MeasurementsPublic:
    """Her measures in a course per questionnaire, oldest first: the total and each sub-score."""
    reading = access.course_reading(session, slug=slug, viewer=user, learner_id=learner_id, now=now)
    found = outcomes.series(session, user_id=reading.learner_id, course=reading.outline.course)
    return MeasurementsPublic(
        course_slug=reading.outline.course.slug,
        learner_id=reading.learner_id,
        questionnaires=[_series(item) for item in found],
    )


def _due(item: checkins.DueCheckIn[Questionnaire]) -> DueCheckInPublic:
    return DueCheckInPublic(
        key=item.key,
        questionnaire_slug=item.questionnaire.slug,
        title=item.questionnaire.title,
        moment=item.check_in.moment,
        due_since=item.since,
        form_url=item.url,
    )


@router.get("/courses/{slug}/check-ins", responses=READ_ERRORS)
def read_due_check_ins(
    session: SessionDep, user: RequireUser, now: Now, slug: str, learner_id: LearnerId = None
) -> list[DueCheckInPublic]:
    """The check-ins of the course to fill in now, the one due longest first."""
    reading = access.course_reading(session, slug=slug, viewer=user, learner_id=learner_id, now=now)
    progress = progress_service.read(session, outline=reading.outline, user_id=reading.learner_id)
    found = checkins.due(session, user=reading.learner, progresses=[progress], now=now)
    return [_due(item) for item in found]


def doctor_advice() -> str:
    """What she is told after a yes to a warning sign."""
    return _(
        "You answered yes to a question about a warning sign. A sign like that can have a cause "
        "that a doctor should look at. Contact your GP soon and tell them what you noticed, and "
        "wait with the exercises until you have spoken to them."
    )


@router.post(
    "/courses/{slug}/check-ins/{key}",
    status_code=201,
    responses={
        200: {"model": CheckInResultPublic, "description": "Sent before: the first one, as stored"},
        **SEND_ERRORS,
    },
)
def send_check_in(
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    key: str,
    body: CheckInCreate,
    response: Response,
) -> CheckInResultPublic:
    """Send her answers to a check-in that is due (or done: a repeat stores nothing new)."""
    reading = access.course_reading(session, slug=slug, viewer=user, learner_id=None, now=now)
    if not reading.outline.enrolled:
        raise NotFound(_("This check-in is not open for you."))
    progress = progress_service.read(session, outline=reading.outline, user_id=reading.learner_id)
    item = checkins.find(session, user=user, progress=progress, key=key, now=now)
    if item is None:
        raise NotFound(_("This check-in is not open for you."))
    submitted = checkins.submit(session, user=user, item=item, raw=body.answers, now=now)
    if not submitted.created:
        response.status_code = 200
    return CheckInResultPublic(
        measurement=_measurement(submitted.measurement),
        advice=doctor_advice() if submitted.warning else None,
    )
