"""VAT: the part of a price that includes it, and what Stripe Tax reports for a checkout."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal(1)


def vat_in(total_cents: int, rate_percent: Decimal) -> int:
    """The VAT inside an amount that includes it, rounded half up to the cent (on the amount
    itself, not per unit: one course is one line)."""
    if rate_percent <= 0:
        return 0
    vat = Decimal(total_cents) * rate_percent / (100 + rate_percent)
    # Round half away from zero, so a credit note mirrors its invoice exactly.
    sign = -1 if vat < 0 else 1
    return sign * int(abs(vat).quantize(CENT, rounding=ROUND_HALF_UP))


def rate_text(rate: Decimal) -> str:
    """21 → "21", 5.5 → "5.5": the rate as stored and shown."""
    text = format(rate.normalize(), "f")
    return text


@dataclass(frozen=True)
class VatLine:
    """The VAT of one rate in one country."""

    country: str
    rate: str  # percent, e.g. "21"
    net_cents: int
    vat_cents: int

    def as_dict(self) -> dict[str, object]:
        return {
            "country": self.country,
            "rate": self.rate,
            "net_cents": self.net_cents,
            "vat_cents": self.vat_cents,
        }

    def negated(self) -> "VatLine":
        return VatLine(self.country, self.rate, -self.net_cents, -self.vat_cents)


def kern_lines(total_cents: int, *, rate_percent: Decimal, country: str) -> list[VatLine]:
    """One line: the whole price at the practice's rate."""
    vat = vat_in(total_cents, rate_percent)
    return [VatLine(country, rate_text(rate_percent), total_cents - vat, vat)]


def portion(lines: list[VatLine], amount_cents: int) -> list[VatLine]:
    """`amount_cents` (VAT included; negative for a credit note) split over the rates of `lines`
    in the proportions they have there, each part's VAT at its rate (in proportion where the
    rate is not known): a partial refund, or one instalment of a price."""
    whole = sum(line.net_cents + line.vat_cents for line in lines)
    if not lines or whole == 0:
        return []
    parts: list[VatLine] = []
    left = amount_cents
    for index, line in enumerate(lines):
        line_total = line.net_cents + line.vat_cents
        share = left if index == len(lines) - 1 else _scaled(amount_cents, line_total, whole)
        left -= share
        try:
            rate = Decimal(line.rate) if line.rate else None
        except ArithmeticError:
            rate = None
        vat = (
            vat_in(share, rate)
            if rate is not None
            else _scaled(share, line.vat_cents, line_total or 1)
        )
        parts.append(VatLine(line.country, line.rate, share - vat, vat))
    return parts


def _scaled(amount: int, part: int, whole: int) -> int:
    """amount × part / whole, rounded half away from zero (so a credit mirrors a charge)."""
    value = Decimal(amount) * Decimal(part) / Decimal(whole)
    sign = -1 if value < 0 else 1
    return sign * int(abs(value).quantize(CENT, rounding=ROUND_HALF_UP))


def stripe_lines(checkout: dict[str, Any]) -> list[VatLine] | None:
    """The VAT Stripe Tax computed for a Checkout Session, per rate (from
    `total_details.breakdown.taxes`); None when automatic tax was not on."""
    automatic = checkout.get("automatic_tax") or {}
    if not automatic.get("enabled"):
        return None
    details = checkout.get("total_details") or {}
    taxes = ((details.get("breakdown") or {}).get("taxes")) or []
    lines = []
    for tax in taxes:
        rate = tax.get("rate") or {}
        percentage = rate.get("effective_percentage") or rate.get("percentage") or 0
        amount = int(tax.get("amount") or 0)
        taxable = int(tax.get("taxable_amount") or 0)
        lines.append(
            VatLine(
                country=str(rate.get("country") or "").upper()[:2],
                rate=rate_text(Decimal(str(percentage))),
                net_cents=taxable,
                vat_cents=amount,
            )
        )
    if not lines and details.get("amount_tax"):
        # The breakdown was not read with the session: one line for the total tax.
        amount = int(details["amount_tax"])
        country = _country(checkout)
        lines.append(VatLine(country, "", int(checkout.get("amount_total") or 0) - amount, amount))
    return lines


def _country(checkout: dict[str, Any]) -> str:
    address = (checkout.get("customer_details") or {}).get("address") or {}
    return str(address.get("country") or "").upper()[:2]
