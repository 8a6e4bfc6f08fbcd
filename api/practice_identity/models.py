"""The practice's identity as one row: trading name, address, contact, KvK and BTW numbers."""

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

# The only id the table accepts: there is one practice per Kern installation.
SINGLETON_ID = 1
# How people write the Netherlands in the country field.
NETHERLANDS = frozenset({"nederland", "netherlands", "the netherlands", "nl"})


class PracticeIdentity(SQLModel, table=True):
    """Who the practice is, as the footer, the privacy statement and (later) invoices show it."""

    __tablename__ = "practice_identity"

    id: int = Field(default=SINGLETON_ID, primary_key=True)
    trading_name: str = Field(max_length=100)
    street_address: str = Field(max_length=200)
    postcode: str = Field(max_length=12)
    city: str = Field(max_length=100)
    country: str = Field(max_length=60)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=30)
    kvk_number: str = Field(max_length=8)
    vat_number: str = Field(default="", max_length=14)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (CheckConstraint(f"id = {SINGLETON_ID}", name="singleton"),)


@dataclass(frozen=True)
class Identity:
    """The practice as pages and documents show it (plain values, safe to share between
    threads)."""

    trading_name: str
    street_address: str
    postcode: str
    city: str
    country: str
    email: str
    phone: str
    kvk_number: str
    vat_number: str

    @classmethod
    def of(cls, row: PracticeIdentity) -> "Identity":
        """The plain values of the stored row."""
        return cls(**{field.name: getattr(row, field.name) for field in fields(cls)})

    @property
    def place(self) -> str:
        """Postcode and city, as a Dutch address writes them."""
        return f"{self.postcode} {self.city}".strip()

    @property
    def in_netherlands(self) -> bool:
        """Whether the practice is in the Netherlands (Dutch postcode; no country on a Dutch
        page's address line)."""
        return self.country.strip().lower() in NETHERLANDS
