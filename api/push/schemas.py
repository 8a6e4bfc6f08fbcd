"""What the push API reads and answers: a browser's subscription, her devices, Kern's key."""

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.kit.ids import Id
from api.push.models import MAX_ENDPOINT


def _decoded_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return -1


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(max_length=100, description="The browser's P-256 public key, base64url")
    auth: str = Field(max_length=40, description="The browser's 16-byte auth secret, base64url")

    @field_validator("p256dh")
    @classmethod
    def _a_public_key(cls, value: str) -> str:
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415 (on first use)

        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            # Encrypting to a point off the curve would fail at every attempt to send.
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise ValueError("not an uncompressed P-256 public key in base64url") from None
        if len(raw) != 65:
            raise ValueError("not an uncompressed P-256 public key in base64url")
        return value.rstrip("=")

    @field_validator("auth")
    @classmethod
    def _an_auth_secret(cls, value: str) -> str:
        if _decoded_length(value) != 16:
            raise ValueError("not a 16-byte secret in base64url")
        return value.rstrip("=")


class PushSubscriptionCreate(BaseModel):
    """What the browser's `PushSubscription.toJSON()` gives, as it gives it."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=8, max_length=MAX_ENDPOINT)
    keys: SubscriptionKeys


class PushDevicePublic(BaseModel):
    """One of her devices that receive push notifications."""

    id: Id
    device: str = Field(description='Her browser and system in words, e.g. "Chrome op Android"')
    since: datetime
    endpoint: str = Field(description="The push service's address (her page tells her devices)")


class PushDevicesPublic(BaseModel):
    """Kern's VAPID public key (the browser's applicationServerKey) and her devices."""

    public_key: str
    devices: list[PushDevicePublic]
