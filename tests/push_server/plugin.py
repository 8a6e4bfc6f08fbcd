"""Pytest fixtures for the push test server: one per test session, reset for each test."""

from collections.abc import Iterator

import pytest

from tests.push_server.server import PushServer


@pytest.fixture(scope="session")
def push_server_session() -> Iterator[PushServer]:
    with PushServer() as server:
        yield server


@pytest.fixture
def push_server(push_server_session: PushServer) -> Iterator[PushServer]:
    push_server_session.reset()
    yield push_server_session
    push_server_session.reset()
