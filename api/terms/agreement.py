"""What she agrees to when she buys: the terms in force and, ticked by herself, the request for
immediate access that ends her right of withdrawal. Recorded on the order."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from api.errors import FormError
from api.i18n import gettext as _
from api.terms import service
from api.terms.waiver import WAIVER_MISSING, WAIVER_VERSION


@dataclass(frozen=True)
class Agreement:
    """The terms version in force and the moment she asked for access to start now."""

    terms_version: int | None
    waiver_at: datetime

    def metadata(self) -> dict[str, str]:
        """For the Checkout Session's metadata: an order made from the session records it too.
        (No moment here: the parameters key Kern's idempotency, and must repeat on a reload.)"""
        return {
            "terms_version": str(self.terms_version or ""),
            "withdrawal_waiver": WAIVER_VERSION,
        }

    def fields(self) -> dict[str, Any]:
        return {
            "terms_version": self.terms_version,
            "withdrawal_waiver_at": self.waiver_at,
            "withdrawal_waiver_version": WAIVER_VERSION,
        }


def agree(session: Session, *, waiver: bool, now: datetime) -> Agreement:
    """Her agreement at checkout; FormError when she did not tick the waiver."""
    if not waiver:
        raise FormError({"withdrawal_waiver": _(WAIVER_MISSING)})
    return Agreement(terms_version=service.current_version(session), waiver_at=now)


def from_metadata(metadata: dict[str, str]) -> dict[str, Any]:
    """Order fields from a session's metadata (and its `created` time)."""
    if not metadata.get("withdrawal_waiver"):
        return {}
    terms = metadata.get("terms_version", "")
    created = metadata.get("created", "")
    return {
        "terms_version": int(terms) if terms.isdigit() else None,
        "withdrawal_waiver_at": (
            datetime.fromtimestamp(int(created), UTC) if created.isdigit() else None
        ),
        "withdrawal_waiver_version": metadata["withdrawal_waiver"][:40],
    }
