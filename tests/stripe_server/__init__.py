"""A Stripe API test double for Kern's tests: the real `stripe` SDK talks to it over HTTP.

    with StripeServer() as server:
        client = server.client()  # or stripe.StripeClient(key, base_addresses={"api": server.url})
        session = client.v1.checkout.sessions.create(params={...})
        (event,) = server.complete(session.id)
        server.deliver(event, to=webhook_url, secret=webhook_secret)

Pytest fixtures: tests/stripe_server/plugin.py (`stripe_server`).
"""

from tests.stripe_server.errors import ControlError
from tests.stripe_server.records import RecordedRequest
from tests.stripe_server.server import TEST_API_KEY, StripeServer
from tests.stripe_server.webhooks import Delivery, Event, sign

__all__ = [
    "TEST_API_KEY",
    "ControlError",
    "Delivery",
    "Event",
    "RecordedRequest",
    "StripeServer",
    "sign",
]
