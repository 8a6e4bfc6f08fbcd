"""Two-factor sign-in: TOTP secrets and codes, the QR code to enrol, and recovery codes."""

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# One step either way absorbs a phone clock that runs up to 30 seconds off and the time it
# takes to type the code; wider windows give a stolen code a longer life.
DRIFT_STEPS = 1
SECRET_CHARS = 32  # 32 base32 characters of 5 bits: the 160 bits RFC 4226 recommends.
QR_PIXELS = 200

# Lowercase letters and digits without 0/o, 1/l/i, which are easy to misread on paper.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
# 31 symbols carry 4.95 bits each, so three groups of four (59.5 bits) would fall short of 60;
# four groups of four give 79 bits and still read well.
RECOVERY_GROUPS = 4
RECOVERY_GROUP_LENGTH = 4

_TYPING_SEPARATORS = re.compile(r"[\s\-]+")
_CODE = re.compile(rf"[0-9]{{{DIGITS}}}")


def new_secret() -> str:
    """A fresh random base32 TOTP secret of 160 bits."""
    return pyotp.random_base32(length=SECRET_CHARS)


def provisioning_uri(secret: str, *, account: str, issuer: str = "Kern") -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code of about 200 px, black on white, to embed in a page."""
    qr = segno.make(uri, error="m")
    width, _ = qr.symbol_size(scale=1)
    # svg_inline() leaves out the XML declaration, so the markup can go straight into HTML; the
    # white background keeps the code scannable on a dark page.
    svg: str = qr.svg_inline(scale=QR_PIXELS / width, dark="#000", light="#fff")
    return svg


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def verify(
    secret: str, code: str, *, last_used_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, or None if it is wrong, too old or already used."""
    typed = _TYPING_SEPARATORS.sub("", code)
    if not _CODE.fullmatch(typed):
        return None
    totp = _totp(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    matched = [
        step
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
        if hmac.compare_digest(totp.generate_otp(step), typed)
    ]
    # A code is good once: refusing any step at or before the last one used stops someone who
    # watched the code being typed from replaying it within the same window.
    fresh = [step for step in matched if last_used_step is None or step > last_used_step]
    return max(fresh, default=None)


def new_recovery_codes(count: int = 10) -> list[str]:
    """Fresh one-time recovery codes like `k7qm-4xta-p2nd-8fzr`, all different."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(_new_recovery_code())
    return sorted(codes)


def _new_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
        for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


def normalise_recovery_code(code: str) -> str:
    """The code as generated, without the dashes, spaces and capitals a user may type."""
    return _TYPING_SEPARATORS.sub("", code).lower()


def hash_recovery_code(code: str) -> str:
    """The SHA-256 hex digest of the normalised code, to store instead of the code."""
    # A slow hash like argon2 protects guessable passwords; these codes are 79 random bits, so
    # even a fast hash cannot be reversed by trying candidates, and a plain digest lets us find
    # the matching code with one indexed lookup instead of verifying every stored hash.
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
