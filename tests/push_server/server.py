"""The push service: subscriptions it made, the pushes it took (decrypted), fault switches.

It answers an application server as RFC 8030 says (§5): POST to the subscription's address
with TTL, an aes128gcm body (RFC 8291) and a VAPID Authorization header (RFC 8292), answered 201
with a Location; 404 for an address it never made, 410 for one that is gone. A test can make it
answer a status of its choosing for a subscription, once or every time.
"""

import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.push_server.crypto import Receiver, VapidRefused, verify_vapid

URGENCIES = ("very-low", "low", "normal", "high")


@dataclass(frozen=True)
class Push:
    """One push the service accepted, as the browser would read it."""

    subscription: str  # the token at the end of the endpoint
    ttl: int
    urgency: str
    plaintext: bytes
    claims: dict[str, Any]
    public_key: str  # the VAPID `k`

    @property
    def payload(self) -> Any:
        return json.loads(self.plaintext)


@dataclass
class Subscription:
    token: str
    endpoint: str
    receiver: Receiver = field(default_factory=Receiver)
    # The applicationServerKey the browser subscribed with: pushes signed by another key are
    # refused, as real push services do (None: any key).
    server_key: str | None = None
    gone: bool = False
    # Statuses to answer instead of accepting, first one first; `always` repeats the last.
    answers: list[int] = field(default_factory=list)
    always: int | None = None

    def as_json(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page in a browser."""
        keys = {"p256dh": self.receiver.p256dh, "auth": self.receiver.auth}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}


class PushServer:
    """A push service on 127.0.0.1 (a free port), answering from a background thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.lock = threading.Lock()
        self.subscriptions: dict[str, Subscription] = {}
        self._pushes: list[Push] = []
        self.attempts = 0  # every POST, accepted or not
        self.app = Starlette(routes=[Route("/push/{token}", self._receive, methods=["POST"])])
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- what a test does ------------------------------------------------------------------------

    def subscribe(self, server_key: str | None = None) -> Subscription:
        """A new subscription, as a browser gets from pushManager.subscribe() (with
        `server_key` as its applicationServerKey)."""
        token = secrets.token_urlsafe(16)
        subscription = Subscription(
            token=token, endpoint=f"{self.url}/push/{token}", server_key=server_key
        )
        with self.lock:
            self.subscriptions[token] = subscription
        return subscription

    def answer(self, subscription: Subscription, status: int, *, times: int = 1) -> None:
        """Answer the next `times` pushes to this subscription with `status` (0: for good)."""
        with self.lock:
            if times == 0:
                subscription.always = status
            else:
                subscription.answers.extend([status] * times)

    def pushes(self, subscription: Subscription | None = None) -> list[Push]:
        """The pushes accepted so far (to one subscription), oldest first."""
        with self.lock:
            return [
                push
                for push in self._pushes
                if subscription is None or push.subscription == subscription.token
            ]

    def reset(self) -> None:
        with self.lock:
            self.subscriptions.clear()
            self._pushes.clear()
            self.attempts = 0

    # -- the service -----------------------------------------------------------------------------

    async def _receive(self, request: Request) -> Response:
        token = request.path_params["token"]
        body = await request.body()
        with self.lock:
            self.attempts += 1
            subscription = self.subscriptions.get(token)
            if subscription is None:
                return Response(status_code=404)
            if subscription.gone:
                return Response(status_code=410)
            forced = subscription.answers.pop(0) if subscription.answers else subscription.always
            subscription.gone = forced == 410
        if forced is not None:
            return Response(status_code=forced)
        return self._accept(request, subscription, body)

    def _accept(self, request: Request, subscription: Subscription, body: bytes) -> Response:
        headers = request.headers
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            return Response("TTL is required (RFC 8030 §5.2)", status_code=400)
        urgency = headers.get("urgency", "normal")
        if urgency not in URGENCIES:
            return Response("unknown Urgency (RFC 8030 §5.3)", status_code=400)
        if headers.get("content-encoding") != "aes128gcm":
            return Response("only aes128gcm (RFC 8291 §4)", status_code=415)
        try:
            claims, key = verify_vapid(headers.get("authorization", ""), audience=self.url)
            if subscription.server_key not in (None, key):
                raise VapidRefused("k is not the key this subscription was made with")
            plaintext = subscription.receiver.decrypt(body)
        except VapidRefused as refused:
            return Response(str(refused), status_code=refused.status)
        except Exception as error:  # anything http_ece raises: it cannot be decrypted
            return Response(f"cannot decrypt: {error}", status_code=400)
        push = Push(subscription.token, int(ttl), urgency, plaintext, claims, key)
        with self.lock:
            self._pushes.append(push)
            number = len(self._pushes)
        return Response(status_code=201, headers={"Location": f"{self.url}/message/{number}"})

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", access_log=False)
        server = self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="push-test-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the push test server did not start")
            time.sleep(0.01)
        httpx.post(f"{self.url}/push/none", timeout=2)  # answers 404 once it listens
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._uvicorn = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
