"""The test-mode Stripe account the server keeps: objects, events, and what changes them.

Objects are cast from Stripe's fixtures (fixtures3.json) and filled in, so field names, nesting,
`object` values and id prefixes are Stripe's. The HTTP API (`api_*` methods) and the control API
for tests (`complete`, `refund`, …) change the same objects under one lock.
"""

import copy
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import stripe

from tests.stripe_server import tax
from tests.stripe_server.errors import ControlError, StripeApiError, invalid, missing
from tests.stripe_server.fixtures import fixture, new_id
from tests.stripe_server.forms import Params
from tests.stripe_server.subscriptions import Billing
from tests.stripe_server.webhooks import Event

API_VERSION: str = stripe.api_version
PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
DAY = 24 * 60 * 60

# Stripe's payment method types for Checkout (a subset; all real).
PAYMENT_METHOD_TYPES = [
    "acss_debit",
    "affirm",
    "afterpay_clearpay",
    "alipay",
    "amazon_pay",
    "au_becs_debit",
    "bacs_debit",
    "bancontact",
    "blik",
    "boleto",
    "card",
    "cashapp",
    "customer_balance",
    "eps",
    "fpx",
    "giropay",
    "grabpay",
    "ideal",
    "klarna",
    "konbini",
    "link",
    "mobilepay",
    "multibanco",
    "oxxo",
    "p24",
    "paynow",
    "paypal",
    "pix",
    "promptpay",
    "revolut_pay",
    "sepa_debit",
    "sofort",
    "swish",
    "twint",
    "us_bank_account",
    "wechat_pay",
    "zip",
]
# Methods that take euros only (iDEAL among them); p24 takes euros and złoty.
CURRENCIES_OF = {
    "bancontact": {"eur"},
    "eps": {"eur"},
    "giropay": {"eur"},
    "ideal": {"eur"},
    "sepa_debit": {"eur"},
    "sofort": {"eur"},
    "p24": {"eur", "pln"},
}
LOCALES = [
    "auto",
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "en-GB",
    "es",
    "es-419",
    "et",
    "fi",
    "fil",
    "fr",
    "fr-CA",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "lt",
    "lv",
    "ms",
    "mt",
    "nb",
    "nl",
    "pl",
    "pt",
    "pt-BR",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "th",
    "tr",
    "vi",
    "zh",
    "zh-HK",
    "zh-TW",
]
# Stripe's minimum charge amounts (smallest unit) for the currencies a Dutch shop might use.
MINIMUM_AMOUNT = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50, "dkk": 250, "sek": 300, "nok": 300}
INTERVALS = ["day", "week", "month", "year"]
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}


@dataclass(frozen=True)
class Origin:
    """The API request behind a change (an event's `request`); empty for control-API changes."""

    id: str | None = None
    idempotency_key: str | None = None


CONTROL = Origin()


def money(cents: int, currency: str) -> str:
    """`4900, "eur"` → `€ 49,00`: the way a Dutch page shows an amount."""
    digits = f"{cents / 100:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ {digits}" if currency == "eur" else f"{digits} {currency.upper()}"


def _url(value: str | None, name: str) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise invalid("Not a valid URL", param=name, code="url_invalid")


def _payment_method_details(method: str) -> dict[str, Any]:
    """`charge.payment_method_details` for a payment method type (card from the fixture)."""
    if method == "card":
        details: dict[str, Any] = fixture("charge")["payment_method_details"]
        return details
    sub: dict[str, Any] = {}
    if method == "ideal":
        sub = {
            "bank": "ing",
            "bic": "INGBNL2A",
            "generated_sepa_debit": None,
            "generated_sepa_debit_mandate": None,
            "iban_last4": "5264",
            "transaction_id": new_id("", 10),
            "verified_name": "Jenny Rosen",
        }
    elif method == "bancontact":
        sub = {
            "bank_code": "VAPE",
            "bank_name": "VAN DE PUTTE",
            "bic": "VAPEBE22",
            "generated_sepa_debit": None,
            "generated_sepa_debit_mandate": None,
            "iban_last4": "7061",
            "preferred_language": "nl",
            "verified_name": "Jenny Rosen",
        }
    elif method == "sepa_debit":
        sub = {
            "bank_code": "37040044",
            "branch_code": None,
            "country": "DE",
            "fingerprint": new_id("", 16),
            "last4": "3000",
            "mandate": new_id("mandate_"),
        }
    return {method: sub, "type": method}


