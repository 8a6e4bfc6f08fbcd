"""Security headers on every response, with a fresh CSP nonce per request."""

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Video embeds are loaded only after the learner presses play; these are the only frames allowed.
FRAME_SOURCES = "https://www.youtube-nocookie.com https://player.vimeo.com"


def content_security_policy(nonce: str) -> str:
    """No inline script except with this response's nonce; nothing from other sites by default."""
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


class SecurityHeadersMiddleware:
    """Add CSP, nosniff, referrer and permissions policies, and HSTS over https."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", content_security_policy(nonce))
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "same-origin"
                headers["x-frame-options"] = "DENY"
                headers["cross-origin-opener-policy"] = "same-origin"
                headers["permissions-policy"] = (
                    "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
                )
                if self.hsts:
                    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)
