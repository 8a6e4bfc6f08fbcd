"""The one place Kern talks to Stripe from: a configured client and the errors it can raise.

The SDK, with the HTTP libraries it brings (about 250 modules, some 25 MiB per worker), is
imported where it is first used rather than at start-up: most requests never talk to Stripe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from api.config import Settings
from api.errors import AppError
from api.i18n import gettext as _

if TYPE_CHECKING:
    import stripe

log = logging.getLogger("kern.payments")

# A learner waits on the checkout button and the success page while Kern asks Stripe, so a slow
# Stripe must fail fast with a message rather than hold her (and a worker thread) for the SDK's
# default 80 s: at most 3 s to connect and 6 s for the answer, so with the one retry below she
# reads the message after about 12.5 s when Stripe hangs and 0.5 s when it refuses connections
# (measured). Tests lower it to keep the "Stripe is slow" case quick.
CONNECT_TIMEOUT_SECONDS = 3.0
TIMEOUT_SECONDS = 6.0
# One retry, with the same idempotency key, covers a dropped connection; more would make her
# wait several timeouts before she sees the message.
MAX_NETWORK_RETRIES = 1

T = TypeVar("T")


class PaymentsUnavailable(AppError):
    """Stripe could not be reached or failed; nothing was charged or saved, try again."""

    status_code = 503
    code = "payments_unavailable"

    def __init__(self) -> None:
        super().__init__(
            _(
                "We could not reach our payment provider, so nothing was charged. "
                "Please try again in a few minutes."
            ),
            headers={"Retry-After": "60"},
        )


def client(settings: Settings) -> stripe.StripeClient:
    """A Stripe client for the configured key and API address (one per process and key)."""
    if settings.stripe_secret_key is None:
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    return _client(
        settings.stripe_secret_key.get_secret_value(), settings.stripe_api_base, TIMEOUT_SECONDS
    )


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    # The SDK's default HTTP client (requests, a dependency of the SDK), built once so its
    # per-thread connection pools are reused; only the timeout differs from the default.
    # (The SDK's httpx client would do too, but sends its body in a form httpx deprecates.)
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    http_client = stripe.RequestsClient(timeout=(min(CONNECT_TIMEOUT_SECONDS, timeout), timeout))
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=http_client,
    )


def call(what: str, request: Callable[[], T]) -> T:
    """Run one Stripe request; failing to reach Stripe, or an error on its side, becomes a 503."""
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    try:
        return request()
    except stripe.InvalidRequestError:
        # Kern asked for something Stripe refuses (or that does not exist): the caller decides.
        raise
    except stripe.AuthenticationError as error:
        log.error("Stripe refused the API key during %s: %s", what, error)
        raise PaymentsUnavailable from error
    except stripe.StripeError as error:
        log.warning("Stripe %s failed: %r", what, error)
        raise PaymentsUnavailable from error


def is_missing(error: stripe.StripeError) -> bool:
    """Whether Stripe answered that the object does not exist."""
    return error.http_status == 404 or error.code == "resource_missing"
