"""FastAPI's bridge to OpenTelemetry stays off: Kern reports nothing about its visitors to a
tracing, metrics or log service, even on a host whose environment has one set up."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace


class _Recording(trace.TracerProvider):
    """A provider as a host's OpenTelemetry set-up would install one, counting the tracers
    asked of it."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(instrumenting_module_name)
        return trace.NoOpTracer()


def test_no_request_is_traced_where_a_tracer_is_configured(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = _Recording()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)

    assert client.get("/courses").status_code == 200
    assert client.get("/api/v1/courses").status_code == 200

    assert provider.asked == []
