"""Stripe's own example objects (fixtures3.json): the mould of every object the server makes."""

import copy
import json
import secrets
import string
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).with_name("fixtures3.json")
# The billing resources (subscriptions, invoices, coupons, promotion codes), from the same file.
BILLING_FIXTURES = Path(__file__).with_name("fixtures3_billing.json")
_ALPHABET = string.ascii_letters + string.digits


@cache
def _resources() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = json.loads(FIXTURES.read_text())["resources"]
    resources.update(json.loads(BILLING_FIXTURES.read_text())["resources"])
    return resources


def fixture(name: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's example object for a resource (`"charge"`, `"event"`, …)."""
    return copy.deepcopy(_resources()[name])


def new_id(prefix: str, length: int = 24) -> str:
    """An id in Stripe's form: `pi_3Pgafy…`, `cs_test_a1…` (prefix included)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
