"""The HTTP side: Stripe's v1 API (auth, idempotency, errors, expand) and a hosted payment page."""

import base64
import binascii
import copy
import html
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.stripe_server import forms
from tests.stripe_server.errors import ControlError, StripeApiError, invalid
from tests.stripe_server.fixtures import new_id
from tests.stripe_server.forms import Params
from tests.stripe_server.records import RecordedRequest, StoredResponse
from tests.stripe_server.state import PLACEHOLDER, Origin, StripeState, money

if TYPE_CHECKING:
    from tests.stripe_server.server import StripeServer

Handler = Callable[[StripeState, Params, str, Origin], dict[str, Any]]


def _retrieve(kind: str) -> Handler:
    def handler(
        state: StripeState, params: Params, object_id: str, origin: Origin
    ) -> dict[str, Any]:
        params.finish(ignore=["expand"])
        return state.retrieve(kind, object_id)

    return handler


def _with_params_checked(call: Callable[[StripeState, str, Origin], dict[str, Any]]) -> Handler:
    def handler(
        state: StripeState, params: Params, object_id: str, origin: Origin
    ) -> dict[str, Any]:
        params.finish(ignore=["expand"])
        return call(state, object_id, origin)

    return handler


def _route(template: str) -> re.Pattern[str]:
    return re.compile(re.escape(template).replace(r"\{id\}", r"(?P<id>[^/]+)"))


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (
        "POST",
        _route("/v1/checkout/sessions"),
        lambda state, params, _, origin: state.api_create_session(params, origin),
    ),
    ("GET", _route("/v1/checkout/sessions/{id}"), _retrieve("checkout.session")),
    (
        "GET",
        _route("/v1/checkout/sessions/{id}/line_items"),
        _with_params_checked(lambda state, object_id, _: state.api_session_line_items(object_id)),
    ),
    (
        "POST",
        _route("/v1/checkout/sessions/{id}/expire"),
        _with_params_checked(
            lambda state, object_id, origin: state.api_expire_session(object_id, origin)
        ),
    ),
    ("GET", _route("/v1/payment_intents/{id}"), _retrieve("payment_intent")),
    ("GET", _route("/v1/charges/{id}"), _retrieve("charge")),
    (
        "POST",
        _route("/v1/refunds"),
        lambda state, params, _, origin: state.api_create_refund(params, origin),
    ),
    ("GET", _route("/v1/refunds/{id}"), _retrieve("refund")),
    ("GET", _route("/v1/disputes/{id}"), _retrieve("dispute")),
    ("GET", _route("/v1/events/{id}"), _retrieve("event")),
    # Billing (tests/stripe_server/subscriptions.py).
    (
        "POST",
        _route("/v1/coupons"),
        lambda state, params, _, origin: state.api_create_coupon(params, origin),
    ),
    ("GET", _route("/v1/coupons/{id}"), _retrieve("coupon")),
    (
        "POST",
        _route("/v1/promotion_codes"),
        lambda state, params, _, origin: state.api_create_promotion_code(params, origin),
    ),
    ("GET", _route("/v1/promotion_codes/{id}"), _retrieve("promotion_code")),
    (
        "POST",
        _route("/v1/promotion_codes/{id}"),
        lambda state, params, object_id, origin: state.api_update_promotion_code(
            params, object_id, origin
        ),
    ),
    ("GET", _route("/v1/customers/{id}"), _retrieve("customer")),
    (
        "GET",
        _route("/v1/subscriptions"),
        lambda state, params, _, origin: state.api_list(
            "subscription", params, ["customer", "status"]
        ),
    ),
    ("GET", _route("/v1/subscriptions/{id}"), _retrieve("subscription")),
    (
        "POST",
        _route("/v1/subscriptions/{id}"),
        lambda state, params, object_id, origin: state.api_update_subscription(
            params, object_id, origin
        ),
    ),
    (
        "DELETE",
        _route("/v1/subscriptions/{id}"),
        lambda state, params, object_id, origin: state.api_cancel_subscription(
            params, object_id, origin
        ),
    ),
    (
        "GET",
        _route("/v1/invoices"),
        lambda state, params, _, origin: state.api_list(
            "invoice", params, ["subscription", "customer", "status"]
        ),
    ),
    ("GET", _route("/v1/invoices/{id}"), _retrieve("invoice")),
    (
        "GET",
        _route("/v1/charges"),
        lambda state, params, _, origin: state.api_list("charge", params, ["customer"]),
    ),
]

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def _api_key(authorization: str | None) -> str | None:
    """The key from `Bearer <key>` (the SDK's way) or HTTP Basic with the key as user name."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials).decode().partition(":")[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _authenticate(server: "StripeServer", key: str | None) -> str:
    if key is None:
        raise StripeApiError(401, _NO_KEY)
    shown = f"{key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}"
    if not key.startswith("sk_test_"):
        raise StripeApiError(
            401, f"Invalid API Key provided: {shown} (the Stripe test server takes sk_test_ keys)"
        )
    if server.api_key is not None and key != server.api_key:
        raise StripeApiError(401, f"Invalid API Key provided: {shown}")
    return key


def _fault(status: int) -> StripeApiError:
    if status >= 500:
        return StripeApiError(
            status,
            "An unknown error occurred while processing your request (simulated by the Stripe "
            "test server).",
            type="api_error",
        )
    if status == 429:
        return StripeApiError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
    if status == 409:
        return StripeApiError(
            409,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it.",
            code="lock_timeout",
        )
    if status == 401:
        return StripeApiError(401, "Invalid API Key provided (simulated by the test server).")
    return StripeApiError(status, "Simulated error from the Stripe test server.")


def _dispatch(
    server: "StripeServer", method: str, path: str, params: dict[str, Any], origin: Origin
) -> dict[str, Any]:
    for verb, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match is None or verb != method:
            continue
        reader = Params(copy.deepcopy(params))
        expand = reader.strings("expand") or []
        result = handler(server, reader, match.groupdict().get("id", ""), origin)
        return server.expand(result, expand)
    raise StripeApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
    )


def _idempotency_error(message: str) -> StripeApiError:
    return StripeApiError(400, message, type="idempotency_error")


def _perform(
    server: "StripeServer",
    *,
    method: str,
    path: str,
    params: dict[str, Any],
    api_key: str,
    idempotency_key: str | None,
    request_id: str,
) -> tuple[dict[str, Any], str | None]:
    """The response body, and the id of the original request when it is a replay."""
    with server.lock:
        if idempotency_key is not None:
            if len(idempotency_key) > 255:
                raise invalid(
                    "Idempotency keys can be at most 255 characters long.",
                    param="Idempotency-Key",
                )
            stored = server.idempotency.get((api_key, idempotency_key))
            if stored is not None:
                if (stored.method, stored.path) != (method, path):
                    raise _idempotency_error(
                        "Keys for idempotent requests can only be used for the same endpoint "
                        f"they were first used for ('{stored.method} {stored.path}' vs "
                        f"'{method} {path}'). Try using a key other than '{idempotency_key}' if "
                        "you meant to execute a different request."
                    )
                if stored.params != params:
                    raise _idempotency_error(
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request."
                    )
                return copy.deepcopy(stored.body), stored.request_id
        body = _dispatch(server, method, path, params, Origin(request_id, idempotency_key))
        if idempotency_key is not None:
            server.idempotency[(api_key, idempotency_key)] = StoredResponse(
                method, path, copy.deepcopy(params), 200, copy.deepcopy(body), request_id
            )
        return body, None


def handle(
    server: "StripeServer",
    *,
    method: str,
    path: str,
    query: str,
    body: str,
    headers: Mapping[str, str],
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Answer one API call: status, JSON body and headers, the way Stripe would."""
    request_id = new_id("req_", 14)
    idempotency_key = headers.get("idempotency-key") if method == "POST" else None
    api_key = _api_key(headers.get("authorization"))
    params: dict[str, Any] = {}
    status, original = 200, None
    response_headers = {"Request-Id": request_id, "Stripe-Version": server.api_version}
    try:
        params = forms.parse(query)
        if body:
            params.update(forms.parse(body))
        with server.lock:
            failure = server.failures.pop(0) if server.failures else None
        if failure is not None and not failure.after_processing:
            raise _fault(failure.status)
        key = _authenticate(server, api_key)
        payload, original = _perform(
            server,
            method=method,
            path=path,
            params=params,
            api_key=key,
            idempotency_key=idempotency_key,
            request_id=request_id,
        )
        if failure is not None:
            raise _fault(failure.status)
    except StripeApiError as error:
        status, payload = error.status, error.body(request_id)
    if headers.get("stripe-version"):
        response_headers["Stripe-Version"] = headers["stripe-version"]
    if idempotency_key is not None:
        response_headers["Idempotency-Key"] = idempotency_key
    if original is not None and status == 200:
        response_headers["Idempotent-Replayed"] = "true"
        response_headers["Original-Request"] = original
    server.record_request(
        RecordedRequest(
            method=method,
            path=path,
            params=params,
            idempotency_key=idempotency_key,
            api_key=api_key,
            stripe_version=headers.get("stripe-version"),
            status=status,
            request_id=request_id,
            replayed=original is not None and status == 200,
        )
    )
    return status, payload, response_headers


