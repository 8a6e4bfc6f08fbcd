"""Billing for the Stripe test server: Checkout in subscription mode, subscriptions and their
invoices, coupons and promotion codes, and the control calls a test uses to move a plan on.

Shapes follow Stripe's fixtures (fixtures3_billing.json) and documentation:
- Checkout `mode=subscription` with recurring `price_data`: completing it creates a customer, a
  subscription and its first invoice (billing_reason `subscription_create`), paid, and emits
  `checkout.session.completed`, `customer.subscription.created`, `invoice.paid` and
  `invoice.payment_succeeded`.
- `next_instalment(sub)` is the next billing period (what a test clock's advance would do): a
  `subscription_cycle` invoice, paid (`invoice.paid`) or failed (`invoice.payment_failed`, the
  invoice stays `open` with a `hosted_invoice_url`, the subscription becomes `past_due`). A
  subscription set to `cancel_at_period_end` ends instead (`customer.subscription.deleted`).
- `pay_invoice(in)` is the customer paying an open invoice on its hosted page.
- Coupons (`percent_off` or `amount_off`, duration `once`/`forever`) and promotion codes
  (`promotion[coupon]`, `max_redemptions`, `expires_at`, `active`) apply through Checkout's
  `discounts[0][promotion_code]`.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tests.stripe_server.errors import ControlError, invalid, missing
from tests.stripe_server.fixtures import fixture, new_id
from tests.stripe_server.forms import Params
from tests.stripe_server.webhooks import Event

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.stripe_server.state import Origin

# A month, as the test server counts one billing period.
PERIOD_SECONDS = 30 * 24 * 60 * 60
CODE = re.compile(r"[A-Za-z0-9-]{1,500}")


def _list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


class Billing:
    """Subscriptions, invoices, coupons and promotion codes (mixed into StripeState, which
    provides what is declared here)."""

    lock: threading.RLock
    base_url: str
    _objects: dict[str, dict[str, Any]]
    _line_items: dict[str, list[dict[str, Any]]]
    _intent_data: dict[str, dict[str, Any]]
    _subscription_data: dict[str, dict[str, Any]]
    _billing: dict[str, dict[str, Any]]
    _invoice_payments: dict[str, list[dict[str, Any]]]

    view: Callable[[str], dict[str, Any]]
    _emit: Callable[..., Event]
    _pay: Callable[..., str]
    _outcome: Callable[..., dict[str, Any]]

    # -- coupons and promotion codes ------------------------------------------------------------

    def api_create_coupon(self, params: Params, origin: Origin) -> dict[str, Any]:
        """POST /v1/coupons."""
        percent_raw = params.string("percent_off")
        amount_off = params.integer("amount_off", minimum=1)
        currency = params.string("currency")
        duration = params.string("duration", choices=["once", "repeating", "forever"]) or "once"
        months = params.integer("duration_in_months", minimum=1)
        max_redemptions = params.integer("max_redemptions", minimum=1)
        redeem_by = params.integer("redeem_by")
        name = params.string("name", max_length=40)
        coupon_id = params.string("id") or new_id("", 8)
        metadata = params.metadata()
        params.finish(ignore=["expand"])
        if (percent_raw is None) == (amount_off is None):
            raise invalid(
                "You must pass exactly one of percent_off or amount_off.", param="percent_off"
            )
        percent: float | None = None
        if percent_raw is not None:
            try:
                percent = float(percent_raw)
            except ValueError as error:
                raise invalid(f"Invalid decimal: {percent_raw}", param="percent_off") from error
            if not 0 < percent <= 100:
                raise invalid("Percent off must be between 0 and 100.", param="percent_off")
        if amount_off is not None and currency is None:
            raise invalid(
                "You must specify currency when creating a coupon with amount_off.",
                param="currency",
            )
        if redeem_by is not None and redeem_by <= int(time.time()):
            raise invalid("Redeem by must be in the future.", param="redeem_by")
        if coupon_id in self._objects:
            raise invalid("Coupon already exists.", param="id", code="resource_already_exists")
        coupon = fixture("coupon")
        coupon.update(
            id=coupon_id,
            amount_off=amount_off,
            created=int(time.time()),
            currency=currency.lower() if currency else None,
            duration=duration,
            duration_in_months=months if duration == "repeating" else None,
            max_redemptions=max_redemptions,
            metadata=metadata,
            name=name,
            percent_off=percent,
            redeem_by=redeem_by,
            times_redeemed=0,
            valid=True,
        )
        self._objects[coupon_id] = coupon
        return self.view(coupon_id)

    def api_create_promotion_code(self, params: Params, origin: Origin) -> dict[str, Any]:
        """POST /v1/promotion_codes (`promotion[type]=coupon`, `promotion[coupon]`)."""
        promotion = params.hash("promotion", required=True)
        assert promotion is not None
        promotion.string("type", required=True, choices=["coupon"])
        coupon_id = promotion.string("coupon", required=True) or ""
        promotion.finish()
        code = params.string("code") or new_id("", 8).upper()
        active = params.boolean("active")
        expires_at = params.integer("expires_at")
        max_redemptions = params.integer("max_redemptions", minimum=1)
        metadata = params.metadata()
        params.finish(ignore=["expand"])
        coupon = self._objects.get(coupon_id)
        if coupon is None or coupon["object"] != "coupon":
            raise missing("coupon", coupon_id, param="promotion[coupon]")
        if not CODE.fullmatch(code):
            raise invalid(
                "Promotion codes may contain letters, digits and dashes only.", param="code"
            )
        for other in self._objects.values():
            if (
                other["object"] == "promotion_code"
                and other["active"]
                and other["code"].lower() == code.lower()
            ):
                raise invalid(
                    "An active promotion code with `code` already exists.",
                    param="code",
                    code="resource_already_exists",
                )
        if expires_at is not None and expires_at <= int(time.time()):
            raise invalid("Expires at must be in the future.", param="expires_at")
        promo = fixture("promotion_code")
        promo.update(
            id=new_id("promo_"),
            active=True if active is None else active,
            code=code,
            created=int(time.time()),
            expires_at=expires_at,
            max_redemptions=max_redemptions,
            metadata=metadata,
            promotion={"coupon": coupon_id, "type": "coupon"},
            times_redeemed=0,
        )
        self._objects[promo["id"]] = promo
        return self.view(promo["id"])

    def api_update_promotion_code(
        self, params: Params, promo_id: str, origin: Origin
    ) -> dict[str, Any]:
        """POST /v1/promotion_codes/{id} (`active`, `metadata`)."""
        promo = self._objects.get(promo_id)
        if promo is None or promo["object"] != "promotion_code":
            raise missing("promotion_code", promo_id)
        active = params.boolean("active")
        metadata = params.metadata() if "metadata" in params else None
        params.finish(ignore=["expand"])
        if active is not None:
            promo["active"] = active
        if metadata is not None:
            promo["metadata"] = metadata
        return self.view(promo_id)

    def discount_of(
        self, params: Params, subtotal: int, allow_promotion_codes: bool | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Checkout's `discounts`: the amount taken off the first payment, and the session's
        `discounts` field. One promotion code or coupon, as Stripe allows."""
        raw = params.array("discounts")
        if not raw:
            return 0, []
        if allow_promotion_codes:
            raise invalid(
                "You may only specify one of these parameters: allow_promotion_codes, discounts.",
                param="discounts",
            )
        if len(raw) > 1:
            raise invalid("You may only specify one discount.", param="discounts")
        entry = Params(raw[0], "discounts[0]")
        promo_id = entry.string("promotion_code")
        coupon_id = entry.string("coupon")
        entry.finish()
        if (promo_id is None) == (coupon_id is None):
            raise invalid("Pass exactly one of coupon or promotion_code.", param="discounts[0]")
        if promo_id is not None:
            promo = self._objects.get(promo_id)
            if promo is None or promo["object"] != "promotion_code":
                raise missing("promotion_code", promo_id, param="discounts[0][promotion_code]")
            now = int(time.time())
            if (
                not promo["active"]
                or (promo["expires_at"] is not None and promo["expires_at"] <= now)
                or (
                    promo["max_redemptions"] is not None
                    and promo["times_redeemed"] >= promo["max_redemptions"]
                )
            ):
                raise invalid(
                    f"This promotion code cannot be redeemed: {promo['code']}",
                    param="discounts[0][promotion_code]",
                    code="promotion_code_invalid",
                )
            coupon_id = str(promo["promotion"]["coupon"])
        coupon = self._objects.get(coupon_id or "")
        if coupon is None or coupon["object"] != "coupon":
            raise missing("coupon", str(coupon_id), param="discounts[0][coupon]")
        if not coupon["valid"]:
            raise invalid(f"Coupon {coupon_id} is no longer valid.", param="discounts[0]")
        return self.coupon_amount(coupon, subtotal), [
            {"coupon": coupon_id, "promotion_code": promo_id}
        ]

    @staticmethod
    def coupon_amount(coupon: dict[str, Any], amount: int) -> int:
        """What a coupon takes off an amount (percent rounded half up to the cent)."""
        if coupon["percent_off"] is not None:
            off = Decimal(amount) * Decimal(str(coupon["percent_off"])) / 100
            return min(amount, int(off.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        return min(amount, int(coupon["amount_off"] or 0))

    def redeem(self, discounts: list[dict[str, Any]]) -> None:
        """A completed checkout redeems its promotion code and coupon once."""
        for entry in discounts:
            if entry.get("promotion_code"):
                self._objects[entry["promotion_code"]]["times_redeemed"] += 1
            coupon = self._objects.get(entry.get("coupon") or "")
            if coupon is not None:
                coupon["times_redeemed"] += 1
                if (
                    coupon["max_redemptions"] is not None
                    and coupon["times_redeemed"] >= coupon["max_redemptions"]
                ):
                    coupon["valid"] = False

    # -- subscriptions ---------------------------------------------------------------------------

    @staticmethod
    def check_prices(mode: str, items: list[dict[str, Any]]) -> None:
        """Subscription mode needs a recurring price; payment mode takes one-time prices only."""
        recurring = [item for item in items if item["price"]["type"] == "recurring"]
        if mode == "subscription" and not recurring:
            raise invalid(
                "You must provide at least one recurring price in `subscription` mode when using "
                "prices.",
                param="line_items",
            )
        if mode == "payment" and recurring:
            raise invalid(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param="line_items",
            )

    @staticmethod
    def mode_hash(params: Params, key: str, mode: str) -> Params | None:
        """`payment_intent_data` (payment mode only) or `subscription_data` (subscription only)."""
        value = params.hash(key)
        allowed = "payment" if key == "payment_intent_data" else "subscription"
        if value is not None and mode != allowed:
            raise invalid(f"You can not pass `{key}` in `{mode}` mode.", param=key)
        return value

    def subscription_data(self, params: Params | None) -> dict[str, Any]:
        """Checkout's `subscription_data` (metadata, description)."""
        if params is None:
            return {"metadata": {}, "description": None}
        data = {
            "metadata": params.metadata(),
            "description": params.string("description", max_length=500),
        }
        params.finish()
        return data

    def start_subscription(
        self, session: dict[str, Any], method: str, *, paid: bool = True
    ) -> list[dict[str, Any]]:
        """A completed subscription-mode session: customer, subscription, first invoice paid."""
        now = int(time.time())
        session_id = str(session["id"])
        details = session["customer_details"]
        customer = fixture("customer")
        customer.update(
            id=new_id("cus_", 14),
            address=details["address"],
            created=now,
            currency=session["currency"],
            discount=None,
            email=details["email"],
            invoice_prefix=new_id("", 8).upper(),
            metadata={},
            name=details["name"],
            preferred_locales=[session["locale"]] if session["locale"] else [],
            shipping=None,
        )
        self._objects[customer["id"]] = customer
        data = self._subscription_data[session_id]
        items = self._line_items[session_id]
        recurring = [item for item in items if item["price"]["type"] == "recurring"]
        subscription_id = new_id("sub_")
        subscription_items = []
        for item in recurring:
            entry = fixture("subscription_item")
            entry.update(
                id=new_id("si_", 14),
                created=now,
                metadata={},
                price=copy.deepcopy(item["price"]),
                quantity=item["quantity"],
                subscription=subscription_id,
                current_period_start=now,
                current_period_end=now + PERIOD_SECONDS,
                billing_thresholds=None,
            )
            entry.pop("plan", None)
            subscription_items.append(entry)
        subscription = fixture("subscription")
        subscription.update(
            id=subscription_id,
            billing_cycle_anchor=now,
            billing_cycle_anchor_config=None,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": None},
            created=now,
            currency=session["currency"],
            customer=customer["id"],
            default_payment_method=None,
            description=data["description"],
            discounts=[],
            ended_at=None,
            items=_list(
                subscription_items, f"/v1/subscription_items?subscription={subscription_id}"
            ),
            latest_invoice=None,
            metadata=dict(data["metadata"]),
            pause_collection=None,
            pending_setup_intent=None,
            pending_update=None,
            schedule=None,
            start_date=now,
            status="active",
            test_clock=None,
            trial_end=None,
            trial_start=None,
        )
        self._objects[subscription_id] = subscription
        # The method that pays the next instalments: iDEAL sets up SEPA Direct Debit.
        self._billing[subscription_id] = {
            "discounts": copy.deepcopy(session["discounts"]),
            "method": "sepa_debit" if method in {"ideal", "bancontact"} else method,
            "period": 0,
        }
        lines = [
            (str(item["description"]), int(item["amount_subtotal"]), int(item["amount_discount"]))
            for item in items
        ]
        invoice_id = self._invoice(
            subscription, lines, reason="subscription_create", method=method, paid=paid
        )
        session.update(customer=customer["id"], subscription=subscription_id, invoice=invoice_id)
        session["payment_status"] = "paid" if paid else "unpaid"
        return [subscription]

    def _invoice(
        self,
        subscription: dict[str, Any],
        lines: list[tuple[str, int, int]],
        *,
        reason: str,
        method: str,
        paid: bool,
    ) -> str:
        """An invoice of the subscription, finalised and charged at once (paid or failed)."""
        now = int(time.time())
        customer = self._objects[subscription["customer"]]
        invoice_id = new_id("in_")
        subtotal = sum(amount for _, amount, _ in lines)
        discount = sum(off for _, _, off in lines)
        total = subtotal - discount
        period = self._billing[subscription["id"]]["period"]
        start = int(subscription["start_date"]) + period * PERIOD_SECONDS
        line_items = []
        for description, amount, off in lines:
            line = fixture("invoice")["lines"]["data"][0]
            line.update(
                id=new_id("il_"),
                amount=amount,
                currency=subscription["currency"],
                description=description,
                discount_amounts=[],
                discounts=[],
                invoice=invoice_id,
                metadata={},
                period={"start": start, "end": start + PERIOD_SECONDS},
                quantity=1,
                subscription=subscription["id"],
                parent={
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": subscription["id"],
                        "subscription_item": subscription["items"]["data"][0]["id"],
                    },
                    "type": "subscription_item_details",
                },
                pretax_credit_amounts=[],
                taxes=[],
                subtotal=amount,
            )
            if off:
                line["discount_amounts"] = [{"amount": off, "discount": new_id("di_")}]
            line_items.append(line)
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        invoice = fixture("invoice")
        invoice.update(
            id=invoice_id,
            account_country="NL",
            account_name="Kern",
            amount_due=total,
            amount_overpaid=0,
            amount_paid=0,
            amount_remaining=total,
            attempt_count=0,
            attempted=False,
            auto_advance=True,
            automatically_finalizes_at=None,
            billing_reason=reason,
            created=now,
            currency=subscription["currency"],
            customer=customer["id"],
            customer_address=customer["address"],
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_shipping=None,
            description=None,
            discounts=[],
            due_date=None,
            effective_at=now,
            from_invoice=None,
            hosted_invoice_url=f"{self.base_url}/invoice/{invoice_id}",
            invoice_pdf=f"{self.base_url}/invoice/{invoice_id}/pdf",
            last_finalization_error=None,
            lines=_list(line_items, f"/v1/invoices/{invoice_id}/lines"),
            metadata={},
            next_payment_attempt=None,
            number=number,
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
            period_start=start,
            period_end=start + PERIOD_SECONDS if reason != "subscription_create" else start,
            status="open",
            status_transitions={
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            subscription=subscription["id"],
            subtotal=subtotal,
            subtotal_excluding_tax=subtotal,
            test_clock=None,
            total=total,
            total_discount_amounts=[],
            total_excluding_tax=total,
            total_pretax_credit_amounts=[],
            total_taxes=[],
            webhooks_delivered_at=now,
        )
        self._objects[invoice_id] = invoice
        subscription["latest_invoice"] = invoice_id
        self._attempt(invoice, method, paid=paid)
        return invoice_id

    def _attempt(self, invoice: dict[str, Any], method: str, *, paid: bool) -> None:
        """Charge an invoice: a payment intent and a charge of the customer, paid or failed."""
        customer = self._objects[invoice["customer"]]
        holder = {
            "id": invoice["id"],
            "amount_total": invoice["amount_remaining"],
            "currency": invoice["currency"],
            "customer_details": {
                "address": customer["address"],
                "email": customer["email"],
                "name": customer["name"],
            },
            "payment_method_configuration_details": None,
        }
        self._intent_data[invoice["id"]] = {"metadata": {}}
        intent_id = self._pay(holder, method, paid=paid)
        del self._intent_data[invoice["id"]]
        intent = self._objects[intent_id]
        charge = self._objects[str(intent["latest_charge"])]
        intent["customer"] = charge["customer"] = customer["id"]
        invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
        self._record_payment(invoice, intent_id, paid=paid)
        if paid:
            invoice.update(
                amount_paid=invoice["amount_remaining"], amount_remaining=0, status="paid"
            )
            invoice["status_transitions"]["paid_at"] = int(time.time())
            invoice["next_payment_attempt"] = None
            return
        message = "The customer's account has insufficient funds to cover this payment."
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "code": "insufficient_funds",
                "message": message,
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
        invoice["next_payment_attempt"] = int(time.time()) + 3 * 24 * 60 * 60

    def _record_payment(self, invoice: dict[str, Any], intent_id: str, *, paid: bool) -> None:
        """The attempt as an `invoice_payment` (what `expand[]=payments` lists): the default
        payment is the latest attempt; a failed one stays `open`."""
        now = int(time.time())
        payments = self._invoice_payments.setdefault(invoice["id"], [])
        for earlier in payments:
            earlier["is_default"] = False
            if earlier["status"] == "open":
                earlier["status"] = "canceled"
                earlier["status_transitions"]["canceled_at"] = now
        payment = fixture("invoice_payment")
        payment.update(
            id=new_id("inpay_"),
            amount_paid=invoice["amount_remaining"] if paid else None,
            amount_requested=invoice["amount_remaining"],
            created=now,
            currency=invoice["currency"],
            invoice=invoice["id"],
            is_default=True,
            livemode=False,
            payment={"payment_intent": intent_id, "type": "payment_intent"},
            status="paid" if paid else "open",
            status_transitions={"canceled_at": None, "paid_at": now if paid else None},
        )
        payments.insert(0, payment)

    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = self._objects.get(subscription_id)
        if subscription is None or subscription["object"] != "subscription":
            raise ControlError(f"no subscription {subscription_id!r}")
        return subscription

    def _invoice_events(self, invoice_id: str) -> list[Event]:
        invoice = self._objects[invoice_id]
        if invoice["status"] == "paid":
            return [
                self._emit("invoice.paid", invoice_id),
                self._emit("invoice.payment_succeeded", invoice_id),
            ]
        return [self._emit("invoice.payment_failed", invoice_id)]

    def next_instalment(self, subscription_id: str, *, fail: bool = False) -> list[Event]:
        """The next billing period begins: an invoice paid (`invoice.paid`) or failed
        (`invoice.payment_failed`; the subscription is `past_due`). A subscription set to end
        at the period's end ends instead (`customer.subscription.deleted`)."""
        with self.lock:
            subscription = self._subscription(subscription_id)
            if subscription["status"] == "canceled":
                raise ControlError(f"{subscription_id} is canceled")
            billing = self._billing[subscription_id]
            billing["period"] += 1
            if subscription["cancel_at_period_end"]:
                return [self._end(subscription, reason="cancellation_requested")]
            lines = []
            coupon = None
            for entry in billing["discounts"]:
                found = self._objects.get(entry.get("coupon") or "")
                if found is not None and found["duration"] == "forever":
                    coupon = found
            for item in subscription["items"]["data"]:
                amount = int(item["price"]["unit_amount"]) * int(item["quantity"])
                off = self.coupon_amount(coupon, amount) if coupon else 0
                lines.append((str(item["price"]["product"]), amount, off))
                item.update(
                    current_period_start=item["current_period_end"],
                    current_period_end=item["current_period_end"] + PERIOD_SECONDS,
                )
            invoice_id = self._invoice(
                subscription,
                lines,
                reason="subscription_cycle",
                method=billing["method"],
                paid=not fail,
            )
            events = self._invoice_events(invoice_id)
            status = "past_due" if fail else "active"
            if subscription["status"] != status:
                previous = {"status": subscription["status"]}
                subscription["status"] = status
                events.append(
                    self._emit("customer.subscription.updated", subscription_id, previous=previous)
                )
            return events

    def pay_invoice(self, invoice_id: str) -> list[Event]:
        """The customer pays an open invoice on its hosted page: `invoice.paid`."""
        with self.lock:
            invoice = self._objects.get(invoice_id)
            if invoice is None or invoice["object"] != "invoice":
                raise ControlError(f"no invoice {invoice_id!r}")
            if invoice["status"] != "open":
                raise ControlError(f"{invoice_id} is {invoice['status']}, not open")
            self._attempt(invoice, "card", paid=True)
            events = self._invoice_events(invoice_id)
            subscription = self._objects[invoice["parent"]["subscription_details"]["subscription"]]
            still_open = any(
                other["object"] == "invoice"
                and other["status"] == "open"
                and other["customer"] == invoice["customer"]
                for other in self._objects.values()
            )
            if subscription["status"] == "past_due" and not still_open:
                subscription["status"] = "active"
                events.append(
                    self._emit(
                        "customer.subscription.updated",
                        subscription["id"],
                        previous={"status": "past_due"},
                    )
                )
            return events

    def _end(self, subscription: dict[str, Any], *, reason: str) -> Event:
        now = int(time.time())
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        subscription["cancellation_details"]["reason"] = reason
        return self._emit("customer.subscription.deleted", subscription["id"])

    def api_update_subscription(
        self, params: Params, subscription_id: str, origin: Origin
    ) -> dict[str, Any]:
        """POST /v1/subscriptions/{id} (`cancel_at_period_end`, `metadata`)."""
        subscription = self._objects.get(subscription_id)
        if subscription is None or subscription["object"] != "subscription":
            raise missing("subscription", subscription_id)
        at_end = params.boolean("cancel_at_period_end")
        metadata = params.metadata() if "metadata" in params else None
        params.finish(ignore=["expand"])
        if subscription["status"] == "canceled":
            raise invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
                param="cancel_at_period_end",
            )
        previous: dict[str, Any] = {}
        if at_end is not None and at_end != subscription["cancel_at_period_end"]:
            previous["cancel_at_period_end"] = subscription["cancel_at_period_end"]
            subscription["cancel_at_period_end"] = at_end
            end = subscription["items"]["data"][0]["current_period_end"]
            subscription["cancel_at"] = end if at_end else None
        if metadata is not None:
            previous["metadata"] = subscription["metadata"]
            subscription["metadata"] = metadata
        if previous:
            self._emit(
                "customer.subscription.updated", subscription_id, origin=origin, previous=previous
            )
        return self.view(subscription_id)

    def api_cancel_subscription(
        self, params: Params, subscription_id: str, origin: Origin
    ) -> dict[str, Any]:
        """DELETE /v1/subscriptions/{id}: cancel now."""
        subscription = self._objects.get(subscription_id)
        if subscription is None or subscription["object"] != "subscription":
            raise missing("subscription", subscription_id)
        params.finish(ignore=["expand", "invoice_now", "prorate", "cancellation_details"])
        if subscription["status"] == "canceled":
            raise invalid(
                f"No such subscription: '{subscription_id}' (it is canceled)",
                code="resource_missing",
            )
        self._end(subscription, reason="cancellation_requested")
        return self.view(subscription_id)

    def api_list(self, kind: str, params: Params, filters: list[str]) -> dict[str, Any]:
        """GET /v1/invoices, /v1/charges, /v1/subscriptions: newest first, filtered by the
        given fields."""
        wanted = {name: params.string(name) for name in filters}
        if kind == "subscription" and wanted.get("status") is None:
            # Stripe lists the subscriptions that have not been canceled, unless asked for all.
            wanted["status"] = "active"
        if wanted.get("status") == "all":
            wanted["status"] = None
        limit = params.integer("limit", minimum=1) or 10
        params.finish(ignore=["expand"])
        found = []
        for key, value in self._objects.items():
            if value["object"] != kind:
                continue
            if kind == "invoice" and wanted.get("subscription"):
                subscription = value["parent"]["subscription_details"]["subscription"]
                if subscription != wanted["subscription"]:
                    continue
            if any(
                name != "subscription" and expected is not None and value.get(name) != expected
                for name, expected in wanted.items()
            ):
                continue
            found.append(self.view(key))
        return _list(found[::-1][: min(limit, 100)], f"/v1/{kind}s")