class StripeState(Billing):
    """Objects by id, events in order, and every operation that moves them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Where sessions' `url` points (`{base_url}/pay/{id}`); the server sets it once bound.
        self.base_url = "http://127.0.0.1"
        self.api_version = API_VERSION
        # Kern's rule from the Stripe README: success_url is given and carries the placeholder.
        self.require_session_id_in_success_url = True
        self._objects: dict[str, dict[str, Any]] = {}
        self._events: list[Event] = []
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._intent_data: dict[str, dict[str, Any]] = {}
        # Stripe Tax's `total_details.breakdown.taxes` per session (shown when expanded).
        self._tax_breakdowns: dict[str, list[dict[str, Any]]] = {}
        self._subscription_data: dict[str, dict[str, Any]] = {}
        self._billing: dict[str, dict[str, Any]] = {}
        # An invoice's payments (`invoice_payment` objects), shown when `payments` is expanded.
        self._invoice_payments: dict[str, list[dict[str, Any]]] = {}
        self._configuration_id = new_id("pmc_")

    def clear_state(self) -> None:
        with self.lock:
            self._objects.clear()
            self._events.clear()
            self._line_items.clear()
            self._intent_data.clear()
            self._tax_breakdowns.clear()
            self._subscription_data.clear()
            self._billing.clear()
            self._invoice_payments.clear()
            self.require_session_id_in_success_url = True

    # -- reading ---------------------------------------------------------------------------------

    @property
    def events(self) -> list[Event]:
        """Every event so far, oldest first (copies: deliver them in any order, or twice)."""
        with self.lock:
            return copy.deepcopy(self._events)

    @property
    def sessions(self) -> list[dict[str, Any]]:
        """Every Checkout Session so far, oldest first, as the API would show it now."""
        with self.lock:
            return [
                self.view(key)
                for key, value in self._objects.items()
                if value["object"] == "checkout.session"
            ]

    def get(self, object_id: str) -> dict[str, Any]:
        """Any object (session, payment intent, charge, refund, dispute, event, …) as it is now."""
        with self.lock:
            if object_id not in self._objects:
                raise ControlError(f"no object with id {object_id!r}")
            return self.view(object_id)

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        """A session's line items (`item` objects), as `expand[]=line_items` lists them."""
        with self.lock:
            self._session(session_id)
            return copy.deepcopy(self._line_items[session_id])

    def view(self, object_id: str) -> dict[str, Any]:
        """A copy of an object as the API returns it (a charge lists its refunds, newest first)."""
        obj = copy.deepcopy(self._objects[object_id])
        if obj["object"] == "charge":
            refunds = [
                copy.deepcopy(value)
                for value in self._objects.values()
                if value["object"] == "refund" and value["charge"] == object_id
            ]
            obj["refunds"]["data"] = refunds[::-1]
        return dict(obj)

    def retrieve(self, kind: str, object_id: str) -> dict[str, Any]:
        """An object of one kind by id, or Stripe's 404."""
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise missing(kind, object_id)
        return self.view(object_id)

    def expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """Replace ids by the objects they name along each dotted path, as `expand[]` does."""
        for path in paths:
            parts = path.split(".")
            if len(parts) > 4:
                raise invalid(
                    f"You cannot expand more than 4 levels of a property ({path}).", param="expand"
                )
            self._expand(obj, parts, path)
        return obj

    def _expand(self, node: Any, parts: list[str], path: str) -> None:
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, path)
            return
        if not isinstance(node, dict):
            return
        field, rest = parts[0], parts[1:]
        if field == "line_items" and node.get("object") == "checkout.session":
            node.setdefault("line_items", self._line_item_list(str(node["id"])))
        if field == "total_details" and rest == ["breakdown"] and "id" in node:
            taxes = self._tax_breakdowns.get(str(node["id"]), [])
            node[field]["breakdown"] = {"discounts": [], "taxes": copy.deepcopy(taxes)}
        if field == "payments" and node.get("object") == "invoice":
            # Stripe includes an invoice's payments only when asked (an "includable" field).
            node["payments"] = self._invoice_payment_list(str(node["id"]))
        if field not in node:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        value = node[field]
        if isinstance(value, str):
            if value not in self._objects:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            value = node[field] = self.view(value)
        if value is not None and rest:
            self._expand(value, rest, path)

    def _invoice_payment_list(self, invoice_id: str) -> dict[str, Any]:
        return {
            "object": "list",
            "data": copy.deepcopy(self._invoice_payments.get(invoice_id, [])),
            "has_more": False,
            "url": f"/v1/invoice_payments?invoice={invoice_id}",
        }

    def _line_item_list(self, session_id: str) -> dict[str, Any]:
        return {
            "object": "list",
            "data": copy.deepcopy(self._line_items.get(session_id, [])),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    # -- events ----------------------------------------------------------------------------------

    def _emit(
        self,
        event_type: str,
        object_id: str,
        *,
        origin: Origin = CONTROL,
        previous: dict[str, Any] | None = None,
    ) -> Event:
        event = Event(fixture("event"))
        data: dict[str, Any] = {"object": self.view(object_id)}
        if previous is not None:
            data["previous_attributes"] = previous
        event.update(
            id=new_id("evt_"),
            api_version=self.api_version,
            created=int(time.time()),
            data=data,
            livemode=False,
            object="event",
            pending_webhooks=0,
            request={"id": origin.id, "idempotency_key": origin.idempotency_key},
            type=event_type,
        )
        self._events.append(event)
        self._objects[event.id] = event
        return copy.deepcopy(event)

    # -- Checkout Sessions -----------------------------------------------------------------------

    def api_create_session(self, params: Params, origin: Origin) -> dict[str, Any]:
        """POST /v1/checkout/sessions (mode payment or subscription, line items with
        price_data)."""
        mode = params.string("mode", required=True)
        if mode not in {"payment", "subscription"}:
            raise invalid(
                f"mode={mode} is not implemented by the Stripe test server (payment and "
                "subscription only)",
                param="mode",
            )
        ui_mode = params.string("ui_mode", choices=["hosted", "embedded", "custom"])
        if ui_mode not in {None, "hosted"}:
            raise invalid("The Stripe test server implements ui_mode=hosted only", param="ui_mode")
        raw_items = params.array("line_items", required=True) or []
        if not raw_items:
            raise invalid(
                "Missing required param: line_items.", param="line_items", code="parameter_missing"
            )
        now = int(time.time())
        items = [
            self._line_item(Params(raw, f"line_items[{index}]"), now)
            for index, raw in enumerate(raw_items)
        ]
        currencies = {item["currency"] for item in items}
        if len(currencies) > 1:
            raise invalid(
                "All line items must use the same currency; got " + ", ".join(sorted(currencies)),
                param="line_items",
            )
        currency = currencies.pop()
        self.check_prices(mode, items)
        types = params.strings("payment_method_types", choices=PAYMENT_METHOD_TYPES)
        for method in types or []:
            if currency not in CURRENCIES_OF.get(method, {currency}):
                allowed = ", ".join(sorted(CURRENCIES_OF[method]))
                raise invalid(
                    f"The currency provided ({currency}) is invalid for one or more payment method "
                    f"types on this Checkout Session. The payment method type `{method}` only "
                    f"supports the following currencies: {allowed}.",
                    param="payment_method_types",
                )
        success_url = params.string(
            "success_url", required=self.require_session_id_in_success_url, max_length=5000
        )
        _url(success_url, "success_url")
        if (
            self.require_session_id_in_success_url
            and success_url is not None
            and PLACEHOLDER not in success_url
        ):
            raise invalid(
                f"success_url must contain the {PLACEHOLDER} placeholder (a rule of Kern's, "
                "checked by the Stripe test server; switch: require_session_id_in_success_url)",
                param="success_url",
            )
        cancel_url = params.string("cancel_url", max_length=5000)
        _url(cancel_url, "cancel_url")
        customer_email = params.string("customer_email", max_length=800)
        if customer_email is not None and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", customer_email
        ):
            raise invalid(
                f"Invalid email address: {customer_email}",
                param="customer_email",
                code="email_invalid",
            )
        expires_at = params.integer("expires_at")
        if expires_at is not None and not now + 30 * 60 - 5 <= expires_at <= now + DAY:
            raise invalid(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        session_id = new_id("cs_test_a1", 58)
        subtotal = sum(int(item["amount_subtotal"]) for item in items)
        minimum = MINIMUM_AMOUNT.get(currency, 50)
        if subtotal < minimum:
            raise invalid(
                "The Checkout Session's total amount due must add up to at least "
                f"{money(minimum, currency)}",
                param="line_items",
                code="amount_too_small",
            )
        allow_promotion_codes = params.boolean("allow_promotion_codes")
        discount, discounts = self.discount_of(params, subtotal, allow_promotion_codes)
        self._spread_discount_over(items, discount)
        session = fixture("checkout.session")
        session.update(
            id=session_id,
            object="checkout.session",
            after_expiration=None,
            allow_promotion_codes=allow_promotion_codes,
            amount_subtotal=subtotal,
            amount_total=subtotal - discount,
            automatic_tax=tax.automatic_tax(params),
            billing_address_collection=params.string(
                "billing_address_collection", choices=["auto", "required"]
            ),
            cancel_url=cancel_url,
            client_reference_id=params.string("client_reference_id", max_length=200),
            client_secret=None,
            consent=None,
            consent_collection=None,
            created=now,
            currency=currency,
            custom_fields=[],
            custom_text=dict.fromkeys(session["custom_text"]),
            customer=None,
            customer_creation=params.string("customer_creation", choices=["always", "if_required"])
            or "if_required",
            customer_details=None,
            customer_email=customer_email,
            expires_at=expires_at if expires_at is not None else now + DAY,
            invoice=None,
            livemode=False,
            locale=params.string("locale", choices=LOCALES),
            metadata=params.metadata(),
            mode=mode,
            payment_intent=None,
            payment_link=None,
            payment_method_collection="if_required",
            payment_method_configuration_details=(
                None if types else {"id": self._configuration_id, "parent": None}
            ),
            payment_method_options={},
            payment_method_types=types or self._dynamic_types(currency),
            payment_status="unpaid",
            phone_number_collection={"enabled": False},
            recovered_from=None,
            saved_payment_method_options=None,
            setup_intent=None,
            shipping_address_collection=None,
            shipping_cost=None,
            shipping_options=[],
            status="open",
            submit_type=params.string("submit_type", choices=["auto", "book", "donate", "pay"]),
            subscription=None,
            success_url=success_url,
            total_details={"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0},
            ui_mode="hosted",
            url=f"{self.base_url}/pay/{session_id}",
            adaptive_pricing={"enabled": False},
            discounts=discounts,
            collected_information=None,
            permissions=None,
            wallet_options=None,
            origin_context=None,
            currency_conversion=None,
            customer_account=None,
            integration_identifier=None,
            managed_payments={"enabled": False},
        )
        invoice_data = dict.fromkeys(session["invoice_creation"]["invoice_data"])
        session["invoice_creation"] = {
            "enabled": False,
            "invoice_data": {**invoice_data, "metadata": {}},
        }
        intent_data = self._intent_params(self.mode_hash(params, "payment_intent_data", mode))
        self._subscription_data[session_id] = self.subscription_data(
            self.mode_hash(params, "subscription_data", mode)
        )
        params.finish(ignore=["expand"])
        self._objects[session_id] = session
        self._line_items[session_id] = items
        self._intent_data[session_id] = intent_data
        return self.view(session_id)

    def _line_item(self, params: Params, now: int) -> dict[str, Any]:
        price_id = params.string("price")
        if price_id is not None:
            raise invalid(
                f"No such price: '{price_id}' (the Stripe test server knows price_data only)",
                param=params.name("price"),
                code="resource_missing",
            )
        quantity = params.integer("quantity", required=True, minimum=1) or 0
        price_data = params.hash("price_data", required=True)
        assert price_data is not None
        currency = (price_data.string("currency", required=True) or "").lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise invalid(f"Invalid currency: {currency}", param=price_data.name("currency"))
        unit_amount = price_data.integer("unit_amount", required=True, minimum=0) or 0
        tax_behavior = tax.tax_behavior(price_data)
        product_id = price_data.string("product")
        if product_id is not None:
            raise invalid(
                f"No such product: '{product_id}' (the Stripe test server knows product_data only)",
                param=price_data.name("product"),
                code="resource_missing",
            )
        recurring_params = price_data.hash("recurring")
        recurring = None
        if recurring_params is not None:
            recurring = {
                "interval": recurring_params.string("interval", required=True, choices=INTERVALS),
                "interval_count": recurring_params.integer("interval_count", minimum=1) or 1,
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
            recurring_params.finish()
        product_data = price_data.hash("product_data", required=True)
        assert product_data is not None
        product = fixture("product")
        product.update(
            id=new_id("prod_", 14),
            active=False,
            created=now,
            default_price=None,
            name=product_data.string("name", required=True, max_length=250),
            description=product_data.string("description", max_length=40000),
            images=product_data.strings("images") or [],
            metadata=product_data.metadata(),
            package_dimensions=None,
            updated=now,
            type="service",
        )
        product_data.finish()
        price_data.finish()
        params.finish()
        price = fixture("price")
        price.update(
            id=new_id("price_"),
            active=False,
            created=now,
            currency=currency,
            custom_unit_amount=None,
            product=product["id"],
            recurring=recurring,
            tax_behavior=tax_behavior,
            transform_quantity=None,
            type="one_time" if recurring is None else "recurring",
            unit_amount=unit_amount,
            unit_amount_decimal=str(unit_amount),
        )
        self._objects[product["id"]] = product
        self._objects[price["id"]] = price
        item = fixture("item")
        item.update(
            id=new_id("li_"),
            amount_discount=0,
            amount_subtotal=unit_amount * quantity,
            amount_tax=0,
            amount_total=unit_amount * quantity,
            currency=currency,
            description=product["name"],
            price=copy.deepcopy(price),
            quantity=quantity,
            adjustable_quantity=None,
        )
        return item

    @staticmethod
    def _intent_params(params: Params | None) -> dict[str, Any]:
        if params is None:
            return {"metadata": {}}
        data = {
            "description": params.string("description", max_length=1000),
            "metadata": params.metadata(),
            "receipt_email": params.string("receipt_email"),
            "statement_descriptor": params.string("statement_descriptor", max_length=22),
            "statement_descriptor_suffix": params.string(
                "statement_descriptor_suffix", max_length=22
            ),
        }
        params.finish()
        return data

    @staticmethod
    def _dynamic_types(currency: str) -> list[str]:
        """What dynamic payment methods offer: card everywhere, the euro methods for euros."""
        return ["card", "bancontact", "ideal"] if currency == "eur" else ["card"]

    def api_retrieve_session(self, session_id: str) -> dict[str, Any]:
        return self.retrieve("checkout.session", session_id)

    def api_session_line_items(self, session_id: str) -> dict[str, Any]:
        self.retrieve("checkout.session", session_id)
        return self._line_item_list(session_id)

    def api_expire_session(self, session_id: str, origin: Origin) -> dict[str, Any]:
        session = self.retrieve("checkout.session", session_id)
        if session["status"] != "open":
            raise invalid(
                'Only Checkout Sessions with a status in ["open"] can be expired.', param="session"
            )
        self._expire(session_id, origin)
        return self.view(session_id)

    def _expire(self, session_id: str, origin: Origin) -> Event:
        session = self._objects[session_id]
        session.update(status="expired", url=None)
        return self._emit("checkout.session.expired", session_id, origin=origin)

    # -- payments --------------------------------------------------------------------------------

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self._objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            raise ControlError(f"no Checkout Session {session_id!r}")
        return session

    def complete(
        self,
        session_id: str,
        *,
        payment: Literal["paid", "async"] = "paid",
        promotion_discount_cents: int = 0,
        method: str | None = None,
        email: str | None = None,
        name: str = "Jenny Rosen",
        country: str = "NL",
    ) -> list[Event]:
        """The customer finishes Checkout: `checkout.session.completed`.

        `paid`: the payment succeeded at once (payment_status "paid"). `async`: a delayed method
        (SEPA Direct Debit unless `method` says otherwise) is processing; payment_status stays
        "unpaid" until `async_succeed` or `async_fail`. A promotion code may take off
        `promotion_discount_cents` (the session must allow promotion codes); a total of 0 leaves
        no payment to make (payment_status "no_payment_required", no payment intent).
        `country` is her billing address's; with `automatic_tax` on, Stripe Tax charges its VAT.
        """
        with self.lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ControlError(f"{session_id} is {session['status']}, not open")
            subtotal = int(session["amount_subtotal"])
            # A discount given when the session was created (`discounts`), or a promotion code
            # she types on the payment page.
            discount = promotion_discount_cents or int(session["total_details"]["amount_discount"])
            if promotion_discount_cents and not session["allow_promotion_codes"]:
                raise ControlError(f"{session_id} does not allow promotion codes")
            if not 0 <= discount <= subtotal:
                raise ControlError(f"a discount of {discount} does not fit a total of {subtotal}")
            total = subtotal - discount
            self._spread_discount(session_id, discount)
            self.redeem(session["discounts"])
            session.update(
                amount_total=total,
                collected_information={
                    "business_name": None,
                    "individual_name": None,
                    "shipping_details": None,
                },
                customer_details={
                    "address": {
                        "city": None,
                        "country": country,
                        "line1": None,
                        "line2": None,
                        "postal_code": None,
                        "state": None,
                    },
                    "email": email or session["customer_email"] or "customer@example.com",
                    "name": name,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                    "business_name": None,
                    "individual_name": None,
                },
                status="complete",
                url=None,
            )
            session["total_details"]["amount_discount"] = discount
            if session["automatic_tax"]["enabled"]:
                try:
                    taxes = tax.apply(session, self._line_items[session_id], country)
                except StripeApiError as error:
                    raise ControlError(error.message) from error
                self._tax_breakdowns[session_id] = taxes
                total = int(session["amount_total"])
            if session["mode"] == "subscription":
                if method is None:
                    types = session["payment_method_types"]
                    method = "card" if "card" in types else types[0]
                [subscription] = self.start_subscription(session, method, paid=payment == "paid")
                invoice = str(session["invoice"])
                return [
                    self._emit("checkout.session.completed", session_id),
                    self._emit("customer.subscription.created", str(subscription["id"])),
                    *self._invoice_events(invoice),
                ]
            if total == 0:
                session["payment_status"] = "no_payment_required"
            else:
                if method is None:
                    types = session["payment_method_types"]
                    default = "card" if "card" in types else types[0]
                    method = "sepa_debit" if payment == "async" else default
                session["payment_intent"] = self._pay(session, method, paid=payment == "paid")
                session["payment_status"] = "paid" if payment == "paid" else "unpaid"
            return [self._emit("checkout.session.completed", session_id)]

    def _spread_discount(self, session_id: str, discount: int) -> None:
        self._spread_discount_over(self._line_items[session_id], discount)

    @staticmethod
    def _spread_discount_over(items: list[dict[str, Any]], discount: int) -> None:
        subtotal = sum(int(item["amount_subtotal"]) for item in items) or 1
        left = discount
        for index, item in enumerate(items):
            share = (
                left if index == len(items) - 1 else discount * item["amount_subtotal"] // subtotal
            )
            left -= share
            item.update(amount_discount=share, amount_total=item["amount_subtotal"] - share)

    def _pay(self, session: dict[str, Any], method: str, *, paid: bool) -> str:
        """Create the payment method, payment intent and charge of a completed session."""
        now = int(time.time())
        details = session["customer_details"]
        intent_data = self._intent_data[session["id"]]
        payment_method = fixture("payment_method")
        payment_method.pop("card")
        payment_method.update(
            id=new_id("pm_"),
            allow_redisplay="unspecified",
            billing_details={
                "address": details["address"],
                "email": details["email"],
                "name": details["name"],
                "phone": None,
                "tax_id": None,
            },
            created=now,
            metadata={},
            type=method,
        )
        payment_method[method] = fixture("payment_method")["card"] if method == "card" else {}
        intent_id, charge_id = new_id("pi_"), new_id("ch_")
        intent = fixture("payment_intent")
        intent.update(
            id=intent_id,
            amount=session["amount_total"],
            amount_capturable=0,
            amount_details={"tip": {}},
            amount_received=session["amount_total"] if paid else 0,
            automatic_payment_methods=None,
            canceled_at=None,
            capture_method="automatic_async",
            client_secret=f"{intent_id}_secret_{new_id('', 25)}",
            created=now,
            currency=session["currency"],
            description=intent_data.get("description"),
            last_payment_error=None,
            latest_charge=charge_id,
            metadata=dict(intent_data["metadata"]),
            next_action=None,
            payment_method=payment_method["id"],
            payment_method_configuration_details=session["payment_method_configuration_details"],
            payment_method_options={},
            payment_method_types=[method],
            processing=None,
            receipt_email=intent_data.get("receipt_email"),
            shipping=None,
            statement_descriptor=intent_data.get("statement_descriptor"),
            statement_descriptor_suffix=intent_data.get("statement_descriptor_suffix"),
            status="succeeded" if paid else "processing",
            transfer_data=None,
            managed_payments={"enabled": False},
        )
        charge = fixture("charge")
        charge.update(
            id=charge_id,
            amount=session["amount_total"],
            amount_captured=session["amount_total"],
            amount_refunded=0,
            balance_transaction=new_id("txn_"),
            billing_details=payment_method["billing_details"],
            calculated_statement_descriptor="KERN",
            captured=True,
            created=now,
            currency=session["currency"],
            description=intent_data.get("description"),
            disputed=False,
            dispute=None,
            metadata=dict(intent_data["metadata"]),
            outcome=self._outcome(approved=True),
            paid=paid,
            payment_intent=intent_id,
            payment_method=payment_method["id"],
            payment_method_details=_payment_method_details(method),
            receipt_email=intent_data.get("receipt_email"),
            receipt_url=f"https://pay.stripe.com/receipts/payment/{new_id('', 60)}",
            refunded=False,
            refunds={
                "data": [],
                "has_more": False,
                "object": "list",
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            shipping=None,
            source=None,
            statement_descriptor=intent_data.get("statement_descriptor"),
            statement_descriptor_suffix=intent_data.get("statement_descriptor_suffix"),
            status="succeeded" if paid else "pending",
            transfer_data=None,
        )
        self._objects[payment_method["id"]] = payment_method
        self._objects[intent_id] = intent
        self._objects[charge_id] = charge
        return intent_id

    @staticmethod
    def _outcome(*, approved: bool) -> dict[str, Any]:
        outcome: dict[str, Any] = fixture("charge")["outcome"]
        if approved:
            outcome.update(
                network_status="approved_by_network",
                seller_message="Payment complete.",
                type="authorized",
            )
        else:
            outcome.update(
                network_status="declined_by_network",
                reason="insufficient_funds",
                seller_message="The bank returned the decline code `insufficient_funds`.",
                type="issuer_declined",
            )
        return outcome

    def _processing(self, session_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        session = self._session(session_id)
        intent = self._objects.get(session["payment_intent"] or "")
        if session["status"] != "complete" or intent is None or intent["status"] != "processing":
            raise ControlError(f"{session_id} has no payment processing (complete it with async)")
        charge = self._objects[str(intent["latest_charge"])]
        return session, intent, charge

    def async_succeed(self, session_id: str) -> list[Event]:
        """The delayed payment arrives: `checkout.session.async_payment_succeeded`."""
        with self.lock:
            session, intent, charge = self._processing(session_id)
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(status="succeeded", paid=True)
            session["payment_status"] = "paid"
            return [self._emit("checkout.session.async_payment_succeeded", session_id)]

    def async_fail(self, session_id: str) -> list[Event]:
        """The delayed payment fails: `checkout.session.async_payment_failed`."""
        with self.lock:
            _, intent, charge = self._processing(session_id)
            message = "The customer's account has insufficient funds to cover this payment."
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "code": "insufficient_funds",
                    "doc_url": "https://docs.stripe.com/error-codes/insufficient-funds",
                    "message": message,
                    "payment_method": copy.deepcopy(self._objects[intent["payment_method"]]),
                    "type": "card_error",
                },
            )
            charge.update(
                status="failed",
                paid=False,
                failure_code="insufficient_funds",
                failure_message=message,
                outcome=self._outcome(approved=False),
            )
            return [self._emit("checkout.session.async_payment_failed", session_id)]

    def expire(self, session_id: str) -> list[Event]:
        """The session times out (or is expired): `checkout.session.expired`."""
        with self.lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ControlError(f"{session_id} is {session['status']}, not open")
            return [self._expire(session_id, CONTROL)]

    # -- refunds ---------------------------------------------------------------------------------

    def _charge_id(self, payment_intent_or_charge_id: str) -> str:
        obj = self._objects.get(payment_intent_or_charge_id)
        if obj is not None and obj["object"] == "payment_intent" and obj["latest_charge"]:
            return str(obj["latest_charge"])
        if obj is not None and obj["object"] == "charge":
            return payment_intent_or_charge_id
        kind = "payment_intent" if payment_intent_or_charge_id.startswith("pi_") else "charge"
        raise missing(kind, payment_intent_or_charge_id, param=kind)

    def _refund(
        self,
        charge_id: str,
        *,
        amount: int | None,
        reason: str | None,
        metadata: dict[str, str],
        settle: bool,
        origin: Origin,
    ) -> tuple[str, list[Event]]:
        charge = self._objects[charge_id]
        if charge["status"] != "succeeded":
            raise invalid(
                f"Charge {charge_id} cannot be refunded: its status is {charge['status']}.",
                param="charge",
            )
        dispute = self._objects.get(charge["dispute"] or "")
        if dispute is not None and dispute["status"] in OPEN_DISPUTE:
            raise invalid(
                f"Charge {charge_id} has been charged back; refunds are not possible.",
                param="charge",
                code="charge_disputed",
            )
        left = int(charge["amount_captured"]) - int(charge["amount_refunded"])
        if left == 0:
            raise invalid(
                f"Charge {charge_id} has already been refunded.",
                param="charge",
                code="charge_already_refunded",
            )
        amount = left if amount is None else amount
        if amount < 1:
            raise invalid("Refund amount must be positive.", param="amount")
        if amount > left:
            currency = charge["currency"]
            raise invalid(
                f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount "
                f"on charge ({money(left, currency)})",
                param="amount",
                code="amount_too_large",
            )
        method = charge["payment_method_details"]["type"]
        refund = fixture("refund")
        refund.update(
            id=new_id("re_"),
            amount=amount,
            balance_transaction=new_id("txn_"),
            charge=charge_id,
            created=int(time.time()),
            currency=charge["currency"],
            destination_details=(
                fixture("refund")["destination_details"]
                if method == "card"
                else {method: {}, "type": method}
            ),
            metadata=metadata,
            payment_intent=charge["payment_intent"],
            payment_method=charge["payment_method"],
            reason=reason,
            status="pending",
        )
        self._objects[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        events = [
            self._emit("refund.created", refund["id"], origin=origin),
            self._emit(
                "charge.refunded",
                charge_id,
                origin=origin,
                previous={
                    "amount_refunded": charge["amount_refunded"] - amount,
                    "refunded": False,
                },
            ),
        ]
        if settle:
            refund["status"] = "succeeded"
            events.append(
                self._emit("refund.updated", refund["id"], previous={"status": "pending"})
            )
        return refund["id"], events

    def refund(
        self,
        payment_intent_or_charge_id: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        settle: bool = True,
    ) -> list[Event]:
        """A refund from the Dashboard: `refund.created`, `charge.refunded`, then, settled,
        `refund.updated` (status "succeeded"). `settle=False` leaves it "pending"."""
        with self.lock:
            try:
                charge_id = self._charge_id(payment_intent_or_charge_id)
                _, events = self._refund(
                    charge_id,
                    amount=amount,
                    reason=reason,
                    metadata={},
                    settle=settle,
                    origin=CONTROL,
                )
            except StripeApiError as error:
                raise ControlError(error.message) from error
            return events

    def api_create_refund(self, params: Params, origin: Origin) -> dict[str, Any]:
        """POST /v1/refunds (charge or payment_intent, amount, reason, metadata)."""
        charge = params.string("charge")
        intent = params.string("payment_intent")
        if (charge is None) == (intent is None):
            raise invalid(
                "You must pass exactly one of charge or payment_intent.",
                param="charge",
                code="parameter_missing" if charge is None else "parameters_exclusive",
            )
        amount = params.integer("amount", minimum=1)
        reason = params.string(
            "reason", choices=["duplicate", "fraudulent", "requested_by_customer"]
        )
        metadata = params.metadata()
        params.finish(ignore=["expand"])
        if intent is not None:
            found = self._objects.get(intent)
            if found is None or found["object"] != "payment_intent":
                raise missing("payment_intent", intent, param="payment_intent")
            if not found["latest_charge"]:
                raise invalid(
                    f"PaymentIntent {intent} does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = str(found["latest_charge"])
        assert charge is not None
        self.retrieve("charge", charge)
        refund_id, _ = self._refund(
            charge, amount=amount, reason=reason, metadata=metadata, settle=True, origin=origin
        )
        return self.view(refund_id)

    def _refund_object(self, refund_id: str) -> dict[str, Any]:
        refund = self._objects.get(refund_id)
        if refund is None or refund["object"] != "refund":
            raise ControlError(f"no refund {refund_id!r}")
        return refund

    def settle_refund(self, refund_id: str) -> list[Event]:
        """A pending refund goes through: `refund.updated` (status "succeeded")."""
        with self.lock:
            refund = self._refund_object(refund_id)
            if refund["status"] != "pending":
                raise ControlError(f"{refund_id} is {refund['status']}, not pending")
            refund["status"] = "succeeded"
            return [self._emit("refund.updated", refund_id, previous={"status": "pending"})]

    def fail_refund(
        self, refund_id: str, *, reason: str = "expired_or_canceled_card"
    ) -> list[Event]:
        """The refund bounces: `refund.failed` and `refund.updated`; the charge gets its amount
        back (amount_refunded down by the refund, refunded false)."""
        with self.lock:
            refund = self._refund_object(refund_id)
            if refund["status"] not in {"pending", "succeeded"}:
                raise ControlError(f"{refund_id} is {refund['status']}, it cannot fail")
            previous = {"status": refund["status"]}
            refund.update(
                status="failed",
                failure_reason=reason,
                failure_balance_transaction=new_id("txn_"),
            )
            charge = self._objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            return [
                self._emit("refund.failed", refund_id, previous=previous),
                self._emit("refund.updated", refund_id, previous=previous),
            ]

    # -- disputes --------------------------------------------------------------------------------

    def dispute(
        self,
        payment_intent_or_charge_id: str,
        *,
        amount: int | None = None,
        reason: str = "fraudulent",
    ) -> list[Event]:
        """The customer's bank disputes the charge: `charge.dispute.created`."""
        with self.lock:
            try:
                charge_id = self._charge_id(payment_intent_or_charge_id)
            except StripeApiError as error:
                raise ControlError(error.message) from error
            charge = self._objects[charge_id]
            if charge["status"] != "succeeded":
                raise ControlError(f"{charge_id} is {charge['status']}; only paid charges dispute")
            if charge["dispute"] is not None:
                raise ControlError(f"{charge_id} is already disputed ({charge['dispute']})")
            now = int(time.time())
            method = charge["payment_method_details"]["type"]
            dispute = fixture("dispute")
            evidence = dict.fromkeys(dispute["evidence"])
            evidence["enhanced_evidence"] = {}
            dispute.update(
                id=new_id("dp_"),
                amount=charge["amount"] if amount is None else amount,
                balance_transactions=[],
                charge=charge_id,
                created=now,
                currency=charge["currency"],
                evidence=evidence,
                evidence_details={
                    "due_by": now + 7 * DAY,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                    "enhanced_eligibility": {},
                },
                is_charge_refundable=False,
                metadata={},
                payment_intent=charge["payment_intent"],
                payment_method_details=(
                    fixture("dispute")["payment_method_details"]
                    if method == "card"
                    else {"type": method}
                ),
                reason=reason,
                status="needs_response",
                enhanced_eligibility_types=[],
            )
            self._objects[dispute["id"]] = dispute
            charge.update(disputed=True, dispute=dispute["id"])
            return [self._emit("charge.dispute.created", dispute["id"])]

    def close_dispute(self, dispute_id: str, *, won: bool) -> list[Event]:
        """The bank decides: `charge.dispute.closed`, status "won" or "lost"."""
        with self.lock:
            dispute = self._objects.get(dispute_id)
            if dispute is None or dispute["object"] != "dispute":
                raise ControlError(f"no dispute {dispute_id!r}")
            if dispute["status"] not in OPEN_DISPUTE:
                raise ControlError(f"{dispute_id} is already closed ({dispute['status']})")
            dispute["status"] = "won" if won else "lost"
            return [self._emit("charge.dispute.closed", dispute_id)]
