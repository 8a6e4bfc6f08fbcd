"""Pytest fixtures for the Stripe test server (register: `pytest_plugins = [...plugin]`).

`stripe_server_session` starts one server per test session (uvicorn on 127.0.0.1, a free port,
a background thread); `stripe_server` hands it to a test after `reset()`, so no test sees
another's objects, events, keys or switches.
"""

from collections.abc import Iterator

import pytest

from tests.stripe_server.server import StripeServer


@pytest.fixture(scope="session")
def stripe_server_session() -> Iterator[StripeServer]:
    with StripeServer() as server:
        yield server


@pytest.fixture
def stripe_server(stripe_server_session: StripeServer) -> Iterator[StripeServer]:
    stripe_server_session.reset()
    yield stripe_server_session
    stripe_server_session.reset()  # also ends a delay a test left behind
