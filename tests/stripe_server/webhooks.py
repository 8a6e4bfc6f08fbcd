"""Events as Stripe sends them to a webhook endpoint, signed the way stripe.Webhook verifies."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

# What Stripe's webhook sender puts on each delivery besides the body and the signature.
DELIVERY_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "Accept": "*/*; q=0.5, application/xml",
    "Cache-Control": "no-cache",
}

Target = Callable[[bytes, dict[str, str]], Any] | str


class Event(dict[str, Any]):
    """A Stripe `event` object (a plain dict in the API's JSON shape), with shortcuts."""

    @property
    def id(self) -> str:
        return str(self["id"])

    @property
    def type(self) -> str:
        return str(self["type"])

    @property
    def object(self) -> dict[str, Any]:
        """`data.object`: the object as it was when the event happened."""
        data: dict[str, Any] = self["data"]["object"]
        return data

    @property
    def payload(self) -> bytes:
        """The body Stripe POSTs: the event as pretty-printed JSON."""
        return json.dumps(self, indent=2).encode()


@dataclass(frozen=True)
class Delivery:
    """One POST of an event to a webhook endpoint, and how it was answered."""

    event_id: str | None
    event_type: str | None
    target: str  # the URL, or "callable"
    status_code: int | None  # None when the target gave no response (error or no status)
    error: str | None = None


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header for a body: `t=<unix time>,v1=<HMAC-SHA256 hex>`."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def _payload(event: Mapping[str, Any] | bytes) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, Event):
        return event.payload
    return json.dumps(dict(event), indent=2).encode()


def deliver(
    event: Mapping[str, Any] | bytes,
    *,
    to: Target,
    secret: str,
    times: int = 1,
    concurrently: bool = False,
    timestamp: int | None = None,
    record: Callable[[Delivery], None] | None = None,
) -> list[Any]:
    """POST an event `times` times to a URL or hand it to a callable; the responses, in order.

    Concurrent copies wait for each other at a barrier, so they really arrive at the same time.
    """
    if times < 1:
        raise ValueError("times must be at least 1")
    body = _payload(event)
    event_id = event_type = None
    if not isinstance(event, bytes):
        event_id, event_type = event.get("id"), event.get("type")
    barrier = threading.Barrier(times) if concurrently else None

    def once() -> Any:
        headers = {**DELIVERY_HEADERS, "Stripe-Signature": sign(body, secret, timestamp)}
        if barrier is not None:
            barrier.wait(timeout=30)
        target = to if isinstance(to, str) else "callable"
        try:
            if isinstance(to, str):
                response: Any = httpx.post(to, content=body, headers=headers, timeout=30)
            else:
                response = to(body, headers)
        except Exception as error:
            if record is not None:
                record(Delivery(event_id, event_type, target, None, repr(error)))
            raise
        if record is not None:
            status = getattr(response, "status_code", None)
            record(
                Delivery(event_id, event_type, target, status if isinstance(status, int) else None)
            )
        return response

    if not concurrently:
        return [once() for _ in range(times)]
    with ThreadPoolExecutor(max_workers=times) as pool:
        futures = [pool.submit(once) for _ in range(times)]
        return [future.result() for future in futures]
