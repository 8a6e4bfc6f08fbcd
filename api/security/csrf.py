"""CSRF protection: a per-browser token in a cookie that every unsafe request must echo.

Forms send it as the `csrf_token` field, JavaScript as the `X-CSRF-Token` header. A cross-site
page cannot read the cookie, so it cannot send the matching value. Together with SameSite=Lax
cookies and the Origin check this is OWASP's double-submit pattern; in production the cookie has
the `__Host-` prefix, so a sibling subdomain cannot plant its own token.

A page never carries the token itself but the token masked afresh for that page (`masked`): a
random mask, then the token XOR the mask, as Django does. Pages are sent gzipped, and a secret
that stood in every page next to text a visitor can put there could be guessed from the
compressed length, a byte at a time (BREACH); masked, its bytes differ in every response.
`verify_csrf` unmasks what is sent, and still takes the token itself: a page kept offline from
before masking carries it, and so do clients that read the cookie (the benchmark). Accepting it
gives nothing away; BREACH is about what responses carry.
"""

import base64
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import AppError
from api.i18n import gettext as _

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Stripe signs its webhook; it cannot know a browser's token.
EXEMPT_PATHS = frozenset({"/stripe/webhook"})
# A mail program's one-click unsubscribe (RFC 8058) posts from its own servers, without the
# browser's cookie; the HMAC-signed token in the path is the proof, and it only switches that
# person's mail of one kind off or on again.
EXEMPT_PREFIXES = ("/unsubscribe/",)
TOKEN_BYTES = 32


class CsrfError(AppError):
    status_code = 403
    code = "csrf"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This form had expired, so nothing was saved. Go back, reload the page and "
                "send it again."
            )
        )


def cookie_name(production: bool) -> str:
    return "__Host-kern_csrf" if production else "kern_csrf"


def _xor(one: bytes, other: bytes) -> bytes:
    return (int.from_bytes(one, "big") ^ int.from_bytes(other, "big")).to_bytes(len(one), "big")


def masked(token: str) -> str:
    """The token as a page carries it: a fresh random mask followed by the token XOR that mask,
    in URL-safe base64 (115 characters for a 43-character token)."""
    raw = token.encode()
    mask = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(mask + _xor(raw, mask)).rstrip(b"=").decode()


def for_page(request: Request) -> str:
    """The browser's token, masked for this page ("" without one)."""
    token: str = getattr(request.state, "csrf_secret", "")
    return masked(token) if token else ""


# What a page's template writes where the token goes; `fill` puts the page's masked token in
# its place once the page is rendered. Parts of pages that are the same for everyone but hold a
# form (the log-out button, the language form, the question form) can then be rendered once
# and kept (web/fragments.py, docs/performance.md#forms-in-kept-parts). Random for each process
# and never sent, so no text a visitor or an instructor writes can contain it and have her
# token put there.
SLOT = f"csrf-slot-{secrets.token_hex(16)}"


def fill(html: str, request: Request) -> str:
    """The rendered page with this page's masked token in every slot (one mask per page)."""
    if SLOT not in html:
        return html
    return html.replace(SLOT, for_page(request))


def _unmasked(sent: str, length: int) -> bytes:
    """The token inside a masked value of a `length`-byte token; b"" if it is none."""
    try:
        data = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except ValueError:  # not base64, or not ASCII at all
        return b""
    if len(data) != 2 * length:
        return b""
    return _xor(data[length:], data[:length])


def matches(sent: str, token: str) -> bool:
    """Whether `sent` is the browser's token, masked or as it is (compared in constant time)."""
    expected = token.encode()
    given = sent.encode() if len(sent) == len(token) else _unmasked(sent, len(expected))
    return bool(expected) and secrets.compare_digest(given, expected)


class CsrfCookieMiddleware:
    """Give every browser a token, kept for this request as state.csrf_secret; pages carry it
    masked (`for_page`), never as it is."""

    def __init__(self, app: ASGIApp, *, production: bool, secure: bool) -> None:
        self.app = app
        self.name = cookie_name(production)
        self.secure = secure or production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = cookie_parser(Headers(scope=scope).get("cookie", "")).get(self.name, "")
        token = existing if 20 <= len(existing) <= 100 else secrets.token_urlsafe(TOKEN_BYTES)
        scope.setdefault("state", {})["csrf_secret"] = token
        scope["state"]["csrf_cookie_token"] = existing

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and token != existing:
                cookie: SimpleCookie = SimpleCookie()
                cookie[self.name] = token
                cookie[self.name]["path"] = "/"
                cookie[self.name]["httponly"] = True
                cookie[self.name]["samesite"] = "Lax"
                if self.secure:
                    cookie[self.name]["secure"] = True
                MutableHeaders(scope=message).append("set-cookie", cookie.output(header="").strip())
            await send(message)

        await self.app(scope, receive, send_with_cookie)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """A URL's origin as (scheme, host, port), the default port filled in; None without one."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from Kern's own page: scheme, host and port
    of BASE_URL (a page on another port or over plain http is another origin)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    given = origin_of(origin)  # "null" (a sandboxed or privacy-sensitive context) is refused
    settings = request.app.state.settings
    if given is not None and given == origin_of(settings.base_url):
        return True
    # `make run` on 0.0.0.0 is opened from a phone by the machine's own address, which BASE_URL
    # does not name. Without a proxy in between the URL the browser used is the request's own,
    # so development also accepts that origin, compared just as strictly.
    development = settings.app_env == "development"
    return development and given is not None and given == origin_of(str(request.base_url))


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request that does not carry the browser's token (app-wide dependency)."""
    path = request.url.path
    if request.method in SAFE_METHODS or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
        return
    expected = getattr(request.state, "csrf_cookie_token", "")
    sent = request.headers.get(HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # The form is parsed once and cached on the request, so the route reads it again free.
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else ""
    if not expected or not matches(sent, expected):
        raise CsrfError
    if not _same_origin(request):
        raise CsrfError
