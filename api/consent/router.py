"""JSON endpoints for her consent to keeping health data (the guided player asks with these)."""

from typing import Any

from fastapi import APIRouter, Response

from api.accounts.access import RequireUser
from api.accounts.schemas import SIGNED_IN_ERRORS
from api.clock import Now
from api.consent import service, texts
from api.consent.schemas import (
    ConsentPointPublic,
    ConsentPublic,
    ConsentTextPublic,
    HealthConsentGive,
    HealthConsentPublic,
)
from api.db import SessionDep
from api.errors import ErrorPublic, InvalidPublic
from api.i18n import current_locale

router = APIRouter(prefix="/api/v1/me/consents", tags=["consent"])

PATH = "/health-data"

GIVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **SIGNED_IN_ERRORS,
    400: {"model": ErrorPublic, "description": "The body cannot be read (error)"},
    403: {
        "model": ErrorPublic,
        "description": "A missing CSRF token: csrf; staff without two-step verification: "
        "two_factor_required",
    },
    409: {
        "model": ErrorPublic,
        "description": "The text changed since it was shown (consent_text_changed): show it again",
    },
    422: {"model": InvalidPublic, "description": "Not agreed, or a body that breaks a rule"},
}


def _text() -> ConsentTextPublic:
    text = texts.health_data_text()
    return ConsentTextPublic(
        version=text.version,
        title=text.title,
        intro=text.intro,
        points=[ConsentPointPublic(label=label, text=body) for label, body in text.points],
        without=text.without,
        agree=text.agree,
    )


@router.get(PATH, responses=SIGNED_IN_ERRORS)
def read_health_consent(user: RequireUser) -> HealthConsentPublic:
    """Her consent to keeping health data, and the text of the question."""
    return HealthConsentPublic(
        given=service.has_health_consent(user),
        given_version=user.health_consent_version,
        withdrawn_at=user.health_consent_withdrawn_at,
        text=_text(),
    )


@router.post(PATH, status_code=201, responses=GIVE_ERRORS)
def give_health_consent(
    session: SessionDep, user: RequireUser, now: Now, body: HealthConsentGive
) -> ConsentPublic:
    """Record that she agrees to Kern keeping her health data (the text of `version`)."""
    consent = service.give_health_consent(
        session, user=user, version=body.version, language=current_locale.get(), now=now
    )
    return ConsentPublic.model_validate(consent, from_attributes=True)


@router.delete(PATH, status_code=204, response_class=Response, responses=SIGNED_IN_ERRORS)
def withdraw_health_consent(session: SessionDep, user: RequireUser, now: Now) -> None:
    """Withdraw: from now on nothing new is kept; what is stored stays until she deletes it."""
    service.withdraw_health_consent(session, user=user, now=now)
