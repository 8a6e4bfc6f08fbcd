"""The shop of the payment tests, for the instructor's mail about a purchase."""

from tests.payments.conftest import shop, stripe_settings

__all__ = ["shop", "stripe_settings"]
