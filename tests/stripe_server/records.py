"""What the server remembers about API calls: the log, stored idempotent responses, faults."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One call of the HTTP API as the server received and answered it."""

    method: str
    path: str
    params: dict[str, Any]  # nested, as parsed from the query string and form body
    idempotency_key: str | None
    api_key: str | None
    stripe_version: str | None
    status: int
    request_id: str
    replayed: bool = False  # answered from the idempotency store


@dataclass(frozen=True)
class Failure:
    status: int
    after_processing: bool


@dataclass
class StoredResponse:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    request_id: str