# -- the hosted payment page ---------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>{title} – Stripe-testserver</title>
</head>
<body>
<main>
<h1>{title}</h1>
{content}
</main>
</body>
</html>
"""


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), content=content), status)


def _checkout_page(session: dict[str, Any], items: list[dict[str, Any]]) -> HTMLResponse:
    currency = str(session["currency"])
    rows = "\n".join(
        f"<li>{html.escape(str(item['description']))} × {item['quantity']}: "
        f"{html.escape(money(int(item['amount_subtotal']), currency))}</li>"
        for item in items
    )
    total = int(session["amount_total"])
    action = f"/pay/{html.escape(str(session['id']))}"
    status = str(session["status"])
    if status == "open":
        form = (
            f'<form method="post" action="{action}">\n'
            '<button type="submit" name="action" value="pay">Betalen</button>\n'
            '<button type="submit" name="action" value="cancel">Annuleren</button>\n'
            "</form>"
        )
    else:
        form = f'<p id="status">Deze betaalsessie is {html.escape(status)}.</p>'
    content = (
        f"<ul>\n{rows}\n</ul>\n"
        f'<p>Totaal: <strong id="amount" data-amount="{total}" data-currency="{currency}">'
        f"{html.escape(money(total, currency))}</strong></p>\n{form}"
    )
    return _page("Betalen", content)


def _after_payment(session: dict[str, Any]) -> Response:
    """Back to the shop: success_url with the placeholder filled in, as Stripe redirects."""
    success_url = session["success_url"]
    if success_url is None:
        return _page("Betaald", "<p>De betaling is gelukt.</p>")
    return RedirectResponse(success_url.replace(PLACEHOLDER, str(session["id"])), 303)


def build_app(server: "StripeServer") -> Starlette:
    async def api(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        if not await server.pause():
            # Its caller gave up long ago (a timeout); carried out now, it would make objects
            # and records in the next test's account.
            return Response(status_code=503)
        status, payload, headers = handle(
            server,
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=body,
            headers=request.headers,
        )
        return Response(
            json.dumps(payload, indent=2) + "\n",
            status,
            headers=headers,
            media_type="application/json",
        )

    async def pay_page(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            session = server.get(session_id)
        except ControlError:
            session = {}
        if session.get("object") != "checkout.session":
            return _page("Niet gevonden", "<p>Deze betaalsessie bestaat niet.</p>", 404)
        if request.method == "GET" or session["status"] != "open":
            return _checkout_page(session, server.line_items(session_id))
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("action") == "pay":
            await run_in_threadpool(server.pay, session_id)
            return _after_payment(session)
        if session["cancel_url"] is None:
            return _page("Geannuleerd", "<p>De betaling is geannuleerd.</p>")
        return RedirectResponse(session["cancel_url"], 303)

    return Starlette(
        routes=[
            Route("/v1", api, methods=["GET", "POST", "DELETE"]),
            Route("/v1/{path:path}", api, methods=["GET", "POST", "DELETE"]),
            Route("/pay/{session_id}", pay_page, methods=["GET", "POST"]),
        ]
    )
