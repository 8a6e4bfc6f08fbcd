"""Questionnaires, where a course uses them (check-ins), what she answered (measurements), and the
anonymous tally of the public self-test."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

MAX_EVERY_DAYS = 365


class QuestionnaireStatus(StrEnum):
    draft = "draft"  # being written; may have problems (definition.problems())
    published = "published"  # without problems: usable as a self-test and as check-ins


class CheckInMoment(StrEnum):
    enrolment = "enrolment"  # the baseline, due when she enrols
    module = "module"  # due when she has completed every lesson of the module
    end = "end"  # due when she has completed every lesson of the course
    every = "every"  # due every N days after enrolment


def _ref(table: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


class Questionnaire(SQLModel, table=True):
    """A questionnaire an instructor wrote, carried by one of her courses (its package exports
    it). Public as a self-test at /test/<slug> when `self_test` and published, with its course."""

    __tablename__ = "questionnaire"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(sa_column=_ref("course"))
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    language: str = Field(default="nl", max_length=8)
    status: str = Field(default=QuestionnaireStatus.draft.value, max_length=20)
    self_test: bool = Field(default=False)
    # api.questionnaires.definition.Definition as JSON: intro, scoring, items, sub-scores, bands.
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        Index("ix_questionnaire_course_id", "course_id"),
    )


class CheckIn(SQLModel, table=True):
    """One moment at which a course asks its learners to fill in one of its questionnaires."""

    __tablename__ = "check_in"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(sa_column=_ref("course"))
    position: int = Field(default=0)
    # A questionnaire in use by a check-in cannot be deleted; the check-in goes first.
    questionnaire_id: int = Field(sa_column=_ref("questionnaire", ondelete="RESTRICT"))
    moment: str = Field(max_length=20)
    module_position: int | None = None  # for `module`: the module's position, from 0
    every_days: int | None = None  # for `every`

    __table_args__ = (
        CheckConstraint("moment IN ('enrolment', 'module', 'end', 'every')", name="moment"),
        CheckConstraint(
            "(moment = 'module') = (module_position IS NOT NULL)", name="module_position"
        ),
        CheckConstraint(
            f"(moment = 'every') = (every_days BETWEEN 1 AND {MAX_EVERY_DAYS})", name="every_days"
        ),
        Index("ix_check_in_course_id_position", "course_id", "position"),
        Index("ix_check_in_questionnaire_id", "questionnaire_id"),
    )


class Measurement(SQLModel, table=True):
    """One questionnaire she filled in: her answers, what they came to, and when. Health data."""

    __tablename__ = "measurement"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_ref("user_account"))
    # Measurements keep the questionnaire: it cannot be deleted once answered.
    questionnaire_id: int = Field(sa_column=_ref("questionnaire", ondelete="RESTRICT"))
    # The course whose check-in this was; none for a self-test result she kept.
    course_id: int | None = Field(default=None, sa_column=_ref("course", nullable=True))
    # What this filling-in answers, unique per learner so a double submit stores once:
    # "c12:q3:enrolment", "c12:q3:module-2", "c12:q3:end", "c12:q3:every-14-2", "self-test:<id>".
    occasion: str = Field(max_length=100)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: float = Field(sa_column=Column(Numeric(8, 1, asdecimal=False), nullable=False))
    subscores: dict[str, float] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    band_index: int | None = None
    # The band's title as she was shown it, kept if the instructor later rewrites the bands.
    band_title: str = Field(default="", max_length=200)
    warning: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    taken_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        UniqueConstraint("user_id", "occasion", name="uq_measurement_user_id_occasion"),
        Index("ix_measurement_user_id_questionnaire_id", "user_id", "questionnaire_id"),
        Index("ix_measurement_course_id", "course_id"),
        Index("ix_measurement_questionnaire_id", "questionnaire_id"),
    )


class SelfTestTally(SQLModel, table=True):
    """How many results of a self-test fell in each band in a week; nothing about who."""

    __tablename__ = "self_test_tally"

    questionnaire_id: int = Field(sa_column=_ref("questionnaire"))
    week: date = Field(sa_column=Column(Date, nullable=False))  # the Monday, Amsterdam time
    band_index: int = Field(sa_column=Column(Integer, nullable=False))  # -1: no band matched
    warning: bool = Field(sa_column=Column(Boolean, nullable=False))
    count: int = Field(default=0)

    __table_args__ = (PrimaryKeyConstraint("questionnaire_id", "week", "band_index", "warning"),)
