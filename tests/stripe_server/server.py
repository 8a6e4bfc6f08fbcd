"""The Stripe test server: account state, an HTTP API on loopback, webhooks, fault switches."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx
import stripe
import uvicorn

from tests.stripe_server.app import build_app
from tests.stripe_server.records import Failure, RecordedRequest, StoredResponse
from tests.stripe_server.state import StripeState
from tests.stripe_server.webhooks import Delivery, Target, deliver, sign

TEST_API_KEY = "sk_test_kern_stripe_server"


class StripeServer(StripeState):
    """A Stripe API double on 127.0.0.1 that the real `stripe` SDK talks to over HTTP.

    Use as a context manager (or `start()`/`stop()`); `url` is the SDK's `base_addresses["api"]`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.app = build_app(self)
        self._generation = 0
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.idempotency: dict[tuple[str, str], StoredResponse] = {}
        self.failures: list[Failure] = []
        self._requests: list[RecordedRequest] = []
        self._deliveries: list[Delivery] = []
        self._set_defaults()

    def _set_defaults(self) -> None:
        # Where the /pay page delivers checkout.session.completed (both needed, else no delivery).
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        # Seconds every API call waits before it is answered.
        self.delay_seconds: float = 0.0
        # None: any test-mode secret key (sk_test_…) is accepted; else only this one.
        self.api_key: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Listen on a free port (or the one given) and answer from a background thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        self.base_url = self.url
        config = uvicorn.Config(
            self.app,
            loop="asyncio",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="stripe-test-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while True:
            if not self._thread.is_alive():
                raise RuntimeError("the Stripe test server stopped while starting")
            if server.started:
                try:
                    httpx.get(f"{self.url}/v1", timeout=1)
                    return self
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Stripe test server did not answer within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        self._generation += 1  # ends any delay in progress
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._uvicorn = self._thread = self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything: objects, events, requests, deliveries, idempotency keys, switches."""
        with self.lock:
            self.clear_state()
            self.idempotency.clear()
            self.failures.clear()
            self._requests.clear()
            self._deliveries.clear()
            self._set_defaults()
            self._generation += 1

    def client(self, api_key: str = TEST_API_KEY, **options: Any) -> stripe.StripeClient:
        """A real SDK client pointed at this server (keyword options go to StripeClient)."""
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **options)

    # -- faults ----------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, *, after_processing: bool = False) -> None:
        """The next `n` API calls answer a Stripe-shaped error with `status` (500: api_error).

        By default the call is not carried out (Stripe never saw it). `after_processing=True`:
        the call is carried out, and stored under its idempotency key, before the error is
        answered, as when a connection drops on the way back; a retry with the same key then
        gets the original result.
        """
        with self.lock:
            self.failures.extend(Failure(status, after_processing) for _ in range(n))

    async def pause(self) -> bool:
        """Wait `delay_seconds` before answering; `reset()` and `stop()` cut the wait short, and
        then False: the call was made before them (by a test that has ended, say)."""
        generation, seconds = self._generation, self.delay_seconds
        deadline = time.monotonic() + seconds
        while self._generation == generation and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))
        return self._generation == generation

    # -- records ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API call so far, oldest first (params as parsed: assert what Kern sent)."""
        with self.lock:
            return list(self._requests)

    def record_request(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery so far (`deliver()` and the /pay page), oldest first."""
        with self.lock:
            return list(self._deliveries)

    def _record_delivery(self, delivery: Delivery) -> None:
        with self.lock:
            self._deliveries.append(delivery)

    # -- webhooks --------------------------------------------------------------------------------

    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        """The `Stripe-Signature` header for a body: `t=<unix>,v1=<hex HMAC-SHA256>`."""
        return sign(payload, secret, timestamp)

    def deliver(
        self,
        event: Mapping[str, Any] | bytes,
        *,
        to: Target,
        secret: str,
        times: int = 1,
        concurrently: bool = False,
        timestamp: int | None = None,
    ) -> list[Any]:
        """Send an event as Stripe does: POST the JSON body with a `Stripe-Signature` header.

        `to` is a URL (POSTed with httpx; responses are httpx.Response) or a callable
        `(body, headers) -> response` (e.g. a FastAPI TestClient post). `times` copies are sent
        one after the other, or all at once from a thread pool with `concurrently=True`. Returns
        every response, in order. `timestamp` signs with another time (e.g. an old one).
        """
        return deliver(
            event,
            to=to,
            secret=secret,
            times=times,
            concurrently=concurrently,
            timestamp=timestamp,
            record=self._record_delivery,
        )

    def pay(self, session_id: str) -> None:
        """What the /pay page's Betalen does: complete (paid), then deliver the event to
        `webhook_url` if it and `webhook_secret` are set (a failed delivery is recorded only)."""
        events = self.complete(session_id)
        url, secret = self.webhook_url, self.webhook_secret
        if url and secret:
            # A failed delivery is in `deliveries`; Stripe would retry it later.
            with contextlib.suppress(httpx.HTTPError):
                self.deliver(events[0], to=url, secret=secret)
