"""Security headers on every response, with a fresh CSP nonce per request."""

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Video embeds are loaded only after the learner presses play; these are the only frames allowed.
FRAME_SOURCES = "https://www.youtube-nocookie.com https://player.vimeo.com"


def content_security_policy(nonce: str) -> str:
    """No inline script except with this response's nonce; nothing from other sites by default."""
    return f"{_BEFORE_NONCE}{nonce}{_AFTER_NONCE}"


def _policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            # blob: is the stream hls.js hands the video element (Media Source Extensions).
            "media-src 'self' blob:",
            "font-src 'self'",
            "connect-src 'self'",
            f"frame-src {FRAME_SOURCES}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# The policy is the same but for the nonce: written out once, around where the nonce goes.
_BEFORE_NONCE, _AFTER_NONCE = _policy("\0").split("\0")

# The headers every response gets as they are, in ASGI's form. Set by replacing any of the same
# name and appending, instead of one by one through MutableHeaders, which goes through the whole
# list and encodes both strings again for each (docs/performance.md#response-headers-in-one-pass).
FIXED_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)
HSTS_HEADER = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_CSP = b"content-security-policy"


class SecurityHeadersMiddleware:
    """Add CSP, nosniff, referrer and permissions policies, and HSTS over https."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.fixed = (*FIXED_HEADERS, HSTS_HEADER) if hsts else FIXED_HEADERS
        self.names = frozenset(name for name, _value in self.fixed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        fixed, names = self.fixed, self.names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # ASGI header names are lower case; a response that set its own policy keeps
                # it (a served SVG's is stricter), the others are always these.
                headers = [item for item in message.get("headers", ()) if item[0] not in names]
                if not any(name == _CSP for name, _value in headers):
                    headers.append((_CSP, content_security_policy(nonce).encode()))
                headers.extend(fixed)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
