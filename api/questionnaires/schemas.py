"""What the questionnaires API reads and answers: her measures per questionnaire, her due
check-ins, and a check-in sent."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.questionnaires.definition import MAX_ITEMS

# One answer as JSON: a 0–10 value or an option's position (from 0), several positions, true or
# false for a warning sign, a text; null (or leaving the key out) for no answer.
AnswerValue = int | bool | str | list[int] | None


class PointPublic(BaseModel):
    """One measurement of one measure."""

    taken_at: datetime
    value: float


class MeasurePublic(BaseModel):
    """The total ("total") or a sub-score over time, with the lowest and highest it can be."""

    key: str
    title: str
    min: float
    max: float
    points: list[PointPublic]


class MeasurementPublic(BaseModel):
    """One questionnaire she filled in: when, the scores, the band, and whether she said yes to
    a warning sign."""

    occasion: str
    taken_at: datetime
    score: float
    subscores: dict[str, float]
    band: str
    warning_sign: bool


class SeriesPublic(BaseModel):
    """Everything she filled in of one questionnaire, oldest first. `change` compares her
    first and latest total with the meaningful change (null with one measurement)."""

    questionnaire_slug: str
    title: str
    language: str
    better: Literal["lower", "higher"]
    meaningful_change: float
    change: Literal["improved", "same", "worse"] | None
    measures: list[MeasurePublic]
    measurements: list[MeasurementPublic]


class MeasurementsPublic(BaseModel):
    """A learner's measurements in a course: its check-ins and the self-test results she kept of
    the questionnaires it carries."""

    course_slug: str
    learner_id: int
    questionnaires: list[SeriesPublic]


class DueCheckInPublic(BaseModel):
    """A check-in to fill in now; `key` names it in the address to send it to."""

    key: str
    questionnaire_slug: str
    title: str
    moment: Literal["enrolment", "module", "end", "every"]
    due_since: datetime
    form_url: str = Field(description="The page with the form, for a browser")


class CheckInCreate(BaseModel):
    """Her answers by question key."""

    answers: dict[str, AnswerValue] = Field(max_length=MAX_ITEMS)


class CheckInResultPublic(BaseModel):
    """A stored check-in. With a warning sign, `advice` tells her to see a doctor first."""

    measurement: MeasurementPublic
    advice: str | None
