"""What the consent API reads and answers: the question to ask her, and what she gave."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ConsentPointPublic(BaseModel):
    label: str
    text: str


class ConsentTextPublic(BaseModel):
    """The question to show her, in her language; send `version` back when she agrees."""

    version: str
    title: str
    intro: str
    points: list[ConsentPointPublic]
    without: str
    agree: str


class HealthConsentPublic(BaseModel):
    """Whether Kern may keep her health data now, and the text to ask her with."""

    given: bool
    given_version: str | None
    withdrawn_at: datetime | None
    text: ConsentTextPublic


class HealthConsentGive(BaseModel):
    """Her explicit agreement to the text of `version`."""

    version: str = Field(min_length=1, max_length=20)
    agree: Literal[True] = Field(description="She ticked the box herself; nothing else counts")


class ConsentPublic(BaseModel):
    """One recorded consent."""

    kind: str
    text_version: str
    language: str
    given_at: datetime
