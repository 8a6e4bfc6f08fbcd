"""The user agent's side of Web Push: its key pair and auth secret (RFC 8291), decrypting what
arrives, and checking the application server's VAPID token (RFC 8292)."""

import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# RFC 8292 §2: a token valid for more than 24 hours is refused.
MAX_TOKEN_SECONDS = 24 * 60 * 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Receiver:
    """One browser's subscription keys: what only the browser holds, and what it hands out."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        public = self.private_key.public_key()
        return b64url(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> bytes:
        """The plaintext of an aes128gcm body (RFC 8188 framing, RFC 8291 keys)."""
        return bytes(
            http_ece.decrypt(
                body,
                private_key=self.private_key,
                auth_secret=self.auth_secret,
                version="aes128gcm",
            )
        )


class VapidRefused(Exception):
    """The Authorization header does not prove who sends (answered 401 or 403)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.status = status


def _parameters(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidRefused("Authorization is not the vapid scheme", 401)
    pairs = (part.strip().partition("=") for part in rest.split(","))
    return {name.strip(): value.strip() for name, _, value in pairs}


def verify_vapid(header: str, *, audience: str) -> tuple[dict[str, Any], str]:
    """The claims of a valid `vapid t=…, k=…` header and its public key `k`; VapidRefused else."""
    parameters = _parameters(header)
    token, key = parameters.get("t", ""), parameters.get("k", "")
    if not token or not key:
        raise VapidRefused("vapid needs t= and k=", 401)
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        head, claims, signature = token.split(".")
        header_json = json.loads(unb64url(head))
        claims_json: dict[str, Any] = json.loads(unb64url(claims))
        raw = unb64url(signature)
    except ValueError as error:
        raise VapidRefused(f"unreadable token or key: {error}", 401) from None
    if header_json.get("alg") != "ES256" or len(raw) != 64:
        raise VapidRefused("the token is not ES256")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidRefused("the signature does not match k") from None
    if claims_json.get("aud") != audience:
        raise VapidRefused(f"aud {claims_json.get('aud')!r} is not {audience!r}")
    expires = int(claims_json.get("exp", 0))
    if not time.time() < expires <= time.time() + MAX_TOKEN_SECONDS:
        raise VapidRefused("exp is missing, past or more than 24 hours ahead")
    if not str(claims_json.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidRefused("sub is not a mailto: or https: contact")
    return claims_json, key
