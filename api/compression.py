"""gzip for pages, JSON and other text, when the browser accepts it.

A lesson page of 16 KB goes over the wire as about 6 KB. The CSRF token in a page is masked
afresh for every response (api/security/csrf.py), so compressing a page next to text a visitor
put there gives nothing away (BREACH). Compressed with ISA-L's deflate (the `isal` package) at
its fastest level: a third of the instructions of zlib's fastest for the same page, and a
smaller result (docs/performance.md#compressed-pages). Kern's own middleware rather than
Starlette's GZipMiddleware, which compresses with zlib only (+12 to +20 % on a lesson page's
instructions) and leaves out a 206 but not a whole answer that offers byte ranges.

Left as they are: responses that are already encoded (the static files, gzipped by their own
mount), that offer or answer byte ranges (media and other files: their ranges count stored
bytes), that have no body (204, 304), small ones and every type outside COMPRESSIBLE (images,
video, PDF, zip are compressed already).
"""

import anyio.to_thread
from isal import isal_zlib
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# ISA-L's levels are 0-3; 1 compresses a lesson page better than zlib's level 1 in a third of
# the instructions, and 3 costs half again as much for 3 % fewer bytes.
LEVEL = 1
# Below this a response goes as it is: gzip's own header and the work outweigh the gain.
MINIMUM_SIZE = 500
# A body this large is compressed on a worker thread, so the event loop keeps answering.
THREAD_MINIMUM_SIZE = 256 * 1024
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "application/json",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/manifest+json",
        "text/plain",
        "text/csv",
        "application/xml",
        "application/atom+xml",
        "image/svg+xml",
    }
)
_GZIP_WBITS = 16 + isal_zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (and does not refuse it with q=0)."""
    for part in accept_encoding.lower().split(","):
        coding, _, parameters = part.partition(";")
        if coding.strip() == "gzip":
            quality = parameters.strip()
            if not quality.startswith("q="):
                return True
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
    return False


# A response with one of these headers goes as it is: encoded already, or offering byte ranges.
_AS_IT_IS = frozenset({b"content-encoding", b"accept-ranges", b"content-range"})


def _compressible(message: Message) -> bool:
    # One pass over the headers as ASGI carries them (names in lower case), not a lookup each.
    if message["status"] in (204, 206, 304):
        return False
    media_type = b""
    for name, value in message.get("headers", ()):
        if name in _AS_IT_IS:
            return False
        if name == b"content-type":
            media_type = value
    return media_type.partition(b";")[0].strip().lower().decode("latin-1") in COMPRESSIBLE


def _gzipped(start: Message, length: int | None) -> None:
    """The response's headers for its gzipped body: its encoding, "Accept-Encoding" added to
    Vary, and the new length (none for a body that comes in parts)."""
    headers = []
    vary = None
    for name, value in start.get("headers", ()):
        if name == b"vary":
            # The first one, which Starlette's add_vary_header extended too; any others go.
            vary = vary or value
        elif name != b"content-length":
            headers.append((name, value))
    headers.append((b"content-encoding", b"gzip"))
    headers.append((b"vary", b"Accept-Encoding" if vary is None else vary + b", Accept-Encoding"))
    if length is not None:
        headers.append((b"content-length", str(length).encode("latin-1")))
    start["headers"] = headers


class CompressionMiddleware:
    """gzip a response's body when the browser accepts it and its type is worth it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(_accept_encoding(scope)):
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the start of a compressible response, until its body
        compressing: list[isal_zlib.Compress] = []  # its compressor, once the body has begun

        async def send_compressed(message: Message) -> None:
            nonlocal held
            kind = message["type"]
            if kind == "http.response.start" and _compressible(message):
                held = message
                return
            if kind != "http.response.body" or (held is None and not compressing):
                if held is not None:  # a file sent by path (pathsend): as it is
                    await send(held)
                    held = None
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if held is not None:
                start, held = held, None
                if not more and len(body) < MINIMUM_SIZE:
                    await send(start)
                    await send(message)
                    return
                compressing.append(isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, _GZIP_WBITS))
                compressed = await _compress(compressing[0], body, more)
                _gzipped(start, None if more else len(compressed))
                await send(start)
            else:
                compressed = await _compress(compressing[0], body, more)
            await send({"type": "http.response.body", "body": compressed, "more_body": more})

        await self.app(scope, receive, send_compressed)


def _accept_encoding(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return str(value.decode("latin-1"))
    return ""


async def _compress(compressor: isal_zlib.Compress, body: bytes, more: bool) -> bytes:
    if len(body) >= THREAD_MINIMUM_SIZE:
        return await anyio.to_thread.run_sync(_deflate, compressor, body, more)
    return _deflate(compressor, body, more)


def _deflate(compressor: isal_zlib.Compress, body: bytes, more: bool) -> bytes:
    # A part of a streamed body is flushed whole, so the browser can use it before the rest.
    compressed = compressor.compress(body)
    return compressed + compressor.flush(isal_zlib.Z_SYNC_FLUSH if more else isal_zlib.Z_FINISH)
