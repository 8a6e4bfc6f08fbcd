"""Stripe Tax for Checkout, as far as Kern uses it: `automatic_tax[enabled]`, a price's
`tax_behavior`, and the VAT of the customer's country when she completes the session.

Shapes follow Stripe's API reference: the session's `automatic_tax` hash, `total_details.amount_tax`
and, with `expand[]=total_details.breakdown`, `breakdown.taxes[]` of `{amount, rate (a tax_rate
object), taxability_reason, taxable_amount}`. Rates: the standard VAT rate of a few EU countries
(digital services are taxed where the consumer lives).
"""

import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.stripe_server.errors import invalid
from tests.stripe_server.fixtures import new_id
from tests.stripe_server.forms import Params

STANDARD_VAT = {
    "AT": 20,
    "BE": 21,
    "DE": 19,
    "DK": 25,
    "ES": 21,
    "FR": 20,
    "IE": 23,
    "IT": 22,
    "LU": 17,
    "NL": 21,
}
TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"]


def automatic_tax(params: Params) -> dict[str, Any]:
    """The session's `automatic_tax` from `automatic_tax[enabled]` (and `liability`)."""
    given = params.hash("automatic_tax")
    if given is None:
        return {"enabled": False, "liability": None, "status": None, "provider": None}
    enabled = given.boolean("enabled")
    if enabled is None:
        raise invalid(
            "Missing required param: automatic_tax[enabled].",
            param="automatic_tax[enabled]",
            code="parameter_missing",
        )
    liability = given.hash("liability")
    kind = liability.string("type", choices=["account", "self"]) if liability else None
    if liability is not None:
        liability.finish(ignore=["account"])
    given.finish()
    if not enabled:
        return {"enabled": False, "liability": None, "status": None, "provider": None}
    return {
        "enabled": True,
        "liability": {"type": kind or "self"},
        "status": "requires_location_inputs",
        "provider": "stripe",
    }


def tax_behavior(price_data: Params) -> str:
    return price_data.string("tax_behavior", choices=TAX_BEHAVIORS) or "unspecified"


def _rounded(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_rate(country: str, percentage: int, *, inclusive: bool) -> dict[str, Any]:
    """A `tax_rate` object as Stripe Tax reports it in a breakdown."""
    return {
        "id": new_id("txr_"),
        "object": "tax_rate",
        "active": True,
        "country": country,
        "created": int(time.time()),
        "description": None,
        "display_name": "VAT",
        "effective_percentage": float(percentage),
        "flat_amount": None,
        "inclusive": inclusive,
        "jurisdiction": country,
        "jurisdiction_level": "country",
        "livemode": False,
        "metadata": {},
        "percentage": float(percentage),
        "rate_type": "percentage",
        "state": None,
        "tax_type": "vat",
    }


def apply(
    session: dict[str, Any], items: list[dict[str, Any]], country: str
) -> list[dict[str, Any]]:
    """Compute the VAT of `country` on a completed session with automatic tax: the line items'
    and session's `amount_tax`, an exclusive price's tax added to the total; returns the
    breakdown's `taxes`."""
    percentage = STANDARD_VAT.get(country)
    if percentage is None:
        raise invalid(
            f"The Stripe test server knows no VAT rate for {country!r}",
            param="customer_details[address][country]",
        )
    rate = Decimal(percentage)
    taxes: dict[bool, dict[str, Any]] = {}
    for item in items:
        inclusive = item["price"]["tax_behavior"] != "exclusive"
        base = int(item["amount_total"])
        if inclusive:
            tax = _rounded(Decimal(base) * rate / (100 + rate))
            taxable = base - tax
        else:
            tax = _rounded(Decimal(base) * rate / 100)
            taxable = base
            item["amount_total"] = base + tax
        item["amount_tax"] = tax
        line = taxes.setdefault(
            inclusive,
            {
                "amount": 0,
                "rate": tax_rate(country, percentage, inclusive=inclusive),
                "taxability_reason": "standard_rated",
                "taxable_amount": 0,
            },
        )
        line["amount"] += tax
        line["taxable_amount"] += taxable
    total_tax = sum(line["amount"] for line in taxes.values())
    session["amount_total"] = sum(int(item["amount_total"]) for item in items)
    session["total_details"]["amount_tax"] = total_tax
    session["automatic_tax"]["status"] = "complete"
    return list(taxes.values())
