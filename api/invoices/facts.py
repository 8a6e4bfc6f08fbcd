"""What an invoice needs from a Checkout Session: who paid, how, and the VAT Stripe computed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.invoices.vat import VatLine, stripe_lines

# iDEAL's bank codes in `payment_method_details.ideal.bank`, as the banks write their names.
IDEAL_BANKS = {
    "abn_amro": "ABN AMRO",
    "asn_bank": "ASN Bank",
    "bunq": "bunq",
    "buut": "Buut",
    "finom": "Finom",
    "handelsbanken": "Handelsbanken",
    "ing": "ING",
    "knab": "Knab",
    "mollie": "Mollie",
    "moneyou": "Moneyou",
    "n26": "N26",
    "nn": "Nationale-Nederlanden",
    "rabobank": "Rabobank",
    "regiobank": "RegioBank",
    "revolut": "Revolut",
    "sns_bank": "SNS",
    "triodos_bank": "Triodos Bank",
    "van_lanschot": "Van Lanschot Kempen",
    "yoursafe": "Yoursafe",
}
CARD_BRANDS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "jcb": "JCB",
    "link": "Link",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}
OTHER_METHODS = {"sepa_debit": "SEPA Direct Debit", "paypal": "PayPal", "klarna": "Klarna"}


def payment_method_text(details: dict[str, Any] | None) -> str:
    """A charge's `payment_method_details` in words: "iDEAL (ING)", "Visa •••• 4242",
    "Bancontact (BNP Paribas Fortis)"."""
    if not details:
        return ""
    kind = str(details.get("type") or "")
    sub = details.get(kind) or {}
    if kind == "card":
        brand = str(sub.get("brand") or sub.get("network") or "")
        name = CARD_BRANDS.get(brand, brand.replace("_", " ").title() or "Card")
        last4 = sub.get("last4")
        return f"{name} •••• {last4}" if last4 else name
    if kind == "ideal":
        bank = sub.get("bank")
        return f"iDEAL ({IDEAL_BANKS.get(str(bank), str(bank))})" if bank else "iDEAL"
    if kind == "bancontact":
        bank = sub.get("bank_name")
        return f"Bancontact ({bank})" if bank else "Bancontact"
    name = OTHER_METHODS.get(kind, kind.replace("_", " "))
    last4 = sub.get("last4") or sub.get("iban_last4")
    return f"{name} •••• {last4}" if last4 else name


@dataclass(frozen=True)
class InvoiceFacts:
    """The buyer's name and country, the payment method and Stripe's VAT, from a session."""

    buyer_name: str = ""
    country: str = ""
    payment_method: str = ""
    # None: Stripe Tax was off, Kern splits the VAT from the price itself.
    stripe_vat: tuple[VatLine, ...] | None = None

    @classmethod
    def of(cls, checkout: dict[str, Any]) -> InvoiceFacts:
        customer = checkout.get("customer_details") or {}
        address = customer.get("address") or {}
        intent = checkout.get("payment_intent")
        charge = intent.get("latest_charge") if isinstance(intent, dict) else None
        details = charge.get("payment_method_details") if isinstance(charge, dict) else None
        lines = stripe_lines(checkout)
        return cls(
            buyer_name=str(customer.get("name") or "")[:200],
            country=str(address.get("country") or "").upper()[:2],
            payment_method=payment_method_text(details)[:120],
            stripe_vat=None if lines is None else tuple(lines),
        )
