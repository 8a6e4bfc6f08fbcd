"""Reading and saving the practice's identity, with the checks a Dutch practice's details need."""

import re
from dataclasses import asdict
from datetime import datetime
from functools import partial

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from api.accounts import service as accounts_service
from api.errors import FormError
from api.i18n import gettext as _
from api.media import files
from api.practice_identity.cache import IdentityCache
from api.practice_identity.models import NETHERLANDS, SINGLETON_ID, Identity, PracticeIdentity

# The KvK (Chamber of Commerce) number: eight digits. The Dutch VAT number (btw-id): NL, nine
# digits, B and two digits. Both are typed with spaces or dots as often as without.
_KVK = re.compile(r"^\d{8}$")
_VAT = re.compile(r"^NL\d{9}B\d{2}$")
_POSTCODE = re.compile(r"^(\d{4}) ?([A-Z]{2})$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,30}$")
_SEPARATORS = re.compile(r"[\s.]")
DEFAULT_COUNTRY = "Nederland"


class IdentityForm(BaseModel):
    """The settings form as typed; every field a string, checked by `save`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    trading_name: str = ""
    street_address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = DEFAULT_COUNTRY
    email: str = ""
    phone: str = ""
    kvk_number: str = ""
    vat_number: str = ""

    @classmethod
    def of(cls, identity: Identity | None) -> "IdentityForm":
        """The form filled in with the stored identity (empty when there is none yet)."""
        return cls(**asdict(identity)) if identity else cls()

    def values(self) -> dict[str, str]:
        return self.model_dump()


def read(session: Session) -> Identity | None:
    """The practice's identity, or None before an admin filled it in (one statement)."""
    row = session.get(PracticeIdentity, SINGLETON_ID)
    return Identity.of(row) if row is not None else None


def _text(value: str, limit: int, *, required: bool = True) -> tuple[str, str | None]:
    text = " ".join(value.split())
    if required and not text:
        return text, _("Fill in this field.")
    if len(text) > limit:
        return text, _("Use at most %(n)s characters.", n=limit)
    return text, None


def _postcode(value: str, country: str) -> tuple[str, str | None]:
    text, problem = _text(value.upper(), 12)
    if problem or country.lower() not in NETHERLANDS:
        return text, problem
    match = _POSTCODE.match(text)
    if match is None:
        return text, _("Fill in a Dutch postcode: four digits and two letters, e.g. 3511 AB.")
    return f"{match[1]} {match[2]}", None


def _kvk(value: str) -> tuple[str, str | None]:
    number = _SEPARATORS.sub("", value)
    if not number:
        return number, _("Fill in the KvK number.")
    if not _KVK.match(number):
        return value.strip(), _("A KvK number has exactly 8 digits, e.g. 12345678.")
    return number, None


def _vat(value: str) -> tuple[str, str | None]:
    number = _SEPARATORS.sub("", value).upper()
    if number and not _VAT.match(number):
        return value.strip(), _(
            "A Dutch VAT number is NL, 9 digits, the letter B and 2 digits, e.g. NL123456789B01."
        )
    return number, None


def _email(value: str) -> tuple[str, str | None]:
    email = accounts_service.normalise_email(value)
    return email, accounts_service.email_problem(email)


def _phone(value: str) -> tuple[str, str | None]:
    phone = " ".join(value.split())
    if phone and not _PHONE.match(phone):
        return phone, _("Use digits, spaces and a leading + only, e.g. 030 123 45 67.")
    return phone, None


def check(form: IdentityForm) -> Identity:
    """The identity from the form, tidied; raises FormError naming every wrong field."""
    country, country_problem = _text(form.country, 60)
    checked = {
        "trading_name": _text(form.trading_name, 100),
        "street_address": _text(form.street_address, 200),
        "postcode": _postcode(form.postcode, country),
        "city": _text(form.city, 100),
        "country": (country, country_problem),
        "email": _email(form.email),
        "phone": _phone(form.phone),
        "kvk_number": _kvk(form.kvk_number),
        "vat_number": _vat(form.vat_number),
    }
    problems = {name: problem for name, (_value, problem) in checked.items() if problem}
    if problems:
        raise FormError(problems)
    return Identity(**{name: value for name, (value, _problem) in checked.items()})


def save(
    session: Session, *, form: IdentityForm, now: datetime, cache: IdentityCache | None = None
) -> Identity:
    """Check and store the identity; once committed, `cache` (this worker's copy) shows it."""
    identity = check(form)
    row = session.get(PracticeIdentity, SINGLETON_ID) or PracticeIdentity(**asdict(identity))
    for name, value in asdict(identity).items():
        setattr(row, name, value)
    row.updated_at = now
    session.add(row)
    session.flush()
    if cache is not None:
        files.after_commit(session, partial(cache.store, identity))
    return identity
